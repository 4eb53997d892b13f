//! Sync benchmark on loopback, relays off. Prints, for each workload, the median wall time,
//! application bytes both ways (sync/pairing frames only), frames each way, apart from them
//! the UDP bytes on the wire and the QUIC handshake, and the peak memory of the process that ran it: the parent builds the
//! fixture, then each workload runs in a fresh child process of its own.
//!
//! W1  a fresh device joins a document of 200 agreements built by ~2,200 changes;
//! W2  from that shared state each device makes 100 offline changes (10 on the same
//!     agreements as the other), then they meet;
//! W3a an already-connected pair: one small change on one side until the other applied it;
//! W3b the same after a reconnect with persisted sync state.
//!
//! Run: `cargo run --release -p accord-core --example sync_bench [RUNS]`

#[path = "support/sync_fixture.rs"]
mod sync_fixture;

use accord_core::*;
use chrono::Utc;
use std::path::Path;
use std::time::{Duration, Instant};
use sync_fixture::{base, copy_dir, fixture};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn peak_rss_kb() -> u64 {
    status_kb("VmHWM")
}

/// A field of `/proc/self/status` in kB (0 where unavailable).
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .map(|l| l.to_string())
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Resident memory mapped from files now, in kB: this program's own file (code and read-only
/// data) and every other file (shared libraries), from `/proc/self/smaps`.
fn file_backed_kb() -> (u64, u64) {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return (0, 0);
    };
    let (mut own, mut others, mut current) = (0, 0, None::<bool>);
    for line in smaps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() >= 5 && fields[0].contains('-') && !fields[0].ends_with(':') {
            // A mapping's header: range, perms, offset, device, inode[, path].
            current = fields
                .get(5)
                .filter(|path| path.starts_with('/'))
                .map(|path| *path == exe);
        } else if fields.first() == Some(&"Rss:") {
            let kb: u64 = fields.get(1).and_then(|v| v.parse().ok()).unwrap_or(0);
            match current {
                Some(true) => own += kb,
                Some(false) => others += kb,
                None => {}
            }
        }
    }
    (own, others)
}

/// The process's peak resident memory, what of it is mapped from files, and the sampled peak
/// of its anonymous memory.
fn memory_report(anon_peak_kb: u64) -> String {
    let (own, libraries) = file_backed_kb();
    format!(
        "{} kB resident at its peak; mapped from files now {} kB ({own} kB this program's code \
         and read-only data, {libraries} kB shared libraries); anonymous memory (heap, stacks) \
         peaks at {anon_peak_kb} kB (sampled every ms)",
        peak_rss_kb(),
        status_kb("RssFile"),
    )
}

/// Samples the process's anonymous resident memory (heap and stacks, not the program's code
/// mapped from its file) every millisecond and keeps the highest value.
struct AnonPeak {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: std::thread::JoinHandle<u64>,
}

impl AnonPeak {
    fn start() -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(status_kb("RssAnon"));
                std::thread::sleep(Duration::from_millis(1));
            }
            peak.max(status_kb("RssAnon"))
        });
        AnonPeak { stop, handle }
    }

    fn finish(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.handle.join().unwrap_or(0)
    }
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
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--pair") {
        return pair_memory(Path::new(&args[2]), Path::new(&args[3])).await;
    }
    if args.get(1).map(String::as_str) == Some("--workload") && args.len() == 5 {
        let root = Path::new(&args[3]);
        let runs: usize = args[4].parse().expect("runs");
        let anon = AnonPeak::start();
        match args[2].as_str() {
            "w1" => w1_join(root, runs).await,
            "w2" => w2_meet(root, runs).await,
            "w3a" => w3a_live(root, runs).await,
            "w3b" => w3b_reconnect(root, runs).await,
            other => panic!("unknown workload {other}"),
        }
        println!(
            "    peak memory of a fresh process running it {}: {}",
            if runs == 1 {
                "once".to_owned()
            } else {
                format!("{runs} times")
            },
            memory_report(anon.finish())
        );
        return;
    }
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(7);
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
    // Each workload runs `runs` times in one fresh process (the figures), then once in another
    // (its peak memory; repeated runs in one process add what the allocator keeps).
    for workload in ["w1", "w2", "w3a", "w3b"] {
        for (repeat, timing) in [(runs, true), (1, false)] {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--workload", workload])
                .arg(&root)
                .arg(repeat.to_string())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "workload {workload} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout);
            for line in text.lines() {
                if timing != line.starts_with("    peak memory") {
                    println!("{line}");
                }
            }
        }
    }
    // A pair on its own: a fresh process opens both devices (100 offline changes each, as
    // in W2) and syncs them once; it reports its own peak.
    let dir = root.join("pair");
    copy_dir(&alex_dir, &dir.join("alex"));
    copy_dir(&sam_dir, &dir.join("sam"));
    offline_changes(&dir);
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--pair"])
        .arg(dir.join("alex"))
        .arg(dir.join("sam"))
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    let _ = std::fs::remove_dir_all(&root);
}

