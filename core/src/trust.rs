//! Trust: authenticated records, device enrolment rules and the local trust anchor.
//!
//! Automerge actor ids are not authenticated, and the partner is part of the threat model: a
//! modified client of one partner must not accept, retire or enrol devices in the other's name.
//! Every device writes with its own actor id, which is its Ed25519 public key, and signs
//! [`Checkpoint`]s: "my changes up to this change hash are mine". A record (an acceptance, a
//! retirement, an enrolment, ...) counts only when every value in it was written by one device,
//! that device's newest verified checkpoint covers it, the device was validly enrolled and not
//! removed before it, and (for records in a partner's name) it belongs to that partner. One
//! 96-byte checkpoint per device travels with the changes instead of a signature per record,
//! so documents stay small and verification costs one signature check per device and sync.
//!
//! Enrolment rules (checked on every replica, in causal order: by the records' op counters,
//! which follow the signed change graph, never by an order the writer states):
//! - the founder's first device enrols itself; which device founded the space is pinned in the
//!   device's local `space.json` when it creates or joins the space (never taken from the
//!   shared document afterwards);
//! - the other partner's first device is enrolled by a device of the founder, once, while the
//!   space has one partner (`role = partner`);
//! - every other device is enrolled by a device of its own partner (`role = device`); no role
//!   lets one partner enrol a device in the other's name;
//! - a partner who lost every device comes back with a device enrolled by any valid device
//!   (`role = recovered`), carrying a proof signed by that partner's current recovery key
//!   (see [`crate::recovery`]); it voids that partner's earlier devices, as a removal does;
//! - a partner removes their own devices, and either partner ends the pairing with the other
//!   (an `endings` record: all of the other's devices, present and future). What a removed
//!   device wrote counts up to what the removal's change had seen of it (read from the change
//!   graph); nothing it wrote outside that counts, concurrent or not.
//!
//! Checkpoints are kept in the owner-only `checkpoints.bin`.

use crate::error::{Error, Result};
use crate::identity::{verify, DeviceIdentity};
use crate::ids::DeviceId;
use crate::storage::write_atomic;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

const ANCHOR_FILE: &str = "space.json";
const CHECKPOINTS_FILE: &str = "checkpoints.bin";

/// The device-local facts a replica trusts without the shared document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Anchor {
    pub(crate) space_id: String,
    pub(crate) founder_device: String,
}

impl Anchor {
    pub(crate) fn load(dir: &Path) -> Result<Option<Anchor>> {
        let path = dir.join(ANCHOR_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::Corrupt {
                    path,
                    reason: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    pub(crate) fn save(&self, dir: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::Corrupt {
            path: dir.join(ANCHOR_FILE),
            reason: e.to_string(),
        })?;
        write_atomic(&dir.join(ANCHOR_FILE), &bytes, true)
    }
}

/// A device's signed statement "my changes up to and including change `hash` are mine": an
/// Ed25519 signature by the device whose actor wrote that change, over a domain tag, the space id
/// and the change hash. Because a device's changes form one chain (Automerge refuses a second
/// change with the same actor and sequence number, and the core refuses changes whose op
/// counters do not grow), one checkpoint authenticates every earlier change of that device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    pub(crate) hash: [u8; 32],
    pub(crate) sig: [u8; 64],
}

/// Bytes of one encoded checkpoint.
pub(crate) const CHECKPOINT_BYTES: usize = 96;

impl Checkpoint {
    /// The bytes a checkpoint signature covers.
    pub(crate) fn message(space_id: &str, hash: &[u8; 32]) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + space_id.len());
        out.extend_from_slice(b"accord-checkpoint-v1");
        out.extend_from_slice(&(space_id.len() as u32).to_le_bytes());
        out.extend_from_slice(space_id.as_bytes());
        out.extend_from_slice(hash);
        out
    }

    /// Signs `hash` (a change of this device) for the space `space_id`.
    pub(crate) fn sign(identity: &DeviceIdentity, space_id: &str, hash: [u8; 32]) -> Checkpoint {
        Checkpoint {
            hash,
            sig: identity.sign(&Checkpoint::message(space_id, &hash)),
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.hash);
        out.extend_from_slice(&self.sig);
    }

    /// Decodes a run of checkpoints; `None` unless `bytes` is a whole number of them.
    pub(crate) fn decode_all(bytes: &[u8]) -> Option<Vec<Checkpoint>> {
        if !bytes.len().is_multiple_of(CHECKPOINT_BYTES) {
            return None;
        }
        Some(
            bytes
                .chunks_exact(CHECKPOINT_BYTES)
                .map(|c| Checkpoint {
                    hash: c[..32].try_into().expect("32 bytes"),
                    sig: c[32..].try_into().expect("64 bytes"),
                })
                .collect(),
        )
    }
}

