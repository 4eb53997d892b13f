//! Concerns and repair: raising one, and the steps that answer it.

use super::*;

impl Space {
    /// Finds the concern whose id starts with `prefix`.
    pub fn find_concern(&mut self, prefix: &str) -> Result<ConcernId> {
        if let Some(inputs) = self.cached_agenda() {
            return unique_prefix("concern", prefix, inputs.concern_ids().iter());
        }
        self.ready()?;
        let ids: Vec<&ConcernId> = self.derived().concerns.iter().map(|c| &c.id).collect();
        unique_prefix("concern", prefix, ids.into_iter())
    }

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

    pub(super) fn concern_state(&self, id: &ConcernId) -> Result<&Concern> {
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

    pub(super) fn write_concern_step(
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
}
