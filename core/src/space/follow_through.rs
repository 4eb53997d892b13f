//! Follow-through (kept, missed, notes) and check-ins held.

use super::*;

impl Space {
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

    pub(super) fn write_log_entry(
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

    pub(super) fn write_checkin(
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
}
