//! Derived views: typed, validated reads of the document. Every replica derives the same views
//! from the same document; nothing here depends on device clocks. Records that break the schema
//! are left out and reported as [`Problem`]s, never a panic.

use crate::agreement::{
    Acceptance, AgreementSummary, Candidate, Category, Concerns, Content, Field, FieldConflict,
    Kind, Retirement, ReviewCadence, Status, Strength,
};
use crate::checkin::CheckIn;
use crate::concern::{Concern, ConcernEvent, ConcernState, ConcernStep};
use crate::document::{Document, Entity, Record, Val};
use crate::followthrough::{LogEntry, LogKind};
use crate::ids::{AgreementId, ConcernId, DeviceId, PartnerId, RecordId, LOG_KEY_SEPARATOR};
use crate::recovery::RecoveryKey;
use crate::trust::{Checkpoints, Role};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Something in the document that breaks the schema and was left out of the views.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Problem {
    /// What it concerns, e.g. `agreement 1a2b…` or `acceptance 3c4d…`.
    pub subject: String,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(subject: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            subject: subject.into(),
            message: message.into(),
        }
    }
}

/// A partner of the space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Partner {
    /// Id.
    pub id: PartnerId,
    /// Display name.
    pub name: String,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Whether they set up a recovery secret (to come back as this partner if they lose
    /// every device).
    pub has_recovery: bool,
}

/// A device enrolled in the space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Device {
    /// Id (public key).
    pub id: DeviceId,
    /// The partner it belongs to.
    pub partner: PartnerId,
    /// A name for it ("Sam's phone").
    pub name: String,
    /// Whether it was removed (it is never valid again).
    pub removed: bool,
}

/// What a replica trusts without the shared document: the space id, the founder's device
/// (both pinned locally) and the verified checkpoints of every device.
#[derive(Clone)]
pub(crate) struct TrustContext {
    pub(crate) space_id: String,
    pub(crate) founder: DeviceId,
    pub(crate) checkpoints: Checkpoints,
}

impl TrustContext {
    /// Why `record` is not authentically the work of the device that created it, if it is not:
    /// a value written by someone else, or not yet covered by that device's checkpoint.
    pub(crate) fn check_authentic(&self, record: &Record) -> Result<DeviceId, String> {
        let device = DeviceId(record.actor.clone());
        if record.foreign {
            return Err("holds values written by another device".into());
        }
        // This device's own write, not yet in the document (a pending intent): it will be
        // signed when it is written.
        if record.is_pending() {
            return Ok(device);
        }
        if !self.checkpoints.covers(&device, record.counter) {
            return Err("is not (yet) confirmed by its device's signed checkpoint".into());
        }
        Ok(device)
    }
}

/// When a device counts: from its enrolment (its changes follow it, or they are refused)
/// until, if it was removed, the last of its operations the removal (or the ending) had seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct DeviceState {
    /// If removed: the highest op counter of its changes that count.
    valid_through: Option<u64>,
}

/// The end of the pairing: one partner stopped syncing with the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Ending {
    /// The partner who ended it.
    pub by: PartnerId,
    /// The partner whose devices no longer count from then on.
    pub partner: PartnerId,
    /// When (the ending device's clock; for display).
    pub at: DateTime<Utc>,
}

/// Partners and devices as derived from the document, with the rules of [`crate::trust`].
#[derive(Clone)]
pub(crate) struct Members {
    pub(crate) partners: Vec<Partner>,
    pub(crate) devices: BTreeMap<DeviceId, Device>,
    /// Each enrolled device with its partner, shared by the records it wrote.
    authors: BTreeMap<DeviceId, Arc<RecordAuthor>>,
    states: BTreeMap<DeviceId, DeviceState>,
    trust: TrustContext,
    /// The highest Lamport counter among enrolments and removals.
    pub(crate) max_seq: i64,
    /// The end of the pairing, if a partner ended it.
    pub(crate) ending: Option<Ending>,
    /// Each partner's current recovery key (the newest valid one in causal order).
    pub(crate) recovery: BTreeMap<PartnerId, RecoveryKey>,
}

/// [`Members`] without the trust context, as the view cache's write basis keeps them.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct MembersParts {
    partners: Vec<Partner>,
    devices: BTreeMap<DeviceId, Device>,
    authors: BTreeMap<DeviceId, Arc<RecordAuthor>>,
    states: BTreeMap<DeviceId, DeviceState>,
    max_seq: i64,
    ending: Option<Ending>,
    recovery: BTreeMap<PartnerId, RecoveryKey>,
}

impl Members {
    /// Everything but the trust context (kept apart, in `checkpoints.bin`).
    pub(crate) fn parts(&self) -> MembersParts {
        MembersParts {
            partners: self.partners.clone(),
            devices: self.devices.clone(),
            authors: self.authors.clone(),
            states: self.states.clone(),
            max_seq: self.max_seq,
            ending: self.ending.clone(),
            recovery: self.recovery.clone(),
        }
    }

    /// The members as they were when `parts` was taken, checked against `trust`.
    pub(crate) fn from_parts(parts: MembersParts, trust: &TrustContext) -> Members {
        Members {
            partners: parts.partners,
            devices: parts.devices,
            authors: parts.authors,
            states: parts.states,
            trust: trust.clone(),
            max_seq: parts.max_seq,
            ending: parts.ending,
            recovery: parts.recovery,
        }
    }

    /// Whether `newer` is these members plus the one new device `device`, everything else
    /// unchanged (then no view but the members depends on the difference).
    pub(crate) fn only_adds_device(&self, newer: &Members, device: &DeviceId) -> bool {
        self.partners == newer.partners
            && !self.devices.contains_key(device)
            && newer.devices.contains_key(device)
            && newer.devices.len() == self.devices.len() + 1
            && self
                .devices
                .iter()
                .all(|(id, d)| newer.devices.get(id) == Some(d))
            && self.ending == newer.ending
            && self.recovery == newer.recovery
            && self
                .states
                .iter()
                .all(|(id, s)| newer.states.get(id) == Some(s))
    }

    /// The partner of a valid (enrolled, not removed) device.
    pub(crate) fn partner_of_device(&self, device: &DeviceId) -> Option<&PartnerId> {
        self.devices
            .get(device)
            .filter(|d| !d.removed)
            .map(|d| &d.partner)
    }

