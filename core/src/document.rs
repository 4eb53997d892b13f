//! The only module that touches Automerge. It stores the couple space as nested maps of plain
//! scalar values and hands the rest of the core typed, owned reads ([`Register`], [`Record`]).
//!
//! Layout (schema version [`SCHEMA_VERSION`]):
//! ```text
//! root: schema, space_id,
//!       partners/{id}/{name, time_zone, seq, ...}
//!       devices/{id}/{partner, actor, seq, ...}
//!       agreements/{id}/{title, details, kind, strength, concerns, category, review_every,
//!                        next_review, revision (registers), created_by, created_at, seq,
//!                        acceptances/{rec}, retirements/{rec}, renegotiations/{rec}}
//!       log/{rec}, concerns/{id}/{..., events/{rec}}, checkins/{rec}, positions/{rec},
//!       rules/{id}, marks/{rec}, settings/checkin, endings/{rec}, recovery/{rec},
//!       keyrings/{rec}
//! ```
//! Entities (partners, devices, agreements, concerns, rules, settings) are maps. Immutable
//! records (`{rec}`: acceptances, log entries, check-ins, ...) are one packed bytes value each
//! (see [`packed`]); records stored as maps (schema version 1) are still read.
//! Wording fields are plain string registers (not collaborative text): concurrent writes stay
//! visible through `get_all` and become a conflict for the partners to resolve.

use crate::error::{Error, Result};
use crate::ids::DeviceId;
use crate::trust::ChangeFacts;
use automerge::transaction::Transactable;
use automerge::{
    ActorId, Automerge, Change, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, ValueRef, ROOT,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Op counters a peer's change may reach. A change's op counters follow those of every change
/// before it, so this bounds the operations of the whole document (16.7 million: a couple's
/// writes of many decades) by a rule each change carries itself.
const MAX_OP_COUNTER: u64 = 1 << 24;
/// Where the causal order of records this device is about to write starts: past every op
/// counter a document can hold.
const PENDING_ORDER: i64 = 1 << 40;
/// How deep maps nest below a collection before reading stops: records are at most a few
/// levels deep; anything deeper is not a valid record.
const MAX_RECORD_DEPTH: usize = 8;

/// The schema version this build writes and fully understands.
pub const SCHEMA_VERSION: u64 = 4;

/// The containers created with the space (never concurrently, so they never conflict).
pub(crate) const TOP_LEVEL_MAPS: [&str; 13] = [
    "partners",
    "devices",
    "agreements",
    "log",
    "concerns",
    "checkins",
    "rules",
    "marks",
    "settings",
    "positions",
    "endings",
    "recovery",
    "keyrings",
];

/// Top-level maps whose entities have registers either partner may edit over the other's
/// value (negotiation: an agreement's words, a reminder rule, the check-in ritual). A
/// partner's profile (`partners`) is edited only by that partner's devices; devices and
/// concerns are never edited by another device.
const SHARED_ENTITY_COLLECTIONS: [&str; 3] = ["agreements", "rules", "settings"];

/// Collections whose keys are not made by their writer: a partner's id, an enrolled device's
/// id, the couple's settings by name. Every other new key ends with its writer's device id.
const UNBOUND_KEY_COLLECTIONS: [&str; 3] = ["partners", "devices", "settings"];

/// The most bytes one change from a peer may take (a device's own changes are a few KiB).
const MAX_CHANGE_BYTES: usize = 1024 * 1024;
/// The most operations one change from a peer may hold (a write makes a few dozen).
const MAX_CHANGE_OPS: u64 = 5_000;
/// How many map keys deep a peer may create a map (records sit four deep).
const MAX_OBJECT_DEPTH: usize = 6;

/// Per device, the highest sequence number a verified checkpoint covers, given the facts of
/// a batch of a peer's changes (see `Checkpoints::coverage`).
pub(crate) type Coverage<'a> = &'a dyn Fn(&[([u8; 32], ChangeFacts)]) -> Signed;

/// What the checkpoints known for a batch cover, per device: the highest sequence number.
#[derive(Debug, Default)]
pub(crate) struct Signed {
    /// By checkpoints verified before the batch.
    pub(crate) verified: BTreeMap<DeviceId, u64>,
    /// By checkpoints that name a change of the batch itself and whose signature verifies.
    pub(crate) in_batch: BTreeMap<DeviceId, u64>,
}

impl Signed {
    /// Whether change `seq` of `device` is covered.
    pub(crate) fn covers(&self, device: &DeviceId, seq: u64) -> bool {
        [&self.verified, &self.in_batch]
            .iter()
            .any(|m| m.get(device).is_some_and(|&s| s >= seq))
    }
}

/// Registers that never change once written, by anyone.
const FIXED_REGISTERS: [&str; 5] = [
    "created_by",
    "created_device",
    "created_at",
    "seq",
    "agreement",
];

/// A scalar value read from the document.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Val {
    Str(String),
    Int(i64),
    Bool(bool),
    Bytes(Vec<u8>),
    /// Anything this schema does not use (described for problem reports).
    Other(String),
}

impl Val {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }
    pub(crate) fn as_int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            _ => None,
        }
    }

    fn from_ref(value: &ValueRef<'_>) -> Val {
        match value {
            ValueRef::Object(t) => Val::Other(format!("{t:?} object")),
            ValueRef::Scalar(s) => match s {
                automerge::ScalarValueRef::Str(s) => Val::Str(s.to_string()),
                automerge::ScalarValueRef::Int(i) => Val::Int(*i),
                automerge::ScalarValueRef::Uint(u) => Val::Int(*u as i64),
                automerge::ScalarValueRef::Boolean(b) => Val::Bool(*b),
                automerge::ScalarValueRef::Bytes(b) => Val::Bytes(b.to_vec()),
                other => Val::Other(format!("{other:?}")),
            },
        }
    }

    fn from_value(value: &automerge::Value<'_>) -> Val {
        match value {
            automerge::Value::Object(t) => Val::Other(format!("{t:?} object")),
            automerge::Value::Scalar(s) => match s.as_ref() {
                ScalarValue::Str(s) => Val::Str(s.to_string()),
                ScalarValue::Int(i) => Val::Int(*i),
                ScalarValue::Uint(u) => Val::Int(*u as i64),
                ScalarValue::Boolean(b) => Val::Bool(*b),
                ScalarValue::Bytes(b) => Val::Bytes(b.clone()),
                other => Val::Other(format!("{other:?}")),
            },
        }
    }

    fn to_scalar(&self) -> ScalarValue {
        match self {
            Val::Str(s) => ScalarValue::Str(s.as_str().into()),
            Val::Int(i) => ScalarValue::Int(*i),
            Val::Bool(b) => ScalarValue::Boolean(*b),
            Val::Bytes(b) => ScalarValue::Bytes(b.clone()),
            Val::Other(s) => ScalarValue::Str(s.as_str().into()),
        }
    }
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::Str(s.to_owned())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Self {
        Val::Str(s)
    }
}
impl From<i64> for Val {
    fn from(i: i64) -> Self {
        Val::Int(i)
    }
}
impl From<bool> for Val {
    fn from(b: bool) -> Self {
        Val::Bool(b)
    }
}
impl From<Vec<u8>> for Val {
    fn from(b: Vec<u8>) -> Self {
        Val::Bytes(b)
    }
}

/// Immutable records (log entries, acceptances, check-ins, ...) are stored as one bytes value
/// each instead of a map of scalars: one operation per record instead of one per field, which
/// keeps the history, sync messages and the engine's memory small.
///
/// Format: [`PACKED_RECORD`], then per field a key code (an index into [`PACKED_KEYS`] plus
/// one; 0 = the key follows as a length-prefixed string), a type tag and the value. Strings of
/// lowercase hex digits (ids, hashes) are stored as their bytes.
mod packed {
    use super::Val;
    use std::collections::BTreeMap;

    /// First byte of a packed record (format version 1).
    pub(super) const PACKED_RECORD: u8 = 0xA7;

    /// Field names with a one-byte code. Append only: the position is the stored code.
    const PACKED_KEYS: [&str; 24] = [
        "partner",
        "seq",
        "at",
        "agreement",
        "kind",
        "text",
        "hash",
        "reason",
        "revision",
        "by",
        "step",
        "held_on",
        "notes",
        "topic",
        "position",
        "ciphertext",
        "nonce",
        "digest",
        "key",
        "closes",
        "reminder",
        "occurrence",
        "due",
        "until",
    ];

    const STR: u8 = 0;
    const HEX: u8 = 1;
    const INT: u8 = 2;
    const FALSE: u8 = 3;
    const TRUE: u8 = 4;
    const BYTES: u8 = 5;

    fn put_varint(out: &mut Vec<u8>, mut n: u64) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    fn is_lower_hex(s: &str) -> bool {
        !s.is_empty()
            && s.len().is_multiple_of(2)
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }

