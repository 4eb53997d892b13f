//! [`Space`]: one device's copy of the couple space, with the typed domain API.
//!
//! Every write is one Automerge change made by this device, appended to the log and fsynced
//! before the call returns. Views are derived from the document (see [`crate::view`]) and kept
//! up to date incrementally; opening shows the list from a cache checked against the stored
//! heads while the document loads on a background thread.

use crate::agreement::{
    clean_text, AgreementDetails, AgreementEdit, AgreementSummary, Category, Content, Field,
    FieldChange, NewAgreement, Status, MAX_DETAILS_CHARS, MAX_NAME_CHARS, MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
};
use crate::checkin::CheckIn;
use crate::concern::{Concern, ConcernStep, NewConcern};
use crate::document::{heads_from_bytes, heads_to_bytes, Document, Entity, Heads, Record, Val};
use crate::error::{Error, Result};
use crate::followthrough::{LogEntry, LogKind};
use crate::identity::DeviceIdentity;
use crate::ids::{
    AgreementId, ConcernId, DeviceId, PartnerId, RecordId, SpaceId, LOG_KEY_SEPARATOR,
};
use crate::position::{Position, PositionState};
use crate::recovery::RecoverySecret;
use crate::storage::{cut_log_at, Frame, IntentLog, Storage, TornTail};
use crate::trust::{Anchor, Checkpoint, Checkpoints, Role, CHECKPOINT_BYTES};
use crate::view::{
    self, display_val, field_value_ok, AgreementState, Device, Ending, Members, Partner, Problem,
    TrustContext,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

pub use crate::document::SCHEMA_VERSION;

mod agenda;
mod agreements;
mod cache;
mod cached_writes;
mod commit;
mod concerns;
mod derive;
mod follow_through;
mod intents;
mod keys;
mod members;
mod open;
mod plan;
mod positions;
mod reminders;
mod sync;

use agenda::AgendaInputs;
use cache::Deferred;
use commit::*;
use derive::*;
use intents::{Intent, PendingIntent, Replaying, WriteBasis};
use plan::*;
use reminders::ReminderState;

pub use reminders::DEFAULT_HORIZON_DAYS;

pub use sync::PeerSyncState;

/// The log is due for compaction into a snapshot after this many appended frames
/// ([`Space::compact_if_due`] at a quiet moment: the node when idle, closing the space) ...
const COMPACT_AFTER_FRAMES: usize = 2_000;

/// ... or once the log is this large.
const COMPACT_AFTER_BYTES: u64 = 8 * 1024 * 1024;

/// A write compacts at once when the log reaches this many times those limits (no quiet
/// moment came).
const COMPACT_NOW_FACTOR: u64 = 4;

/// When the log is compacted (the limits above; tests use smaller ones).
#[derive(Debug, Clone, Copy)]
struct CompactionLimits {
    frames: usize,
    bytes: u64,
}

impl Default for CompactionLimits {
    fn default() -> Self {
        CompactionLimits {
            frames: COMPACT_AFTER_FRAMES,
            bytes: COMPACT_AFTER_BYTES,
        }
    }
}

/// What a founder enters to create a space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CreateSpace {
    /// The founder's display name.
    pub partner_name: String,
    /// The founder's IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// A name for this device ("Alex's phone").
    pub device_name: String,
}

/// The space, its members and this device's place in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SpaceInfo {
    /// Space id.
    pub id: SpaceId,
    /// Schema version stored in the document.
    pub schema_version: u64,
    /// `Some(reason)` when the space is open read-only.
    pub read_only: Option<String>,
    /// This device.
    pub my_device: DeviceId,
    /// This device's partner.
    pub me: PartnerId,
    /// The partners (at most two).
    pub partners: Vec<Partner>,
    /// Every enrolled device (removed ones flagged).
    pub devices: Vec<Device>,
    /// The end of the pairing, if a partner ended it.
    pub ending: Option<Ending>,
}

/// What opening found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// A torn or corrupt log tail that was cut off (everything before it was kept).
    pub torn_tail: Option<TornTail>,
    /// Why the space is read-only, if it is.
    pub read_only: Option<String>,
    /// A torn or corrupt tail of the intent log (writes made without the document) that was
    /// cut off; the intents before it were kept.
    pub damaged_intents: Option<TornTail>,
    /// Writes made without the document (intents) that loading replayed into it.
    pub replayed: Option<ReplayReport>,
}

/// Intents replayed into the document when it loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// How many.
    pub intents: usize,
    /// How long replaying them took, in microseconds.
    pub micros: u64,
}

/// Filter for [`Space::list`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ListFilter {
    /// Only this category.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub category: Option<Category>,
    /// Only this status.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub status: Option<Status>,
}

