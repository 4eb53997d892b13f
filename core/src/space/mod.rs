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
use crate::position::{PartnerSecret, Position, PositionState};
use crate::storage::{cut_log_at, Frame, IntentLog, Storage, TornTail};
use crate::trust::{Anchor, Checkpoint, Checkpoints, Role, CHECKPOINT_BYTES};
use crate::view::{
    self, display_val, field_value_ok, AgreementState, Device, Members, Partner, Problem,
    TrustContext,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

pub use crate::document::SCHEMA_VERSION;

mod agenda;
mod intents;
mod reminders;
mod sync;
use agenda::AgendaInputs;
use intents::{Intent, PendingIntent, Replaying, WriteBasis};
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
}

/// Filter for [`Space::list`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListFilter {
    /// Only this category.
    pub category: Option<Category>,
    /// Only this status.
    pub status: Option<Status>,
}

/// One entry of an agreement's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// What planning a write reads without the document (absent: such writes load it).
    #[serde(default)]
    basis: Option<WriteBasis>,
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

impl EditBasis {
    fn of(state: &AgreementState) -> Self {
        EditBasis {
            conflicts: state.conflicts.clone(),
            content: state.content.clone(),
            accepted_ever: !state.children.acceptances.is_empty(),
            revision: state.revision.clone(),
            open_renegotiations: state.open_renegotiations.clone(),
        }
    }
}