/// A verified checkpoint with what it covers.
#[derive(Debug, Clone, Copy)]
struct Covered {
    checkpoint: Checkpoint,
    seq: u64,
    max_op: u64,
}

/// What the document says about one change.
pub(crate) struct ChangeFacts {
    /// The device (actor) that wrote it.
    pub(crate) device: DeviceId,
    pub(crate) seq: u64,
    pub(crate) max_op: u64,
}

#[derive(Default)]
struct CheckpointState {
    covered: BTreeMap<DeviceId, Covered>,
    /// Checkpoints whose change has not arrived yet (bounded).
    pending: Vec<Checkpoint>,
    /// A record was refused only because no checkpoint covered it yet.
    uncovered_seen: bool,
    /// Per device, the highest sequence number a waiting checkpoint was verified for against
    /// its change in an earlier batch (that change waits for ones it follows, which may come
    /// in later batches without a checkpoint of their own). Views still count a record only
    /// once a verified checkpoint's change is in the document.
    signed_ahead: BTreeMap<DeviceId, u64>,
}

/// Most checkpoints kept waiting for their change (garbage from a peer cannot grow it).
const MAX_PENDING: usize = 64;

/// The newest verified checkpoint of every device, shared by the views of one space and kept
/// in the owner-only `checkpoints.bin`.
#[derive(Clone, Default)]
pub(crate) struct Checkpoints {
    state: Arc<Mutex<CheckpointState>>,
}

impl Checkpoints {
    fn lock(&self) -> std::sync::MutexGuard<'_, CheckpointState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Loads the stored checkpoints of `dir` as pending (they are verified against the document
    /// by [`Checkpoints::resolve`]); a damaged file is ignored (peers send theirs again).
    pub(crate) fn load(dir: &Path) -> Checkpoints {
        let checkpoints = Checkpoints::default();
        if let Ok(bytes) = std::fs::read(dir.join(CHECKPOINTS_FILE)) {
            if let Some(list) = Checkpoint::decode_all(&bytes) {
                checkpoints.lock().pending = list;
            }
        }
        checkpoints
    }

    /// Writes every checkpoint (verified and pending) to `dir`, durably.
    pub(crate) fn save(&self, dir: &Path) -> Result<()> {
        let bytes = self.encode_all();
        write_atomic(&dir.join(CHECKPOINTS_FILE), &bytes, true)
    }

    /// Every checkpoint known here, encoded back to back.
    pub(crate) fn encode_all(&self) -> Vec<u8> {
        let state = self.lock();
        let mut out = Vec::with_capacity((state.covered.len() + state.pending.len()) * 96);
        for c in state.covered.values() {
            c.checkpoint.encode(&mut out);
        }
        for c in &state.pending {
            c.encode(&mut out);
        }
        out
    }

    /// The verified checkpoints (to pass on to peers).
    pub(crate) fn verified(&self) -> Vec<(DeviceId, Checkpoint)> {
        self.lock()
            .covered
            .iter()
            .map(|(d, c)| (d.clone(), c.checkpoint))
            .collect()
    }

    /// Queues checkpoints received from a peer (verified by [`Checkpoints::resolve`]);
    /// returns those that were new here.
    pub(crate) fn add(&self, list: &[Checkpoint]) -> Vec<Checkpoint> {
        let mut state = self.lock();
        let mut added = Vec::new();
        for c in list {
            if state.covered.values().any(|k| k.checkpoint.hash == c.hash)
                || state.pending.contains(c)
            {
                continue;
            }
            if state.pending.len() >= MAX_PENDING {
                state.pending.remove(0);
            }
            state.pending.push(*c);
            added.push(*c);
        }
        added
    }

