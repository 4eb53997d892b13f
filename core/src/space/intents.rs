//! Writes made while the document is not loaded, kept as **intents** until it is.
//!
//! A process opened with [`LoadMode::OnDemand`] (a one-shot command, an app's background job
//! or notification action) serves the list, the agenda and reminders from `view.json`. Loading
//! the history to write would cost several times the memory of the current state, so the
//! writes such a process makes most (an agreement edit, an acceptance, a follow-through entry,
//! a check-in, a concern step, a reminder marked done or snoozed) are validated and planned
//! by the loaded path's own code against the views the cache holds ([`WriteBasis`]), appended
//! to `intents.log` (fsynced: the write is durable when the call returns), and applied to the
//! cached views so later reads show them.
//!
//! The next process that loads the document replays the pending intents through the one
//! loaded write path (the same public write calls, at the intent's time and causal order, so
//! the records get the ids already handed back) **before** anything else uses the document:
//! sync, other writes. The change an intent became records the intent's id in the same log
//! frame, so a crash at any point applies it exactly once; the intent log is emptied after the
//! last one. Nothing else (trust writes, enrolment, removal, positions) is ever an intent.

use super::*;
use crate::view::{ChildRecords, MembersParts};

/// Pending intents past which a write loads the document and replays them instead (a device
/// only ever written on demand still gets them into the document).
pub(super) const MAX_PENDING_INTENTS: usize = 1_000;

/// A domain write made without the document: the call and its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Intent {
    /// [`Space::edit_agreement`].
    AgreementEdit {
        agreement: AgreementId,
        edit: AgreementEdit,
    },
    /// [`Space::accept`].
    Acceptance { agreement: AgreementId },
    /// [`Space::add_log_entry`].
    FollowThrough {
        agreement: AgreementId,
        entry: LogKind,
        text: String,
    },
    /// [`Space::add_checkin`].
    CheckIn { held_on: NaiveDate, notes: String },
    /// [`Space::take_concern_step`] (not a renegotiation, which writes to the agreement).
    ConcernStep {
        concern: ConcernId,
        step: ConcernStep,
        text: String,
    },
    /// [`Space::mark_reminder_done`].
    ReminderDone { reminder: String },
    /// [`Space::snooze_reminder`].
    ReminderSnooze {
        reminder: String,
        until: DateTime<Utc>,
    },
}

/// An intent as the log keeps it: its id, when it was made (its record's time), and the
/// causal order its record takes (so replay gives the record the id handed back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PendingIntent {
    pub(crate) id: String,
    pub(crate) at: DateTime<Utc>,
    pub(crate) seq: i64,
    pub(crate) intent: Intent,
}

impl PendingIntent {
    /// Reads one payload of the intent log. An intent this build does not know (written by a
    /// newer one) is an error, never skipped.
    pub(crate) fn decode(payload: &[u8], dir: &Path) -> Result<PendingIntent> {
        serde_json::from_slice(payload).map_err(|e| Error::NewerVersion {
            path: dir.join("intents.log"),
            what: format!("an intent this version cannot read: {e}"),
        })
    }
}

/// What planning a write reads when the document is not loaded, kept in `view.json` beside
/// the views it was derived with.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct WriteBasis {
    /// The space id the document holds.
    pub(crate) space_id: String,
    /// The schema version stored in the document.
    pub(crate) schema: Option<u64>,
    /// The highest causal order of any record (the next record takes the one after).
    pub(crate) max_seq: i64,
    pub(crate) members: MembersParts,
    pub(crate) agreements: BTreeMap<AgreementId, AgreementBasis>,
}

/// One agreement as planning a write reads it: its registers, and the records its summary
/// can depend on.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct AgreementBasis {
    pub(super) registers: BTreeMap<String, crate::document::Register>,
    pub(super) children: ChildRecords,
}

impl WriteBasis {
    /// Takes the basis from the loaded document and its views.
    pub(crate) fn from_loaded(doc: &Document, derived: &Derived) -> WriteBasis {
        let agreements = derived
            .agreements
            .iter()
            .filter_map(|(id, state)| {
                let entity = doc.entity_registers("agreements", id.as_str())?;
                Some((
                    id.clone(),
                    AgreementBasis {
                        registers: entity.registers,
                        children: state.children.for_summary(&state.revision),
                    },
                ))
            })
            .collect();
        WriteBasis {
            space_id: doc.root_str("space_id").unwrap_or_default(),
            schema: derived.schema,
            max_seq: derived.max_seq,
            members: derived.members.parts(),
            agreements,
        }
    }
}

