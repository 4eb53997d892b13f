//! Two partners offline: Alex's and Sam's device directories, each used by the CLI, with
//! changes exchanged between them by the core in between.

mod common;

use common::*;

#[test]
fn both_accept_and_it_becomes_active() {
    let (alex, sam) = couple();
    let s = sam.json(&["status"]);
    assert_eq!(s["me"]["name"], "Sam");
    assert_eq!(s["partner"]["name"], "Alex");
    assert_eq!(s["devices"].as_array().unwrap().len(), 2);
    assert!(alex
        .ok(&["status"])
        .contains("Partner:  Sam (America/New_York)"));

    let id = alex.add(
        "Any purchase over 200 € is talked about first",
        &["--category", "finances", "--strength", "promise"],
    );
    let r = alex.run(&["add", "--title", "x", "--draft"]);
    assert!(r.stderr.contains("nobody has accepted"), "{}", r.stderr);
    let shown = alex.ok(&["show", &id]);
    assert!(shown.contains("waiting for Sam to accept"), "{shown}");

    sync(&alex, &sam);
    let v = sam.json(&["show", &id[..6]]);
    assert_eq!(v["agreement"]["summary"]["status"], "proposed");
    let out = sam.ok(&["accept", &id[..6]]);
    assert!(
        out.contains("active: both of you accepted these words"),
        "{out}"
    );
    sync(&alex, &sam);
    let list = alex.ok(&["list"]);
    assert!(list.contains("active"), "{list}");
    assert!(
        list.contains("Alex, Sam") || list.contains("Sam, Alex"),
        "{list}"
    );

    // A boundary of Sam's, concerning Sam.
    let b = sam.add(
        "Please don't share what I tell you in confidence with your family",
        &[
            "--kind",
            "boundary",
            "--concerns",
            "me",
            "--category",
            "family and friends",
        ],
    );
    let v = sam.json(&["show", &b]);
    let sam_id = sam.json(&["status"])["me"]["id"].clone();
    assert_eq!(v["agreement"]["summary"]["concerns"]["partner"], sam_id);
    sync(&alex, &sam);
    let shown = alex.ok(&["show", &b]);
    assert!(shown.contains("concerns:     Sam"), "{shown}");
    let c = alex.json(&["add", "--title", "Sam plans the trip", "--concerns", "Sam"]);
    assert_eq!(c["concerns"]["partner"], sam_id);
    let c = alex.json(&[
        "add",
        "--title",
        "Sam calls his mum",
        "--concerns",
        "partner",
    ]);
    assert_eq!(c["concerns"]["partner"], sam_id);
}

#[test]
fn a_conflicting_rewrite_is_shown_and_settled() {
    let (alex, sam) = couple();
    let id = alex.add(
        "Date night every Friday from 19:00",
        &["--category", "time together"],
    );
    sync(&alex, &sam);
    sam.ok(&["accept", &id]);
    sync(&alex, &sam);

    alex.ok(&["edit", &id, "--title", "Date night every Friday from 19:30"]);
    sam.ok(&[
        "edit",
        &id,
        "--title",
        "Date night every Friday from 19:00, phones away",
    ]);
    sync(&alex, &sam);

    let v = sam.json(&["list", "--status", "conflicted"]);
    assert_eq!(v[0]["id"], id.as_str());
    let shown = sam.ok(&["show", &id]);
    assert!(shown.contains("Conflicts"), "{shown}");
    assert!(
        shown.contains("\"Date night every Friday from 19:30\"  (by Alex)"),
        "{shown}"
    );
    assert!(
        shown.contains("\"Date night every Friday from 19:00, phones away\"  (by Sam (you))"),
        "{shown}"
    );
    let (kind, message) = sam.fail_json(&["accept", &id]);
    assert_eq!(kind, "conflicted");
    assert!(message.contains("resolve them first"), "{message}");

    // Choose Alex's version by its number.
    let v = sam.json(&["show", &id]);
    let candidates = v["agreement"]["conflicts"][0]["candidates"]
        .as_array()
        .unwrap();
    let n = candidates
        .iter()
        .position(|c| c["value"] == "Date night every Friday from 19:30")
        .unwrap()
        + 1;
    let r = sam.fail(&["resolve", &id, "--field", "title", "--candidate", "9"]);
    assert!(r.stderr.contains("choose 1 to 2"), "{}", r.stderr);
    let v = sam.json(&[
        "resolve",
        &id,
        "--field",
        "title",
        "--candidate",
        &n.to_string(),
    ]);
    assert_eq!(v["title"], "Date night every Friday from 19:30");
    assert_eq!(v["status"], "needs_renegotiation");
    sync(&alex, &sam);
    let shown = alex.ok(&["show", &id]);
    assert!(shown.contains("waiting for you to accept again"), "{shown}");
    alex.ok(&["accept", &id]);
    sync(&alex, &sam);
    assert_eq!(
        sam.json(&["show", &id])["agreement"]["summary"]["status"],
        "active"
    );
}

