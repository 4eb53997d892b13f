//! `export`: a readable Markdown document and the same data as JSON.

mod common;

use common::*;
use serde_json::Value;

fn setup() -> (Device, Device, String, String) {
    let (alex, sam) = couple();
    let date = alex.add(
        "Date night every Friday from 19:00",
        &[
            "--category",
            "time together",
            "--strength",
            "promise",
            "--details",
            "We alternate who plans it.",
            "--review-every",
            "1 month",
        ],
    );
    let old = alex.add("Dishes before bed", &["--category", "household"]);
    sync(&alex, &sam);
    sam.ok(&["accept", &date]);
    sam.ok(&["retire", &old, "--reason", "We got a dishwasher"]);
    sam.add(
        "Please don't share what I tell you in confidence",
        &[
            "--kind",
            "boundary",
            "--concerns",
            "me",
            "--category",
            "family and friends",
        ],
    );
    sync(&alex, &sam);
    (alex, sam, date, old)
}

#[test]
fn markdown_is_a_readable_document() {
    let (alex, _sam, _, _) = setup();
    let md = alex.ok(&["export"]);
    for expected in [
        "# Our agreements",
        "Alex and Sam",
        "3 agreements",
        "## Time together",
        "### Date night every Friday from 19:00",
        "- **Status:** active",
        "- **Kind:** agreement · **Strength:** I promise · **Concerns:** both",
        "- **Accepted by:** Alex (",
        "Sam (",
        "- **Review:** every 1 month, next on",
        "> We alternate who plans it.",
        "## Family and friends",
        "**Concerns:** Sam",
        "## Retired agreements",
        "### Dishes before bed",
        "- **Retired** by Sam on",
        "We got a dishwasher",
    ] {
        assert!(md.contains(expected), "missing {expected:?} in:\n{md}");
    }
    // Retired agreements come last.
    assert!(md.find("## Retired agreements").unwrap() > md.find("## Time together").unwrap());
    let explicit = alex.ok(&["export", "--format", "markdown"]);
    assert_eq!(explicit.lines().count(), md.lines().count());
}

#[test]
fn json_is_the_same_data() {
    let (alex, _sam, date, old) = setup();
    let v: Value = serde_json::from_str(&alex.ok(&["export", "--format", "json"])).unwrap();
    assert_eq!(v["partners"].as_array().unwrap().len(), 2);
    let agreements = v["agreements"].as_array().unwrap();
    assert_eq!(agreements.len(), 3);
    let d = agreements
        .iter()
        .find(|a| a["id"] == date.as_str())
        .unwrap();
    assert_eq!(d["title"], "Date night every Friday from 19:00");
    assert_eq!(d["category"], "time together");
    assert_eq!(d["kind"], "agreement");
    assert_eq!(d["strength"], "promise");
    assert_eq!(d["concerns"], "both");
    assert_eq!(d["status"], "active");
    assert_eq!(d["details"], "We alternate who plans it.");
    assert_eq!(d["review_every"], "1 month");
    assert!(d["next_review"].is_string());
    let accepted: Vec<&str> = d["acceptances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["current"] == true)
        .map(|a| a["partner"].as_str().unwrap())
        .collect();
    assert_eq!(accepted.len(), 2, "{d}");
    let r = agreements.iter().find(|a| a["id"] == old.as_str()).unwrap();
    assert_eq!(r["retirement"]["reason"], "We got a dishwasher");
    assert_eq!(r["retirement"]["by"], "Sam");
    // With --json the same document is printed.
    let j = alex.json(&["export", "--format", "json"]);
    assert_eq!(j["agreements"], v["agreements"]);
    let j = alex.json(&["export"]);
    assert_eq!(j["format"], "markdown");
    assert!(j["content"]
        .as_str()
        .unwrap()
        .starts_with("# Our agreements"));
}

#[test]
fn export_to_a_file() {
    let (alex, _sam, _, _) = setup();
    let out = alex.tmp.path().join("agreements.md");
    let text = alex.ok(&["export", "--out", out.to_str().unwrap()]);
    assert!(text.contains("Wrote 3 agreements"), "{text}");
    let md = std::fs::read_to_string(&out).unwrap();
    assert!(md.starts_with("# Our agreements"), "{md}");

    let out = alex.tmp.path().join("agreements.json");
    let v = alex.json(&["export", "--format", "json", "--out", out.to_str().unwrap()]);
    assert_eq!(v["agreements"], 3);
    assert_eq!(v["format"], "json");
    let data: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(data["agreements"].as_array().unwrap().len(), 3);

    let bad = alex.tmp.path().join("no/such/dir/x.md");
    let (kind, message) = alex.fail_json(&["export", "--out", bad.to_str().unwrap()]);
    assert_eq!(kind, "io");
    assert!(message.contains("could not write"), "{message}");
    assert_eq!(alex.run(&["export", "--format", "pdf"]).code, 2);
}

#[test]
fn an_empty_export() {
    let d = alex();
    let md = d.ok(&["export"]);
    assert!(md.contains("No agreements yet"), "{md}");
    let v: Value = serde_json::from_str(&d.ok(&["export", "--format", "json"])).unwrap();
    assert_eq!(v["agreements"], Value::Array(vec![]));
}
