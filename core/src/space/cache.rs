//! The view cache and quiet-moment work: compaction into a snapshot, `view.json` written at
//! quiet moments, by `flush()` and on close (never in `Drop`).

use super::*;

/// A part of `view.json` parsed only when first needed.
pub(crate) enum Deferred<T> {
    /// As read, not parsed yet.
    Raw(Box<serde_json::value::RawValue>),
    Parsed(T),
    /// Did not parse (written by another build): as if absent.
    Unreadable,
}

impl<T: serde::de::DeserializeOwned> Deferred<T> {
    /// The value, parsing it on first use.
    pub(super) fn get(&mut self) -> Option<&mut T> {
        if let Deferred::Raw(raw) = self {
            *self = match serde_json::from_str(raw.get()) {
                Ok(value) => Deferred::Parsed(value),
                Err(_) => Deferred::Unreadable,
            };
        }
        match self {
            Deferred::Parsed(value) => Some(value),
            _ => None,
        }
    }

    /// The value if it was parsed.
    pub(super) fn parsed(&self) -> Option<&T> {
        match self {
            Deferred::Parsed(value) => Some(value),
            _ => None,
        }
    }
}

impl<T: Serialize> Serialize for Deferred<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Deferred::Raw(raw) => raw.serialize(serializer),
            Deferred::Parsed(value) => value.serialize(serializer),
            Deferred::Unreadable => serializer.serialize_none(),
        }
    }
}

impl<'de, T> Deserialize<'de> for Deferred<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<serde_json::value::RawValue>::deserialize(deserializer).map(Deferred::Raw)
    }
}

impl Space {
    /// Whether the log has grown enough since the last snapshot to be compacted.
    pub fn compaction_due(&self) -> bool {
        self.storage.frames_since_snapshot() >= self.compaction.frames
            || self.storage.log_len() >= self.compaction.bytes
    }

    /// Compacts the log if it is due and the document is loaded, at a quiet moment (the node
    /// calls it when no change came for a while; closing the space calls it), so no edit
    /// waits for it. Returns whether it compacted.
    pub fn compact_if_due(&mut self) -> Result<bool> {
        if !self.compaction_due()
            || !matches!(self.doc, DocState::Ready(_))
            || !self.intents.is_empty()
        {
            return Ok(false);
        }
        self.compact()?;
        Ok(true)
    }

    /// Writes the whole document as a snapshot and empties the log.
    pub fn compact(&mut self) -> Result<()> {
        self.ready()?;
        // The change log's intent markers must outlive the intents (loading replays and
        // empties them, so this only fails after a failure to do so).
        if !self.intents.is_empty() {
            return Err(Error::NotAllowed(
                "writes made while the space was not loaded wait to be replayed; reopen it".into(),
            ));
        }
        let doc = self.doc();
        let heads = doc.heads();
        let bytes = doc.save();
        // The log (which holds received checkpoints) is emptied: keep them beside the snapshot.
        self.trust.checkpoints.save(self.storage.dir())?;
        self.storage.compact(&heads_to_bytes(&heads), &bytes)?;
        self.persisted_heads = heads;
        self.write_view_cache();
        self.unsaved_caches = false;
        Ok(())
    }

    /// Saves the list view for a fast next open (best effort; it is checked on open).
    pub(super) fn write_view_cache(&self) {
        let Some(derived) = &self.derived else {
            return;
        };
        if derived.heads != self.persisted_heads {
            return;
        }
        let DocState::Ready(doc) = &self.doc else {
            return;
        };
        let cache = ViewCache {
            heads: derived.heads.iter().map(|h| h.to_string()).collect(),
            schema: SCHEMA_VERSION,
            agreements: derived
                .agreements
                .values()
                .map(|a| a.summary.clone())
                .collect(),
            agenda: self
                .me_for_reading()
                .ok()
                .map(|(me, _)| AgendaInputs::from_derived(derived, me, self.me().is_ok())),
            log_frames: Some(self.storage.frames_since_snapshot()),
            basis: Some(Deferred::Parsed(WriteBasis::from_loaded(doc, derived))),
            intents: Vec::new(),
        };
        if let Ok(bytes) = serde_json::to_vec(&cache) {
            let _ = self.storage.write_view_cache(&bytes);
        }
    }