impl Touched {
    /// Whether re-deriving this part can change what reminders are computed from (partners,
    /// agreements, concerns, rules and marks; not the log, check-ins or positions).
    fn affects_reminders(&self) -> bool {
        !matches!(
            self,
            Touched::Log
                | Touched::LogEntry(_)
                | Touched::Checkins
                | Touched::CheckIn(_)
                | Touched::Positions
        )
    }
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

impl DocumentSource {
    /// Loads the snapshot and applies the log's frames, stopping at the first bad frame.
    fn load(self) -> LoadResult {
        let snapshot = crate::storage::read_snapshot_file(&self.dir)?;
        let mut doc = match &snapshot {
            Some((_, bytes)) => {
                Document::load(bytes, &self.actor).map_err(|reason| Error::Corrupt {
                    path: self.dir.join("snapshot.bin"),
                    reason,
                })?
            }
            None => Document::empty(&self.actor),
        };
        let mut extras = LoadedExtras::default();
        for (i, frame) in self.frames.iter().enumerate() {
            let Ok(items) = FrameItems::split(&frame.changes) else {
                extras.bad_frame = Some(i);
                return Ok((doc, extras));
            };
            if doc.apply_stored_changes(&items.changes).is_err() {
                extras.bad_frame = Some(i);
                return Ok((doc, extras));
            }
            extras.checkpoints.extend(items.checkpoints);
            extras.intents.extend(items.intents);
        }
        doc.prepare_for_peers();
        Ok((doc, extras))
    }
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
    /// The secret only this partner's devices hold (sealed positions); `None` until received.
    secret: Option<PartnerSecret>,
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
    /// The intent being replayed, if one is.
    replaying: Option<Replaying>,
    /// Pending intents past which a write loads the document and replays them.
    max_pending_intents: usize,
    /// The view cache changed since it was written (intents applied to it).
    unsaved_caches: bool,
    /// Whether the space was closed by [`Space::shutdown`] (dropping it unclosed only logs).
    closed: bool,
}

fn now_ms(now: DateTime<Utc>) -> i64 {
    now.timestamp_millis()
}

/// Whether partner `me` may take `step` on concern `id` (`None`: closed); `Ok(false)` when
/// there is nothing to write (acknowledged already).
fn check_concern_step(
    concern: Option<&Concern>,
    id: &ConcernId,
    me: &PartnerId,
    step: ConcernStep,
) -> Result<bool> {
    let Some(concern) = concern.filter(|c| c.state.is_open()) else {
        return Err(Error::NotAllowed(format!("concern {id} is already closed")));
    };
    match step {
        ConcernStep::Acknowledged if &concern.raised_by == me => Err(Error::NotAllowed(
            "the partner who raised a concern cannot acknowledge it; your partner does".into(),
        )),
        ConcernStep::Acknowledged if concern.acknowledged => Ok(false),
        ConcernStep::Resolved if &concern.raised_by != me => Err(Error::NotAllowed(
            "only the partner who raised a concern can say it is resolved".into(),
        )),
        ConcernStep::Renegotiation if concern.agreement.is_none() => Err(Error::NotAllowed(
            "this concern is about no agreement; raise a renegotiation on an agreement instead"
                .into(),
        )),
        _ => Ok(true),
    }
}

/// A follow-through entry's fields (besides the causal order and time every record carries).
fn log_entry_fields(kind: LogKind, text: String) -> Vec<(&'static str, Val)> {
    let mut fields = vec![("kind", kind.as_str().into())];
    if !text.is_empty() {
        fields.push(("text", text.into()));
    }
    fields
}

/// A check-in's fields (besides the causal order and time every record carries).
fn checkin_fields(held_on: NaiveDate, notes: String) -> Vec<(&'static str, Val)> {
    vec![
        ("held_on", held_on.to_string().into()),
        ("notes", notes.into()),
    ]
}

/// A concern step's fields (besides the causal order and time every record carries).
fn concern_step_fields(step: ConcernStep, text: String) -> Vec<(&'static str, Val)> {
    vec![("step", step.as_str().into()), ("text", text.into())]
}

/// The key of a follow-through entry on agreement `id` by `device` at causal order `seq`. It
/// starts with the agreement (which the entry then need not repeat), so the entries of one
/// agreement sit together and compress well.
fn log_entry_key(id: &AgreementId, device: &DeviceId, seq: i64) -> RecordId {
    let own = RecordId::for_record(device, seq);
    RecordId(format!("{}{LOG_KEY_SEPARATOR}{}", id.0, own.0))
}

/// A change's message: the operation and the agreement it concerns, as `op` or
/// `op@agreement` (short: it travels with every change).
fn message(op: &str, agreement: Option<&AgreementId>) -> String {
    match agreement {
        Some(id) => format!("{op}@{id}"),
        None => op.to_owned(),
    }
}

/// Reads a change's message (the form above, or the JSON of earlier builds).
fn parse_message(text: &str) -> OpMessage {
    if let Ok(message) = serde_json::from_str::<OpMessage>(text) {
        return message;
    }
    match text.split_once('@') {
        Some((op, agreement)) => OpMessage {
            op: op.to_owned(),
            agreement: Some(agreement.to_owned()),
        },
        None => OpMessage {
            op: text.to_owned(),
            agreement: None,
        },
    }
}

/// Start of an exported space (then the number of checkpoints, u32 BE, the checkpoints and
/// the Automerge document).
const EXPORT_MAGIC: &[u8; 4] = b"ACX1";
/// Start of a checkpoint item in a change list (never the start of an Automerge change).
const CHECKPOINT_ITEM_MAGIC: &[u8; 4] = b"ACKP";
/// Start of an item of a stored log frame naming the intent its changes made (only in this
/// device's own log, never from a peer).
const INTENT_ITEM_MAGIC: &[u8; 4] = b"ACIN";

/// A checkpoint as an item of a change list or log frame.
fn checkpoint_item(checkpoint: &Checkpoint) -> Vec<u8> {
    let mut item = CHECKPOINT_ITEM_MAGIC.to_vec();
    checkpoint.encode(&mut item);
    item
}

/// A change list (a stored log frame, or a peer's message) split into its parts.
struct FrameItems {
    changes: Vec<Vec<u8>>,
    checkpoints: Vec<Checkpoint>,
    /// The intents these changes made (only this device's own log holds them).
    intents: Vec<String>,
}

impl FrameItems {
    /// Separates the checkpoint and intent items of a change list from the changes.
    fn split(items: &[Vec<u8>]) -> Result<FrameItems> {
        let mut split = FrameItems {
            changes: Vec::with_capacity(items.len()),
            checkpoints: Vec::new(),
            intents: Vec::new(),
        };
        for item in items {
            if let Some(rest) = item.strip_prefix(CHECKPOINT_ITEM_MAGIC) {
                split.checkpoints.extend(
                    Checkpoint::decode_all(rest).ok_or_else(|| {
                        Error::InvalidRemoteData("a checkpoint is malformed".into())
                    })?,
                );
            } else if let Some(rest) = item.strip_prefix(INTENT_ITEM_MAGIC) {
                split
                    .intents
                    .push(String::from_utf8_lossy(rest).into_owned());
            } else {
                split.changes.push(item.clone());
            }
        }
        Ok(split)
    }
}

/// Splits an export into its checkpoints and document (a bare document has none).
fn split_export(bytes: &[u8]) -> Result<(Vec<Checkpoint>, &[u8])> {
    let Some(rest) = bytes.strip_prefix(EXPORT_MAGIC) else {
        return Ok((Vec::new(), bytes));
    };
    let bad = || Error::InvalidRemoteData("the exported space is truncated".into());
    let count = u32::from_be_bytes(
        rest.get(..4)
            .ok_or_else(bad)?
            .try_into()
            .map_err(|_| bad())?,
    ) as usize;
    let len = count.checked_mul(CHECKPOINT_BYTES).ok_or_else(bad)?;
    let list = rest.get(4..4 + len).ok_or_else(bad)?;
    let checkpoints = Checkpoint::decode_all(list).ok_or_else(bad)?;
    Ok((checkpoints, &rest[4 + len..]))
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
    // ----- opening -------------------------------------------------------------------------

    /// Creates a new space in the empty device directory `dir`, founded by this device.
    pub fn create(dir: &Path, input: CreateSpace, now: DateTime<Utc>) -> Result<Space> {
        let name = clean_text("partner name", &input.partner_name, MAX_NAME_CHARS, true)?;
        let device_name = clean_text("device name", &input.device_name, MAX_NAME_CHARS, false)?;
        let tz = check_time_zone(&input.time_zone)?;
        let lock = Storage::lock(dir)?;
        if Storage::exists(dir) {
            return Err(Error::AlreadyInitialized(dir.to_path_buf()));
        }
        let identity = DeviceIdentity::load_or_create(dir)?;
        let space_id = SpaceId::random();
        let partner = PartnerId::random();
        let device = identity.device_id();
        let anchor = Anchor {
            space_id: space_id.0.clone(),
            founder_device: device.0.clone(),
        };
        let mut doc = Document::create(
            &identity.actor_bytes(),
            space_id.as_str(),
            device.as_str(),
            now_ms(now),
        )?;
        doc.change(&message("found", None), now_ms(now), |tx| {
            tx.insert_map(
                &["partners"],
                partner.as_str(),
                vec![
                    ("name", name.into()),
                    ("time_zone", tz.into()),
                    ("seq", 1i64.into()),
                    ("at", now_ms(now).into()),
                ],
                &[],
            )?;
            tx.insert_map(
                &["devices"],
                device.as_str(),
                vec![
                    ("partner", partner.0.clone().into()),
                    ("name", device_name.into()),
                    ("role", Role::Founder.as_str().into()),
                    ("seq", 2i64.into()),
                    ("enrolled_by", device.0.clone().into()),
                    ("at", now_ms(now).into()),
                ],
                &["removals"],
            )
        })?;
        PartnerSecret::generate().save(dir)?;
        Self::from_new_document(
            dir,
            lock,
            identity,
            doc,
            anchor,
            Checkpoints::default(),
            None,
        )
    }

    /// Sets up this (empty) device directory from a copy of a space in which this device was
    /// already enrolled (by the inviting device).
    ///
    /// The first device of a partner creates that partner's private secret; a further device
    /// of the same partner receives it (`partner_secret`) over the paired connection.
    pub fn join(dir: &Path, document: &[u8]) -> Result<Space> {
        Self::join_with_secret(dir, document, None)
    }

    /// Like [`Space::join`], with the partner's private secret from another device of theirs.
    pub fn join_with_secret(
        dir: &Path,
        document: &[u8],
        partner_secret: Option<[u8; 32]>,
    ) -> Result<Space> {
        let lock = Storage::lock(dir)?;
        if Storage::exists(dir) {
            return Err(Error::AlreadyInitialized(dir.to_path_buf()));
        }
        let identity = DeviceIdentity::load_or_create(dir)?;
        let (checkpoint_list, document) = split_export(document)?;
        let doc = Document::load(document, &identity.actor_bytes())
            .map_err(|e| Error::InvalidRemoteData(format!("the space could not be read: {e}")))?;
        // A joining device has written nothing: changes in its name are forged, and it would
        // confirm them with its first checkpoint.
        if doc.last_local_change().is_some() {
            return Err(Error::InvalidRemoteData(
                "the received space holds changes in this device's name; it was refused".into(),
            ));
        }
        let (Some(space_id), Some(founder)) =
            (doc.root_str("space_id"), doc.root_str("founder_device"))
        else {
            return Err(Error::InvalidRemoteData(
                "the space names no id or founder".into(),
            ));
        };
        let anchor = Anchor {
            space_id,
            founder_device: founder,
        };
        let checkpoints = Checkpoints::default();
        checkpoints.add(&checkpoint_list);
        checkpoints.resolve(&anchor.space_id, |h| doc.change_facts(h));
        let trust = TrustContext {
            space_id: anchor.space_id.clone(),
            founder: DeviceId(anchor.founder_device.clone()),
            checkpoints: checkpoints.clone(),
        };
        let mut problems = Vec::new();
        let members = view::read_members(&doc, &trust, &mut problems);
        let Some(partner) = members.partner_of_device(&identity.device_id()).cloned() else {
            return Err(Error::NotAMember(format!(
                "this device ({})",
                identity.device_id()
            )));
        };
        let first_of_partner = !members
            .devices
            .values()
            .any(|d| d.partner == partner && !d.removed && d.id != identity.device_id());
        match partner_secret {
            Some(bytes) => PartnerSecret(bytes).save(dir)?,
            None if first_of_partner => PartnerSecret::generate().save(dir)?,
            None => {}
        }
        Self::from_new_document(
            dir,
            lock,
            identity,
            doc,
            anchor,
            checkpoints,
            Some(document),
        )
    }

    fn from_new_document(
        dir: &Path,
        lock: std::fs::File,
        identity: DeviceIdentity,
        doc: Document,
        anchor: Anchor,
        checkpoints: Checkpoints,
        saved: Option<&[u8]>,
    ) -> Result<Space> {
        anchor.save(dir)?;
        let (mut storage, _) = Storage::open(dir, lock)?;
        let (intents, _, _) = IntentLog::open(dir)?;
        let heads = doc.heads();
        // A document received whole is stored as it came (it is a saved document already).
        match saved {
            Some(bytes) => storage.compact(&heads_to_bytes(&heads), bytes)?,
            None => storage.compact(&heads_to_bytes(&heads), &doc.save())?,
        }
        let mut space = Space {
            storage,
            trust: TrustContext {
                space_id: anchor.space_id.clone(),
                founder: DeviceId(anchor.founder_device.clone()),
                checkpoints,
            },
            secret: PartnerSecret::load(dir)?,
            identity,
            doc: DocState::Ready(Box::new(doc)),
            derived: None,
            cached: None,
            persisted_heads: heads,
            report: OpenReport::default(),
            events: Vec::new(),
            reminders_fingerprint: 0,
            reminders_dirty: true,
            unstored_checkpoints: Vec::new(),
            compaction: CompactionLimits::default(),
            load_failure: None,
            intents,
            pending: Vec::new(),
            replaying: None,
            max_pending_intents: intents::MAX_PENDING_INTENTS,
            unsaved_caches: false,
            closed: false,
        };
        space.refresh_own_checkpoint();
        space.trust.checkpoints.save(dir)?;
        space.derive_all()?;
        space.reminders_fingerprint = reminders_fingerprint(space.derived());
        space.write_view_cache();
        Ok(space)
    }

    /// Opens the space in `dir`. Returns at once: the list and the agenda are served from a
    /// cache checked against the stored heads while the document loads in the background.
    pub fn open(dir: &Path) -> Result<Space> {
        Self::open_with(dir, LoadMode::Background)
    }

    /// Opens the space in `dir`, loading the whole document as `mode` says.
    pub fn open_with(dir: &Path, mode: LoadMode) -> Result<Space> {
        if !Storage::exists(dir) {
            return Err(Error::NotInitialized(dir.to_path_buf()));
        }
        let lock = Storage::lock(dir)?;
        let identity = DeviceIdentity::load_or_create(dir)?;
        let anchor = Anchor::load(dir)?.ok_or_else(|| Error::Corrupt {
            path: dir.join("space.json"),
            reason: "missing: this device's record of which space it belongs to".into(),
        })?;
        let (storage, loaded) = Storage::open(dir, lock)?;
        let (intents, payloads, damaged_intents) = IntentLog::open(dir)?;
        let pending = payloads
            .iter()
            .map(|payload| PendingIntent::decode(payload, dir))
            .collect::<Result<Vec<_>>>()?;
        let stored_heads = loaded.heads().map(heads_from_bytes).unwrap_or_default();
        let cache = Storage::read_view_cache(dir)
            .and_then(|bytes| serde_json::from_slice::<ViewCache>(&bytes).ok())
            .filter(|cache| {
                cache.schema <= SCHEMA_VERSION
                    && cache.log_frames == Some(loaded.frames.len())
                    && cache.heads
                        == stored_heads
                            .iter()
                            .map(|h| h.to_string())
                            .collect::<Vec<_>>()
            });
        let torn = loaded.torn;
        let source = DocumentSource {
            dir: dir.to_path_buf(),
            actor: identity.actor_bytes(),
            frames: loaded.frames,
        };
        let doc = match mode {
            LoadMode::OnDemand => DocState::NotLoaded(Box::new(source)),
            LoadMode::Background => DocState::Loading(
                std::thread::Builder::new()
                    .name("accord-load".into())
                    .spawn(move || source.load())
                    .map_err(|e| Error::io(dir, e))?,
            ),
        };
        let mut space = Space {
            storage,
            trust: TrustContext {
                space_id: anchor.space_id.clone(),
                founder: DeviceId(anchor.founder_device.clone()),
                checkpoints: Checkpoints::load(dir),
            },
            secret: PartnerSecret::load(dir)?,
            identity,
            doc,
            derived: None,
            cached: cache,
            persisted_heads: stored_heads,
            report: OpenReport {
                torn_tail: torn,
                read_only: None,
                damaged_intents,
            },
            events: Vec::new(),
            reminders_fingerprint: 0,
            reminders_dirty: true,
            unstored_checkpoints: Vec::new(),
            compaction: CompactionLimits::default(),
            load_failure: None,
            intents,
            pending,
            replaying: None,
            max_pending_intents: intents::MAX_PENDING_INTENTS,
            unsaved_caches: false,
            closed: false,
        };
        space.bring_cache_to_intents();
        Ok(space)
    }

    /// Waits for the document to be loaded and derived.
    fn ready(&mut self) -> Result<()> {
        if let DocState::Loading(_) | DocState::NotLoaded(_) = self.doc {
            let loaded = match std::mem::replace(&mut self.doc, DocState::Poisoned) {
                DocState::Loading(handle) => handle.join().map_err(|_| Error::Corrupt {
                    path: self.storage.dir().to_path_buf(),
                    reason: "loading the document failed unexpectedly".into(),
                })?,
                // As on the loader thread, a panic inside the engine is an error, not a crash.
                DocState::NotLoaded(source) => {
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| source.load()))
                        .unwrap_or_else(|_| {
                            Err(Error::Corrupt {
                                path: self.storage.dir().to_path_buf(),
                                reason: "loading the document failed unexpectedly".into(),
                            })
                        })
                }
                _ => unreachable!("checked above"),
            };
            let (doc, extras) = match loaded {
                Ok(loaded) => loaded,
                Err(e) => {
                    self.load_failure = Some(e.to_string());
                    return Err(e);
                }
            };
            if let Some(index) = extras.bad_frame {
                if let Some(torn) = cut_log_at(&mut self.storage, index)? {
                    self.report.torn_tail = Some(torn);
                }
            }
            self.persisted_heads = doc.heads();
            self.doc = DocState::Ready(Box::new(doc));
            self.trust.checkpoints.add(&extras.checkpoints);
            self.refresh_own_checkpoint();
            self.resolve_checkpoints();
            self.derive_all()?;
            self.reminders_fingerprint = reminders_fingerprint(self.derived());
            // Before anything else uses the document: the writes made without it.
            self.replay_intents(&extras.intents)?;
            // A cache that did not match (or held intents now replayed) is written anew at
            // the next quiet moment.
            self.unsaved_caches = true;
        }
        match self.doc {
            DocState::Ready(_) if self.derived.is_some() => Ok(()),
            _ => Err(Error::Corrupt {
                path: self.storage.dir().to_path_buf(),
                reason: match &self.load_failure {
                    Some(failure) => {
                        format!("the space could not be loaded ({failure}); reopen it")
                    }
                    None => "the space could not be loaded; reopen it".into(),
                },
            }),
        }
    }

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

    fn note_change(&mut self, remote: bool) {
        self.unsaved_caches = true;
        self.events.push(SpaceEvent::DocumentChanged { remote });
        if !std::mem::take(&mut self.reminders_dirty) {
            return;
        }
        let fingerprint = self
            .derived
            .as_ref()
            .map(reminders_fingerprint)
            .unwrap_or(0);
        if fingerprint != self.reminders_fingerprint {
            self.reminders_fingerprint = fingerprint;
            self.events.push(SpaceEvent::RemindersChanged);
        }
    }

    /// This device's identity.
    pub fn identity(&self) -> &DeviceIdentity {
        &self.identity
    }

    // ----- deriving ------------------------------------------------------------------------

    fn derive_all(&mut self) -> Result<()> {
        self.reminders_dirty = true;
        let doc = self.doc();
        let mut problems = BTreeMap::new();
        let mut p = Vec::new();
        let members = view::read_members(doc, &self.trust, &mut p);
        let members_max_seq = members.max_seq;
        problems.insert("members".to_owned(), std::mem::take(&mut p));
        // The agreements and the log are the two largest parts: derive them on both cores.
        let ((agreements, agreement_problems), log) = std::thread::scope(|scope| {
            let agreements = scope.spawn(|| {
                let mut p = Vec::new();
                (view::derive_agreements(doc, &members, &mut p), p)
            });
            let log = view::read_log(doc, &members, &mut p);
            match agreements.join() {
                Ok(done) => (done, log),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        });
        problems.insert("agreements".to_owned(), agreement_problems);
        problems.insert("log".to_owned(), std::mem::take(&mut p));
        let checkins = view::read_checkins(doc, &members, &mut p);
        problems.insert("checkins".to_owned(), std::mem::take(&mut p));
        let mut max_seq = agreements.values().map(|a| a.max_seq).max().unwrap_or(0);
        let concerns = view::read_concerns(doc, &members, &mut p, &mut max_seq);
        problems.insert("concerns".to_owned(), std::mem::take(&mut p));
        crate::position::read_positions(doc, &members, &self.trust.space_id, &mut p, &mut max_seq);
        problems.insert("positions".to_owned(), std::mem::take(&mut p));
        let reminders = reminders::read_reminders(doc, &members, &mut p);
        problems.insert("reminders".to_owned(), p);
        max_seq = max_seq.max(reminders.max_seq);
        max_seq = max_seq.max(view::max_record_seq(&log, &checkins, &concerns));
        max_seq = max_seq.max(members_max_seq);
        let heads = doc.heads();
        let schema = doc.schema_version();
        self.report.read_only = read_only_reason(schema);
        self.derived = Some(Derived {
            heads,
            members,
            agreements,
            log,
            checkins,
            concerns,
            reminders,
            problems,
            max_seq,
            schema,
        });
        self.cached = None;
        Ok(())
    }

    fn rederive(&mut self, touched: Touched) -> Result<()> {
        self.reminders_dirty |= touched.affects_reminders();
        let doc = match &self.doc {
            DocState::Ready(doc) => doc,
            _ => return Ok(()),
        };
        let Some(derived) = self.derived.as_mut() else {
            return self.derive_all();
        };
        let mut p = Vec::new();
        let rederive_agreement = |id: &AgreementId, derived: &mut Derived| {
            let mut p = Vec::new();
            match view::derive_one(doc, id.as_str(), &derived.members, &mut p) {
                Some(state) => {
                    derived.max_seq = derived.max_seq.max(state.max_seq);
                    derived.agreements.insert(id.clone(), state);
                }
                None => {
                    derived.agreements.remove(id);
                }
            }
            set_problems(&mut derived.problems, format!("agreement:{id}"), p);
        };
        match touched {
            Touched::All => return self.derive_all(),
            Touched::DeviceAdded(device) => {
                let members = view::read_members(doc, &self.trust, &mut p);
                if self.trust.checkpoints.seq_of(&device).is_some()
                    || !derived.members.only_adds_device(&members, &device)
                {
                    return self.derive_all();
                }
                derived.max_seq = derived.max_seq.max(members.max_seq);
                derived.members = members;
                derived.problems.insert("members".into(), p);
            }
            Touched::Agreement(id) => rederive_agreement(&id, derived),
            // The previous state is taken out (not copied): it is replaced or dropped below.
            Touched::AgreementWritten(id) => match derived.agreements.remove(&id) {
                Some(previous) => {
                    let mut p = Vec::new();
                    match view::derive_one_after_local_write(
                        doc,
                        previous,
                        &derived.members,
                        &mut p,
                    ) {
                        Some(state) => {
                            derived.max_seq = derived.max_seq.max(state.max_seq);
                            derived.agreements.insert(id.clone(), state);
                        }
                        None => {
                            derived.agreements.remove(&id);
                        }
                    }
                    set_problems(&mut derived.problems, format!("agreement:{id}"), p);
                }
                None => rederive_agreement(&id, derived),
            },
            Touched::Log => {
                derived.log = view::read_log(doc, &derived.members, &mut p);
                derived.problems.insert("log".into(), p);
            }
            Touched::Checkins => {
                derived.checkins = view::read_checkins(doc, &derived.members, &mut p);
                derived.problems.insert("checkins".into(), p);
            }
            Touched::Reminders => {
                derived.reminders = reminders::read_reminders(doc, &derived.members, &mut p);
                derived.max_seq = derived.max_seq.max(derived.reminders.max_seq);
                derived.problems.insert("reminders".into(), p);
            }
            Touched::LogEntry(id) => {
                let records = doc.record(&["log"], &id).into_iter().collect();
                let entries = view::read_log_from(records, &derived.members, &mut p);
                upsert(&mut derived.log, entries, |e| (e.order, e.id.as_str()));
                set_problems(&mut derived.problems, format!("log:{id}"), p);
            }
            Touched::CheckIn(id) => {
                let records = doc.record(&["checkins"], &id).into_iter().collect();
                let entries = view::read_checkins_from(records, &derived.members, &mut p);
                upsert(&mut derived.checkins, entries, |e| (e.order, e.id.as_str()));
                set_problems(&mut derived.problems, format!("checkin:{id}"), p);
            }
            Touched::Concern(id, agreement) => {
                let records = doc.record(&["concerns"], &id).into_iter().collect();
                let mut max = derived.max_seq;
                let entries = view::read_concerns_from(records, &derived.members, &mut p, &mut max);
                derived.max_seq = max;
                upsert(&mut derived.concerns, entries, |e| (e.order, e.id.as_str()));
                set_problems(&mut derived.problems, format!("concern:{id}"), p);
                if let Some(id) = agreement {
                    rederive_agreement(&id, derived);
                }
            }
            Touched::Positions => {
                let mut max = derived.max_seq;
                crate::position::read_positions(
                    doc,
                    &derived.members,
                    &self.trust.space_id,
                    &mut p,
                    &mut max,
                );
                derived.max_seq = max;
                derived.problems.insert("positions".into(), p);
            }
            Touched::Concerns(agreement) => {
                let mut max = derived.max_seq;
                derived.concerns = view::read_concerns(doc, &derived.members, &mut p, &mut max);
                derived.max_seq = max;
                derived.problems.insert("concerns".into(), p);
                if let Some(id) = agreement {
                    rederive_agreement(&id, derived);
                }
            }
        }
        let derived = self.derived.as_mut().expect("present");
        derived.max_seq = derived.max_seq.max(view::max_record_seq(
            &derived.log,
            &derived.checkins,
            &derived.concerns,
        ));
        derived.heads = doc.heads();
        Ok(())
    }

    /// Re-derives what changes from other devices touched (found by diffing the document),
    /// falling back to a full derivation for changes to members or the root.
    pub(crate) fn rederive_remote(&mut self, before: &[Heads]) -> Result<()> {
        let touched = self.doc().touched_since(before);
        let mut parts: Vec<Touched> = Vec::new();
        for (top, key) in touched {
            let part = match top.as_str() {
                "agreements" => match key {
                    Some(id) => Touched::Agreement(AgreementId(id)),
                    None => return self.derive_all(),
                },
                "log" => key.map(Touched::LogEntry).unwrap_or(Touched::Log),
                "checkins" => key.map(Touched::CheckIn).unwrap_or(Touched::Checkins),
                "concerns" => match key {
                    Some(id) => Touched::Concern(id, None),
                    None => Touched::Concerns(None),
                },
                "positions" => Touched::Positions,
                "rules" | "marks" | "settings" => Touched::Reminders,
                _ => return self.derive_all(),
            };
            if !parts.iter().any(|p| same_part(p, &part)) {
                parts.push(part);
            }
        }
        for part in parts {
            self.rederive(part)?;
        }
        Ok(())
    }

    // ----- writing -------------------------------------------------------------------------

    /// This device's partner and id, if the device is a valid member.
    fn me(&self) -> Result<(PartnerId, DeviceId)> {
        let device = self.identity.device_id();
        self.derived()
            .members
            .partner_of_device(&device)
            .cloned()
            .map(|p| (p, device.clone()))
            .ok_or_else(|| Error::NotAMember(format!("this device ({device})")))
    }

    /// Like `me`, but also for a removed device, which keeps its own copy to read (safe
    /// leave) while it can no longer write.
    fn me_for_reading(&self) -> Result<(PartnerId, DeviceId)> {
        let device = self.identity.device_id();
        self.derived()
            .members
            .devices
            .get(&device)
            .map(|d| (d.partner.clone(), device.clone()))
            .ok_or_else(|| Error::NotAMember(format!("this device ({device})")))
    }

    fn writable(&mut self) -> Result<(PartnerId, DeviceId)> {
        self.ready()?;
        let schema = self.derived().schema;
        if let Some(found) = schema.filter(|v| *v > SCHEMA_VERSION) {
            return Err(Error::ReadOnly {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if schema.is_none() {
            return Err(Error::NotAllowed(
                "the space has no schema version; it is open read-only".into(),
            ));
        }
        self.me()
    }

    fn next_seq(&mut self) -> i64 {
        let derived = self.derived.as_mut().expect("ready");
        // A replayed intent's record takes the order it was given when it was made (and so
        // the id handed back then).
        if let Some(seq) = self.replaying.as_mut().and_then(|r| r.seq.take()) {
            if seq > derived.max_seq {
                derived.max_seq = seq;
                return seq;
            }
        }
        // Saturating: a peer's record may claim any order, even the largest.
        derived.max_seq = derived.max_seq.saturating_add(1);
        derived.max_seq
    }

    /// Makes one change, makes it durable, then updates the derived views.
    fn write<T>(
        &mut self,
        op: &str,
        agreement: Option<&AgreementId>,
        now: DateTime<Utc>,
        touched: Touched,
        f: impl FnOnce(&mut crate::document::Tx<'_, '_>) -> Result<T>,
    ) -> Result<T> {
        let msg = message(op, agreement);
        let DocState::Ready(doc) = &mut self.doc else {
            return Err(Error::NotAllowed("the space is not loaded".into()));
        };
        let out = doc.change(&msg, now_ms(now), f)?;
        self.refresh_own_checkpoint();
        self.persist()?;
        self.rederive(touched)?;
        self.note_change(false);
        Ok(out)
    }

    /// Appends every change not yet on disk and fsyncs it; on failure reloads from disk so
    /// memory never shows what is not saved.
    fn persist(&mut self) -> Result<()> {
        let DocState::Ready(doc) = &self.doc else {
            return Ok(());
        };
        let heads = doc.heads();
        if heads == self.persisted_heads && self.unstored_checkpoints.is_empty() {
            return Ok(());
        }
        let mut changes = doc.changes_after(&self.persisted_heads);
        changes.extend(self.unstored_checkpoints.iter().map(checkpoint_item));
        // Recorded with the change it became, so replay applies an intent exactly once.
        if let Some(replaying) = &self.replaying {
            let mut item = INTENT_ITEM_MAGIC.to_vec();
            item.extend_from_slice(replaying.id.as_bytes());
            changes.push(item);
        }
        let frame = Frame {
            heads: heads_to_bytes(&heads),
            changes,
        };
        if let Err(e) = self.storage.append(&frame) {
            self.reload_from_disk();
            return Err(e);
        }
        self.unstored_checkpoints.clear();
        self.persisted_heads = heads;
        let limits = self.compaction;
        if self.storage.frames_since_snapshot() as u64
            >= (limits.frames as u64).saturating_mul(COMPACT_NOW_FACTOR)
            || self.storage.log_len() >= limits.bytes.saturating_mul(COMPACT_NOW_FACTOR)
        {
            self.compact()?;
        }
        Ok(())
    }

    /// After the document engine failed on data from a peer: reload the document from disk
    /// (which holds nothing of that data).
    pub(crate) fn recover_if_damaged(&mut self) {
        if matches!(&self.doc, DocState::Ready(doc) if doc.is_damaged()) {
            self.reload_from_disk();
        }
    }

    /// After a failed append: rebuild the in-memory document from what is durable, so memory
    /// never shows what is not saved. If even that fails, the space refuses use until reopened.
    fn reload_from_disk(&mut self) {
        let actor = self.identity.actor_bytes();
        let reloaded = self.storage.reload().ok().and_then(|loaded| {
            let mut doc = match &loaded.snapshot {
                Some((_, bytes)) => Document::load(bytes, &actor).ok()?,
                None => Document::empty(&actor),
            };
            for frame in &loaded.frames {
                let items = FrameItems::split(&frame.changes).ok()?;
                doc.apply_stored_changes(&items.changes).ok()?;
            }
            Some(doc)
        });
        match reloaded {
            Some(doc) => {
                self.persisted_heads = doc.heads();
                self.doc = DocState::Ready(Box::new(doc));
                if self.derive_all().is_err() {
                    self.doc = DocState::Poisoned;
                    self.derived = None;
                }
            }
            None => {
                self.doc = DocState::Poisoned;
                self.derived = None;
            }
        }
    }

    /// Whether the log has grown enough since the last snapshot to be compacted.
    pub fn compaction_due(&self) -> bool {
        self.storage.frames_since_snapshot() >= self.compaction.frames
            || self.storage.log_len() >= self.compaction.bytes
    }

    /// Compacts the log if it is due and the document is loaded, at a quiet moment (the node
    /// calls it when no change came for a while; closing the space calls it), so no edit
    /// waits for it. Returns whether it compacted.
    pub fn compact_if_due(&mut self) -> Result<bool> {
        if !self.compaction_due() || !matches!(self.doc, DocState::Ready(_)) {
            return Ok(false);
        }
        self.compact()?;
        Ok(true)
    }

    /// Writes the whole document as a snapshot and empties the log.
    pub fn compact(&mut self) -> Result<()> {
        self.ready()?;
        let doc = self.doc();
        let heads = doc.heads();
        let bytes = doc.save();
        // The log (which holds received checkpoints) is emptied: keep them beside the snapshot.
        self.trust.checkpoints.save(self.storage.dir())?;
        self.storage.compact(&heads_to_bytes(&heads), &bytes)?;
        self.persisted_heads = heads;
        self.write_view_cache();
        self.unsaved_caches = false;
        Ok(())
    }

    /// Saves the list view for a fast next open (best effort; it is checked on open).
    fn write_view_cache(&self) {
        let Some(derived) = &self.derived else {
            return;
        };
        if derived.heads != self.persisted_heads {
            return;
        }
        let DocState::Ready(doc) = &self.doc else {
            return;
        };
        let cache = ViewCache {
            heads: derived.heads.iter().map(|h| h.to_string()).collect(),
            schema: SCHEMA_VERSION,
            agreements: derived
                .agreements
                .values()
                .map(|a| a.summary.clone())
                .collect(),
            agenda: self
                .me_for_reading()
                .ok()
                .map(|(me, _)| AgendaInputs::from_derived(derived, me, self.me().is_ok())),
            log_frames: Some(self.storage.frames_since_snapshot()),
            basis: Some(WriteBasis::from_loaded(doc, derived)),
            intents: Vec::new(),
        };
        if let Ok(bytes) = serde_json::to_vec(&cache) {
            let _ = self.storage.write_view_cache(&bytes);
        }
    }

    /// Writes the view cache now if it is not up to date (the apps call it when going to the
    /// background: a phone may kill the app without closing it), so the next cold start shows
    /// the list, the agenda and reminders without loading the history.
    pub fn flush(&mut self) {
        if !std::mem::take(&mut self.unsaved_caches) {
            return;
        }
        if self.derived.is_some() {
            self.write_view_cache();
        } else if let Some(bytes) = self
            .cached
            .as_ref()
            .and_then(|c| serde_json::to_vec(c).ok())
        {
            let _ = self.storage.write_view_cache(&bytes);
        }
    }

    /// What a quiet moment is for (the node calls it when no change came for a while):
    /// compacts the log if it is due, else brings the view cache up to date. Returns whether
    /// it compacted.
    pub fn tidy(&mut self) -> Result<bool> {
        if self.compact_if_due()? {
            return Ok(true);
        }
        self.flush();
        Ok(false)
    }

    /// Closes the space in place (for an owner that cannot give it up, like the node): as
    /// [`Space::shutdown`]. Later calls still work; closing again writes only what changed.
    pub fn close(&mut self) {
        self.closed = true;
        if let Err(e) = self.tidy() {
            tracing::warn!("compacting the log on close failed (it stays valid): {e}");
            self.flush();
        }
    }

    /// Closes the space: compacts the log if it is due (a quiet moment), else saves the view
    /// cache for a fast next open. Dropping a space without it writes nothing.
    pub fn shutdown(mut self) {
        self.close();
    }

    // ----- members -------------------------------------------------------------------------

    /// The space, its partners and devices.
    pub fn info(&mut self) -> Result<SpaceInfo> {
        if let Some(info) = self.info_from_cache() {
            return info;
        }
        self.ready()?;
        let (me, my_device) = self.me_for_reading()?;
        let derived = self.derived();
        Ok(SpaceInfo {
            id: SpaceId(self.doc().root_str("space_id").unwrap_or_default()),
            schema_version: self.doc().schema_version().unwrap_or(0),
            read_only: self.report.read_only.clone(),
            my_device,
            me,
            partners: derived.members.partners.clone(),
            devices: derived.members.devices.values().cloned().collect(),
        })
    }

    /// The other partner, if they joined.
    pub fn partner(&mut self) -> Result<Option<Partner>> {
        let info = self.info()?;
        Ok(info.partners.into_iter().find(|p| p.id != info.me))
    }

    /// Enrolls the other partner and their first device (run on the inviting device, once,
    /// while the space has one partner). Returns the new partner's id.
    pub fn add_partner(
        &mut self,
        name: &str,
        time_zone: &str,
        device: &DeviceId,
        device_name: &str,
        now: DateTime<Utc>,
    ) -> Result<PartnerId> {
        self.writable()?;
        let name = clean_text("partner name", name, MAX_NAME_CHARS, true)?;
        let tz = check_time_zone(time_zone)?;
        if self.derived().members.partners.len() >= 2 {
            return Err(Error::ThirdPartner);
        }
        let partner = PartnerId::random();
        let record = vec![("name", name.into()), ("time_zone", tz.into())];
        self.enrol(
            device,
            device_name,
            &partner,
            Role::Partner,
            Some(record),
            now,
        )?;
        Ok(partner)
    }

    /// Enrolls another device of this device's partner.
    pub fn add_device(&mut self, device: &DeviceId, name: &str, now: DateTime<Utc>) -> Result<()> {
        let (me, _) = self.writable()?;
        self.enrol(device, name, &me, Role::Device, None, now)
    }

    /// Enrols a replacement device for the other partner, who lost all of theirs (run on a
    /// device of this partner). Their previous devices are removed and never valid again.
    pub fn add_returning_partner_device(
        &mut self,
        device: &DeviceId,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (me, _) = self.writable()?;
        let other = self
            .derived()
            .members
            .partners
            .iter()
            .find(|p| p.id != me)
            .map(|p| p.id.clone())
            .ok_or_else(|| Error::NotAllowed("the space has no other partner to return".into()))?;
        self.enrol(device, name, &other, Role::Returning, None, now)
    }

    /// Writes a device enrolment signed by this device (and, for a new partner, their record).
    fn enrol(
        &mut self,
        device: &DeviceId,
        device_name: &str,
        partner: &PartnerId,
        role: Role,
        new_partner: Option<Vec<(&str, Val)>>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (_, my_device) = self.writable()?;
        let device_name = clean_text("device name", device_name, MAX_NAME_CHARS, false)?;
        check_device_id(device)?;
        if self.derived().members.devices.contains_key(device) {
            return Err(Error::NotAllowed(format!(
                "device {device} is already enrolled"
            )));
        }
        let seq = self.next_seq();
        let at = now_ms(now);
        let touched = match role {
            Role::Device => Touched::DeviceAdded(device.clone()),
            _ => Touched::All,
        };
        self.write(role.as_str(), None, now, touched, |tx| {
            if let Some(mut fields) = new_partner {
                fields.push(("seq", seq.into()));
                fields.push(("at", at.into()));
                tx.insert_map(&["partners"], partner.as_str(), fields, &[])?;
            }
            tx.insert_map(
                &["devices"],
                device.as_str(),
                vec![
                    ("partner", partner.0.clone().into()),
                    ("name", device_name.into()),
                    ("role", role.as_str().into()),
                    ("seq", seq.into()),
                    ("enrolled_by", my_device.0.clone().into()),
                    ("at", at.into()),
                ],
                &["removals"],
            )
        })
    }

    /// Removes a device (unpair): it is never valid again. What the remaining devices hold is
    /// kept; the removed device keeps its own copy.
    pub fn remove_device(&mut self, device: &DeviceId, now: DateTime<Utc>) -> Result<()> {
        let (_, my_device) = self.writable()?;
        let known = self
            .derived()
            .members
            .devices
            .get(device)
            .ok_or_else(|| Error::not_found("device", device.as_str()))?;
        if known.removed {
            return Ok(());
        }
        let seq = self.next_seq();
        let at = now_ms(now);
        let rec = RecordId::for_record(&self.identity().device_id(), seq);
        self.write("remove device", None, now, Touched::All, |tx| {
            tx.insert_record(
                &["devices", device.as_str(), "removals"],
                rec.as_str(),
                vec![
                    ("by", my_device.0.clone().into()),
                    ("seq", seq.into()),
                    ("at", at.into()),
                ],
            )
        })
    }

    /// Finds the device whose id starts with `prefix`.
    pub fn find_device(&mut self, prefix: &str) -> Result<DeviceId> {
        self.ready()?;
        let ids: Vec<&DeviceId> = self.derived().members.devices.keys().collect();
        unique_prefix("device", prefix, ids.into_iter())
    }

    /// Changes this partner's display name or time zone.
    pub fn update_me(
        &mut self,
        name: Option<&str>,
        time_zone: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (me, _) = self.writable()?;
        let name = name
            .map(|n| clean_text("partner name", n, MAX_NAME_CHARS, true))
            .transpose()?;
        let tz = time_zone.map(check_time_zone).transpose()?;
        self.write("update partner", None, now, Touched::All, |tx| {
            if let Some(n) = name {
                tx.put(&["partners", me.as_str()], "name", n)?;
            }
            if let Some(t) = tz {
                tx.put(&["partners", me.as_str()], "time_zone", t)?;
            }
            Ok(())
        })
    }

    // ----- agreements ----------------------------------------------------------------------

    fn state(&self, id: &AgreementId) -> Result<&AgreementState> {
        self.derived()
            .agreements
            .get(id)
            .ok_or_else(|| Error::not_found("agreement", id.as_str()))
    }

    /// Finds the agreement whose id starts with `prefix` (ids may be abbreviated).
    pub fn find_agreement(&mut self, prefix: &str) -> Result<AgreementId> {
        if let (None, Some(cache)) = (&self.derived, &self.cached) {
            return unique_prefix("agreement", prefix, cache.agreements.iter().map(|a| &a.id));
        }
        self.ready()?;
        let ids: Vec<&AgreementId> = self.derived().agreements.keys().collect();
        unique_prefix("agreement", prefix, ids.into_iter())
    }

    /// One agreement's list entry (served from the view cache until the document is loaded).
    pub fn summary(&mut self, id: &AgreementId) -> Result<AgreementSummary> {
        if let (None, Some(cache)) = (&self.derived, &self.cached) {
            if let Some(found) = cache.agreements.iter().find(|a| &a.id == id) {
                return Ok(found.clone());
            }
        }
        self.ready()?;
        Ok(self.state(id)?.summary.clone())
    }

    /// Finds the concern whose id starts with `prefix`.
    pub fn find_concern(&mut self, prefix: &str) -> Result<ConcernId> {
        if let Some(inputs) = self.cached_agenda() {
            return unique_prefix("concern", prefix, inputs.concern_ids().iter());
        }
        self.ready()?;
        let ids: Vec<&ConcernId> = self.derived().concerns.iter().map(|c| &c.id).collect();
        unique_prefix("concern", prefix, ids.into_iter())
    }

    /// Writes a new agreement. Unless it is a draft, writing it counts as the author's
    /// acceptance of its words.
    pub fn create_agreement(
        &mut self,
        input: NewAgreement,
        now: DateTime<Utc>,
    ) -> Result<AgreementId> {
        let (me, device) = self.writable()?;
        let title = clean_text("title", &input.title, MAX_TITLE_CHARS, true)?;
        let details = clean_text("details", &input.details, MAX_DETAILS_CHARS, false)?;
        if let Category::Custom(name) = &input.category {
            clean_text("category", name, MAX_NAME_CHARS, true)?;
        }
        check_concerns(&self.derived().members, &input.concerns)?;
        let content = Content {
            title: title.clone(),
            details: details.clone(),
            kind: input.kind,
            strength: input.strength,
            concerns: input.concerns.clone(),
        };
        let next_review = input
            .review_every
            .map(|c| c.after(now.date_naive()).to_string())
            .unwrap_or_default();
        let seq = self.next_seq();
        let accept_seq = self.next_seq();
        // Unique per device and write, like record keys (and as compressible).
        let id = AgreementId(crate::ids::order_key(&device, seq));
        let revision = id.0.clone();
        let at = now_ms(now);
        let aid = id.clone();
        self.write(
            "create",
            Some(&id),
            now,
            Touched::AgreementWritten(id.clone()),
            |tx| {
                tx.insert_map(
                    &["agreements"],
                    aid.as_str(),
                    vec![
                        ("title", title.into()),
                        ("details", details.into()),
                        ("kind", input.kind.as_str().into()),
                        ("strength", input.strength.as_str().into()),
                        ("concerns", input.concerns.to_stored().into()),
                        ("category", input.category.to_stored().into()),
                        (
                            "review_every",
                            input
                                .review_every
                                .map(|c| c.to_stored())
                                .unwrap_or_default()
                                .into(),
                        ),
                        ("next_review", next_review.into()),
                        ("revision", revision.clone().into()),
                        ("created_by", me.0.clone().into()),
                        ("created_device", device.0.clone().into()),
                        ("created_at", at.into()),
                        ("seq", seq.into()),
                    ],
                    &view::ChildKind::ALL.map(view::ChildKind::key),
                )?;
                if !input.draft {
                    write_acceptance(
                        tx,
                        &device,
                        &aid,
                        &content.hash(),
                        &revision,
                        "",
                        accept_seq,
                    )?;
                }
                Ok(())
            },
        )?;
        Ok(id)
    }

    /// Changes fields of an agreement. A change of wording needs both partners to accept
    /// again; the editor's own acceptance is recorded with the edit (drafts stay drafts).
    pub fn edit_agreement(
        &mut self,
        id: &AgreementId,
        edit: AgreementEdit,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let intent = Intent::AgreementEdit {
            agreement: id.clone(),
            edit: edit.clone(),
        };
        if let Some(done) = self.write_intent(intent, now) {
            return done.map(|_| ());
        }
        self.writable()?;
        if edit.is_empty() {
            return Err(Error::invalid(
                "edit",
                "changes nothing: give at least one field",
            ));
        }
        let state = self.state(id)?;
        check_editable(state)?;
        let state = EditBasis::of(state);
        let puts = edit_puts(&edit, &self.derived().members)?;
        self.apply_field_writes(id, &state, puts, "edit", now)
    }

    /// Settles a field in conflict by writing one value (a candidate or a new wording). This is
    /// an edit: the other partner must accept again.
    pub fn resolve_conflict(
        &mut self,
        id: &AgreementId,
        field: Field,
        value: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.writable()?;
        let state = EditBasis::of(self.state(id)?);
        if !state.conflicts.iter().any(|c| c.field == field) {
            return Err(Error::NotAllowed(format!(
                "{} of agreement {id} is not in conflict; use an edit to change it",
                field.key()
            )));
        }
        let stored = match field {
            Field::Title => clean_text("title", value, MAX_TITLE_CHARS, true)?,
            Field::Details => clean_text("details", value, MAX_DETAILS_CHARS, false)?,
            Field::Kind => crate::agreement::Kind::parse(value)
                .ok_or_else(|| Error::invalid("kind", format!("'{value}' is not a kind")))?
                .as_str()
                .to_owned(),
            Field::Strength => crate::agreement::Strength::parse(value)
                .ok_or_else(|| Error::invalid("strength", format!("'{value}' is not a strength")))?
                .as_str()
                .to_owned(),
            Field::Category => Category::parse(value)?.to_stored(),
            Field::ReviewEvery => crate::agreement::ReviewCadence::parse(value)?.to_stored(),
            Field::NextReview => value
                .trim()
                .parse::<NaiveDate>()
                .map_err(|_| {
                    Error::invalid(
                        "next review",
                        format!("'{value}' is not a date like 2027-03-26"),
                    )
                })?
                .to_string(),
            Field::Concerns => {
                // Accept a candidate's stored text or a candidate's displayed value.
                let v = value.trim();
                if crate::agreement::Concerns::from_stored(v).is_none() {
                    return Err(Error::invalid(
                        "concerns",
                        format!("'{value}' is not 'both' or 'partner:<id>'"),
                    ));
                }
                v.to_owned()
            }
        };
        if !field_value_ok(field, &Val::Str(stored.clone())) {
            return Err(Error::invalid(
                "value",
                format!("'{value}' is not valid for {}", field.key()),
            ));
        }
        self.apply_field_writes(id, &state, vec![(field, stored)], "resolve", now)
    }

    fn apply_field_writes(
        &mut self,
        id: &AgreementId,
        state: &EditBasis,
        puts: Vec<(Field, String)>,
        op: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let entity = self
            .doc()
            .entity_registers("agreements", id.as_str())
            .ok_or_else(|| Error::not_found("agreement", id.as_str()))?;
        let puts = changed_fields(&entity, puts);
        if puts.is_empty() {
            return Ok(());
        }
        let seq = self.next_seq();
        let device = self.identity().device_id();
        let writes = FieldWrites::plan(&entity, state, puts, op, seq, &device);
        let path_id = id.clone();
        self.write(
            op,
            Some(id),
            now,
            Touched::AgreementWritten(id.clone()),
            |tx| {
                let path = ["agreements", path_id.as_str()];
                for (key, value) in writes.register_puts() {
                    tx.put(&path, key, value)?;
                }
                if let Some((record, fields)) = writes.acceptance {
                    tx.insert_record(
                        &["agreements", path_id.as_str(), "acceptances"],
                        record.as_str(),
                        fields,
                    )?;
                }
                Ok(())
            },
        )
    }

    /// Records this partner's consent to the agreement's current exact words.
    pub fn accept(&mut self, id: &AgreementId, now: DateTime<Utc>) -> Result<()> {
        let intent = Intent::Acceptance {
            agreement: id.clone(),
        };
        if let Some(done) = self.write_intent(intent, now) {
            return done.map(|_| ());
        }
        let (me, _) = self.writable()?;
        let Some(acceptance) = acceptance_to_write(self.state(id)?, &me)? else {
            return Ok(());
        };
        let seq = self.next_seq();
        let path_id = id.clone();
        let device = self.identity().device_id();
        self.write(
            "accept",
            Some(id),
            now,
            Touched::AgreementWritten(id.clone()),
            |tx| {
                write_acceptance(
                    tx,
                    &device,
                    &path_id,
                    &acceptance.hash,
                    &acceptance.revision,
                    &acceptance.closes,
                    seq,
                )
            },
        )
    }

    /// Retires an agreement with a reason; it stays in history.
    pub fn retire(&mut self, id: &AgreementId, reason: &str, now: DateTime<Utc>) -> Result<()> {
        self.writable()?;
        let reason = clean_text("reason", reason, MAX_TEXT_CHARS, true)?;
        let state = self.state(id)?;
        if state.retirement.is_some() {
            return Err(Error::NotAllowed(format!(
                "agreement {id} is already retired"
            )));
        }
        let seq = self.next_seq();
        let rec = RecordId::for_record(&self.identity().device_id(), seq);
        let path_id = id.clone();
        self.write(
            "retire",
            Some(id),
            now,
            Touched::AgreementWritten(id.clone()),
            |tx| {
                tx.insert_record(
                    &["agreements", path_id.as_str(), "retirements"],
                    rec.as_str(),
                    Act::new(seq).fields(vec![("reason", reason.into())]),
                )
            },
        )
    }

    /// Asks to revisit an agreement: it needs renegotiation until both partners accept again
    /// (or its wording changes and both accept that).
    pub fn request_renegotiation(
        &mut self,
        id: &AgreementId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.writable()?;
        let reason = clean_text("reason", reason, MAX_TEXT_CHARS, false)?;
        let state = self.state(id)?;
        if state.retirement.is_some() {
            return Err(Error::NotAllowed(
                "a retired agreement cannot be renegotiated".into(),
            ));
        }
        let revision = state.revision.clone();
        let seq = self.next_seq();
        let path_id = id.clone();
        let device = self.identity().device_id();
        self.write(
            "renegotiate",
            Some(id),
            now,
            Touched::AgreementWritten(id.clone()),
            |tx| write_renegotiation(tx, &device, &path_id, &revision, &reason, seq),
        )
    }

    /// Records that the agreement was reviewed on `on`: the next review is one cadence later.
    pub fn mark_reviewed(
        &mut self,
        id: &AgreementId,
        on: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let state = self.state_checked(id)?;
        let cadence = state.review_every.ok_or_else(|| {
            Error::NotAllowed(format!(
                "agreement {id} has no review cadence; set one with an edit"
            ))
        })?;
        self.edit_agreement(
            id,
            AgreementEdit {
                next_review: Some(cadence.after(on)),
                ..Default::default()
            },
            now,
        )
    }

    fn state_checked(&mut self, id: &AgreementId) -> Result<AgreementState> {
        self.ready()?;
        self.state(id).cloned()
    }

    /// The agreements, sorted by category then title.
    pub fn list(&mut self, filter: &ListFilter) -> Result<Vec<AgreementSummary>> {
        let keep = |a: &AgreementSummary| {
            filter.category.as_ref().is_none_or(|c| &a.category == c)
                && filter.status.is_none_or(|s| a.status == s)
        };
        let mut out: Vec<AgreementSummary> = if self.derived.is_none() {
            match &self.cached {
                Some(cache) => cache
                    .agreements
                    .iter()
                    .filter(|a| keep(a))
                    .cloned()
                    .collect(),
                None => {
                    self.ready()?;
                    return self.list(filter);
                }
            }
        } else {
            self.derived()
                .agreements
                .values()
                .map(|a| &a.summary)
                .filter(|a| keep(a))
                .cloned()
                .collect()
        };
        out.sort_by(|a, b| {
            a.category
                .label()
                .cmp(b.category.label())
                .then_with(|| a.title.cmp(&b.title))
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(out)
    }

    /// Everything about one agreement: conflicts with their candidates, acceptances and what
    /// changed since each partner last accepted.
    pub fn agreement(&mut self, id: &AgreementId) -> Result<AgreementDetails> {
        self.ready()?;
        let state = self.state(id)?.clone();
        let doc = self.doc();
        let entity = doc
            .entity("agreements", id.as_str())
            .ok_or_else(|| Error::not_found("agreement", id.as_str()))?;
        let mut changes_since = Vec::new();
        for acceptance in state.latest_acceptances() {
            let current = state
                .content
                .as_ref()
                .is_some_and(|c| c.hash_bytes() == acceptance.hash)
                && acceptance.revision == state.revision;
            if current {
                continue;
            }
            let Some(change) = doc
                .record(&["agreements", id.as_str(), "acceptances"], &acceptance.id)
                .and_then(|record| doc.change_of(&record.origin()))
            else {
                continue;
            };
            let mut changed = Vec::new();
            for field in Field::ALL.into_iter().filter(|f| f.is_wording()) {
                let then = doc
                    .entity_register_at(&entity, field.key(), &[change])
                    .map(|r| join_register(&r))
                    .unwrap_or_default();
                let now_v = entity
                    .registers
                    .get(field.key())
                    .map(join_register)
                    .unwrap_or_default();
                if then != now_v {
                    changed.push(FieldChange {
                        field,
                        accepted: then,
                        now: now_v,
                    });
                }
            }
            changes_since.push((acceptance.author.partner.clone(), changed));
        }
        Ok(AgreementDetails {
            summary: state.summary.clone(),
            details: state.details.clone(),
            content_hash: state.content.as_ref().map(Content::hash),
            review_every: state.review_every,
            created_by: state.created_by.clone(),
            conflicts: state.conflicts.clone(),
            acceptances: state.to_acceptances(),
            changes_since_acceptance: changes_since,
            retirement: state.retirement.clone(),
            renegotiation_requested: !state.open_renegotiations.is_empty(),
        })
    }

    /// Who changed what and when, from the document's change history (oldest first).
    pub fn history(&mut self, id: &AgreementId) -> Result<Vec<HistoryEntry>> {
        self.ready()?;
        self.state(id)?;
        let doc = self.doc();
        let entity = doc
            .entity("agreements", id.as_str())
            .ok_or_else(|| Error::not_found("agreement", id.as_str()))?;
        let members = &self.derived().members;
        let mut out = Vec::new();
        for info in doc.change_infos() {
            let Some(msg) = info.message.as_deref().map(parse_message) else {
                continue;
            };
            if msg.agreement.as_deref() != Some(id.as_str()) {
                continue;
            }
            let mut changes = Vec::new();
            if matches!(msg.op.as_str(), "create" | "edit" | "resolve") {
                for field in Field::ALL {
                    let before = doc
                        .entity_register_at(&entity, field.key(), &info.deps)
                        .map(|r| join_register(&r))
                        .unwrap_or_default();
                    let after = doc
                        .entity_register_at(&entity, field.key(), &[info.hash])
                        .map(|r| join_register(&r))
                        .unwrap_or_default();
                    if before != after {
                        changes.push(FieldChange {
                            field,
                            accepted: before,
                            now: after,
                        });
                    }
                }
            }
            let device = members.author_of_actor(&info.actor);
            out.push(HistoryEntry {
                at: view::time_of(Some(info.time_ms)),
                partner: device.map(|d| d.partner.clone()),
                device: device.map(|d| d.id.clone()),
                action: match msg.op.as_str() {
                    "create" => "created",
                    "edit" => "edited",
                    "accept" => "accepted",
                    "resolve" => "resolved a conflict",
                    "retire" => "retired",
                    "renegotiate" => "asked to renegotiate",
                    "log" => "logged follow-through",
                    "concern" => "raised a concern",
                    other => other,
                }
                .to_owned(),
                changes,
            });
        }
        Ok(out)
    }

    // ----- follow-through -------------------------------------------------------------------

    /// Appends a kept / missed / note entry to an agreement's log; returns its record id.
    pub fn log_follow_through(
        &mut self,
        id: &AgreementId,
        kind: LogKind,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<RecordId> {
        self.add_log_entry(id, kind, text, now)
            .map(|entry| entry.id)
    }

    /// Like [`Space::log_follow_through`], returning the entry as stored (without loading the
    /// history when the write did not need it).
    pub fn add_log_entry(
        &mut self,
        id: &AgreementId,
        kind: LogKind,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<LogEntry> {
        let intent = Intent::FollowThrough {
            agreement: id.clone(),
            entry: kind,
            text: text.to_owned(),
        };
        if let Some(done) = self.write_intent(intent, now) {
            if let Some(entry) = done?.and_then(|effect| effect.into_log_entry()) {
                return Ok(entry);
            }
        }
        let key = self.write_log_entry(id, kind, text, now)?;
        self.ready()?;
        let entry = self.derived().log.iter().find(|e| e.id == key).cloned();
        entry.ok_or_else(|| Error::not_found("log entry", key.as_str()))
    }

    fn write_log_entry(
        &mut self,
        id: &AgreementId,
        kind: LogKind,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<RecordId> {
        self.writable()?;
        let text = clean_text("text", text, MAX_TEXT_CHARS, false)?;
        self.state(id)?;
        let seq = self.next_seq();
        let rec = log_entry_key(id, &self.identity().device_id(), seq);
        let r = rec.clone();
        let fields = log_entry_fields(kind, text);
        self.write(
            "log",
            Some(id),
            now,
            Touched::LogEntry(rec.0.clone()),
            |tx| tx.insert_record(&["log"], r.as_str(), Act::new(seq).fields(fields)),
        )?;
        Ok(rec)
    }

    /// The follow-through log, of one agreement or of all, in causal order.
    pub fn follow_through(&mut self, agreement: Option<&AgreementId>) -> Result<Vec<LogEntry>> {
        self.ready()?;
        if let Some(id) = agreement {
            self.state(id)?;
        }
        Ok(self
            .derived()
            .log
            .iter()
            .filter(|e| agreement.is_none_or(|a| &e.agreement == a))
            .cloned()
            .collect())
    }

    // ----- concerns ------------------------------------------------------------------------

    /// Raises a concern, on an agreement or in general.
    pub fn raise_concern(&mut self, input: NewConcern, now: DateTime<Utc>) -> Result<ConcernId> {
        self.writable()?;
        if let Some(a) = &input.agreement {
            self.state(a)?;
        }
        let what = clean_text("what happened", &input.what_happened, MAX_TEXT_CHARS, true)?;
        let felt = clean_text("how I felt", &input.how_i_felt, MAX_TEXT_CHARS, false)?;
        let need = clean_text("what I need", &input.what_i_need, MAX_TEXT_CHARS, false)?;
        let seq = self.next_seq();
        let id = ConcernId(crate::ids::order_key(&self.identity().device_id(), seq));
        let cid = id.clone();
        let agreement = input.agreement.clone();
        self.write(
            "concern",
            input.agreement.as_ref(),
            now,
            Touched::Concern(id.0.clone(), None),
            |tx| {
                tx.insert_map(
                    &["concerns"],
                    cid.as_str(),
                    Act::new(seq).fields(vec![
                        (
                            "agreement",
                            agreement.map(|a| a.0).unwrap_or_default().into(),
                        ),
                        ("what_happened", what.into()),
                        ("how_i_felt", felt.into()),
                        ("what_i_need", need.into()),
                    ]),
                    &["events"],
                )
            },
        )?;
        Ok(id)
    }

    fn concern_state(&self, id: &ConcernId) -> Result<&Concern> {
        self.derived()
            .concerns
            .iter()
            .find(|c| &c.id == id)
            .ok_or_else(|| Error::not_found("concern", id.as_str()))
    }

    /// Takes `step` on concern `id` (with the response's or renegotiation's `text`); returns
    /// the concern after it (without loading the history when the write did not need it).
    pub fn take_concern_step(
        &mut self,
        id: &ConcernId,
        step: ConcernStep,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Concern> {
        let intent = Intent::ConcernStep {
            concern: id.clone(),
            step,
            text: text.to_owned(),
        };
        match self.write_intent(intent, now) {
            Some(done) => {
                if let Some(after) = done?.and_then(|effect| effect.into_concern()) {
                    return Ok(after);
                }
            }
            None => self.write_concern_step(id, step, text, now)?,
        }
        self.concern(id)
    }

    fn write_concern_step(
        &mut self,
        id: &ConcernId,
        step: ConcernStep,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (me, _) = self.writable()?;
        let concern = self.concern_state(id)?.clone();
        if !check_concern_step(Some(&concern), id, &me, step)? {
            return Ok(());
        }
        let text = clean_text("text", text, MAX_TEXT_CHARS, step == ConcernStep::Responded)?;
        let renegotiation = match (&concern.agreement, step) {
            (Some(a), ConcernStep::Renegotiation) => {
                let state = self.state(a)?;
                Some((a.clone(), state.revision.clone()))
            }
            _ => None,
        };
        let seq = self.next_seq();
        // Only a renegotiation writes a second record.
        let rseq = match renegotiation {
            Some(_) => self.next_seq(),
            None => seq,
        };
        let rec = RecordId::for_record(&self.identity().device_id(), seq);
        let cid = id.clone();
        let touched_agreement = renegotiation.as_ref().map(|(a, _)| a.clone());
        let device = self.identity().device_id();
        self.write(
            "concern step",
            concern.agreement.as_ref(),
            now,
            Touched::Concern(id.0.clone(), touched_agreement),
            |tx| {
                tx.insert_record(
                    &["concerns", cid.as_str(), "events"],
                    rec.as_str(),
                    Act::new(seq).fields(concern_step_fields(step, text.clone())),
                )?;
                if let Some((aid, revision)) = &renegotiation {
                    write_renegotiation(tx, &device, aid, revision, &text, rseq)?;
                }
                Ok(())
            },
        )
    }

    /// The other partner acknowledges a concern.
    pub fn acknowledge_concern(&mut self, id: &ConcernId, now: DateTime<Utc>) -> Result<()> {
        self.take_concern_step(id, ConcernStep::Acknowledged, "", now)
            .map(|_| ())
    }

    /// Responds to a concern (an apology, a plan).
    pub fn respond_to_concern(
        &mut self,
        id: &ConcernId,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.take_concern_step(id, ConcernStep::Responded, text, now)
            .map(|_| ())
    }

    /// The partner who raised the concern says it is repaired.
    pub fn resolve_concern(&mut self, id: &ConcernId, now: DateTime<Utc>) -> Result<()> {
        self.take_concern_step(id, ConcernStep::Resolved, "", now)
            .map(|_| ())
    }

    /// Turns the concern into a renegotiation of its agreement.
    pub fn renegotiate_from_concern(
        &mut self,
        id: &ConcernId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.take_concern_step(id, ConcernStep::Renegotiation, reason, now)
            .map(|_| ())
    }

    /// Every concern, oldest first.
    pub fn concerns(&mut self) -> Result<Vec<Concern>> {
        self.ready()?;
        Ok(self.derived().concerns.clone())
    }

    /// One concern.
    pub fn concern(&mut self, id: &ConcernId) -> Result<Concern> {
        if let Some(Ok(Some(open))) = self.cached_agenda().map(|inputs| inputs.open_concern(id)) {
            return Ok(open.clone());
        }
        self.ready()?;
        self.concern_state(id).cloned()
    }

    // ----- check-ins -----------------------------------------------------------------------

    /// Records a check-in held on `held_on`; returns its record id.
    pub fn record_checkin(
        &mut self,
        held_on: NaiveDate,
        notes: &str,
        now: DateTime<Utc>,
    ) -> Result<RecordId> {
        self.add_checkin(held_on, notes, now)
            .map(|checkin| checkin.id)
    }

    /// Like [`Space::record_checkin`], returning the check-in as stored (without loading the
    /// history when the write did not need it).
    pub fn add_checkin(
        &mut self,
        held_on: NaiveDate,
        notes: &str,
        now: DateTime<Utc>,
    ) -> Result<CheckIn> {
        let intent = Intent::CheckIn {
            held_on,
            notes: notes.to_owned(),
        };
        if let Some(done) = self.write_intent(intent, now) {
            if let Some(checkin) = done?.and_then(|effect| effect.into_checkin()) {
                return Ok(checkin);
            }
        }
        let key = self.write_checkin(held_on, notes, now)?;
        self.ready()?;
        let checkin = self
            .derived()
            .checkins
            .iter()
            .find(|c| c.id == key)
            .cloned();
        checkin.ok_or_else(|| Error::not_found("check-in", key.as_str()))
    }

    fn write_checkin(
        &mut self,
        held_on: NaiveDate,
        notes: &str,
        now: DateTime<Utc>,
    ) -> Result<RecordId> {
        self.writable()?;
        let notes = clean_text("notes", notes, MAX_TEXT_CHARS, false)?;
        let seq = self.next_seq();
        let rec = RecordId::for_record(&self.identity().device_id(), seq);
        let r = rec.clone();
        self.write(
            "checkin",
            None,
            now,
            Touched::CheckIn(rec.0.clone()),
            |tx| {
                tx.insert_record(
                    &["checkins"],
                    r.as_str(),
                    Act::new(seq).fields(checkin_fields(held_on, notes)),
                )
            },
        )?;
        Ok(rec)
    }

    /// The check-ins held, in causal order.
    pub fn checkins(&mut self) -> Result<Vec<CheckIn>> {
        self.ready()?;
        Ok(self.derived().checkins.clone())
    }

    // ----- problems and replication --------------------------------------------------------

    /// Records that break the schema and were left out of the views.
    pub fn problems(&mut self) -> Result<Vec<Problem>> {
        self.ready()?;
        let mut all: Vec<Problem> = self
            .derived()
            .problems
            .values()
            .flatten()
            .cloned()
            .collect();
        all.sort();
        all.dedup();
        Ok(all)
    }

    /// The document heads (hex change hashes).
    pub fn heads(&mut self) -> Result<Vec<String>> {
        self.ready()?;
        Ok(self.doc().heads().iter().map(|h| h.to_string()).collect())
    }

    /// The whole document with every device's checkpoint (to send to a newly enrolled
    /// device; [`Space::join`] reads it).
    pub fn export_document(&mut self) -> Result<Vec<u8>> {
        self.ready()?;
        let checkpoints = self.trust.checkpoints.encode_all();
        let mut out = Vec::with_capacity(8 + checkpoints.len());
        out.extend_from_slice(EXPORT_MAGIC);
        out.extend_from_slice(&((checkpoints.len() / CHECKPOINT_BYTES) as u32).to_be_bytes());
        out.extend_from_slice(&checkpoints);
        out.extend_from_slice(&self.doc().save());
        Ok(out)
    }

    /// The changes a replica with `heads` (hex) lacks, each as raw bytes, followed by the
    /// checkpoints that confirm them. Unknown heads are ignored (then more is sent than needed,
    /// never less).
    pub fn changes_since(&mut self, heads: &[String]) -> Result<Vec<Vec<u8>>> {
        self.ready()?;
        let heads: Vec<Heads> = heads
            .iter()
            .filter_map(|h| crate::document::parse_hash(h))
            .collect();
        let mut changes = self.doc().changes_after(&heads);
        changes.extend(self.checkpoint_items());
        Ok(changes)
    }

    /// Every verified checkpoint as an item of a change list (see [`Space::apply_changes`]).
    pub(crate) fn checkpoint_items(&self) -> Vec<Vec<u8>> {
        self.trust
            .checkpoints
            .verified()
            .into_iter()
            .map(|(_, c)| checkpoint_item(&c))
            .collect()
    }

    /// Applies changes (and checkpoints) from another device, durably. Returns whether
    /// anything new arrived. Malformed input, changes in this device's name and changes that
    /// reuse another device's op counters change nothing.
    pub fn apply_changes(&mut self, changes: &[Vec<u8>]) -> Result<bool> {
        self.ready()?;
        let FrameItems {
            changes: plain,
            checkpoints,
            intents,
        } = FrameItems::split(changes)?;
        if !intents.is_empty() {
            return Err(Error::InvalidRemoteData(
                "a peer's changes name intents of this device's log; they were refused".into(),
            ));
        }
        self.receive_checkpoints(&checkpoints);
        let DocState::Ready(doc) = &mut self.doc else {
            return Err(Error::NotAllowed("the space is not loaded".into()));
        };
        let before = doc.heads();
        let moved = match doc.apply_raw_changes(&plain) {
            Ok(moved) => moved,
            Err(e) => {
                self.recover_if_damaged();
                return Err(e);
            }
        };
        self.after_remote_input(&before, moved)?;
        Ok(moved)
    }

    /// Queues checkpoints from a peer (verified once their changes are here).
    pub(crate) fn receive_checkpoints(&mut self, list: &[Checkpoint]) {
        if !list.is_empty() {
            let added = self.trust.checkpoints.add(list);
            self.unstored_checkpoints.extend(added);
        }
    }

    /// After remote input: persist (changes and received checkpoints in one durable frame),
    /// verify waiting checkpoints, re-derive what changed.
    pub(crate) fn after_remote_input(&mut self, before: &[Heads], moved: bool) -> Result<()> {
        if moved || !self.unstored_checkpoints.is_empty() {
            self.persist()?;
        }
        let (grew, problems) = self.resolve_checkpoints();
        if grew && self.trust.checkpoints.take_uncovered_seen() {
            // Records that arrived before their checkpoint count now.
            self.derive_all()?;
        } else if moved {
            self.rederive_remote(before)?;
        }
        if let Some(derived) = self.derived.as_mut() {
            if !problems.is_empty() {
                derived
                    .problems
                    .entry("checkpoints".into())
                    .or_default()
                    .extend(problems.into_iter().map(|p| Problem::new("checkpoint", p)));
            }
        }
        if moved || grew {
            self.note_change(true);
            self.publish_due_position_keys(Utc::now())?;
        }
        Ok(())
    }

    /// Verifies the checkpoints whose changes have arrived.
    fn resolve_checkpoints(&mut self) -> (bool, Vec<String>) {
        let DocState::Ready(doc) = &self.doc else {
            return (false, Vec::new());
        };
        self.trust
            .checkpoints
            .resolve(&self.trust.space_id, |h| doc.change_facts(h))
    }

    /// Signs this device's newest change if its checkpoint does not cover it yet.
    fn refresh_own_checkpoint(&mut self) {
        let DocState::Ready(doc) = &self.doc else {
            return;
        };
        let Some((hash, seq, max_op)) = doc.last_local_change() else {
            return;
        };
        let me = self.identity.device_id();
        if self.trust.checkpoints.seq_of(&me).is_some_and(|s| s >= seq) {
            return;
        }
        let checkpoint = Checkpoint::sign(&self.identity, &self.trust.space_id, hash);
        self.trust.checkpoints.set_own(&me, checkpoint, seq, max_op);
    }

    /// Changes received whose dependencies have not arrived yet.
    pub fn missing_changes(&mut self) -> Result<usize> {
        self.ready()?;
        Ok(self.doc().missing_deps().len())
    }
}

impl Space {
    // ----- sealed positions ----------------------------------------------------------------

    pub(crate) fn position_records(&self) -> Vec<crate::position::TopicPosition> {
        let mut problems = Vec::new();
        let mut max = 0;
        crate::position::read_positions(
            self.doc(),
            &self.derived().members,
            &self.trust.space_id,
            &mut problems,
            &mut max,
        )
    }

    fn secret(&self) -> Result<&PartnerSecret> {
        self.secret.as_ref().ok_or_else(|| {
            Error::NotAllowed(
                "this device has not received your private key yet: pair it again from another of your devices".into(),
            )
        })
    }

    /// This partner's private secret, to hand to another of their devices over the paired,
    /// authenticated connection (never through the document).
    pub fn partner_secret(&self) -> Option<[u8; 32]> {
        self.secret.as_ref().map(|s| s.0)
    }

    /// Stores the private secret received from another device of this partner.
    pub fn import_partner_secret(&mut self, secret: [u8; 32]) -> Result<()> {
        let secret = PartnerSecret(secret);
        secret.save(self.storage.dir())?;
        self.secret = Some(secret);
        Ok(())
    }

    /// Writes (or rewrites) this partner's sealed position on `topic` (an agreement id or a
    /// draft's name). Refused once this partner marked it ready.
    pub fn write_position(&mut self, topic: &str, text: &str, now: DateTime<Utc>) -> Result<()> {
        let (me, _) = self.writable()?;
        let topic = clean_text("topic", topic, MAX_TITLE_CHARS, true)?;
        let text = clean_text("position", text, MAX_TEXT_CHARS, true)?;
        if self
            .position_records()
            .iter()
            .any(|p| p.topic == topic && p.partner == me && p.is_ready())
        {
            return Err(Error::NotAllowed(format!(
                "your position on '{topic}' is marked ready, which is final"
            )));
        }
        let id = RecordId::random();
        let key = self
            .secret()?
            .position_key(&self.trust.space_id, &topic, id.as_str());
        let (nonce, ciphertext) =
            crate::position::seal(&key, &self.trust.space_id, &topic, id.as_str(), &me, &text)?;
        let seq = self.next_seq();
        self.write("position", None, now, Touched::Positions, |tx| {
            tx.insert_record(
                &["positions"],
                id.as_str(),
                Act::new(seq).fields(vec![
                    ("kind", "text".into()),
                    ("topic", topic.clone().into()),
                    ("nonce", nonce.into()),
                    ("ciphertext", ciphertext.into()),
                ]),
            )
        })
    }

    /// Marks this partner's position on `topic` ready: final, committed to its current text.
    /// When both partners are ready, both positions are revealed.
    pub fn mark_position_ready(&mut self, topic: &str, now: DateTime<Utc>) -> Result<()> {
        let (me, _) = self.writable()?;
        let topic = topic.trim().to_owned();
        let mine = self
            .position_records()
            .into_iter()
            .find(|p| p.topic == topic && p.partner == me)
            .ok_or_else(|| Error::not_found("position of yours on", topic.clone()))?;
        if mine.is_ready() {
            return Ok(());
        }
        let Some(latest) = mine.latest else {
            return Err(Error::not_found("position of yours on", topic));
        };
        let digest = crate::position::digest(&latest.ciphertext);
        let seq = self.next_seq();
        let rec = RecordId::for_record(&self.identity().device_id(), seq);
        self.write("position ready", None, now, Touched::Positions, |tx| {
            tx.insert_record(
                &["positions"],
                rec.as_str(),
                Act::new(seq).fields(vec![
                    ("kind", "ready".into()),
                    ("topic", topic.clone().into()),
                    ("position", latest.id.clone().into()),
                    ("digest", digest.into()),
                ]),
            )
        })?;
        self.publish_due_position_keys(now)
    }

    /// Publishes the key of each of this partner's ready positions whose topic the other
    /// partner is ready on too (only that position's key, never the partner secret).
    fn publish_due_position_keys(&mut self, now: DateTime<Utc>) -> Result<()> {
        let Ok((me, _)) = self.writable() else {
            return Ok(());
        };
        let Some(secret) = self.secret.clone() else {
            return Ok(());
        };
        let records = self.position_records();
        let due: Vec<(String, String)> = records
            .iter()
            .filter(|p| p.partner == me && p.key.is_none())
            .filter_map(|p| {
                p.committed
                    .as_ref()
                    .map(|c| (p.topic.clone(), c.id.clone()))
            })
            .filter(|(topic, _)| {
                records
                    .iter()
                    .any(|o| &o.topic == topic && o.partner != me && o.is_ready())
            })
            .collect();
        for (topic, position) in due {
            let key = secret.position_key(&self.trust.space_id, &topic, &position);
            let seq = self.next_seq();
            let rec = RecordId::for_record(&self.identity().device_id(), seq);
            self.write("position key", None, now, Touched::Positions, |tx| {
                tx.insert_record(
                    &["positions"],
                    rec.as_str(),
                    Act::new(seq).fields(vec![
                        ("kind", "key".into()),
                        ("topic", topic.clone().into()),
                        ("position", position.clone().into()),
                        ("key", key.to_vec().into()),
                    ]),
                )
            })?;
        }
        Ok(())
    }

    /// Both partners' positions on `topic` (or on every topic), as this device may see them:
    /// its own partner's always, the other's only once both are ready and it was revealed.
    pub fn positions(&mut self, topic: Option<&str>) -> Result<Vec<Position>> {
        self.ready()?;
        let (me, _) = self.me_for_reading()?;
        let records = self.position_records();
        let space_id = self.trust.space_id.clone();
        let mut out = Vec::new();
        for p in records
            .iter()
            .filter(|p| topic.is_none_or(|t| p.topic == t.trim()))
        {
            let both_ready = records
                .iter()
                .filter(|o| o.topic == p.topic && o.is_ready())
                .count()
                >= 2;
            let state = match (&p.committed, &p.key) {
                (Some(_), Some(_)) if both_ready => PositionState::Revealed,
                (Some(_), _) => PositionState::Ready,
                (None, _) => PositionState::Draft,
            };
            let shown = p.committed.as_ref().or(p.latest.as_ref());
            let text = shown.and_then(|sealed| {
                let key: Vec<u8> = if p.partner == me {
                    self.secret
                        .as_ref()?
                        .position_key(&space_id, &p.topic, &sealed.id)
                        .to_vec()
                } else if state == PositionState::Revealed {
                    p.key.clone()?
                } else {
                    return None;
                };
                crate::position::open(
                    &key,
                    &space_id,
                    &p.topic,
                    &sealed.id,
                    &p.partner,
                    &sealed.nonce,
                    &sealed.ciphertext,
                )
            });
            out.push(Position {
                topic: p.topic.clone(),
                partner: p.partner.clone(),
                state,
                text,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
impl Space {
    /// Compacts after `frames` frames or `bytes` of log instead of the defaults.
    pub(crate) fn set_compaction_limits(&mut self, frames: usize, bytes: u64) {
        self.compaction = CompactionLimits { frames, bytes };
    }

    /// Loads and replays the pending intents once `limit` wait, instead of the default.
    pub(crate) fn set_max_pending_intents(&mut self, limit: usize) {
        self.max_pending_intents = limit;
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

/// Replaces the entries with the ids of `entries` (or adds them), keeping `list` sorted by
/// `key` (order, id).
fn upsert<T>(list: &mut Vec<T>, entries: Vec<T>, key: fn(&T) -> (i64, &str)) {
    for entry in entries {
        match list.binary_search_by(|e| key(e).cmp(&key(&entry))) {
            Ok(at) => list[at] = entry,
            Err(_) => {
                // Records do not change, but an entry re-read under another order must not
                // stay twice.
                let id = key(&entry).1;
                list.retain(|e| key(e).1 != id);
                let at = list.partition_point(|e| key(e) < key(&entry));
                list.insert(at, entry);
            }
        }
    }
}

/// Keeps the problems found for one part of the views (none: the entry goes).
fn set_problems(problems: &mut BTreeMap<String, Vec<Problem>>, part: String, found: Vec<Problem>) {
    if found.is_empty() {
        problems.remove(&part);
    } else {
        problems.insert(part, found);
    }
}

fn same_part(a: &Touched, b: &Touched) -> bool {
    match (a, b) {
        (Touched::Agreement(x), Touched::Agreement(y)) => x == y,
        (Touched::AgreementWritten(x), Touched::AgreementWritten(y)) => x == y,
        (Touched::LogEntry(x), Touched::LogEntry(y)) => x == y,
        (Touched::DeviceAdded(x), Touched::DeviceAdded(y)) => x == y,
        (Touched::CheckIn(x), Touched::CheckIn(y)) => x == y,
        (Touched::Concern(x, _), Touched::Concern(y, _)) => x == y,
        (Touched::Concerns(_), Touched::Concerns(_)) => true,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// A hash of everything the reminder schedule depends on.
fn reminders_fingerprint(derived: &Derived) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in &derived.members.partners {
        (&p.id, &p.name, &p.time_zone).hash(&mut h);
    }
    for a in derived.agreements.values() {
        a.reminder_fingerprint().hash(&mut h);
    }
    // What the schedule reads of a concern (a response changes nothing it shows).
    for c in &derived.concerns {
        let open = c.state.is_open();
        (&c.id, c.acknowledged, open, c.raised_at, &c.agreement).hash(&mut h);
        (&c.raised_by, &c.what_happened).hash(&mut h);
    }
    format!(
        "{:?}{:?}{:?}",
        derived.reminders.rules, derived.reminders.checkin, derived.reminders.marks
    )
    .hash(&mut h);
    h.finish()
}

fn join_register(reg: &crate::document::Register) -> String {
    let mut vals: Vec<String> = reg.values.iter().map(|(v, _)| display_val(v)).collect();
    vals.dedup();
    vals.join(" | ")
}

fn first_value(entity: &crate::document::Entity, field: Field) -> String {
    entity
        .registers
        .get(field.key())
        .and_then(|r| r.values.first())
        .map(|(v, _)| display_val(v))
        .unwrap_or_default()
}

fn check_device_id(device: &DeviceId) -> Result<()> {
    device
        .as_str()
        .parse::<iroh_base::PublicKey>()
        .map(|_| ())
        .map_err(|_| Error::invalid("device id", format!("'{device}' is not a device id")))
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

/// Of the fields an edit sets, those that change something (a new value, or a settled
/// conflict).
fn changed_fields(entity: &Entity, puts: Vec<(Field, String)>) -> Vec<(Field, String)> {
    puts.into_iter()
        .filter(|(field, value)| match entity.registers.get(field.key()) {
            Some(reg) => {
                reg.is_conflict()
                    || reg.single().map(display_val).as_deref() != Some(value.as_str())
            }
            None => true,
        })
        .collect()
}

/// What an edit writes: the fields that change, a new revision when the wording changes, and
/// the editor's acceptance of the new wording (the same with the document loaded or not).
struct FieldWrites {
    puts: Vec<(Field, String)>,
    revision: Option<String>,
    /// The acceptance record's id and fields.
    acceptance: Option<(RecordId, Vec<(&'static str, Val)>)>,
}

impl FieldWrites {
    /// Plans writing `puts` (fields that change, see [`changed_fields`]) to the agreement
    /// whose registers are `entity` and state `state`, as record `seq` of `device`.
    fn plan(
        entity: &Entity,
        state: &EditBasis,
        puts: Vec<(Field, String)>,
        op: &str,
        seq: i64,
        device: &DeviceId,
    ) -> FieldWrites {
        let wording_changed = puts.iter().any(|(f, _)| f.is_wording());
        // The content after this change, if no wording conflict remains.
        let remaining_conflict = state
            .conflicts
            .iter()
            .any(|c| c.field.is_wording() && !puts.iter().any(|(f, _)| *f == c.field));
        let value_of = |field: Field, current: String| -> String {
            puts.iter()
                .find(|(f, _)| *f == field)
                .map(|(_, v)| v.clone())
                .unwrap_or(current)
        };
        let new_content = if remaining_conflict {
            None
        } else {
            let cur = state.content.clone();
            let title = value_of(
                Field::Title,
                cur.as_ref()
                    .map(|c| c.title.clone())
                    .unwrap_or_else(|| first_value(entity, Field::Title)),
            );
            let details = value_of(
                Field::Details,
                cur.as_ref()
                    .map(|c| c.details.clone())
                    .unwrap_or_else(|| first_value(entity, Field::Details)),
            );
            let kind = value_of(Field::Kind, first_value(entity, Field::Kind));
            let strength = value_of(Field::Strength, first_value(entity, Field::Strength));
            let concerns = value_of(Field::Concerns, first_value(entity, Field::Concerns));
            match (
                crate::agreement::Kind::parse(&kind),
                crate::agreement::Strength::parse(&strength),
                crate::agreement::Concerns::from_stored(&concerns),
            ) {
                (Some(kind), Some(strength), Some(concerns)) => Some(Content {
                    title,
                    details,
                    kind,
                    strength,
                    concerns,
                }),
                _ => None,
            }
        };
        let is_draft = !state.accepted_ever && op != "resolve";
        let revision = wording_changed.then(|| RecordId::for_record(device, seq).0);
        let accept = wording_changed && !is_draft && new_content.is_some();
        let acceptance = accept.then(|| {
            let hash = new_content.as_ref().map(Content::hash).unwrap_or_default();
            let revision = revision.clone().unwrap_or_else(|| state.revision.clone());
            let closes = state.open_renegotiations.join(",");
            (
                RecordId::for_record(device, seq),
                acceptance_fields(&hash, &revision, &closes, seq),
            )
        });
        FieldWrites {
            puts,
            revision,
            acceptance,
        }
    }

    /// The registers to set, in order: the fields, then the revision.
    fn register_puts(&self) -> Vec<(&'static str, Val)> {
        let mut out: Vec<(&'static str, Val)> = self
            .puts
            .iter()
            .map(|(field, value)| (field.key(), Val::Str(value.clone())))
            .collect();
        if let Some(revision) = &self.revision {
            out.push(("revision", Val::Str(revision.clone())));
        }
        out
    }
}

/// Why a space whose document holds schema version `schema` is open read-only, if it is.
fn read_only_reason(schema: Option<u64>) -> Option<String> {
    match schema {
        Some(v) if v > SCHEMA_VERSION => Some(
            Error::ReadOnly {
                found: v,
                supported: SCHEMA_VERSION,
            }
            .to_string(),
        ),
        None => Some("the space has no schema version; it is open read-only".into()),
        _ => None,
    }
}

/// Refuses an agreement concerning someone who is not a partner of the space.
fn check_concerns(members: &Members, concerns: &crate::agreement::Concerns) -> Result<()> {
    if let crate::agreement::Concerns::Partner(p) = concerns {
        if !members.is_partner(p) {
            return Err(Error::NotAMember(format!("partner {p}")));
        }
    }
    Ok(())
}

/// What partner `me` accepting an agreement writes.
struct AcceptanceToWrite {
    hash: String,
    revision: String,
    /// The open renegotiation requests it closes (comma-separated).
    closes: String,
}

/// What accepting `state` as partner `me` writes; `None` when `me` already accepted these
/// words and closed every open request. Retired or conflicting words cannot be accepted.
fn acceptance_to_write(
    state: &AgreementState,
    me: &PartnerId,
) -> Result<Option<AcceptanceToWrite>> {
    if state.retirement.is_some() {
        return Err(Error::NotAllowed(
            "a retired agreement cannot be accepted".into(),
        ));
    }
    let Some(content) = &state.content else {
        let fields = state
            .conflicts
            .iter()
            .filter(|c| c.field.is_wording())
            .map(|c| c.field.key())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Error::Conflicted {
            id: state.summary.id.to_string(),
            fields,
        });
    };
    let already = state.accepted_current(me);
    let closes_needed = !state.open_renegotiations.is_empty()
        && !state.children.acceptances.iter().any(|a| {
            &a.author.partner == me
                && a.revision == state.revision
                && state
                    .open_renegotiations
                    .iter()
                    .all(|r| a.closes.contains(r))
        });
    if already && !closes_needed {
        return Ok(None);
    }
    Ok(Some(AcceptanceToWrite {
        hash: content.hash(),
        revision: state.revision.clone(),
        closes: state.open_renegotiations.join(","),
    }))
}

/// Refuses to edit a retired agreement.
fn check_editable(state: &AgreementState) -> Result<()> {
    if state.retirement.is_some() {
        return Err(Error::NotAllowed(
            "a retired agreement is kept as history and cannot be edited".into(),
        ));
    }
    Ok(())
}

/// Checks an edit's values and gives the fields it sets, in their stored form.
fn edit_puts(edit: &AgreementEdit, members: &Members) -> Result<Vec<(Field, String)>> {
    let mut puts: Vec<(Field, String)> = Vec::new();
    if let Some(t) = &edit.title {
        puts.push((Field::Title, clean_text("title", t, MAX_TITLE_CHARS, true)?));
    }
    if let Some(d) = &edit.details {
        puts.push((
            Field::Details,
            clean_text("details", d, MAX_DETAILS_CHARS, false)?,
        ));
    }
    if let Some(k) = edit.kind {
        puts.push((Field::Kind, k.as_str().to_owned()));
    }
    if let Some(s) = edit.strength {
        puts.push((Field::Strength, s.as_str().to_owned()));
    }
    if let Some(c) = &edit.concerns {
        check_concerns(members, c)?;
        puts.push((Field::Concerns, c.to_stored()));
    }
    if let Some(c) = &edit.category {
        if let Category::Custom(name) = c {
            clean_text("category", name, MAX_NAME_CHARS, true)?;
        }
        puts.push((Field::Category, c.to_stored()));
    }
    if let Some(r) = &edit.review_every {
        puts.push((
            Field::ReviewEvery,
            r.map(|c| c.to_stored()).unwrap_or_default(),
        ));
    }
    if let Some(d) = edit.next_review {
        puts.push((Field::NextReview, d.to_string()));
    }
    Ok(puts)
}

/// The fields of an acceptance record: the content hash and revision accepted, the
/// renegotiation requests it closes, and its causal order.
fn acceptance_fields(
    hash: &str,
    revision: &str,
    closes: &str,
    seq: i64,
) -> Vec<(&'static str, Val)> {
    let mut fields = vec![("hash", hash.into()), ("revision", revision.into())];
    // Most acceptances close no renegotiation: an absent field reads as none.
    if !closes.is_empty() {
        fields.push(("closes", closes.into()));
    }
    Act::new(seq).fields(fields)
}

fn write_acceptance(
    tx: &mut crate::document::Tx<'_, '_>,
    device: &DeviceId,
    agreement: &AgreementId,
    hash: &str,
    revision: &str,
    closes: &str,
    seq: i64,
) -> Result<()> {
    let rec = RecordId::for_record(device, seq);
    tx.insert_record(
        &["agreements", agreement.as_str(), "acceptances"],
        rec.as_str(),
        acceptance_fields(hash, revision, closes, seq),
    )
}

fn write_renegotiation(
    tx: &mut crate::document::Tx<'_, '_>,
    device: &DeviceId,
    agreement: &AgreementId,
    revision: &str,
    reason: &str,
    seq: i64,
) -> Result<()> {
    let rec = RecordId::for_record(device, seq);
    tx.insert_record(
        &["agreements", agreement.as_str(), "renegotiations"],
        rec.as_str(),
        Act::new(seq).fields(vec![
            ("revision", revision.into()),
            ("reason", reason.into()),
        ]),
    )
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

#[cfg(test)]
mod message_tests {
    use super::*;

    #[test]
    fn change_messages_round_trip_and_earlier_json_messages_still_read() {
        let id = AgreementId("1a2b3c4d5e6f7a8b".into());
        let short = parse_message(&message("edit", Some(&id)));
        assert_eq!(
            (short.op.as_str(), short.agreement.as_deref()),
            ("edit", Some(id.as_str()))
        );
        let plain = parse_message(&message("found", None));
        assert_eq!((plain.op.as_str(), plain.agreement), ("found", None));
        let old = parse_message(r#"{"op":"accept","agreement":"1a2b3c4d5e6f7a8b"}"#);
        assert_eq!(
            (old.op.as_str(), old.agreement.as_deref()),
            ("accept", Some(id.as_str()))
        );
    }
}

#[cfg(test)]
mod upsert_tests {
    use super::upsert;

    fn key(e: &(i64, String)) -> (i64, &str) {
        (e.0, e.1.as_str())
    }

    fn entry(order: i64, id: &str) -> (i64, String) {
        (order, id.to_owned())
    }

    #[test]
    fn entries_are_added_in_order_replaced_in_place_and_never_kept_twice() {
        let mut list = vec![entry(1, "a"), entry(3, "c"), entry(5, "e")];
        upsert(&mut list, vec![entry(4, "d"), entry(0, "z")], key);
        assert_eq!(
            list,
            [
                entry(0, "z"),
                entry(1, "a"),
                entry(3, "c"),
                entry(4, "d"),
                entry(5, "e")
            ]
        );
        // The same entry again changes nothing.
        upsert(&mut list, vec![entry(3, "c")], key);
        assert_eq!(list.len(), 5);
        // An entry re-read under another order moves; it is not kept twice.
        upsert(&mut list, vec![entry(9, "a")], key);
        assert_eq!(
            list,
            [
                entry(0, "z"),
                entry(3, "c"),
                entry(4, "d"),
                entry(5, "e"),
                entry(9, "a")
            ]
        );
        upsert(&mut list, Vec::new(), key);
        assert_eq!(list.len(), 5);
    }
}

#[cfg(test)]
mod compaction_tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap()
    }

    fn space(dir: &Path) -> Space {
        let mut space = Space::create(
            dir,
            CreateSpace {
                partner_name: "Alex".into(),
                time_zone: "UTC".into(),
                device_name: String::new(),
            },
            now(),
        )
        .unwrap();
        space.set_compaction_limits(5, u64::MAX);
        space
    }

    fn write(space: &mut Space, n: usize) {
        for i in 0..n {
            space
                .create_agreement(NewAgreement::titled(format!("A{i}")), now())
                .unwrap();
        }
    }

    #[test]
    fn a_due_log_waits_for_a_quiet_moment_then_compacts() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut space = space(dir.path());
        write(&mut space, 6);
        assert_eq!(
            space.frames_since_snapshot(),
            6,
            "no edit waited for compaction"
        );
        assert!(space.compaction_due());
        assert!(space.compact_if_due().unwrap());
        assert_eq!(space.frames_since_snapshot(), 0);
        assert!(!space.compaction_due());
        assert!(!space.compact_if_due().unwrap());
        space.shutdown();
        let mut space = Space::open(dir.path()).unwrap();
        assert_eq!(space.list(&ListFilter::default()).unwrap().len(), 6);
    }

    #[test]
    fn a_write_compacts_at_once_when_no_quiet_moment_came() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut space = space(dir.path());
        write(&mut space, 5 * COMPACT_NOW_FACTOR as usize - 1);
        assert_eq!(space.frames_since_snapshot(), 19);
        write(&mut space, 1);
        assert_eq!(space.frames_since_snapshot(), 0);
    }

    #[test]
    fn closing_compacts_a_due_log_and_keeps_everything() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut space = space(dir.path());
        write(&mut space, 7);
        space.shutdown();
        let mut space = Space::open(dir.path()).unwrap();
        assert_eq!(space.frames_since_snapshot(), 0);
        assert_eq!(space.list(&ListFilter::default()).unwrap().len(), 7);
        assert_eq!(space.open_report().unwrap(), OpenReport::default());
    }

    #[test]
    fn a_space_opened_on_demand_is_not_loaded_just_to_compact() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut space = space(dir.path());
        space.set_compaction_limits(usize::MAX, u64::MAX);
        write(&mut space, 3);
        space.shutdown();
        let mut space = Space::open_with(dir.path(), LoadMode::OnDemand).unwrap();
        space.set_compaction_limits(2, u64::MAX);
        assert!(space.compaction_due());
        assert!(!space.compact_if_due().unwrap());
        assert!(matches!(space.doc, DocState::NotLoaded(_)));
    }
}
