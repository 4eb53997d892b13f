//! Editing and accepting an agreement, logging follow-through, recording a check-in, taking
//! a step on a concern, and marking reminders done or snoozed, without loading the
//! document's history.
//!
//! A process opened with [`LoadMode::OnDemand`] serves the list, the agenda and reminders
//! from `view.json`. To write too without loading the history (which Automerge builds at
//! several times the memory of the current state), `edits.json` keeps what those writes read:
//! the document's tip (heads, this device's last sequence number, the highest op counter),
//! the members, the top-level maps, and per agreement its registers with the operations that
//! wrote them and its parsed records. Both caches are written from the loaded views and checked against the
//! stored heads and log, so a stale or missing cache only means loading as before.
//!
//! The edit is planned by the same [`FieldWrites::plan`] as with the document loaded, built
//! by [`crate::document::write_without_document`] as the same change Automerge would make,
//! appended to the log and fsynced; the agreement's new state is derived by the same
//! [`view::derive_detached`] the views use, a new mark read by the same
//! [`reminders_impl::read_mark`] as on load, a new log entry or check-in by
//! the same [`view::read_log_from`] and [`view::read_checkins_from`]. Anything the cache cannot write exactly (a value
//! of an unknown type, a missing record map, a removed device, a newer schema) falls back to
//! loading the document, and so does a write once the log is due for compaction (so a space
//! only ever written on demand is still compacted, when that write's space closes).

use super::*;
use crate::document::{
    write_without_document, DocumentTip, EntityBasis, NewRecord, OpRef, Record, UnloadedChange,
};
use crate::storage::Frame;
use crate::trust::Checkpoint;
use crate::view::{ChildKind, ChildRecords, MembersParts};

/// `edits.json`: what an edit reads of the document, valid for the heads and log it names.
#[derive(Serialize, Deserialize)]
pub(super) struct EditCache {
    /// The space id the document holds.
    space_id: String,
    tip: DocumentTip,
    /// Frames in the log when written (as in [`ViewCache`]).
    log_frames: usize,
    /// The schema version stored in the document.
    schema: Option<u64>,
    /// The highest causal order of any record (the next record takes the one after).
    max_seq: i64,
    members: MembersParts,
    agreements: BTreeMap<AgreementId, AgreementBasis>,
    /// The top-level maps (`marks`, ...), as parents of records.
    top_maps: BTreeMap<String, OpRef>,
    /// Each open concern's map with its `events` map (the parent of a new step); no
    /// registers, which a step does not write.
    #[serde(default)]
    concerns: BTreeMap<ConcernId, EntityBasis>,
}

/// This device as a writer without the document: the members, its partner, itself, and the
/// causal order of the record it writes next.
struct Writer {
    members: Members,
    me: PartnerId,
    device: DeviceId,
    seq: i64,
}

/// A record this device adds to a top-level map (`marks`, `log`, `checkins`), with the
/// change's operation and agreement (its message).
struct TopRecord<'a> {
    op: &'a str,
    agreement: Option<&'a AgreementId>,
    map: &'static str,
    key: RecordId,
    fields: Vec<(&'static str, Val)>,
}

/// An agreement and the members as a write without the document starts from.
struct Unloaded {
    members: Members,
    me: PartnerId,
    device: DeviceId,
    /// The agreement's registers and state, derived from the cache.
    entity: Entity,
    state: AgreementState,
    /// The causal order of the record the write adds.
    seq: i64,
}

/// One agreement as an edit needs it.
#[derive(Serialize, Deserialize)]
struct AgreementBasis {
    entity: EntityBasis,
    children: ChildRecords,
}

impl EditCache {
    /// Takes the cache from the loaded document and its views.
    pub(super) fn from_loaded(doc: &Document, derived: &Derived, log_frames: usize) -> EditCache {
        let agreements = derived
            .agreements
            .iter()
            .filter_map(|(id, state)| {
                let entity = doc.entity_basis("agreements", id.as_str())?;
                Some((
                    id.clone(),
                    AgreementBasis {
                        entity,
                        children: state.children.for_summary(&state.revision),
                    },
                ))
            })
            .collect();
        let concerns = derived
            .concerns
            .iter()
            .filter(|c| c.state.is_open())
            .filter_map(|c| {
                let mut basis = doc.entity_basis("concerns", c.id.as_str())?;
                basis.registers.clear();
                Some((c.id.clone(), basis))
            })
            .collect();
        EditCache {
            space_id: doc.root_str("space_id").unwrap_or_default(),
            tip: doc.tip(),
            log_frames,
            schema: derived.schema,
            max_seq: derived.max_seq,
            members: derived.members.parts(),
            agreements,
            top_maps: doc.top_level_maps(),
            concerns,
        }
    }
}

impl Space {
    /// The edit cache, read on first use, if it matches the view cache (which matches the
    /// stored log).
    fn edit_cache(&mut self) -> Option<&mut EditCache> {
        let view = self.cached.as_ref()?;
        if self.edits.is_none() {
            let cache: EditCache = serde_json::from_slice(&self.storage.read_edit_cache()?).ok()?;
            self.edits = Some(Box::new(cache));
        }
        let edits = self.edits.as_deref_mut()?;
        (edits.tip.heads == view.heads && Some(edits.log_frames) == view.log_frames)
            .then_some(edits)
    }

    /// The space's members and this device's place in it from the edit cache, when the
    /// space is opened on demand and not loaded; `None` when the caller must load it.
    pub(super) fn info_unloaded(&mut self) -> Option<Result<SpaceInfo>> {
        if !matches!(self.doc, DocState::NotLoaded(_)) || self.derived.is_some() {
            return None;
        }
        let trust = self.trust.clone();
        let my_device = self.identity.device_id();
        let cache = self.edit_cache()?;
        let members = Members::from_parts(cache.members.clone(), &trust);
        let Some(me) = members.devices.get(&my_device).map(|d| d.partner.clone()) else {
            return Some(Err(Error::NotAMember(format!("this device ({my_device})"))));
        };
        Some(Ok(SpaceInfo {
            id: SpaceId(cache.space_id.clone()),
            schema_version: cache.schema.unwrap_or(0),
            read_only: read_only_reason(cache.schema),
            my_device,
            me,
            partners: members.partners.clone(),
            devices: members.devices.values().cloned().collect(),
        }))
    }

    /// Who writes without the document, when the space is not loaded, the caches match the
    /// stored log, the schema is this build's, this device is a member and the log is not due
    /// for compaction; `None` otherwise (the caller loads the document).
    fn unloaded_writer(&mut self) -> Option<Writer> {
        if !matches!(self.doc, DocState::NotLoaded(_)) || self.derived.is_some() {
            return None;
        }
        // A due log is compacted by a loaded space (on close): load rather than let it grow.
        if self.compaction_due() {
            return None;
        }
        let trust = self.trust.clone();
        let device = self.identity.device_id();
        let cache = self.edit_cache()?;
        if cache.schema != Some(SCHEMA_VERSION) {
            return None;
        }
        let members = Members::from_parts(cache.members.clone(), &trust);
        let me = members.partner_of_device(&device)?.clone();
        Some(Writer {
            members,
            me,
            device,
            seq: cache.max_seq.saturating_add(1),
        })
    }

    /// What a write to agreement `id` needs when the space is not loaded and the caches hold
    /// all of it; `None` when the caller must load the document (not a member, unknown
    /// agreement, a value the cache cannot write exactly, ...).
    fn prepare_unloaded(&mut self, id: &AgreementId) -> Option<Unloaded> {
        let Writer {
            members,
            me,
            device,
            seq,
        } = self.unloaded_writer()?;
        let cache = self.edit_cache()?;
        let basis = cache.agreements.get(id)?;
        if !basis.entity.is_plain() {
            return None;
        }
        let entity = basis.entity.to_entity(id.as_str());
        let state =
            view::derive_detached(entity.clone(), basis.children.clone(), Vec::new(), &members)
                .ok()?;
        Some(Unloaded {
            members,
            me,
            device,
            entity,
            state,
            seq,
        })
    }