#[test]
fn a_conflict_settled_with_new_words() {
    let (alex, sam) = couple();
    let id = alex.add("Dishes before bed", &[]);
    sync(&alex, &sam);
    alex.ok(&["edit", &id, "--strength", "promise"]);
    sam.ok(&["edit", &id, "--strength", "experiment"]);
    sync(&alex, &sam);
    let out = alex.ok(&[
        "resolve",
        &id,
        "--field",
        "strength",
        "--value",
        "try my best",
    ]);
    assert!(out.contains("Settled"), "{out}");
    sync(&alex, &sam);
    let shown = sam.ok(&["show", &id]);
    assert!(
        shown.contains("changed since: strength: \"experiment\" -> \"I'll try my best\""),
        "{shown}"
    );
    let v = sam.json(&["accept", &id]);
    assert_eq!(v["status"], "active");
    assert_eq!(v["strength"], "try_my_best");
}

#[test]
fn a_concern_is_raised_acknowledged_answered_and_resolved() {
    let (alex, sam) = couple();
    let lunch = alex.add("On workdays we text once at lunch", &[]);
    sync(&alex, &sam);
    let c = sam.json(&[
        "concern",
        "raise",
        &lunch[..6],
        "--what",
        "You called three times during my meeting.",
        "--felt",
        "Stressed.",
        "--need",
        "Keep to the lunch text unless it's urgent.",
    ]);
    assert_eq!(c["state"], "open");
    let cid = c["id"].as_str().unwrap().to_owned();

    // Only the other partner acknowledges.
    let (kind, message) = sam.fail_json(&["concern", "ack", &cid]);
    assert_eq!(kind, "not_allowed");
    assert!(message.contains("your partner does"), "{message}");

    sync(&alex, &sam);
    let list = alex.ok(&["concerns"]);
    assert!(list.contains("You called three times"), "{list}");
    assert!(
        list.contains("\"On workdays we text once at lunch\""),
        "{list}"
    );
    let out = alex.ok(&["concern", "ack", &cid[..6]]);
    assert!(out.contains("Acknowledged"), "{out}");
    let v = alex.json(&["concern", "ack", &cid[..6]]);
    assert_eq!(v["state"], "acknowledged");
    assert_eq!(v["acknowledged"], true);
    let v = alex.json(&[
        "concern",
        "respond",
        &cid[..6],
        "--text",
        "I'm sorry. I'll save it for the evening.",
    ]);
    assert_eq!(v["state"], "responded");
    let (kind, message) = alex.fail_json(&["concern", "resolve", &cid]);
    assert_eq!(kind, "not_allowed");
    assert!(message.contains("only the partner who raised"), "{message}");

    sync(&alex, &sam);
    let shown = sam.ok(&["concern", "show", &cid]);
    assert!(shown.contains("I'm sorry"), "{shown}");
    assert!(shown.contains("Alex acknowledged it"), "{shown}");
    let v = sam.json(&["concern", "resolve", &cid]);
    assert_eq!(v["state"], "resolved");
    let (kind, _) = sam.fail_json(&["concern", "resolve", &cid]);
    assert_eq!(kind, "not_allowed");
    let v = sam.json(&["concerns"]);
    assert_eq!(v[0]["state"], "resolved");
    assert!(
        sam.json(&["concern", "show", &cid])["events"]
            .as_array()
            .unwrap()
            .len()
            >= 3
    );
}

