//! The sync part of [`Space`]: Automerge's sync protocol with per-peer state persisted in the
//! device directory (`sync/<device>.state`), and the checks the network layer needs (is this
//! endpoint an enrolled, non-removed device?). Remote changes go through the same durable
//! storage as local ones before anything is acknowledged.

use super::*;
use crate::document::{actors_of, SyncState};
use crate::storage::{ensure_private_dir, write_atomic};
use std::collections::HashSet;

/// What this device knows about a peer device's copy: persisted between sessions so a
/// reconnecting device sends what the peer lacks without a full handshake.
pub struct PeerSyncState {
    peer: DeviceId,
    state: SyncState,
    /// Checkpoints already sent to the peer in this session.
    sent_checkpoints: HashSet<[u8; 32]>,
}

impl std::fmt::Debug for PeerSyncState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerSyncState")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

impl PeerSyncState {
    /// A stand-in holding nothing (while the real state is lent to a blocking task).
    pub(crate) fn blank(peer: DeviceId) -> Self {
        PeerSyncState {
            peer,
            state: SyncState::new(),
            sent_checkpoints: HashSet::new(),
        }
    }

    /// The peer device.
    pub fn peer(&self) -> &DeviceId {
        &self.peer
    }
}

impl Space {
    /// Whether `device` may sync with this one: enrolled in the space, not removed, not this
    /// device. The network layer asks this before sending a single byte of the document.
    pub fn is_authorized_peer(&mut self, device: &DeviceId) -> bool {
        if self.ready().is_err() || device == &self.identity.device_id() {
            return false;
        }
        self.derived().members.partner_of_device(device).is_some()
    }

    /// Another copy of this device wrote with its key: remember it (durably), so this copy
    /// never writes or syncs again. Returns the error to report.
    fn note_key_in_use(&mut self) -> Error {
        self.key_in_use = true;
        let path = self.storage.dir().join(KEY_IN_USE_FILE);
        if let Err(e) = crate::storage::write_atomic(
            &path,
            b"another copy of this device wrote with its key\n",
            true,
        ) {
            tracing::warn!(error = %e, "could not record that this device's key is in use elsewhere");
        }
        Error::DeviceKeyInUse
    }

    /// Whether `device` belongs to the partner whose pairing was ended (it is told of the
    /// ending on an open session, then nothing more).
    pub fn pairing_ended_for(&mut self, device: &DeviceId) -> bool {
        if self.ready().is_err() {
            return false;
        }
        let members = &self.derived().members;
        members.ending.as_ref().is_some_and(|e| {
            members
                .devices
                .get(device)
                .is_some_and(|d| d.partner == e.partner)
        })
    }

    /// The other enrolled, non-removed devices (of both partners).
    pub fn peer_devices(&mut self) -> Result<Vec<Device>> {
        self.ready()?;
        let me = self.identity.device_id();
        Ok(self
            .derived()
            .members
            .devices
            .values()
            .filter(|d| !d.removed && d.id != me)
            .cloned()
            .collect())
    }

    /// Ready to sync: loaded, and not a development-schema space (whose records follow rules
    /// this build refuses; it can only be exported).
    fn syncable(&mut self) -> Result<()> {
        self.ready()?;
        if self.key_in_use {
            return Err(Error::DeviceKeyInUse);
        }
        if self.restored.is_some() {
            return Err(keys::Restored::error());
        }
        match self.derived().schema.and_then(super::schema_error) {
            Some(e @ Error::DevelopmentSchema { .. }) => Err(e),
            _ => Ok(()),
        }
    }

    fn sync_path(&self, peer: &DeviceId) -> std::path::PathBuf {
        self.storage
            .dir()
            .join("sync")
            .join(format!("{}.state", peer.as_str()))
    }

    /// The persisted sync state for `peer` (a fresh one if none or damaged).
    pub fn load_sync_state(&self, peer: &DeviceId) -> PeerSyncState {
        let state = std::fs::read(self.sync_path(peer))
            .ok()
            .and_then(|b| SyncState::decode(&b))
            .unwrap_or_else(SyncState::new);
        PeerSyncState {
            peer: peer.clone(),
            state,
            sent_checkpoints: HashSet::new(),
        }
    }

    /// Persists the sync state for its peer (best effort: losing it costs one full handshake).
    pub fn save_sync_state(&self, state: &PeerSyncState) -> Result<()> {
        let path = self.sync_path(&state.peer);
        if let Some(dir) = path.parent() {
            ensure_private_dir(dir)?;
        }
        write_atomic(&path, &state.state.encode(), false)
    }

    /// On reconnect: the changes made here since the last exchange with the peer ended (empty
    /// without a previous exchange). Sending them first saves the round trip of a handshake.
    /// They are recorded as sent in `state`, so the sync messages that follow do not repeat them.
    pub fn changes_since_last_sync(&mut self, state: &mut PeerSyncState) -> Result<Vec<Vec<u8>>> {
        self.syncable()?;
        let shared = state.state.shared_heads().to_vec();
        if shared.is_empty() || !self.doc().has_all(&shared) {
            return Ok(Vec::new());
        }
        let mut changes = self.doc().changes_after_for(&shared, &mut state.state);
        let actors = actors_of(changes.iter().map(Vec::as_slice));
        changes.extend(
            self.unsent_checkpoints(state, &actors)
                .iter()
                .map(super::checkpoint_item),
        );
        Ok(changes)
    }

