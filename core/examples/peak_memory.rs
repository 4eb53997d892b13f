//! Peak memory of a process that opens the benchmark fixture (500 agreements, ~50,000
//! changes; see `benches/fixture.rs`) with `LoadMode::OnDemand`, shows the first list, the
//! agenda and the next reminders (all served from the view cache), then makes two durable edits,
//! logs a follow-through entry and records a check-in (each an intent: planned from the view
//! cache, fsynced to `intents.log`, without loading the history) and closes, which saves the
//! view cache. For comparison, a second child opens the same way and shows one agreement's
//! details, which loads the whole document; a third writes 100 intents, and the time loading
//! takes with them pending is compared with loading a copy without them (the replay).
//!
//! Run: `cargo run --release -p accord-core --example peak_memory`
//!
//! The parent builds (or reuses) the fixture and a fresh copy of it, then runs itself again as
//! a child that only opens the copy, so the fixture's build does not count. The child prints
//! its peak resident set (`VmHWM` from `/proc/self/status`) after each step. The parent repeats this on fresh copies and
//! prints the first-list time of each fresh process (a cold open in a new process, unlike the
//! in-process criterion bench).

#[path = "../benches/fixture.rs"]
mod fixture;

use accord_core::{AgreementEdit, ListFilter, LoadMode, LogKind, Space};
use std::time::Instant;

fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn report(label: &str) {
    let hwm = status_kb("VmHWM").map_or("unknown".into(), |v| v.to_string());
    let rss = status_kb("VmRSS").map_or("unknown".into(), |v| v.to_string());
    println!("peak_rss_{label}_kb={hwm}");
    println!("rss_{label}_kb={rss}");
}

/// Opens on demand and shows one agreement's details, which needs the whole document.
fn child_full_load(dir: &std::path::Path) {
    report("at_start");
    let started = Instant::now();
    let mut space = Space::open_with(dir, LoadMode::OnDemand).expect("open");
    let list = space.list(&ListFilter::default()).expect("list");
    space.agreement(&list[0].id).expect("details");
    println!(
        "details_with_full_load_ms={:.1}",
        started.elapsed().as_secs_f64() * 1e3
    );
    report("after_details_full_load");
    // Closing a loaded space writes view.json from the loaded views.
    let before_close = Instant::now();
    space.shutdown();
    println!(
        "close_loaded_saving_caches_ms={:.1}",
        before_close.elapsed().as_secs_f64() * 1e3
    );
    report("after_close_loaded");
}

fn child(dir: &std::path::Path, now_ms: i64) {
    report("at_start");
    let started = Instant::now();
    let mut space = Space::open_with(dir, LoadMode::OnDemand).expect("open");
    let list = space.list(&ListFilter::default()).expect("list");
    let first_list = started.elapsed();
    report("after_first_list");
    println!("agreements_listed={}", list.len());
    println!("first_list_ms={:.1}", first_list.as_secs_f64() * 1e3);
    let now = chrono::DateTime::from_timestamp_millis(now_ms).expect("now");
    let agenda = space.agenda(now).expect("agenda");
    let to_agenda = started.elapsed();
    report("after_agenda");
    println!(
        "agenda_items={}",
        agenda.open_concerns.len()
            + agenda.due_for_review.len()
            + agenda.missed_since_last_checkin.len()
            + agenda.waiting_for_partner.len()
            + agenda.upcoming.len()
    );
    println!("agenda_ms={:.1}", to_agenda.as_secs_f64() * 1e3);
    let reminders = space
        .upcoming_reminders(now, None, 64, chrono::Duration::days(30))
        .expect("reminders");
    report("after_reminders");
    println!("reminders={}", reminders.len());
    let edited = &list[0].id;
    let edit = AgreementEdit {
        details: Some("Edited after a cold open.".into()),
        ..Default::default()
    };
    let before_edit = Instant::now();
    space.edit_agreement(edited, edit, now).expect("edit");
    println!(
        "first_edit_ms={:.1}",
        before_edit.elapsed().as_secs_f64() * 1e3
    );
    report("after_first_edit");
    let edit = AgreementEdit {
        title: Some("Renamed after a cold open".into()),
        ..Default::default()
    };
    let before_edit = Instant::now();
    space.edit_agreement(&list[1].id, edit, now).expect("edit");
    println!(
        "second_edit_ms={:.1}",
        before_edit.elapsed().as_secs_f64() * 1e3
    );
    report("after_second_edit");
    let before_log = Instant::now();
    space
        .log_follow_through(edited, LogKind::Missed, "Logged from a notification", now)
        .expect("log");
    println!(
        "follow_through_entry_ms={:.1}",
        before_log.elapsed().as_secs_f64() * 1e3
    );
    report("after_follow_through_entry");
    let before_checkin = Instant::now();
    space
        .record_checkin(now.date_naive(), "Held after a cold open", now)
        .expect("check-in");
    println!(
        "checkin_ms={:.1}",
        before_checkin.elapsed().as_secs_f64() * 1e3
    );
    report("after_checkin");
    let before_close = Instant::now();
    space.shutdown();
    println!(
        "close_saving_caches_ms={:.1}",
        before_close.elapsed().as_secs_f64() * 1e3
    );
    report("after_close");
    println!(
        "open_to_close_ms={:.1}",
        started.elapsed().as_secs_f64() * 1e3
    );
    // The cache written on close holds the intents: the next process shows them at once.
    let mut space = Space::open_with(dir, LoadMode::OnDemand).expect("reopen");
    let list = space.list(&ListFilter::default()).expect("list");
    assert!(list.iter().any(|a| a.title == "Renamed after a cold open"));
}

