//! Trust: forged records by a modified client of one partner do not count on any replica.

use crate::document::Val;
use crate::*;
use chrono::{DateTime, TimeZone, Utc};
use tempfile::TempDir;

fn t(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::minutes(minute)
}

use crate::test_support::Dev;

fn couple() -> (Dev, Dev) {
    crate::test_support::couple_at(t(0))
}

fn enrol_own_device(inviter: &mut Space) -> Dev {
    let dir = TempDir::new().unwrap();
    let id = DeviceIdentity::load_or_create(dir.path())
        .unwrap()
        .device_id();
    inviter.add_device(&id, "tablet", t(2)).unwrap();
    let space = Space::join(dir.path(), &inviter.export_document().unwrap()).unwrap();
    Dev { _dir: dir, space }
}

use crate::test_support::sync;

/// The partners' display names as `space` sees them.
fn partner_names(space: &mut Space) -> Vec<String> {
    let partners = space.info().unwrap().partners;
    partners.into_iter().map(|p| p.name).collect()
}

/// A modified client's enrolment of `device` for `partner` with `role`, signed by `by`.
fn enrol_as(
    tx: &mut crate::document::Tx<'_, '_>,
    device: &str,
    partner: &str,
    role: &str,
    by: &DeviceId,
) -> Result<()> {
    tx.insert_map(
        &["devices"],
        device,
        vec![
            ("partner", Val::Str(partner.into())),
            ("name", Val::Str("a device".into())),
            ("role", Val::Str(role.into())),
            ("seq", Val::Int(500)),
            ("enrolled_by", Val::Str(by.0.clone())),
            ("at", Val::Int(0)),
        ],
        &["removals"],
    )
}

/// `key` bound to the device with actor bytes `actor` (as that device's own keys are).
fn bound(key: &str, actor: &[u8]) -> String {
    format!("{key}{}", hex::encode(actor))
}

fn revision(space: &Space, id: &AgreementId) -> String {
    space
        .doc()
        .entity("agreements", id.as_str())
        .unwrap()
        .str("revision")
        .unwrap()
        .to_owned()
}

#[test]
fn an_acceptance_forged_in_the_other_devices_name_does_not_count_anywhere() {
    let (mut alex, mut sam) = couple();
    let mut tablet = enrol_own_device(&mut alex.space);
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Signed words"), t(3))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    sync(&mut alex.space, &mut tablet.space);
    let sam_device = sam.space.info().unwrap().my_device;
    let sam_actor = sam.space.identity().actor_bytes();
    let hash = alex.space.agreement(&id).unwrap().content_hash.unwrap();
    let rev = revision(&alex.space, &id);
    // Alex's modified client writes Sam's acceptance under Sam's device's actor id.
    let forged = alex
        .space
        .doc()
        .forge_change(&sam_actor, |tx| {
            tx.insert_map(
                &["agreements", id.as_str(), "acceptances"],
                &bound("forged", &sam_actor),
                vec![
                    ("hash", Val::Str(hash.clone())),
                    ("revision", Val::Str(rev.clone())),
                    ("closes", Val::Str(String::new())),
                    ("seq", Val::Int(1000)),
                    ("at", Val::Int(0)),
                ],
                &[],
            )
        })
        .unwrap();
    // No checkpoint of Sam's device covers it, and Alex's key cannot sign one: every replica
    // refuses it on arrival.
    for items in [vec![forged.clone()], alex.space.signed(forged.clone())] {
        for space in [&mut alex.space, &mut tablet.space] {
            let before = space.heads().unwrap();
            let err = space.apply_changes(&items).unwrap_err();
            assert!(err.to_string().contains("without a checkpoint"), "{err}");
            assert_eq!(space.heads().unwrap(), before);
            assert_eq!(
                space.agreement(&id).unwrap().summary.status,
                Status::Proposed
            );
        }
    }
    // Sam's own device refuses changes in its own name, keeping what it has.
    let before = sam.space.heads().unwrap();
    let err = sam.space.apply_changes(&[forged]).unwrap_err();
    assert!(err.to_string().contains("own name"), "{err}");
    assert_eq!(sam.space.heads().unwrap(), before);
    assert!(sam
        .space
        .info()
        .unwrap()
        .devices
        .iter()
        .any(|d| d.id == sam_device));
}

#[test]
fn a_checkpoint_with_a_bad_signature_is_rejected() {
    let (mut alex, mut sam) = couple();
    let id = sam
        .space
        .create_agreement(NewAgreement::titled("Checked"), t(3))
        .unwrap();
    // Sam's change reaches Alex with a checkpoint whose signature was tampered with.
    let items = sam
        .space
        .changes_since(&alex.space.heads().unwrap())
        .unwrap();
    let tampered: Vec<Vec<u8>> = items
        .into_iter()
        .map(|mut item| {
            if item.starts_with(b"ACKP") {
                let last = item.len() - 1;
                item[last] ^= 1;
            }
            item
        })
        .collect();
    let err = alex.space.apply_changes(&tampered).unwrap_err();
    assert!(err.to_string().contains("without a checkpoint"), "{err}");
    assert!(
        alex.space.agreement(&id).is_err(),
        "nothing of it was applied"
    );
    // The real checkpoint, sent again, confirms Sam's acceptance.
    sync(&mut sam.space, &mut alex.space);
    assert_eq!(
        alex.space.agreement(&id).unwrap().summary.accepted_by.len(),
        1
    );
}

#[test]
fn a_signed_acceptance_in_the_other_partners_name_does_not_count() {
    let (mut alex, mut sam) = couple();
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Mine"), t(3))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    let sam_partner = sam.space.info().unwrap().me;
    let alex_device = alex.space.info().unwrap().my_device;
    let hash = alex.space.agreement(&id).unwrap().content_hash.unwrap();
    let rev = revision(&alex.space, &id);
    // Alex's modified client signs, with its own key, an acceptance that names Sam.
    alex.space
        .raw_change(|tx| {
            tx.insert_map(
                &["agreements", id.as_str(), "acceptances"],
                &format!("forged{}", alex_device.0),
                vec![
                    ("partner", Val::Str(sam_partner.0.clone())),
                    ("device", Val::Str(alex_device.0.clone())),
                    ("hash", Val::Str(hash.clone())),
                    ("revision", Val::Str(rev.clone())),
                    ("heads", Val::Str(String::new())),
                    ("closes", Val::Str(String::new())),
                    ("seq", Val::Int(1000)),
                    ("at", Val::Int(0)),
                ],
                &[],
            )
        })
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    for space in [&mut alex.space, &mut sam.space] {
        assert_eq!(
            space.agreement(&id).unwrap().summary.status,
            Status::Proposed
        );
    }
}

#[test]
fn a_device_enrolled_by_the_wrong_partner_is_not_valid() {
    let (mut alex, mut sam) = couple();
    let alex_partner = alex.space.info().unwrap().me;
    let sam_device = sam.space.info().unwrap().my_device;
    let dir = TempDir::new().unwrap();
    let rogue = DeviceIdentity::load_or_create(dir.path())
        .unwrap()
        .device_id();
    // Sam's client enrols a device as Alex's.
    sam.space
        .raw_change(|tx| enrol_as(tx, &rogue.0, &alex_partner.0, "device", &sam_device))
        .unwrap();
    // ... and a third partner.
    let dir2 = TempDir::new().unwrap();
    let third = DeviceIdentity::load_or_create(dir2.path())
        .unwrap()
        .device_id();
    sam.space
        .raw_change(|tx| {
            tx.insert_map(
                &["partners"],
                "kim",
                vec![
                    ("name", Val::Str("Kim".into())),
                    ("time_zone", Val::Str("UTC".into())),
                    ("seq", Val::Int(501)),
                ],
                &[],
            )?;
            enrol_as(tx, &third.0, "kim", "partner", &sam_device)
        })
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    for space in [&mut alex.space, &mut sam.space] {
        let info = space.info().unwrap();
        assert!(!info.devices.iter().any(|d| d.id == rogue || d.id == third));
        assert_eq!(info.partners.len(), 2);
        let problems = format!("{:?}", space.problems().unwrap());
        assert!(problems.contains(rogue.as_str()), "{problems}");
        assert!(problems.contains("kim"), "{problems}");
    }
}

