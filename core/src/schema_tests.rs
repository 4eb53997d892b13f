//! Documents that a newer app or a buggy peer wrote: read-only mode and problem reports.

use crate::document::Val;
use crate::*;
use chrono::{TimeZone, Utc};

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap()
}

fn alex(dir: &std::path::Path) -> Space {
    Space::create(
        dir,
        CreateSpace {
            partner_name: "Alex".into(),
            time_zone: "Europe/Berlin".into(),
            device_name: String::new(),
        },
        now(),
    )
    .unwrap()
}

#[test]
fn a_newer_schema_opens_read_only_with_a_clear_message() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut space = alex(dir.path());
    let id = space
        .create_agreement(NewAgreement::titled("Kept readable"), now())
        .unwrap();
    space
        .raw_change(|tx| tx.put(&[], "schema", Val::Int(SCHEMA_VERSION as i64 + 1)))
        .unwrap();
    space.shutdown();
    let mut space = Space::open(dir.path()).unwrap();
    // Reads work.
    assert_eq!(space.list(&ListFilter::default()).unwrap().len(), 1);
    assert!(space.agreement(&id).is_ok());
    let info = space.info().unwrap();
    assert!(info.read_only.unwrap().contains("newer version"));
    // Writes are refused with the reason.
    let err = space.accept(&id, now()).unwrap_err();
    assert!(matches!(err, Error::ReadOnly { .. }), "{err}");
    assert!(err.to_string().contains("read-only"));
    let err = space
        .create_agreement(NewAgreement::titled("x"), now())
        .unwrap_err();
    assert!(matches!(err, Error::ReadOnly { .. }));
}

#[test]
fn a_development_schema_space_can_be_read_and_exported_but_not_changed_or_synced() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut space = alex(dir.path());
    let id = space
        .create_agreement(NewAgreement::titled("Written before schema 4"), now())
        .unwrap();
    space
        .raw_change(|tx| tx.put(&[], "schema", Val::Int(SCHEMA_VERSION as i64 - 1)))
        .unwrap();
    space.shutdown();
    let mut space = Space::open(dir.path()).unwrap();
    assert_eq!(space.list(&ListFilter::default()).unwrap().len(), 1);
    assert!(space.agreement(&id).is_ok());
    let reason = space.info().unwrap().read_only.unwrap();
    assert!(
        reason.contains("development version") && reason.contains("export"),
        "{reason}"
    );
    let err = space.accept(&id, now()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DevelopmentSchema {
                found: 3,
                supported: 4
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("accord export"), "{err}");
    // It does not sync either (its records follow rules this build refuses)...
    let peer = DeviceId("ab".repeat(32));
    let mut state = space.load_sync_state(&peer);
    let err = space.changes_since_last_sync(&mut state).unwrap_err();
    assert!(matches!(err, Error::DevelopmentSchema { .. }), "{err}");
    assert!(matches!(
        space.apply_changes(&[]).unwrap_err(),
        Error::DevelopmentSchema { .. }
    ));
    // ... but everything in it can still be exported.
    assert!(!space.export_document().unwrap().is_empty());
}

#[test]
fn schema_breaking_values_are_ignored_and_reported() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut space = alex(dir.path());
    let good = space
        .create_agreement(NewAgreement::titled("Good"), now())
        .unwrap();
    let bad = space
        .create_agreement(NewAgreement::titled("Bad"), now())
        .unwrap();
    space
        .raw_change(|tx| tx.put(&["agreements", bad.as_str()], "title", Val::Int(5)))
        .unwrap();
    space
        .raw_change(|tx| {
            tx.put(
                &["agreements", good.as_str()],
                "strength",
                Val::Str("forever".into()),
            )
        })
        .unwrap_or(());
    space
        .raw_change(|tx| tx.put(&["agreements"], "junk", Val::Str("not a map".into())))
        .unwrap();
    space
        .raw_change(|tx| {
            tx.insert_map(
                &["log"],
                "entry1",
                vec![("kind", Val::Str("score".into()))],
                &[],
            )
        })
        .unwrap();
    space
        .raw_change(|tx| tx.put(&["log"], "garbage", Val::Bytes(vec![0xA7, 9, 9])))
        .unwrap();
    let list = space.list(&ListFilter::default()).unwrap();
    assert!(
        list.is_empty(),
        "both broken agreements are left out: {list:?}"
    );
    let problems = space.problems().unwrap();
    let text = format!("{problems:?}");
    assert!(text.contains(bad.as_str()), "{text}");
    assert!(text.contains(good.as_str()), "{text}");
    assert!(text.contains("junk"), "{text}");
    assert!(text.contains("entry1"), "{text}");
    assert!(
        text.contains("garbage") && text.contains("not a readable record"),
        "{text}"
    );
    assert!(space.follow_through(None).unwrap().is_empty());
    // Views and further writes still work.
    let fine = space
        .create_agreement(NewAgreement::titled("Still fine"), now())
        .unwrap();
    assert_eq!(space.list(&ListFilter::default()).unwrap()[0].id, fine);
    assert!(matches!(
        space.accept(&bad, now()).unwrap_err(),
        Error::NotFound { .. }
    ));
}