    /// The device that wrote with `actor` (hex), if it was ever validly enrolled.
    pub(crate) fn author_of_actor(&self, actor: &str) -> Option<&Device> {
        self.devices.get(&DeviceId(actor.to_owned()))
    }

    pub(crate) fn is_partner(&self, partner: &PartnerId) -> bool {
        self.partners.iter().any(|p| &p.id == partner)
    }

    pub(crate) fn partner_ids(&self) -> Vec<PartnerId> {
        self.partners.iter().map(|p| p.id.clone()).collect()
    }

    /// Whether what `device` wrote at op counter `counter` counts: the device was validly
    /// enrolled and, if it was removed, the removal had seen that write. (Its enrolment
    /// precedes every change it makes: a peer's change is refused otherwise.)
    fn valid_at(&self, device: &DeviceId, counter: u64) -> bool {
        self.states
            .get(device)
            .is_some_and(|s| s.valid_through.is_none_or(|t| counter <= t))
    }

    /// Removes `device` (if enrolled): what it wrote up to op counter `seen` still counts.
    fn remove(&mut self, device: &DeviceId, seen: u64) {
        if let Some(state) = self.states.get_mut(device) {
            state.valid_through = Some(state.valid_through.map_or(seen, |t| t.min(seen)));
            if let Some(d) = self.devices.get_mut(device) {
                d.removed = true;
            }
        }
    }

    /// Checks that `record` was written by a device that was valid when it wrote it (and
    /// belongs to the partner the record names, if it names one), confirmed by that device's
    /// checkpoint: no device can act in the other partner's name, and a removed device's later
    /// records do not count. The author is shared by all the records of its device.
    pub(crate) fn record_author(&self, record: &Record) -> Result<Arc<RecordAuthor>, String> {
        if record.fields.is_empty() && record.children.is_empty() {
            return Err("is not a readable record".into());
        }
        record.int("seq").ok_or("has no order")?;
        let device = self.trust.check_authentic(record)?;
        let Some(author) = self.authors.get(&device) else {
            return Err("was written by a device that is not enrolled".into());
        };
        if let Some(named) = record.str("partner") {
            if author.partner.0 != named {
                return Err("names a partner its device does not belong to".into());
            }
        }
        if !self.valid_at(&device, record.counter) {
            return Err("was written by a device after it was removed".into());
        }
        Ok(author.clone())
    }
}

