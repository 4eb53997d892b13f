//! Times the steps of a fresh device joining (enrolment, export, join, first list) without the
//! network, on the sync benchmark's fixture.
//! Run: `cargo run --release -p accord-core --example join_profile`
#[path = "support/sync_fixture.rs"]
mod sync_fixture;

use accord_core::*;
use chrono::Utc;
use std::time::Instant;
use sync_fixture::{base, copy_dir, fixture};
fn main() {
    let root = base();
    let _ = std::fs::remove_dir_all(&root);
    let (alex_dir, _sam_dir) = fixture(&root.join("fixture"));
    for run in 0..5 {
        let dir = root.join(format!("j{run}"));
        copy_dir(&alex_dir, &dir.join("alex"));
        let t = Instant::now();
        let mut alex = Space::open(&dir.join("alex")).unwrap();
        alex.info().unwrap();
        let t_open = t.elapsed();
        let tab = dir.join("tablet");
        let id = DeviceIdentity::load_or_create(&tab).unwrap().device_id();
        let t = Instant::now();
        alex.add_device(&id, "tablet", Utc::now()).unwrap();
        let t_add = t.elapsed();
        let t = Instant::now();
        let doc = alex.export_document().unwrap();
        let t_export = t.elapsed();
        let t = Instant::now();
        let mut s = Space::join(&tab, &doc).unwrap();
        let t_join = t.elapsed();
        let t = Instant::now();
        s.list(&ListFilter::default()).unwrap();
        let t_list = t.elapsed();
        println!(
            "open {:?} add_device {:?} export {:?} ({} B) join {:?} list {:?}",
            t_open,
            t_add,
            t_export,
            doc.len(),
            t_join,
            t_list
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}