#[test]
fn a_removed_devices_later_records_do_not_count() {
    let (mut alex, mut sam) = couple();
    let mut tablet = enrol_own_device(&mut alex.space);
    let id = sam
        .space
        .create_agreement(NewAgreement::titled("Lunch text"), t(3))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    sync(&mut alex.space, &mut tablet.space);
    let tablet_id = tablet.space.info().unwrap().my_device;
    alex.space.remove_device(&tablet_id, t(4)).unwrap();
    sync(&mut alex.space, &mut tablet.space);
    // The removed tablet can no longer act through the API ...
    assert!(matches!(
        tablet.space.accept(&id, t(5)).unwrap_err(),
        Error::NotAMember(_)
    ));
    // ... and a modified client's later, correctly signed acceptance does not count.
    let me = alex.space.info().unwrap().me;
    let hash = tablet.space.agreement(&id).unwrap().content_hash.unwrap();
    let rev = revision(&tablet.space, &id);
    tablet
        .space
        .raw_change(|tx| {
            tx.insert_map(
                &["agreements", id.as_str(), "acceptances"],
                &format!("late{}", tablet_id.0),
                vec![
                    ("partner", Val::Str(me.0.clone())),
                    ("device", Val::Str(tablet_id.0.clone())),
                    ("hash", Val::Str(hash.clone())),
                    ("revision", Val::Str(rev.clone())),
                    ("heads", Val::Str(String::new())),
                    ("closes", Val::Str(String::new())),
                    ("seq", Val::Int(10_000)),
                    ("at", Val::Int(0)),
                ],
                &[],
            )
        })
        .unwrap();
    sync(&mut alex.space, &mut tablet.space);
    sync(&mut alex.space, &mut sam.space);
    for space in [&mut alex.space, &mut sam.space, &mut tablet.space] {
        assert_eq!(
            space.agreement(&id).unwrap().summary.status,
            Status::Proposed
        );
        assert!(
            space.info().is_err()
                || space
                    .info()
                    .unwrap()
                    .devices
                    .iter()
                    .any(|d| d.id == tablet_id && d.removed)
        );
    }
    // Records the tablet made before removal still count.
    assert_eq!(
        alex.space
            .info()
            .unwrap()
            .devices
            .iter()
            .filter(|d| d.removed)
            .count(),
        1
    );
}