#[test]
fn concern_errors_and_renegotiation() {
    let (alex, sam) = couple();
    let (kind, _) = alex.fail_json(&["concern", "ack", "abcdef"]);
    assert_eq!(kind, "not_found");
    let (kind, _) = alex.fail_json(&["concern", "raise", "nothere", "--what", "x"]);
    assert_eq!(kind, "not_found");
    let (kind, message) = alex.fail_json(&["concern", "raise", "--what", " "]);
    assert_eq!(kind, "invalid_input");
    assert!(message.contains("what happened"), "{message}");
    let r = alex.run(&["concern", "raise"]);
    assert_eq!(r.code, 2);

    // A concern about the relationship cannot become a renegotiation.
    let general = alex.json(&[
        "concern",
        "raise",
        "--what",
        "We rarely talk in the evening",
    ]);
    assert!(general["agreement"].is_null());
    assert!(alex.ok(&["concerns"]).contains("the relationship"));
    let gid = general["id"].as_str().unwrap().to_owned();
    let (kind, _) = alex.fail_json(&["concern", "renegotiate", &gid]);
    assert_eq!(kind, "not_allowed");

    let id = alex.add("Phones away at dinner", &[]);
    sync(&alex, &sam);
    sam.ok(&["accept", &id]);
    let c = sam.json(&[
        "concern",
        "raise",
        &id,
        "--what",
        "This doesn't work for on-call weeks",
    ]);
    let cid = c["id"].as_str().unwrap().to_owned();
    let v = sam.json(&[
        "concern",
        "renegotiate",
        &cid,
        "--reason",
        "On-call weeks need an exception",
    ]);
    assert_eq!(v["state"], "renegotiation");
    assert_eq!(
        sam.json(&["show", &id])["agreement"]["summary"]["status"],
        "needs_renegotiation"
    );
    let (kind, _) = sam.fail_json(&["concern", "respond", &cid]);
    assert_eq!(kind, "usage");
}

#[test]
fn positions_stay_sealed_until_both_are_ready() {
    let (alex, sam) = couple();
    let out = alex.ok(&["position", "chores", "--text", "I'd like to split by week."]);
    assert!(out.contains("sealed"), "{out}");
    sam.ok(&[
        "position",
        "chores",
        "--text",
        "I'd rather each own some rooms.",
    ]);
    sync(&alex, &sam);

    let out = alex.ok(&["positions"]);
    assert!(out.contains("I'd like to split by week."), "{out}");
    assert!(out.contains("(sealed until both are ready)"), "{out}");
    assert!(!out.contains("each own some rooms"), "{out}");
    let v = alex.json(&["positions", "chores"]);
    let theirs = v
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["partner_name"] == "Sam")
        .unwrap();
    assert!(theirs["text"].is_null());
    assert_eq!(theirs["sealed"], true);

    alex.ok(&["position", "chores", "--ready"]);
    let (kind, message) = alex.fail_json(&["position", "chores", "--text", "changed my mind"]);
    assert_eq!(kind, "not_allowed");
    assert!(message.contains("final"), "{message}");
    sync(&alex, &sam);
    assert!(sam
        .ok(&["positions", "chores"])
        .contains("(sealed until both are ready)"));
    let v = sam.json(&["position", "chores", "--ready"]);
    assert_eq!(v["topic"], "chores");
    sync(&alex, &sam);
    // Keys are published by each author's device when it sees both ready.
    sync(&alex, &sam);
    let out = alex.ok(&["positions", "chores"]);
    assert!(out.contains("each own some rooms"), "{out}");
    assert!(out.contains("revealed"), "{out}");
    let v = sam.json(&["positions"]);
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["state"] == "revealed" && p["text"].is_string()));

    let (kind, _) = alex.fail_json(&["position", "nothing-written", "--ready"]);
    assert_eq!(kind, "not_found");
    let r = alex.run(&["position", "chores"]);
    assert_eq!(r.code, 2, "--text or --ready is required: {}", r.stderr);
}

#[test]
fn a_position_on_an_agreement_by_its_id_prefix() {
    let (alex, sam) = couple();
    let id = alex.add("Screen time in the evening", &["--draft"]);
    alex.ok(&["position", &id[..6], "--text", "No phones after 22:00."]);
    let v = alex.json(&["positions", &id[..8]]);
    assert_eq!(v[0]["topic"], id.as_str());
    assert!(alex
        .ok(&["positions"])
        .contains("\"Screen time in the evening\""));
    sync(&alex, &sam);
    let out = sam.ok(&["positions", &id]);
    assert!(out.contains("(sealed until both are ready)"), "{out}");
    assert!(sam
        .ok(&["positions", "other topic"])
        .contains("No positions on other topic"));
}
