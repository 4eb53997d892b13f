//! Shared helpers for the core's integration tests.
#![allow(dead_code)]

use accord_core::*;
use chrono::{DateTime, TimeZone, Utc};
use tempfile::TempDir;

/// A fixed instant plus `minutes`.
pub fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
}

/// One device's directory and open space.
pub struct Replica {
    pub dir: TempDir,
    pub space: Space,
}

impl Replica {
    pub fn path(&self) -> std::path::PathBuf {
        self.dir.path().to_path_buf()
    }
}

/// Alex founds a space.
pub fn founder() -> Replica {
    let dir = TempDir::new().unwrap();
    let space = Space::create(
        dir.path(),
        CreateSpace {
            partner_name: "Alex".into(),
            time_zone: "Europe/Berlin".into(),
            device_name: "Alex's phone".into(),
        },
        t(0),
    )
    .unwrap();
    Replica { dir, space }
}

/// A new device that `inviter` enrolls, as the other partner (`partner = Some(name)`) or as
/// another device of the inviter's partner (`None`).
pub fn enrolled(inviter: &mut Replica, partner: Option<&str>) -> Replica {
    let dir = TempDir::new().unwrap();
    let identity = DeviceIdentity::load_or_create(dir.path()).unwrap();
    match partner {
        Some(name) => {
            inviter
                .space
                .add_partner(
                    name,
                    "America/New_York",
                    &identity.device_id(),
                    "phone",
                    t(1),
                )
                .unwrap();
        }
        None => inviter
            .space
            .add_device(&identity.device_id(), "tablet", t(1))
            .unwrap(),
    }
    let doc = inviter.space.export_document().unwrap();
    let space = Space::join(dir.path(), &doc).unwrap();
    Replica { dir, space }
}

/// Alex and Sam, each on one device, in sync.
pub fn couple() -> (Replica, Replica) {
    let mut alex = founder();
    let sam = enrolled(&mut alex, Some("Sam"));
    (alex, sam)
}

/// Sends what `from` has and `to` lacks.
pub fn send(from: &mut Space, to: &mut Space) {
    let heads = to.heads().unwrap();
    let changes = from.changes_since(&heads).unwrap();
    to.apply_changes(&changes).unwrap();
}

/// Exchanges changes both ways.
pub fn sync(a: &mut Space, b: &mut Space) {
    send(a, b);
    send(b, a);
}

pub fn new_agreement(title: &str) -> NewAgreement {
    NewAgreement::titled(title)
}

pub fn status(space: &mut Space, id: &AgreementId) -> Status {
    space.agreement(id).unwrap().summary.status
}

/// An agreement Alex proposes and Sam accepts, active on both devices.
pub fn active(alex: &mut Replica, sam: &mut Replica, title: &str) -> AgreementId {
    active_with(alex, sam, new_agreement(title))
}

/// Like [`active`] for a fully described agreement.
pub fn active_with(alex: &mut Replica, sam: &mut Replica, input: NewAgreement) -> AgreementId {
    let id = alex.space.create_agreement(input, t(5)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    sam.space.accept(&id, t(6)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    id
}

/// Rewrites an agreement's title.
pub fn edit_title(space: &mut Space, id: &AgreementId, title: &str, at: DateTime<Utc>) {
    space
        .edit_agreement(
            id,
            AgreementEdit {
                title: Some(title.into()),
                ..Default::default()
            },
            at,
        )
        .unwrap();
}