#[test]
fn a_partner_cannot_enrol_a_device_in_the_others_name() {
    let (mut alex, mut sam) = couple();
    let alex_phone = alex.space.info().unwrap().my_device;
    let alex_partner = alex.space.info().unwrap().me;
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Alex's word"), t(3))
        .unwrap();
    // Both partners set up recovery: Sam holds a valid recovery secret, only not Alex's.
    alex.space.set_up_recovery(t(4)).unwrap();
    let sams_secret = sam.space.set_up_recovery(t(4)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    // Sam's modified client writing an enrolment in Alex's name (as the old "returning
    // partner" role did, as a plain device, or as a recovery proved by Sam's own secret or
    // by none) makes a device that is no one on any replica.
    for (role, proof) in [
        ("returning", false),
        ("device", false),
        ("partner", false),
        ("recovered", false),
        ("recovered", true),
    ] {
        let dir = TempDir::new().unwrap();
        let stranger = DeviceIdentity::load_or_create(dir.path())
            .unwrap()
            .device_id();
        let (device, partner) = (stranger.0.clone(), alex_partner.0.clone());
        let sam_device = sam.space.info().unwrap().my_device;
        let proof = proof.then(|| sams_secret.proof(&stranger));
        sam.space
            .raw_change(|tx| {
                enrol_as(tx, &device, &partner, role, &sam_device)?;
                match &proof {
                    Some(p) => tx.put(&["devices", &device], "proof", p.clone()),
                    None => Ok(()),
                }
            })
            .unwrap();
        sync(&mut alex.space, &mut sam.space);
        for space in [&mut alex.space, &mut sam.space] {
            let info = space.info().unwrap();
            let phone = info.devices.iter().find(|d| d.id == alex_phone).unwrap();
            assert!(!phone.removed, "{role}: Alex's phone stays enrolled");
            assert!(
                info.devices.iter().all(|d| d.id != stranger),
                "{role}: the device is no one"
            );
            assert_eq!(
                space.agreement(&id).unwrap().summary.accepted_by,
                vec![alex_partner.clone()],
                "{role}"
            );
        }
        let Err(err) = Space::join(dir.path(), &sam.space.export_document().unwrap()) else {
            panic!("{role}: the device joined as Alex");
        };
        assert!(matches!(err, Error::NotAMember(_)), "{role}: {err}");
    }
    // Alex's phone still writes and syncs.
    alex.space
        .log_follow_through(&id, LogKind::Kept, "", t(9))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(sam.space.follow_through(Some(&id)).unwrap().len(), 1);
}

#[test]
fn a_published_key_that_does_not_open_the_position_is_rejected() {
    let (mut alex, mut sam) = couple();
    alex.space
        .write_position("topic", "Alex's words", t(3))
        .unwrap();
    alex.space.mark_position_ready("topic", t(4)).unwrap();
    sam.space
        .write_position("topic", "Sam's words", t(3))
        .unwrap();
    let mine = sam
        .space
        .position_records()
        .into_iter()
        .find(|p| p.topic == "topic")
        .unwrap();
    let latest = mine.latest.unwrap();
    let info = sam.space.info().unwrap();
    let digest = crate::position::digest(&latest.ciphertext);
    let alex_ready = alex
        .space
        .position_records()
        .into_iter()
        .find_map(|p| p.ready_id)
        .unwrap();
    // Sam's modified client marks ready and publishes a key that does not open it.
    sam.space
        .raw_change(|tx| {
            let common = |kind: &str| {
                vec![
                    ("kind", Val::Str(kind.into())),
                    ("topic", Val::Str("topic".into())),
                    ("position", Val::Str(latest.id.clone())),
                    ("partner", Val::Str(info.me.0.clone())),
                    ("device", Val::Str(info.my_device.0.clone())),
                    ("seq", Val::Int(900)),
                    ("at", Val::Int(0)),
                ]
            };
            let mut ready = common("ready");
            ready.push(("digest", Val::Str(digest.clone())));
            tx.insert_map(
                &["positions"],
                &format!("ready1{}", info.my_device.0),
                ready,
                &[],
            )?;
            let mut key = common("key");
            key.push(("key", Val::Bytes(vec![9; 32])));
            key.push(("answers", Val::Str(alex_ready.clone())));
            tx.insert_map(
                &["positions"],
                &format!("key1{}", info.my_device.0),
                key,
                &[],
            )
        })
        .unwrap();
    // Only Sam's changes travel (Sam's honest code would otherwise publish the right key).
    let c = sam
        .space
        .changes_since(&alex.space.heads().unwrap())
        .unwrap();
    alex.space.apply_changes(&c).unwrap();
    let seen = alex.space.positions(Some("topic")).unwrap();
    let sams = seen.iter().find(|p| p.partner == info.me).unwrap();
    assert_eq!(sams.state, PositionState::Ready);
    assert_eq!(sams.text, None);
    let problems = format!("{:?}", alex.space.problems().unwrap());
    assert!(
        problems.contains("does not open the committed position"),
        "{problems}"
    );
}

#[test]
fn a_removed_device_keeps_its_copy_to_read_but_cannot_write() {
    let (mut alex, mut sam) = couple();
    sam.space
        .create_agreement(NewAgreement::titled("Kept"), t(3))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    let sam_device = sam.space.info().unwrap().my_device;
    let err = alex.space.remove_device(&sam_device, t(4)).unwrap_err();
    assert!(matches!(err, Error::NotAllowed(_)), "{err}");
    let ending = alex.space.end_pairing(t(4)).unwrap();
    assert_eq!(ending.by, alex.space.info().unwrap().me);
    sync(&mut alex.space, &mut sam.space);
    let info = sam.space.info().unwrap();
    assert!(info.devices.iter().any(|d| d.id == sam_device && d.removed));
    assert_eq!(info.ending, Some(ending));
    assert_eq!(sam.space.list(&ListFilter::default()).unwrap().len(), 1);
    sam.space.agenda(t(5)).unwrap();
    assert!(matches!(
        sam.space
            .create_agreement(NewAgreement::titled("x"), t(5))
            .unwrap_err(),
        Error::NotAMember(_)
    ));
    assert_eq!(
        Category::parse("custom:Pets").unwrap(),
        Category::Custom("Pets".into())
    );
}

#[test]
fn a_change_that_skips_sequence_numbers_is_refused_without_a_panic() {
    let (mut alex, mut sam) = couple();
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Counted changes"), t(3))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    let sam_actor = sam.space.identity().actor_bytes();
    let forged = alex
        .space
        .doc()
        .forge_change(&sam_actor, |tx| {
            tx.insert_map(
                &["log"],
                &bound("gap", &sam_actor),
                vec![("seq", Val::Int(1000))],
                &[],
            )
        })
        .unwrap();
    // A modified client re-encodes the change with a later sequence number (a gap).
    let first = automerge::Change::from_bytes(forged.clone()).unwrap();
    let mut expanded = first.decode();
    expanded.seq += 5;
    expanded.hash = None;
    let gap = automerge::Change::from(expanded.clone())
        .raw_bytes()
        .to_vec();
    let before = alex.space.heads().unwrap();
    let err = alex
        .space
        .apply_changes(&sam.space.signed(gap))
        .unwrap_err();
    assert!(err.to_string().contains("sequence"), "{err}");
    assert_eq!(alex.space.heads().unwrap(), before);
    // The same gap behind a change that has not arrived yet waits for it, and when it
    // arrives the engine's failure is refused: the document is reloaded from disk.
    expanded.deps = vec![first.hash()];
    expanded.start_op = std::num::NonZeroU64::new(first.max_op() + 1).unwrap();
    let waiting = automerge::Change::from(expanded).raw_bytes().to_vec();
    assert!(!alex
        .space
        .apply_changes(&sam.space.signed(waiting))
        .unwrap());
    assert!(alex.space.apply_changes(&sam.space.signed(forged)).is_err());
    assert_eq!(alex.space.heads().unwrap(), before);
    // The space still works and nothing saved was lost.
    alex.space
        .log_follow_through(&id, LogKind::Kept, "", t(4))
        .unwrap();
    assert_eq!(alex.space.follow_through(Some(&id)).unwrap().len(), 1);
}

#[test]
fn a_space_holding_changes_in_the_joiners_name_is_refused() {
    let (mut alex, _sam) = couple();
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Forged consent"), t(3))
        .unwrap();
    // Alex's modified client invites a tablet of Sam's and, before sending the space, writes
    // an acceptance under the new device's actor (its id is its public key).
    let dir = TempDir::new().unwrap();
    let tablet = DeviceIdentity::load_or_create(dir.path()).unwrap();
    let forged = alex
        .space
        .doc()
        .forge_change(&tablet.actor_bytes(), |tx| {
            tx.insert_map(
                &["agreements", id.as_str(), "acceptances"],
                &bound("forged", &tablet.actor_bytes()),
                vec![("seq", Val::Int(1000))],
                &[],
            )
        })
        .unwrap();
    // (Alex's own replica would refuse it from a peer: no checkpoint of the tablet covers it.)
    assert!(alex
        .space
        .apply_changes(std::slice::from_ref(&forged))
        .is_err());
    assert!(alex
        .space
        .doc_mut()
        .apply_stored_changes(&[forged])
        .unwrap());
    let export = alex.space.export_document().unwrap();
    let Err(err) = Space::join(dir.path(), &export) else {
        panic!("a space with changes in the joiner's name was accepted");
    };
    assert!(err.to_string().contains("this device's name"), "{err}");
    // Nothing was set up: the directory can still join a genuine space.
    assert!(Space::open(dir.path()).is_err());
}

#[test]
fn a_change_with_op_counters_beyond_what_exists_is_refused() {
    let (mut alex, sam) = couple();
    let sam_actor = sam.space.identity().actor_bytes();
    let forged = alex
        .space
        .doc()
        .forge_change(&sam_actor, |tx| {
            tx.insert_map(&["log"], "far", vec![("seq", Val::Int(5))], &[])
        })
        .unwrap();
    let mut expanded = automerge::Change::from_bytes(forged).unwrap().decode();
    expanded.start_op = std::num::NonZeroU64::new((1 << 32) - 2).unwrap();
    expanded.hash = None;
    let far = automerge::Change::from(expanded).raw_bytes().to_vec();
    let before = alex.space.heads().unwrap();
    let err = alex
        .space
        .apply_changes(&sam.space.signed(far))
        .unwrap_err();
    assert!(err.to_string().contains("out of range"), "{err}");
    assert_eq!(alex.space.heads().unwrap(), before);
    // Local writes still work.
    alex.space
        .create_agreement(NewAgreement::titled("Still writable"), t(5))
        .unwrap();
}

#[test]
fn a_record_claiming_the_largest_order_does_not_break_local_writes() {
    let (mut alex, sam) = couple();
    let sam_actor = sam.space.identity().actor_bytes();
    let junk = alex
        .space
        .doc()
        .forge_change(&sam_actor, |tx| {
            tx.insert_map(
                &["partners"],
                "junk",
                vec![("seq", Val::Int(i64::MAX))],
                &[],
            )
        })
        .unwrap();
    assert!(alex.space.apply_changes(&sam.space.signed(junk)).unwrap());
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Still in order"), t(5))
        .unwrap();
    alex.space.accept(&id, t(6)).unwrap();
    assert!(alex.space.agreement(&id).is_ok());
}

#[test]
fn a_refused_batch_cannot_open_a_way_for_changes_in_another_devices_name() {
    let (mut alex, mut sam) = couple();
    let mut tablet = enrol_own_device(&mut alex.space);
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Kept words"), t(3))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    sync(&mut alex.space, &mut tablet.space);
    let alex_actor = alex.space.identity().actor_bytes();
    let sam_actor = sam.space.identity().actor_bytes();
    let forge = |actor: &[u8], key: &str| {
        tablet
            .space
            .doc()
            .forge_change(actor, |tx| {
                tx.insert_map(
                    &["agreements", id.as_str(), "acceptances"],
                    key,
                    vec![("seq", Val::Int(50))],
                    &[],
                )
            })
            .unwrap()
    };
    // Sam's client sends the tablet a batch the engine refuses (two changes of Sam's with the
    // same number) together with a change in the name of Alex's phone.
    let in_alex_name = forge(&alex_actor, "g");
    let batch = vec![
        in_alex_name.clone(),
        forge(&sam_actor, "d1"),
        forge(&sam_actor, "d2"),
    ];
    let before = tablet.space.heads().unwrap();
    assert!(tablet.space.apply_changes(&batch).is_err());
    assert_eq!(tablet.space.heads().unwrap(), before);
    // Then a change in the phone's name whose op counters lie within what the phone's
    // checkpoint confirms: refused.
    let mut expanded = automerge::Change::from_bytes(in_alex_name)
        .unwrap()
        .decode();
    expanded.start_op = std::num::NonZeroU64::new(1).unwrap();
    expanded.hash = None;
    let within = automerge::Change::from(expanded).raw_bytes().to_vec();
    let err = tablet.space.apply_changes(&[within]).unwrap_err();
    assert!(err.to_string().contains("op counters"), "{err}");
    assert_eq!(tablet.space.heads().unwrap(), before);
}

/// Sam's modified client writes `f` as a real change of Sam's device; Alex receives it.
fn hostile_change(
    alex: &mut Dev,
    sam: &mut Dev,
    f: impl FnOnce(&mut crate::document::Tx<'_, '_>) -> Result<()>,
) -> Result<bool> {
    sam.space.raw_change(f).unwrap();
    let c = sam
        .space
        .changes_since(&alex.space.heads().unwrap())
        .unwrap();
    alex.space.apply_changes(&c)
}

type Attack = Box<dyn FnOnce(&mut crate::document::Tx<'_, '_>) -> Result<()>>;
/// Builds an attack from the agreement id, a log entry key and an acceptance key.
type AttackOn = fn(&str, &str, &str) -> Attack;

#[test]
fn a_partner_cannot_erase_or_replace_what_the_other_device_wrote() {
    let attacks: Vec<(&str, AttackOn)> = vec![
        ("delete a log entry", |_, entry, _| {
            let e = entry.to_owned();
            Box::new(move |tx| tx.delete(&["log"], &e))
        }),
        ("overwrite an acceptance", |a, _, k| {
            let (a, k) = (a.to_owned(), k.to_owned());
            Box::new(move |tx| tx.put(&["agreements", &a, "acceptances"], &k, Val::Int(0)))
        }),
        ("replace the acceptances", |a, _, _| {
            let a = a.to_owned();
            Box::new(move |tx| tx.insert_map(&["agreements", &a], "acceptances", vec![], &[]))
        }),
        ("delete the agreement", |a, _, _| {
            let a = a.to_owned();
            Box::new(move |tx| tx.delete(&["agreements"], &a))
        }),
        ("wipe the log", |_, _, _| {
            Box::new(|tx| tx.insert_map(&[], "log", vec![], &[]))
        }),
    ];
    for (what, attack) in attacks {
        let (mut alex, mut sam) = couple();
        let id = alex
            .space
            .create_agreement(NewAgreement::titled("Call if late"), t(3))
            .unwrap();
        let entry = alex
            .space
            .log_follow_through(&id, LogKind::Kept, "", t(4))
            .unwrap();
        sync(&mut alex.space, &mut sam.space);
        let acceptance = alex
            .space
            .doc()
            .records_keys(&["agreements", id.as_str(), "acceptances"]);
        assert_eq!(acceptance.len(), 1);
        let before = format!(
            "{:?}{:?}",
            alex.space.follow_through(None).unwrap(),
            alex.space.agreement(&id).unwrap()
        );
        let err = hostile_change(
            &mut alex,
            &mut sam,
            attack(id.as_str(), entry.as_str(), &acceptance[0]),
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::InvalidRemoteData(ref m) if m.contains("nothing was applied")),
            "{what}: {err:?}"
        );
        let after = format!(
            "{:?}{:?}",
            alex.space.follow_through(None).unwrap(),
            alex.space.agreement(&id).unwrap()
        );
        assert_eq!(after, before, "{what}");
    }
}

