//! Writes planned against the view cache: what a process that has not loaded the document
//! checks, plans and shows of an intent, with the loaded path's own planning (`plan.rs`) and
//! the views' own readers, so the cached views after an intent are those the document will
//! derive once it is replayed.

use super::intents::{AgreementBasis, PendingIntent};
use super::reminders::{done_mark_fields, snooze_mark_fields};
use super::*;
use crate::view::ChildKind;

/// This device as a writer of intents: the members, its partner, itself, and the causal
/// order of the record it writes next.
pub(super) struct Writer {
    members: Members,
    me: PartnerId,
    device: DeviceId,
    seq: i64,
}

/// What an intent changes in the cached views.
pub(super) enum Effect {
    Agreement {
        id: AgreementId,
        basis: Box<AgreementBasis>,
        summary: Box<AgreementSummary>,
        reminders_changed: bool,
    },
    LogEntry(LogEntry),
    CheckIn(CheckIn),
    Concern(Concern),
    Mark(Record),
}

/// What planning an intent found: something to write, nothing to write (the loaded path
/// would write nothing either), or a write the cache cannot plan (the caller loads).
pub(super) enum Plan {
    Write(Box<Effect>),
    Nothing,
    NeedsDocument,
}

/// The agreement after this device writes `registers` and adds `record` to it (as the loaded
/// views will derive it).
pub(super) fn agreement_after(
    id: &AgreementId,
    registers: BTreeMap<String, crate::document::Register>,
    before: &AgreementState,
    record: Option<Record>,
    writer: &Writer,
) -> Plan {
    let records = record
        .map(|r| vec![(ChildKind::Acceptance, r)])
        .unwrap_or_default();
    let entity = Entity::detached(id.as_str(), registers.clone());
    let Ok(after) =
        view::derive_detached(entity, before.children.clone(), records, &writer.members)
    else {
        return Plan::NeedsDocument;
    };
    Plan::Write(Box::new(Effect::Agreement {
        id: id.clone(),
        reminders_changed: before.reminder_fingerprint() != after.reminder_fingerprint(),
        summary: Box::new(after.summary.clone()),
        basis: Box::new(AgreementBasis {
            registers,
            children: after.children.for_summary(&after.revision),
        }),
    }))
}