#[test]
fn a_record_written_in_the_other_partners_name_does_not_count() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut space = alex(dir.path());
    let other = tempfile::TempDir::new().unwrap();
    let sam_device = DeviceIdentity::load_or_create(other.path())
        .unwrap()
        .device_id();
    let sam = space
        .add_partner("Sam", "UTC", &sam_device, "", now())
        .unwrap();
    let id = space
        .create_agreement(NewAgreement::titled("Forged"), now())
        .unwrap();
    let details = space.agreement(&id).unwrap();
    let hash = details.content_hash.unwrap();
    let entity = space.doc().entity("agreements", id.as_str()).unwrap();
    let revision = entity.str("revision").unwrap().to_owned();
    // Alex's device writes an acceptance claiming to be Sam, naming Sam's device.
    space
        .raw_change(|tx| {
            tx.insert_map(
                &["agreements", id.as_str(), "acceptances"],
                "forged",
                vec![
                    ("partner", Val::Str(sam.0.clone())),
                    ("device", Val::Str(sam_device.0.clone())),
                    ("hash", Val::Str(hash.clone())),
                    ("revision", Val::Str(revision.clone())),
                    ("heads", Val::Str(String::new())),
                    ("closes", Val::Str(String::new())),
                    ("seq", Val::Int(100)),
                    ("at", Val::Int(0)),
                ],
                &[],
            )
        })
        .unwrap();
    assert_eq!(
        space.agreement(&id).unwrap().summary.status,
        Status::Proposed
    );
    let problems = format!("{:?}", space.problems().unwrap());
    assert!(problems.contains("forged"), "{problems}");
}

#[test]
fn an_acceptance_without_a_valid_content_hash_does_not_count() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut space = alex(dir.path());
    let id = space
        .create_agreement(NewAgreement::titled("Hashed"), now())
        .unwrap();
    let entity = space.doc().entity("agreements", id.as_str()).unwrap();
    let revision = entity.str("revision").unwrap().to_owned();
    let path = ["agreements", id.as_str(), "acceptances"];
    for (key, hash) in [("short", "abcd"), ("nothex", &"zz".repeat(32)[..])] {
        space
            .raw_change(|tx| {
                tx.insert_map(
                    &path,
                    key,
                    vec![
                        ("hash", Val::Str(hash.to_owned())),
                        ("revision", Val::Str(revision.clone())),
                        ("seq", Val::Int(50)),
                    ],
                    &[],
                )
            })
            .unwrap();
    }
    space
        .raw_change(|tx| tx.insert_map(&path, "nohash", vec![("seq", Val::Int(51))], &[]))
        .unwrap();
    let problems = format!("{:?}", space.problems().unwrap());
    for key in ["short", "nothex"] {
        assert!(
            problems.contains(&format!("acceptance {key}"))
                && problems.contains("names no valid content hash"),
            "{problems}"
        );
    }
    assert!(
        problems.contains("acceptance nohash") && problems.contains("is incomplete"),
        "{problems}"
    );
    // Only the author's own acceptance (written with the agreement) counts.
    let details = space.agreement(&id).unwrap();
    assert_eq!(details.acceptances.len(), 1, "{details:?}");
    assert!(details.acceptances[0].current);
    // The same holds after reopening (views derived from scratch).
    space.shutdown();
    let mut space = Space::open(dir.path()).unwrap();
    assert_eq!(space.agreement(&id).unwrap().acceptances.len(), 1);
    assert_eq!(format!("{:?}", space.problems().unwrap()), problems);
}