    /// Makes the edit without loading the document when [`Space::prepare_unloaded`] can;
    /// `None` when the caller must load it. Checks and errors are those of the loaded path.
    pub(super) fn edit_unloaded(
        &mut self,
        id: &AgreementId,
        edit: &AgreementEdit,
        now: DateTime<Utc>,
    ) -> Option<Result<()>> {
        let prepared = self.prepare_unloaded(id)?;
        if edit.is_empty() {
            return Some(Err(Error::invalid(
                "edit",
                "changes nothing: give at least one field",
            )));
        }
        if let Err(e) = check_editable(&prepared.state) {
            return Some(Err(e));
        }
        let puts = match edit_puts(edit, &prepared.members) {
            Ok(puts) => changed_fields(&prepared.entity, puts),
            Err(e) => return Some(Err(e)),
        };
        if puts.is_empty() {
            return Some(Ok(()));
        }
        let writes = FieldWrites::plan(
            &prepared.entity,
            &EditBasis::of(&prepared.state),
            puts,
            "edit",
            prepared.seq,
            &prepared.device,
        );
        let puts = writes.register_puts();
        self.write_unloaded(id, "edit", prepared, &puts, writes.acceptance, now)
    }

    /// Records this partner's acceptance without loading the document when
    /// [`Space::prepare_unloaded`] can; `None` when the caller must load it.
    pub(super) fn accept_unloaded(
        &mut self,
        id: &AgreementId,
        now: DateTime<Utc>,
    ) -> Option<Result<()>> {
        let prepared = self.prepare_unloaded(id)?;
        let acceptance = match acceptance_to_write(&prepared.state, &prepared.me) {
            Ok(Some(a)) => a,
            Ok(None) => return Some(Ok(())),
            Err(e) => return Some(Err(e)),
        };
        let record = (
            RecordId::for_record(&prepared.device, prepared.seq),
            acceptance_fields(
                &acceptance.hash,
                &acceptance.revision,
                &acceptance.closes,
                prepared.seq,
            ),
        );
        self.write_unloaded(id, "accept", prepared, &[], Some(record), now)
    }