/// One entry of an agreement's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HistoryEntry {
    /// When, by the writing device's clock (display only).
    pub at: DateTime<Utc>,
    /// Who (if the writing device is known).
    pub partner: Option<PartnerId>,
    /// Which device.
    pub device: Option<DeviceId>,
    /// What was done: `created`, `edited`, `accepted`, `resolved`, `retired`, ...
    pub action: String,
    /// Fields whose values this change set, with the values before and after.
    pub changes: Vec<FieldChange>,
}

#[derive(Serialize, Deserialize)]
struct OpMessage {
    op: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agreement: Option<String>,
}

/// `view.json`: what is shown before the document is loaded, valid for the heads and the log
/// it was written at.
#[derive(Serialize, Deserialize)]
struct ViewCache {
    heads: Vec<String>,
    schema: u64,
    agreements: Vec<AgreementSummary>,
    /// The agenda's other inputs (absent in caches of earlier builds, and while this device
    /// is not a member).
    #[serde(default)]
    agenda: Option<AgendaInputs>,
    /// Frames in the log when written: a frame that only adds checkpoints (which can change
    /// who counts as a member) leaves the heads as they were.
    #[serde(default)]
    log_frames: Option<usize>,
    /// What planning a write reads without the document (absent: such writes load it);
    /// parsed on the first write, as most processes only read the list.
    #[serde(default)]
    basis: Option<Deferred<WriteBasis>>,
    /// The pending intents already applied to these views, oldest first.
    #[serde(default)]
    intents: Vec<String>,
}

/// Views derived from the document at `heads`.
struct Derived {
    heads: Vec<Heads>,
    members: Members,
    agreements: BTreeMap<AgreementId, AgreementState>,
    log: Vec<LogEntry>,
    checkins: Vec<CheckIn>,
    concerns: Vec<Concern>,
    /// Recurring commitments, check-in ritual, done and snooze marks.
    reminders: ReminderState,
    /// Problems by scope (`members`, `agreement:<id>`, `log`, ...), replaced when re-derived.
    problems: BTreeMap<String, Vec<Problem>>,
    max_seq: i64,
    /// The schema version stored in the document.
    schema: Option<u64>,
}

/// Something that happened to the space, for the app to react to (see [`Space::take_events`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpaceEvent {
    /// The document changed; `remote` when the change arrived from another device.
    DocumentChanged {
        /// Whether the change came from another device.
        remote: bool,
    },
    /// What reminds whom, or when, may have changed: reschedule local notifications.
    RemindersChanged,
}

/// What a write touched, so only that is derived again.
enum Touched {
    All,
    /// This device enrolled another device of its own partner (members only, unless the
    /// new device already wrote something confirmed here).
    DeviceAdded(DeviceId),
    Agreement(AgreementId),
    /// This device wrote registers of the agreement or added records to it (nothing else
    /// changed in its existing records).
    AgreementWritten(AgreementId),
    Log,
    Checkins,
    Concerns(Option<AgreementId>),
    /// One log entry, check-in or concern (re-read alone, not the whole collection).
    LogEntry(String),
    CheckIn(String),
    Concern(String, Option<AgreementId>),
    Positions,
    Reminders,
}

/// What an edit needs of an agreement's current state (not the whole state, which holds
/// every acceptance).
struct EditBasis {
    conflicts: Vec<crate::agreement::FieldConflict>,
    content: Option<Content>,
    /// Whether anyone ever accepted it (a draft is edited without accepting).
    accepted_ever: bool,
    revision: String,
    open_renegotiations: Vec<String>,
}

/// What loading read besides the document: the index of the first bad log frame (if any),
/// the checkpoints stored in the log and the ids of the intents its changes made.
#[derive(Default)]
struct LoadedExtras {
    bad_frame: Option<usize>,
    checkpoints: Vec<Checkpoint>,
    intents: BTreeSet<String>,
}

/// The loaded document and what else the log held.
type LoadResult = std::result::Result<(Document, LoadedExtras), Error>;

enum DocState {
    /// Opened on demand: loaded by the first call that needs the document.
    NotLoaded(Box<DocumentSource>),
    Loading(JoinHandle<LoadResult>),
    Ready(Box<Document>),
    Poisoned,
}

/// What loading the document reads: the stored snapshot and the frames of the log.
struct DocumentSource {
    dir: PathBuf,
    actor: [u8; 32],
    frames: Vec<Frame>,
}

