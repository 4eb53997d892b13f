//! The sync benchmarks' fixture: Alex's and Sam's directories in sync, with 200 agreements
//! built by ~2,200 changes (shared by `sync_bench` and `join_profile`).
#![allow(dead_code)]

use accord_core::*;
use chrono::Utc;
use std::path::{Path, PathBuf};

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "accord.lock" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

pub fn base() -> PathBuf {
    let shm = Path::new("/dev/shm");
    let root = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    root.join(format!("accord-sync-bench-{}", std::process::id()))
}

/// Alex's and Sam's directories, in sync, with 200 agreements built by ~2,200 changes.
pub fn fixture(root: &Path) -> (PathBuf, PathBuf) {
    let (a, s) = (root.join("alex"), root.join("sam"));
    let mut alex = Space::create(
        &a,
        CreateSpace {
            partner_name: "Alex".into(),
            time_zone: "Europe/Berlin".into(),
            device_name: "phone".into(),
        },
        Utc::now(),
    )
    .unwrap();
    let sam_id = DeviceIdentity::load_or_create(&s).unwrap().device_id();
    alex.add_partner("Sam", "Europe/Berlin", &sam_id, "phone", Utc::now())
        .unwrap();
    let mut sam = Space::join(&s, &alex.export_document().unwrap()).unwrap();
    let categories = StandardCategory::ALL;
    let mut ids = Vec::new();
    for i in 0..200 {
        let mut input = NewAgreement::titled(format!(
            "Agreement {i:03}: we keep this promise to each other, always"
        ));
        input.details = format!("{i} ").repeat(1)
            + &"Measurable wording of what we both agreed to do and when. ".repeat(5);
        input.category = Category::Standard(categories[i % categories.len()]);
        ids.push(alex.create_agreement(input, Utc::now()).unwrap());
    }
    let c = alex.changes_since(&sam.heads().unwrap()).unwrap();
    sam.apply_changes(&c).unwrap();
    for id in &ids {
        sam.accept(id, Utc::now()).unwrap();
        for k in 0..5 {
            let kind = if k % 3 == 0 {
                LogKind::Missed
            } else {
                LogKind::Kept
            };
            let space = if k % 2 == 0 { &mut alex } else { &mut sam };
            space.log_follow_through(id, kind, "", Utc::now()).unwrap();
        }
        alex.edit_agreement(
            id,
            AgreementEdit {
                strength: Some(Strength::Promise),
                ..Default::default()
            },
            Utc::now(),
        )
        .unwrap();
        let c = alex.changes_since(&sam.heads().unwrap()).unwrap();
        sam.apply_changes(&c).unwrap();
        sam.accept(id, Utc::now()).unwrap();
        alex.log_follow_through(id, LogKind::Note, "", Utc::now())
            .unwrap();
    }
    // Bring both to the same state through the sync protocol so both persist sync state.
    let (ad, sd) = (alex.identity().device_id(), sam.identity().device_id());
    let (mut sa, mut ss) = (alex.load_sync_state(&sd), sam.load_sync_state(&ad));
    loop {
        let mut quiet = true;
        if let Some(m) = alex.generate_sync_message(&mut sa).unwrap() {
            sam.receive_sync_message(&mut ss, &m).unwrap();
            quiet = false;
        }
        if let Some(m) = sam.generate_sync_message(&mut ss).unwrap() {
            alex.receive_sync_message(&mut sa, &m).unwrap();
            quiet = false;
        }
        if quiet {
            break;
        }
    }
    alex.save_sync_state(&sa).unwrap();
    sam.save_sync_state(&ss).unwrap();
    alex.compact().unwrap();
    sam.compact().unwrap();
    (a, s)
}