pub(crate) fn time_of(record_ms: Option<i64>) -> DateTime<Utc> {
    record_ms
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

enum MemberEvent<'a> {
    Enrol(&'a Record),
    RecoveryKey(&'a Record),
    Remove(&'a Record, &'a Record),
    End(&'a Record),
}

/// Reads partners and devices, applying the enrolment rules in causal order: by the records'
/// op counters, which follow the signed change graph (a change's operations are numbered after
/// those of every change it follows), never by an order the writer states.
///
/// A device counts from its enrolment. A partner removes their own devices; either partner
/// ends the pairing with the other. A removal or an ending keeps what the removed devices
/// wrote up to what the writer's change had seen of them; nothing they wrote outside that
/// counts, concurrent or not, and nothing before it is removed or re-attributed.
pub(crate) fn read_members(
    doc: &Document,
    trust: &TrustContext,
    problems: &mut Vec<Problem>,
) -> Members {
    let records = doc.records(&["devices"]);
    let endings = doc.records(&["endings"]);
    let recovery_keys = doc.records(&["recovery"]);
    let mut events: Vec<(u64, String, MemberEvent<'_>)> = Vec::new();
    let mut max_seq = 0;
    for r in &records {
        max_seq = max_seq.max(r.int("seq").unwrap_or(0));
        events.push((r.counter, r.id.clone(), MemberEvent::Enrol(r)));
        for removal in r.children.get("removals").map(Vec::as_slice).unwrap_or(&[]) {
            max_seq = max_seq.max(removal.int("seq").unwrap_or(0));
            events.push((
                removal.counter,
                removal.id.clone(),
                MemberEvent::Remove(r, removal),
            ));
        }
    }
    for e in &endings {
        max_seq = max_seq.max(e.int("seq").unwrap_or(0));
        events.push((e.counter, e.id.clone(), MemberEvent::End(e)));
    }
    // Keyrings count only for the order of this device's next record.
    for r in doc.records(&["keyrings"]) {
        max_seq = max_seq.max(r.int("seq").unwrap_or(0));
    }
    for r in &recovery_keys {
        max_seq = max_seq.max(r.int("seq").unwrap_or(0));
        events.push((r.counter, r.id.clone(), MemberEvent::RecoveryKey(r)));
    }
    events.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let mut members = Members {
        partners: Vec::new(),
        devices: BTreeMap::new(),
        authors: BTreeMap::new(),
        states: BTreeMap::new(),
        trust: trust.clone(),
        max_seq: max_seq.min(i64::MAX - 1),
        ending: None,
        recovery: BTreeMap::new(),
    };
    // What the ending had seen of each device, once the pairing ended.
    let mut ended: Option<(PartnerId, BTreeMap<String, u64>)> = None;
    let (mut first, mut second): (Option<PartnerId>, Option<PartnerId>) = (None, None);
    for (counter, _, event) in events {
        match event {
            MemberEvent::Enrol(r) => {
                let device = DeviceId(r.id.clone());
                let mut recovered = false;
                let verdict = (|| -> Result<PartnerId, String> {
                    let partner = PartnerId(r.str("partner").ok_or("names no partner")?.to_owned());
                    let role = r
                        .str("role")
                        .and_then(Role::parse)
                        .ok_or("has no valid role")?;
                    let signer = trust.check_authentic(r)?;
                    if members.states.contains_key(&device) {
                        return Err("enrols a device that was already enrolled".into());
                    }
                    let signer_partner = members.devices.get(&signer).map(|d| d.partner.clone());
                    let signer_ok = members.valid_at(&signer, counter);
                    match role {
                        Role::Founder
                            if device == trust.founder && signer == device && first.is_none() =>
                        {
                            first = Some(partner.clone());
                        }
                        Role::Founder => {
                            return Err(
                                "claims to found the space but is not its founder device".into()
                            )
                        }
                        _ if !signer_ok => {
                            return Err("was enrolled by a device that was not valid then".into())
                        }
                        Role::Partner => {
                            if second.is_some()
                                || signer_partner.as_ref() != first.as_ref()
                                || Some(&partner) == first.as_ref()
                            {
                                return Err("enrols a partner while the space already has two, or by the wrong partner".into());
                            }
                            second = Some(partner.clone());
                        }
                        Role::Device if signer_partner.as_ref() == Some(&partner) => {}
                        Role::Device => {
                            return Err("was enrolled by a device of the other partner".into())
                        }
                        Role::Recovered => {
                            let key = members
                                .recovery
                                .get(&partner)
                                .ok_or("claims a recovery, but that partner has no recovery key")?;
                            if !key.proves(&device, r.str("proof").unwrap_or_default()) {
                                return Err("claims a recovery without a valid proof by that partner's recovery secret".into());
                            }
                            recovered = true;
                        }
                    }
                    Ok(partner)
                })();
                match verdict {
                    Ok(partner) => {
                        // A device of a partner whose pairing was ended counts only for what
                        // the ending had seen of it (nothing, if it had not seen it at all).
                        let valid_through = ended
                            .as_ref()
                            .filter(|(p, _)| *p == partner)
                            .map(|(_, seen)| seen.get(&device.0).copied().unwrap_or(0));
                        members
                            .states
                            .insert(device.clone(), DeviceState { valid_through });
                        // A recovery voids the partner's earlier devices (lost, or in the wrong
                        // hands): they count up to what the enrolment's change had seen.
                        if recovered {
                            let seen = doc.seen_at(&r.origin());
                            let earlier: Vec<DeviceId> = members
                                .devices
                                .values()
                                .filter(|d| d.partner == partner)
                                .map(|d| d.id.clone())
                                .collect();
                            for old in earlier {
                                members.remove(&old, seen.get(&old.0).copied().unwrap_or(0));
                            }
                        }
                        members.devices.insert(
                            device.clone(),
                            Device {
                                id: device,
                                partner,
                                name: r.str("name").unwrap_or_default().to_owned(),
                                removed: valid_through.is_some(),
                            },
                        );
                    }
                    Err(why) => problems.push(Problem::new(
                        format!("device {}", r.id),
                        format!("{why}; it is not valid"),
                    )),
                }
            }
            MemberEvent::RecoveryKey(r) => {
                let verdict = (|| -> Result<(PartnerId, RecoveryKey), String> {
                    let by = trust.check_authentic(r)?;
                    if !members.valid_at(&by, counter) {
                        return Err("was written by a device that was not valid then".into());
                    }
                    let partner = members
                        .devices
                        .get(&by)
                        .map(|d| d.partner.clone())
                        .ok_or("was written by a device that is not enrolled")?;
                    if r.str("partner") != Some(partner.as_str()) {
                        return Err("names a partner its device does not belong to".into());
                    }
                    let sign = r
                        .str("sign")
                        .filter(|k| k.parse::<iroh_base::PublicKey>().is_ok());
                    let seal = r.bytes("seal").and_then(|b| <[u8; 32]>::try_from(b).ok());
                    match (sign, seal) {
                        (Some(sign), Some(seal)) => Ok((
                            partner,
                            RecoveryKey {
                                sign: sign.to_owned(),
                                seal,
                            },
                        )),
                        _ => Err("holds no valid keys".into()),
                    }
                })();
                match verdict {
                    Ok((partner, key)) => {
                        members.recovery.insert(partner, key);
                    }
                    Err(why) => problems.push(Problem::new(
                        format!("recovery key {}", r.id),
                        format!("{why}; ignored"),
                    )),
                }
            }
            MemberEvent::Remove(target, removal) => {
                let device = DeviceId(target.id.clone());
                let by = trust
                    .check_authentic(removal)
                    .ok()
                    .filter(|by| members.valid_at(by, counter));
                let Some(by) = by else {
                    problems.push(Problem::new(
                        format!("removal {}", removal.id),
                        "is not by a valid device, confirmed by its checkpoint; ignored",
                    ));
                    continue;
                };
                let same_partner = members.devices.get(&by).map(|d| &d.partner)
                    == members.devices.get(&device).map(|d| &d.partner);
                if !same_partner {
                    problems.push(Problem::new(
                        format!("removal {}", removal.id),
                        "removes a device of the other partner (only ending the pairing does); ignored",
                    ));
                    continue;
                }
                let seen = doc.seen_at(&removal.origin());
                members.remove(&device, seen.get(&device.0).copied().unwrap_or(0));
            }
            MemberEvent::End(e) => {
                let by = trust
                    .check_authentic(e)
                    .ok()
                    .filter(|by| members.valid_at(by, counter))
                    .and_then(|by| members.devices.get(&by).map(|d| d.partner.clone()));
                let target = e.str("partner").map(|p| PartnerId(p.to_owned()));
                let other = [&first, &second]
                    .into_iter()
                    .flatten()
                    .find(|p| Some(*p) != by.as_ref())
                    .cloned();
                match (by, target) {
                    (Some(by), Some(target))
                        if ended.is_none() && other.as_ref() == Some(&target) =>
                    {
                        let seen = doc.seen_at(&e.origin());
                        let theirs: Vec<DeviceId> = members
                            .devices
                            .values()
                            .filter(|d| d.partner == target)
                            .map(|d| d.id.clone())
                            .collect();
                        for device in theirs {
                            members.remove(&device, seen.get(&device.0).copied().unwrap_or(0));
                        }
                        members.ending = Some(Ending {
                            by,
                            partner: target.clone(),
                            at: time_of(e.int("at")),
                        });
                        ended = Some((target, seen));
                    }
                    _ => problems.push(Problem::new(
                        format!("ending {}", e.id),
                        "is not by a valid device of one partner, naming the other, or the pairing already ended; ignored",
                    )),
                }
            }
        }
    }
    for r in doc.records(&["partners"]) {
        members.max_seq = members.max_seq.max(r.int("seq").unwrap_or(0));
        let id = PartnerId(r.id.clone());
        if Some(&id) != first.as_ref() && Some(&id) != second.as_ref() {
            problems.push(Problem::new(
                format!("partner {}", r.id),
                "has no validly enrolled device; ignored",
            ));
            continue;
        }
        match (r.str("name"), r.str("time_zone")) {
            (Some(name), Some(tz)) if tz.parse::<chrono_tz::Tz>().is_ok() => {
                members.partners.push(Partner {
                    has_recovery: members.recovery.contains_key(&id),
                    id,
                    name: name.to_owned(),
                    time_zone: tz.to_owned(),
                })
            }
            _ => problems.push(Problem::new(
                format!("partner {}", r.id),
                "has a missing or invalid name or time zone",
            )),
        }
    }
    members
        .partners
        .sort_by_key(|p| if Some(&p.id) == first.as_ref() { 0 } else { 1 });
    members.authors = members
        .devices
        .values()
        .map(|d| {
            let author = RecordAuthor {
                partner: d.partner.clone(),
                device: d.id.clone(),
            };
            (d.id.clone(), Arc::new(author))
        })
        .collect();
    members
}

/// The partner and device that wrote a record.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RecordAuthor {
    pub(crate) partner: PartnerId,
    pub(crate) device: DeviceId,
}

/// A 32-byte hash as hex in caches.
mod hex_hash {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(hash: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(hash))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(&text, &mut out).map_err(serde::de::Error::custom)?;
        Ok(out)
    }
}

/// A validated acceptance record (its place in the document is
/// `agreements/<agreement>/acceptances/<id>`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AcceptanceRecord {
    pub(crate) id: String,
    /// When it was written (display only).
    pub(crate) at: Option<i64>,
    /// Who wrote it (shared by all the records of one device).
    pub(crate) author: Arc<RecordAuthor>,
    /// The content hash accepted ([`Content::hash_bytes`]).
    #[serde(with = "hex_hash")]
    pub(crate) hash: [u8; 32],
    pub(crate) revision: String,
    pub(crate) closes: BTreeSet<String>,
    /// Its place in causal order ([`Record::order`]).
    pub(crate) order: i64,
}

/// Everything derived about one agreement.
#[derive(Debug, Clone)]
pub(crate) struct AgreementState {
    pub(crate) summary: AgreementSummary,
    pub(crate) details: String,
    pub(crate) content: Option<Content>,
    pub(crate) revision: String,
    pub(crate) review_every: Option<ReviewCadence>,
    pub(crate) created_by: PartnerId,
    pub(crate) conflicts: Vec<FieldConflict>,
    /// Its acceptances, retirements and renegotiation requests as parsed (the acceptances
    /// are [`ChildRecords::acceptances`]).
    pub(crate) children: ChildRecords,
    pub(crate) retirement: Option<Retirement>,
    pub(crate) open_renegotiations: Vec<String>,
    pub(crate) max_seq: i64,
    /// A hash of what reminders read of this agreement (see [`AgreementState::reminder_fingerprint`]).
    reminder_fingerprint: u64,
}

/// The collections of records under an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) enum ChildKind {
    Acceptance,
    Retirement,
    Renegotiation,
}