    /// Writes the view cache now if it is not up to date (the apps call it when going to the
    /// background: a phone may kill the app without closing it), so the next cold start shows
    /// the list, the agenda and reminders without loading the history.
    pub fn flush(&mut self) {
        if !std::mem::take(&mut self.unsaved_caches) {
            return;
        }
        if self.derived.is_some() {
            self.write_view_cache();
        } else if let Some(bytes) = self
            .cached
            .as_ref()
            .and_then(|c| serde_json::to_vec(c).ok())
        {
            let _ = self.storage.write_view_cache(&bytes);
        }
    }

    /// What a quiet moment is for (the node calls it when no change came for a while):
    /// compacts the log if it is due, else brings the view cache up to date. Returns whether
    /// it compacted.
    pub fn tidy(&mut self) -> Result<bool> {
        if self.compact_if_due()? {
            return Ok(true);
        }
        self.flush();
        Ok(false)
    }

    /// Closes the space in place (for an owner that cannot give it up, like the node): as
    /// [`Space::shutdown`]. Later calls still work; closing again writes only what changed.
    pub fn close(&mut self) {
        self.closed = true;
        if let Err(e) = self.tidy() {
            tracing::warn!("compacting the log on close failed (it stays valid): {e}");
            self.flush();
        }
    }

    /// Closes the space: compacts the log if it is due (a quiet moment), else saves the view
    /// cache for a fast next open. Dropping a space without it writes nothing.
    pub fn shutdown(mut self) {
        self.close();
    }
}

#[cfg(test)]
mod compaction_tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap()
    }

    fn space(dir: &Path) -> Space {
        let mut space = Space::create(
            dir,
            CreateSpace {
                partner_name: "Alex".into(),
                time_zone: "UTC".into(),
                device_name: String::new(),
            },
            now(),
        )
        .unwrap();
        space.set_compaction_limits(5, u64::MAX);
        space
    }

    fn write(space: &mut Space, n: usize) {
        for i in 0..n {
            space
                .create_agreement(NewAgreement::titled(format!("A{i}")), now())
                .unwrap();
        }
    }

    #[test]
    fn a_due_log_waits_for_a_quiet_moment_then_compacts() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut space = space(dir.path());
        write(&mut space, 6);
        assert_eq!(
            space.frames_since_snapshot(),
            6,
            "no edit waited for compaction"
        );
        assert!(space.compaction_due());
        assert!(space.compact_if_due().unwrap());
        assert_eq!(space.frames_since_snapshot(), 0);
        assert!(!space.compaction_due());
        assert!(!space.compact_if_due().unwrap());
        space.shutdown();
        let mut space = Space::open(dir.path()).unwrap();
        assert_eq!(space.list(&ListFilter::default()).unwrap().len(), 6);
    }

    #[test]
    fn a_write_compacts_at_once_when_no_quiet_moment_came() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut space = space(dir.path());
        write(&mut space, 5 * COMPACT_NOW_FACTOR as usize - 1);
        assert_eq!(space.frames_since_snapshot(), 19);
        write(&mut space, 1);
        assert_eq!(space.frames_since_snapshot(), 0);
    }

    #[test]
    fn closing_compacts_a_due_log_and_keeps_everything() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut space = space(dir.path());
        write(&mut space, 7);
        space.shutdown();
        let mut space = Space::open(dir.path()).unwrap();
        assert_eq!(space.frames_since_snapshot(), 0);
        assert_eq!(space.list(&ListFilter::default()).unwrap().len(), 7);
        assert_eq!(space.open_report().unwrap(), OpenReport::default());
    }

    #[test]
    fn a_space_opened_on_demand_is_not_loaded_just_to_compact() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut space = space(dir.path());
        space.set_compaction_limits(usize::MAX, u64::MAX);
        write(&mut space, 3);
        space.shutdown();
        let mut space = Space::open_with(dir.path(), LoadMode::OnDemand).unwrap();
        space.set_compaction_limits(2, u64::MAX);
        assert!(space.compaction_due());
        assert!(!space.compact_if_due().unwrap());
        assert!(matches!(space.doc, DocState::NotLoaded(_)));
    }
}