#[test]
fn a_partner_may_still_edit_the_others_wording_and_own_devices_share_registers() {
    let (mut alex, mut sam) = couple();
    let mut tablet = enrol_own_device(&mut alex.space);
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Call if late"), t(3))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    sync(&mut alex.space, &mut tablet.space);
    // Sam rewords Alex's agreement: a register edit over Alex's value.
    sam.space
        .edit_agreement(
            &id,
            AgreementEdit {
                title: Some("Text if late".into()),
                ..Default::default()
            },
            t(5),
        )
        .unwrap();
    // Alex's tablet renames Alex (the phone wrote the name).
    tablet
        .space
        .update_me(Some("Alexandra"), None, t(6))
        .unwrap();
    let c = sam
        .space
        .changes_since(&alex.space.heads().unwrap())
        .unwrap();
    assert!(alex.space.apply_changes(&c).unwrap());
    let c = tablet
        .space
        .changes_since(&alex.space.heads().unwrap())
        .unwrap();
    assert!(alex.space.apply_changes(&c).unwrap());
    assert_eq!(
        alex.space.agreement(&id).unwrap().summary.title,
        "Text if late"
    );
    let names = partner_names(&mut alex.space);
    assert!(names.contains(&"Alexandra".to_owned()), "{names:?}");
}

#[test]
fn thousands_of_nested_maps_inside_ones_own_concern_do_not_crash_any_replica() {
    let (mut alex, mut sam) = couple();
    let concern = sam
        .space
        .raise_concern(
            NewConcern {
                agreement: None,
                what_happened: "Late again".into(),
                how_i_felt: "worried".into(),
                what_i_need: "a message".into(),
            },
            t(3),
        )
        .unwrap();
    sync(&mut sam.space, &mut alex.space);
    let sam_actor = sam.space.identity().actor_bytes();
    let nested = sam
        .space
        .doc()
        .forge_change(&sam_actor, |tx| {
            tx.nest_maps(
                &["concerns", concern.as_str(), "events"],
                &bound("x", &sam_actor),
                2_000,
            )
        })
        .unwrap();
    // A peer's change nesting deeper than the schema allows is refused when it arrives.
    let err = alex
        .space
        .apply_changes(std::slice::from_ref(&nested))
        .unwrap_err();
    assert!(err.to_string().contains("deeper than the schema"), "{err}");
    assert_eq!(alex.space.concerns().unwrap().len(), 1);
    // And reading never recurses without limit, even over such a document on the writer's own
    // device (reading runs on this test thread's small stack: it would abort here).
    sam.space
        .raw_change(|tx| tx.nest_maps(&["concerns", concern.as_str()], "x", 2_000))
        .unwrap();
    assert!(sam.space.concerns().is_ok());
    let dir = sam.space.dir().to_path_buf();
    sam.space.close();
    drop(sam.space);
    let mut reopened = Space::open(&dir).unwrap();
    assert!(reopened.concerns().is_ok());
    assert!(reopened.agenda(t(10)).is_ok());
}

/// A couple where Alex wrote an agreement and raised a concern about it, synced to Sam.
fn alexs_agreement_and_concern() -> (Dev, Dev, AgreementId, ConcernId) {
    let (mut alex, mut sam) = couple();
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Call if late"), t(3))
        .unwrap();
    let concern = alex
        .space
        .raise_concern(
            NewConcern {
                agreement: Some(id.clone()),
                what_happened: "No call".into(),
                how_i_felt: "worried".into(),
                what_i_need: "a message next time".into(),
            },
            t(4),
        )
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    (alex, sam, id, concern)
}

#[test]
fn a_partner_cannot_rewrite_the_others_profile_concern_or_authorship() {
    let (mut alex, mut sam, id, concern) = alexs_agreement_and_concern();
    let alex_partner = alex.space.info().unwrap().me;
    let sam_partner = sam.space.info().unwrap().me;
    let refused = [
        sam.space
            .forged(|tx| tx.put(&["partners", alex_partner.as_str()], "name", "x")),
        sam.space.forged(|tx| {
            tx.put(
                &["partners", alex_partner.as_str()],
                "time_zone",
                "Pacific/Kiritimati",
            )
        }),
        sam.space.forged(|tx| {
            tx.put(
                &["agreements", id.as_str()],
                "created_by",
                sam_partner.as_str(),
            )
        }),
        sam.space
            .forged(|tx| tx.put(&["concerns", concern.as_str()], "how_i_felt", "")),
    ];
    for change in refused {
        let err = alex.space.apply_changes(&change).unwrap_err();
        assert!(err.to_string().contains("may not write"), "{err}");
    }
    let me = alex.space.partner().unwrap();
    let info = alex.space.info().unwrap();
    let alex_profile = info.partners.iter().find(|p| p.id == alex_partner).unwrap();
    assert_eq!(
        (alex_profile.name.as_str(), alex_profile.time_zone.as_str()),
        ("Alex", "UTC")
    );
    assert!(me.is_some());
    assert_eq!(alex.space.agreement(&id).unwrap().created_by, alex_partner);
    assert_eq!(alex.space.concerns().unwrap()[0].how_i_felt, "worried");
    // What either partner may do still goes through: one's own name, rewording an agreement.
    sam.space.update_me(Some("Samuel"), None, t(5)).unwrap();
    sync(&mut sam.space, &mut alex.space);
    let names = partner_names(&mut alex.space);
    assert!(names.contains(&"Samuel".to_owned()), "{names:?}");
    let reworded = sam.space.forged(|tx| {
        tx.put(
            &["agreements", id.as_str()],
            "title",
            "Call if over 30 min late",
        )
    });
    assert!(alex.space.apply_changes(&reworded).unwrap());
}

#[test]
fn a_change_with_more_operations_than_any_write_makes_is_refused() {
    let (mut alex, mut sam) = couple();
    let sam_partner = sam.space.info().unwrap().me;
    let flood = sam.space.forged(|tx| {
        for i in 0..6_000 {
            tx.put(&["partners", sam_partner.as_str()], &format!("k{i}"), "v")?;
        }
        Ok(())
    });
    let before = alex.space.heads().unwrap();
    let err = alex.space.apply_changes(&flood).unwrap_err();
    assert!(err.to_string().contains("too large"), "{err}");
    assert_eq!(alex.space.heads().unwrap(), before, "nothing was applied");
}

/// `change` with every operation's predecessors removed: values that claim to have been
/// written without seeing what they stand beside (so they would make a conflict).
fn claiming_concurrency(change: Vec<u8>) -> Vec<u8> {
    let mut expanded = automerge::Change::from_bytes(change).unwrap().decode();
    for op in &mut expanded.operations {
        op.pred = automerge::legacy::SortedVec::new();
    }
    expanded.hash = None;
    automerge::Change::from(expanded).raw_bytes().to_vec()
}

#[test]
fn values_claiming_to_be_concurrent_cannot_void_the_others_records() {
    let (mut alex, sam, id, concern) = alexs_agreement_and_concern();
    let alex_partner = alex.space.info().unwrap().me;
    let alex_device = alex.space.info().unwrap().my_device;
    let sam_actor = sam.space.identity().actor_bytes();
    let forge = |f: &dyn Fn(&mut crate::document::Tx<'_, '_>) -> Result<()>| {
        claiming_concurrency(
            sam.space
                .doc()
                .forge_change(&sam_actor, |tx| f(tx))
                .unwrap(),
        )
    };
    let attacks = [
        forge(&|tx| tx.put(&["agreements", id.as_str()], "created_by", "x")),
        forge(&|tx| tx.put(&["partners", alex_partner.as_str()], "name", "x")),
        forge(&|tx| tx.put(&["concerns", concern.as_str()], "what_i_need", "nothing")),
        forge(&|tx| tx.put(&["devices", alex_device.as_str()], "partner", "x")),
        forge(&|tx| tx.put(&[], "founder_device", "x")),
    ];
    for change in attacks {
        let err = alex
            .space
            .apply_changes(&sam.space.signed(change))
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("may not write") || message.contains("root"),
            "{message}"
        );
    }
    assert_eq!(alex.space.agreement(&id).unwrap().created_by, alex_partner);
    assert_eq!(
        alex.space.concerns().unwrap()[0].what_i_need,
        "a message next time"
    );
    let info = alex.space.info().unwrap();
    assert_eq!(info.devices.len(), 2);
    assert!(info.partners.iter().any(|p| p.name == "Alex"));
}