/// When [`Space`] loads the whole document (its full history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadMode {
    /// At once, on a background thread, while the list and the agenda are served from the
    /// view cache (apps: the document is needed soon, for sync and details).
    Background,
    /// Only when a call needs it, on the calling thread. The list, the agenda and upcoming
    /// reminders are served from the view cache when it matches the stored heads, so a
    /// process that only reads them never loads the document (one-shot commands,
    /// background reminder jobs).
    OnDemand,
}

/// One device's copy of the couple space.
pub struct Space {
    storage: Storage,
    identity: DeviceIdentity,
    trust: TrustContext,
    doc: DocState,
    derived: Option<Derived>,
    /// `view.json` when it matches the stored log: the list, the agenda and reminders are
    /// served from it until the document is loaded and derived.
    cached: Option<ViewCache>,
    persisted_heads: Vec<Heads>,
    report: OpenReport,
    /// Events not yet taken by the app.
    events: Vec<SpaceEvent>,
    /// Fingerprint of everything the reminder schedule depends on.
    reminders_fingerprint: u64,
    /// Views reminders depend on were re-derived since the fingerprint was last taken.
    reminders_dirty: bool,
    /// Checkpoints received from peers and not yet in the log (stored with the next frame).
    unstored_checkpoints: Vec<Checkpoint>,
    /// When the log is compacted.
    compaction: CompactionLimits,
    /// Why loading the document failed, repeated to every later call that needs it.
    load_failure: Option<String>,
    /// `intents.log`: writes made without the document, until they are replayed into it.
    intents: IntentLog,
    /// The intents in the log, oldest first (replayed when the document loads).
    pending: Vec<PendingIntent>,
    /// The replay of pending intents under way, if one is.
    replaying: Option<Replaying>,
    /// Ids of replayed intents whose changes are not yet in the log (stored with them).
    unstored_intents: Vec<String>,
    /// Pending intents past which a write loads the document and replays them.
    max_pending_intents: usize,
    /// The view cache changed since it was written (intents applied to it).
    unsaved_caches: bool,
    /// Whether the space was closed by [`Space::shutdown`] (dropping it unclosed only logs).
    closed: bool,
    /// Another copy of this device wrote with its key (kept in `key-in-use`): this copy no
    /// longer writes or syncs.
    key_in_use: bool,
    /// This directory is a partner's backup restored with their recovery secret: readable as
    /// that partner, never written or synced (kept in `restored-backup`).
    restored: Option<keys::Restored>,
}

/// Marks a device directory whose key another copy of the device also uses.
pub(crate) const KEY_IN_USE_FILE: &str = "key-in-use";

fn now_ms(now: DateTime<Utc>) -> i64 {
    now.timestamp_millis()
}

fn check_time_zone(tz: &str) -> Result<String> {
    let tz = tz.trim();
    tz.parse::<chrono_tz::Tz>().map_err(|_| {
        Error::invalid(
            "time zone",
            format!("'{tz}' is not an IANA time zone; use a name like Europe/Berlin"),
        )
    })?;
    Ok(tz.to_owned())
}

impl Space {
    pub(crate) fn doc(&self) -> &Document {
        match &self.doc {
            DocState::Ready(doc) => doc,
            _ => unreachable!("callers call ready() first"),
        }
    }

    fn derived(&self) -> &Derived {
        self.derived.as_ref().expect("callers call ready() first")
    }

    /// The agenda's inputs in the view cache, while the document is not loaded.
    fn cached_agenda(&self) -> Option<&AgendaInputs> {
        match (&self.derived, &self.cached) {
            (None, Some(cache)) => cache.agenda.as_ref(),
            _ => None,
        }
    }

    /// What opening found and repaired (complete once the document has loaded).
    pub fn open_report(&mut self) -> Result<OpenReport> {
        self.ready()?;
        Ok(self.report.clone())
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        self.storage.dir()
    }

    /// Takes the events that happened since the last call (document changed, reminders
    /// changed), oldest first. The node delivers them to the app's listener.
    pub fn take_events(&mut self) -> Vec<SpaceEvent> {
        std::mem::take(&mut self.events)
    }

    /// This device's identity.
    pub fn identity(&self) -> &DeviceIdentity {
        &self.identity
    }
}

#[cfg(test)]
impl Space {
    /// Compacts after `frames` frames or `bytes` of log instead of the defaults.
    pub(crate) fn set_compaction_limits(&mut self, frames: usize, bytes: u64) {
        self.compaction = CompactionLimits { frames, bytes };
    }

    /// Whether the whole document is loaded (not only the caches).
    pub(crate) fn document_loaded(&self) -> bool {
        matches!(self.doc, DocState::Ready(_))
    }

    /// Loads and replays the pending intents once `limit` wait, instead of the default.
    pub(crate) fn set_max_pending_intents(&mut self, limit: usize) {
        self.max_pending_intents = limit;
    }

