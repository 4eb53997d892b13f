//! Times durable edits on a copy of the benchmark fixture (for profiling with perf).
//! Run: `cargo run --release -p accord-core --example edit_profile [EDITS]`
#[path = "../benches/fixture.rs"]
mod fixture;

use accord_core::*;
use std::time::Instant;

fn main() {
    let edits: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let fx = fixture::ensure();
    let (_tmp, dir) = fixture::fresh_copy(&fx);
    let mut space = Space::open(&dir).unwrap();
    space.info().unwrap();
    let ids: Vec<AgreementId> = space
        .list(&ListFilter {
            category: None,
            status: Some(Status::Active),
        })
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    let mut times = Vec::new();
    for i in 0..edits {
        let id = &ids[i % ids.len()];
        let t = Instant::now();
        space
            .edit_agreement(
                id,
                AgreementEdit {
                    details: Some(format!("Profiled wording {i}")),
                    ..Default::default()
                },
                fx.now(),
            )
            .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "durable edit over {} agreements, {edits} edits: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} \
         ms, max {:.2} ms",
        ids.len(),
        times[edits / 2],
        times[edits * 9 / 10],
        times[edits * 99 / 100],
        times[edits - 1]
    );
}