impl Space {
    /// Replays the pending intents through the loaded write path, in order, once the
    /// document is loaded and derived (before any other use of it), then empties the log.
    /// An intent whose change the log already holds (a crash came between them) is skipped.
    pub(super) fn replay_intents(&mut self, applied: &BTreeSet<String>) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let count = self.pending.len();
        self.replaying = Some(Replaying { seq: None });
        let mut replayed = Vec::new();
        for pending in std::mem::take(&mut self.pending) {
            if applied.contains(&pending.id) {
                continue;
            }
            if let Some(replaying) = self.replaying.as_mut() {
                replaying.seq = Some(pending.seq);
            }
            match self.replay(&pending) {
                Ok(()) => replayed.push(pending.id),
                Err(e) => {
                    let problem = Problem::new(
                        format!(
                            "a write made while the space was not loaded ({})",
                            pending.id
                        ),
                        format!("could not be applied: {e}"),
                    );
                    if let Some(derived) = self.derived.as_mut() {
                        derived
                            .problems
                            .entry("intents".into())
                            .or_default()
                            .push(problem);
                    }
                }
            }
        }
        // All the changes in one frame with the ids of the intents they became: a crash
        // before it stores nothing (the intents are replayed again), after it all of them.
        self.replaying = None;
        self.unstored_intents = replayed;
        if let Err(e) = self.persist() {
            // Nothing of the replay was stored, and the intents are still in their log: refuse
            // further use (a later write must not come before them) until the space reopens.
            self.doc = DocState::Poisoned;
            self.derived = None;
            self.load_failure = Some(format!("replaying writes made while closed failed: {e}"));
            return Err(e);
        }
        // Until this succeeds the log's markers are what keeps the intents from applying twice:
        // compaction (which empties the change log) waits for it, and a failure poisons.
        if let Err(e) = self.intents.clear() {
            self.doc = DocState::Poisoned;
            self.derived = None;
            self.load_failure = Some(format!("emptying the intent log failed: {e}"));
            return Err(e);
        }
        self.report.replayed = Some(ReplayReport {
            intents: count,
            micros: started.elapsed().as_micros() as u64,
        });
        Ok(())
    }

    /// Makes one intent's write with the document loaded, at its time.
    fn replay(&mut self, pending: &PendingIntent) -> Result<()> {
        let at = pending.at;
        match pending.intent.clone() {
            Intent::AgreementEdit { agreement, edit } => self.edit_agreement(&agreement, edit, at),
            Intent::Acceptance { agreement } => self.accept(&agreement, at),
            Intent::FollowThrough {
                agreement,
                entry,
                text,
            } => self.add_log_entry(&agreement, entry, &text, at).map(|_| ()),
            Intent::CheckIn { held_on, notes } => self.add_checkin(held_on, &notes, at).map(|_| ()),
            Intent::ConcernStep {
                concern,
                step,
                text,
            } => self
                .take_concern_step(&concern, step, &text, at)
                .map(|_| ()),
            Intent::ReminderDone { reminder } => self.mark_reminder_done(&reminder, at),
            Intent::ReminderSnooze { reminder, until } => {
                self.snooze_reminder(&reminder, until, at)
            }
        }
    }

    /// How many writes made without the document wait to be replayed into it.
    pub fn pending_intents(&self) -> usize {
        self.pending.len()
    }
}

/// A replay under way: the causal order the record of the intent being replayed takes (taken
/// by the first record its write numbers). While it lasts, changes are stored at its end.
pub(super) struct Replaying {
    pub(super) seq: Option<i64>,
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
        alex.shutdown();
        sam.shutdown();
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
    /// Log entries without their place in causal order: an intent's is provisional (after
    /// every written record) until it is replayed into the document.
    fn unplaced(entries: &[LogEntry]) -> Vec<LogEntry> {
        entries
            .iter()
            .map(|e| LogEntry {
                order: 0,
                ..e.clone()
            })
            .collect()
    }

    /// The list, the agenda and each partner's reminders as text, places in causal order left
    /// out (see [`unplaced`]).
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
        let mut text = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = rest.find("order: ") {
            text.push_str(&rest[..at + 7]);
            rest = rest[at + 7..].trim_start_matches(|c: char| c.is_ascii_digit());
            text.push('_');
        }
        text.push_str(rest);
        text
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
        space.shutdown();

