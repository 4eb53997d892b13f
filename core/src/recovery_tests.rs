//! Recovery: a partner who lost every device comes back as the same partner with their
//! recovery secret, and only with it.

use crate::recovery::RecoverySecret;
use crate::test_support::sync;
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

/// Sam's device enrols the device in `dir` with the claim the joining device sends, then
/// the device joins with `secret`.
fn come_back(sam: &mut Space, secret: &RecoverySecret, dir: &TempDir) -> Result<Space> {
    let id = DeviceIdentity::load_or_create(dir.path())?.device_id();
    sam.add_recovered_device(
        &id,
        "new phone",
        &secret.public().sign,
        &secret.proof(&id),
        t(20),
    )?;
    Space::join_recovered(dir.path(), &sam.export_document()?, secret)
}

/// The error of a recovery that must fail.
fn refused(result: Result<Space>) -> Error {
    match result {
        Ok(_) => panic!("the recovery was accepted"),
        Err(e) => e,
    }
}

fn text_of(space: &mut Space, topic: &str, partner: &PartnerId) -> Option<String> {
    space
        .positions(Some(topic))
        .unwrap()
        .into_iter()
        .find(|p| &p.partner == partner)
        .and_then(|p| p.text)
}

#[test]
fn a_partner_who_lost_every_device_comes_back_as_themselves_and_old_devices_are_void() {
    let (mut alex, mut sam) = couple();
    let alex_partner = alex.space.info().unwrap().me;
    let old_phone = alex.space.info().unwrap().my_device;
    assert!(!alex.space.info().unwrap().partners[0].has_recovery);
    let secret = alex.space.set_up_recovery(t(2)).unwrap();
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Phones away at dinner"), t(3))
        .unwrap();
    alex.space.accept(&id, t(3)).unwrap();
    alex.space
        .write_position("money", "Half each", t(4))
        .unwrap();
    alex.space.mark_position_ready("money", t(5)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    let partners = sam.space.info().unwrap().partners;
    assert!(
        partners
            .iter()
            .find(|p| p.id == alex_partner)
            .unwrap()
            .has_recovery
    );

    // Alex's phone is gone. Sam's device carries the history to Alex's new phone.
    let dir = TempDir::new().unwrap();
    let mut new_phone = come_back(&mut sam.space, &secret, &dir).unwrap();
    let info = new_phone.info().unwrap();
    assert_eq!(info.me, alex_partner, "back as the same partner");
    for space in [&mut new_phone, &mut sam.space] {
        let info = space.info().unwrap();
        let old = info.devices.iter().find(|d| d.id == old_phone).unwrap();
        assert!(old.removed, "the lost phone is void");
        // What Alex wrote before still counts.
        let summary = space.agreement(&id).unwrap().summary;
        assert_eq!(summary.accepted_by, vec![alex_partner.clone()]);
    }
    // The pending position is still Alex's to read, and still revealable.
    assert_eq!(
        text_of(&mut new_phone, "money", &alex_partner).as_deref(),
        Some("Half each")
    );
    sync(&mut new_phone, &mut sam.space);
    sam.space
        .write_position("money", "By income", t(21))
        .unwrap();
    sam.space.mark_position_ready("money", t(22)).unwrap();
    sync(&mut new_phone, &mut sam.space);
    sync(&mut new_phone, &mut sam.space);
    assert_eq!(
        text_of(&mut sam.space, "money", &alex_partner).as_deref(),
        Some("Half each"),
        "Alex's new phone published the key in answer to Sam's ready"
    );

    // The lost phone (in someone's hands) writes on: none of it counts anywhere, and it
    // cannot read what Alex writes from now on.
    new_phone.write_position("chores", "I cook", t(23)).unwrap();
    sync(&mut new_phone, &mut sam.space);
    alex.space
        .log_follow_through(&id, LogKind::Missed, "forged", t(24))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    sync(&mut new_phone, &mut sam.space);
    for space in [&mut new_phone, &mut sam.space] {
        assert!(space.follow_through(Some(&id)).unwrap().is_empty());
    }
    assert_eq!(text_of(&mut alex.space, "chores", &alex_partner), None);
    assert_eq!(
        text_of(&mut new_phone, "chores", &alex_partner).as_deref(),
        Some("I cook")
    );
}

#[test]
fn a_wrong_or_replaced_recovery_secret_is_refused_and_sam_cannot_come_back_as_alex() {
    let (mut alex, mut sam) = couple();
    let alex_partner = alex.space.info().unwrap().me;
    let first = alex.space.set_up_recovery(t(2)).unwrap();
    let sams_own = sam.space.set_up_recovery(t(2)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    // A secret no one set up.
    let dir = TempDir::new().unwrap();
    let stranger = RecoverySecret::generate().unwrap();
    let err = refused(come_back(&mut sam.space, &stranger, &dir));
    assert!(matches!(err, Error::NotAllowed(_)), "{err}");
    // A typo never reaches a key.
    let mut typo = first.to_text();
    typo.replace_range(0..1, if typo.starts_with('A') { "B" } else { "A" });
    assert!(RecoverySecret::parse(&typo).is_err());
    // A proof for another device does not carry over.
    let dir = TempDir::new().unwrap();
    let id = DeviceIdentity::load_or_create(dir.path())
        .unwrap()
        .device_id();
    let other = DeviceId(iroh_base::SecretKey::generate().public().to_string());
    let err = sam
        .space
        .add_recovered_device(&id, "x", &first.public().sign, &first.proof(&other), t(3))
        .unwrap_err();
    assert!(matches!(err, Error::NotAllowed(_)), "{err}");
    // Alex replaces the secret: the first one no longer works.
    let _second = alex.space.set_up_recovery(t(4)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    let dir = TempDir::new().unwrap();
    let err = refused(come_back(&mut sam.space, &first, &dir));
    assert!(matches!(err, Error::NotAllowed(_)), "{err}");
    // Sam's own secret on Sam's invitation: refused (Sam adds devices as my-device).
    let dir = TempDir::new().unwrap();
    let err = refused(come_back(&mut sam.space, &sams_own, &dir));
    assert!(
        err.to_string().contains("your own recovery secret"),
        "{err}"
    );
    sync(&mut alex.space, &mut sam.space);
    let alex_info = alex.space.info().unwrap();
    let alex_devices: Vec<_> = alex_info
        .devices
        .iter()
        .filter(|d| d.partner == alex_partner)
        .collect();
    assert!(
        alex_devices.iter().all(|d| !d.removed),
        "Alex's devices stay"
    );
}

#[test]
fn no_one_comes_back_after_the_pairing_ended() {
    let (mut alex, mut sam) = couple();
    let secret = alex.space.set_up_recovery(t(2)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    sam.space.end_pairing(t(3)).unwrap();
    let dir = TempDir::new().unwrap();
    let err = refused(come_back(&mut sam.space, &secret, &dir));
    assert!(err.to_string().contains("ended"), "{err}");
}

#[test]
fn a_backup_restores_with_the_recovery_secret_alone_as_a_readable_copy() {
    let (mut alex, mut sam) = couple();
    let err = alex.space.export_backup().unwrap_err();
    assert!(
        err.to_string().contains("set up a recovery secret first"),
        "{err}"
    );
    let secret = alex.space.set_up_recovery(t(2)).unwrap().to_text();
    let id = alex
        .space
        .create_agreement(NewAgreement::titled("Phones away at dinner"), t(3))
        .unwrap();
    alex.space
        .write_position("money", "Half each", t(4))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    let backup = alex.space.export_backup().unwrap();
    assert!(!backup.windows(9).any(|w| w == b"Half each"));

    // Another partner's secret, a damaged file, a file that is no backup: refused, nothing made.
    let dir = TempDir::new().unwrap();
    let sams = sam.space.set_up_recovery(t(5)).unwrap().to_text();
    let err = Space::restore_backup(dir.path(), &backup, &sams)
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("does not open this backup"),
        "{err}"
    );
    let mut damaged = backup.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x40;
    assert!(Space::restore_backup(dir.path(), &damaged, &secret).is_err());
    assert!(Space::restore_backup(dir.path(), b"hello", &secret).is_err());
    assert!(!dir.path().join("snapshot.bin").exists());

    // The right secret: Alex's copy, Alex's sealed position readable, nothing writable.
    let mut restored = Space::restore_backup(dir.path(), &backup, &secret).unwrap();
    let alex_partner = alex.space.info().unwrap().me;
    let space = &mut restored;
    let info = space.info().unwrap();
    assert_eq!(info.me, alex_partner);
    assert!(info.read_only.unwrap().contains("restored"));
    assert_eq!(
        space.agreement(&id).unwrap().summary.title,
        "Phones away at dinner"
    );
    assert_eq!(
        text_of(space, "money", &alex_partner).as_deref(),
        Some("Half each")
    );
    let err = space.accept(&id, t(6)).unwrap_err();
    assert!(err.to_string().contains("restored"), "{err}");
    let mut state = restored.load_sync_state(&DeviceId("ab".repeat(32)));
    assert!(restored.changes_since_last_sync(&mut state).is_err());
    restored.shutdown();
    // Opened again from disk, it is still Alex's restored copy (the secret is not kept).
    let mut reopened = Space::open(dir.path()).unwrap();
    assert_eq!(
        text_of(&mut reopened, "money", &alex_partner).as_deref(),
        Some("Half each")
    );
    assert_eq!(reopened.list(&ListFilter::default()).unwrap().len(), 1);
    let files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
        .collect();
    assert!(files.iter().all(|f| !f.contains(&secret)));
}