/// A `marks` record of `writer` with `fields`, as it will be written.
pub(super) fn mark_record(writer: &Writer, fields: Vec<(&'static str, Val)>, at: i64) -> Record {
    let key = RecordId::for_record(&writer.device, writer.seq);
    let fields = Act::new(writer.seq).fields(fields);
    Record::pending(key.0, fields, writer.device.0.clone(), at)
}

impl Effect {
    /// The follow-through entry, check-in or concern the write made, for the caller.
    pub(super) fn into_log_entry(self) -> Option<LogEntry> {
        match self {
            Effect::LogEntry(entry) => Some(entry),
            _ => None,
        }
    }
    pub(super) fn into_checkin(self) -> Option<CheckIn> {
        match self {
            Effect::CheckIn(checkin) => Some(checkin),
            _ => None,
        }
    }
    pub(super) fn into_concern(self) -> Option<Concern> {
        match self {
            Effect::Concern(concern) => Some(concern),
            _ => None,
        }
    }
}

impl Space {
    /// Who writes intents: `Some` when the space is not loaded, fewer than
    /// [`MAX_PENDING_INTENTS`] wait, and the view cache can plan writes ([`Space::cache_writer`]);
    /// `None` otherwise (the caller loads the document).
    pub(super) fn intent_writer(&self) -> Option<Writer> {
        if !matches!(self.doc, DocState::NotLoaded(_)) || self.derived.is_some() {
            return None;
        }
        if self.pending.len() >= self.max_pending_intents {
            return None;
        }
        self.cache_writer()
    }

    /// Parses the view cache's write basis if it was not yet.
    pub(super) fn parse_write_basis(&mut self) {
        if let Some(basis) = self.cached.as_mut().and_then(|c| c.basis.as_mut()) {
            basis.get();
        }
    }

    /// This device as the view cache sees it, when the cache holds a write basis of this
    /// build's schema and this device is a member.
    pub(super) fn cache_writer(&self) -> Option<Writer> {
        let basis = self.cached.as_ref()?.basis.as_ref()?.parsed()?;
        if basis.schema != Some(SCHEMA_VERSION) {
            return None;
        }
        let device = self.identity.device_id();
        let members = Members::from_parts(basis.members.clone(), &self.trust);
        let me = members.partner_of_device(&device)?.clone();
        Some(Writer {
            members,
            me,
            device,
            seq: basis.max_seq.saturating_add(1),
        })
    }

    /// The space's members and this device's place in it from the view cache, while the
    /// views are not derived (not loaded, or still loading, as for the list); `None` when the
    /// caller must load it.
    pub(super) fn info_from_cache(&mut self) -> Option<Result<SpaceInfo>> {
        if self.derived.is_some() {
            return None;
        }
        let basis = self.cached.as_mut()?.basis.as_mut()?.get()?;
        let members = Members::from_parts(basis.members.clone(), &self.trust);
        let my_device = self.identity.device_id();
        let restored = self.restored.as_ref().map(|r| r.partner.clone());
        let Some(me) = members
            .devices
            .get(&my_device)
            .map(|d| d.partner.clone())
            .or(restored)
        else {
            return Some(Err(Error::NotAMember(format!("this device ({my_device})"))));
        };
        Some(Ok(SpaceInfo {
            id: SpaceId(basis.space_id.clone()),
            schema_version: basis.schema.unwrap_or(0),
            read_only: read_only_reason(basis.schema),
            my_device,
            me,
            partners: members.partners.clone(),
            devices: members.devices.values().cloned().collect(),
            ending: members.ending.clone(),
        }))
    }

    /// Makes `intent` as this device's next write without loading the document: planned
    /// against the cached views, appended durably to the intent log, then applied to the
    /// cache. `None` when it cannot be planned from the cache (the caller loads and writes
    /// as usual); the error of the loaded path when it is refused.
    pub(super) fn write_intent(
        &mut self,
        intent: Intent,
        now: DateTime<Utc>,
    ) -> Option<Result<Option<Effect>>> {
        self.parse_write_basis();
        let writer = self.intent_writer()?;
        let effect = match self.plan_intent(&intent, &writer, now) {
            Ok(Plan::Write(effect)) => *effect,
            Ok(Plan::Nothing) => return Some(Ok(None)),
            Ok(Plan::NeedsDocument) => return None,
            Err(e) => return Some(Err(e)),
        };
        let pending = PendingIntent {
            id: crate::ids::random_hex(16),
            at: now,
            seq: writer.seq,
            intent,
        };
        let appended = serde_json::to_vec(&pending)
            .map_err(|e| Error::invalid("intent", e.to_string()))
            .and_then(|payload| self.intents.append(&payload));
        if let Err(e) = appended {
            return Some(Err(e));
        }
        self.events
            .push(SpaceEvent::DocumentChanged { remote: false });
        self.take_effect(&pending, &effect);
        self.pending.push(pending);
        self.unsaved_caches = true;
        Some(Ok(Some(effect)))
    }

    /// Plans `intent` as record `writer.seq` at `now` with the loaded path's own checks and
    /// planning, reading the cached views.
    pub(super) fn plan_intent(
        &mut self,
        intent: &Intent,
        writer: &Writer,
        now: DateTime<Utc>,
    ) -> Result<Plan> {
        // Reminders are found in the schedule computed from the cache (before reading it).
        let reminder = match intent {
            Intent::ReminderDone { reminder } | Intent::ReminderSnooze { reminder, .. } => {
                if self.cached_agenda().is_none() {
                    return Ok(Plan::NeedsDocument);
                }
                Some(self.find_reminder(reminder, now)?)
            }
            _ => None,
        };
        let Some(cache) = self.cached.as_ref() else {
            return Ok(Plan::NeedsDocument);
        };
        let at = now_ms(now);
        let actor = writer.device.0.clone();
        let inputs = cache.agenda.as_ref();
        match intent {
            Intent::AgreementEdit { agreement, edit } => {
                let Some((entity, before)) = self.cached_agreement(agreement, writer) else {
                    return Ok(Plan::NeedsDocument);
                };
                if edit.is_empty() {
                    return Err(Error::invalid(
                        "edit",
                        "changes nothing: give at least one field",
                    ));
                }
                check_editable(&before)?;
                let puts = changed_fields(&entity, edit_puts(edit, &writer.members)?);
                if puts.is_empty() {
                    return Ok(Plan::Nothing);
                }
                let writes = FieldWrites::plan(
                    &entity,
                    &EditBasis::of(&before),
                    puts,
                    "edit",
                    writer.seq,
                    &writer.device,
                );
                let mut registers = entity.registers;
                for (key, value) in writes.register_puts() {
                    let values = vec![(value, actor.clone())];
                    registers.insert(key.to_owned(), crate::document::Register { values });
                }
                let records = writes
                    .acceptance
                    .map(|(record, fields)| Record::pending(record.0, fields, actor.clone(), at));
                Ok(agreement_after(
                    agreement, registers, &before, records, writer,
                ))
            }
            Intent::Acceptance { agreement } => {
                let Some((entity, before)) = self.cached_agreement(agreement, writer) else {
                    return Ok(Plan::NeedsDocument);
                };
                let Some(acceptance) = acceptance_to_write(&before, &writer.me)? else {
                    return Ok(Plan::Nothing);
                };
                let fields = acceptance_fields(
                    &acceptance.hash,
                    &acceptance.revision,
                    &acceptance.closes,
                    writer.seq,
                );
                let record = RecordId::for_record(&writer.device, writer.seq).0;
                let record = Record::pending(record, fields, actor, at);
                Ok(agreement_after(
                    agreement,
                    entity.registers,
                    &before,
                    Some(record),
                    writer,
                ))
            }
            Intent::FollowThrough {
                agreement,
                entry,
                text,
            } => {
                let text = clean_text("text", text, MAX_TEXT_CHARS, false)?;
                // The view cache lists every agreement the loaded views know (an entry reads
                // nothing else of the agreement).
                if !cache.agreements.iter().any(|a| &a.id == agreement) {
                    return Err(Error::not_found("agreement", agreement.as_str()));
                }
                let key = log_entry_key(agreement, &writer.device, writer.seq);
                let fields = Act::new(writer.seq).fields(log_entry_fields(*entry, text));
                let record = Record::pending(key.0, fields, actor, at);
                let read = view::read_log_from(vec![record], &writer.members, &mut Vec::new());
                Ok(read.into_iter().next().map_or(Plan::NeedsDocument, |e| {
                    Plan::Write(Box::new(Effect::LogEntry(e)))
                }))
            }
            Intent::CheckIn { held_on, notes } => {
                let notes = clean_text("notes", notes, MAX_TEXT_CHARS, false)?;
                let key = RecordId::for_record(&writer.device, writer.seq);
                let fields = Act::new(writer.seq).fields(checkin_fields(*held_on, notes));
                let record = Record::pending(key.0, fields, actor, at);
                let read = view::read_checkins_from(vec![record], &writer.members, &mut Vec::new());
                Ok(read.into_iter().next().map_or(Plan::NeedsDocument, |c| {
                    Plan::Write(Box::new(Effect::CheckIn(c)))
                }))
            }
            Intent::ConcernStep {
                concern: id,
                step,
                text,
            } => {
                // At the largest order (a peer pushed it there) the new step no longer sorts
                // last; a renegotiation also writes to the agreement.
                let Some(inputs) = inputs.filter(|_| writer.seq != i64::MAX) else {
                    return Ok(Plan::NeedsDocument);
                };
                if *step == ConcernStep::Renegotiation {
                    return Ok(Plan::NeedsDocument);
                }
                let concern = inputs.open_concern(id)?;
                if !check_concern_step(concern, id, &writer.me, *step)? {
                    return Ok(Plan::Nothing);
                }
                let Some(concern) = concern else {
                    return Ok(Plan::NeedsDocument);
                };
                let text = clean_text(
                    "text",
                    text,
                    MAX_TEXT_CHARS,
                    *step == ConcernStep::Responded,
                )?;
                let key = RecordId::for_record(&writer.device, writer.seq);
                let fields = Act::new(writer.seq).fields(concern_step_fields(*step, text));
                let record = Record::pending(key.0, fields, actor, at);
                Ok(view::concern_after_step(concern, &record, &writer.members)
                    .map_or(Plan::NeedsDocument, |c| {
                        Plan::Write(Box::new(Effect::Concern(c)))
                    }))
            }
            Intent::ReminderDone { .. } => {
                let (Some(inputs), Some(reminder)) = (inputs, reminder) else {
                    return Ok(Plan::NeedsDocument);
                };
                if inputs.marks().is_done(&reminder.occurrence) {
                    return Ok(Plan::Nothing);
                }
                let fields = done_mark_fields(&reminder);
                Ok(Plan::Write(Box::new(Effect::Mark(mark_record(
                    writer, fields, at,
                )))))
            }
            Intent::ReminderSnooze { until, .. } => {
                let (Some(inputs), Some(reminder)) = (inputs, reminder) else {
                    return Ok(Plan::NeedsDocument);
                };
                let fields =
                    snooze_mark_fields(&reminder, &writer.me, inputs.marks(), *until, now)?;
                Ok(Plan::Write(Box::new(Effect::Mark(mark_record(
                    writer, fields, at,
                )))))
            }
        }
    }

    /// Agreement `id` as the cache holds it: its registers and its state derived from them.
    pub(super) fn cached_agreement(
        &self,
        id: &AgreementId,
        writer: &Writer,
    ) -> Option<(Entity, AgreementState)> {
        let basis = self
            .cached
            .as_ref()?
            .basis
            .as_ref()?
            .parsed()?
            .agreements
            .get(id)?;
        let entity = Entity::detached(id.as_str(), basis.registers.clone());
        let state = view::derive_detached(
            entity.clone(),
            basis.children.clone(),
            Vec::new(),
            &writer.members,
        )
        .ok()?;
        Some((entity, state))
    }

    /// Applies `effect` of intent `pending` to the cached views.
    pub(super) fn take_effect(&mut self, pending: &PendingIntent, effect: &Effect) {
        let members = self.cache_writer().map(|w| w.members);
        let Some(cache) = self.cached.as_mut() else {
            return;
        };
        cache.intents.push(pending.id.clone());
        if let Some(basis) = cache.basis.as_mut().and_then(Deferred::get) {
            basis.max_seq = basis.max_seq.max(pending.seq);
        }
        let mut reminders_changed = false;
        match effect {
            Effect::Agreement {
                id,
                basis,
                summary,
                reminders_changed: changed,
            } => {
                if let Some(entry) = cache.agreements.iter_mut().find(|a| &a.id == id) {
                    *entry = (**summary).clone();
                }
                if let Some(write_basis) = cache.basis.as_mut().and_then(Deferred::get) {
                    write_basis.agreements.insert(id.clone(), (**basis).clone());
                }
                reminders_changed = *changed;
            }
            Effect::LogEntry(entry) => {
                if let Some(inputs) = cache.agenda.as_mut() {
                    inputs.take_missed([entry.clone()]);
                }
            }
            Effect::CheckIn(checkin) => {
                if let Some(inputs) = cache.agenda.as_mut() {
                    inputs.take_checkins([checkin.clone()]);
                }
            }
            Effect::Concern(after) => {
                if let Some(inputs) = cache.agenda.as_mut() {
                    reminders_changed = inputs.take_concern(after.clone());
                }
            }
            Effect::Mark(record) => {
                if let (Some(inputs), Some(members)) = (cache.agenda.as_mut(), members) {
                    let marks = inputs.marks_mut();
                    let before = format!("{marks:?}");
                    reminders::read_mark(marks, record, &members, &mut Vec::new());
                    reminders_changed = format!("{marks:?}") != before;
                }
            }
        }
        if reminders_changed {
            self.events.push(SpaceEvent::RemindersChanged);
        }
    }

    /// At open: applies the pending intents the view cache does not hold yet (written after
    /// it was saved) to it, by the same planning; drops the cache if one cannot be applied.
    pub(super) fn bring_cache_to_intents(&mut self) {
        let Some(cache) = self.cached.as_ref() else {
            return;
        };
        let done = cache.intents.len();
        let prefix_ok = self.pending.len() >= done
            && self
                .pending
                .iter()
                .zip(&cache.intents)
                .all(|(p, id)| &p.id == id);
        if !prefix_ok {
            self.cached = None;
            return;
        }
        let missing: Vec<PendingIntent> = self.pending[done..].to_vec();
        if !missing.is_empty() {
            self.parse_write_basis();
        }
        for pending in missing {
            let planned = self.cache_writer().map(|writer| {
                let writer = Writer {
                    seq: pending.seq,
                    ..writer
                };
                self.plan_intent(&pending.intent, &writer, pending.at)
            });
            match planned {
                Some(Ok(Plan::Write(effect))) => self.take_effect(&pending, &effect),
                Some(Ok(Plan::Nothing)) => {
                    if let Some(cache) = self.cached.as_mut() {
                        cache.intents.push(pending.id.clone());
                    }
                }
                _ => {
                    self.cached = None;
                    return;
                }
            }
            self.unsaved_caches = true;
        }
        // Opening reports no change: the events are for writes made now.
        self.events.clear();
    }
}