    /// Packs `fields` into one value.
    pub(super) fn encode(fields: &[(&str, Val)]) -> Vec<u8> {
        let mut out = vec![PACKED_RECORD];
        for (key, value) in fields {
            match PACKED_KEYS.iter().position(|k| k == key) {
                Some(code) => out.push(code as u8 + 1),
                None => {
                    out.push(0);
                    put_varint(&mut out, key.len() as u64);
                    out.extend_from_slice(key.as_bytes());
                }
            }
            match value {
                Val::Str(s) | Val::Other(s) if is_lower_hex(s) => {
                    out.push(HEX);
                    put_varint(&mut out, (s.len() / 2) as u64);
                    out.extend(hex::decode(s).unwrap_or_default());
                }
                Val::Str(s) | Val::Other(s) => {
                    out.push(STR);
                    put_varint(&mut out, s.len() as u64);
                    out.extend_from_slice(s.as_bytes());
                }
                Val::Int(i) => {
                    out.push(INT);
                    put_varint(&mut out, ((*i << 1) ^ (*i >> 63)) as u64);
                }
                Val::Bool(b) => out.push(if *b { TRUE } else { FALSE }),
                Val::Bytes(b) => {
                    out.push(BYTES);
                    put_varint(&mut out, b.len() as u64);
                    out.extend_from_slice(b);
                }
            }
        }
        out
    }

    struct Reader<'a> {
        rest: &'a [u8],
    }

    impl<'a> Reader<'a> {
        fn byte(&mut self) -> Option<u8> {
            let (&first, rest) = self.rest.split_first()?;
            self.rest = rest;
            Some(first)
        }
        fn varint(&mut self) -> Option<u64> {
            let mut n = 0u64;
            for shift in (0..64).step_by(7) {
                let byte = self.byte()?;
                n |= u64::from(byte & 0x7f).checked_shl(shift)?;
                if byte & 0x80 == 0 {
                    return Some(n);
                }
            }
            None
        }
        fn take(&mut self, len: u64) -> Option<&'a [u8]> {
            let len = usize::try_from(len).ok()?;
            if len > self.rest.len() {
                return None;
            }
            let (taken, rest) = self.rest.split_at(len);
            self.rest = rest;
            Some(taken)
        }
        fn string(&mut self) -> Option<String> {
            let len = self.varint()?;
            String::from_utf8(self.take(len)?.to_vec()).ok()
        }
    }

    /// The fields of a packed record; `None` when `bytes` is not one (or is damaged).
    pub(super) fn decode(bytes: &[u8]) -> Option<BTreeMap<String, Val>> {
        let mut reader = Reader {
            rest: bytes.strip_prefix(&[PACKED_RECORD])?,
        };
        let mut fields = BTreeMap::new();
        while !reader.rest.is_empty() {
            let key = match reader.byte()? {
                0 => reader.string()?,
                code => PACKED_KEYS.get(usize::from(code) - 1)?.to_string(),
            };
            let value = match reader.byte()? {
                STR => Val::Str(reader.string()?),
                HEX => {
                    let len = reader.varint()?;
                    let raw = reader.take(len)?;
                    if raw.is_empty() {
                        return None;
                    }
                    Val::Str(hex::encode(raw))
                }
                INT => {
                    let n = reader.varint()?;
                    Val::Int((n >> 1) as i64 ^ -((n & 1) as i64))
                }
                FALSE => Val::Bool(false),
                TRUE => Val::Bool(true),
                BYTES => {
                    let len = reader.varint()?;
                    Val::Bytes(reader.take(len)?.to_vec())
                }
                _ => return None,
            };
            if fields.insert(key, value).is_some() {
                return None;
            }
        }
        Some(fields)
    }
}

/// Every concurrent value of one key, each with the actor (hex) that wrote it, sorted so that
/// every replica lists them in the same order. More than one value means a conflict.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Register {
    pub(crate) values: Vec<(Val, String)>,
}

impl Register {
    pub(crate) fn is_conflict(&self) -> bool {
        self.values.len() > 1
    }
    /// The only value, if there is exactly one.
    pub(crate) fn single(&self) -> Option<&Val> {
        match self.values.as_slice() {
            [(v, _)] => Some(v),
            _ => None,
        }
    }
}

/// An immutable record (a map of scalars) with the id it is stored under.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) id: String,
    pub(crate) fields: BTreeMap<String, Val>,
    /// Nested maps of records (e.g. a concern's events).
    pub(crate) children: BTreeMap<String, Vec<Record>>,
    /// The actor that created the record (hex).
    pub(crate) actor: String,
    /// The highest op counter among the record's own values (for checkpoint coverage).
    pub(crate) counter: u64,
    /// Some value of the record was written by another actor or is in conflict.
    pub(crate) foreign: bool,
    pub(crate) obj: ObjId,
}

/// Where a record sits in the document: enough to find the change that wrote it.
#[derive(Debug, Clone)]
pub(crate) struct Origin(ObjId);

impl Record {
    /// A record this device is about to write (a pending intent), as a reader of the
    /// document will see it once written: every value is `actor`'s. Its op counter is 0,
    /// which no record read from a document has (counters start at 1): see
    /// [`crate::view::TrustContext::check_authentic`].
    pub(crate) fn pending(id: String, fields: Vec<(&str, Val)>, actor: String, at: i64) -> Record {
        let mut fields: BTreeMap<String, Val> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        fields.insert("at".to_owned(), Val::Int(at));
        Record {
            id,
            fields,
            children: BTreeMap::new(),
            actor,
            counter: 0,
            foreign: false,
            obj: ROOT,
        }
    }

    /// The record's place in causal order: the op counter of the change that wrote it (a
    /// change's counters follow those of every change before it, so what a writer had seen
    /// always comes before; no writer can backdate), never a number the writer states. A
    /// record this device is about to write comes after every written one, in the order it
    /// was made.
    pub(crate) fn order(&self) -> i64 {
        if self.is_pending() {
            PENDING_ORDER.saturating_add(self.int("seq").unwrap_or(0).max(0))
        } else {
            self.counter.min(i64::MAX as u64) as i64
        }
    }

    /// Whether this is a record this device is about to write (see [`Record::pending`]).
    pub(crate) fn is_pending(&self) -> bool {
        self.counter == 0
    }

    /// Where this record sits in the document.
    pub(crate) fn origin(&self) -> Origin {
        Origin(self.obj.clone())
    }
    pub(crate) fn str(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Val::as_str)
    }
    pub(crate) fn int(&self, key: &str) -> Option<i64> {
        self.fields.get(key).and_then(Val::as_int)
    }
    pub(crate) fn bytes(&self, key: &str) -> Option<&[u8]> {
        match self.fields.get(key) {
            Some(Val::Bytes(b)) => Some(b),
            _ => None,
        }
    }
}

/// A map whose scalar keys may be registers (read with every concurrent value) and whose map
/// keys hold records.
#[derive(Debug, Clone)]
pub(crate) struct Entity {
    pub(crate) id: String,
    pub(crate) registers: BTreeMap<String, Register>,
    pub(crate) children: BTreeMap<String, Vec<Record>>,
    pub(crate) obj: ObjId,
}

impl Entity {
    /// An entity with these registers outside any loaded document (for deriving views from
    /// a cache; it has no place to write to).
    pub(crate) fn detached(id: &str, registers: BTreeMap<String, Register>) -> Entity {
        Entity {
            id: id.to_owned(),
            registers,
            children: BTreeMap::new(),
            obj: ROOT,
        }
    }

    pub(crate) fn single(&self, key: &str) -> Option<&Val> {
        self.registers.get(key).and_then(Register::single)
    }
    pub(crate) fn str(&self, key: &str) -> Option<&str> {
        self.single(key).and_then(Val::as_str)
    }
    pub(crate) fn int(&self, key: &str) -> Option<i64> {
        self.single(key).and_then(Val::as_int)
    }
}

/// Metadata of one change, for history views.
#[derive(Debug, Clone)]
pub(crate) struct ChangeInfo {
    pub(crate) hash: ChangeHash,
    pub(crate) actor: String,
    pub(crate) time_ms: i64,
    pub(crate) message: Option<String>,
    pub(crate) deps: Vec<ChangeHash>,
}

/// Automerge's per-peer sync state (what we believe the peer has), persistable.
pub(crate) struct SyncState(automerge::sync::State);

impl SyncState {
    pub(crate) fn new() -> Self {
        SyncState(automerge::sync::State::new())
    }
    pub(crate) fn encode(&self) -> Vec<u8> {
        self.0.encode()
    }
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        automerge::sync::State::decode(bytes).ok().map(SyncState)
    }
    /// The heads both sides had at the end of the last exchange.
    pub(crate) fn shared_heads(&self) -> &[ChangeHash] {
        &self.0.shared_heads
    }
    /// The peer's heads, as last reported in this session.
    pub(crate) fn their_heads(&self) -> Option<&[ChangeHash]> {
        self.0.their_heads.as_deref()
    }
}

/// The Automerge document of one couple space.
pub(crate) struct Document {
    doc: Automerge,
    /// Per actor: the highest sequence number and op counter seen (built on first remote
    /// input), to refuse changes whose op counters do not grow.
    clock: Option<HashMap<ActorId, (u64, u64)>>,
    /// An engine failure on peer data left this copy unusable (see [`Document::guard`]).
    damaged: bool,
    /// When each change was made, by actor and op range (records take their time from the
    /// change that wrote them); brought up to date on use.
    times: std::sync::Mutex<ChangeTimes>,
    /// This device's newest change (hash, sequence number, last op counter) as its last local
    /// commit left it; `None` until then (it is looked up, which costs a scan of the ops).
    last_local: Option<([u8; 32], u64, u64)>,
}