impl ChildKind {
    pub(crate) const ALL: [ChildKind; 3] = [
        ChildKind::Acceptance,
        ChildKind::Retirement,
        ChildKind::Renegotiation,
    ];

    /// The key of the collection within the agreement.
    pub(crate) fn key(self) -> &'static str {
        match self {
            ChildKind::Acceptance => "acceptances",
            ChildKind::Retirement => "retirements",
            ChildKind::Renegotiation => "renegotiations",
        }
    }
}

/// An agreement's child records, parsed into what its state needs (the records themselves
/// are not kept). Kept with the state, so a local write that only adds records parses just
/// the new ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ChildRecords {
    /// Valid acceptances, by record id.
    pub(crate) acceptances: Vec<AcceptanceRecord>,
    /// Ids of every retirement record read.
    retirement_ids: Vec<String>,
    /// The first valid retirement in causal order: (order, id, retirement).
    retirement: Option<(i64, String, Retirement)>,
    /// Valid renegotiation requests: (id, the revision they name), by id.
    renegotiations: Vec<(String, Option<String>)>,
    /// Records that do not count, by (collection, id), with the problem each reports.
    refused: Vec<((ChildKind, String), Problem)>,
    /// The highest causal order among all the records read.
    max_seq: i64,
}

impl ChildRecords {
    /// Whether the record `id` of collection `kind` was read.
    fn knows(&self, kind: ChildKind, id: &str) -> bool {
        let parsed = match kind {
            ChildKind::Acceptance => self
                .acceptances
                .binary_search_by(|a| a.id.as_str().cmp(id))
                .is_ok(),
            ChildKind::Retirement => self.retirement_ids.iter().any(|r| r == id),
            ChildKind::Renegotiation => self
                .renegotiations
                .binary_search_by(|(r, _)| r.as_str().cmp(id))
                .is_ok(),
        };
        parsed
            || self
                .refused
                .binary_search_by(|((k, r), _)| (*k, r.as_str()).cmp(&(kind, id)))
                .is_ok()
    }