#[test]
fn a_record_is_never_rewritten_not_even_by_its_author() {
    let (mut alex, mut sam) = couple();
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Dishes the same evening"), t(3))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    sam.space
        .log_follow_through(&id, LogKind::Missed, "Left them overnight", t(4))
        .unwrap();
    sync(&mut sam.space, &mut alex.space);
    let key = sam.space.doc().records_keys(&["log"]).pop().unwrap();
    // Sam's client turns the "missed" entry into a "kept" one after Alex saw it.
    let rewrite = sam
        .space
        .forged(|tx| tx.insert_record(&["log"], &key, vec![("kind", Val::Str("kept".into()))]));
    let err = alex.space.apply_changes(&rewrite).unwrap_err();
    assert!(
        err.to_string().contains("replaces what was written"),
        "{err}"
    );
    let entries = alex.space.follow_through(Some(&id)).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].kind, LogKind::Missed);
}

#[test]
fn settling_a_conflict_on_either_candidate_reaches_the_other_partner() {
    for choose_alexs in [true, false] {
        let (mut alex, mut sam) = couple();
        let id = alex
            .space
            .create_agreement(NewAgreement::titled("Date night"), t(3))
            .unwrap();
        sync(&mut alex.space, &mut sam.space);
        let edit = |title: &str| AgreementEdit {
            title: Some(title.into()),
            ..Default::default()
        };
        alex.space
            .edit_agreement(&id, edit("Date night on Fridays"), t(4))
            .unwrap();
        sam.space
            .edit_agreement(&id, edit("Date night, phones away"), t(4))
            .unwrap();
        sync(&mut alex.space, &mut sam.space);
        let chosen = if choose_alexs {
            "Date night on Fridays"
        } else {
            "Date night, phones away"
        };
        sam.space
            .resolve_conflict(&id, Field::Title, chosen, t(5))
            .unwrap();
        // Sam's settling (a put, or removing the value not chosen) is accepted by Alex.
        sync(&mut sam.space, &mut alex.space);
        for space in [&mut alex.space, &mut sam.space] {
            let details = space.agreement(&id).unwrap();
            assert!(details.conflicts.is_empty());
            assert_eq!(details.summary.title, chosen);
        }
        // Removing a register's value is not a way to erase what only the other may write.
        let alex_partner = alex.space.info().unwrap().me;
        let erase_name = sam
            .space
            .forged(|tx| tx.delete(&["partners", alex_partner.as_str()], "name"));
        assert!(alex.space.apply_changes(&erase_name).is_err());
        let erase_author = sam
            .space
            .forged(|tx| tx.delete(&["agreements", id.as_str()], "created_by"));
        assert!(alex.space.apply_changes(&erase_author).is_err());
    }
}

#[test]
fn a_change_that_waited_for_the_one_it_follows_is_checked_when_applied() {
    let (mut alex, mut sam) = couple();
    let heads = alex.space.heads().unwrap();
    let id = sam
        .space
        .create_agreement(NewAgreement::titled("Sam's words"), t(3))
        .unwrap();
    let creation = sam.space.changes_since(&heads).unwrap();
    let sam_actor = sam.space.identity().actor_bytes();
    let alex_partner = alex.space.info().unwrap().me;
    // Sam's next change rewrites the new agreement's author. Sent first, it waits for the
    // change that makes the agreement, so the place it writes to is not known yet.
    let rewrite = sam
        .space
        .doc()
        .forge_change(&sam_actor, |tx| {
            tx.put(
                &["agreements", id.as_str()],
                "created_by",
                alex_partner.as_str(),
            )
        })
        .unwrap();
    assert!(
        !alex
            .space
            .apply_changes(&sam.space.signed(rewrite))
            .unwrap(),
        "it waits"
    );
    let err = alex.space.apply_changes(&creation).unwrap_err();
    assert!(err.to_string().contains("may not write"), "{err}");
    // Nothing of that exchange was kept; the creation alone, sent again, is taken.
    assert!(alex.space.agreement(&id).is_err());
    assert!(alex.space.apply_changes(&creation).unwrap());
    let sam_partner = sam.space.info().unwrap().me;
    assert_eq!(alex.space.agreement(&id).unwrap().created_by, sam_partner);
}

/// One step of the hostile-replicas property test.
#[derive(Debug, Clone)]
enum Step {
    /// An honest write of `kind` on device `device` (`pick` chooses a target).
    Write {
        device: usize,
        kind: u8,
        pick: usize,
    },
    /// A modified client of `device` forges an attack of `kind` and sends it to the others.
    Attack {
        device: usize,
        kind: u8,
        pick: usize,
    },
    /// Two devices exchange what they lack.
    Sync { a: usize, b: usize },
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        3 => (0..3usize, 0..7u8, any::<usize>())
            .prop_map(|(device, kind, pick)| Step::Write { device, kind, pick }),
        2 => (0..3usize, 0..6u8, any::<usize>())
            .prop_map(|(device, kind, pick)| Step::Attack { device, kind, pick }),
        2 => (0..3usize, 1..3usize).prop_map(|(a, d)| Step::Sync { a, b: (a + d) % 3 }),
    ]
}

/// Applies everything `from` has that `to` lacks (one way).
fn send(devices: &mut [Dev], from: usize, to: usize) {
    let heads = devices[to].space.heads().unwrap();
    let changes = devices[from].space.changes_since(&heads).unwrap();
    devices[to].space.apply_changes(&changes).unwrap();
}

/// Forges attack `kind` by `device`'s modified client, or `None` when its target is missing.
fn forge_attack(dev: &mut Dev, kind: u8, pick: usize) -> Option<Vec<u8>> {
    let actor = dev.space.identity().actor_bytes();
    let me = dev.space.info().unwrap().me;
    let other = dev
        .space
        .info()
        .unwrap()
        .partners
        .into_iter()
        .find(|p| p.id != me)?;
    let agreements = dev.space.list(&ListFilter::default()).unwrap();
    let concerns = dev.space.concerns().unwrap();
    let log_keys = dev.space.doc().records_keys(&["log"]);
    let doc = dev.space.doc();
    let change = match kind {
        0 => doc.forge_change(&actor, |tx| {
            tx.put(&["partners", other.id.as_str()], "name", "renamed")
        }),
        1 => {
            let a = &agreements.get(pick % agreements.len().max(1))?.id;
            doc.forge_change(&actor, |tx| {
                tx.put(&["agreements", a.as_str()], "created_by", "someone-else")
            })
        }
        2 => doc.forge_change(&actor, |tx| tx.put(&[], "schema", Val::Int(99))),
        3 => {
            let key = log_keys.get(pick % log_keys.len().max(1))?;
            doc.forge_change(&actor, |tx| {
                tx.insert_record(&["log"], key, vec![("kind", Val::Str("kept".into()))])
            })
        }
        4 => {
            let c = &concerns.get(pick % concerns.len().max(1))?.id;
            doc.forge_change(&actor, |tx| {
                tx.nest_maps(&["concerns", c.as_str(), "events"], "x", 10)
            })
        }
        _ => {
            let c = &concerns.get(pick % concerns.len().max(1))?.id;
            doc.forge_change(&actor, |tx| {
                tx.put(&["concerns", c.as_str()], "what_i_need", "")
            })
            .map(claiming_concurrency)
        }
    };
    Some(change.unwrap())
}

