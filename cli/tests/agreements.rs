//! Agreements on one device: add, list, show, edit, accept, retire, renegotiate, reviewed,
//! log, and their errors.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn add_prints_the_id_and_list_shows_it() {
    let d = alex();
    let r = d.run(&[
        "add",
        "--title",
        "Date night every Friday from 19:00",
        "--details",
        "We alternate who plans it.",
        "--category",
        "time together",
        "--strength",
        "promise",
        "--review-every",
        "1 month",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let id = r.stdout.trim().to_owned();
    // An id: the order in base 36, then the writing device's whole id.
    let device = d.json(&["status"])["this_device"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(id.len() > device.len() && id.ends_with(&device), "{id}");
    assert!(id
        .chars()
        .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
    assert!(
        r.stderr.contains("waiting for your partner"),
        "{}",
        r.stderr
    );

    let draft = d.add("Dishes before bed", &["--category", "household", "--draft"]);
    let out = d.ok(&["list"]);
    assert!(out.contains("Date night every Friday from 19:00"), "{out}");
    assert!(out.contains(&id[..8]), "{out}");
    assert!(out.contains("proposed"), "{out}");
    assert!(out.contains("draft"), "{out}");
    assert!(out.contains("I promise"), "{out}");

    let all = d.json(&["list"]);
    assert_eq!(all.as_array().unwrap().len(), 2);
    let only = d.json(&["list", "--status", "draft"]);
    assert_eq!(only.as_array().unwrap().len(), 1);
    assert_eq!(only[0]["id"], draft.as_str());
    let only = d.json(&["list", "--category", "time together"]);
    assert_eq!(only.as_array().unwrap().len(), 1);
    assert_eq!(only[0]["id"], id.as_str());
    assert_eq!(only[0]["strength"], "promise");
    assert!(only[0]["next_review"].is_string());
    assert!(d
        .ok(&["list", "--status", "retired"])
        .contains("No agreements match"));

    let added = d.json(&[
        "add",
        "--title",
        "Third",
        "--kind",
        "intention",
        "--concerns",
        "me",
    ]);
    assert_eq!(added["kind"], "intention");
    assert!(added["concerns"]["partner"].is_string());
}

#[test]
fn an_empty_space_lists_nothing_helpfully() {
    let d = alex();
    assert!(d.ok(&["list"]).contains("No agreements yet"));
    assert_eq!(d.json(&["list"]), Value::Array(vec![]));
}

#[test]
fn add_rejects_bad_input_with_what_to_write() {
    let d = alex();
    let cases: &[(&[&str], &str)] = &[
        (&["--title", " "], "title: must not be empty"),
        (
            &["--title", "x", "--kind", "rule"],
            "use agreement, boundary, expectation or intention",
        ),
        (
            &["--title", "x", "--strength", "maybe"],
            "use promise, try_my_best or experiment",
        ),
        (&["--title", "x", "--category", "chores"], "custom:NAME"),
        (
            &["--title", "x", "--concerns", "partner"],
            "your partner has not joined yet",
        ),
        (
            &["--title", "x", "--concerns", "Kim"],
            "not both, me, partner",
        ),
        (
            &["--title", "x", "--review-every", "10m"],
            "days, weeks or months",
        ),
        (&["--title", "x", "--review-every", "soon"], "e.g. 10m, 2h"),
    ];
    for (args, expected) in cases {
        let mut all = vec!["add"];
        all.extend_from_slice(args);
        let r = d.fail(&all);
        assert!(r.stderr.contains(expected), "{args:?}: {}", r.stderr);
        let (kind, _) = d.fail_json(&all);
        assert_eq!(kind, "invalid_input", "{args:?}");
    }
    assert_eq!(d.json(&["list"]), Value::Array(vec![]));
}

#[test]
fn custom_categories() {
    let d = alex();
    let id = d.add(
        "Plants watered on Sundays",
        &["--category", "custom:Garden"],
    );
    let v = d.json(&["list", "--category", "garden"]);
    assert_eq!(v[0]["id"], id.as_str());
    assert_eq!(v[0]["category"]["custom"], "Garden");
    // Once used, the plain name works too.
    d.add("Compost on Mondays", &["--category", "Garden"]);
    assert_eq!(
        d.json(&["list", "--category", "custom:Garden"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn unknown_and_ambiguous_ids() {
    let d = alex();
    for args in [
        vec!["show", "ffffffffffffffff0"],
        vec!["accept", "nothere"],
        vec!["edit", "nothere", "--title", "x"],
        vec!["retire", "nothere", "--reason", "x"],
        vec!["renegotiate", "nothere"],
        vec!["reviewed", "nothere"],
        vec!["log", "nothere", "kept"],
        vec!["resolve", "nothere", "--field", "title", "--value", "x"],
    ] {
        let r = d.fail(&args);
        assert!(
            r.stderr.contains("no agreement with id"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("list them"), "{args:?}: {}", r.stderr);
        let (kind, _) = d.fail_json(&args);
        assert_eq!(kind, "not_found", "{args:?}");
    }
    // 40 agreements: ids start with their order in base 36, so several share a first
    // character and some one-character prefix is ambiguous.
    {
        let mut space = d.space();
        for i in 0..40 {
            space
                .create_agreement(
                    accord_core::NewAgreement::titled(format!("Agreement {i}")),
                    chrono::Utc::now(),
                )
                .unwrap();
        }
    }
    let ids: Vec<String> = d
        .json(&["list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    let first = ids
        .iter()
        .map(|i| &i[..1])
        .find(|p| ids.iter().filter(|i| i.starts_with(p)).count() > 1)
        .unwrap()
        .to_owned();
    let r = d.fail(&["show", &first]);
    assert!(r.stderr.contains("give more characters"), "{}", r.stderr);
    // The list's ids are unique prefixes that work.
    let out = d.ok(&["list"]);
    let shown = out
        .lines()
        .nth(2)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    d.ok(&["show", &shown]);
}

#[test]
fn show_tells_everything_about_one_agreement() {
    let d = alex();
    let id = d.add(
        "Time-outs last 20 minutes",
        &[
            "--category",
            "conflict rules",
            "--strength",
            "experiment",
            "--review-every",
            "1 month",
            "--details",
            "Then we come back.",
        ],
    );
    d.ok(&["log", &id[..6], "kept", "--text", "Worked on Tuesday"]);
    d.ok(&["remind", &id[..6], "--every", "sunday", "--at", "20:00"]);
    d.ok(&["concern", "raise", &id[..6], "--what", "I came back late"]);
    let out = d.ok(&["show", &id[..6]]);
    for expected in [
        "Time-outs last 20 minutes",
        "conflict rules",
        "experiment",
        "Then we come back.",
        "every 1 month, next on",
        "Alex (you) accepted these words",
        "Follow-through",
        "Alex logged kept: Worked on Tuesday",
        "Reminders",
        "every week on sunday at 20:00 (Europe/Berlin)",
        "Concerns",
        "I came back late",
        "History",
        "Alex created",
        "added a reminder",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    let v = d.json(&["show", &id]);
    assert_eq!(v["agreement"]["summary"]["id"], id.as_str());
    assert_eq!(v["agreement"]["details"], "Then we come back.");
    assert_eq!(v["log"][0]["kind"], "kept");
    assert_eq!(v["rules"][0]["rule"]["time"], "20:00:00");
    assert_eq!(v["concerns"][0]["what_happened"], "I came back late");
    assert!(v["history"].as_array().unwrap().len() >= 2);
}

#[test]
fn edit_changes_fields_and_says_what_changed() {
    let d = alex();
    let id = d.add("Text at lunch", &["--review-every", "2 weeks"]);
    let v = d.json(&[
        "edit",
        &id,
        "--title",
        "Text once at lunch",
        "--strength",
        "promise",
        "--category",
        "communication",
        "--next-review",
        "2030-01-31",
    ]);
    assert_eq!(v["title"], "Text once at lunch");
    assert_eq!(v["strength"], "promise");
    assert_eq!(v["next_review"], "2030-01-31");
    let out = d.ok(&["edit", &id[..5], "--details", "Longer talks wait."]);
    assert!(out.contains("Changed \"Text once at lunch\""), "{out}");
    let show = d.ok(&["show", &id]);
    assert!(
        show.contains("title: \"Text at lunch\" -> \"Text once at lunch\""),
        "{show}"
    );
    assert!(
        show.contains("strength: \"I'll try my best\" -> \"I promise\""),
        "{show}"
    );
    // Stop reviewing.
    let v = d.json(&["edit", &id, "--review-every", "none"]);
    assert!(
        d.json(&["show", &id])["agreement"]["review_every"].is_null(),
        "{v}"
    );

    let r = d.fail(&["edit", &id]);
    assert!(r.stderr.contains("changes nothing"), "{}", r.stderr);
    let r = d.fail(&["edit", &id, "--next-review", "31/01/2030"]);
    assert!(
        r.stderr.contains("not a date like 2027-03-26"),
        "{}",
        r.stderr
    );
    let (kind, _) = d.fail_json(&["edit", &id, "--kind", "law"]);
    assert_eq!(kind, "invalid_input");
}

#[test]
fn accept_a_draft_then_retire_and_the_errors_after() {
    let d = alex();
    let id = d.add("Dishes before bed", &["--draft"]);
    let v = d.json(&["accept", &id]);
    assert_eq!(v["status"], "proposed");
    let out = d.ok(&["accept", &id]);
    assert!(out.contains("Accepted"), "{out}");

    let r = d.run(&["retire", &id]);
    assert_eq!(r.code, 2, "a reason is required");
    assert!(r.stderr.contains("--reason"), "{}", r.stderr);
    let v = d.json(&["retire", &id, "--reason", "We got a dishwasher"]);
    assert_eq!(v["status"], "retired");
    let show = d.ok(&["show", &id]);
    assert!(show.contains("We got a dishwasher"), "{show}");

    let (kind, message) = d.fail_json(&["retire", &id, "--reason", "again"]);
    assert_eq!(kind, "not_allowed");
    assert!(message.contains("already retired"), "{message}");
    let (kind, _) = d.fail_json(&["accept", &id]);
    assert_eq!(kind, "not_allowed");
    let (kind, _) = d.fail_json(&["edit", &id, "--title", "x"]);
    assert_eq!(kind, "not_allowed");
    let (kind, _) = d.fail_json(&["renegotiate", &id]);
    assert_eq!(kind, "not_allowed");
}

#[test]
fn renegotiate_and_reviewed() {
    let d = alex();
    let id = d.add(
        "Money talk monthly",
        &["--category", "finances", "--review-every", "1 month"],
    );
    let v = d.json(&["renegotiate", &id, "--reason", "Too often"]);
    assert_eq!(v["status"], "needs_renegotiation");
    let out = d.ok(&["show", &id]);
    assert!(out.contains("renegotiation:"), "{out}");

    let v = d.json(&["reviewed", &id, "--on", "2030-01-31"]);
    assert_eq!(v["next_review"], "2030-02-28");
    let out = d.ok(&["reviewed", &id[..4], "--on", "2030-03-01"]);
    assert!(out.contains("the next review is on 2030-04-01"), "{out}");
    d.ok(&["reviewed", &id]);

    let other = d.add("No cadence", &[]);
    let (kind, message) = d.fail_json(&["reviewed", &other]);
    assert_eq!(kind, "not_allowed");
    assert!(message.contains("set one with an edit"), "{message}");
    let (kind, _) = d.fail_json(&["reviewed", &id, "--on", "tomorrow"]);
    assert_eq!(kind, "invalid_input");
}

#[test]
fn log_follow_through() {
    let d = alex();
    let id = d.add("Call when late", &[]);
    let v = d.json(&["log", &id, "missed", "--text", "Forgot on Monday"]);
    assert_eq!(v["entry"]["kind"], "missed");
    assert_eq!(v["entry"]["text"], "Forgot on Monday");
    assert!(v["id"].is_string());
    let out = d.ok(&["log", &id, "note"]);
    assert!(out.contains("Logged a note"), "{out}");
    d.ok(&["log", &id, "kept"]);
    let v = d.json(&["show", &id]);
    assert_eq!(v["log"].as_array().unwrap().len(), 3);
    let r = d.run(&["log", &id, "great"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("kept"), "{}", r.stderr);
    // Never a score.
    let show = d.ok(&["show", &id]).to_lowercase();
    assert!(
        !show.contains("score") && !show.contains("streak"),
        "{show}"
    );
}

#[test]
fn resolve_needs_a_conflict() {
    let d = alex();
    let id = d.add("One version", &[]);
    let (kind, message) = d.fail_json(&["resolve", &id, "--field", "title", "--value", "x"]);
    assert_eq!(kind, "not_allowed");
    assert!(message.contains("not in conflict"), "{message}");
    let (kind, _) = d.fail_json(&["resolve", &id, "--field", "colour", "--value", "x"]);
    assert_eq!(kind, "invalid_input");
    let (kind, _) = d.fail_json(&["resolve", &id, "--field", "title", "--candidate", "1"]);
    assert_eq!(kind, "invalid_input");
    let r = d.run(&["resolve", &id, "--field", "title"]);
    assert_eq!(
        r.code, 2,
        "--value or --candidate is required: {}",
        r.stderr
    );
}
