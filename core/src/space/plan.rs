//! Planning writes as plain functions over the views: what an edit, an acceptance or a
//! record writes, with the checks that refuse it. Used with the document loaded and by
//! intents planned from the view cache alike.

use super::*;

impl EditBasis {
    pub(super) fn of(state: &AgreementState) -> Self {
        EditBasis {
            conflicts: state.conflicts.clone(),
            content: state.content.clone(),
            accepted_ever: !state.children.acceptances.is_empty(),
            revision: state.revision.clone(),
            open_renegotiations: state.open_renegotiations.clone(),
        }
    }
}

/// Whether partner `me` may take `step` on concern `id` (`None`: closed); `Ok(false)` when
/// there is nothing to write (acknowledged already).
pub(super) fn check_concern_step(
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
pub(super) fn log_entry_fields(kind: LogKind, text: String) -> Vec<(&'static str, Val)> {
    let mut fields = vec![("kind", kind.as_str().into())];
    if !text.is_empty() {
        fields.push(("text", text.into()));
    }
    fields
}

/// A check-in's fields (besides the causal order and time every record carries).
pub(super) fn checkin_fields(held_on: NaiveDate, notes: String) -> Vec<(&'static str, Val)> {
    vec![
        ("held_on", held_on.to_string().into()),
        ("notes", notes.into()),
    ]
}

/// A concern step's fields (besides the causal order and time every record carries).
pub(super) fn concern_step_fields(step: ConcernStep, text: String) -> Vec<(&'static str, Val)> {
    vec![("step", step.as_str().into()), ("text", text.into())]
}

/// The key of a follow-through entry on agreement `id` by `device` at causal order `seq`. It
/// starts with the agreement (which the entry then need not repeat), so the entries of one
/// agreement sit together and compress well.
pub(super) fn log_entry_key(id: &AgreementId, device: &DeviceId, seq: i64) -> RecordId {
    let own = RecordId::for_record(device, seq);
    RecordId(format!("{}{LOG_KEY_SEPARATOR}{}", id.0, own.0))
}

pub(super) fn join_register(reg: &crate::document::Register) -> String {
    let mut vals: Vec<String> = reg.values.iter().map(|(v, _)| display_val(v)).collect();
    vals.dedup();
    vals.join(" | ")
}

pub(super) fn first_value(entity: &crate::document::Entity, field: Field) -> String {
    entity
        .registers
        .get(field.key())
        .and_then(|r| r.values.first())
        .map(|(v, _)| display_val(v))
        .unwrap_or_default()
}

/// Of the fields an edit sets, those that change something (a new value, or a settled
/// conflict).
pub(super) fn changed_fields(entity: &Entity, puts: Vec<(Field, String)>) -> Vec<(Field, String)> {
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
pub(super) struct FieldWrites {
    pub(super) puts: Vec<(Field, String)>,
    pub(super) revision: Option<String>,
    /// The acceptance record's id and fields.
    pub(super) acceptance: Option<(RecordId, Vec<(&'static str, Val)>)>,
}

impl FieldWrites {
    /// Plans writing `puts` (fields that change, see [`changed_fields`]) to the agreement
    /// whose registers are `entity` and state `state`, as record `seq` of `device`.
    pub(super) fn plan(
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
    pub(super) fn register_puts(&self) -> Vec<(&'static str, Val)> {
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

/// Refuses an agreement concerning someone who is not a partner of the space.
pub(super) fn check_concerns(
    members: &Members,
    concerns: &crate::agreement::Concerns,
) -> Result<()> {
    if let crate::agreement::Concerns::Partner(p) = concerns {
        if !members.is_partner(p) {
            return Err(Error::NotAMember(format!("partner {p}")));
        }
    }
    Ok(())
}

/// What partner `me` accepting an agreement writes.
pub(super) struct AcceptanceToWrite {
    pub(super) hash: String,
    pub(super) revision: String,
    /// The open renegotiation requests it closes (comma-separated).
    pub(super) closes: String,
}

/// What accepting `state` as partner `me` writes; `None` when `me` already accepted these
/// words and closed every open request. Retired or conflicting words cannot be accepted.
pub(super) fn acceptance_to_write(
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
pub(super) fn check_editable(state: &AgreementState) -> Result<()> {
    if state.retirement.is_some() {
        return Err(Error::NotAllowed(
            "a retired agreement is kept as history and cannot be edited".into(),
        ));
    }
    Ok(())
}

/// Checks an edit's values and gives the fields it sets, in their stored form.
pub(super) fn edit_puts(edit: &AgreementEdit, members: &Members) -> Result<Vec<(Field, String)>> {
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
    if let Some(change) = edit.review_every {
        puts.push((
            Field::ReviewEvery,
            change.cadence().map(|c| c.to_stored()).unwrap_or_default(),
        ));
    }
    if let Some(d) = edit.next_review {
        puts.push((Field::NextReview, d.to_string()));
    }
    Ok(puts)
}

/// The fields of an acceptance record: the content hash and revision accepted, the
/// renegotiation requests it closes, and its causal order.
pub(super) fn acceptance_fields(
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

pub(super) fn write_acceptance(
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

pub(super) fn write_renegotiation(
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
