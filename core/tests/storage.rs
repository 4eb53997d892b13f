//! Durable storage: torn writes, damaged snapshots, the single-writer lock.
mod common;

use accord_core::*;
use common::*;
use std::fs;
use std::path::Path;

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "accord.lock" {
            continue;
        }
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn titles(space: &mut Space) -> Vec<String> {
    let mut t: Vec<String> = space
        .list(&ListFilter::default())
        .unwrap()
        .into_iter()
        .map(|a| a.title)
        .collect();
    t.sort();
    t
}

#[test]
fn edits_survive_reopen() {
    let mut alex = founder();
    let id = alex
        .space
        .create_agreement(new_agreement("Durable"), t(1))
        .unwrap();
    alex.space
        .log_follow_through(&id, LogKind::Kept, "yes", t(2))
        .unwrap();
    let path = alex.path();
    drop(alex.space);
    let mut space = Space::open(&path).unwrap();
    assert_eq!(titles(&mut space), ["Durable"]);
    assert_eq!(space.follow_through(Some(&id)).unwrap().len(), 1);
    assert_eq!(space.open_report().unwrap(), OpenReport::default());
}

#[test]
fn a_torn_last_frame_is_cut_at_every_offset_and_nothing_before_it_is_lost() {
    let mut alex = founder();
    alex.space
        .create_agreement(new_agreement("First"), t(1))
        .unwrap();
    let log = alex.path().join("changes.log");
    let before = fs::metadata(&log).unwrap().len();
    alex.space
        .create_agreement(new_agreement("Second"), t(2))
        .unwrap();
    let after = fs::metadata(&log).unwrap().len();
    assert!(after > before);
    let source = alex.path();
    drop(alex.space);

    for cut in before..after {
        let dir = tempfile::TempDir::new().unwrap();
        copy_dir(&source, dir.path());
        let file = fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join("changes.log"))
            .unwrap();
        file.set_len(cut).unwrap();
        drop(file);
        let mut space = Space::open(dir.path()).unwrap();
        assert_eq!(titles(&mut space), ["First"], "cut at {cut}");
        let report = space.open_report().unwrap();
        if cut > before {
            let torn = report.torn_tail.expect("torn tail reported");
            assert_eq!(torn.offset, before);
            assert_eq!(torn.bytes_cut, cut - before);
            assert!(torn.kept_in.exists());
        } else {
            assert!(report.torn_tail.is_none());
        }
        // The repaired log takes new writes that survive the next open.
        space
            .create_agreement(new_agreement("Third"), t(3))
            .unwrap();
        space.shutdown();
        let mut space = Space::open(dir.path()).unwrap();
        assert_eq!(
            titles(&mut space),
            ["First", "Third"],
            "after repair at {cut}"
        );
        assert!(space.open_report().unwrap().torn_tail.is_none());
    }
}

#[test]
fn a_flipped_byte_in_the_last_frame_is_cut() {
    let mut alex = founder();
    alex.space
        .create_agreement(new_agreement("First"), t(1))
        .unwrap();
    let log = alex.path().join("changes.log");
    let before = fs::metadata(&log).unwrap().len();
    alex.space
        .create_agreement(new_agreement("Second"), t(2))
        .unwrap();
    let after = fs::metadata(&log).unwrap().len();
    let source = alex.path();
    drop(alex.space);
    for pos in (before..after).step_by(7) {
        let dir = tempfile::TempDir::new().unwrap();
        copy_dir(&source, dir.path());
        let path = dir.path().join("changes.log");
        let mut bytes = fs::read(&path).unwrap();
        bytes[pos as usize] ^= 0x5a;
        fs::write(&path, &bytes).unwrap();
        let mut space = Space::open(dir.path()).unwrap();
        assert_eq!(titles(&mut space), ["First"], "flip at {pos}");
        assert!(space.open_report().unwrap().torn_tail.is_some());
    }
}