    /// Builds the change from the cache and commits it; `None` when the cache cannot build
    /// it exactly (nothing was written).
    fn write_unloaded(
        &mut self,
        id: &AgreementId,
        op: &str,
        prepared: Unloaded,
        puts: &[(&str, Val)],
        acceptance: Option<(RecordId, Vec<(&'static str, Val)>)>,
        now: DateTime<Utc>,
    ) -> Option<Result<()>> {
        let mut entity = self.edit_cache()?.agreements.get(id)?.entity.clone();
        let record = acceptance.as_ref().map(|(record, fields)| NewRecord {
            map: ChildKind::Acceptance.key(),
            key: record.as_str(),
            fields: fields.clone(),
        });
        let message = message(op, Some(id));
        let (built, tip) = self.build_unloaded(&mut entity, puts, record, &message, now)?;
        Some(self.commit_unloaded(id, prepared, built, tip, entity))
    }

    /// Builds one change of this device from the edit cache's tip, writing `puts` to `basis`
    /// and adding `record`; the new tip comes with it. `None` when the cache cannot build it
    /// exactly (nothing was written).
    fn build_unloaded(
        &mut self,
        basis: &mut EntityBasis,
        puts: &[(&str, Val)],
        record: Option<NewRecord<'_>>,
        message: &str,
        now: DateTime<Utc>,
    ) -> Option<(UnloadedChange, DocumentTip)> {
        let actor = self.identity.actor_bytes();
        let mut tip = self.edit_cache()?.tip.clone();
        let built =
            write_without_document(&mut tip, &actor, basis, puts, record, message, now_ms(now))
                .ok()?;
        Some((built, tip))
    }

    /// Appends an unloaded change durably, signs it, and moves both caches to the new heads
    /// (the caller then updates what the change wrote). `Ok(false)` when the caches could
    /// not follow (they are dropped; the next read loads the document).
    fn append_unloaded(&mut self, built: &UnloadedChange, tip: &DocumentTip) -> Result<bool> {
        let frame = Frame {
            heads: vec![built.hash],
            changes: vec![built.bytes.clone()],
        };
        self.storage.append(&frame)?;
        let device = self.identity.device_id();
        let checkpoint = Checkpoint::sign(&self.identity, &self.trust.space_id, built.hash);
        self.trust
            .checkpoints
            .set_own(&device, checkpoint, tip.seq, tip.max_op);
        if let DocState::NotLoaded(source) = &mut self.doc {
            source.frames.push(frame);
        }
        self.persisted_heads = heads_from_bytes(&[built.hash]);
        self.unsaved_caches = true;
        self.events
            .push(SpaceEvent::DocumentChanged { remote: false });
        let frames = self.storage.frames_since_snapshot();
        let (Some(view), Some(edits)) = (self.cached.as_mut(), self.edits.as_mut()) else {
            self.cached = None;
            self.edits = None;
            return Ok(false);
        };
        view.heads = tip.heads.clone();
        view.log_frames = Some(frames);
        edits.tip = tip.clone();
        edits.log_frames = frames;
        Ok(true)
    }

    /// Makes an unloaded change to an agreement durable, then brings both caches to what the
    /// document now holds.
    fn commit_unloaded(
        &mut self,
        id: &AgreementId,
        prepared: Unloaded,
        built: UnloadedChange,
        tip: DocumentTip,
        entity: EntityBasis,
    ) -> Result<()> {
        if !self.append_unloaded(&built, &tip)? {
            return Ok(());
        }
        let Unloaded {
            members,
            state: before,
            seq,
            ..
        } = prepared;
        let records = built
            .record
            .map(|r| vec![(ChildKind::Acceptance, r)])
            .unwrap_or_default();
        let after = view::derive_detached(
            entity.to_entity(id.as_str()),
            before.children.clone(),
            records,
            &members,
        );
        let (Ok(after), Some(view), Some(edits)) =
            (after, self.cached.as_mut(), self.edits.as_mut())
        else {
            // Saved, but the caches cannot follow: the next read loads the document.
            self.cached = None;
            self.edits = None;
            return Ok(());
        };
        if before.reminder_fingerprint() != after.reminder_fingerprint() {
            self.events.push(SpaceEvent::RemindersChanged);
        }
        if let Some(summary) = view.agreements.iter_mut().find(|a| &a.id == id) {
            *summary = after.summary.clone();
        }
        edits.max_seq = edits.max_seq.max(seq).max(after.max_seq);
        edits.agreements.insert(
            id.clone(),
            AgreementBasis {
                entity,
                children: after.children,
            },
        );
        Ok(())
    }

    /// Marks a reminder's occurrence done without loading the document, when the caches
    /// hold all it needs; `None` when the caller must load it.
    pub(super) fn mark_done_unloaded(
        &mut self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Option<Result<()>> {
        let writer = self.unloaded_writer()?;
        let reminder = match self.find_reminder(id, now) {
            Ok(r) => r,
            Err(e) => return Some(Err(e)),
        };
        if self
            .agenda_inputs()?
            .marks_mut()
            .is_done(&reminder.occurrence)
        {
            return Some(Ok(()));
        }
        let fields = vec![
            ("kind", "done".into()),
            ("occurrence", reminder.occurrence.clone().into()),
        ];
        self.write_mark_unloaded("reminder done", writer, fields, now)
    }

    /// Snoozes one of this partner's reminders without loading the document, when the caches
    /// hold all it needs; `None` when the caller must load it.
    pub(super) fn snooze_unloaded(
        &mut self,
        id: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<Result<()>> {
        let writer = self.unloaded_writer()?;
        let reminder = match self.find_reminder(id, now) {
            Ok(r) => r,
            Err(e) => return Some(Err(e)),
        };
        if reminder.partner != writer.me {
            return Some(Err(Error::NotAllowed(
                "you can snooze only your own reminders".into(),
            )));
        }
        if until <= now {
            return Some(Err(Error::invalid("snooze", "must end in the future")));
        }
        let due = self
            .agenda_inputs()?
            .marks_mut()
            .snooze_of(&reminder.id)
            .map(|s| s.due)
            .unwrap_or(reminder.fires_at_utc);
        let fields = vec![
            ("kind", "snooze".into()),
            ("reminder", reminder.id.clone().into()),
            ("until", until.timestamp_millis().into()),
            ("due", due.timestamp_millis().into()),
        ];
        self.write_mark_unloaded("reminder snooze", writer, fields, now)
    }

    /// The agenda's inputs in the view cache (marks among them), while not loaded.
    fn agenda_inputs(&mut self) -> Option<&mut AgendaInputs> {
        match (&self.derived, self.cached.as_mut()) {
            (None, Some(view)) => view.agenda.as_mut(),
            _ => None,
        }
    }

    /// Writes a `marks/{rec}` record without the document and takes it into the cached marks.
    fn write_mark_unloaded(
        &mut self,
        op: &str,
        writer: Writer,
        fields: Vec<(&'static str, Val)>,
        now: DateTime<Utc>,
    ) -> Option<Result<()>> {
        let record = TopRecord {
            op,
            agreement: None,
            map: "marks",
            key: RecordId::for_record(&writer.device, writer.seq),
            fields,
        };
        let written = self.write_record_unloaded(&writer, &record, now)?;
        Some(written.map(|(record, follows)| {
            let (Some(record), true, Some(inputs)) = (record, follows, self.agenda_inputs()) else {
                return;
            };
            let marks = inputs.marks_mut();
            let before = format!("{marks:?}");
            reminders_impl::read_mark(marks, &record, &writer.members, &mut Vec::new());
            if format!("{marks:?}") != before {
                self.events.push(SpaceEvent::RemindersChanged);
            }
        }))
    }

    /// Appends a kept / missed / note entry to an agreement's log without loading the
    /// document, when the caches hold all it needs; `None` when the caller must load it.
    /// Checks, errors and the entry written are those of the loaded path.
    pub(super) fn log_unloaded(
        &mut self,
        id: &AgreementId,
        kind: LogKind,
        text: &str,
        now: DateTime<Utc>,
    ) -> Option<Result<(RecordId, Option<LogEntry>)>> {
        let writer = self.unloaded_writer()?;
        let text = match clean_text("text", text, MAX_TEXT_CHARS, false) {
            Ok(text) => text,
            Err(e) => return Some(Err(e)),
        };
        // The view cache lists every agreement the loaded views know (an entry reads nothing
        // else of the agreement).
        if !self.cached.as_ref()?.agreements.iter().any(|a| &a.id == id) {
            return Some(Err(Error::not_found("agreement", id.as_str())));
        }
        let record = TopRecord {
            op: "log",
            agreement: Some(id),
            map: "log",
            key: log_entry_key(id, &writer.device, writer.seq),
            fields: log_entry_fields(kind, text),
        };
        self.write_entry_unloaded(
            &writer,
            record,
            now,
            view::read_log_from,
            |inputs, entries| inputs.take_missed(entries),
        )
    }

    /// Records a check-in held without loading the document, when the caches hold all it
    /// needs; `None` when the caller must load it. Checks, errors and the record written are
    /// those of the loaded path.
    pub(super) fn checkin_unloaded(
        &mut self,
        held_on: NaiveDate,
        notes: &str,
        now: DateTime<Utc>,
    ) -> Option<Result<(RecordId, Option<CheckIn>)>> {
        let writer = self.unloaded_writer()?;
        let notes = match clean_text("notes", notes, MAX_TEXT_CHARS, false) {
            Ok(notes) => notes,
            Err(e) => return Some(Err(e)),
        };
        let record = TopRecord {
            op: "checkin",
            agreement: None,
            map: "checkins",
            key: RecordId::for_record(&writer.device, writer.seq),
            fields: checkin_fields(held_on, notes),
        };
        self.write_entry_unloaded(
            &writer,
            record,
            now,
            view::read_checkins_from,
            |inputs, checkins| inputs.take_checkins(checkins),
        )
    }

    /// Takes a step on an open concern (acknowledge, respond, resolve) without loading the
    /// document, when the caches hold all it needs; `None` when the caller must load it (a
    /// renegotiation, which also writes to the agreement, always does). Checks, errors and
    /// the record written are those of the loaded path.
    pub(super) fn concern_step_unloaded(
        &mut self,
        id: &ConcernId,
        step: ConcernStep,
        text: &str,
        now: DateTime<Utc>,
    ) -> Option<Result<Option<Concern>>> {
        if step == ConcernStep::Renegotiation {
            return None;
        }
        let writer = self.unloaded_writer()?;
        // At the largest order (a peer pushed it there) the new step no longer sorts last.
        if writer.seq == i64::MAX {
            return None;
        }
        let concern = match self.agenda_inputs()?.open_concern(id) {
            Ok(concern) => concern.cloned(),
            Err(e) => return Some(Err(e)),
        };
        match check_concern_step(concern.as_ref(), id, &writer.me, step) {
            Ok(true) => {}
            Ok(false) => return Some(Ok(concern)),
            Err(e) => return Some(Err(e)),
        }
        let concern = concern?;
        let text = match clean_text("text", text, MAX_TEXT_CHARS, step == ConcernStep::Responded) {
            Ok(text) => text,
            Err(e) => return Some(Err(e)),
        };
        let mut basis = self.edit_cache()?.concerns.get(id)?.clone();
        let key = RecordId::for_record(&writer.device, writer.seq);
        let record = NewRecord {
            map: "events",
            key: key.as_str(),
            fields: Act::new(writer.seq).fields(concern_step_fields(step, text)),
        };
        let message = message("concern step", concern.agreement.as_ref());
        let (built, tip) = self.build_unloaded(&mut basis, &[], Some(record), &message, now)?;
        Some(self.commit_concern_step_unloaded(&writer, &concern, built, tip))
    }

    /// Makes an unloaded concern step durable and brings the caches to it; the concern after
    /// the step when the caches could follow.
    fn commit_concern_step_unloaded(
        &mut self,
        writer: &Writer,
        concern: &Concern,
        built: UnloadedChange,
        tip: DocumentTip,
    ) -> Result<Option<Concern>> {
        if !self.append_unloaded(&built, &tip)? {
            return Ok(None);
        }
        let after = built
            .record
            .as_ref()
            .and_then(|step| view::concern_after_step(concern, step, &writer.members));
        let (Some(after), Some(edits)) = (after, self.edits.as_mut()) else {
            // Saved, but the caches cannot follow: the next read loads the document.
            self.cached = None;
            self.edits = None;
            return Ok(None);
        };
        edits.max_seq = edits.max_seq.max(writer.seq);
        if !after.state.is_open() {
            edits.concerns.remove(&after.id);
        }
        if let Some(inputs) = self.agenda_inputs() {
            if inputs.take_concern(after.clone()) {
                self.events.push(SpaceEvent::RemindersChanged);
            }
        }
        Ok(Some(after))
    }

    /// Writes `record` without the document (see [`Space::write_record_unloaded`]) and
    /// reads it back with `read`; while the caches follow, `take` brings the agenda's inputs
    /// to it. The record's key and, as read back, the record.
    fn write_entry_unloaded<T: Clone>(
        &mut self,
        writer: &Writer,
        record: TopRecord<'_>,
        now: DateTime<Utc>,
        read: fn(Vec<Record>, &Members, &mut Vec<Problem>) -> Vec<T>,
        take: impl FnOnce(&mut AgendaInputs, Vec<T>),
    ) -> Option<Result<(RecordId, Option<T>)>> {
        let written = self.write_record_unloaded(writer, &record, now)?;
        Some(written.map(|(stored, follows)| {
            let entries = stored
                .map(|r| read(vec![r], &writer.members, &mut Vec::new()))
                .unwrap_or_default();
            if let (true, Some(inputs)) = (follows, self.agenda_inputs()) {
                take(inputs, entries.clone());
            }
            (record.key, entries.into_iter().next())
        }))
    }

    /// Builds one change adding `record` to its top-level map (with the causal order and time
    /// every record carries), appends it durably and moves the caches to it. The record comes
    /// back as a reader of the document sees it, with whether the caches could follow (if
    /// not, the next read loads the document).
    fn write_record_unloaded(
        &mut self,
        writer: &Writer,
        record: &TopRecord<'_>,
        now: DateTime<Utc>,
    ) -> Option<Result<(Option<Record>, bool)>> {
        // Finding what to write may have loaded the document (without a usable cache).
        if !matches!(self.doc, DocState::NotLoaded(_)) || self.derived.is_some() {
            return None;
        }
        let mut root = EntityBasis::root(self.edit_cache()?.top_maps.clone());
        let new = NewRecord {
            map: record.map,
            key: record.key.as_str(),
            fields: Act::new(writer.seq).fields(record.fields.clone()),
        };
        let message = message(record.op, record.agreement);
        let (built, tip) = self.build_unloaded(&mut root, &[], Some(new), &message, now)?;
        Some(self.append_unloaded(&built, &tip).map(|follows| {
            if let (true, Some(edits)) = (follows, self.edits.as_mut()) {
                edits.max_seq = edits.max_seq.max(writer.seq);
            }
            (built.record, follows)
        }))
    }

    /// Concern `id` from the agenda's cached inputs while not loaded, if it is open; `None`
    /// when the caller must load the document.
    pub(super) fn concern_unloaded(&mut self, id: &ConcernId) -> Option<Concern> {
        self.agenda_inputs()?.open_concern(id).ok()?.cloned()
    }

    /// Every concern's id from the agenda's cached inputs while not loaded; `None` when the
    /// caller must load the document.
    pub(super) fn concern_ids_unloaded(&mut self) -> Option<Vec<ConcernId>> {
        Some(self.agenda_inputs()?.concern_ids())
    }

    /// Writes both caches after edits made without the document (on close).
    pub(super) fn save_unloaded_caches(&mut self) {
        if !std::mem::take(&mut self.unsaved_caches) {
            return;
        }
        if let Some(edits) = &self.edits {
            if let Ok(bytes) = serde_json::to_vec(edits) {
                let _ = self.storage.write_edit_cache(&bytes);
            }
        }
        if let Some(view) = &self.cached {
            if let Ok(bytes) = serde_json::to_vec(view) {
                let _ = self.storage.write_view_cache(&bytes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::DocState;
    use crate::test_support::{alex_space, daily, sync};
    use crate::*;
    use chrono::{DateTime, TimeZone, Utc};
    use std::path::Path;
    use tempfile::TempDir;

    fn t(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::minutes(minute)
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }

    /// Alex's closed space (in `root/alex`) holding an agreement in every state, by title.
    fn every_state(root: &Path) -> Vec<(&'static str, AgreementId)> {
        let a_dir = root.join("alex");
        let s_dir = root.join("sam");
        let mut alex = alex_space(&a_dir, "Europe/Berlin", t(0));
        let sam_id = DeviceIdentity::load_or_create(&s_dir).unwrap().device_id();
        alex.add_partner("Sam", "America/New_York", &sam_id, "", t(1))
            .unwrap();
        let mut sam = Space::join(&s_dir, &alex.export_document().unwrap()).unwrap();
        let mut draft = NewAgreement::titled("Draft");
        draft.draft = true;
        let draft = alex.create_agreement(draft, t(2)).unwrap();
        let proposed = alex
            .create_agreement(NewAgreement::titled("Proposed"), t(3))
            .unwrap();
        let mut reviewed = NewAgreement::titled("Active");
        reviewed.review_every = Some(ReviewCadence::parse("1 week").unwrap());
        let active = alex.create_agreement(reviewed, t(4)).unwrap();
        let conflicted = alex
            .create_agreement(NewAgreement::titled("Conflicted"), t(5))
            .unwrap();
        let renegotiate = alex
            .create_agreement(NewAgreement::titled("Renegotiate"), t(6))
            .unwrap();
        let retired = alex
            .create_agreement(NewAgreement::titled("Retired"), t(7))
            .unwrap();
        sync(&mut alex, &mut sam);
        let by_sam = sam
            .create_agreement(NewAgreement::titled("Sam's"), t(8))
            .unwrap();
        for id in [&active, &conflicted, &renegotiate, &retired] {
            sam.accept(id, t(9)).unwrap();
        }
        sync(&mut alex, &mut sam);
        // A past: rewritten and accepted again, then a rewrite back to earlier words.
        for (i, words) in ["Second words", "Third words", ""].iter().enumerate() {
            let minute = 9 + i as i64;
            alex.edit_agreement(
                &active,
                AgreementEdit {
                    details: Some(words.to_string()),
                    ..Default::default()
                },
                t(minute),
            )
            .unwrap();
            sync(&mut alex, &mut sam);
            sam.accept(&active, t(minute)).unwrap();
            sync(&mut alex, &mut sam);
        }
        // Offline rewrites of the same words on both phones.
        let rewrite = |details: &str| AgreementEdit {
            details: Some(details.into()),
            ..Default::default()
        };
        alex.edit_agreement(&conflicted, rewrite("Alex's words"), t(10))
            .unwrap();
        sam.edit_agreement(&conflicted, rewrite("Sam's words"), t(10))
            .unwrap();
        sam.request_renegotiation(&renegotiate, "not working", t(11))
            .unwrap();
        alex.retire(&retired, "done", t(12)).unwrap();
        // A daily commitment for both, and a review every week: reminders to mark.
        alex.add_commitment_rule(&active, daily(19, "Europe/Berlin"), None, t(13))
            .unwrap();
        sync(&mut alex, &mut sam);
        let states = vec![
            ("draft", draft),
            ("proposed", proposed),
            ("active", active),
            ("conflicted", conflicted),
            ("renegotiate", renegotiate),
            ("retired", retired),
            ("by_sam", by_sam),
        ];
        let list = alex.list(&ListFilter::default()).unwrap();
        let status = |id: &AgreementId| list.iter().find(|a| &a.id == id).unwrap().status;
        assert_eq!(status(&states[0].1), Status::Draft);
        assert_eq!(status(&states[1].1), Status::Proposed);
        assert_eq!(status(&states[2].1), Status::Active);
        assert_eq!(status(&states[3].1), Status::Conflicted);
        assert_eq!(status(&states[4].1), Status::NeedsRenegotiation);
        assert_eq!(status(&states[5].1), Status::Retired);
        assert_eq!(status(&states[6].1), Status::Proposed);
        states
    }

    /// What a reader sees of a space: its heads, list, agenda and each agreement's details.
    fn seen(space: &mut Space, ids: &[AgreementId]) -> String {
        let mut out = format!("{:?}\n", space.heads().unwrap());
        out += &format!("{:?}\n", space.list(&ListFilter::default()).unwrap());
        out += &format!("{:?}\n", space.agenda(t(60 * 24 * 9)).unwrap());
        for id in ids {
            out += &format!("{:?}\n", space.agreement(id).unwrap());
        }
        out
    }

    fn edits() -> Vec<AgreementEdit> {
        vec![
            AgreementEdit {
                details: Some("New words".into()),
                ..Default::default()
            },
            AgreementEdit {
                title: Some("Renamed".into()),
                kind: Some(Kind::Boundary),
                strength: Some(Strength::Experiment),
                ..Default::default()
            },
            AgreementEdit {
                category: Some(Category::parse("finances").unwrap()),
                next_review: Some(chrono::NaiveDate::from_ymd_opt(2027, 4, 1).unwrap()),
                ..Default::default()
            },
            // Settles the conflict with one candidate; elsewhere rewrites the details.
            AgreementEdit {
                details: Some("Sam's words".into()),
                ..Default::default()
            },
        ]
    }

    /// An edit, or an acceptance when `None`.
    type Step = (AgreementId, Option<AgreementEdit>);

    fn apply(space: &mut Space, steps: &[Step]) -> Vec<Result<()>> {
        steps
            .iter()
            .enumerate()
            .map(|(i, (id, edit))| match edit {
                Some(edit) => space.edit_agreement(id, edit.clone(), t(100 + i as i64)),
                None => space.accept(id, t(100 + i as i64)),
            })
            .collect()
    }

    /// What the caches serve: the list, the agenda and each partner's reminders.
    fn cached_views(space: &mut Space) -> String {
        let partners = crate::test_support::partner_ids(space);
        let mut out = format!("{:?}\n", space.list(&ListFilter::default()).unwrap());
        out += &format!("{:?}\n", space.agenda(t(60 * 24 * 9)).unwrap());
        for p in &partners {
            let horizon = chrono::Duration::days(30);
            out += &format!(
                "{:?}\n",
                space
                    .upcoming_reminders(t(200), Some(p), 50, horizon)
                    .unwrap()
            );
        }
        out
    }

    /// Each outcome as text, for comparing the two paths (errors included).
    fn outcomes<T: std::fmt::Debug>(results: impl IntoIterator<Item = Result<T>>) -> Vec<String> {
        results.into_iter().map(|r| format!("{r:?}")).collect()
    }

    /// A copy of the device directory `dir`, opened on demand (the copy is removed with the
    /// returned directory).
    fn open_copy_on_demand(dir: &Path) -> (TempDir, std::path::PathBuf, Space) {
        let scratch = TempDir::new().unwrap();
        let copy = scratch.path().join("cold");
        copy_dir(dir, &copy);
        let space = Space::open_with(&copy, LoadMode::OnDemand).unwrap();
        (scratch, copy, space)
    }

    /// Makes `steps` on a copy of `alex` opened on demand (without loading) and on a copy
    /// opened and loaded; both must end with the same document and the same views, whether
    /// read from the caches or from the loaded document.
    fn same_both_ways(alex: &Path, ids: &[AgreementId], steps: &[Step]) {
        same_both_ways_by(alex, ids, &|space| outcomes(apply(space, steps)))
    }

    /// Like [`same_both_ways`] for any writes `act` makes (returning their outcomes).
    fn same_both_ways_by(
        alex: &Path,
        ids: &[AgreementId],
        act: &dyn Fn(&mut Space) -> Vec<String>,
    ) {
        let scratch = TempDir::new().unwrap();
        let (cold, warm) = (scratch.path().join("cold"), scratch.path().join("warm"));
        copy_dir(alex, &cold);
        copy_dir(alex, &warm);

        let mut space = Space::open_with(&cold, LoadMode::OnDemand).unwrap();
        let cold_results = act(&mut space);
        let cold_views = cached_views(&mut space);
        assert!(
            matches!(space.doc, DocState::NotLoaded(_)),
            "written and read without loading"
        );
        drop(space);

        let mut space = Space::open(&warm).unwrap();
        let warm_results = act(&mut space);
        let expected = seen(&mut space, ids);
        assert_eq!(
            cached_views(&mut space),
            cold_views,
            "what the caches predicted is what the loaded views say"
        );
        drop(space);
        assert_eq!(cold_results, warm_results, "same outcome");

        let mut space = Space::open_with(&cold, LoadMode::OnDemand).unwrap();
        assert_eq!(
            cached_views(&mut space),
            cold_views,
            "the caches written on close"
        );
        assert!(matches!(space.doc, DocState::NotLoaded(_)), "caches valid");
        let loaded = seen(&mut space, ids);
        assert_eq!(loaded, expected);
    }

    #[test]
    fn every_edit_and_acceptance_on_every_state_is_the_same_with_the_document_loaded_or_not() {
        let root = TempDir::new().unwrap();
        let states = every_state(root.path());
        let ids: Vec<AgreementId> = states.iter().map(|(_, id)| id.clone()).collect();
        for (name, id) in &states {
            let steps = edits().into_iter().map(Some).chain([None]);
            for (i, step) in steps.enumerate() {
                eprintln!("{name}, step {i}");
                same_both_ways(&root.path().join("alex"), &ids, &[(id.clone(), step)]);
            }
        }
    }

    #[test]
    fn edits_in_a_row_without_the_document_build_on_each_other() {
        let root = TempDir::new().unwrap();
        let states = every_state(root.path());
        let ids: Vec<AgreementId> = states.iter().map(|(_, id)| id.clone()).collect();
        // Each agreement edited every way, accepted, then edited again.
        let steps: Vec<Step> = states
            .iter()
            .flat_map(|(_, id)| {
                let edits = edits().into_iter().map(Some).chain([None]);
                edits
                    .chain([Some(details("Last words"))])
                    .map(move |e| (id.clone(), e))
            })
            .collect();
        same_both_ways(&root.path().join("alex"), &ids, &steps);
    }

    fn details(text: &str) -> AgreementEdit {
        AgreementEdit {
            details: Some(text.into()),
            ..Default::default()
        }
    }

    #[test]
    fn bad_input_gets_the_loaded_paths_error_and_writes_nothing() {
        let root = TempDir::new().unwrap();
        let states = every_state(root.path());
        let dir = root.path().join("alex");
        let log_len = || {
            std::fs::metadata(dir.join("changes.log"))
                .map(|m| m.len())
                .ok()
        };
        let before = log_len();
        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        let active = &states[2].1;
        let empty_title = AgreementEdit {
            title: Some("   ".into()),
            ..Default::default()
        };
        let err = space
            .edit_agreement(active, empty_title, t(100))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        let err = space
            .edit_agreement(active, AgreementEdit::default(), t(100))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        let err = space
            .edit_agreement(&states[5].1, details("again"), t(100))
            .unwrap_err();
        assert!(matches!(err, Error::NotAllowed(_)), "{err}");
        let stranger = AgreementEdit {
            concerns: Some(Concerns::Partner(PartnerId("nobody".into()))),
            ..Default::default()
        };
        let err = space.edit_agreement(active, stranger, t(100)).unwrap_err();
        assert!(matches!(err, Error::NotAMember(_)), "{err}");
        // Unchanged words: nothing to write.
        space
            .edit_agreement(&states[1].1, details(""), t(100))
            .unwrap();
        assert!(matches!(space.doc, DocState::NotLoaded(_)));
        assert!(space.take_events().is_empty());
        drop(space);
        assert!(before.is_some());
        assert_eq!(log_len(), before, "nothing written");

        // An unknown agreement is not in the cache: the document is loaded to say so.
        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        let err = space
            .edit_agreement(&AgreementId("nope".into()), details("x"), t(100))
            .unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err}");
    }

    #[test]
    fn an_edit_without_the_document_tells_the_app_what_changed() {
        let root = TempDir::new().unwrap();
        let states = every_state(root.path());
        let dir = root.path().join("alex");
        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        space
            .edit_agreement(&states[2].1, details("Only the words"), t(100))
            .unwrap();
        // The active agreement now waits for Sam: reminders change with its status.
        assert_eq!(
            space.take_events(),
            vec![
                SpaceEvent::DocumentChanged { remote: false },
                SpaceEvent::RemindersChanged
            ]
        );
        let category = AgreementEdit {
            category: Some(Category::parse("household").unwrap()),
            ..Default::default()
        };
        space
            .edit_agreement(&states[2].1, category, t(101))
            .unwrap();
        assert_eq!(
            space.take_events(),
            vec![SpaceEvent::DocumentChanged { remote: false }]
        );
        assert!(matches!(space.doc, DocState::NotLoaded(_)));
    }

    #[test]
    fn without_a_matching_edit_cache_the_edit_loads_the_document_and_is_kept() {
        let root = TempDir::new().unwrap();
        let states = every_state(root.path());
        let dir = root.path().join("alex");
        let active = &states[2].1;
        std::fs::remove_file(dir.join("edits.json")).unwrap();
        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        space
            .edit_agreement(active, details("loaded"), t(100))
            .unwrap();
        assert!(matches!(space.doc, DocState::Ready(_)), "loaded to edit");
        drop(space);
        assert!(dir.join("edits.json").exists(), "written again on close");

        // A crash after the edit was saved, before the caches were: they name older heads.
        let saved: Vec<(String, Vec<u8>)> = ["view.json", "edits.json"]
            .iter()
            .map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap()))
            .collect();
        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        space
            .edit_agreement(active, details("cold"), t(101))
            .unwrap();
        assert!(matches!(space.doc, DocState::NotLoaded(_)));
        drop(space);
        for (file, bytes) in &saved {
            std::fs::write(dir.join(file), bytes).unwrap();
        }
        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        space
            .edit_agreement(active, details("after"), t(102))
            .unwrap();
        assert!(
            matches!(space.doc, DocState::Ready(_)),
            "stale caches are not used"
        );
        let details_now = space.agreement(active).unwrap().details;
        assert_eq!(details_now, "after");
        let history = space.history(active).unwrap();
        assert!(history.len() >= 3, "the cold edit is in the history");
    }

    #[test]
    fn a_removed_device_cannot_edit_without_the_document_either() {
        let root = TempDir::new().unwrap();
        let states = every_state(root.path());
        let dir = root.path().join("alex");
        let mut alex = Space::open(&dir).unwrap();
        let tablet_dir = root.path().join("tablet");
        let tablet_id = DeviceIdentity::load_or_create(&tablet_dir)
            .unwrap()
            .device_id();
        alex.add_device(&tablet_id, "tablet", t(20)).unwrap();
        let mut tablet = Space::join(&tablet_dir, &alex.export_document().unwrap()).unwrap();
        sync(&mut alex, &mut tablet);
        alex.remove_device(&tablet_id, t(21)).unwrap();
        sync(&mut alex, &mut tablet);
        drop(tablet);
        drop(alex);
        let mut tablet = Space::open_with(&tablet_dir, LoadMode::OnDemand).unwrap();
        let err = tablet
            .edit_agreement(&states[2].1, details("still mine?"), t(30))
            .unwrap_err();
        assert!(matches!(err, Error::NotAMember(_)), "{err}");
        let err = tablet
            .log_follow_through(&states[2].1, LogKind::Kept, "", t(31))
            .unwrap_err();
        assert!(matches!(err, Error::NotAMember(_)), "{err}");
        let err = tablet
            .record_checkin(t(32).date_naive(), "", t(32))
            .unwrap_err();
        assert!(matches!(err, Error::NotAMember(_)), "{err}");
    }

    #[test]
    fn the_records_kept_for_a_summary_derive_the_same_summary_as_all_of_them() {
        let root = TempDir::new().unwrap();
        every_state(root.path());
        let mut space = Space::open(&root.path().join("alex")).unwrap();
        space.info().unwrap();
        let derived = space.derived.as_ref().unwrap();
        let mut dropped = 0;
        for (id, state) in &derived.agreements {
            let kept = state.children.for_summary(&state.revision);
            dropped += state.children.acceptances.len() - kept.acceptances.len();
            let entity = space
                .doc()
                .entity_registers("agreements", id.as_str())
                .unwrap();
            let again =
                crate::view::derive_detached(entity, kept, Vec::new(), &derived.members).unwrap();
            assert_eq!(again.summary, state.summary);
            let (a, b) = (super::EditBasis::of(&again), super::EditBasis::of(state));
            assert_eq!(
                (
                    a.accepted_ever,
                    a.revision,
                    a.open_renegotiations,
                    a.content
                ),
                (
                    b.accepted_ever,
                    b.revision,
                    b.open_renegotiations,
                    b.content
                )
            );
        }
        assert!(dropped > 0, "the past acceptances are left out");
    }

    #[test]
    fn the_other_partner_accepts_and_rewrites_without_the_document() {
        let root = TempDir::new().unwrap();
        let states = every_state(root.path());
        let ids: Vec<AgreementId> = states.iter().map(|(_, id)| id.clone()).collect();
        // Sam accepts Alex's proposal (now active), the rewritten words, and settles the
        // conflict, then accepts a request they did not make.
        let steps: Vec<Step> = vec![
            (states[1].1.clone(), None),
            (states[2].1.clone(), None),
            (states[3].1.clone(), Some(details("Settled by Sam"))),
            (states[4].1.clone(), None),
        ];
        same_both_ways(&root.path().join("sam"), &ids, &steps);
        let scratch = TempDir::new().unwrap();
        copy_dir(&root.path().join("sam"), scratch.path());
        let mut sam = Space::open_with(scratch.path(), LoadMode::OnDemand).unwrap();
        apply(&mut sam, &steps)
            .into_iter()
            .collect::<Result<Vec<()>>>()
            .unwrap();
        let list = sam.list(&ListFilter::default()).unwrap();
        let status = |id: &AgreementId| list.iter().find(|a| &a.id == id).unwrap().status;
        assert_eq!(status(&states[1].1), Status::Active);
        // Once active, new words wait for both again.
        assert_eq!(status(&states[3].1), Status::NeedsRenegotiation);
    }

    #[test]
    fn what_a_one_shot_edit_reads_besides_is_served_from_the_caches() {
        let root = TempDir::new().unwrap();
        let states = every_state(root.path());
        let dir = root.path().join("alex");
        let mut loaded = Space::open(&dir).unwrap();
        let info = loaded.info().unwrap();
        let summary = loaded.summary(&states[2].1).unwrap();
        drop(loaded);

        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        assert_eq!(space.info().unwrap(), info);
        assert_eq!(info.partners.len(), 2);
        let prefix = states[2].1.as_str();
        assert_eq!(space.find_agreement(prefix).unwrap(), states[2].1);
        assert!(matches!(
            space.find_agreement("").unwrap_err(),
            Error::InvalidInput { .. }
        ));
        assert_eq!(space.summary(&states[2].1).unwrap(), summary);
        assert!(matches!(space.doc, DocState::NotLoaded(_)));
        // An id the cache does not know: the document is loaded to say so.
        let err = space.summary(&AgreementId("unknown".into())).unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err}");
        assert!(matches!(space.doc, DocState::Ready(_)));
        assert_eq!(space.info().unwrap(), info);
    }

    /// A random edit: each field left alone or set from a small pool (some values invalid,
    /// some equal to what is there, some a conflict's candidate); `concerns` names both, a
    /// partner of the space or a stranger.
    #[derive(Debug, Clone)]
    struct EditSpec {
        title: Option<usize>,
        details: Option<usize>,
        kind: Option<usize>,
        strength: Option<usize>,
        category: Option<usize>,
        concerns: Option<usize>,
        next_review: Option<u32>,
    }

    impl EditSpec {
        fn to_edit(&self, partners: &[PartnerId]) -> AgreementEdit {
            const TITLES: [&str; 3] = ["Active", "Renamed", "  "];
            const DETAILS: [&str; 4] = ["", "New words", "Sam's words", "Alex's words"];
            const CATEGORIES: [&str; 2] = ["finances", "household"];
            AgreementEdit {
                title: self.title.map(|i| TITLES[i].to_owned()),
                details: self.details.map(|i| DETAILS[i].to_owned()),
                kind: self.kind.map(|i| Kind::ALL[i]),
                strength: self.strength.map(|i| Strength::ALL[i]),
                category: self
                    .category
                    .map(|i| Category::parse(CATEGORIES[i]).unwrap()),
                concerns: self.concerns.map(|i| match i {
                    0 => Concerns::Both,
                    1 | 2 => Concerns::Partner(partners[i - 1].clone()),
                    _ => Concerns::Partner(PartnerId("stranger".into())),
                }),
                review_every: None,
                next_review: self
                    .next_review
                    .map(|d| chrono::NaiveDate::from_ymd_opt(2027, 4, d).unwrap()),
            }
        }
    }

    fn edit_spec() -> impl proptest::strategy::Strategy<Value = EditSpec> {
        use proptest::prelude::*;
        (
            proptest::option::of(0..3usize),
            proptest::option::of(0..4usize),
            proptest::option::of(0..Kind::ALL.len()),
            proptest::option::of(0..Strength::ALL.len()),
            proptest::option::of(0..2usize),
            proptest::option::of(0..4usize),
            proptest::option::of(1..3u32),
        )
            .prop_map(
                |(title, details, kind, strength, category, concerns, next_review)| EditSpec {
                    title,
                    details,
                    kind,
                    strength,
                    category,
                    concerns,
                    next_review,
                },
            )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// Random edits, acceptances, follow-through entries, check-ins and concern steps, by
        /// either partner, on agreements in every state: written without the document they
        /// give the same outcomes, the same document and the same views as written with it
        /// loaded.
        #[test]
        fn random_writes_are_the_same_with_the_document_loaded_or_not(
            by_sam: bool,
            steps in proptest::collection::vec((0..7usize, random_write()), 1..6),
        ) {
            let root = TempDir::new().unwrap();
            let states = every_state(root.path());
            let ids: Vec<AgreementId> = states.iter().map(|(_, id)| id.clone()).collect();
            let concerns = concerns(root.path(), &ids[2]);
            let dir = root.path().join(if by_sam { "sam" } else { "alex" });
            let partners: Vec<PartnerId> = {
                let mut space = Space::open(&dir).unwrap();
                space.info().unwrap().partners.iter().map(|p| p.id.clone()).collect()
            };
            same_both_ways_by(&dir, &ids, &|space| {
                steps
                    .iter()
                    .enumerate()
                    .map(|(i, (agreement, write))| {
                        let (id, at) = (&ids[*agreement], t(100 + i as i64));
                        let outcome = match write {
                            RandomWrite::Edit(spec) => space
                                .edit_agreement(id, spec.to_edit(&partners), at)
                                .map(|()| String::new()),
                            RandomWrite::Accept => space.accept(id, at).map(|()| String::new()),
                            RandomWrite::Log(kind) => space
                                .log_follow_through(id, *kind, "from a notification", at)
                                .map(|record| record.0),
                            RandomWrite::CheckIn => space
                                .record_checkin(at.date_naive(), "held", at)
                                .map(|record| record.0),
                            RandomWrite::Concern(which, step) => {
                                let id = &concerns[*which % concerns.len()].1;
                                match step {
                                    ConcernStep::Acknowledged => space.acknowledge_concern(id, at),
                                    ConcernStep::Responded => space.respond_to_concern(id, "sorry", at),
                                    _ => space.resolve_concern(id, at),
                                }
                                .map(|()| String::new())
                            }
                        };
                        format!("{outcome:?}")
                    })
                    .collect()
            });
        }
    }

    /// One write of the property test above.
    #[derive(Debug, Clone)]
    enum RandomWrite {
        Edit(EditSpec),
        Accept,
        Log(LogKind),
        CheckIn,
        /// A step on one of the concerns (by index).
        Concern(usize, ConcernStep),
    }

    fn random_write() -> impl proptest::strategy::Strategy<Value = RandomWrite> {
        use proptest::prelude::*;
        prop_oneof![
            3 => edit_spec().prop_map(RandomWrite::Edit),
            1 => Just(RandomWrite::Accept),
            1 => prop_oneof![
                Just(LogKind::Kept),
                Just(LogKind::Missed),
                Just(LogKind::Note)
            ]
            .prop_map(RandomWrite::Log),
            1 => Just(RandomWrite::CheckIn),
            2 => (
                0..4usize,
                prop_oneof![
                    Just(ConcernStep::Acknowledged),
                    Just(ConcernStep::Responded),
                    Just(ConcernStep::Resolved)
                ]
            )
                .prop_map(|(which, step)| RandomWrite::Concern(which, step)),
        ]
    }

    #[test]
    fn once_the_log_is_due_for_compaction_the_write_loads_and_closing_compacts() {
        let root = TempDir::new().unwrap();
        let states = every_state(root.path());
        let dir = root.path().join("alex");
        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        let frames = space.frames_since_snapshot();
        space.set_compaction_limits(frames + 1, u64::MAX);
        space
            .edit_agreement(&states[2].1, details("not yet due"), t(100))
            .unwrap();
        assert!(matches!(space.doc, DocState::NotLoaded(_)));
        assert!(space.compaction_due());
        space
            .edit_agreement(&states[2].1, details("due"), t(101))
            .unwrap();
        assert!(matches!(space.doc, DocState::Ready(_)), "loaded to write");
        drop(space);
        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        assert_eq!(space.frames_since_snapshot(), 0, "compacted on close");
        assert_eq!(space.summary(&states[2].1).unwrap().title, "Active");
        assert_eq!(space.agreement(&states[2].1).unwrap().details, "due");
    }

    #[test]
    fn marking_reminders_done_and_snoozing_is_the_same_with_the_document_loaded_or_not() {
        let root = TempDir::new().unwrap();
        let states = every_state(root.path());
        let ids: Vec<AgreementId> = states.iter().map(|(_, id)| id.clone()).collect();
        for who in ["alex", "sam"] {
            let dir = root.path().join(who);
            same_both_ways_by(&dir, &ids, &|space| {
                let me = space.info().unwrap().me;
                let horizon = chrono::Duration::days(30);
                let mine = space.upcoming_reminders(t(100), None, 10, horizon).unwrap();
                let partners = space.info().unwrap().partners;
                let other = partners.iter().find(|p| p.id != me).unwrap().id.clone();
                let theirs = space
                    .upcoming_reminders(t(100), Some(&other), 10, horizon)
                    .unwrap();
                assert!(mine.len() >= 3 && !theirs.is_empty());
                outcomes(vec![
                    space.mark_reminder_done(&mine[0].id, t(100)),
                    // Done twice: nothing more to write.
                    space.mark_reminder_done(&mine[0].occurrence, t(101)),
                    space.snooze_reminder(&mine[1].id, t(60 * 24 * 3), t(102)),
                    // Snoozed again, later, then earlier (the later one holds).
                    space.snooze_reminder(&mine[1].id, t(60 * 24 * 4), t(103)),
                    space.snooze_reminder(&mine[1].id, t(60 * 24 * 2), t(104)),
                    space.snooze_reminder_for(&mine[2].id, chrono::Duration::hours(2), t(105)),
                    space.mark_reminder_done(&theirs[0].id, t(106)),
                    // Refused: another's reminder, a past time, an unknown id.
                    space.snooze_reminder(&theirs[0].id, t(60 * 24 * 3), t(107)),
                    space.snooze_reminder(&mine[2].id, t(50), t(108)),
                    space.mark_reminder_done("no-such-reminder", t(109)),
                ])
            });
        }
    }

    #[test]
    fn logging_follow_through_is_the_same_with_the_document_loaded_or_not() {
        let root = TempDir::new().unwrap();
        let states = every_state(root.path());
        let ids: Vec<AgreementId> = states.iter().map(|(_, id)| id.clone()).collect();
        let id = |name: &str| states.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        // Both partners logged a missed entry and held a check-in, on their own phones at the
        // same causal order, then synced: only what is missed after the later check-in (by
        // order, then id) is on the agenda.
        {
            let mut alex = Space::open(&root.path().join("alex")).unwrap();
            let mut sam = Space::open(&root.path().join("sam")).unwrap();
            for space in [&mut alex, &mut sam] {
                let who = space.info().unwrap().me;
                let text = format!("{who} before");
                space
                    .log_follow_through(&id("active"), LogKind::Missed, &text, t(20))
                    .unwrap();
                space.record_checkin(t(21).date_naive(), "", t(21)).unwrap();
            }
            sync(&mut alex, &mut sam);
        }
        for who in ["alex", "sam"] {
            let dir = root.path().join(who);
            same_both_ways_by(&dir, &ids, &|space| {
                let long = "x".repeat(crate::agreement::MAX_TEXT_CHARS + 1);
                outcomes(vec![
                    space.log_follow_through(&id("active"), LogKind::Missed, "late again", t(100)),
                    space.log_follow_through(&id("active"), LogKind::Kept, "", t(101)),
                    space.log_follow_through(&id("by_sam"), LogKind::Note, "  talked  ", t(102)),
                    space.log_follow_through(&id("retired"), LogKind::Missed, "", t(103)),
                    space.log_follow_through(&id("draft"), LogKind::Kept, "first try", t(104)),
                    // Refused: over-long text, an unknown agreement.
                    space.log_follow_through(&id("active"), LogKind::Note, &long, t(105)),
                    space.log_follow_through(&AgreementId::from("nope"), LogKind::Kept, "", t(106)),
                ])
            });
        }
        // What was logged without the document is the log the loaded document reads.
        let (_scratch, cold, mut space) = open_copy_on_demand(&root.path().join("alex"));
        let logged = space
            .add_log_entry(&id("active"), LogKind::Missed, "cold", t(100))
            .unwrap();
        assert_eq!(
            space.take_events(),
            vec![SpaceEvent::DocumentChanged { remote: false }],
            "as on the loaded path: the log does not change reminders"
        );
        let agenda = space.agenda(t(60 * 24 * 9)).unwrap();
        let missed: Vec<&str> = agenda
            .missed_since_last_checkin
            .iter()
            .map(|e| e.text.as_str())
            .collect();
        assert_eq!(missed, ["cold"], "not what was missed before the check-ins");
        assert!(matches!(space.doc, DocState::NotLoaded(_)));
        drop(space);
        let mut space = Space::open(&cold).unwrap();
        let log = space.follow_through(Some(&id("active"))).unwrap();
        let entry = log.iter().find(|e| e.id == logged.id).unwrap();
        assert_eq!(entry, &logged, "the entry returned is the one stored");
        assert_eq!(
            (entry.kind, entry.text.as_str(), entry.at),
            (LogKind::Missed, "cold", t(100))
        );
    }

    #[test]
    fn recording_a_checkin_is_the_same_with_the_document_loaded_or_not() {
        let root = TempDir::new().unwrap();
        let states = every_state(root.path());
        let ids: Vec<AgreementId> = states.iter().map(|(_, id)| id.clone()).collect();
        let active = states[2].1.clone();
        // Both partners' missed entries, synced: the agenda lists them until a check-in.
        {
            let mut alex = Space::open(&root.path().join("alex")).unwrap();
            let mut sam = Space::open(&root.path().join("sam")).unwrap();
            for space in [&mut alex, &mut sam] {
                space
                    .log_follow_through(&active, LogKind::Missed, "before", t(20))
                    .unwrap();
            }
            sync(&mut alex, &mut sam);
        }
        let day = |d| chrono::NaiveDate::from_ymd_opt(2027, 4, d).unwrap();
        for who in ["alex", "sam"] {
            same_both_ways_by(&root.path().join(who), &ids, &|space| {
                let long = "x".repeat(crate::agreement::MAX_TEXT_CHARS + 1);
                let missed = |space: &mut Space, text: &str, at| {
                    space.log_follow_through(&active, LogKind::Missed, text, at)
                };
                outcomes(vec![
                    space.record_checkin(day(1), "Good talk", t(100)),
                    missed(space, "after", t(101)),
                    space.record_checkin(day(2), "", t(102)),
                    missed(space, "after the second", t(103)),
                    // Refused: over-long notes.
                    space.record_checkin(day(3), &long, t(104)),
                ])
            });
        }
        let (_scratch, cold, mut space) = open_copy_on_demand(&root.path().join("alex"));
        let missed = |space: &mut Space| -> Vec<String> {
            let agenda = space.agenda(t(60 * 24 * 9)).unwrap();
            agenda
                .missed_since_last_checkin
                .iter()
                .map(|e| e.text.clone())
                .collect()
        };
        assert_eq!(missed(&mut space), ["before", "before"]);
        let held = space.add_checkin(day(1), "Good talk", t(100)).unwrap();
        assert_eq!(
            missed(&mut space),
            Vec::<String>::new(),
            "a new check-in starts afresh"
        );
        assert_eq!(
            space.take_events(),
            vec![SpaceEvent::DocumentChanged { remote: false }]
        );
        assert!(matches!(space.doc, DocState::NotLoaded(_)));
        drop(space);
        let mut space = Space::open(&cold).unwrap();
        let checkins = space.checkins().unwrap();
        let last = checkins.last().unwrap();
        assert_eq!(last, &held, "the check-in returned is the one stored");
        assert_eq!((last.held_on, last.notes.as_str()), (day(1), "Good talk"));
    }

    /// Concerns raised by both partners, on an agreement and in general, one of them
    /// acknowledged, synced; by raiser's name and what happened.
    fn concerns(root: &Path, active: &AgreementId) -> Vec<(&'static str, ConcernId)> {
        let mut alex = Space::open(&root.join("alex")).unwrap();
        let mut sam = Space::open(&root.join("sam")).unwrap();
        let raise = |space: &mut Space, agreement: Option<&AgreementId>, what: &str| {
            let concern = NewConcern {
                agreement: agreement.cloned(),
                what_happened: what.into(),
                how_i_felt: "unheard".into(),
                what_i_need: "a plan".into(),
            };
            space.raise_concern(concern, t(30)).unwrap()
        };
        let by_alex = raise(&mut alex, Some(active), "late again");
        let by_alex_general = raise(&mut alex, None, "no time together");
        let by_sam = raise(&mut sam, Some(active), "phone at dinner");
        let by_sam_acknowledged = raise(&mut sam, None, "forgot the date");
        sync(&mut alex, &mut sam);
        alex.acknowledge_concern(&by_sam_acknowledged, t(31))
            .unwrap();
        sync(&mut alex, &mut sam);
        vec![
            ("alex", by_alex),
            ("alex general", by_alex_general),
            ("sam", by_sam),
            ("sam acknowledged", by_sam_acknowledged),
        ]
    }

    #[test]
    fn concern_steps_are_the_same_with_the_document_loaded_or_not() {
        let root = TempDir::new().unwrap();
        let states = every_state(root.path());
        let ids: Vec<AgreementId> = states.iter().map(|(_, id)| id.clone()).collect();
        let concerns = concerns(root.path(), &states[2].1);
        let concern = |name: &str| concerns.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        for (me, other) in [("alex", "sam"), ("sam", "alex")] {
            let mine = concern(me);
            let theirs = concern(other);
            let own_general = concern(if me == "alex" {
                "alex general"
            } else {
                "sam acknowledged"
            });
            let acknowledged = concern("sam acknowledged");
            same_both_ways_by(&root.path().join(me), &ids, &|space| {
                let long = "x".repeat(crate::agreement::MAX_TEXT_CHARS + 1);
                // Sam's acknowledged concern: Alex responds, then Sam says it is resolved.
                let settle = match me {
                    "sam" => space.resolve_concern(&acknowledged, t(99)),
                    _ => space.respond_to_concern(&acknowledged, "we'll plan it", t(99)),
                };
                outcomes(vec![
                    settle,
                    space.acknowledge_concern(&theirs, t(100)),
                    // Acknowledged already: nothing more to write.
                    space.acknowledge_concern(&theirs, t(101)),
                    space.respond_to_concern(&theirs, "I'm sorry; I'll set an alarm", t(102)),
                    space.respond_to_concern(&mine, "thank you", t(103)),
                    space.resolve_concern(&mine, t(104)),
                    // Refused: acknowledging one's own, resolving the other's, an empty or
                    // over-long response, any step on a closed concern, an unknown concern.
                    space.acknowledge_concern(&own_general, t(105)),
                    space.resolve_concern(&theirs, t(106)),
                    space.respond_to_concern(&theirs, "  ", t(107)),
                    space.respond_to_concern(&theirs, &long, t(108)),
                    space.respond_to_concern(&mine, "after all", t(109)),
                    space.acknowledge_concern(&ConcernId::from("nope"), t(110)),
                ])
            });
        }
    }

    #[test]
    fn a_concern_step_without_the_document_updates_the_agenda_and_reminders() {
        let root = TempDir::new().unwrap();
        let states = every_state(root.path());
        let concerns = concerns(root.path(), &states[2].1);
        let by_sam = concerns[2].1.clone();
        // The events the loaded path sends for the same steps.
        let loaded_events = {
            let scratch = TempDir::new().unwrap();
            copy_dir(&root.path().join("alex"), scratch.path());
            let mut space = Space::open(scratch.path()).unwrap();
            space.take_events();
            space.acknowledge_concern(&by_sam, t(100)).unwrap();
            let acknowledged = space.take_events();
            space
                .respond_to_concern(&by_sam, "I'm sorry", t(101))
                .unwrap();
            (acknowledged, space.take_events())
        };
        let (_scratch, cold, mut space) = open_copy_on_demand(&root.path().join("alex"));
        let unanswered = |space: &mut Space| {
            let horizon = chrono::Duration::days(30);
            let reminders = space.upcoming_reminders(t(31), None, 100, horizon).unwrap();
            let nudge = crate::reminders::schedule::ReminderTarget::Concern(by_sam.clone());
            reminders.iter().filter(|r| r.target == nudge).count()
        };
        assert_eq!(
            unanswered(&mut space),
            1,
            "alex has not answered sam's concern"
        );
        space.acknowledge_concern(&by_sam, t(100)).unwrap();
        let acknowledged_events = space.take_events();
        assert_eq!(
            acknowledged_events,
            vec![
                SpaceEvent::DocumentChanged { remote: false },
                SpaceEvent::RemindersChanged
            ]
        );
        assert_eq!(
            acknowledged_events, loaded_events.0,
            "as on the loaded path"
        );
        assert_eq!(unanswered(&mut space), 0);
        let agenda = space.agenda(t(100)).unwrap();
        let open = agenda
            .open_concerns
            .iter()
            .find(|c| c.id == by_sam)
            .unwrap();
        assert_eq!(open.state, ConcernState::Acknowledged);
        // Found by a prefix and read from the caches too.
        assert_eq!(space.find_concern(&by_sam.as_str()[..5]).unwrap(), by_sam);
        let err = space.find_concern("zzzz").unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err}");
        let acknowledged = space.concern(&by_sam).unwrap();
        assert_eq!(&acknowledged, open);
        // A response changes nothing reminders are computed from.
        space
            .respond_to_concern(&by_sam, "I'm sorry", t(101))
            .unwrap();
        let responded_events = space.take_events();
        assert_eq!(
            responded_events,
            vec![SpaceEvent::DocumentChanged { remote: false }]
        );
        assert_eq!(responded_events, loaded_events.1, "as on the loaded path");
        let responded = space.concern(&by_sam).unwrap();
        // Resolving closes alex's own concern: what comes back is the closed concern.
        let resolved = space
            .take_concern_step(&concerns[1].1, ConcernStep::Resolved, "", t(101))
            .unwrap();
        assert_eq!(resolved.state, ConcernState::Resolved);
        assert!(matches!(space.doc, DocState::NotLoaded(_)));
        // A renegotiation also writes to the agreement: it loads the document.
        space
            .renegotiate_from_concern(&concerns[0].1, "let's rethink it", t(102))
            .unwrap();
        assert!(!matches!(space.doc, DocState::NotLoaded(_)));
        drop(space);
        let mut space = Space::open(&cold).unwrap();
        let concern = space.concern(&by_sam).unwrap();
        assert_eq!(
            concern, responded,
            "what the caches said is what the document says"
        );
        assert_eq!(space.concern(&concerns[1].1).unwrap(), resolved);
        let steps: Vec<_> = concern
            .events
            .iter()
            .map(|e| (e.step, e.text.as_str()))
            .collect();
        assert_eq!(
            steps,
            [
                (ConcernStep::Acknowledged, ""),
                (ConcernStep::Responded, "I'm sorry")
            ]
        );
        assert_eq!(concern.state, ConcernState::Responded);
    }

    #[test]
    fn a_mark_without_the_document_tells_the_app_reminders_changed() {
        let root = TempDir::new().unwrap();
        every_state(root.path());
        let mut space = Space::open_with(&root.path().join("alex"), LoadMode::OnDemand).unwrap();
        let horizon = chrono::Duration::days(30);
        let mine = space.upcoming_reminders(t(100), None, 1, horizon).unwrap();
        space.mark_reminder_done(&mine[0].id, t(100)).unwrap();
        assert_eq!(
            space.take_events(),
            vec![
                SpaceEvent::DocumentChanged { remote: false },
                SpaceEvent::RemindersChanged
            ]
        );
        let next = space.upcoming_reminders(t(100), None, 1, horizon).unwrap();
        assert_ne!(
            next[0].occurrence, mine[0].occurrence,
            "done is no longer upcoming"
        );
        assert!(matches!(space.doc, DocState::NotLoaded(_)));
    }
}