/// What every replica must agree on.
fn views(space: &mut Space) -> String {
    let list: Vec<_> = space
        .list(&ListFilter::default())
        .unwrap()
        .into_iter()
        .map(|a| (a.id, a.title, a.status, a.accepted_by, a.created_at))
        .collect();
    let concerns: Vec<_> = space
        .concerns()
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.what_i_need, c.state))
        .collect();
    let info = space.info().unwrap();
    let mut partners = info.partners;
    partners.sort_by(|a, b| a.id.cmp(&b.id));
    let devices: Vec<_> = info
        .devices
        .into_iter()
        .map(|d| (d.id, d.removed))
        .collect();
    format!(
        "{list:?}\n{concerns:?}\n{partners:?}\n{devices:?}\n{:?}\n{:?}",
        info.ending,
        space.follow_through(None).unwrap()
    )
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        // PROPTEST_CASES, at most 100 (each case runs three replicas on disk), else 16.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse::<u32>().ok())
            .map_or(16, |c| c.min(100)),
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// Honest writes by three devices (two of Alex's, one of Sam's), removals of Alex's tablet
    /// and endings of the pairing, mixed with attacks by modified clients: every replica
    /// refuses every attack and changes nothing, honest sync never fails, and the replicas end
    /// with the same document and the same views (members, removals and the ending included).
    #[test]
    fn replicas_refuse_every_attack_alike_and_converge(steps in proptest::collection::vec(step(), 1..24)) {
        let (mut alex, mut sam) = couple();
        let tablet = enrol_own_device(&mut alex.space);
        sync(&mut alex.space, &mut sam.space);
        let mut devices = vec![alex, sam, tablet];
        for (n, step) in steps.into_iter().enumerate() {
            let at = t(10 + n as i64);
            match step {
                Step::Write { device, kind, pick } => {
                    let space = &mut devices[device].space;
                    let ids: Vec<AgreementId> = space
                        .list(&ListFilter::default())
                        .unwrap()
                        .into_iter()
                        .map(|a| a.id)
                        .collect();
                    let target = ids.get(pick % ids.len().max(1)).cloned();
                    let tablet = devices[2].space.identity().device_id();
                    let space = &mut devices[device].space;
                    // Honest writes may be refused (e.g. a conflicted agreement, a removed
                    // device): that is fine.
                    let _ = match (kind, target) {
                        // Alex's tablet removed (by an Alex device), or the pairing ended.
                        (5, _) => space.remove_device(&tablet, at),
                        (6, _) => space.end_pairing(at).map(|_| ()),
                        (0, _) | (_, None) => space
                            .create_agreement(NewAgreement::titled(format!("A{n}")), at)
                            .map(|_| ()),
                        (1, Some(id)) => space.edit_agreement(
                            &id,
                            AgreementEdit { title: Some(format!("T{n}")), ..Default::default() },
                            at,
                        ),
                        (2, Some(id)) => space.accept(&id, at),
                        (3, Some(id)) => space
                            .log_follow_through(&id, LogKind::Missed, "late", at)
                            .map(|_| ()),
                        (_, Some(id)) => space
                            .raise_concern(
                                NewConcern {
                                    agreement: Some(id),
                                    what_happened: "late".into(),
                                    how_i_felt: "sad".into(),
                                    what_i_need: "a call".into(),
                                },
                                at,
                            )
                            .map(|_| ()),
                    };
                }
                Step::Attack { device, kind, pick } => {
                    let Some(forged) = forge_attack(&mut devices[device], kind, pick) else {
                        continue;
                    };
                    for other in (0..3).filter(|o| *o != device) {
                        // The receiver holds what the attacker built on, so the attack is
                        // judged on arrival.
                        send(&mut devices, device, other);
                        let before = devices[other].space.heads().unwrap();
                        let refused = devices[other]
                            .space
                            .apply_changes(std::slice::from_ref(&forged));
                        proptest::prop_assert!(refused.is_err(), "attack {kind} by {device} taken by {other}");
                        proptest::prop_assert_eq!(devices[other].space.heads().unwrap(), before);
                    }
                }
                Step::Sync { a, b } => {
                    send(&mut devices, a, b);
                    send(&mut devices, b, a);
                }
            }
        }
        for _ in 0..2 {
            for (a, b) in [(0, 1), (1, 2), (0, 2)] {
                send(&mut devices, a, b);
                send(&mut devices, b, a);
            }
        }
        let heads: Vec<_> = devices.iter_mut().map(|d| d.space.heads().unwrap()).collect();
        proptest::prop_assert!(heads.iter().all(|h| *h == heads[0]));
        let seen: Vec<String> = devices.iter_mut().map(|d| views(&mut d.space)).collect();
        proptest::prop_assert_eq!(&seen[0], &seen[1]);
        proptest::prop_assert_eq!(&seen[0], &seen[2]);
    }
}

#[test]
fn no_one_can_take_the_other_devices_next_keys() {
    let (mut alex, mut sam) = couple();
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Call if late"), t(3))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    let alex_device = alex.space.info().unwrap().my_device;
    // Sam's modified client writes first at the keys Alex's next writes would take: a log
    // entry, an agreement, an acceptance, each under many of Alex's next orders.
    let next: Vec<String> = (1..40)
        .map(|seq| crate::ids::order_key(&alex_device, seq))
        .collect();
    let squats: Vec<(&str, Attack)> = vec![
        ("log entries", {
            let (a, keys) = (id.0.clone(), next.clone());
            Box::new(move |tx| {
                for k in &keys {
                    tx.insert_record(&["log"], &format!("{a}/{k}"), vec![("seq", Val::Int(1))])?;
                }
                Ok(())
            })
        }),
        ("agreements", {
            let keys = next.clone();
            Box::new(move |tx| {
                for k in &keys {
                    tx.insert_map(&["agreements"], k, vec![], &["acceptances"])?;
                }
                Ok(())
            })
        }),
        ("acceptances", {
            let (a, keys) = (id.0.clone(), next.clone());
            Box::new(move |tx| {
                for k in &keys {
                    tx.insert_record(&["agreements", &a, "acceptances"], k, vec![])?;
                }
                Ok(())
            })
        }),
        ("a key ending in an unrelated id", {
            let key = format!("1{}", "7".repeat(64));
            Box::new(move |tx| tx.insert_record(&["marks"], &key, vec![]))
        }),
    ];
    for (what, squat) in squats {
        let before = alex.space.heads().unwrap();
        let err = hostile_change(&mut alex, &mut sam, squat).unwrap_err();
        assert!(
            err.to_string().contains("a key bound to another device"),
            "{what}: {err}"
        );
        assert_eq!(alex.space.heads().unwrap(), before, "{what}");
    }
    // Alex's device goes on writing at its own keys, and a third replica takes every write.
    let mut tablet = enrol_own_device(&mut alex.space);
    for minute in 4..8 {
        alex.space
            .log_follow_through(&id, LogKind::Kept, "", t(minute))
            .unwrap();
    }
    let second = alex
        .space
        .create_agreement(NewAgreement::titled("Sunday walks"), t(9))
        .unwrap();
    sync(&mut alex.space, &mut tablet.space);
    assert_eq!(tablet.space.follow_through(Some(&id)).unwrap().len(), 4);
    assert!(tablet.space.agreement(&second).is_ok());
    assert_eq!(tablet.space.heads().unwrap(), alex.space.heads().unwrap());
}

#[test]
fn a_device_id_taken_by_a_record_that_is_no_enrolment_is_refused_plainly() {
    let (mut alex, mut sam) = couple();
    let dir = TempDir::new().unwrap();
    let future = DeviceIdentity::load_or_create(dir.path())
        .unwrap()
        .device_id();
    // Sam's modified client writes a bogus record where Alex's next device would be enrolled.
    let bogus = future.0.clone();
    hostile_change(&mut alex, &mut sam, move |tx| {
        tx.insert_map(
            &["devices"],
            &bogus,
            vec![("name", Val::Str("x".into()))],
            &[],
        )
    })
    .unwrap();
    let err = alex
        .space
        .add_device(&future, "Alex's tablet", t(5))
        .unwrap_err();
    assert!(err.to_string().contains("not a valid enrolment"), "{err}");
    // Nothing was written, so Alex's device still syncs with Sam's.
    alex.space
        .create_agreement(NewAgreement::titled("Still in sync"), t(6))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(alex.space.heads().unwrap(), sam.space.heads().unwrap());
}