    /// The loaded document itself, to build what only a modified client would hold.
    pub(crate) fn doc_mut(&mut self) -> &mut Document {
        match &mut self.doc {
            DocState::Ready(doc) => doc,
            _ => panic!("the document is not loaded"),
        }
    }

    /// Frames appended since the last snapshot.
    pub(crate) fn frames_since_snapshot(&self) -> usize {
        self.storage.frames_since_snapshot()
    }

    /// Writes a raw change as this device (to simulate buggy or hostile peers in tests).
    pub(crate) fn raw_change(
        &mut self,
        f: impl FnOnce(&mut crate::document::Tx<'_, '_>) -> Result<()>,
    ) -> Result<()> {
        self.ready()?;
        self.write("raw", None, chrono::Utc::now(), Touched::All, f)
    }

    /// `change` (made under this device's actor, e.g. by `Document::forge_change`) with this
    /// device's signed checkpoint of it, as a modified client of this device would send it.
    pub(crate) fn signed(&self, change: Vec<u8>) -> Vec<Vec<u8>> {
        self.signed_as(&self.identity, change)
    }

    /// A change a modified client of this device builds with `f` (not stored here), with this
    /// device's checkpoint of it: what that client would send.
    pub(crate) fn forged(
        &self,
        f: impl FnOnce(&mut crate::document::Tx<'_, '_>) -> Result<()>,
    ) -> Vec<Vec<u8>> {
        let change = self
            .doc()
            .forge_change(&self.identity.actor_bytes(), f)
            .expect("the forged write changes something");
        self.signed(change)
    }

    /// `change` with a checkpoint of it signed by `identity` for this space.
    pub(crate) fn signed_as(&self, identity: &DeviceIdentity, change: Vec<u8>) -> Vec<Vec<u8>> {
        let hash = automerge::Change::from_bytes(change.clone())
            .expect("a change")
            .hash()
            .0;
        let checkpoint = Checkpoint::sign(identity, &self.trust.space_id, hash);
        vec![change, checkpoint_item(&checkpoint)]
    }
}

impl Drop for Space {
    fn drop(&mut self) {
        // No I/O here: everything written is durable already; only the caches may be older.
        if !self.closed {
            tracing::debug!(
                dir = %self.storage.dir().display(),
                "space dropped without shutdown(); its view cache was not refreshed"
            );
        }
    }
}

fn unique_prefix<'a, T: 'a + Clone + std::fmt::Display>(
    what: &'static str,
    prefix: &str,
    ids: impl Iterator<Item = &'a T>,
) -> Result<T> {
    let prefix = prefix.trim();
    if prefix.is_empty() {
        return Err(Error::invalid("id", "is empty"));
    }
    let matches: Vec<&T> = ids
        .filter(|id| id.to_string().starts_with(prefix))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::not_found(what, prefix)),
        many => Err(Error::invalid(
            "id",
            format!(
                "'{prefix}' matches {} {what}s; give more characters",
                many.len()
            ),
        )),
    }
}

/// Why a space whose document holds schema version `schema` is open read-only, if it is.
fn read_only_reason(schema: Option<u64>) -> Option<String> {
    match schema {
        Some(v) => schema_error(v).map(|e| e.to_string()),
        None => Some("the space has no schema version; it is open read-only".into()),
    }
}

/// The error for writing to or syncing a space of schema version `schema`, if this build may
/// not: a newer version's space, or one from a development schema before write rights and
/// bound keys (its records follow rules this build refuses).
pub(crate) fn schema_error(schema: u64) -> Option<Error> {
    match schema {
        v if v > SCHEMA_VERSION => Some(Error::ReadOnly {
            found: v,
            supported: SCHEMA_VERSION,
        }),
        v if v < SCHEMA_VERSION => Some(Error::DevelopmentSchema {
            found: v,
            supported: SCHEMA_VERSION,
        }),
        _ => None,
    }
}

/// Who acts in which causal order: the fields every record written by a device carries.
pub(crate) struct Act {
    seq: i64,
}

impl Act {
    pub(crate) fn new(seq: i64) -> Self {
        Act { seq }
    }

    /// `fields` plus the causal order. Neither the acting device, its partner nor the time is
    /// stored: the device is the change's actor, which its checkpoint confirms; the partner
    /// is the one that device is enrolled for; the time is the change's time.
    pub(crate) fn fields<'k>(&self, mut fields: Vec<(&'k str, Val)>) -> Vec<(&'k str, Val)> {
        fields.push(("seq", self.seq.into()));
        fields
    }
}

/// Where the data of a device lives by default (the platform's data directory for Accord).
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("accord")
}