#[test]
fn a_damaged_snapshot_is_an_error_naming_the_file_and_is_not_overwritten() {
    let mut alex = founder();
    alex.space
        .create_agreement(new_agreement("Kept"), t(1))
        .unwrap();
    alex.space.compact().unwrap();
    let source = alex.path();
    drop(alex.space);
    let len = fs::metadata(source.join("snapshot.bin")).unwrap().len();
    for pos in (0..len).step_by((len as usize / 40).max(1)) {
        let dir = tempfile::TempDir::new().unwrap();
        copy_dir(&source, dir.path());
        let path = dir.path().join("snapshot.bin");
        let mut bytes = fs::read(&path).unwrap();
        bytes[pos as usize] ^= 0xff;
        fs::write(&path, &bytes).unwrap();
        // The header is checked on open; the checksum when the document loads (in the
        // background), so the error comes from `open` or from the first full read.
        let err = match Space::open(dir.path()) {
            Err(e) => e,
            Ok(mut space) => match space.heads() {
                Err(e) => e,
                Ok(_) => panic!("damaged snapshot refused"),
            },
        };
        assert!(matches!(err, Error::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("snapshot.bin"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), bytes, "snapshot untouched");
    }
}

#[test]
fn compaction_keeps_everything() {
    let mut alex = founder();
    for i in 0..20 {
        alex.space
            .create_agreement(new_agreement(&format!("A{i:02}")), t(i))
            .unwrap();
    }
    alex.space.compact().unwrap();
    alex.space
        .create_agreement(new_agreement("After"), t(30))
        .unwrap();
    let path = alex.path();
    drop(alex.space);
    let mut space = Space::open(&path).unwrap();
    assert_eq!(space.list(&ListFilter::default()).unwrap().len(), 21);
    space.info().unwrap();
    assert_eq!(space.list(&ListFilter::default()).unwrap().len(), 21);
}

#[test]
fn a_second_writer_gets_in_use() {
    let alex = founder();
    let err = Space::open(&alex.path())
        .err()
        .expect("second open refused");
    assert!(matches!(err, Error::InUse(_)), "{err}");
    assert!(err.to_string().contains("in use"));
    let path = alex.path();
    drop(alex.space);
    Space::open(&path).unwrap();
}

#[test]
fn opening_an_empty_directory_or_creating_twice_is_refused() {
    let dir = tempfile::TempDir::new().unwrap();
    assert!(matches!(
        Space::open(dir.path()).err().unwrap(),
        Error::NotInitialized(_)
    ));
    let alex = founder();
    let path = alex.path();
    drop(alex.space);
    let err = Space::create(
        &path,
        CreateSpace {
            partner_name: "X".into(),
            time_zone: "UTC".into(),
            device_name: String::new(),
        },
        t(0),
    )
    .err()
    .unwrap();
    assert!(matches!(err, Error::AlreadyInitialized(_)), "{err}");
    let doc = Space::open(&path).unwrap().export_document().unwrap();
    assert!(matches!(
        Space::join(&path, &doc).err().unwrap(),
        Error::AlreadyInitialized(_)
    ));
}

#[test]
fn the_cached_list_is_shown_at_open_and_matches_the_loaded_one() {
    let mut alex = founder();
    for i in 0..5 {
        alex.space
            .create_agreement(new_agreement(&format!("Cached {i}")), t(i))
            .unwrap();
    }
    let expected = alex.space.list(&ListFilter::default()).unwrap();
    let path = alex.path();
    drop(alex.space);
    assert!(path.join("view.json").exists());
    let mut space = Space::open(&path).unwrap();
    assert_eq!(space.list(&ListFilter::default()).unwrap(), expected);
    space.info().unwrap();
    assert_eq!(space.list(&ListFilter::default()).unwrap(), expected);
}

#[test]
fn a_stale_view_cache_is_not_used() {
    let mut alex = founder();
    alex.space
        .create_agreement(new_agreement("One"), t(1))
        .unwrap();
    let path = alex.path();
    drop(alex.space);
    let stale = fs::read(path.join("view.json")).unwrap();
    let mut space = Space::open(&path).unwrap();
    space.create_agreement(new_agreement("Two"), t(2)).unwrap();
    space.shutdown();
    fs::write(path.join("view.json"), stale).unwrap();
    let mut space = Space::open(&path).unwrap();
    assert_eq!(titles(&mut space), ["One", "Two"]);
    fs::write(path.join("view.json"), b"garbage").unwrap();
    space.shutdown();
    let mut space = Space::open(&path).unwrap();
    assert_eq!(titles(&mut space), ["One", "Two"]);
}

#[test]
fn garbage_changes_from_a_peer_change_nothing() {
    let (mut alex, _sam) = couple();
    alex.space
        .create_agreement(new_agreement("Safe"), t(1))
        .unwrap();
    let heads = alex.space.heads().unwrap();
    let err = alex
        .space
        .apply_changes(&[b"not a change".to_vec()])
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRemoteData(_)), "{err}");
    assert_eq!(alex.space.heads().unwrap(), heads);
    let path = alex.path();
    drop(alex.space);
    let mut space = Space::open(&path).unwrap();
    assert_eq!(titles(&mut space), ["Safe"]);
}

#[cfg(unix)]
#[test]
fn private_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let alex = founder();
    for name in ["device.key", "snapshot.bin", "changes.log"] {
        let mode = fs::metadata(alex.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{name} is {mode:o}");
    }
    let mode = fs::metadata(alex.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0);
}
