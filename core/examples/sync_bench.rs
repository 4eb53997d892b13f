//! Sync benchmark on loopback, relays off. Prints, for each workload, the median wall time,
//! application bytes both ways (sync/pairing frames only; QUIC handshakes not counted),
//! frames each way, and the process's peak memory.
//!
//! W1  a fresh device joins a document of 200 agreements built by ~2,200 changes;
//! W2  from that shared state each device makes 100 offline changes (10 on the same
//!     agreements as the other), then they meet;
//! W3a an already-connected pair: one small change on one side until the other applied it;
//! W3b the same after a reconnect with persisted sync state.
//!
//! Run: `cargo run --release -p accord-core --example sync_bench [RUNS]`

use accord_core::*;
use chrono::Utc;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn copy_dir(from: &Path, to: &Path) {
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

fn base() -> PathBuf {
    let shm = Path::new("/dev/shm");
    let root = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    root.join(format!("accord-sync-bench-{}", std::process::id()))
}

/// Alex's and Sam's directories, in sync, with 200 agreements built by ~2,200 changes.
fn fixture(root: &Path) -> (PathBuf, PathBuf) {
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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.to_string())
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

async fn wait_remote(node: &Node, events: &mut tokio::sync::broadcast::Receiver<NodeEvent>) {
    let _ = node;
    loop {
        if let Ok(NodeEvent::DocumentChanged { remote: true }) = events.recv().await {
            return;
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let root = base();
    let _ = std::fs::remove_dir_all(&root);
    let started = Instant::now();
    let (alex_dir, sam_dir) = fixture(&root.join("fixture"));
    let changes = {
        let mut s = Space::open(&alex_dir).unwrap();
        (s.heads().unwrap().len(), s.export_document().unwrap().len())
    };
    println!(
        "fixture: 200 agreements, document {} bytes compressed, built in {:.1} s",
        changes.1,
        started.elapsed().as_secs_f64()
    );
    let config = NetworkConfig::loopback;

    // W1: a fresh device joins.
    let (mut times, mut bytes) = (Vec::new(), 0);
    for run in 0..runs {
        let dir = root.join(format!("w1-{run}"));
        copy_dir(&alex_dir, &dir.join("alex"));
        let alex = Node::start(&dir.join("alex"), config()).await.unwrap();
        alex.space(|s| s.info().unwrap());
        let ticket = alex
            .invite(InviteRole::MyDevice, chrono::Duration::minutes(5))
            .unwrap()
            .to_text();
        let t = Instant::now();
        let tablet = Node::join(&dir.join("tablet"), &ticket, "", "UTC", "tablet", config())
            .await
            .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        bytes = tablet.join_bytes_received().unwrap_or(0) + ticket.len() as u64 + 100;
        tablet.shutdown().await;
        alex.shutdown().await;
    }
    println!("W1 fresh join:          median {:7.2} ms   bytes ~{} (answer + request)   1 round trip after the QUIC handshake", median(times), bytes);

    // W2: 100 offline changes each (10 on the same agreements), then they meet.
    let (mut times, mut traffic) = (Vec::new(), (0, 0, 0, 0));
    for run in 0..runs {
        let dir = root.join(format!("w2-{run}"));
        copy_dir(&alex_dir, &dir.join("alex"));
        copy_dir(&sam_dir, &dir.join("sam"));
        for (who, offset) in [("alex", 0usize), ("sam", 100usize)] {
            let mut s = Space::open(&dir.join(who)).unwrap();
            let ids: Vec<AgreementId> = s
                .list(&ListFilter::default())
                .unwrap()
                .into_iter()
                .map(|a| a.id)
                .collect();
            for k in 0..100 {
                // The first 10 touch the same agreements on both sides.
                let id = if k < 10 {
                    &ids[k]
                } else {
                    &ids[(offset + k) % ids.len()]
                };
                s.log_follow_through(id, LogKind::Kept, "offline", Utc::now())
                    .unwrap();
            }
        }
        let alex = Node::start(&dir.join("alex"), config()).await.unwrap();
        let sam = Node::start(&dir.join("sam"), config()).await.unwrap();
        alex.space(|s| s.info().unwrap());
        sam.space(|s| s.info().unwrap());
        sam.remember_peer_addr(&alex.addr());
        let t = Instant::now();
        let report = sam.sync_now(Duration::from_secs(30)).await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(report.converged.len(), 1, "{report:?}");
        traffic = sam.traffic();
        sam.shutdown().await;
        alex.shutdown().await;
    }
    println!(
        "W2 both offline, meet:  median {:7.2} ms   bytes {} sent + {} received   frames {} sent / {} received",
        median(times), traffic.0, traffic.1, traffic.2, traffic.3
    );

    // W3a: connected pair, one small change.
    let dir = root.join("w3");
    copy_dir(&alex_dir, &dir.join("alex"));
    copy_dir(&sam_dir, &dir.join("sam"));
    let alex = Node::start(&dir.join("alex"), config()).await.unwrap();
    let sam = Node::start(&dir.join("sam"), config()).await.unwrap();
    sam.remember_peer_addr(&alex.addr());
    sam.sync_now(Duration::from_secs(30)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = alex.space(|s| s.list(&ListFilter::default()).unwrap()[0].id.clone());
    let mut events = sam.subscribe();
    let (mut times, mut per_change) = (Vec::new(), Vec::new());
    for _ in 0..runs * 5 {
        let before = alex.traffic();
        let t = Instant::now();
        alex.space(|s| {
            s.log_follow_through(&id, LogKind::Kept, "", Utc::now())
                .unwrap()
        });
        tokio::time::timeout(Duration::from_secs(10), wait_remote(&sam, &mut events))
            .await
            .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let after = alex.traffic();
        per_change.push((after.0 - before.0, after.1 - before.1));
    }
    let (s0, r0) = per_change[per_change.len() / 2];
    println!("W3a live change:        median {:7.2} ms   bytes {} sent + {} received (incl. the acknowledgement)", median(times), s0, r0);
    sam.shutdown().await;

    // W3b: reconnect with persisted sync state; one change made while apart.
    let mut times = Vec::new();
    let mut last = (0, 0, 0, 0);
    for _ in 0..runs {
        alex.space(|s| {
            s.log_follow_through(&id, LogKind::Note, "while apart", Utc::now())
                .unwrap()
        });
        let sam = Node::start(&dir.join("sam"), config()).await.unwrap();
        sam.space(|s| s.info().unwrap());
        sam.remember_peer_addr(&alex.addr());
        let t = Instant::now();
        let report = sam.sync_now(Duration::from_secs(30)).await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(report.converged.len(), 1);
        last = sam.traffic();
        sam.shutdown().await;
    }
    println!(
        "W3b after reconnect:    median {:7.2} ms (incl. QUIC handshake)   bytes {} sent + {} received   frames {} sent / {} received",
        median(times), last.0, last.1, last.2, last.3
    );
    alex.shutdown().await;
    println!(
        "peak memory of this process (both devices): {} kB",
        peak_rss_kb()
    );
    let _ = std::fs::remove_dir_all(&root);
}