/// Loads the document (timed), with whatever intents are pending in `dir` replayed first.
fn child_load(dir: &std::path::Path) {
    let mut space = Space::open_with(dir, LoadMode::OnDemand).expect("open");
    let pending = space.pending_intents();
    let started = Instant::now();
    space.heads().expect("load");
    println!(
        "load_with_{pending}_pending_ms={:.1}",
        started.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(space.pending_intents(), 0);
    if let Some(replayed) = space.open_report().expect("report").replayed {
        println!(
            "replay_of_{}_intents_ms={:.1}",
            replayed.intents,
            replayed.micros as f64 / 1e3
        );
    }
    space.shutdown();
}

/// Writes `count` follow-through entries as intents (without loading) and closes.
fn child_write_intents(dir: &std::path::Path, count: usize, now_ms: i64) {
    let now = chrono::DateTime::from_timestamp_millis(now_ms).expect("now");
    let mut space = Space::open_with(dir, LoadMode::OnDemand).expect("open");
    let list = space.list(&ListFilter::default()).expect("list");
    let mut times = Vec::new();
    for i in 0..count {
        let started = Instant::now();
        space
            .log_follow_through(&list[i % list.len()].id, LogKind::Kept, "", now)
            .expect("log");
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    assert_eq!(space.pending_intents(), count, "written as intents");
    times.sort_by(f64::total_cmp);
    println!("intent_write_ms_median={:.2}", times[times.len() / 2]);
    space.shutdown();
}

/// Child runs: the first gives the reported figures; all give the first-list times.
const RUNS: usize = 5;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 3 && args[1] == "--child-full-load" {
        child_full_load(std::path::Path::new(&args[2]));
        return;
    }
    if args.len() == 3 && args[1] == "--child-load" {
        child_load(std::path::Path::new(&args[2]));
        return;
    }
    if args.len() == 4 && args[1] == "--child-write-intents" {
        child_write_intents(
            std::path::Path::new(&args[2]),
            100,
            args[3].parse().expect("now"),
        );
        return;
    }
    if args.len() == 4 && args[1] == "--child" {
        child(
            std::path::Path::new(&args[2]),
            args[3].parse().expect("now"),
        );
        return;
    }
    let fx = fixture::ensure();
    println!("fixture={} changes={}", fx.alex.display(), fx.changes);
    let mut first_list_ms = Vec::new();
    for run in 0..RUNS {
        let (guard, dir) = fixture::fresh_copy(&fx);
        let out = std::process::Command::new(std::env::current_exe().expect("current exe"))
            .arg("--child")
            .arg(&dir)
            .arg(fx.now().timestamp_millis().to_string())
            .output()
            .expect("run child");
        drop(guard);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "child failed: {}\n{text}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        if run == 0 {
            print!("{text}");
        }
        first_list_ms.extend(text.lines().find_map(|l| {
            l.strip_prefix("first_list_ms=")
                .and_then(|v| v.parse::<f64>().ok())
        }));
    }
    let (guard, dir) = fixture::fresh_copy(&fx);
    let out = std::process::Command::new(std::env::current_exe().expect("current exe"))
        .arg("--child-full-load")
        .arg(&dir)
        .output()
        .expect("run child");
    drop(guard);
    assert!(out.status.success(), "full-load child failed");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    // Replay: loading with 100 pending intents, against loading the same copy without them.
    let run = |args: &[&str]| {
        let out = std::process::Command::new(std::env::current_exe().expect("current exe"))
            .args(args)
            .output()
            .expect("run child");
        assert!(out.status.success(), "child {args:?} failed");
        print!("{}", String::from_utf8_lossy(&out.stdout));
    };
    for pending in [false, true] {
        let (guard, dir) = fixture::fresh_copy(&fx);
        let dir = dir.to_str().expect("utf-8 path").to_owned();
        if pending {
            let now = fx.now().timestamp_millis().to_string();
            run(&["--child-write-intents", &dir, &now]);
        }
        run(&["--child-load", &dir]);
        drop(guard);
    }
    first_list_ms.sort_by(f64::total_cmp);
    println!(
        "first_list_ms_over_{RUNS}_fresh_processes={}",
        first_list_ms
            .iter()
            .map(|v| format!("{v:.1}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    if let Some(median) = first_list_ms.get(first_list_ms.len() / 2) {
        println!("first_list_ms_median={median:.1}");
    }
}