    /// Parses one record of collection `kind` of agreement `agreement`.
    fn add(&mut self, kind: ChildKind, r: Record, agreement: &str, members: &Members) {
        self.max_seq = self.max_seq.max(r.int("seq").unwrap_or(0));
        let author = members.record_author(&r);
        let refused = match (kind, author) {
            (ChildKind::Acceptance, Ok(author)) => {
                let (Some(hash), Some(rev)) = (r.str("hash"), r.str("revision")) else {
                    let problem =
                        Problem::new(format!("acceptance {}", r.id), "is incomplete; ignored");
                    self.refused.push(((kind, r.id), problem));
                    return;
                };
                let mut hash_bytes = [0u8; 32];
                if hex::decode_to_slice(hash, &mut hash_bytes).is_err() {
                    let problem = Problem::new(
                        format!("acceptance {}", r.id),
                        "names no valid content hash; ignored",
                    );
                    self.refused.push(((kind, r.id), problem));
                    return;
                }
                self.acceptances.push(AcceptanceRecord {
                    at: r.int("at"),
                    author,
                    hash: hash_bytes,
                    revision: rev.to_owned(),
                    closes: r
                        .str("closes")
                        .unwrap_or("")
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    order: r.order(),
                    id: r.id,
                });
                return;
            }
            (ChildKind::Retirement, Ok(author)) => {
                let key = (r.order(), r.id.clone());
                let candidate = Retirement {
                    partner: author.partner.clone(),
                    reason: r.str("reason").unwrap_or_default().to_owned(),
                    at: time_of(r.int("at")),
                };
                if self
                    .retirement
                    .as_ref()
                    .is_none_or(|(s, i, _)| key < (*s, i.clone()))
                {
                    self.retirement = Some((key.0, key.1, candidate));
                }
                self.retirement_ids.push(r.id);
                return;
            }
            (ChildKind::Renegotiation, Ok(_)) => {
                let revision = r.str("revision").map(str::to_owned);
                self.renegotiations.push((r.id, revision));
                return;
            }
            (ChildKind::Acceptance, Err(why)) => Problem::new(
                format!("acceptance {} of agreement {agreement}", r.id),
                format!("{why}; it does not count"),
            ),
            (ChildKind::Retirement, Err(why)) => {
                self.retirement_ids.push(r.id.clone());
                Problem::new(
                    format!("retirement {} of agreement {agreement}", r.id),
                    format!("{why}; it does not count"),
                )
            }
            (ChildKind::Renegotiation, Err(why)) => Problem::new(
                format!("renegotiation request {} of agreement {agreement}", r.id),
                format!("{why}; it does not count"),
            ),
        };
        self.refused.push(((kind, r.id), refused));
    }

    /// The records an agreement's status, acceptors and open requests can depend on, for a
    /// cache: the acceptances of the current `revision` (every later edit makes a new one),
    /// one pair by both partners of the same words (being active once is all the status
    /// reads of the past) and one acceptance to show it was ever accepted. Deriving from them
    /// gives the same summary as from all the records.
    pub(crate) fn for_summary(&self, revision: &str) -> ChildRecords {
        let mut keep: BTreeSet<usize> = BTreeSet::new();
        keep.extend(
            self.acceptances
                .iter()
                .enumerate()
                .filter(|(_, a)| a.revision == revision)
                .map(|(i, _)| i),
        );
        let pair = self.acceptances.iter().enumerate().find_map(|(i, a)| {
            self.acceptances
                .iter()
                .position(|b| {
                    a.author.partner != b.author.partner
                        && a.revision == b.revision
                        && a.hash == b.hash
                })
                .map(|j| [i, j])
        });
        keep.extend(pair.into_iter().flatten());
        if keep.is_empty() && !self.acceptances.is_empty() {
            keep.insert(0);
        }
        ChildRecords {
            acceptances: keep
                .into_iter()
                .map(|i| self.acceptances[i].clone())
                .collect(),
            ..self.clone_without_acceptances()
        }
    }

    fn clone_without_acceptances(&self) -> ChildRecords {
        ChildRecords {
            acceptances: Vec::new(),
            retirement_ids: self.retirement_ids.clone(),
            retirement: self.retirement.clone(),
            renegotiations: self.renegotiations.clone(),
            refused: self.refused.clone(),
            max_seq: self.max_seq,
        }
    }

    /// Puts everything back in id order after records were added.
    fn sort(&mut self) {
        self.acceptances.sort_by(|a, b| a.id.cmp(&b.id));
        self.renegotiations.sort_by(|a, b| a.0.cmp(&b.0));
        self.refused.sort_by(|a, b| a.0.cmp(&b.0));
    }
}

impl AgreementState {
    /// A hash of what reminders are computed from (id, status, next review, title, kind,
    /// strength, who it concerns), taken when the agreement is derived, so that checking
    /// whether reminders changed does not re-hash every agreement.
    pub(crate) fn reminder_fingerprint(&self) -> u64 {
        self.reminder_fingerprint
    }

    fn take_reminder_fingerprint(&mut self) {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let s = &self.summary;
        (
            &s.id,
            s.status,
            s.next_review,
            &s.title,
            s.kind,
            s.strength,
            &s.concerns,
        )
            .hash(&mut h);
        self.reminder_fingerprint = h.finish();
    }

    pub(crate) fn accepted_current(&self, partner: &PartnerId) -> bool {
        self.content.as_ref().is_some_and(|content| {
            let hash = content.hash_bytes();
            self.children.acceptances.iter().any(|a| {
                &a.author.partner == partner && a.hash == hash && a.revision == self.revision
            })
        })
    }

    /// Each partner's latest acceptance (by causal order).
    pub(crate) fn latest_acceptances(&self) -> Vec<&AcceptanceRecord> {
        let mut latest: BTreeMap<&PartnerId, &AcceptanceRecord> = BTreeMap::new();
        for a in &self.children.acceptances {
            let entry = latest.entry(&a.author.partner).or_insert(a);
            if (a.order, &a.id) > (entry.order, &entry.id) {
                *entry = a;
            }
        }
        latest.into_values().collect()
    }

    pub(crate) fn to_acceptances(&self) -> Vec<Acceptance> {
        let hash = self.content.as_ref().map(Content::hash_bytes);
        self.latest_acceptances()
            .into_iter()
            .map(|a| Acceptance {
                partner: a.author.partner.clone(),
                device: a.author.device.clone(),
                content_hash: hex::encode(a.hash),
                current: Some(a.hash) == hash && a.revision == self.revision,
                at: time_of(a.at),
            })
            .collect()
    }
}

/// Every distinct value of a register, parsed; `Err` names a value that does not parse.
fn values_of<T: PartialEq>(
    entity: &Entity,
    key: &str,
    parse: impl Fn(&Val) -> Option<T>,
) -> Result<Vec<(T, String, String)>, String> {
    let Some(register) = entity.registers.get(key) else {
        return Ok(Vec::new());
    };
    let mut out: Vec<(T, String, String)> = Vec::new();
    for (value, actor) in &register.values {
        let parsed = parse(value).ok_or_else(|| format!("field {key} has an invalid value"))?;
        let text = display_val(value);
        if !out.iter().any(|(v, _, _)| *v == parsed) {
            out.push((parsed, text, actor.clone()));
        }
    }
    Ok(out)
}

