//! Agreements: writing, editing, settling conflicts, accepting, retiring, renegotiating,
//! and reading the list, details and history.

use super::*;
use crate::agreement::PartnerChanges;

impl Space {
    pub(super) fn state(&self, id: &AgreementId) -> Result<&AgreementState> {
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

    pub(super) fn apply_field_writes(
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

    pub(super) fn state_checked(&mut self, id: &AgreementId) -> Result<AgreementState> {
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
                    changed.push(FieldChange::new(field, then, now_v));
                }
            }
            changes_since.push(PartnerChanges {
                partner: acceptance.author.partner.clone(),
                changes: changed,
            });
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
                        changes.push(FieldChange::new(field, before, after));
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
}