#[test]
fn a_key_that_was_never_enrolled_cannot_write_even_with_its_own_checkpoint() {
    let (mut alex, mut sam) = couple();
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Only members write"), t(3))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    // Sam's modified client makes a new key and writes with it, signing its own checkpoint.
    let dir = TempDir::new().unwrap();
    let stranger = DeviceIdentity::load_or_create(dir.path()).unwrap();
    let actor = stranger.actor_bytes();
    let forge = |sam: &Dev| {
        let change = sam
            .space
            .doc()
            .forge_change(&actor, |tx| {
                tx.insert_record(
                    &["log"],
                    &format!("{}/{}", id.0, bound("1", &actor)),
                    vec![("seq", Val::Int(100)), ("kind", Val::Str("missed".into()))],
                )
            })
            .unwrap();
        sam.space.signed_as(&stranger, change)
    };
    let before = alex.space.heads().unwrap();
    let err = alex.space.apply_changes(&forge(&sam)).unwrap_err();
    assert!(err.to_string().contains("not enrolled before it"), "{err}");
    assert_eq!(alex.space.heads().unwrap(), before);
    assert!(alex.space.follow_through(Some(&id)).unwrap().is_empty());
    // Alex's device goes on syncing with Sam's.
    alex.space
        .log_follow_through(&id, LogKind::Kept, "", t(4))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(sam.space.heads().unwrap(), alex.space.heads().unwrap());
    // Once Sam enrols the key as a device of his, its changes are taken.
    sam.space
        .add_device(&stranger.device_id(), "Sam's tablet", t(5))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    assert!(alex.space.apply_changes(&forge(&sam)).unwrap());
}

#[test]
fn a_joining_device_refuses_a_space_holding_what_every_replica_refuses() {
    let (mut alex, mut sam) = couple();
    sync(&mut alex.space, &mut sam.space);
    let sam_partner = sam.space.info().unwrap().me;
    // Alex's modified client rewrites Sam's name in its own copy (Sam's replica would refuse
    // it), then hands that copy to a new device.
    alex.space
        .raw_change(|tx| tx.put(&["partners", sam_partner.as_str()], "name", "x"))
        .unwrap();
    let dir = TempDir::new().unwrap();
    let tablet = DeviceIdentity::load_or_create(dir.path()).unwrap();
    alex.space
        .add_device(&tablet.device_id(), "tablet", t(4))
        .unwrap();
    let export = alex.space.export_document().unwrap();
    let Err(err) = Space::join(dir.path(), &export) else {
        panic!("a space breaking the write rights was taken");
    };
    assert!(err.to_string().contains("breaks the write rights"), "{err}");
    assert!(Space::open(dir.path()).is_err(), "nothing was set up");
    // A change in Sam's name with no checkpoint of Sam's is refused the same way.
    let (mut alex, sam) = couple();
    let sam_actor = sam.space.identity().actor_bytes();
    let forged = alex
        .space
        .doc()
        .forge_change(&sam_actor, |tx| {
            tx.insert_record(&["marks"], &bound("1", &sam_actor), vec![])
        })
        .unwrap();
    alex.space
        .doc_mut()
        .apply_stored_changes(&[forged])
        .unwrap();
    let dir = TempDir::new().unwrap();
    let tablet = DeviceIdentity::load_or_create(dir.path()).unwrap();
    alex.space
        .add_device(&tablet.device_id(), "tablet", t(4))
        .unwrap();
    let Err(err) = Space::join(dir.path(), &alex.space.export_document().unwrap()) else {
        panic!("a space with an unsigned change was taken");
    };
    assert!(err.to_string().contains("no checkpoint"), "{err}");
}

/// The follow-through entries of `id` as `space` counts them, as (text, partner) pairs.
fn entries(space: &mut Space, id: &AgreementId) -> Vec<String> {
    let mut texts: Vec<String> = space
        .follow_through(Some(id))
        .unwrap()
        .into_iter()
        .map(|e| e.text)
        .collect();
    texts.sort();
    texts
}

#[test]
fn validity_in_time_follows_the_change_graph_not_a_stated_order() {
    let (mut alex, mut sam) = couple();
    let mut tablet = enrol_own_device(&mut alex.space);
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Lunch text"), t(3))
        .unwrap();
    sync(&mut alex.space, &mut tablet.space);
    tablet
        .space
        .log_follow_through(&id, LogKind::Kept, "before", t(4))
        .unwrap();
    sync(&mut alex.space, &mut tablet.space);
    sync(&mut alex.space, &mut sam.space);
    let tablet_id = tablet.space.info().unwrap().my_device;
    let alex_phone = alex.space.info().unwrap().my_device;
    // Sam's modified client removes Alex's phone (only Alex removes Alex's devices): ignored.
    let phone = alex_phone.0.clone();
    let sam_hex = sam.space.info().unwrap().my_device.0;
    assert!(hostile_change(&mut alex, &mut sam, move |tx| {
        tx.insert_record(
            &["devices", &phone, "removals"],
            &format!("1{sam_hex}"),
            vec![("seq", Val::Int(1)), ("at", Val::Int(0))],
        )
    })
    .unwrap());
    // Meanwhile the tablet, offline, writes an entry concurrent with its removal, and Alex's
    // phone removes it with a removal claiming the first order of all (backdated).
    tablet
        .space
        .log_follow_through(&id, LogKind::Missed, "concurrent", t(5))
        .unwrap();
    let tablet_hex = tablet_id.0.clone();
    let me = alex.space.identity().device_id();
    alex.space
        .raw_change(|tx| {
            tx.insert_record(
                &["devices", &tablet_hex, "removals"],
                &crate::ids::order_key(&me, 1_000_000),
                vec![
                    ("by", Val::Str(me.0.clone())),
                    ("seq", Val::Int(1)),
                    ("at", Val::Int(0)),
                ],
            )
        })
        .unwrap();
    // The removed tablet's key writes on, claiming an early order.
    tablet
        .space
        .raw_change(|tx| {
            tx.insert_record(
                &["log"],
                &format!("{}/{}", id.0, crate::ids::order_key(&tablet_id, 2)),
                vec![
                    ("kind", Val::Str("missed".into())),
                    ("text", Val::Str("backdated".into())),
                    ("seq", Val::Int(2)),
                ],
            )
        })
        .unwrap();
    sync(&mut alex.space, &mut tablet.space);
    sync(&mut alex.space, &mut sam.space);
    for space in [&mut alex.space, &mut sam.space, &mut tablet.space] {
        // What the removal had seen still counts; nothing outside it does.
        assert_eq!(entries(space, &id), vec!["before".to_owned()]);
        let info = space.info();
        if let Ok(info) = info {
            let phone = info.devices.iter().find(|d| d.id == alex_phone).unwrap();
            assert!(!phone.removed, "Sam cannot remove Alex's phone");
        }
    }
    assert_eq!(alex.space.heads().unwrap(), sam.space.heads().unwrap());
}

#[test]
fn ending_the_pairing_keeps_what_was_written_before_and_nothing_after() {
    let (mut alex, mut sam) = couple();
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Call if late"), t(3))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    sam.space.accept(&id, t(4)).unwrap();
    sam.space
        .log_follow_through(&id, LogKind::Kept, "before", t(4))
        .unwrap();
    let rule = crate::test_support::daily(9, "UTC");
    sam.space
        .add_commitment_rule(&id, rule, None, t(4))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(
        alex.space.agreement(&id).unwrap().summary.status,
        Status::Active
    );
    let sam_partner = sam.space.info().unwrap().me;
    // Sam, offline, writes while Alex ends the pairing.
    sam.space
        .log_follow_through(&id, LogKind::Missed, "concurrent", t(5))
        .unwrap();
    alex.space.end_pairing(t(5)).unwrap();
    let now = chrono::Utc.with_ymd_and_hms(2027, 1, 2, 0, 0, 0).unwrap();
    let horizon = chrono::Duration::days(3);
    assert!(
        alex.space
            .upcoming_reminders(now, None, 10, horizon)
            .unwrap()
            .is_empty(),
        "commitment reminders stop"
    );
    sync(&mut alex.space, &mut sam.space);
    for space in [&mut alex.space, &mut sam.space] {
        // Sam's acceptance and entry from before still count; the concurrent one does not.
        assert_eq!(space.agreement(&id).unwrap().summary.status, Status::Active);
        assert_eq!(entries(space, &id), vec!["before".to_owned()]);
        let info = space.info().unwrap();
        let ending = info.ending.unwrap();
        assert_eq!(ending.partner, sam_partner);
    }
    // Sam's devices can no longer write or sync with Alex's.
    assert!(matches!(
        sam.space.accept(&id, t(6)).unwrap_err(),
        Error::NotAMember(_)
    ));
    let sam_device = sam.space.info().unwrap().my_device;
    assert!(!alex.space.is_authorized_peer(&sam_device));
}