pub(crate) fn display_val(value: &Val) -> String {
    match value {
        Val::Str(s) => s.clone(),
        Val::Int(i) => i.to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Bytes(b) => format!("<{} bytes>", b.len()),
        Val::Other(o) => o.clone(),
    }
}

/// Parses the stored form of `field`, for any field (so conflicts can be listed uniformly).
pub(crate) fn field_value_ok(field: Field, value: &Val) -> bool {
    let Some(text) = value.as_str() else {
        return false;
    };
    match field {
        Field::Title => !text.trim().is_empty(),
        Field::Details => true,
        Field::Kind => Kind::parse(text).is_some_and(|k| k.as_str() == text),
        Field::Strength => Strength::parse(text).is_some_and(|k| k.as_str() == text),
        Field::Concerns => Concerns::from_stored(text).is_some(),
        Field::Category => Category::from_stored(text).is_some(),
        Field::ReviewEvery => text.is_empty() || ReviewCadence::from_stored(text).is_some(),
        Field::NextReview => text.is_empty() || text.parse::<NaiveDate>().is_ok(),
    }
}

fn stored_str(value: &Val) -> Option<String> {
    value.as_str().map(str::to_owned)
}

/// The revision everyone's acceptances must name: the single value, or (after edits merged
/// from several devices) a fingerprint of all of them, so that both partners accept again.
fn effective_revision(entity: &Entity) -> String {
    let mut values: Vec<String> = entity
        .registers
        .get("revision")
        .map(|r| r.values.iter().map(|(v, _)| display_val(v)).collect())
        .unwrap_or_default();
    values.sort();
    values.dedup();
    match values.as_slice() {
        [one] => one.clone(),
        many => {
            let mut h = Sha256::new();
            for v in many {
                h.update(v.as_bytes());
                h.update([0]);
            }
            format!("merged-{}", hex::encode(&h.finalize()[..12]))
        }
    }
}

/// Derives one agreement; `Err` is a problem report (the agreement is left out of views).
pub(crate) fn derive_agreement(
    mut entity: Entity,
    members: &Members,
    problems: &mut Vec<Problem>,
) -> Result<AgreementState, String> {
    let mut children = ChildRecords::default();
    for kind in ChildKind::ALL {
        for record in entity.children.remove(kind.key()).unwrap_or_default() {
            children.add(kind, record, &entity.id, members);
        }
    }
    children.sort();
    derive_from_parts(entity, children, members, problems)
}