        let mut space = Space::open(&warm).unwrap();
        let warm_results = act(&mut space);
        let expected = seen(&mut space, ids);
        assert_eq!(
            cached_views(&mut space),
            cold_views,
            "what the caches predicted is what the loaded views say"
        );
        space.shutdown();
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
    fn intents_round_trip_through_the_log_format_and_unknown_ones_are_refused() {
        let dir = Path::new("/nowhere");
        let removal = AgreementEdit {
            review_every: Some(CadenceChange::Remove),
            ..Default::default()
        };
        for edit in [removal, AgreementEdit::default(), edits()[1].clone()] {
            let pending = super::PendingIntent {
                id: "i1".into(),
                at: t(1),
                seq: 7,
                intent: super::Intent::AgreementEdit {
                    agreement: AgreementId::from("a1"),
                    edit,
                },
            };
            let bytes = serde_json::to_vec(&pending).unwrap();
            assert_eq!(super::PendingIntent::decode(&bytes, dir).unwrap(), pending);
        }
        let newer = br#"{"id":"i2","at":"2027-03-01T09:00:00Z","seq":3,"intent":{"kind":"hug"}}"#;
        let err = super::PendingIntent::decode(newer, dir).unwrap_err();
        assert!(matches!(err, Error::NewerVersion { .. }), "{err}");
        assert!(err.to_string().contains("intents.log"), "{err}");
    }

    /// Alex's space (from [`every_state`]) with two follow-through entries written as
    /// intents and closed; the entries as handed back.
    fn two_intents(root: &Path) -> (std::path::PathBuf, AgreementId, Vec<LogEntry>) {
        let states = every_state(root);
        let dir = root.join("alex");
        let active = states[2].1.clone();
        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        let entries = ["first", "second"]
            .iter()
            .enumerate()
            .map(|(i, text)| {
                space
                    .add_log_entry(&active, LogKind::Note, text, t(100 + i as i64))
                    .unwrap()
            })
            .collect();
        assert!(matches!(space.doc, DocState::NotLoaded(_)));
        assert_eq!(space.pending_intents(), 2);
        space.shutdown();
        (dir, active, entries)
    }

    #[test]
    fn a_damaged_intent_log_is_cut_at_the_damage_and_reported() {
        let root = TempDir::new().unwrap();
        let (dir, active, entries) = two_intents(root.path());
        let log = dir.join("intents.log");
        let mut bytes = std::fs::read(&log).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 0xff;
        std::fs::write(&log, &bytes).unwrap();
        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        assert_eq!(space.pending_intents(), 1, "the intact intent is kept");
        let report = space.open_report().unwrap();
        let damaged = report.damaged_intents.expect("reported");
        assert!(damaged.bytes_cut > 0);
        assert!(damaged.kept_in.exists(), "the cut bytes are kept");
        let texts: Vec<String> = space
            .follow_through(Some(&active))
            .unwrap()
            .into_iter()
            .map(|e| e.text)
            .collect();
        assert!(texts.contains(&"first".to_string()));
        assert!(!texts.contains(&"second".to_string()));
        let first = unplaced(&space.follow_through(Some(&active)).unwrap());
        assert!(
            first.contains(&unplaced(&entries)[0]),
            "replayed with the id handed back"
        );
    }

    #[test]
    fn an_intent_log_of_a_newer_format_is_refused_and_left_as_it_is() {
        let root = TempDir::new().unwrap();
        let (dir, _, _) = two_intents(root.path());
        let log = dir.join("intents.log");
        let mut bytes = std::fs::read(&log).unwrap();
        bytes[6..8].copy_from_slice(b"02");
        std::fs::write(&log, &bytes).unwrap();
        for mode in [LoadMode::OnDemand, LoadMode::Background] {
            let err = Space::open_with(&dir, mode).err().expect("refused");
            assert!(matches!(err, Error::NewerVersion { .. }), "{err}");
            assert!(err.to_string().contains("update"), "{err}");
        }
        assert_eq!(std::fs::read(&log).unwrap(), bytes, "nothing dropped");
    }