/// Change times by actor: `(start_op, max_op, time_ms)` sorted by `start_op`, as of `heads`.
#[derive(Default)]
struct ChangeTimes {
    heads: Vec<ChangeHash>,
    by_actor: HashMap<ActorId, Vec<(u64, u64, i64)>>,
}

fn doc_err(context: &str, e: automerge::AutomergeError) -> Error {
    Error::InvalidRemoteData(format!("{context}: {e}"))
}

impl Document {
    /// A new, empty space document written by `actor`.
    pub(crate) fn create(
        actor: &[u8],
        space_id: &str,
        founder: &str,
        time_ms: i64,
    ) -> Result<Self> {
        let mut doc = Automerge::new().with_actor(ActorId::from(actor));
        doc.transact_with(
            |_| commit_options("create space", time_ms),
            |tx| -> std::result::Result<(), automerge::AutomergeError> {
                tx.put(ROOT, "schema", SCHEMA_VERSION as i64)?;
                tx.put(ROOT, "space_id", space_id)?;
                tx.put(ROOT, "founder_device", founder)?;
                for key in TOP_LEVEL_MAPS {
                    tx.put_object(ROOT, key, ObjType::Map)?;
                }
                Ok(())
            },
        )
        .map_err(|f| doc_err("creating the space", f.error))?;
        Ok(Document {
            doc,
            clock: None,
            damaged: false,
            times: Default::default(),
            last_local: None,
        })
    }

    /// Loads a saved document (as written by [`Document::save`]) strictly: any damage is an error.
    pub(crate) fn load(bytes: &[u8], actor: &[u8]) -> std::result::Result<Self, String> {
        // Bytes from another device (the document received on joining) must not take the app
        // down even if they make the decoder panic.
        let doc = std::panic::catch_unwind(|| Automerge::load(bytes))
            .map_err(|_| "the document could not be decoded (the decoder failed)".to_owned())?
            .map_err(|e| e.to_string())?;
        Ok(Document {
            doc: doc.with_actor(ActorId::from(actor)),
            clock: None,
            damaged: false,
            times: Default::default(),
            last_local: None,
        })
    }

    /// An empty document (used before a snapshot exists).
    pub(crate) fn empty(actor: &[u8]) -> Self {
        Document {
            doc: Automerge::new().with_actor(ActorId::from(actor)),
            clock: None,
            damaged: false,
            times: Default::default(),
            last_local: None,
        }
    }

    /// The whole document, compressed.
    pub(crate) fn save(&self) -> Vec<u8> {
        self.doc.save()
    }