    /// The checkpoints of `devices` the peer was not sent in this session.
    fn unsent_checkpoints(
        &self,
        state: &mut PeerSyncState,
        devices: &BTreeSet<DeviceId>,
    ) -> Vec<Checkpoint> {
        self.trust
            .checkpoints
            .verified()
            .into_iter()
            .filter(|(d, c)| devices.contains(d) && state.sent_checkpoints.insert(c.hash))
            .map(|(_, c)| c)
            .collect()
    }

    /// The next sync message for the peer, if there is anything to say: the checkpoints the
    /// peer has not been sent in this session (when changes go along), then Automerge's sync
    /// message.
    pub fn generate_sync_message(&mut self, state: &mut PeerSyncState) -> Result<Option<Vec<u8>>> {
        self.syncable()?;
        let Some((message, actors)) = self.doc().generate_sync_message(&mut state.state) else {
            return Ok(None);
        };
        let checkpoints = self.unsent_checkpoints(state, &actors);
        let mut out = Vec::with_capacity(1 + checkpoints.len() * CHECKPOINT_BYTES + message.len());
        out.push(checkpoints.len().min(255) as u8);
        for c in checkpoints.iter().take(255) {
            c.encode(&mut out);
        }
        out.extend_from_slice(&message);
        Ok(Some(out))
    }

    /// Applies a peer's sync message durably. Returns whether the document changed.
    /// A malformed message is an error and changes nothing.
    pub fn receive_sync_message(
        &mut self,
        state: &mut PeerSyncState,
        message: &[u8],
    ) -> Result<bool> {
        self.syncable()?;
        let bad = || Error::InvalidRemoteData("a sync message is truncated".into());
        let (&count, rest) = message.split_first().ok_or_else(bad)?;
        let len = count as usize * CHECKPOINT_BYTES;
        let checkpoints =
            Checkpoint::decode_all(rest.get(..len).ok_or_else(bad)?).ok_or_else(bad)?;
        let message = &rest[len..];
        self.receive_checkpoints(&checkpoints);
        let DocState::Ready(doc) = &mut self.doc else {
            return Err(Error::NotAllowed("the space is not loaded".into()));
        };
        let (checkpoints, space_id) = (&self.trust.checkpoints, self.trust.space_id.as_str());
        let coverage = |batch: &[_]| checkpoints.coverage(space_id, batch);
        let before = doc.heads();
        let result = doc.receive_sync_message(&mut state.state, message, &coverage);
        if result.is_err() && doc.is_damaged() {
            self.recover_if_damaged();
            return result.map(|_| false);
        }
        if let Err(Error::DeviceKeyInUse) = &result {
            return Err(self.note_key_in_use());
        }
        let moved = doc.heads() != before;
        self.after_remote_input(&before, moved)?;
        result.map(|_| moved)
    }

    /// Whether the peer holds every change this device has, as far as the last exchange
    /// showed (no presence or "last seen": only what was synced).
    pub fn peer_has_all_my_changes(&mut self, state: &PeerSyncState) -> bool {
        // Loading replays pending intents first; one still pending is a change the peer
        // cannot have.
        if self.ready().is_err() || !self.pending.is_empty() {
            return false;
        }
        let known = state
            .state
            .their_heads()
            .filter(|h| !h.is_empty())
            .unwrap_or(state.state.shared_heads());
        !known.is_empty() && self.doc().has_all(known) && self.doc().changes_after(known).is_empty()
    }
}

impl Space {
    /// Whether the last exchange showed the peer at exactly this device's heads.
    pub fn peer_in_sync(&mut self, state: &PeerSyncState) -> bool {
        if self.ready().is_err() {
            return false;
        }
        let mut ours = self.doc().heads();
        ours.sort();
        let mut theirs = state
            .state
            .their_heads()
            .map(<[_]>::to_vec)
            .unwrap_or_default();
        theirs.sort();
        ours == theirs
    }
}

/// Exchanging changes with peers: heads, exports, changes since, applying theirs.
impl Space {
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
        self.syncable()?;
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
        let (checkpoints, space_id) = (&self.trust.checkpoints, self.trust.space_id.as_str());
        let coverage = |batch: &[_]| checkpoints.coverage(space_id, batch);
        let before = doc.heads();
        let moved = match doc.apply_raw_changes(&plain, &coverage) {
            Ok(moved) => moved,
            Err(Error::DeviceKeyInUse) => return Err(self.note_key_in_use()),
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
    pub(super) fn resolve_checkpoints(&mut self) -> (bool, Vec<String>) {
        let DocState::Ready(doc) = &self.doc else {
            return (false, Vec::new());
        };
        self.trust
            .checkpoints
            .resolve(&self.trust.space_id, |h| doc.change_facts(h))
    }

    /// Signs this device's newest change if its checkpoint does not cover it yet.
    pub(super) fn refresh_own_checkpoint(&mut self) {
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
}
