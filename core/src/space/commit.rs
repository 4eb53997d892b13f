//! The commit pipeline: the only code that makes a change of this device, signs it (through
//! its checkpoint), appends it durably to `changes.log` and notes the events; change messages
//! and the items of a stored frame.

use super::*;

/// A change's message: the operation and the agreement it concerns, as `op` or
/// `op@agreement` (short: it travels with every change).
pub(super) fn message(op: &str, agreement: Option<&AgreementId>) -> String {
    match agreement {
        Some(id) => format!("{op}@{id}"),
        None => op.to_owned(),
    }
}

/// Reads a change's message (the form above, or the JSON of earlier builds).
pub(super) fn parse_message(text: &str) -> OpMessage {
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
pub(super) const EXPORT_MAGIC: &[u8; 4] = b"ACX1";

/// Start of a checkpoint item in a change list (never the start of an Automerge change).
pub(super) const CHECKPOINT_ITEM_MAGIC: &[u8; 4] = b"ACKP";

/// Start of an item of a stored log frame naming the intent its changes made (only in this
/// device's own log, never from a peer).
pub(super) const INTENT_ITEM_MAGIC: &[u8; 4] = b"ACIN";

/// A checkpoint as an item of a change list or log frame.
pub(super) fn checkpoint_item(checkpoint: &Checkpoint) -> Vec<u8> {
    let mut item = CHECKPOINT_ITEM_MAGIC.to_vec();
    checkpoint.encode(&mut item);
    item
}

/// A change list (a stored log frame, or a peer's message) split into its parts.
pub(super) struct FrameItems {
    pub(super) changes: Vec<Vec<u8>>,
    pub(super) checkpoints: Vec<Checkpoint>,
    /// The intents these changes made (only this device's own log holds them).
    pub(super) intents: Vec<String>,
}

impl FrameItems {
    /// Separates the checkpoint and intent items of a change list from the changes.
    pub(super) fn split(items: &[Vec<u8>]) -> Result<FrameItems> {
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

impl Space {
    pub(super) fn note_change(&mut self, remote: bool) {
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

    /// This device's partner and id, if the device is a valid member.
    pub(super) fn me(&self) -> Result<(PartnerId, DeviceId)> {
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
    pub(super) fn me_for_reading(&self) -> Result<(PartnerId, DeviceId)> {
        let device = self.identity.device_id();
        self.derived()
            .members
            .devices
            .get(&device)
            .map(|d| d.partner.clone())
            .or_else(|| self.restored.as_ref().map(|r| r.partner.clone()))
            .map(|p| (p, device.clone()))
            .ok_or_else(|| Error::NotAMember(format!("this device ({device})")))
    }

    pub(super) fn writable(&mut self) -> Result<(PartnerId, DeviceId)> {
        self.ready()?;
        if self.key_in_use {
            return Err(Error::DeviceKeyInUse);
        }
        if self.restored.is_some() {
            return Err(keys::Restored::error());
        }
        let schema = self.derived().schema;
        if let Some(error) = schema.and_then(schema_error) {
            return Err(error);
        }
        if schema.is_none() {
            return Err(Error::NotAllowed(
                "the space has no schema version; it is open read-only".into(),
            ));
        }
        self.me()
    }

    pub(super) fn next_seq(&mut self) -> i64 {
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
    pub(super) fn write<T>(
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
    pub(super) fn persist(&mut self) -> Result<()> {
        // A replay stores all its changes in one frame at its end (see `replay_intents`).
        if self.replaying.is_some() {
            return Ok(());
        }
        let DocState::Ready(doc) = &self.doc else {
            return Ok(());
        };
        let heads = doc.heads();
        if heads == self.persisted_heads && self.unstored_checkpoints.is_empty() {
            self.unstored_intents.clear();
            return Ok(());
        }
        let mut changes = doc.changes_after(&self.persisted_heads);
        changes.extend(self.unstored_checkpoints.iter().map(checkpoint_item));
        // Recorded with the changes they became, so replay applies an intent exactly once.
        for id in &self.unstored_intents {
            let mut item = INTENT_ITEM_MAGIC.to_vec();
            item.extend_from_slice(id.as_bytes());
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
        self.unstored_intents.clear();
        self.persisted_heads = heads;
        let limits = self.compaction;
        let over = self.storage.frames_since_snapshot() as u64
            >= (limits.frames as u64).saturating_mul(COMPACT_NOW_FACTOR)
            || self.storage.log_len() >= limits.bytes.saturating_mul(COMPACT_NOW_FACTOR);
        // Not while intents wait in their log: this frame's markers must outlive them.
        if over && self.intents.is_empty() {
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
    pub(super) fn reload_from_disk(&mut self) {
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