/// `dir`, emptied of what an earlier process of the bench left there.
fn fresh(dir: std::path::PathBuf) -> std::path::PathBuf {
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Frames, then the wire and the handshake apart.
fn describe(t: &TrafficReport) -> String {
    format!(
        "bytes {} sent + {} received   frames {} sent / {} received\n    on the wire (UDP \
         payload): {} sent + {} received, of which the QUIC handshake {} sent + {} received",
        t.frame_bytes_sent,
        t.frame_bytes_received,
        t.frames_sent,
        t.frames_received,
        t.wire_bytes_sent,
        t.wire_bytes_received,
        t.handshake_bytes_sent,
        t.handshake_bytes_received
    )
}

/// The fixture's two devices under `root` (built by the parent).
fn fixture_dirs(root: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    (
        root.join("fixture").join("alex"),
        root.join("fixture").join("sam"),
    )
}

/// W1: a fresh device joins.
async fn w1_join(root: &Path, runs: usize) {
    let (alex_dir, _) = fixture_dirs(root);
    let config = NetworkConfig::loopback;
    let (mut times, mut bytes, mut wire) = (Vec::new(), 0, (0, 0));
    for run in 0..runs {
        let dir = fresh(root.join(format!("w1-{run}")));
        copy_dir(&alex_dir, &dir.join("alex"));
        let alex = Node::start(&dir.join("alex"), config()).await.unwrap();
        alex.space(|s| s.info().unwrap());
        let ticket = alex
            .invite(InviteRole::MyDevice, chrono::Duration::minutes(5))
            .unwrap()
            .to_text();
        // The user confirms the tablet at once (the confirmation is part of the exchange).
        let mut events = alex.subscribe();
        let confirming = async {
            loop {
                if let Ok(NodeEvent::ConfirmPairing { device, .. }) = events.recv().await {
                    alex.confirm_pairing(&device, true).unwrap();
                    return;
                }
            }
        };
        let tablet_dir = dir.join("tablet");
        let t = Instant::now();
        let (tablet, ()) = tokio::join!(
            Node::join(&tablet_dir, &ticket, "", "UTC", "tablet", config()),
            confirming
        );
        let tablet = tablet.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        bytes = tablet.join_bytes_received().unwrap_or(0) + ticket.len() as u64 + 100;
        wire = tablet.join_wire_bytes().unwrap_or_default();
        tablet.shutdown().await;
        alex.shutdown().await;
    }
    println!("W1 fresh join:          median {:7.2} ms   bytes ~{} (answer + request)   1 round trip after the QUIC handshake", median(times), bytes);
    println!(
        "    on the wire (UDP payload, QUIC handshake included): {} sent + {} received",
        wire.0, wire.1
    );
}

/// W2: 100 offline changes each (10 on the same agreements), then they meet.
async fn w2_meet(root: &Path, runs: usize) {
    let (alex_dir, sam_dir) = fixture_dirs(root);
    let config = NetworkConfig::loopback;
    let (mut times, mut traffic) = (Vec::new(), TrafficReport::default());
    for run in 0..runs {
        let dir = fresh(root.join(format!("w2-{run}")));
        copy_dir(&alex_dir, &dir.join("alex"));
        copy_dir(&sam_dir, &dir.join("sam"));
        offline_changes(&dir);
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
        "W2 both offline, meet:  median {:7.2} ms   {}",
        median(times),
        describe(&traffic)
    );
}

/// Starts a pair on copies of the fixture under `root/name` and syncs it once.
async fn synced_pair(root: &Path, name: &str) -> (std::path::PathBuf, Node, Node) {
    let (alex_dir, sam_dir) = fixture_dirs(root);
    let config = NetworkConfig::loopback;
    let dir = fresh(root.join(name));
    copy_dir(&alex_dir, &dir.join("alex"));
    copy_dir(&sam_dir, &dir.join("sam"));
    let alex = Node::start(&dir.join("alex"), config()).await.unwrap();
    let sam = Node::start(&dir.join("sam"), config()).await.unwrap();
    sam.remember_peer_addr(&alex.addr());
    sam.sync_now(Duration::from_secs(30)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    (dir, alex, sam)
}

/// The first agreement of a node's list.
fn first_agreement(node: &Node) -> AgreementId {
    node.space(|s| s.list(&ListFilter::default()).unwrap()[0].id.clone())
}

/// W3a: connected pair, one small change.
async fn w3a_live(root: &Path, runs: usize) {
    let (_, alex, sam) = synced_pair(root, "w3a").await;
    let id = first_agreement(&alex);
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
        per_change.push((
            after.frame_bytes_sent - before.frame_bytes_sent,
            after.frame_bytes_received - before.frame_bytes_received,
            after.wire_bytes_sent - before.wire_bytes_sent,
            after.wire_bytes_received - before.wire_bytes_received,
        ));
    }
    let (s0, r0, ws, wr) = per_change[per_change.len() / 2];
    println!("W3a live change:        median {:7.2} ms   bytes {} sent + {} received (incl. the acknowledgement)", median(times), s0, r0);
    println!("    on the wire (UDP payload): {ws} sent + {wr} received");
    sam.shutdown().await;
    alex.shutdown().await;
}

/// W3b: reconnect with persisted sync state; one change made while apart.
async fn w3b_reconnect(root: &Path, runs: usize) {
    let (dir, alex, sam) = synced_pair(root, "w3b").await;
    sam.shutdown().await;
    let id = first_agreement(&alex);
    let config = NetworkConfig::loopback;
    let mut times = Vec::new();
    let mut last = TrafficReport::default();
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
        "W3b after reconnect:    median {:7.2} ms (incl. QUIC handshake)   {}",
        median(times),
        describe(&last)
    );
    alex.shutdown().await;
}