/// Derives an agreement from its registers and its parsed child records.
fn derive_from_parts(
    entity: Entity,
    children: ChildRecords,
    members: &Members,
    problems: &mut Vec<Problem>,
) -> Result<AgreementState, String> {
    let id = AgreementId(entity.id.clone());
    let created_by = PartnerId(entity.str("created_by").ok_or("has no author")?.to_owned());
    let created_at = time_of(entity.int("created_at"));
    let seq = entity.int("seq").ok_or("has no order")?;

    let mut conflicts = Vec::new();
    let mut candidates_of = |field: Field| -> Result<Vec<(String, String)>, String> {
        let vals = values_of(&entity, field.key(), |v| {
            field_value_ok(field, v).then(|| stored_str(v)).flatten()
        })?;
        if vals.len() > 1 {
            conflicts.push(FieldConflict {
                field,
                candidates: vals
                    .iter()
                    .map(|(_, text, actor)| {
                        let device = members.author_of_actor(actor);
                        Candidate {
                            value: text.clone(),
                            author: device.map(|d| d.partner.clone()),
                            device: device.map(|d| d.id.clone()),
                        }
                    })
                    .collect(),
            });
        }
        Ok(vals.into_iter().map(|(v, _, a)| (v, a)).collect())
    };
    let titles = candidates_of(Field::Title)?;
    let details = candidates_of(Field::Details)?;
    let kinds = candidates_of(Field::Kind)?;
    let strengths = candidates_of(Field::Strength)?;
    let concerns = candidates_of(Field::Concerns)?;
    let categories = candidates_of(Field::Category)?;
    let reviews = candidates_of(Field::ReviewEvery)?;
    let next_reviews = candidates_of(Field::NextReview)?;
    let first = |vals: &[(String, String)], what: &str| -> Result<String, String> {
        vals.first()
            .map(|(v, _)| v.clone())
            .ok_or_else(|| format!("has no {what}"))
    };
    let joined = |vals: &[(String, String)]| -> String {
        vals.iter()
            .map(|(v, _)| v.as_str())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let kind = Kind::parse(&first(&kinds, "kind")?).ok_or("has an invalid kind")?;
    let strength =
        Strength::parse(&first(&strengths, "strength")?).ok_or("has an invalid strength")?;
    let concerns_v =
        Concerns::from_stored(&first(&concerns, "concerns")?).ok_or("has an invalid concerns")?;
    let category =
        Category::from_stored(&first(&categories, "category")?).ok_or("has an invalid category")?;
    let title_text = joined(&titles);
    if titles.is_empty() {
        return Err("has no title".into());
    }
    let details_text = joined(&details);
    let review_every = reviews
        .first()
        .and_then(|(v, _)| ReviewCadence::from_stored(v));
    let next_review = next_reviews
        .first()
        .and_then(|(v, _)| v.parse::<NaiveDate>().ok());
    let wording_conflict = conflicts.iter().any(|c| c.field.is_wording());
    let content = (!wording_conflict).then(|| Content {
        title: title_text.clone(),
        details: details_text.clone(),
        kind,
        strength,
        concerns: concerns_v.clone(),
    });
    let revision = effective_revision(&entity);
    let mut max_seq = seq;

    max_seq = max_seq.max(children.max_seq);
    problems.extend(children.refused.iter().map(|(_, p)| p.clone()));
    let partners = members.partner_ids();
    let content_hash = content.as_ref().map(Content::hash_bytes);
    let mut open_renegotiations = Vec::new();
    for (request, named) in &children.renegotiations {
        if named.as_deref() != Some(revision.as_str()) {
            continue; // the wording changed since: the request was answered by an edit
        }
        let closed = partners.len() == 2
            && partners.iter().all(|p| {
                children.acceptances.iter().any(|a| {
                    &a.author.partner == p
                        && a.revision == revision
                        && content_hash == Some(a.hash)
                        && a.closes.contains(request)
                })
            });
        if !closed {
            open_renegotiations.push(request.clone());
        }
    }
    let retirement = children.retirement.as_ref().map(|(_, _, r)| r.clone());

    let mut state = AgreementState {
        summary: AgreementSummary {
            id,
            title: title_text,
            category,
            kind,
            strength,
            concerns: concerns_v,
            status: Status::Draft,
            accepted_by: Vec::new(),
            next_review,
            created_at,
        },
        details: details_text,
        content,
        revision,
        review_every,
        created_by,
        conflicts,
        children,
        retirement,
        open_renegotiations,
        max_seq,
        reminder_fingerprint: 0,
    };
    state.summary.accepted_by = partners
        .iter()
        .filter(|p| state.accepted_current(p))
        .cloned()
        .collect();
    let both_now = partners.len() == 2 && state.summary.accepted_by.len() == 2;
    let ever_active = partners.len() == 2
        && state.children.acceptances.iter().any(|a| {
            state.children.acceptances.iter().any(|b| {
                a.author.partner != b.author.partner && a.revision == b.revision && a.hash == b.hash
            })
        });
    state.summary.status = if state.retirement.is_some() {
        Status::Retired
    } else if !state.conflicts.is_empty() {
        Status::Conflicted
    } else if !state.open_renegotiations.is_empty() || (ever_active && !both_now) {
        Status::NeedsRenegotiation
    } else if both_now {
        Status::Active
    } else if !state.summary.accepted_by.is_empty() {
        Status::Proposed
    } else {
        Status::Draft
    };
    state.take_reminder_fingerprint();
    Ok(state)
}

/// Reads and derives every agreement.
pub(crate) fn derive_agreements(
    doc: &Document,
    members: &Members,
    problems: &mut Vec<Problem>,
) -> BTreeMap<AgreementId, AgreementState> {
    let mut out = BTreeMap::new();
    for key in doc.non_map_keys(&["agreements"]) {
        problems.push(Problem::new(
            format!("agreement {key}"),
            "is not a map; ignored",
        ));
    }
    for id in doc.entity_ids("agreements") {
        if let Some(state) = derive_one(doc, &id, members, problems) {
            out.insert(state.summary.id.clone(), state);
        }
    }
    out
}

/// Re-derives an agreement after this device only added child records to it: registers are
/// read again, known child records are reused and only new ones are read.
pub(crate) fn derive_one_after_local_write(
    doc: &Document,
    previous: AgreementState,
    members: &Members,
    problems: &mut Vec<Problem>,
) -> Option<AgreementState> {
    let id = previous.summary.id.as_str();
    let entity = doc.entity_registers("agreements", id)?;
    let mut children = previous.children;
    for kind in ChildKind::ALL {
        let path = ["agreements", id, kind.key()];
        for key in doc.records_keys(&path) {
            if !children.knows(kind, &key) {
                if let Some(record) = doc.record(&path, &key) {
                    children.add(kind, record, id, members);
                }
            }
        }
    }
    children.sort();
    match derive_from_parts(entity, children, members, problems) {
        Ok(state) => Some(state),
        Err(why) => {
            problems.push(Problem::new(
                format!("agreement {id}"),
                format!("{why}; ignored"),
            ));
            None
        }
    }
}

/// Derives an agreement from its registers as cached (`entity`), its records as parsed
/// before, and `records` added since (by this device, without the document loaded).
pub(crate) fn derive_detached(
    entity: Entity,
    mut children: ChildRecords,
    records: Vec<(ChildKind, Record)>,
    members: &Members,
) -> Result<AgreementState, String> {
    let id = entity.id.clone();
    for (kind, record) in records {
        children.add(kind, record, &id, members);
    }
    children.sort();
    derive_from_parts(entity, children, members, &mut Vec::new())
}

/// Reads and derives one agreement; `None` when it is missing or breaks the schema.
pub(crate) fn derive_one(
    doc: &Document,
    id: &str,
    members: &Members,
    problems: &mut Vec<Problem>,
) -> Option<AgreementState> {
    let entity = doc.entity("agreements", id)?;
    match derive_agreement(entity, members, problems) {
        Ok(state) => Some(state),
        Err(why) => {
            problems.push(Problem::new(
                format!("agreement {id}"),
                format!("{why}; ignored"),
            ));
            None
        }
    }
}

/// Reads the follow-through log.
pub(crate) fn read_log(
    doc: &Document,
    members: &Members,
    problems: &mut Vec<Problem>,
) -> Vec<LogEntry> {
    read_log_from(doc.records(&["log"]), members, problems)
}

/// Like [`read_log`] for the given records only (used to update one record incrementally).
pub(crate) fn read_log_from(
    records: Vec<Record>,
    members: &Members,
    problems: &mut Vec<Problem>,
) -> Vec<LogEntry> {
    let mut out = Vec::new();
    for r in records {
        let parsed = members.record_author(&r).and_then(|author| {
            Ok(LogEntry {
                id: RecordId(r.id.clone()),
                agreement: AgreementId(
                    r.str("agreement")
                        .or_else(|| r.id.split_once(LOG_KEY_SEPARATOR).map(|(a, _)| a))
                        .filter(|a| !a.is_empty())
                        .ok_or("names no agreement")?
                        .to_owned(),
                ),
                kind: r
                    .str("kind")
                    .and_then(LogKind::parse)
                    .ok_or("has an invalid kind")?,
                text: r.str("text").unwrap_or_default().to_owned(),
                author: author.partner.clone(),
                at: time_of(r.int("at")),
                order: r.order(),
            })
        });
        match parsed {
            Ok(e) => out.push(e),
            Err(why) => problems.push(Problem::new(
                format!("log entry {}", r.id),
                format!("{why}; ignored"),
            )),
        }
    }
    out.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.id.cmp(&b.id)));
    out
}

/// Reads the recorded check-ins.
pub(crate) fn read_checkins(
    doc: &Document,
    members: &Members,
    problems: &mut Vec<Problem>,
) -> Vec<CheckIn> {
    read_checkins_from(doc.records(&["checkins"]), members, problems)
}