    /// The current heads.
    pub(crate) fn heads(&self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// Every change not reachable from `heads`, each as its raw bytes.
    pub(crate) fn changes_after(&self, heads: &[ChangeHash]) -> Vec<Vec<u8>> {
        self.doc
            .get_changes(heads)
            .into_iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect()
    }

    /// Applies changes read back from this device's own storage (already checked when they
    /// arrived); returns whether the heads moved. On any invalid change nothing is applied.
    pub(crate) fn apply_stored_changes(&mut self, raw: &[Vec<u8>]) -> Result<bool> {
        self.apply_parsed(raw, None)
    }

    /// Parses and applies raw changes from a peer (each validated, see
    /// [`Document::check_incoming`]); returns whether the heads moved. On any invalid change
    /// nothing is applied.
    pub(crate) fn apply_raw_changes(
        &mut self,
        raw: &[Vec<u8>],
        coverage: Coverage<'_>,
    ) -> Result<bool> {
        self.apply_parsed(raw, Some(coverage))
    }

    fn apply_parsed(&mut self, raw: &[Vec<u8>], from_peer: Option<Coverage<'_>>) -> Result<bool> {
        let mut changes = Vec::with_capacity(raw.len());
        for (i, bytes) in raw.iter().enumerate() {
            let change = Change::from_bytes(bytes.clone())
                .map_err(|e| Error::InvalidRemoteData(format!("change {i} is malformed: {e}")))?;
            changes.push(change);
        }
        let from_peer_coverage = from_peer;
        let from_peer = from_peer_coverage.is_some();
        let checked = match from_peer_coverage {
            Some(coverage) => self.check_incoming(&changes, coverage)?,
            None => {
                self.clock = None;
                HashSet::new()
            }
        };
        let before = self.doc.get_heads();
        self.guard("applying changes", |doc| doc.apply_changes(changes))?;
        self.note_applied(&before);
        if from_peer {
            self.check_applied(&before, &checked)?;
        }
        if !from_peer {
            self.last_local = None;
            // This device's own stored changes make its actor known to the document again,
            // so its last local change can be found.
            let actor = self.doc.get_actor().clone();
            self.doc.set_actor(actor);
        }
        Ok(self.doc.get_heads() != before)
    }

    /// Refuses remote changes that would let a peer write in another device's name within
    /// what that device already confirmed, or break the engine: changes under this device's
    /// own actor, changes whose op counters do not grow past the same actor's changes already
    /// applied here, changes that skip sequence numbers, and op counters out of reach of what
    /// was really written. On error nothing is applied.
    ///
    /// Returns the changes whose write rights were checked in full: a change waiting for one
    /// it follows writes into maps not here yet, and is checked when the engine applies it
    /// (see [`Document::check_applied`]).
    fn check_incoming(
        &mut self,
        changes: &[Change],
        coverage: Coverage<'_>,
    ) -> Result<HashSet<ChangeHash>> {
        let me = self.doc.get_actor().clone();
        self.build_clock();
        let clock = self.clock.as_ref().expect("built above");
        let mut sorted: Vec<&Change> = changes
            .iter()
            .filter(|c| !self.has_change(&c.hash()))
            .collect();
        sorted.sort_by_key(|c| (c.actor_id().clone(), c.seq()));
        let in_batch: HashSet<ChangeHash> = changes.iter().map(Change::hash).collect();
        let batch_max_op: HashMap<ChangeHash, u64> =
            changes.iter().map(|c| (c.hash(), c.max_op())).collect();
        // A change can only follow op counters that exist: the highest here plus every op of
        // this batch (a legitimate change's counters follow those of its dependencies).
        let batch_ops: u64 = sorted
            .iter()
            .map(|c| c.max_op().saturating_sub(c.start_op().get()) + 1)
            .sum();
        let limit = clock
            .values()
            .map(|e| e.1)
            .max()
            .unwrap_or(0)
            .saturating_add(batch_ops)
            .saturating_add(1);
        // What this batch adds, per actor, over the clock of applied changes.
        let mut next: HashMap<ActorId, (u64, u64)> = HashMap::new();
        let mut paths = HashMap::new();
        let mut new = Vec::with_capacity(sorted.len());
        for change in sorted {
            let actor = change.actor_id();
            let who = || actor.to_hex_string();
            if actor == &me {
                // Signed with this device's own key (a checkpoint naming the change itself):
                // another copy of this device exists (a restored backup, a migrated phone).
                let facts = [facts_of(change)];
                let signed = coverage(&facts);
                if signed
                    .in_batch
                    .get(&facts[0].1.device)
                    .is_some_and(|&s| s >= change.seq())
                {
                    return Err(Error::DeviceKeyInUse);
                }
                return Err(Error::InvalidRemoteData(
                    "a peer sent changes in this device's own name; nothing was applied".into(),
                ));
            }
            let (seq, max_op) = next
                .get(actor)
                .or_else(|| clock.get(actor))
                .copied()
                .unwrap_or((0, 0));
            // A device's changes are numbered 1, 2, 3, ... A later one may arrive before the
            // one it follows (it then waits for that dependency); one whose dependencies are
            // all here but that skips numbers is malformed (the engine would fail on it).
            let waits = change
                .deps()
                .iter()
                .any(|d| !in_batch.contains(d) && !self.has_change(d));
            if change.seq() > seq + 1 && !waits {
                return Err(Error::InvalidRemoteData(format!(
                    "a change by {} skips sequence numbers; nothing was applied",
                    who()
                )));
            }
            // Every change of a device follows all its earlier ones, so its op counters are
            // above theirs (checkpoints confirm records by op counter).
            if change.start_op().get() <= max_op {
                return Err(Error::InvalidRemoteData(format!(
                    "a change by {} reuses op counters of its earlier changes; nothing was applied",
                    who()
                )));
            }
            // A change numbers its operations after those of every change it follows: the
            // document format stores only where each change's operations end, so one that
            // starts below a dependency's end would make every later snapshot unreadable.
            let follows_below = change.deps().iter().any(|d| {
                let dep_max = batch_max_op
                    .get(d)
                    .copied()
                    .or_else(|| self.doc.get_change_meta_by_hash(d).map(|m| m.max_op));
                dep_max.is_some_and(|m| change.start_op().get() <= m)
            });
            if follows_below {
                return Err(Error::InvalidRemoteData(format!(
                    "a change by {} numbers its operations below those of the changes it follows; nothing was applied",
                    who()
                )));
            }
            if change.max_op() >= MAX_OP_COUNTER || (!waits && change.start_op().get() > limit) {
                return Err(Error::InvalidRemoteData(format!(
                    "a change by {} has op counters out of range; nothing was applied",
                    who()
                )));
            }
            let base = clock.get(actor).copied().unwrap_or((0, 0));
            let entry = next.entry(actor.clone()).or_insert(base);
            entry.0 = entry.0.max(change.seq());
            entry.1 = entry.1.max(change.max_op());
            new.push(change);
        }
        // Write rights, in the order the engine applies the batch, so a map made by one
        // change is known where a later one writes into it.
        let mut checked = HashSet::new();
        for change in causal_order(&new) {
            if self.check_foreign_writes(change, &mut paths)? {
                checked.insert(change.hash());
            }
        }
        // Authorship: each change within what its device signed.
        let facts: Vec<([u8; 32], ChangeFacts)> = new.iter().map(|c| facts_of(c)).collect();
        let covered = coverage(&facts);
        for (_, f) in &facts {
            if !covered.covers(&f.device, f.seq) {
                return Err(Error::InvalidRemoteData(format!(
                    "a change by {} came without a checkpoint signed by that device covering it; nothing was applied",
                    f.device
                )));
            }
        }
        Ok(checked)
    }

    /// Checks every operation of a peer's change against the document's schema (see
    /// ARCHITECTURE.md, "Write rights"). Whether a change passes depends only on the change and
    /// the objects it writes into, which sit where their creation put them, so every replica
    /// decides alike. On error nothing is applied.
    /// Returns whether every place the change writes to was known (else it is checked again
    /// once applied).
    fn check_foreign_writes(
        &self,
        change: &Change,
        paths: &mut HashMap<String, Option<Vec<String>>>,
    ) -> Result<bool> {
        use automerge::legacy::{Key, ObjectId, OpId, OpType};
        let actor = change.actor_id();
        let refuse = |what: String| {
            Err(Error::InvalidRemoteData(format!(
                "a change by {} {what}; nothing was applied",
                actor.to_hex_string()
            )))
        };
        // Bounded work: what one change may hold depends on the change alone.
        let ops = change.max_op().saturating_sub(change.start_op().get()) + 1;
        if change.raw_bytes().len() > MAX_CHANGE_BYTES || ops > MAX_CHANGE_OPS {
            return refuse(format!(
                "is too large ({} bytes, {ops} operations; at most {MAX_CHANGE_BYTES} and {MAX_CHANGE_OPS})",
                change.raw_bytes().len()
            ));
        }
        // Maps this change makes: writes inside them are their creation.
        let mut made_here = HashSet::new();
        let mut all_known = true;
        for (index, op) in change.decode().operations.into_iter().enumerate() {
            let path = match &op.obj {
                ObjectId::Root => Some(Vec::new()),
                ObjectId::Id(id) => paths
                    .entry(id.to_string())
                    .or_insert_with(|| self.path_of(&id.to_string()))
                    .clone(),
            };
            // An object neither here nor made in this batch: the change waits for the one
            // that makes it (a change cannot write into what it does not follow).
            let Some(path) = path else {
                all_known = false;
                continue;
            };
            let key = match &op.key {
                Key::Map(key) => key.to_string(),
                Key::Seq(_) => return refuse(format!("writes a list at /{}", path.join("/"))),
            };
            let at = || format!("/{}/{key}", path.join("/"));
            let fresh = matches!(&op.obj, ObjectId::Id(id) if made_here.contains(&id.to_string()));
            // Deleting is settling a conflict: removing the values not chosen of a register.
            let settles = matches!(op.action, OpType::Delete) && path.len() == 2 && !fresh;
            let shape_ok = (settles
                || matches!(op.action, OpType::Make(ObjType::Map) | OpType::Put(_)))
                && !op.insert;
            if !shape_ok {
                let kind = match op.action {
                    OpType::Delete => "deletes".to_owned(),
                    _ if op.insert => "inserts into a list".to_owned(),
                    ref other => {
                        format!("writes a kind of value the schema has no place for ({other:?})")
                    }
                };
                return refuse(format!("{kind} at {}", at()));
            }
            if let OpType::Make(_) = op.action {
                if path.len() >= MAX_OBJECT_DEPTH {
                    return refuse(format!(
                        "nests maps deeper than the schema allows at {}",
                        at()
                    ));
                }
                let made = OpId(change.start_op().get() + index as u64, actor.clone());
                let mut inner = path.clone();
                inner.push(key.clone());
                paths.insert(made.to_string(), Some(inner));
                made_here.insert(made.to_string());
            }
            if fresh {
                continue;
            }
            let rewrites = !op.pred.is_empty();
            match path.as_slice() {
                // The root and its collections are made once, by the founder.
                [] => return refuse("writes the document's root".into()),
                // A new entity or record in a collection, or a new record in an entity's
                // record map: written once, never replaced (not even by its author).
                [_] | [_, _, _] if rewrites => {
                    return refuse(format!("replaces what was written at {}", at()))
                }
                // Keys bound to their author: only the device whose whole id ends a key
                // may create it, so no one can take another device's next key.
                [collection] | [collection, _, _]
                    if (path.len() != 1
                        || !UNBOUND_KEY_COLLECTIONS.contains(&collection.as_str()))
                        && !crate::ids::key_is_bound_to(&key, &actor.to_hex_string()) =>
                {
                    return refuse(format!(
                        "creates {}, a key bound to another device (or to none)",
                        at()
                    ))
                }
                [_] | [_, _, _] => {}
                // An entity's register, by those who may edit it (a value claiming to be
                // concurrent counts too: it would make the rightful one a conflict).
                [collection, entity] => {
                    if !self.may_write_entity(actor, collection, entity, &key, &op.action) {
                        return refuse(format!("writes {}, which it may not write", at()));
                    }
                }
                // Inside a record: records are never edited.
                _ => return refuse(format!("edits the record at /{}", path.join("/"))),
            }
        }
        Ok(all_known)
    }

    /// Whether `actor` may write `key` of the existing entity `collection/entity` with
    /// `action`: only a register's new scalar value, or the removal of the values not chosen
    /// when settling a conflict (child maps are made with the entity), never a fixed register; an agreement, a reminder rule
    /// and the check-in ritual by either partner, a partner's profile by that partner's
    /// devices, a device's enrolment and a concern by no one.
    fn may_write_entity(
        &self,
        actor: &ActorId,
        collection: &str,
        entity: &str,
        key: &str,
        action: &automerge::legacy::OpType,
    ) -> bool {
        use automerge::legacy::OpType;
        let register_write = matches!(action, OpType::Put(_) | OpType::Delete);
        if !register_write || FIXED_REGISTERS.contains(&key) {
            return false;
        }
        match collection {
            "partners" => self.partner_of_actor(actor).as_deref() == Some(entity),
            c => SHARED_ENTITY_COLLECTIONS.contains(&c),
        }
    }

    /// The partner `actor`'s enrolment names (its enrolment precedes every change it makes).
    fn partner_of_actor(&self, actor: &ActorId) -> Option<String> {
        let enrolment = self.record(&["devices"], &actor.to_hex_string())?;
        enrolment.str("partner").map(str::to_owned)
    }

    /// The map keys leading to the object with the given (text) id, if it exists here.
    fn path_of(&self, id: &str) -> Option<Vec<String>> {
        self.keys_to(id)?.into_iter().collect()
    }

    /// The keys leading to the object with the given (text) id (`None` for a list index), if
    /// the object exists here.
    fn keys_to(&self, id: &str) -> Option<Vec<Option<String>>> {
        let obj = self.doc.import_obj(id).ok()?;
        let parents = self.doc.parents(&obj).ok()?;
        Some(
            parents
                .path()
                .into_iter()
                .map(|(_, prop)| match prop {
                    automerge::Prop::Map(k) => Some(k.to_string()),
                    automerge::Prop::Seq(_) => None,
                })
                .collect(),
        )
    }

    /// Builds what checking peers' changes needs (done by the loader thread, so the first
    /// sync after opening does not wait for it).
    pub(crate) fn prepare_for_peers(&mut self) {
        self.build_clock();
    }

    /// Builds, if needed, the clock of applied changes: per actor, the highest sequence number
    /// and op counter among the changes applied here (changes still waiting for dependencies
    /// do not count).
    fn build_clock(&mut self) {
        if self.clock.is_none() {
            let mut clock: HashMap<ActorId, (u64, u64)> = HashMap::new();
            Self::fold_changes(&mut clock, self.doc.get_changes_meta(&[]));
            self.clock = Some(clock);
        }
    }

    fn fold_changes<'a>(
        clock: &mut HashMap<ActorId, (u64, u64)>,
        metas: impl IntoIterator<Item = automerge::ChangeMetadata<'a>>,
    ) {
        for meta in metas {
            let entry = clock.entry(meta.actor.into_owned()).or_insert((0, 0));
            entry.0 = entry.0.max(meta.seq);
            entry.1 = entry.1.max(meta.max_op);
        }
    }