/// Alex and Sam each make 100 offline changes (10 on the same agreements), as in W2.
fn offline_changes(dir: &Path) {
    for (who, offset) in [("alex", 0usize), ("sam", 100usize)] {
        let mut s = Space::open(&dir.join(who)).unwrap();
        let ids: Vec<AgreementId> = s
            .list(&ListFilter::default())
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect();
        for k in 0..100 {
            let id = if k < 10 {
                &ids[k]
            } else {
                &ids[(offset + k) % ids.len()]
            };
            s.log_follow_through(id, LogKind::Kept, "offline", Utc::now())
                .unwrap();
        }
    }
}

/// Both devices of a pair in this process: they meet and converge; prints the peak memory.
async fn pair_memory(alex_dir: &Path, sam_dir: &Path) {
    let anon = AnonPeak::start();
    let config = NetworkConfig::loopback;
    let alex = Node::start(alex_dir, config()).await.unwrap();
    let sam = Node::start(sam_dir, config()).await.unwrap();
    alex.space(|s| s.info().unwrap());
    sam.space(|s| s.info().unwrap());
    sam.remember_peer_addr(&alex.addr());
    let report = sam.sync_now(Duration::from_secs(30)).await.unwrap();
    assert_eq!(report.converged.len(), 1, "{report:?}");
    sam.shutdown().await;
    alex.shutdown().await;
    println!(
        "peak memory of a pair (a fresh process, both devices meet as in W2): {}",
        memory_report(anon.finish())
    );
}