    /// Verifies the pending checkpoints whose change is in the document (`facts` looks a
    /// change up). Returns the devices whose coverage grew and the problems found (bad
    /// signatures are dropped).
    pub(crate) fn resolve(
        &self,
        space_id: &str,
        facts: impl Fn(&[u8; 32]) -> Option<ChangeFacts>,
    ) -> (bool, Vec<String>) {
        let mut state = self.lock();
        if state.pending.is_empty() {
            return (false, Vec::new());
        }
        let pending = std::mem::take(&mut state.pending);
        let (mut grew, mut problems) = (false, Vec::new());
        for c in pending {
            let Some(f) = facts(&c.hash) else {
                state.pending.push(c);
                continue;
            };
            if !verify(&f.device, &Checkpoint::message(space_id, &c.hash), &c.sig) {
                problems.push(format!(
                    "a checkpoint for device {} has no valid signature of it; ignored",
                    f.device
                ));
                continue;
            }
            let newer = state
                .covered
                .get(&f.device)
                .is_none_or(|old| f.seq > old.seq);
            if newer {
                state.covered.insert(
                    f.device,
                    Covered {
                        checkpoint: c,
                        seq: f.seq,
                        max_op: f.max_op,
                    },
                );
                grew = true;
            }
        }
        (grew, problems)
    }

    /// What a batch of a peer's changes may claim, per device: the highest sequence number a
    /// verified checkpoint of that device covers, counting the waiting checkpoints that name a
    /// change of the batch itself (`batch`: each change's hash and facts) when the device's
    /// signature of it verifies. A peer's change is applied only within this coverage, so no
    /// device can bring in changes in another device's name.
    pub(crate) fn coverage(
        &self,
        space_id: &str,
        batch: &[([u8; 32], ChangeFacts)],
    ) -> crate::document::Signed {
        let mut state = self.lock();
        let mut signed = crate::document::Signed {
            verified: state
                .covered
                .iter()
                .map(|(d, c)| (d.clone(), c.seq))
                .collect(),
            in_batch: BTreeMap::new(),
        };
        let mut ahead = Vec::new();
        for c in &state.pending {
            let Some((_, f)) = batch.iter().find(|(hash, _)| *hash == c.hash) else {
                continue;
            };
            if verify(&f.device, &Checkpoint::message(space_id, &c.hash), &c.sig) {
                let seq = signed.in_batch.entry(f.device.clone()).or_insert(0);
                *seq = (*seq).max(f.seq);
                ahead.push((f.device.clone(), f.seq));
            }
        }
        for (device, seq) in ahead {
            let max = state.signed_ahead.entry(device).or_insert(0);
            *max = (*max).max(seq);
        }
        // Changes that come after the one a waiting checkpoint signed (see `signed_ahead`).
        let own_batch: std::collections::BTreeSet<&DeviceId> =
            batch.iter().map(|(_, f)| &f.device).collect();
        for (device, &seq) in &state.signed_ahead {
            if own_batch.contains(device) && !signed.in_batch.contains_key(device) {
                signed
                    .verified
                    .entry(device.clone())
                    .and_modify(|s| *s = (*s).max(seq))
                    .or_insert(seq);
            }
        }
        signed
    }

    /// Records this device's own checkpoint (made right after its own change).
    pub(crate) fn set_own(&self, device: &DeviceId, checkpoint: Checkpoint, seq: u64, max_op: u64) {
        self.lock().covered.insert(
            device.clone(),
            Covered {
                checkpoint,
                seq,
                max_op,
            },
        );
    }

    /// The sequence number of `device`'s newest verified change, if any.
    pub(crate) fn seq_of(&self, device: &DeviceId) -> Option<u64> {
        self.lock().covered.get(device).map(|c| c.seq)
    }

    /// Whether the op counter `counter` of `device` is covered by its verified checkpoint.
    pub(crate) fn covers(&self, device: &DeviceId, counter: u64) -> bool {
        let mut state = self.lock();
        let ok = state
            .covered
            .get(device)
            .is_some_and(|c| counter <= c.max_op);
        if !ok {
            state.uncovered_seen = true;
        }
        ok
    }

    /// Whether some record was refused for lack of a checkpoint since the last call.
    pub(crate) fn take_uncovered_seen(&self) -> bool {
        std::mem::take(&mut self.lock().uncovered_seen)
    }
}

/// A device's enrolment role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Founder,
    Partner,
    Device,
    /// A partner's new device, proved by their recovery secret (voids their earlier devices).
    Recovered,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Founder => "founder",
            Role::Partner => "partner",
            Role::Device => "device",
            Role::Recovered => "recovered",
        }
    }
    pub(crate) fn parse(text: &str) -> Option<Role> {
        [Role::Founder, Role::Partner, Role::Device, Role::Recovered]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}