    /// After changes were applied: the clock takes in those that are now in the document.
    fn note_applied(&mut self, before: &[ChangeHash]) {
        if let Some(clock) = self.clock.as_mut() {
            Self::fold_changes(clock, self.doc.get_changes_meta(before));
        }
    }

    /// Runs an engine call on data from a peer. A panic inside the engine becomes an error and
    /// marks this in-memory document as damaged ([`Document::is_damaged`]): the caller then
    /// reloads it from disk, where nothing of that data was written.
    fn guard<T>(
        &mut self,
        what: &str,
        f: impl FnOnce(&mut Automerge) -> std::result::Result<T, automerge::AutomergeError>,
    ) -> Result<T> {
        let doc = &mut self.doc;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(doc))) {
            Ok(result) => result.map_err(|e| doc_err(what, e)),
            Err(_) => {
                self.damaged = true;
                self.clock = None;
                Err(Error::InvalidRemoteData(format!(
                    "{what} failed inside the document engine; the data was refused"
                )))
            }
        }
    }

    /// Whether an engine failure left this in-memory document unusable (reload it from disk).
    pub(crate) fn is_damaged(&self) -> bool {
        self.damaged
    }

    /// The actor, sequence number and last op counter of the change `hash`, if present.
    pub(crate) fn change_facts(&self, hash: &[u8; 32]) -> Option<ChangeFacts> {
        let meta = self.doc.get_change_meta_by_hash(&ChangeHash(*hash))?;
        Some(ChangeFacts {
            device: DeviceId(meta.actor.to_hex_string()),
            seq: meta.seq,
            max_op: meta.max_op,
        })
    }

    /// This device's newest change: its hash, sequence number and last op counter.
    pub(crate) fn last_local_change(&self) -> Option<([u8; 32], u64, u64)> {
        if self.last_local.is_some() {
            return self.last_local;
        }
        let change = self.doc.get_last_local_change()?;
        Some((change.hash().0, change.seq(), change.max_op()))
    }

    /// Whether the change `hash` is applied here. (Reads only the change graph: getting the
    /// change itself rebuilds it from every operation in its op counter range.)
    fn has_change(&self, hash: &ChangeHash) -> bool {
        self.doc.get_change_meta_by_hash(hash).is_some()
    }

    /// The next sync message for a peer, if there is anything to say.
    /// Returns the encoded message and the devices (actors, hex) whose changes it carries.
    /// Changes always go one by one (V1 messages), so the receiving side can check each before
    /// applying it.
    pub(crate) fn generate_sync_message(
        &self,
        state: &mut SyncState,
    ) -> Option<(Vec<u8>, BTreeSet<DeviceId>)> {
        use automerge::sync::SyncDoc;
        state.0.their_capabilities = None;
        self.doc.generate_sync_message(&mut state.0).map(|m| {
            let actors = actors_of(m.changes.iter());
            (m.encode(), actors)
        })
    }

    /// Applies a peer's sync message; malformed messages change nothing.
    pub(crate) fn receive_sync_message(
        &mut self,
        state: &mut SyncState,
        bytes: &[u8],
        coverage: Coverage<'_>,
    ) -> Result<()> {
        use automerge::sync::SyncDoc;
        let message = automerge::sync::Message::decode(bytes)
            .map_err(|e| Error::InvalidRemoteData(format!("malformed sync message: {e}")))?;
        if message.version != automerge::sync::MessageVersion::V1 && !message.changes.is_empty() {
            return Err(Error::InvalidRemoteData(
                "a sync message bundled its changes; Accord peers send them one by one".into(),
            ));
        }
        let mut changes = Vec::with_capacity(message.changes.len());
        for raw in message.changes.iter() {
            changes.push(Change::from_bytes(raw.to_vec()).map_err(|e| {
                Error::InvalidRemoteData(format!("a sync message holds a malformed change: {e}"))
            })?);
        }
        let checked = self.check_incoming(&changes, coverage)?;
        let before = self.doc.get_heads();
        let result = self.guard("applying a sync message", |doc| {
            doc.receive_sync_message(&mut state.0, message)
        });
        if result.is_ok() {
            self.note_applied(&before);
        }
        state.0.their_capabilities = None;
        result?;
        self.check_applied(&before, &checked)
    }

    /// Checks every change applied since `before`, including those the engine held back until
    /// their dependencies arrived (which [`Document::check_incoming`] could not check against
    /// them): each must number its operations after those of the changes it follows. A
    /// violation marks the document damaged, so the caller reloads it from disk, where none
    /// of it was written.
    ///
    /// Changes not `checked` in full when they arrived (they waited for one they follow) are
    /// checked against the write rights now; one that breaks them also marks the document
    /// damaged.
    fn check_applied(
        &mut self,
        before: &[ChangeHash],
        checked: &HashSet<ChangeHash>,
    ) -> Result<()> {
        let applied = self.doc.get_changes_meta(before);
        let below = applied.iter().find(|meta| {
            meta.deps.iter().any(|d| {
                self.doc
                    .get_change_meta_by_hash(d)
                    .is_some_and(|dep| meta.start_op <= dep.max_op)
            })
        });
        if let Some(meta) = below {
            self.damaged = true;
            return Err(Error::InvalidRemoteData(format!(
                "a change by {} numbers its operations below those of the changes it follows; nothing was kept",
                meta.actor.to_hex_string()
            )));
        }
        // A device writes only once enrolled: its first change follows a record under
        // `devices/<its id>` (decided from the change's own past, so replicas agree).
        let stranger = applied
            .iter()
            .find(|meta| meta.seq == 1 && !self.enrolled_before(&meta.actor, &meta.deps));
        if let Some(meta) = stranger {
            self.damaged = true;
            return Err(Error::InvalidRemoteData(format!(
                "a change by {} comes from a device not enrolled before it; nothing was kept",
                meta.actor.to_hex_string()
            )));
        }
        if applied.iter().all(|meta| checked.contains(&meta.hash)) {
            return Ok(());
        }
        let held: Vec<Change> = self
            .doc
            .get_changes(before)
            .into_iter()
            .filter(|c| !checked.contains(&c.hash()))
            .collect();
        let mut paths = HashMap::new();
        for change in &held {
            if let Err(e) = self.check_foreign_writes(change, &mut paths) {
                self.damaged = true;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Checks a whole document received when joining as if each change had come from a peer:
    /// one founding change, by the founder the document names; every other change within the
    /// write rights; every device's changes covered by a checkpoint it signed; each device's
    /// first change after its enrolment. A joining device takes the space only if it passes,
    /// so the inviter cannot hand it what every other replica refused.
    pub(crate) fn check_received(&self, coverage: Coverage<'_>) -> Result<()> {
        let refuse = |what: String| {
            Err(Error::InvalidRemoteData(format!(
                "the received space {what}; it was refused"
            )))
        };
        let changes = self.doc.get_changes(&[]);
        let founding: Vec<&Change> = changes.iter().filter(|c| c.deps().is_empty()).collect();
        let founder = self.root_str("founder_device");
        match founding.as_slice() {
            [one] if Some(one.actor_id().to_hex_string()) == founder && one.seq() == 1 => {}
            _ => return refuse("does not start with one founding change by its founder".into()),
        }
        let facts: Vec<([u8; 32], ChangeFacts)> = changes.iter().map(facts_of).collect();
        let covered = coverage(&facts);
        if let Some((_, f)) = facts
            .iter()
            .find(|(_, f)| !covered.covers(&f.device, f.seq))
        {
            return refuse(format!(
                "holds a change by {} that no checkpoint signed by that device covers",
                f.device
            ));
        }
        let mut paths = HashMap::new();
        for change in changes.iter().filter(|c| !c.deps().is_empty()) {
            if change.seq() == 1 && !self.enrolled_before(change.actor_id(), change.deps()) {
                return refuse(format!(
                    "holds a change by {}, a device not enrolled before it",
                    change.actor_id().to_hex_string()
                ));
            }
            if let Err(e) = self.check_foreign_writes(change, &mut paths) {
                return refuse(format!("breaks the write rights ({e})"));
            }
        }
        Ok(())
    }

    /// Whether the document as of `deps` holds a record under `devices/<actor>`.
    fn enrolled_before(&self, actor: &ActorId, deps: &[ChangeHash]) -> bool {
        let Some(devices) = self.child_map(&ROOT, "devices") else {
            return false;
        };
        self.doc
            .get_all_at(&devices, actor.to_hex_string(), deps)
            .is_ok_and(|values| !values.is_empty())
    }

    /// What changed between `before` and now: (top-level map, key within it) for every object
    /// an operation of a new change wrote to; the key is `None` for changes at the root itself,
    /// and the map is empty where the place could not be found (then derive everything).
    ///
    /// This reads the operations of the new changes rather than a diff of the visible
    /// document: a diff says nothing when a change replaces a value that is not the visible
    /// winner of a conflict, and views list every concurrent value.
    pub(crate) fn touched_since(&self, before: &[ChangeHash]) -> Vec<(String, Option<String>)> {
        use automerge::legacy::{Key, ObjectId};
        let mut out = Vec::new();
        // object -> keys written in it
        let mut objects: BTreeMap<String, BTreeSet<Option<String>>> = BTreeMap::new();
        for change in self.doc.get_changes(before) {
            for op in change.decode().operations {
                let key = match &op.key {
                    Key::Map(k) => Some(k.to_string()),
                    Key::Seq(_) => None,
                };
                match op.obj {
                    ObjectId::Root => match key {
                        Some(top) => out.push((top, None)),
                        None => out.push((String::new(), None)),
                    },
                    ObjectId::Id(id) => {
                        objects.entry(id.to_string()).or_default().insert(key);
                    }
                }
            }
        }
        for (obj, keys_written) in objects {
            let Some(keys) = self.keys_to(&obj) else {
                out.push((String::new(), None));
                continue;
            };
            match keys.as_slice() {
                [Some(top), second, ..] => out.push((top.clone(), second.clone())),
                [Some(top)] => {
                    for key in keys_written {
                        out.push((top.clone(), key));
                    }
                }
                _ => out.push((String::new(), None)),
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Every change not reachable from `heads` (raw bytes), recording them as sent in `state`
    /// so the sync protocol does not send them again.
    pub(crate) fn changes_after_for(
        &self,
        heads: &[ChangeHash],
        state: &mut SyncState,
    ) -> Vec<Vec<u8>> {
        self.doc
            .get_changes(heads)
            .into_iter()
            .map(|c| {
                state.0.sent_hashes.insert(c.hash());
                c.raw_bytes().to_vec()
            })
            .collect()
    }

    /// Whether `heads` are all known here.
    pub(crate) fn has_all(&self, heads: &[ChangeHash]) -> bool {
        heads.iter().all(|h| self.has_change(h))
    }

    /// The schema version stored in the document.
    pub(crate) fn schema_version(&self) -> Option<u64> {
        match self.doc.get(ROOT, "schema") {
            Ok(Some((v, _))) => Val::from_value(&v).as_int().map(|i| i.max(0) as u64),
            _ => None,
        }
    }

    /// A root scalar.
    pub(crate) fn root_str(&self, key: &str) -> Option<String> {
        match self.doc.get(ROOT, key) {
            Ok(Some((v, _))) => Val::from_value(&v).as_str().map(str::to_owned),
            _ => None,
        }
    }

    fn child_map(&self, parent: &ObjId, key: &str) -> Option<ObjId> {
        match self.doc.get(parent, key) {
            Ok(Some((automerge::Value::Object(ObjType::Map), id))) => Some(id),
            _ => None,
        }
    }

    fn resolve(&self, path: &[&str]) -> Option<ObjId> {
        let mut obj = ROOT;
        for key in path {
            obj = self.child_map(&obj, key)?;
        }
        Some(obj)
    }

    fn read_record(&self, id: String, obj: ObjId, actor: String, depth: usize) -> Record {
        let mut fields = BTreeMap::new();
        let mut children = BTreeMap::new();
        let (mut counter, owner) = match &obj {
            ObjId::Id(c, a, _) => (*c, Some(a.clone())),
            ObjId::Root => (0, None),
        };
        let mut foreign = owner.is_none();
        for item in self.doc.map_range(&obj, ..) {
            let value_id = item.id();
            if let ObjId::Id(c, a, _) = &value_id {
                counter = counter.max(*c);
                if Some(a) != owner.as_ref() {
                    foreign = true;
                }
            }
            if item.conflict {
                foreign = true;
            }
            match &item.value {
                // Maps nested deeper than any record is are not read: a record holding them
                // is not a valid record (and a peer cannot make reading overflow the stack).
                ValueRef::Object(ObjType::Map) if depth >= MAX_RECORD_DEPTH => foreign = true,
                ValueRef::Object(ObjType::Map) => {
                    children.insert(
                        item.key.to_string(),
                        self.read_records_at(value_id, depth + 1),
                    );
                }
                value => {
                    fields.insert(item.key.to_string(), Val::from_ref(value));
                }
            }
        }
        Record {
            id,
            fields,
            children,
            actor,
            counter,
            foreign,
            obj,
        }
    }

    fn read_records_at(&self, obj: ObjId, depth: usize) -> Vec<Record> {
        enum Item {
            Map(String, ObjId),
            Packed(Record),
        }
        let items: Vec<Item> = self
            .doc
            .map_range(&obj, ..)
            .filter_map(|item| match &item.value {
                ValueRef::Object(ObjType::Map) => Some(Item::Map(item.key.to_string(), item.id())),
                ValueRef::Object(_) => None,
                ValueRef::Scalar(value) => {
                    let bytes = match value {
                        automerge::ScalarValueRef::Bytes(b) => Some(&b[..]),
                        _ => None,
                    };
                    let record =
                        packed_record(item.key.to_string(), item.id(), bytes, item.conflict)?;
                    Some(Item::Packed(record))
                }
            })
            .collect();
        items
            .into_iter()
            .map(|item| match item {
                Item::Map(key, id) => {
                    let actor = actor_of(&id);
                    self.read_record(key, id, actor, depth + 1)
                }
                Item::Packed(record) => self.with_change_time(record),
            })
            .collect()
    }

    /// A packed record's time is the time of the change that wrote it (not stored twice).
    fn with_change_time(&self, mut record: Record) -> Record {
        if !record.fields.is_empty() && !record.fields.contains_key("at") {
            if let Some(ms) = self.change_time(&record.obj) {
                record.fields.insert("at".to_owned(), Val::Int(ms));
            }
        }
        record
    }

    /// The time of the change that made operation `op`.
    fn change_time(&self, op: &ObjId) -> Option<i64> {
        let ObjId::Id(counter, actor, _) = op else {
            return None;
        };
        let mut times = self.times.lock().unwrap_or_else(|e| e.into_inner());
        let heads = self.doc.get_heads();
        if times.heads != heads {
            // Only the changes made since the index was last brought up to date.
            for meta in self.doc.get_changes_meta(&times.heads) {
                let list = times.by_actor.entry(meta.actor.into_owned()).or_default();
                let entry = (meta.start_op, meta.max_op, meta.timestamp);
                let at = list.partition_point(|e| e.0 < entry.0);
                list.insert(at, entry);
            }
            times.heads = heads;
        }
        let list = times.by_actor.get(actor)?;
        let at = list.partition_point(|e| e.0 <= *counter);
        let (start, max, time) = *list.get(at.checked_sub(1)?)?;
        (start..=max).contains(counter).then_some(time)
    }

    /// The records stored under `path` (e.g. `["log"]`), in key order.
    pub(crate) fn records(&self, path: &[&str]) -> Vec<Record> {
        match self.resolve(path) {
            Some(obj) => self.read_records_at(obj, 0),
            None => Vec::new(),
        }
    }

    /// The record `id` stored under `path`, if there is one.
    pub(crate) fn record(&self, path: &[&str], id: &str) -> Option<Record> {
        let parent = self.resolve(path)?;
        match self.doc.get(&parent, id).ok()?? {
            (automerge::Value::Object(ObjType::Map), obj) => {
                let actor = actor_of(&obj);
                Some(self.read_record(id.to_owned(), obj, actor, 0))
            }
            (automerge::Value::Object(_), _) => None,
            (automerge::Value::Scalar(value), op) => {
                let conflict = self
                    .doc
                    .get_all(&parent, id)
                    .map(|all| all.len() > 1)
                    .unwrap_or(true);
                let bytes = match value.as_ref() {
                    ScalarValue::Bytes(b) => Some(b.as_slice()),
                    _ => None,
                };
                packed_record(id.to_owned(), op, bytes, conflict)
                    .map(|record| self.with_change_time(record))
            }
        }
    }

    /// Keys under `path` whose values are not maps (schema problems for entity collections).
    pub(crate) fn non_map_keys(&self, path: &[&str]) -> Vec<String> {
        match self.resolve(path) {
            Some(obj) => self
                .doc
                .map_range(&obj, ..)
                .filter(|item| !matches!(item.value, ValueRef::Object(ObjType::Map)))
                .map(|item| item.key.to_string())
                .collect(),
            None => Vec::new(),
        }
    }

    /// Ids of the entities (maps) stored under the top-level map `collection`.
    pub(crate) fn entity_ids(&self, collection: &str) -> Vec<String> {
        match self.resolve(&[collection]) {
            Some(obj) => self
                .doc
                .map_range(&obj, ..)
                .filter(|item| matches!(item.value, ValueRef::Object(ObjType::Map)))
                .map(|item| item.key.to_string())
                .collect(),
            None => Vec::new(),
        }
    }

    /// Keys of the records (maps or packed values) stored under `path`, in key order.
    pub(crate) fn records_keys(&self, path: &[&str]) -> Vec<String> {
        match self.resolve(path) {
            Some(obj) => self
                .doc
                .map_range(&obj, ..)
                .filter(|item| match &item.value {
                    ValueRef::Object(t) => *t == ObjType::Map,
                    ValueRef::Scalar(_) => true,
                })
                .map(|item| item.key.to_string())
                .collect(),
            None => Vec::new(),
        }
    }

    /// One entity of the top-level map `collection`, with every concurrent value of its
    /// registers.
    pub(crate) fn entity(&self, collection: &str, id: &str) -> Option<Entity> {
        self.entity_with(collection, id, true)
    }

    /// Like [`Document::entity`] without reading the child records (cheaper).
    pub(crate) fn entity_registers(&self, collection: &str, id: &str) -> Option<Entity> {
        self.entity_with(collection, id, false)
    }

    fn entity_with(&self, collection: &str, id: &str, with_children: bool) -> Option<Entity> {
        let obj = self.resolve(&[collection, id])?;
        let mut registers = BTreeMap::new();
        let mut children = BTreeMap::new();
        let mut conflicted = Vec::new();
        for item in self.doc.map_range(&obj, ..) {
            match &item.value {
                ValueRef::Object(ObjType::Map) if !item.conflict => {
                    if with_children {
                        children.insert(item.key.to_string(), self.read_records_at(item.id(), 0));
                    }
                }
                _ if item.conflict => conflicted.push(item.key.to_string()),
                value => {
                    registers.insert(
                        item.key.to_string(),
                        Register {
                            values: vec![(Val::from_ref(value), actor_of(&item.id()))],
                        },
                    );
                }
            }
        }
        for key in conflicted {
            if let Some(register) = self.register_at(&obj, &key, None) {
                registers.insert(key, register);
            }
        }
        Some(Entity {
            id: id.to_owned(),
            registers,
            children,
            obj,
        })
    }

    fn register_at(
        &self,
        obj: &ObjId,
        key: &str,
        heads: Option<&[ChangeHash]>,
    ) -> Option<Register> {
        let all = match heads {
            Some(h) => self.doc.get_all_at(obj, key, h),
            None => self.doc.get_all(obj, key),
        }
        .ok()?;
        if all.is_empty() {
            return None;
        }
        let mut values: Vec<(Val, String)> = all
            .iter()
            .map(|(v, id)| (Val::from_value(v), actor_of(id)))
            .collect();
        values.sort_by(|a, b| {
            a.1.cmp(&b.1)
                .then_with(|| format!("{:?}", a.0).cmp(&format!("{:?}", b.0)))
        });
        Some(Register { values })
    }

    /// Every concurrent value of `key` of the entity as the document was at `heads`.
    pub(crate) fn entity_register_at(
        &self,
        entity: &Entity,
        key: &str,
        heads: &[ChangeHash],
    ) -> Option<Register> {
        self.register_at(&entity.obj, key, Some(heads))
    }

    /// The change that wrote a record.
    pub(crate) fn change_of(&self, origin: &Origin) -> Option<ChangeHash> {
        self.doc.hash_for_opid(&origin.0)
    }

    /// What the device that wrote the record at `origin` had seen of each device when it wrote
    /// it: per device (hex), the highest op counter among the changes in the past of the
    /// change that wrote it, that change included. Read from the change graph, so the writer
    /// cannot claim to have seen less or more than its change follows.
    pub(crate) fn seen_at(&self, origin: &Origin) -> BTreeMap<String, u64> {
        let Some(hash) = self.change_of(origin) else {
            return BTreeMap::new();
        };
        let after: HashSet<ChangeHash> = self
            .doc
            .get_changes_meta(&[hash])
            .into_iter()
            .map(|m| m.hash)
            .collect();
        let mut seen = BTreeMap::new();
        for meta in self.doc.get_changes_meta(&[]) {
            if !after.contains(&meta.hash) {
                let max = seen.entry(meta.actor.to_hex_string()).or_insert(0);
                *max = meta.max_op.max(*max);
            }
        }
        seen
    }

    /// Metadata of every change, in causal order.
    pub(crate) fn change_infos(&self) -> Vec<ChangeInfo> {
        self.doc
            .get_changes_meta(&[])
            .into_iter()
            .map(|m| ChangeInfo {
                hash: m.hash,
                actor: m.actor.to_hex_string(),
                time_ms: m.timestamp,
                message: m.message.map(|s| s.into_owned()),
                deps: m.deps,
            })
            .collect()
    }

    /// Runs `f` as one change with `message` and `time_ms`; on error nothing is written.
    pub(crate) fn change<T>(
        &mut self,
        message: &str,
        time_ms: i64,
        f: impl FnOnce(&mut Tx<'_, '_>) -> Result<T>,
    ) -> Result<T> {
        let result = self.doc.transact_with(
            |_| commit_options(message, time_ms),
            |tx| {
                let mut wrapper = Tx { tx };
                f(&mut wrapper)
            },
        );
        match result {
            Ok(success) => {
                if let Some(hash) = success.hash {
                    let meta = self.doc.get_change_meta_by_hash(&hash);
                    self.last_local = meta.as_ref().map(|m| (hash.0, m.seq, m.max_op));
                    // The clock of applied changes takes in this device's own change too.
                    if let Some(clock) = self.clock.as_mut() {
                        Self::fold_changes(clock, meta);
                    }
                }
                Ok(success.result)
            }
            Err(failure) => Err(failure.error),
        }
    }
}

#[cfg(test)]
impl Document {
    /// A change written under another `actor` on top of this document (how a modified client
    /// would forge changes in another device's name), as raw bytes.
    pub(crate) fn forge_change(
        &self,
        actor: &[u8],
        f: impl FnOnce(&mut Tx<'_, '_>) -> Result<()>,
    ) -> Result<Vec<u8>> {
        let mut fork = Document {
            doc: self.doc.fork().with_actor(ActorId::from(actor)),
            clock: None,
            damaged: false,
            times: Default::default(),
            last_local: None,
        };
        let before = fork.doc.get_heads();
        fork.change("forged", 0, f)?;
        // A write of the value already there makes no change: the newest local change would
        // be an old one.
        let change = fork
            .doc
            .get_last_local_change()
            .filter(|c| !before.contains(&c.hash()) && fork.doc.get_heads() != before)
            .ok_or_else(|| Error::InvalidRemoteData("the forged change was not made".into()))?;
        Ok(change.raw_bytes().to_vec())
    }
}

/// A change's hash with its device, sequence number and last op counter.
fn facts_of(change: &Change) -> ([u8; 32], ChangeFacts) {
    let facts = ChangeFacts {
        device: DeviceId(change.actor_id().to_hex_string()),
        seq: change.seq(),
        max_op: change.max_op(),
    };
    (change.hash().0, facts)
}

/// `changes` in the order the engine applies them: each after those of the batch it follows
/// (ties keep the given order).
fn causal_order<'a>(changes: &[&'a Change]) -> Vec<&'a Change> {
    let in_batch: HashSet<ChangeHash> = changes.iter().map(|c| c.hash()).collect();
    let mut placed: HashSet<ChangeHash> = HashSet::new();
    let mut out = Vec::with_capacity(changes.len());
    let mut rest: Vec<&Change> = changes.to_vec();
    while !rest.is_empty() {
        let waiting = rest.len();
        rest.retain(|c| {
            let ready = c
                .deps()
                .iter()
                .all(|d| !in_batch.contains(d) || placed.contains(d));
            if ready {
                placed.insert(c.hash());
                out.push(*c);
            }
            !ready
        });
        if rest.len() == waiting {
            // Hash-linked changes cannot wait on each other; keep whatever is left as given.
            out.append(&mut rest);
        }
    }
    out
}

/// The devices (actors) that wrote the raw changes in `raw` (unparsable items are skipped).
pub(crate) fn actors_of<'a>(raw: impl Iterator<Item = &'a [u8]>) -> BTreeSet<DeviceId> {
    raw.filter_map(|bytes| Change::from_bytes(bytes.to_vec()).ok())
        .map(|c| DeviceId(c.actor_id().to_hex_string()))
        .collect()
}

fn commit_options(message: &str, time_ms: i64) -> automerge::transaction::CommitOptions {
    automerge::transaction::CommitOptions::default()
        .with_message(message.to_owned())
        .with_time(time_ms)
}

/// A record stored as one packed value (see [`packed`]). A scalar that is not a readable
/// packed record becomes a record without fields, which views report as a problem.
fn packed_record(key: String, op: ObjId, bytes: Option<&[u8]>, conflict: bool) -> Option<Record> {
    let ObjId::Id(counter, actor, _) = &op else {
        return None;
    };
    Some(Record {
        id: key,
        fields: bytes.and_then(packed::decode).unwrap_or_default(),
        children: BTreeMap::new(),
        actor: actor.to_hex_string(),
        counter: *counter,
        foreign: conflict,
        obj: op,
    })
}

fn actor_of(id: &ObjId) -> String {
    match id {
        ObjId::Root => String::new(),
        ObjId::Id(_, actor, _) => actor.to_hex_string(),
    }
}

/// Writes within one change.
pub(crate) struct Tx<'a, 'b> {
    tx: &'a mut automerge::transaction::Transaction<'b>,
}

fn write_err(e: automerge::AutomergeError) -> Error {
    Error::InvalidRemoteData(format!("the document could not be written: {e}"))
}

impl Tx<'_, '_> {
    fn resolve(&self, path: &[&str]) -> Result<ObjId> {
        let mut obj = ROOT;
        for key in path {
            obj = match self.tx.get(&obj, *key).map_err(write_err)? {
                Some((automerge::Value::Object(ObjType::Map), id)) => id,
                _ => {
                    return Err(Error::InvalidRemoteData(format!(
                        "the document has no map at {}",
                        path.join("/")
                    )))
                }
            };
        }
        Ok(obj)
    }

    /// Sets `key` of the map at `path` (replacing every concurrent value).
    pub(crate) fn put(&mut self, path: &[&str], key: &str, value: impl Into<Val>) -> Result<()> {
        let obj = self.resolve(path)?;
        self.tx
            .put(&obj, key, value.into().to_scalar())
            .map_err(write_err)
    }

    /// Stores an immutable record at `path/key` as one packed value (see [`packed`]).
    pub(crate) fn insert_record(
        &mut self,
        path: &[&str],
        key: &str,
        fields: Vec<(&str, Val)>,
    ) -> Result<()> {
        let parent = self.resolve(path)?;
        self.tx
            .put(&parent, key, ScalarValue::Bytes(packed::encode(&fields)))
            .map_err(write_err)
    }

    /// Creates a map at `path/key` with scalar `fields` and empty child maps named `maps`.
    pub(crate) fn insert_map(
        &mut self,
        path: &[&str],
        key: &str,
        fields: Vec<(&str, Val)>,
        maps: &[&str],
    ) -> Result<()> {
        let parent = self.resolve(path)?;
        let obj = self
            .tx
            .put_object(&parent, key, ObjType::Map)
            .map_err(write_err)?;
        for (k, v) in fields {
            self.tx.put(&obj, k, v.to_scalar()).map_err(write_err)?;
        }
        for m in maps {
            self.tx
                .put_object(&obj, *m, ObjType::Map)
                .map_err(write_err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
impl Tx<'_, '_> {
    /// Nests `depth` maps, each under `key`, below the map at `path` (a hostile peer trying to
    /// make readers overflow the stack).
    pub(crate) fn nest_maps(&mut self, path: &[&str], key: &str, depth: usize) -> Result<()> {
        let mut obj = self.resolve(path)?;
        for _ in 0..depth {
            obj = self
                .tx
                .put_object(&obj, key, ObjType::Map)
                .map_err(write_err)?;
        }
        Ok(())
    }

    /// Deletes `key` of the map at `path` (no domain operation deletes; hostile peers might).
    pub(crate) fn delete(&mut self, path: &[&str], key: &str) -> Result<()> {
        let obj = self.resolve(path)?;
        self.tx.delete(&obj, key).map_err(write_err)
    }
}

/// Parses a hex change hash.
pub(crate) fn parse_hash(text: &str) -> Option<ChangeHash> {
    text.parse().ok()
}

/// Heads from their raw 32-byte forms.
pub(crate) fn heads_from_bytes(bytes: &[[u8; 32]]) -> Vec<ChangeHash> {
    bytes.iter().map(|b| ChangeHash(*b)).collect()
}

/// Raw 32-byte forms of heads.
pub(crate) fn heads_to_bytes(heads: &[ChangeHash]) -> Vec<[u8; 32]> {
    heads.iter().map(|h| h.0).collect()
}

pub(crate) use automerge::ChangeHash as Heads;

#[cfg(test)]
mod packed_tests {
    use super::packed::{decode, encode, PACKED_RECORD};
    use super::Val;
    use proptest::prelude::*;

    #[test]
    fn every_kind_of_value_round_trips() {
        let fields = vec![
            ("agreement", Val::Str("00ff12ab".into())),
            ("hash", Val::Str("a".repeat(64))),
            ("text", Val::Str("Kept it, with a smile ✓".into())),
            ("odd_hex", Val::Str("abc".into())),
            ("upper_hex", Val::Str("ABCD".into())),
            ("empty", Val::Str(String::new())),
            ("seq", Val::Int(i64::MAX)),
            ("at", Val::Int(i64::MIN)),
            ("zero", Val::Int(0)),
            ("yes", Val::Bool(true)),
            ("no", Val::Bool(false)),
            ("nonce", Val::Bytes(vec![0, 1, 2, 255])),
        ];
        let decoded = decode(&encode(&fields)).expect("decodes");
        assert_eq!(decoded.len(), fields.len());
        for (key, value) in &fields {
            assert_eq!(decoded.get(*key), Some(value), "{key}");
        }
    }

    #[test]
    fn ids_and_hashes_are_stored_as_bytes() {
        let packed = encode(&[("hash", Val::Str("ab".repeat(32)))]);
        // Magic, key code, tag, length, 32 bytes.
        assert_eq!(packed.len(), 1 + 1 + 1 + 1 + 32);
    }

    #[test]
    fn damaged_values_are_not_records() {
        let good = encode(&[("kind", Val::Str("kept".into())), ("seq", Val::Int(7))]);
        for cut in 1..good.len() {
            // Every proper prefix either fails or decodes to fewer fields, never panics.
            if let Some(fields) = decode(&good[..cut]) {
                assert!(fields.len() < 2, "cut at {cut}");
            }
        }
        assert!(decode(&[]).is_none());
        assert!(decode(b"plain text").is_none());
        assert!(
            decode(&[PACKED_RECORD, 200, 0]).is_none(),
            "unknown key code"
        );
        assert!(decode(&[PACKED_RECORD, 1, 9]).is_none(), "unknown type tag");
        assert!(
            decode(&[PACKED_RECORD, 1, 0, 0xff]).is_none(),
            "length runs past the end"
        );
        let twice = [PACKED_RECORD, 2, 2, 2, 2, 2, 4];
        assert!(decode(&twice).is_none(), "a field given twice");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut with_magic = vec![PACKED_RECORD];
            with_magic.extend_from_slice(&bytes);
            let _ = decode(&bytes);
            let _ = decode(&with_magic);
        }

        #[test]
        fn records_round_trip(
            text in ".{0,40}",
            hex in "([0-9a-f]{2}){0,40}",
            n in any::<i64>(),
            b in any::<bool>(),
            raw in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let fields = vec![
                ("text", Val::Str(text)),
                ("key", Val::Str(hex)),
                ("custom field", Val::Int(n)),
                ("flag", Val::Bool(b)),
                ("ciphertext", Val::Bytes(raw)),
            ];
            let decoded = decode(&encode(&fields)).expect("decodes");
            for (key, value) in &fields {
                prop_assert_eq!(decoded.get(*key), Some(value));
            }
        }
    }
}

#[cfg(test)]
mod change_lookup_tests {
    use super::{Document, Val};

    const ME: [u8; 32] = [7; 32];
    const PEER: [u8; 32] = [9; 32];

    fn newest(doc: &Document) -> Option<([u8; 32], u64, u64)> {
        doc.doc
            .get_last_local_change()
            .map(|c| (c.hash().0, c.seq(), c.max_op()))
    }

    #[test]
    fn the_newest_local_change_is_tracked_through_commits_reloads_and_peer_changes() {
        let mut doc = Document::create(&ME, "space", "founder", 0).unwrap();
        assert_eq!(doc.last_local_change(), newest(&doc));
        for i in 0..3 {
            doc.change("edit", i, |tx| tx.put(&[], "title", Val::Int(i)))
                .unwrap();
            let tracked = doc.last_local_change();
            assert_eq!(tracked, newest(&doc));
            assert_eq!(tracked.map(|t| t.1), Some(i as u64 + 2));
        }
        // A peer's change does not move this device's newest change.
        doc.change("enrol the peer", 8, |tx| {
            tx.insert_map(&["devices"], &hex::encode(PEER), vec![], &[])
        })
        .unwrap();
        let mut peer = Document::load(&doc.save(), &PEER).unwrap();
        peer.change("peer", 9, |tx| {
            let key = format!("peer_note{}", hex::encode(PEER));
            tx.insert_record(&["log"], &key, vec![("seq", Val::Int(99))])
        })
        .unwrap();
        let mine = doc.last_local_change();
        let theirs = peer.changes_after(&doc.heads());
        let all_signed = |batch: &[([u8; 32], crate::trust::ChangeFacts)]| super::Signed {
            verified: batch
                .iter()
                .map(|(_, f)| (f.device.clone(), f.seq))
                .collect(),
            in_batch: Default::default(),
        };
        doc.apply_raw_changes(&theirs, &all_signed).unwrap();
        assert_eq!(doc.last_local_change(), mine);
        // After a reload from storage it is looked up again.
        let mut reloaded = Document::empty(&ME);
        reloaded
            .apply_stored_changes(&doc.changes_after(&[]))
            .unwrap();
        assert_eq!(reloaded.last_local_change(), mine);
    }

    #[test]
    fn known_and_unknown_changes_are_told_apart() {
        let mut doc = Document::create(&ME, "space", "founder", 0).unwrap();
        doc.change("edit", 1, |tx| tx.put(&[], "title", Val::Int(1)))
            .unwrap();
        let heads = doc.heads();
        assert!(doc.has_all(&heads));
        let unknown = super::heads_from_bytes(&[[1; 32]]);
        assert!(!doc.has_all(&unknown));
        assert!(!doc.has_all(&[heads[0], unknown[0]]));
    }
}