/// Like [`read_checkins`] for the given records only (used to update one record incrementally).
pub(crate) fn read_checkins_from(
    records: Vec<Record>,
    members: &Members,
    problems: &mut Vec<Problem>,
) -> Vec<CheckIn> {
    let mut out = Vec::new();
    for r in records {
        let parsed = members.record_author(&r).and_then(|by| {
            Ok(CheckIn {
                id: RecordId(r.id.clone()),
                held_on: r
                    .str("held_on")
                    .and_then(|d| d.parse().ok())
                    .ok_or("has an invalid date")?,
                notes: r.str("notes").unwrap_or_default().to_owned(),
                recorded_by: by.partner.clone(),
                at: time_of(r.int("at")),
                order: r.order(),
            })
        });
        match parsed {
            Ok(c) => out.push(c),
            Err(why) => problems.push(Problem::new(
                format!("check-in {}", r.id),
                format!("{why}; ignored"),
            )),
        }
    }
    out.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.id.cmp(&b.id)));
    out
}

/// Reads concerns and derives their state from their steps.
pub(crate) fn read_concerns(
    doc: &Document,
    members: &Members,
    problems: &mut Vec<Problem>,
    max_seq: &mut i64,
) -> Vec<Concern> {
    read_concerns_from(doc.records(&["concerns"]), members, problems, max_seq)
}

/// Like [`read_concerns`] for the given records only (used to update one record incrementally).
pub(crate) fn read_concerns_from(
    records: Vec<Record>,
    members: &Members,
    problems: &mut Vec<Problem>,
    max_seq: &mut i64,
) -> Vec<Concern> {
    let mut out = Vec::new();
    for r in records {
        let raised_by = match members.record_author(&r) {
            Ok(author) => author.partner.clone(),
            Err(why) => {
                problems.push(Problem::new(
                    format!("concern {}", r.id),
                    format!("{why}; ignored"),
                ));
                continue;
            }
        };
        let (Some(what), order) = (r.str("what_happened"), r.order()) else {
            problems.push(Problem::new(
                format!("concern {}", r.id),
                "is incomplete; ignored",
            ));
            continue;
        };
        let mut events = Vec::new();
        for e in r.children.get("events").map(Vec::as_slice).unwrap_or(&[]) {
            *max_seq = (*max_seq).max(e.int("seq").unwrap_or(0));
            match read_concern_event(e, &raised_by, members) {
                Ok(event) => events.push(event),
                Err(problem) => problems.push(problem),
            }
        }
        events.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
        let events: Vec<ConcernEvent> = events.into_iter().map(|(_, e)| e).collect();
        let (state, acknowledged) = concern_state(&events);
        out.push(Concern {
            id: ConcernId(r.id.clone()),
            agreement: r
                .str("agreement")
                .filter(|s| !s.is_empty())
                .map(|s| AgreementId(s.to_owned())),
            what_happened: what.to_owned(),
            how_i_felt: r.str("how_i_felt").unwrap_or_default().to_owned(),
            what_i_need: r.str("what_i_need").unwrap_or_default().to_owned(),
            raised_by,
            raised_at: time_of(r.int("at")),
            acknowledged,
            state,
            events,
            order,
        });
    }
    out.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.id.cmp(&b.id)));
    out
}

/// One step of a concern raised by `raised_by`, with its causal order; a problem when it is
/// malformed or taken by a partner who may not take it (it then does not count).
fn read_concern_event(
    e: &Record,
    raised_by: &PartnerId,
    members: &Members,
) -> std::result::Result<(i64, ConcernEvent), Problem> {
    let step = e.str("step").and_then(ConcernStep::from_stored);
    let Some(step) = step else {
        return Err(Problem::new(
            format!("concern step {}", e.id),
            "has an invalid step; ignored",
        ));
    };
    let partner = match members.record_author(e) {
        Ok(author) => author.partner.clone(),
        Err(why) => {
            return Err(Problem::new(
                format!("concern step {}", e.id),
                format!("{why}; it does not count"),
            ))
        }
    };
    let allowed = match step {
        ConcernStep::Acknowledged => &partner != raised_by,
        ConcernStep::Resolved => &partner == raised_by,
        ConcernStep::Responded | ConcernStep::Renegotiation => true,
    };
    if !allowed {
        return Err(Problem::new(
            format!("concern step {}", e.id),
            format!(
                "{} by this partner is not allowed; it does not count",
                step.as_str()
            ),
        ));
    }
    let event = ConcernEvent {
        id: RecordId(e.id.clone()),
        step,
        partner,
        text: e.str("text").unwrap_or_default().to_owned(),
        at: time_of(e.int("at")),
    };
    Ok((e.order(), event))
}

/// A concern's state and whether it was acknowledged, from its steps.
fn concern_state(events: &[ConcernEvent]) -> (ConcernState, bool) {
    let has = |s: ConcernStep| events.iter().any(|e| e.step == s);
    let state = if has(ConcernStep::Resolved) {
        ConcernState::Resolved
    } else if has(ConcernStep::Renegotiation) {
        ConcernState::Renegotiation
    } else if has(ConcernStep::Responded) {
        ConcernState::Responded
    } else if has(ConcernStep::Acknowledged) {
        ConcernState::Acknowledged
    } else {
        ConcernState::Open
    };
    (state, has(ConcernStep::Acknowledged))
}

/// `concern` after step `e`, which this device just added with the highest causal order
/// (a write without the document); `None` when the step does not count.
pub(crate) fn concern_after_step(
    concern: &Concern,
    e: &Record,
    members: &Members,
) -> Option<Concern> {
    let (_, event) = read_concern_event(e, &concern.raised_by, members).ok()?;
    let mut after = concern.clone();
    after.events.push(event);
    (after.state, after.acknowledged) = concern_state(&after.events);
    Some(after)
}

/// The highest sequence number (see [`crate::ids::order_key`]) among records outside
/// agreements, read from their ids.
pub(crate) fn max_record_seq(log: &[LogEntry], checkins: &[CheckIn], concerns: &[Concern]) -> i64 {
    let ids = log
        .iter()
        .map(|e| e.id.as_str())
        .chain(checkins.iter().map(|c| c.id.as_str()))
        .chain(concerns.iter().map(|c| c.id.as_str()));
    ids.filter_map(crate::ids::seq_of_key).max().unwrap_or(0)
}
