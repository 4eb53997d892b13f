//! Set-up shared by the core's unit tests.

use crate::reminders::recurrence::{Frequency, RecurrenceRule};
use crate::{CreateSpace, DeviceIdentity, PartnerId, Space};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use std::path::Path;

/// A new space in `dir` whose first partner is Alex, living in `time_zone`.
pub(crate) fn alex_space(dir: &Path, time_zone: &str, now: DateTime<Utc>) -> Space {
    Space::create(
        dir,
        CreateSpace {
            partner_name: "Alex".into(),
            time_zone: time_zone.into(),
            device_name: String::new(),
        },
        now,
    )
    .expect("create the space")
}

/// Exchanges what each of two replicas lacks, both ways.
pub(crate) fn sync(a: &mut Space, b: &mut Space) {
    let c = a.changes_since(&b.heads().unwrap()).unwrap();
    b.apply_changes(&c).unwrap();
    let c = b.changes_since(&a.heads().unwrap()).unwrap();
    a.apply_changes(&c).unwrap();
}

/// Every day at `hh`:00 in `time_zone`, from 2027-01-01.
pub(crate) fn daily(hh: u32, time_zone: &str) -> RecurrenceRule {
    RecurrenceRule {
        frequency: Frequency::Daily { interval: 1 },
        time: NaiveTime::from_hms_opt(hh, 0, 0).unwrap(),
        time_zone: time_zone.into(),
        start: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        until: None,
    }
}

/// The ids of the space's partners.
pub(crate) fn partner_ids(space: &mut Space) -> Vec<PartnerId> {
    let partners = space.info().expect("info").partners;
    partners.into_iter().map(|p| p.id).collect()
}

/// One device of a test: its directory (removed when dropped) and its space.
pub(crate) struct Dev {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) space: Space,
}

/// Alex (who created the space at `at`) and Sam (enrolled by Alex's device a minute later),
/// each on one device.
pub(crate) fn couple_at(at: DateTime<Utc>) -> (Dev, Dev) {
    let a_dir = tempfile::TempDir::new().unwrap();
    let mut alex = alex_space(a_dir.path(), "UTC", at);
    let s_dir = tempfile::TempDir::new().unwrap();
    let sam_id = DeviceIdentity::load_or_create(s_dir.path())
        .unwrap()
        .device_id();
    alex.add_partner("Sam", "UTC", &sam_id, "", at + chrono::Duration::minutes(1))
        .unwrap();
    let sam = Space::join(s_dir.path(), &alex.export_document().unwrap()).unwrap();
    (
        Dev {
            _dir: a_dir,
            space: alex,
        },
        Dev {
            _dir: s_dir,
            space: sam,
        },
    )
}
