//! The sync protocol at the space level (no network): Automerge sync messages with persisted
//! per-peer state, and the reconnect shortcut.
mod common;

use accord_core::*;
use common::*;

/// Runs the exchange until both sides are quiet; returns (messages, bytes).
fn exchange(
    a: &mut Space,
    sa: &mut PeerSyncState,
    b: &mut Space,
    sb: &mut PeerSyncState,
) -> (usize, usize) {
    let (mut messages, mut bytes) = (0, 0);
    loop {
        let mut quiet = true;
        if let Some(m) = a.generate_sync_message(sa).unwrap() {
            messages += 1;
            bytes += m.len();
            b.receive_sync_message(sb, &m).unwrap();
            quiet = false;
        }
        if let Some(m) = b.generate_sync_message(sb).unwrap() {
            messages += 1;
            bytes += m.len();
            a.receive_sync_message(sa, &m).unwrap();
            quiet = false;
        }
        if quiet {
            return (messages, bytes);
        }
    }
}

#[test]
fn offline_edits_converge_through_sync_messages_and_state_survives_restart() {
    let (mut alex, mut sam) = couple();
    let alex_dev = alex.space.info().unwrap().my_device;
    let sam_dev = sam.space.info().unwrap().my_device;
    assert!(alex.space.is_authorized_peer(&sam_dev));
    assert!(!alex.space.is_authorized_peer(&alex_dev));
    let mut sa = alex.space.load_sync_state(&sam_dev);
    let mut sb = sam.space.load_sync_state(&alex_dev);
    let id = alex
        .space
        .create_agreement(new_agreement("One"), t(1))
        .unwrap();
    sam.space
        .create_agreement(new_agreement("Two"), t(1))
        .unwrap();
    exchange(&mut alex.space, &mut sa, &mut sam.space, &mut sb);
    assert_eq!(alex.space.heads().unwrap(), sam.space.heads().unwrap());
    assert!(alex.space.peer_has_all_my_changes(&sa));
    assert!(sam.space.peer_has_all_my_changes(&sb));
    alex.space.save_sync_state(&sa).unwrap();
    sam.space.save_sync_state(&sb).unwrap();

    // Alex edits offline and restarts; the peer lacks the change.
    alex.space
        .log_follow_through(&id, LogKind::Kept, "", t(2))
        .unwrap();
    let path = alex.path();
    drop(std::mem::replace(&mut alex.space, founder().space));
    let mut reopened = Space::open(&path).unwrap();
    let mut state = reopened.load_sync_state(&sam_dev);
    assert!(!reopened.peer_has_all_my_changes(&state));
    // The reconnect shortcut: what the peer lacks, without waiting for a handshake.
    let changes = reopened.changes_since_last_sync(&mut state).unwrap();
    // One change, then the checkpoint of the device that wrote it.
    assert_eq!(changes.len(), 2);
    assert!(changes[1].starts_with(b"ACKP"));
    let change_bytes = changes[0].len();
    // The sync message that follows does not send the change again.
    let message = reopened.generate_sync_message(&mut state).unwrap().unwrap();
    assert!(
        message.len() < change_bytes,
        "{} >= {}",
        message.len(),
        change_bytes
    );
    sam.space.apply_changes(&changes).unwrap();
    assert_eq!(reopened.heads().unwrap(), sam.space.heads().unwrap());
    // The checkpoint confirmed Alex's entry on Sam's side.
    assert_eq!(sam.space.follow_through(Some(&id)).unwrap().len(), 1);
}

#[test]
fn a_malformed_sync_message_changes_nothing() {
    let (mut alex, sam) = couple();
    let sam_dev = sam.space.identity().device_id();
    let mut state = alex.space.load_sync_state(&sam_dev);
    let heads = alex.space.heads().unwrap();
    let err = alex
        .space
        .receive_sync_message(&mut state, b"\x42garbage")
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRemoteData(_)), "{err}");
    assert_eq!(alex.space.heads().unwrap(), heads);
}
