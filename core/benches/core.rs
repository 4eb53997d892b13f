//! Benchmarks of the targets on a document of 500 agreements built by ~50,000 changes
//! (see `fixture.rs`; the fixture is built once and reused, never timed):
//!
//! - `cold_open_to_first_list`: `Space::open` + the first `list` (served from the view cache
//!   while the document loads in the background). Target <= 50 ms.
//! - `cold_open_to_agenda`: `Space::open` + the first `agenda` (also served from the view cache).
//! - `cold_open_full_load`: `Space::open`, waiting for the whole document, then `agenda`.
//! - `cold_open_on_demand_to_durable_edit`: `Space::open_with(LoadMode::OnDemand)` + one
//!   fsynced edit, written as an intent (planned from the view cache, without loading the
//!   history).
//! - `durable_edit`: one fsynced `edit_agreement` of an agreement's details. Target <= 2 ms median.
//! - `list_500`: `list` on a loaded space. Target <= 1 ms.
//! - `agenda`: `agenda` on a loaded space.
//! - `open_parts/*`: where a cold open's time goes (reading the files, parsing the view cache,
//!   a plain Automerge load of the snapshot).
//!
//! Run: `cargo bench -p accord-core --bench core`.

#[path = "fixture.rs"]
mod fixture;

use accord_core::{AgreementEdit, AgreementId, ListFilter, LoadMode, Space, Status};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use std::time::{Duration, Instant};

/// What a measured cold open shows.
#[derive(Clone, Copy)]
enum FirstView {
    List,
    Agenda,
    AgendaAfterFullLoad,
    /// Opened on demand: one durable edit, without loading the document.
    EditOnDemand,
}

/// The measured open of a fresh copy of the fixture; the loader thread is joined and the copy
/// removed outside the timed part, so iterations do not compete with a leftover loader.
fn timed_open(fx: &fixture::Fixture, first: FirstView) -> Duration {
    let (guard, dir) = fixture::fresh_copy(fx);
    let now = fx.now();
    let edited = matches!(first, FirstView::EditOnDemand).then(|| fixture::first_agreement(&dir));
    let started = Instant::now();
    let mode = match first {
        FirstView::EditOnDemand => LoadMode::OnDemand,
        _ => LoadMode::Background,
    };
    let mut space = Space::open_with(&dir, mode).expect("open");
    match first {
        FirstView::List => {
            let list = space.list(&ListFilter::default()).expect("list");
            assert_eq!(list.len(), fixture::AGREEMENTS);
            std::hint::black_box(list);
        }
        FirstView::Agenda => {
            std::hint::black_box(space.agenda(now).expect("agenda"));
        }
        FirstView::AgendaAfterFullLoad => {
            space.open_report().expect("load");
            std::hint::black_box(space.agenda(now).expect("agenda"));
        }
        FirstView::EditOnDemand => {
            let edited = edited.expect("looked up before the timed part");
            let edit = AgreementEdit {
                details: Some("Edited right after a cold open.".into()),
                ..Default::default()
            };
            space.edit_agreement(&edited, edit, now).expect("edit");
        }
    }
    let elapsed = started.elapsed();
    if let FirstView::EditOnDemand = first {
        space.shutdown();
        drop(guard);
        return elapsed;
    }
    // Let the background load finish before the next iteration, then close.
    space.open_report().expect("load");
    space.shutdown();
    drop(guard);
    elapsed
}

fn cold_open(c: &mut Criterion) {
    let fx = fixture::ensure();
    let mut group = c.benchmark_group("open");
    // Each iteration also waits (untimed) for the background load, ~2 s of wall time, which
    // criterion cannot see: one warm-up iteration, then one iteration per sample. Criterion
    // warns that it cannot finish the samples in the tiny target time; that is expected.
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_millis(10));
    group.bench_function("cold_open_to_first_list", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| timed_open(&fx, FirstView::List)).sum())
    });
    group.bench_function("cold_open_to_agenda", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| timed_open(&fx, FirstView::Agenda)).sum())
    });
    group.bench_function("cold_open_on_demand_to_durable_edit", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| timed_open(&fx, FirstView::EditOnDemand))
                .sum()
        })
    });
    group.bench_function("cold_open_full_load", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| timed_open(&fx, FirstView::AgendaAfterFullLoad))
                .sum()
        })
    });
    group.finish();
}