    #[test]
    fn an_intent_is_applied_once_when_a_crash_came_between_its_change_and_emptying_the_log() {
        let root = TempDir::new().unwrap();
        let (dir, active, entries) = two_intents(root.path());
        let log = dir.join("intents.log");
        let pending = std::fs::read(&log).unwrap();
        let mut space = Space::open(&dir).unwrap();
        assert_eq!(space.follow_through(Some(&active)).unwrap().len(), 2);
        assert_eq!(space.pending_intents(), 0);
        space.shutdown();
        // As if killed after the replayed changes were stored, before the log was emptied.
        std::fs::write(&log, &pending).unwrap();
        let mut space = Space::open(&dir).unwrap();
        let log_now = space.follow_through(Some(&active)).unwrap();
        assert_eq!(
            unplaced(&log_now),
            unplaced(&entries),
            "each once, with the ids handed back"
        );
        assert_eq!(space.pending_intents(), 0);
        space.shutdown();
        assert_eq!(std::fs::read(&log).unwrap(), b"ACCINT01", "emptied");
    }

    #[test]
    fn a_replay_never_compacts_away_its_markers_before_the_intent_log_is_emptied() {
        let root = TempDir::new().unwrap();
        let (dir, active, entries) = two_intents(root.path());
        let log = dir.join("intents.log");
        let pending = std::fs::read(&log).unwrap();
        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        // The log is far past the limits: storing the replay would compact at once.
        space.set_compaction_limits(1, 1);
        assert_eq!(space.follow_through(Some(&active)).unwrap().len(), 2);
        assert!(
            space.frames_since_snapshot() > 0,
            "not compacted during the replay"
        );
        drop(space);
        // Killed before the intent log was emptied (it is restored as it was).
        std::fs::write(&log, &pending).unwrap();
        let mut space = Space::open(&dir).unwrap();
        assert_eq!(
            unplaced(&space.follow_through(Some(&active)).unwrap()),
            unplaced(&entries),
            "once each"
        );
        // Once the log is empty, a quiet moment compacts.
        space.set_compaction_limits(1, 1);
        assert!(space.tidy().unwrap(), "compacted");
        assert_eq!(
            unplaced(&space.follow_through(Some(&active)).unwrap()),
            unplaced(&entries)
        );
    }

    #[test]
    fn a_leftover_intent_log_is_not_replayed_into_a_new_space() {
        let root = TempDir::new().unwrap();
        let (dir, _, _) = two_intents(root.path());
        let fresh = root.path().join("fresh");
        std::fs::create_dir_all(&fresh).unwrap();
        std::fs::copy(dir.join("intents.log"), fresh.join("intents.log")).unwrap();
        let space = alex_space(&fresh, "UTC", t(0));
        space.shutdown();
        let mut space = Space::open(&fresh).unwrap();
        assert_eq!(space.pending_intents(), 0);
        assert!(space.list(&ListFilter::default()).unwrap().is_empty());
    }

    #[test]
    fn a_peer_cannot_send_intent_markers() {
        let root = TempDir::new().unwrap();
        every_state(root.path());
        let mut space = Space::open(&root.path().join("alex")).unwrap();
        let err = space.apply_changes(&[b"ACINforged".to_vec()]).unwrap_err();
        assert!(matches!(err, Error::InvalidRemoteData(_)), "{err}");
    }

    #[test]
    fn writes_between_open_and_replay_do_not_reorder_pending_intents() {
        // A write the cache cannot make loads the document: the pending intents are
        // replayed first, so the new record comes after them.
        let root = TempDir::new().unwrap();
        let (dir, active, entries) = two_intents(root.path());
        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        space
            .create_agreement(NewAgreement::titled("After the intents"), t(200))
            .unwrap();
        assert!(matches!(space.doc, DocState::Ready(_)), "loaded to create");
        assert_eq!(space.pending_intents(), 0);
        let later = space
            .add_log_entry(&active, LogKind::Kept, "", t(201))
            .unwrap();
        let log = space.follow_through(Some(&active)).unwrap();
        assert_eq!(
            unplaced(&log[..2]),
            unplaced(&entries),
            "the intents first, with their ids"
        );
        assert!(later.order > log[1].order, "then what came after");
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
        space.shutdown();
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
    fn without_a_write_basis_the_edit_loads_the_document_and_a_stale_cache_catches_up() {
        let root = TempDir::new().unwrap();
        let states = every_state(root.path());
        let dir = root.path().join("alex");
        let active = &states[2].1;
        // A cache of an earlier build, without the write basis: writes load the document.
        let view = dir.join("view.json");
        let mut cache: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&view).unwrap()).unwrap();
        cache.as_object_mut().unwrap().remove("basis");
        std::fs::write(&view, serde_json::to_vec(&cache).unwrap()).unwrap();
        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        space
            .edit_agreement(active, details("loaded"), t(100))
            .unwrap();
        assert!(matches!(space.doc, DocState::Ready(_)), "loaded to edit");
        space.shutdown();