#[test]
fn ready_is_final_in_causal_order_even_against_a_backdated_recommit() {
    let (mut alex, mut sam) = couple();
    alex.space
        .write_position("topic", "Alex's words", t(3))
        .unwrap();
    sam.space
        .write_position("topic", "Sam's words", t(3))
        .unwrap();
    sam.space.mark_position_ready("topic", t(4)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    // Alex is ready too: Alex's phone publishes its key in answer to Sam's "ready".
    alex.space.mark_position_ready("topic", t(5)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    let text_of = |space: &mut Space, partner: &PartnerId| {
        space
            .positions(Some("topic"))
            .unwrap()
            .into_iter()
            .find(|p| &p.partner == partner)
            .and_then(|p| p.text)
    };
    let alex_partner = alex.space.info().unwrap().me;
    let sam_partner = sam.space.info().unwrap().me;
    assert_eq!(
        text_of(&mut sam.space, &alex_partner).as_deref(),
        Some("Alex's words")
    );
    // Sam's modified client, having read Alex's words, commits to new ones with a "ready"
    // claiming the earliest order, and publishes their key.
    let info = sam.space.info().unwrap();
    let ring = sam.space.keyring(None);
    let key_id = ring.current_id().unwrap();
    let space_id = info.id.0.clone();
    let id = crate::ids::order_key(&info.my_device, 500);
    let key = ring.position_key(&key_id, &space_id, "topic", &id).unwrap();
    let (nonce, ciphertext) = crate::position::seal(
        &key,
        &space_id,
        "topic",
        &id,
        &info.me,
        "Better words, after reading Alex's",
    )
    .unwrap();
    let digest = crate::position::digest(&ciphertext);
    let alex_ready = alex
        .space
        .position_records()
        .into_iter()
        .find(|p| p.partner == alex_partner)
        .and_then(|p| p.ready_id)
        .unwrap();
    let me = info.my_device.clone();
    sam.space
        .raw_change(|tx| {
            let base = |kind: &str| {
                vec![
                    ("kind", Val::Str(kind.into())),
                    ("topic", Val::Str("topic".into())),
                    ("seq", Val::Int(1)),
                ]
            };
            let mut text = base("text");
            text.push(("key_id", Val::Str(key_id.clone())));
            text.push(("nonce", Val::Bytes(nonce.clone())));
            text.push(("ciphertext", Val::Bytes(ciphertext.clone())));
            tx.insert_record(&["positions"], &id, text)?;
            let mut ready = base("ready");
            ready.push(("position", Val::Str(id.clone())));
            ready.push(("digest", Val::Str(digest.clone())));
            tx.insert_record(&["positions"], &crate::ids::order_key(&me, 501), ready)?;
            let mut published = base("key");
            published.push(("position", Val::Str(id.clone())));
            published.push(("answers", Val::Str(alex_ready.clone())));
            published.push(("key", Val::Bytes(key.to_vec())));
            tx.insert_record(&["positions"], &crate::ids::order_key(&me, 502), published)
        })
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    // Every replica still holds Sam to the words committed before: the re-commit had seen
    // the first "ready", so it never counts.
    for space in [&mut alex.space, &mut sam.space] {
        assert_eq!(text_of(space, &sam_partner).as_deref(), Some("Sam's words"));
        assert_eq!(
            text_of(space, &alex_partner).as_deref(),
            Some("Alex's words")
        );
    }
}

#[test]
fn a_restored_copy_of_a_device_is_detected_and_stops_instead_of_freezing_sync() {
    let (mut alex, _sam) = couple();
    let mut tablet = enrol_own_device(&mut alex.space);
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Backups"), t(3))
        .unwrap();
    sync(&mut alex.space, &mut tablet.space);
    // The tablet's directory is restored on a second tablet (same key); both write.
    let copy_dir = TempDir::new().unwrap();
    let tablet_dir = tablet.space.dir().to_path_buf();
    let Dev { _dir, mut space } = tablet;
    space.close();
    drop(space);
    for entry in std::fs::read_dir(&tablet_dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() && entry.file_name() != "accord.lock" {
            std::fs::copy(entry.path(), copy_dir.path().join(entry.file_name())).unwrap();
        }
    }
    let mut tablet = Dev {
        space: Space::open(&tablet_dir).unwrap(),
        _dir,
    };
    let mut copy = Space::open(copy_dir.path()).unwrap();
    tablet
        .space
        .log_follow_through(&id, LogKind::Kept, "from the tablet", t(4))
        .unwrap();
    copy.log_follow_through(&id, LogKind::Missed, "from the copy", t(4))
        .unwrap();
    sync(&mut alex.space, &mut tablet.space);
    // The copy receives the tablet's change in its own name, signed with its own key: it stops
    // writing and syncing (durably) and says what to do, and sync elsewhere goes on.
    let items = alex.space.changes_since(&copy.heads().unwrap()).unwrap();
    let err = copy.apply_changes(&items).unwrap_err();
    assert!(matches!(err, Error::DeviceKeyInUse), "{err}");
    assert!(err.to_string().contains("pair this device again"), "{err}");
    for _ in 0..2 {
        assert!(matches!(
            copy.log_follow_through(&id, LogKind::Kept, "again", t(5))
                .unwrap_err(),
            Error::DeviceKeyInUse
        ));
        assert!(copy
            .info()
            .unwrap()
            .read_only
            .unwrap()
            .contains("another copy"));
        assert_eq!(copy.list(&ListFilter::default()).unwrap().len(), 1);
        let dir = copy.dir().to_path_buf();
        copy.close();
        drop(copy);
        copy = Space::open(&dir).unwrap();
    }
    alex.space
        .log_follow_through(&id, LogKind::Kept, "Alex goes on", t(6))
        .unwrap();
    sync(&mut alex.space, &mut tablet.space);
    assert_eq!(tablet.space.heads().unwrap(), alex.space.heads().unwrap());
    // A change in a device's name that its key did not sign is a forgery, not a copy.
    let forged = alex
        .space
        .doc()
        .forge_change(&tablet.space.identity().actor_bytes(), |tx| {
            tx.insert_record(
                &["marks"],
                &bound("9", &tablet.space.identity().actor_bytes()),
                vec![],
            )
        })
        .unwrap();
    let err = tablet.space.apply_changes(&[forged]).unwrap_err();
    assert!(matches!(err, Error::InvalidRemoteData(_)), "{err}");
    assert!(tablet.space.info().unwrap().read_only.is_none());
}

#[test]
fn changes_that_arrive_before_the_ones_they_follow_keep_their_checkpoint() {
    let (mut alex, mut sam) = couple();
    let id = sam
        .space
        .create_agreement(NewAgreement::titled("Out of order"), t(3))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    let heads = alex.space.heads().unwrap();
    for minute in 4..7 {
        sam.space
            .log_follow_through(&id, LogKind::Kept, "", t(minute))
            .unwrap();
    }
    let items = sam.space.changes_since(&heads).unwrap();
    let (changes, checkpoints): (Vec<_>, Vec<_>) =
        items.into_iter().partition(|i| !i.starts_with(b"ACKP"));
    assert_eq!(changes.len(), 3);
    // The newest change comes first, with Sam's checkpoint of it: it waits for the others ...
    let mut first = vec![changes[2].clone()];
    first.extend(checkpoints);
    assert!(!alex.space.apply_changes(&first).unwrap());
    // ... which come later without a checkpoint of their own (it was sent already).
    assert!(alex.space.apply_changes(&changes[..2]).unwrap());
    assert_eq!(alex.space.follow_through(Some(&id)).unwrap().len(), 3);
    assert_eq!(alex.space.heads().unwrap(), sam.space.heads().unwrap());
}

#[test]
fn a_backdated_record_takes_its_place_in_causal_order_not_the_one_it_claims() {
    let (mut alex, mut sam) = couple();
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Dishes the same evening"), t(3))
        .unwrap();
    alex.space.accept(&id, t(3)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    sam.space.accept(&id, t(4)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    let day = chrono::NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
    alex.space.record_checkin(day, "", t(5)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    // After the check-in, Sam's modified client logs Sam's own miss claiming the earliest
    // order, so that it would seem to come before the check-in and drop off its agenda.
    let device = sam.space.info().unwrap().my_device;
    let key = format!("{}/{}", id.0, crate::ids::order_key(&device, 1));
    let backdated = sam.space.forged(|tx| {
        tx.insert_record(
            &["log"],
            &key,
            vec![
                ("kind", Val::Str("missed".into())),
                ("text", Val::Str("left them overnight".into())),
                ("seq", Val::Int(1)),
            ],
        )
    });
    alex.space.apply_changes(&backdated).unwrap();
    let agenda = alex.space.agenda(t(60 * 24)).unwrap();
    let missed: Vec<&str> = agenda
        .missed_since_last_checkin
        .iter()
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(
        missed,
        ["left them overnight"],
        "it came after the check-in"
    );
    let log = alex.space.follow_through(Some(&id)).unwrap();
    let checkin = alex.space.checkins().unwrap().pop().unwrap();
    assert!(log[0].order > checkin.order);
}