/// The parts of a cold open, measured on their own with the public crates the core uses.
fn open_parts(c: &mut Criterion) {
    let fx = fixture::ensure();
    let snapshot = std::fs::read(fx.alex.join("snapshot.bin")).expect("snapshot");
    let view = std::fs::read(fx.alex.join("view.json")).expect("view cache");
    eprintln!(
        "fixture: {} changes, snapshot.bin {} KiB, view.json {} KiB",
        fx.changes,
        snapshot.len() / 1024,
        view.len() / 1024
    );
    // snapshot.bin: magic(8) heads_len(u32) heads(32 each) doc_len(u64) doc crc(u32)
    let heads = u32::from_le_bytes(snapshot[8..12].try_into().unwrap()) as usize;
    let doc_start = 12 + heads * 32 + 8;
    let doc = snapshot[doc_start..snapshot.len() - 4].to_vec();

    let mut group = c.benchmark_group("open_parts");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("read_snapshot_and_crc", |b| {
        b.iter(|| {
            let bytes = std::fs::read(fx.alex.join("snapshot.bin")).unwrap();
            let crc = crc32fast::hash(&bytes[..bytes.len() - 4]);
            std::hint::black_box((bytes[doc_start..bytes.len() - 4].to_vec(), crc))
        })
    });
    group.bench_function("read_and_parse_view_json", |b| {
        b.iter(|| {
            let bytes = std::fs::read(fx.alex.join("view.json")).unwrap();
            let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            std::hint::black_box(value)
        })
    });
    group
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_millis(10));
    group.bench_function("automerge_load_snapshot", |b| {
        b.iter(|| std::hint::black_box(automerge::Automerge::load(&doc).unwrap()))
    });
    group.finish();
}

/// A loaded space on a fresh copy, plus the agreements to edit (every active one).
fn loaded(fx: &fixture::Fixture) -> (tempfile::TempDir, Space, Vec<AgreementId>) {
    let (guard, dir) = fixture::fresh_copy(fx);
    let mut space = Space::open(&dir).expect("open");
    space.open_report().expect("load");
    let ids: Vec<AgreementId> = space
        .list(&ListFilter {
            status: Some(Status::Active),
            ..Default::default()
        })
        .expect("list")
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert!(!ids.is_empty(), "the fixture has active agreements");
    (guard, space, ids)
}

fn loaded_ops(c: &mut Criterion) {
    let fx = fixture::ensure();
    let now = fx.now();
    let (_guard, mut space, ids) = loaded(&fx);
    let mut group = c.benchmark_group("loaded");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));

    // Each edit rewrites the details of the next active agreement in turn (so no single
    // agreement piles up hundreds of acceptances), alternating two texts per agreement. Each
    // edit is timed on its own (criterion gets the sum); the individual times give a true
    // per-edit median and tail, printed after the run.
    let texts = [
        "We each cook twice a week and the other one cleans up afterwards. ".repeat(4),
        "We each cook twice a week; whoever did not cook does the dishes that evening. ".repeat(4),
    ];
    let mut flip = 0usize;
    let mut each: Vec<Duration> = Vec::new();
    group.bench_function("durable_edit", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let id = &ids[flip % ids.len()];
                let edit = AgreementEdit {
                    details: Some(texts[(flip / ids.len()) % 2].clone()),
                    ..Default::default()
                };
                flip += 1;
                let started = Instant::now();
                space.edit_agreement(id, edit, now).expect("edit");
                let took = started.elapsed();
                each.push(took);
                total += took;
            }
            total
        })
    });
    if !each.is_empty() {
        each.sort();
        let pct = |p: f64| each[((each.len() - 1) as f64 * p).round() as usize];
        eprintln!(
            "durable_edit, each of {} edits over {} agreements: p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
            each.len(),
            ids.len(),
            pct(0.5),
            pct(0.9),
            pct(0.99),
            pct(1.0)
        );
    }

    group.bench_function("list_500", |b| {
        b.iter(|| {
            let list = space.list(&ListFilter::default()).expect("list");
            debug_assert_eq!(list.len(), fixture::AGREEMENTS);
            list
        })
    });
    group.bench_function("agenda", |b| b.iter(|| space.agenda(now).expect("agenda")));
    group.finish();
}

criterion_group!(benches, cold_open, open_parts, loaded_ops);
criterion_main!(benches);
