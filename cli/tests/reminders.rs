//! Reminders and check-ins: remind, unremind, checkin-ritual, reminders, done, snooze, checkin.

mod common;

use common::*;
use serde_json::Value;

fn reminders(d: &Device) -> Vec<Value> {
    d.json(&["reminders", "--days", "14"])
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn remind_adds_a_rule_and_reminders_lists_it() {
    let (d, sam) = couple();
    let id = active(
        &d,
        &sam,
        "Date night every Friday from 19:00",
        &["--category", "time together"],
    );
    let out = d.ok(&["remind", &id[..6], "--every", "friday", "--at", "19:00"]);
    assert!(
        out.contains("every week on friday at 19:00 (Europe/Berlin)"),
        "{out}"
    );
    assert!(out.contains("next: "), "{out}");
    let v = d.json(&[
        "remind",
        &id,
        "--every",
        "month on first saturday",
        "--at",
        "10:30",
        "--tz",
        "UTC",
        "--from",
        "2030-01-01",
        "--until",
        "2030-12-31",
    ]);
    assert_eq!(v["rule"]["rule"]["frequency"]["kind"], "monthly_on_weekday");
    assert_eq!(v["rule"]["rule"]["frequency"]["week"], "first");
    assert_eq!(v["rule"]["rule"]["time_zone"], "UTC");
    assert_eq!(v["rule"]["rule"]["start"], "2030-01-01");
    assert_eq!(v["rule"]["rule"]["until"], "2030-12-31");
    assert_eq!(v["rule"]["targets"], "both");

    let list = reminders(&d);
    let fridays: Vec<&Value> = list.iter().filter(|r| r["kind"] == "commitment").collect();
    assert!(fridays.len() >= 2, "{list:?}");
    assert!(fridays[0]["title"].as_str().unwrap().contains("Date night"));
    let text = d.ok(&["reminders"]);
    assert!(text.contains("commitment"), "{text}");
    assert!(
        text.contains("T19:00:00+01:00") || text.contains("T19:00:00+02:00"),
        "{text}"
    );
    assert_eq!(
        d.json(&["reminders", "--limit", "1"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let later = d.json(&["reminders", "--from", "2030-01-01", "--days", "10"]);
    assert!(
        later
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["fires_at_utc"] == "2030-01-05T10:30:00Z"),
        "{later}"
    );

    let show = d.ok(&["show", &id]);
    assert!(
        show.contains(
            "every month on first saturday at 10:30 (UTC), from 2030-01-01 until 2030-12-31"
        ),
        "{show}"
    );
}

#[test]
fn remind_rejects_bad_specs_times_and_zones() {
    let d = alex();
    let id = d.add("Check-in", &[]);
    let cases: &[(&[&str], &str)] = &[
        (
            &["--every", "fridya", "--at", "19:00"],
            "'fridya' is not a weekday",
        ),
        (
            &["--every", "2 weeks", "--at", "19:00"],
            "say on which days",
        ),
        (
            &["--every", "month on day 32", "--at", "19:00"],
            "day 32 is out of range",
        ),
        (
            &["--every", "friday", "--at", "7pm"],
            "not a time of day like 19:00",
        ),
        (&["--every", "friday", "--at", "25:00"], "not a time of day"),
        (
            &["--every", "friday", "--at", "19:00", "--tz", "Mars/Base"],
            "not an IANA time zone",
        ),
        (
            &["--every", "friday", "--at", "19:00", "--from", "soon"],
            "not a date",
        ),
        (
            &[
                "--every",
                "friday",
                "--at",
                "19:00",
                "--from",
                "2030-02-01",
                "--until",
                "2030-01-01",
            ],
            "before the start date",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["remind", id.as_str()];
        all.extend_from_slice(args);
        let r = d.fail(&all);
        assert!(r.stderr.contains(expected), "{args:?}: {}", r.stderr);
        let (kind, _) = d.fail_json(&all);
        assert_eq!(kind, "invalid_input", "{args:?}");
    }
    let (kind, _) = d.fail_json(&["remind", "nothere", "--every", "day", "--at", "09:00"]);
    assert_eq!(kind, "not_found");
    assert!(d.json(&["show", &id])["rules"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn reminders_start_once_the_agreement_is_active() {
    let (alex, sam) = couple();
    let id = alex.add("Walk together", &[]);
    let out = alex.ok(&["remind", &id, "--every", "day", "--at", "18:00"]);
    assert!(out.contains("once it is active"), "{out}");
    assert!(reminders(&alex).iter().all(|r| r["kind"] != "commitment"));
    sync(&alex, &sam);
    sam.ok(&["accept", &id]);
    sync(&alex, &sam);
    assert!(reminders(&alex).iter().any(|r| r["kind"] == "commitment"));
    // Both are reminded: the rule is in the shared document.
    assert!(reminders(&sam).iter().any(|r| r["kind"] == "commitment"));
}

#[test]
fn unremind_removes_a_rule() {
    let d = alex();
    let id = d.add("Walk together", &[]);
    let v = d.json(&["remind", &id, "--every", "day", "--at", "18:00"]);
    let rule = v["id"].as_str().unwrap().to_owned();
    let out = d.ok(&["unremind", &rule[..6]]);
    assert!(out.contains("Removed reminder"), "{out}");
    assert!(d.json(&["show", &id])["rules"]
        .as_array()
        .unwrap()
        .is_empty());
    let v = d.json(&["remind", &id, "--every", "day", "--at", "19:00"]);
    let second = v["id"].as_str().unwrap().to_owned();
    let v = d.json(&["unremind", &second]);
    assert_eq!(v["removed"]["id"], second.as_str());
    let (kind, _) = d.fail_json(&["unremind", &rule]);
    assert_eq!(kind, "not_found");
}

#[test]
fn done_and_snooze() {
    let (d, sam) = couple();
    let id = active(&d, &sam, "Water the plants", &[]);
    // Starting tomorrow (UTC) at noon: the first one is hours away whenever the test runs.
    d.ok(&[
        "remind",
        &id,
        "--every",
        "day",
        "--at",
        "12:00",
        "--tz",
        "UTC",
        "--from",
        &utc_date(1),
    ]);
    let list = reminders(&d);
    let first = list
        .iter()
        .find(|r| r["kind"] == "commitment")
        .unwrap()
        .clone();
    let rid = first["id"].as_str().unwrap().to_owned();

    let out = d.ok(&["done", &rid[..8]]);
    assert!(out.contains("done, for both of you"), "{out}");
    assert!(out.contains("Water the plants"), "{out}");
    let after = reminders(&d);
    assert!(
        after.iter().all(|r| r["id"] != rid.as_str()),
        "a done reminder is gone"
    );
    let next = after
        .iter()
        .find(|r| r["kind"] == "commitment")
        .unwrap()
        .clone();
    let nid = next["id"].as_str().unwrap().to_owned();
    let third = after
        .iter()
        .filter(|r| r["kind"] == "commitment")
        .nth(1)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = d.json(&["done", &third]);
    assert_eq!(v["done"], true);
    assert_eq!(v["reminder"]["id"], third.as_str());
    let (kind, _) = d.fail_json(&["done", &third]);
    assert_eq!(kind, "not_found", "a done reminder is no longer upcoming");

    // A snooze only ever delays: three days is later than the next day's noon.
    let v = d.json(&["snooze", &nid, "--for", "3 days"]);
    let until = v["snoozed_until"].as_str().unwrap().to_owned();
    assert!(
        reminders(&d)
            .iter()
            .any(|r| r["fires_at_utc"] == until.as_str()),
        "snoozed to {until}"
    );

    let (kind, _) = d.fail_json(&["done", "abcdef012345"]);
    assert_eq!(kind, "not_found");
    let (kind, message) = d.fail_json(&["snooze", &nid, "--for", "3 fortnights"]);
    assert_eq!(kind, "invalid_input");
    assert!(message.contains("e.g. 10m"), "{message}");
    let (kind, _) = d.fail_json(&["snooze", &nid, "--until", "next week"]);
    assert_eq!(kind, "invalid_input");
    let (kind, message) = d.fail_json(&["snooze", &nid, "--until", "2000-01-01T00:00:00Z"]);
    assert_eq!(kind, "invalid_input");
    assert!(message.contains("future"), "{message}");
    let r = d.run(&["snooze", &nid]);
    assert_eq!(r.code, 2, "--for or --until is required");

    let out = d.ok(&["snooze", &nid, "--until", "2099-01-01T09:00:00+01:00"]);
    assert!(
        out.contains("Snoozed \"Water the plants\" until 2099-01-01T09:00:00+01:00"),
        "{out}"
    );
    assert!(reminders(&d).iter().all(|r| r["id"] != nid.as_str()));
}

#[test]
fn the_checkin_ritual_can_be_set_and_turned_off() {
    let d = alex();
    let out = d.ok(&["checkin-ritual", "--every", "sunday", "--at", "20:00"]);
    assert!(
        out.contains("every week on sunday at 20:00 (Europe/Berlin)"),
        "{out}"
    );
    let list = reminders(&d);
    assert!(list.iter().any(|r| r["kind"] == "check_in"), "{list:?}");
    let v = d.json(&[
        "checkin-ritual",
        "--every",
        "2 weeks on sunday",
        "--at",
        "20:00",
        "--tz",
        "UTC",
    ]);
    assert_eq!(v["rule"]["frequency"]["interval"], 2);
    let v = d.json(&["checkin-ritual", "--off"]);
    assert!(v["rule"].is_null());
    assert!(reminders(&d).iter().all(|r| r["kind"] != "check_in"));

    let (kind, _) = d.fail_json(&["checkin-ritual", "--every", "someday", "--at", "20:00"]);
    assert_eq!(kind, "invalid_input");
    assert_eq!(d.run(&["checkin-ritual"]).code, 2);
    assert_eq!(d.run(&["checkin-ritual", "--every", "sunday"]).code, 2);
    assert_eq!(
        d.run(&[
            "checkin-ritual",
            "--off",
            "--every",
            "sunday",
            "--at",
            "20:00"
        ])
        .code,
        2
    );
}

#[test]
fn the_checkin_agenda_has_six_sections_in_order() {
    let (alex, sam) = couple();
    let due = alex.add(
        "Money talk",
        &["--category", "finances", "--review-every", "1 month"],
    );
    alex.ok(&["edit", &due, "--next-review", "2020-01-01"]);
    let late = alex.add("Call when late", &[]);
    alex.ok(&["log", &late, "missed", "--text", "Forgot on Monday"]);
    alex.add("Dishes before bed", &["--draft"]);
    let date = active(&alex, &sam, "Date night", &["--category", "time together"]);
    alex.ok(&["remind", &date, "--every", "day", "--at", "19:00"]);
    sync(&alex, &sam);
    sam.ok(&["concern", "raise", &late, "--what", "I waited an hour"]);
    sync(&alex, &sam);

    let out = alex.ok(&["checkin"]);
    let sections = [
        "1. Appreciation",
        "2. Concerns still open",
        "3. Agreements due for review",
        "4. Commitments missed since the last check-in",
        "5. Drafts and proposals waiting for a partner",
        "6. Upcoming commitments",
    ];
    let positions: Vec<usize> = sections
        .iter()
        .map(|s| {
            out.find(s)
                .unwrap_or_else(|| panic!("missing {s} in:\n{out}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{out}");
    for expected in [
        "I waited an hour",
        "\"Money talk\"",
        "Forgot on Monday",
        "\"Dishes before bed\"",
        "waiting for Sam",
        "Date night",
        "your first check-in",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }

    let v = alex.json(&["checkin"]);
    assert!(v["appreciation_prompt"].is_string());
    assert_eq!(v["open_concerns"].as_array().unwrap().len(), 1);
    assert_eq!(v["due_for_review"][0]["id"], due.as_str());
    assert_eq!(v["missed_since_last_checkin"].as_array().unwrap().len(), 1);
    assert!(!v["waiting_for_partner"].as_array().unwrap().is_empty());
    assert!(!v["upcoming"].as_array().unwrap().is_empty());

    // After recording a check-in, earlier misses are no longer "since the last check-in".
    let v = alex.json(&[
        "checkin",
        "--record",
        "--notes",
        "Good talk",
        "--on",
        "2030-01-05",
    ]);
    assert_eq!(v["held_on"], "2030-01-05");
    assert_eq!(v["notes"], "Good talk");
    let out = alex.ok(&["checkin", "--record"]);
    assert!(out.contains("Recorded the check-in"), "{out}");
    let v = alex.json(&["checkin"]);
    assert!(v["missed_since_last_checkin"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(alex.ok(&["checkin"]).contains("last check-in"));

    let (kind, _) = alex.fail_json(&["checkin", "--record", "--on", "yesterday"]);
    assert_eq!(kind, "invalid_input");
    assert_eq!(
        alex.run(&["checkin", "--notes", "x"]).code,
        2,
        "--notes needs --record"
    );
}
