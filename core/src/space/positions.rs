//! Sealed positions: written encrypted, marked ready, revealed together.

use super::*;

impl Space {
    pub(crate) fn position_records(&self) -> Vec<crate::position::TopicPosition> {
        let mut problems = Vec::new();
        let mut max = 0;
        crate::position::read_positions(
            self.doc(),
            &self.derived().members,
            &self.trust.space_id,
            &mut problems,
            &mut max,
        )
    }

    /// Writes (or rewrites) this partner's sealed position on `topic` (an agreement id or a
    /// draft's name). Refused once this partner marked it ready.
    pub fn write_position(&mut self, topic: &str, text: &str, now: DateTime<Utc>) -> Result<()> {
        let (me, _) = self.writable()?;
        let topic = clean_text("topic", topic, MAX_TITLE_CHARS, true)?;
        let text = clean_text("position", text, MAX_TEXT_CHARS, true)?;
        if self
            .position_records()
            .iter()
            .any(|p| p.topic == topic && p.partner == me && p.is_ready())
        {
            return Err(Error::NotAllowed(format!(
                "your position on '{topic}' is marked ready, which is final"
            )));
        }
        let mut ring = self.keyring(None);
        if ring.is_empty() {
            // This partner's first position: their keyring starts here.
            self.rotate_keyring(None, now)?;
            ring = self.keyring(None);
        }
        let key_id = ring.current_id().ok_or_else(|| {
            Error::NotAllowed(
                "this device cannot open your keyring: pair it again from another of your devices"
                    .into(),
            )
        })?;
        let seq = self.next_seq();
        let id = RecordId::for_record(&self.identity().device_id(), seq);
        let key = ring
            .position_key(&key_id, &self.trust.space_id, &topic, id.as_str())
            .ok_or_else(|| Error::NotAllowed("the position key could not be derived".into()))?;
        let (nonce, ciphertext) =
            crate::position::seal(&key, &self.trust.space_id, &topic, id.as_str(), &me, &text)?;
        self.write("position", None, now, Touched::Positions, |tx| {
            tx.insert_record(
                &["positions"],
                id.as_str(),
                Act::new(seq).fields(vec![
                    ("kind", "text".into()),
                    ("topic", topic.clone().into()),
                    ("key_id", key_id.clone().into()),
                    ("nonce", nonce.into()),
                    ("ciphertext", ciphertext.into()),
                ]),
            )
        })
    }

    /// Marks this partner's position on `topic` ready: final, committed to its current text.
    /// When both partners are ready, both positions are revealed.
    pub fn mark_position_ready(&mut self, topic: &str, now: DateTime<Utc>) -> Result<()> {
        let (me, _) = self.writable()?;
        let topic = topic.trim().to_owned();
        let mine = self
            .position_records()
            .into_iter()
            .find(|p| p.topic == topic && p.partner == me)
            .ok_or_else(|| Error::not_found("position of yours on", topic.clone()))?;
        if mine.is_ready() {
            return Ok(());
        }
        let Some(latest) = mine.latest else {
            return Err(Error::not_found("position of yours on", topic));
        };
        let digest = crate::position::digest(&latest.ciphertext);
        let seq = self.next_seq();
        let rec = RecordId::for_record(&self.identity().device_id(), seq);
        self.write("position ready", None, now, Touched::Positions, |tx| {
            tx.insert_record(
                &["positions"],
                rec.as_str(),
                Act::new(seq).fields(vec![
                    ("kind", "ready".into()),
                    ("topic", topic.clone().into()),
                    ("position", latest.id.clone().into()),
                    ("digest", digest.into()),
                ]),
            )
        })?;
        self.publish_due_position_keys(now)
    }

    /// Publishes the key of each of this partner's ready positions whose topic the other
    /// partner is ready on too (only that position's key, never the partner secret), in answer
    /// to the other's final "ready" as this device sees it. Any device of the partner does
    /// it (the one that wrote the position may be lost).
    pub(super) fn publish_due_position_keys(&mut self, now: DateTime<Utc>) -> Result<()> {
        let Ok((me, _)) = self.writable() else {
            return Ok(());
        };
        let records = self.position_records();
        let ring = self.keyring(None);
        let due: Vec<(String, String, String, [u8; 32])> = records
            .iter()
            .filter(|p| p.partner == me && p.key.is_none())
            .filter_map(|p| {
                let committed = p.committed.as_ref()?;
                let theirs = records
                    .iter()
                    .find(|o| o.topic == p.topic && o.partner != me)?;
                let key = ring.position_key(
                    &committed.key_id,
                    &self.trust.space_id,
                    &p.topic,
                    &committed.id,
                )?;
                Some((
                    p.topic.clone(),
                    committed.id.clone(),
                    theirs.ready_id.clone()?,
                    key,
                ))
            })
            .collect();
        for (topic, position, answers, key) in due {
            let seq = self.next_seq();
            let rec = RecordId::for_record(&self.identity().device_id(), seq);
            self.write("position key", None, now, Touched::Positions, |tx| {
                tx.insert_record(
                    &["positions"],
                    rec.as_str(),
                    Act::new(seq).fields(vec![
                        ("kind", "key".into()),
                        ("topic", topic.clone().into()),
                        ("position", position.clone().into()),
                        ("answers", answers.clone().into()),
                        ("key", key.to_vec().into()),
                    ]),
                )
            })?;
        }
        Ok(())
    }

    /// Both partners' positions on `topic` (or on every topic), as this device may see them:
    /// its own partner's always, the other's only once both are ready and it was revealed.
    pub fn positions(&mut self, topic: Option<&str>) -> Result<Vec<Position>> {
        self.ready()?;
        let (me, _) = self.me_for_reading()?;
        let records = self.position_records();
        let space_id = self.trust.space_id.clone();
        let ring = self.keyring(None);
        let mut out = Vec::new();
        for p in records
            .iter()
            .filter(|p| topic.is_none_or(|t| p.topic == t.trim()))
        {
            let both_ready = records
                .iter()
                .filter(|o| o.topic == p.topic && o.is_ready())
                .count()
                >= 2;
            let state = match (&p.committed, &p.key) {
                (Some(_), Some(_)) if both_ready => PositionState::Revealed,
                (Some(_), _) => PositionState::Ready,
                (None, _) => PositionState::Draft,
            };
            let shown = p.committed.as_ref().or(p.latest.as_ref());
            let text = shown.and_then(|sealed| {
                let key: Vec<u8> = if p.partner == me {
                    ring.position_key(&sealed.key_id, &space_id, &p.topic, &sealed.id)?
                        .to_vec()
                } else if state == PositionState::Revealed {
                    p.key.clone()?
                } else {
                    return None;
                };
                crate::position::open(
                    &key,
                    &space_id,
                    &p.topic,
                    &sealed.id,
                    &p.partner,
                    &sealed.nonce,
                    &sealed.ciphertext,
                )
            });
            out.push(Position {
                topic: p.topic.clone(),
                partner: p.partner.clone(),
                state,
                text,
            });
        }
        Ok(out)
    }
}
