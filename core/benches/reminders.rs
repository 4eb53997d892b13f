//! Upcoming 64 reminders across 500 agreements with rules (target: ≤ 1 ms).
//! Run: `cargo bench -p accord-core --bench reminders`

use accord_core::reminders::recurrence::{Frequency, RecurrenceRule, Weekday};
use accord_core::*;
use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};

fn fixture() -> (tempfile::TempDir, Space) {
    let root = if std::path::Path::new("/dev/shm").is_dir() {
        "/dev/shm"
    } else {
        "/tmp"
    };
    let dir = tempfile::TempDir::new_in(root).unwrap();
    let now = Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap();
    let mut alex = Space::create(
        &dir.path().join("alex"),
        CreateSpace {
            partner_name: "Alex".into(),
            time_zone: "Europe/Berlin".into(),
            device_name: String::new(),
        },
        now,
    )
    .unwrap();
    let sam_id = DeviceIdentity::load_or_create(&dir.path().join("sam"))
        .unwrap()
        .device_id();
    alex.add_partner("Sam", "America/New_York", &sam_id, "", now)
        .unwrap();
    let mut sam = Space::join(&dir.path().join("sam"), &alex.export_document().unwrap()).unwrap();
    let weekdays = [
        Weekday::Monday,
        Weekday::Wednesday,
        Weekday::Friday,
        Weekday::Sunday,
    ];
    let mut ids = Vec::new();
    for i in 0..500 {
        let mut input = NewAgreement::titled(format!("Commitment {i:03}"));
        input.review_every = Some(ReviewCadence::parse("3 months").unwrap());
        ids.push(alex.create_agreement(input, now).unwrap());
    }
    let c = alex.changes_since(&sam.heads().unwrap()).unwrap();
    sam.apply_changes(&c).unwrap();
    for id in &ids {
        sam.accept(id, now).unwrap();
    }
    let c = sam.changes_since(&alex.heads().unwrap()).unwrap();
    alex.apply_changes(&c).unwrap();
    for (i, id) in ids.iter().enumerate() {
        let rule = RecurrenceRule {
            frequency: Frequency::Weekly {
                interval: 1 + (i % 2) as u32,
                weekdays: vec![weekdays[i % 4]],
            },
            time: NaiveTime::from_hms_opt(8 + (i % 12) as u32, 0, 0).unwrap(),
            time_zone: "Europe/Berlin".into(),
            start: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
            until: None,
        };
        alex.add_commitment_rule(id, rule, None, now).unwrap();
    }
    sam.shutdown();
    (dir, alex)
}

fn bench(c: &mut Criterion) {
    let (_dir, mut space) = fixture();
    let now = Utc.with_ymd_and_hms(2027, 3, 3, 12, 0, 0).unwrap();
    assert_eq!(
        space
            .upcoming_reminders(now, None, 64, Duration::days(30))
            .unwrap()
            .len(),
        64
    );
    c.bench_function("upcoming_64_of_500_agreements_with_rules", |b| {
        b.iter(|| {
            space
                .upcoming_reminders(now, None, 64, Duration::days(30))
                .unwrap()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