        // Killed after the intent was fsynced, before the cache was saved: the next open
        // applies the pending intent to the older cache, by the same planning.
        let older = std::fs::read(&view).unwrap();
        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        let entry = space
            .add_log_entry(active, LogKind::Missed, "cold", t(101))
            .unwrap();
        space
            .edit_agreement(active, details("cold"), t(102))
            .unwrap();
        assert!(matches!(space.doc, DocState::NotLoaded(_)));
        let expected = cached_views(&mut space);
        drop(space);
        std::fs::write(&view, &older).unwrap();
        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        assert_eq!(space.pending_intents(), 2);
        assert_eq!(cached_views(&mut space), expected, "the cache caught up");
        assert!(matches!(space.doc, DocState::NotLoaded(_)));
        // Loading replays them: the entry keeps the id handed back, the edit its time.
        assert_eq!(space.agreement(active).unwrap().details, "cold");
        assert_eq!(space.pending_intents(), 0);
        let log = space.follow_through(Some(active)).unwrap();
        let replayed = log.iter().find(|e| e.id == entry.id).unwrap();
        assert_eq!(unplaced(std::slice::from_ref(replayed)), unplaced(&[entry]));
        let history = space.history(active).unwrap();
        assert_eq!(history.last().unwrap().at, t(102));
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
        tablet.shutdown();
        alex.shutdown();
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
        space.ready().unwrap();
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
        loaded.shutdown();

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
        #![proptest_config(proptest::prelude::ProptestConfig {
            // PROPTEST_CASES (1,000 in the test command), else a quick 24 in an edit loop.
            cases: std::env::var("PROPTEST_CASES")
                .ok()
                .and_then(|c| c.parse().ok())
                .unwrap_or(24),
            ..proptest::prelude::ProptestConfig::default()
        })]

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
    fn past_the_limit_of_pending_intents_the_write_loads_and_replays_them() {
        let root = TempDir::new().unwrap();
        let states = every_state(root.path());
        let dir = root.path().join("alex");
        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        space.set_max_pending_intents(2);
        for (i, words) in ["one", "two"].iter().enumerate() {
            space
                .edit_agreement(&states[2].1, details(words), t(100 + i as i64))
                .unwrap();
        }
        assert!(matches!(space.doc, DocState::NotLoaded(_)));
        space
            .edit_agreement(&states[2].1, details("three"), t(102))
            .unwrap();
        assert!(matches!(space.doc, DocState::Ready(_)), "loaded to write");
        assert_eq!(space.pending_intents(), 0, "replayed");
        space.shutdown();
        let mut space = Space::open_with(&dir, LoadMode::OnDemand).unwrap();
        assert_eq!(space.pending_intents(), 0);
        assert_eq!(space.summary(&states[2].1).unwrap().title, "Active");
        assert_eq!(space.agreement(&states[2].1).unwrap().details, "three");
        let history = space.history(&states[2].1).unwrap();
        let times: Vec<_> = history
            .iter()
            .map(|h| h.at)
            .filter(|at| *at >= t(100))
            .collect();
        assert_eq!(
            times,
            vec![t(100), t(101), t(102)],
            "each write once, at its time"
        );
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
            alex.shutdown();
            sam.shutdown();
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
        space.shutdown();
        let mut space = Space::open(&cold).unwrap();
        let log = space.follow_through(Some(&id("active"))).unwrap();
        let entry = log.iter().find(|e| e.id == logged.id).unwrap();
        assert_eq!(
            unplaced(std::slice::from_ref(entry)),
            unplaced(&[logged]),
            "the entry returned is the one stored (its place in causal order is final now)"
        );
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
            alex.shutdown();
            sam.shutdown();
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
        space.shutdown();
        let mut space = Space::open(&cold).unwrap();
        let checkins = space.checkins().unwrap();
        let last = checkins.last().unwrap();
        assert_eq!(
            CheckIn {
                order: held.order,
                ..last.clone()
            },
            held,
            "the check-in returned is the one stored (its place in causal order is final now)"
        );
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
        alex.shutdown();
        sam.shutdown();
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
        space.shutdown();
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
