//! Sealed positions: unreadable until both partners are ready, then readable by both.
mod common;

use accord_core::*;
use common::*;
use std::fs;

const ALEX_TEXT: &str = "I expect a text when you leave work, every day";
const SAM_TEXT: &str = "I expect we keep weekday evenings phone-free";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn all_bytes(replica: &Replica) -> Vec<u8> {
    let mut out = Vec::new();
    for name in ["snapshot.bin", "changes.log"] {
        out.extend(fs::read(replica.path().join(name)).unwrap_or_default());
    }
    out
}

#[test]
fn positions_stay_sealed_until_both_are_ready_then_both_can_read() {
    let (mut alex, mut sam) = couple();
    alex.space
        .write_position("evenings", ALEX_TEXT, t(1))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    // Alex reads their own draft; Sam sees that a position exists, not its words.
    let own = alex.space.positions(Some("evenings")).unwrap();
    assert_eq!(own[0].text.as_deref(), Some(ALEX_TEXT));
    assert_eq!(own[0].state, PositionState::Draft);
    let seen = sam.space.positions(Some("evenings")).unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].text, None);
    // The plaintext never enters the shared document, nor any stored file.
    let doc = sam.space.export_document().unwrap();
    assert!(!contains(&doc, ALEX_TEXT));
    assert!(!contains(&all_bytes(&sam), ALEX_TEXT));
    assert!(!contains(&all_bytes(&alex), ALEX_TEXT));

    alex.space.mark_position_ready("evenings", t(2)).unwrap();
    let err = alex
        .space
        .write_position("evenings", "changed my mind", t(3))
        .unwrap_err();
    assert!(matches!(err, Error::NotAllowed(_)), "{err}");
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(
        sam.space.positions(Some("evenings")).unwrap()[0].state,
        PositionState::Ready
    );
    assert_eq!(sam.space.positions(Some("evenings")).unwrap()[0].text, None);

    sam.space
        .write_position("evenings", SAM_TEXT, t(4))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    assert!(alex
        .space
        .positions(Some("evenings"))
        .unwrap()
        .iter()
        .all(|p| p.partner == alex.space.info().unwrap().me || p.text.is_none()));
    assert!(!contains(&alex.space.export_document().unwrap(), SAM_TEXT));

    sam.space.mark_position_ready("evenings", t(5)).unwrap();
    // Sam's device published Sam's key when it saw both ready; Alex's device publishes
    // Alex's key when the sync brings Sam's readiness.
    sync(&mut alex.space, &mut sam.space);
    sync(&mut alex.space, &mut sam.space);
    for space in [&mut alex.space, &mut sam.space] {
        let mut texts: Vec<String> = space
            .positions(Some("evenings"))
            .unwrap()
            .into_iter()
            .map(|p| {
                assert_eq!(p.state, PositionState::Revealed);
                p.text.unwrap()
            })
            .collect();
        texts.sort();
        assert_eq!(texts, [ALEX_TEXT, SAM_TEXT]);
    }
}

#[test]
fn a_partners_devices_share_the_keyring_and_a_removed_one_reads_nothing_written_after() {
    let (mut alex, mut sam) = couple();
    alex.space.write_position("money", ALEX_TEXT, t(1)).unwrap();
    // A tablet enrolled later finds Alex's keyring resealed to it in the document.
    let dir = tempfile::TempDir::new().unwrap();
    let tablet_id = DeviceIdentity::load_or_create(dir.path())
        .unwrap()
        .device_id();
    alex.space.add_device(&tablet_id, "tablet", t(2)).unwrap();
    let doc = alex.space.export_document().unwrap();
    let mut tablet = Space::join(dir.path(), &doc).unwrap();
    assert_eq!(
        tablet.positions(Some("money")).unwrap()[0].text.as_deref(),
        Some(ALEX_TEXT)
    );
    // What the tablet writes, Alex's phone reads.
    tablet.write_position("chores", "I cook", t(3)).unwrap();
    sync(&mut alex.space, &mut tablet);
    let chores = |space: &mut Space| space.positions(Some("chores")).unwrap()[0].text.clone();
    assert_eq!(chores(&mut alex.space).as_deref(), Some("I cook"));
    // Sam's device is never a recipient of Alex's keyring.
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(sam.space.positions(Some("money")).unwrap()[0].text, None);
    assert_eq!(chores(&mut sam.space), None);
    // The tablet is lost and removed: Alex's keyring rotates, so a position written after
    // stays sealed to the tablet's key (it has its copy and keeps syncing with no one).
    alex.space.remove_device(&tablet_id, t(4)).unwrap();
    alex.space
        .write_position("holidays", "The sea", t(5))
        .unwrap();
    let heads = tablet.heads().unwrap();
    let changes = alex.space.changes_since(&heads).unwrap();
    tablet.apply_changes(&changes).unwrap();
    let holidays = tablet.positions(Some("holidays")).unwrap();
    assert_eq!(holidays.len(), 1);
    assert_eq!(
        holidays[0].text, None,
        "a removed device read a later position"
    );
    // Earlier ones it had, it still has (nothing can take back what it already read).
    assert_eq!(
        tablet.positions(Some("money")).unwrap()[0].text.as_deref(),
        Some(ALEX_TEXT)
    );
    assert_eq!(
        alex.space.positions(Some("holidays")).unwrap()[0]
            .text
            .as_deref(),
        Some("The sea")
    );
}

#[test]
fn marking_ready_needs_a_position_and_is_idempotent() {
    let (mut alex, _sam) = couple();
    assert!(matches!(
        alex.space.mark_position_ready("nothing", t(1)).unwrap_err(),
        Error::NotFound { .. }
    ));
    alex.space.write_position("chores", "first", t(2)).unwrap();
    alex.space.write_position("chores", "second", t(3)).unwrap();
    alex.space.mark_position_ready("chores", t(4)).unwrap();
    alex.space.mark_position_ready("chores", t(5)).unwrap();
    let p = alex.space.positions(Some("chores")).unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].text.as_deref(), Some("second"));
    assert_eq!(p[0].state, PositionState::Ready);
    assert!(alex.space.write_position("  ", "x", t(6)).is_err());
    assert!(alex.space.write_position("t", " ", t(6)).is_err());
}
