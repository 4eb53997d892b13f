//! The check-in agenda of [`Space`], assembled from [`AgendaInputs`]: taken from the derived
//! views, or from the view cache written at the stored heads, so a cold start shows the
//! agenda without waiting for the document to load (like the list).

use super::reminders::{schedule_from, ScheduleParts};
use super::{Derived, Space, ViewCache};
use crate::agreement::{AgreementSummary, Status};
use crate::checkin::{Agenda, CheckIn, Upcoming, Waiting, APPRECIATION_PROMPT};
use crate::concern::Concern;
use crate::error::{Error, Result};
use crate::followthrough::{LogEntry, LogKind};
use crate::ids::{ConcernId, PartnerId};
use crate::reminders::recurrence::RecurrenceRule;
use crate::reminders::schedule::{
    CommitmentRule, Marks, ReminderKind, ScheduleConcern, SchedulePartner,
};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How far ahead the agenda's upcoming commitments look.
const UPCOMING_DAYS: i64 = 14;
/// Reminders the schedule computes for the agenda before keeping commitments and check-ins.
const UPCOMING_SCHEDULED: usize = 64;
/// Upcoming commitments the agenda shows.
const UPCOMING_SHOWN: usize = 10;

/// Everything the agenda is made of besides the agreement list and the time: what does not
/// depend on `now` is kept already filtered; what does (due reviews, upcoming commitments)
/// is computed from its inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AgendaInputs {
    /// The partner reading the agenda (this device's).
    me: PartnerId,
    /// Whether this device is still enrolled (a removed one keeps reading its copy, but has
    /// no reminders of its own).
    #[serde(default)]
    enrolled: bool,
    /// The partners as the scheduler needs them (their time zones).
    partners: Vec<SchedulePartner>,
    /// Concerns still open, oldest first.
    open_concerns: Vec<Concern>,
    /// Every concern as the scheduler needs it.
    schedule_concerns: Vec<ScheduleConcern>,
    /// Missed entries logged after the last check-in, in log order.
    missed_since_last_checkin: Vec<LogEntry>,
    /// The last check-in held.
    last_checkin: Option<CheckIn>,
    /// Recurring commitments.
    rules: Vec<CommitmentRule>,
    /// The check-in ritual.
    checkin: Option<RecurrenceRule>,
    /// Done and snooze marks.
    marks: Marks,
}

impl AgendaInputs {
    /// Takes the agenda's inputs from the derived views, as read by partner `me` on a device
    /// that is still `enrolled` or not.
    pub(crate) fn from_derived(derived: &Derived, me: PartnerId, enrolled: bool) -> Self {
        let mut inputs = AgendaInputs {
            me,
            enrolled,
            partners: super::reminders::schedule_partners(&derived.members),
            open_concerns: derived
                .concerns
                .iter()
                .filter(|c| c.state.is_open())
                .cloned()
                .collect(),
            schedule_concerns: super::reminders::schedule_concerns(&derived.concerns),
            missed_since_last_checkin: Vec::new(),
            last_checkin: derived.checkins.last().cloned(),
            rules: derived.reminders.rules.clone(),
            checkin: derived.reminders.checkin.clone(),
            marks: derived.reminders.marks.clone(),
        };
        inputs.take_missed(
            derived
                .log
                .iter()
                .filter(|e| e.kind == LogKind::Missed)
                .cloned(),
        );
        inputs
    }

    /// The agenda at `now` for these inputs and agreements, in DOMAIN.md's order.
    pub(crate) fn agenda<'a>(
        self,
        agreements: impl Iterator<Item = &'a AgreementSummary> + Clone,
        now: DateTime<Utc>,
    ) -> Agenda {
        let tz: chrono_tz::Tz = self
            .partners
            .iter()
            .find(|p| p.id == self.me)
            .and_then(|p| p.time_zone.parse().ok())
            .unwrap_or(chrono_tz::UTC);
        let today = now.with_timezone(&tz).date_naive();
        let mut due: Vec<AgreementSummary> = agreements
            .clone()
            .filter(|a| a.status != Status::Retired)
            .filter(|a| a.next_review.is_some_and(|d| d <= today))
            .cloned()
            .collect();
        due.sort_by(|a, b| {
            a.next_review
                .cmp(&b.next_review)
                .then_with(|| a.id.cmp(&b.id))
        });
        let waiting = agreements
            .clone()
            .filter(|a| matches!(a.status, Status::Draft | Status::Proposed))
            .map(|a| Waiting {
                agreement: a.clone(),
                waiting_for: self
                    .partners
                    .iter()
                    .map(|p| &p.id)
                    .filter(|p| !a.accepted_by.contains(p))
                    .cloned()
                    .collect(),
            })
            .collect();
        let upcoming = self.upcoming(agreements, now);
        Agenda {
            appreciation_prompt: APPRECIATION_PROMPT.to_owned(),
            open_concerns: self.open_concerns,
            due_for_review: due,
            missed_since_last_checkin: self.missed_since_last_checkin,
            waiting_for_partner: waiting,
            upcoming,
            last_checkin: self.last_checkin,
        }
    }

    /// Step 6: the next commitments and check-ins of the next two weeks.
    fn upcoming<'a>(
        &self,
        agreements: impl Iterator<Item = &'a AgreementSummary>,
        now: DateTime<Utc>,
    ) -> Vec<Upcoming> {
        schedule_from(
            self.schedule_parts(agreements),
            now,
            &self.me,
            UPCOMING_SCHEDULED,
            Duration::days(UPCOMING_DAYS),
        )
        .into_iter()
        .filter(|r| matches!(r.kind, ReminderKind::Commitment | ReminderKind::CheckIn))
        .take(UPCOMING_SHOWN)
        .map(|r| Upcoming {
            title: r.title,
            at: r.fires_at_utc,
        })
        .collect()
    }

    /// What the reminder schedule is computed from: these inputs and `agreements`.
    pub(crate) fn schedule_parts<'a, I>(&'a self, agreements: I) -> ScheduleParts<'a, I> {
        ScheduleParts {
            partners: &self.partners,
            agreements,
            rules: &self.rules,
            concerns: &self.schedule_concerns,
            marks: &self.marks,
            checkin: self.checkin.as_ref(),
        }
    }

    /// This device's partner, for its own reminders: none once the device was removed.
    pub(crate) fn me_enrolled(&self) -> Option<&PartnerId> {
        self.enrolled.then_some(&self.me)
    }

    /// Whether `partner` is one of the space's partners.
    pub(crate) fn is_partner(&self, partner: &PartnerId) -> bool {
        self.partners.iter().any(|p| &p.id == partner)
    }

    /// The space's partners.
    pub(crate) fn partner_ids(&self) -> Vec<PartnerId> {
        self.partners.iter().map(|p| p.id.clone()).collect()
    }

    /// Done and snooze marks.
    pub(crate) fn marks(&self) -> &Marks {
        &self.marks
    }

    /// Done and snooze marks (an intent adds its own).
    pub(crate) fn marks_mut(&mut self) -> &mut Marks {
        &mut self.marks
    }

    /// The concern `id`: `Ok(Some)` while open, `Ok(None)` when closed, an error when no
    /// concern has that id (the loaded path's error).
    pub(crate) fn open_concern(&self, id: &ConcernId) -> Result<Option<&Concern>> {
        if let Some(open) = self.open_concerns.iter().find(|c| &c.id == id) {
            return Ok(Some(open));
        }
        match self.schedule_concerns.iter().any(|c| &c.id == id) {
            true => Ok(None),
            false => Err(Error::not_found("concern", id.as_str())),
        }
    }

    /// Every concern's id, open or not.
    pub(crate) fn concern_ids(&self) -> Vec<ConcernId> {
        self.schedule_concerns
            .iter()
            .map(|c| c.id.clone())
            .collect()
    }

    /// Takes in a concern after a step this device just took (a write without the
    /// document); whether what reminders are computed from changed.
    pub(crate) fn take_concern(&mut self, concern: Concern) -> bool {
        let mut reminders_changed = false;
        let scheduled = super::reminders::schedule_concerns(std::slice::from_ref(&concern));
        let entry = self
            .schedule_concerns
            .iter_mut()
            .find(|c| c.id == concern.id);
        if let (Some(entry), Some(scheduled)) = (entry, scheduled.into_iter().next()) {
            reminders_changed = *entry != scheduled;
            *entry = scheduled;
        }
        self.open_concerns
            .retain(|c| c.id != concern.id || concern.state.is_open());
        if let Some(open) = self.open_concerns.iter_mut().find(|c| c.id == concern.id) {
            *open = concern;
        }
        reminders_changed
    }

    /// Takes in check-ins this device just recorded (a write without the document): the
    /// last one held becomes the last check-in, and only what was missed after it stays on
    /// the agenda.
    pub(crate) fn take_checkins(&mut self, checkins: impl IntoIterator<Item = CheckIn>) {
        for checkin in checkins {
            let later = self
                .last_checkin
                .as_ref()
                .is_none_or(|last| (checkin.order, &checkin.id) > (last.order, &last.id));
            if later {
                self.last_checkin = Some(checkin);
            }
        }
        let Some(last) = &self.last_checkin else {
            return;
        };
        self.missed_since_last_checkin
            .retain(|e| (e.order, &e.id) > (last.order, &last.id));
    }

    /// Takes in log entries (all of the log, or those a write without the document just
    /// added): the missed ones after the last check-in join the agenda's list, in log order.
    pub(crate) fn take_missed(&mut self, entries: impl IntoIterator<Item = LogEntry>) {
        let last = self.last_checkin.as_ref().map(|c| (c.order, &c.id));
        let after_checkin = |e: &LogEntry| last.is_none_or(|(o, id)| (e.order, &e.id) > (o, id));
        let missed = entries
            .into_iter()
            .filter(|e| e.kind == LogKind::Missed)
            .filter(after_checkin);
        self.missed_since_last_checkin.extend(missed);
        self.missed_since_last_checkin
            .sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.id.cmp(&b.id)));
    }
}

impl Space {
    /// The check-in agenda at `now`, in DOMAIN.md's order: appreciation prompt, open
    /// concerns, agreements due for review, commitments missed since the last check-in,
    /// drafts and proposals waiting for a partner, upcoming commitments. Right after opening
    /// it is served from the view cache (checked against the stored heads) while the document
    /// loads.
    pub fn agenda(&mut self, now: DateTime<Utc>) -> Result<Agenda> {
        if self.derived.is_none() {
            if let Some(ViewCache {
                agreements,
                agenda: Some(inputs),
                ..
            }) = &self.cached
            {
                return Ok(inputs.clone().agenda(agreements.iter(), now));
            }
        }
        self.ready()?;
        let (me, _) = self.me_for_reading()?;
        let derived = self.derived();
        Ok(AgendaInputs::from_derived(derived, me, self.me().is_ok())
            .agenda(derived.agreements.values().map(|a| &a.summary), now))
    }
}

#[cfg(test)]
mod tests {
    use super::super::DocState;
    use crate::reminders::schedule::Reminder;
    use crate::test_support::daily;
    use crate::*;
    use chrono::{DateTime, Duration, TimeZone, Utc};

    fn t(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    fn concern(agreement: Option<AgreementId>, what: &str) -> NewConcern {
        NewConcern {
            agreement,
            what_happened: what.into(),
            how_i_felt: String::new(),
            what_i_need: String::new(),
        }
    }

    /// Alex's space with a second partner, an open concern, a missed entry after the last
    /// check-in, a review date, a draft, a recurring commitment, the ritual and a snooze.
    fn busy_space(dir: &std::path::Path) -> Space {
        let mut space = crate::test_support::alex_space(dir, "Europe/Berlin", t(0));
        let sam = DeviceIdentity::load_or_create(&dir.join("sam")).unwrap();
        space
            .add_partner("Sam", "America/New_York", &sam.device_id(), "phone", t(1))
            .unwrap();
        let mut reviewed = NewAgreement::titled("Money talk");
        reviewed.review_every = Some(ReviewCadence::parse("1 week").unwrap());
        let reviewed = space.create_agreement(reviewed, t(2)).unwrap();
        let mut draft = NewAgreement::titled("Draft rule");
        draft.draft = true;
        space.create_agreement(draft, t(3)).unwrap();
        space
            .log_follow_through(&reviewed, LogKind::Missed, "before", t(4))
            .unwrap();
        space
            .record_checkin(t(5).date_naive(), "good talk", t(5))
            .unwrap();
        space
            .log_follow_through(&reviewed, LogKind::Missed, "after", t(6))
            .unwrap();
        space
            .raise_concern(concern(Some(reviewed.clone()), "late again"), t(7))
            .unwrap();
        space
            .add_commitment_rule(&reviewed, daily(19, "Europe/Berlin"), None, t(8))
            .unwrap();
        space
            .set_checkin_ritual(Some(daily(20, "Europe/Berlin")), t(8))
            .unwrap();
        let first = space
            .upcoming_reminders(t(9), None, 1, Duration::days(2))
            .unwrap();
        space
            .snooze_reminder(&first[0].id, t(60 * 30), t(9))
            .unwrap();
        space
    }

    /// Instants around the snooze, the first review date and after it.
    fn instants() -> Vec<DateTime<Utc>> {
        vec![t(10), t(60 * 12), t(60 * 24 * 8), t(60 * 24 * 40)]
    }

    #[test]
    fn the_agenda_is_served_from_the_cache_at_open_and_matches_the_loaded_one() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut space = busy_space(dir.path());
        let expected: Vec<Agenda> = instants()
            .into_iter()
            .map(|now| space.agenda(now).unwrap())
            .collect();
        assert_eq!(expected[0].open_concerns.len(), 1);
        assert_eq!(expected[0].missed_since_last_checkin.len(), 1);
        assert_eq!(expected[0].waiting_for_partner.len(), 2);
        assert!(!expected[0].upcoming.is_empty());
        assert!(expected[2].due_for_review.len() == 1);
        space.shutdown();

        let mut space = Space::open(dir.path()).unwrap();
        for (now, expected) in instants().into_iter().zip(&expected) {
            assert_eq!(&space.agenda(now).unwrap(), expected, "at {now}");
        }
        assert!(
            space.derived.is_none(),
            "served without waiting for the load"
        );
        space.ready().unwrap();
        for (now, expected) in instants().into_iter().zip(&expected) {
            assert_eq!(&space.agenda(now).unwrap(), expected, "at {now}");
        }
    }

    /// Every partner's reminders at each instant, and the errors for a stranger and an empty
    /// horizon.
    fn reminders(space: &mut Space, partners: &[PartnerId]) -> Vec<Vec<Reminder>> {
        let mut out = Vec::new();
        for now in instants() {
            out.push(
                space
                    .upcoming_reminders(now, None, 64, Duration::days(30))
                    .unwrap(),
            );
            for p in partners {
                out.push(
                    space
                        .upcoming_reminders(now, Some(p), 5, Duration::days(3))
                        .unwrap(),
                );
            }
        }
        let stranger = PartnerId("not-a-partner".into());
        let err = space
            .upcoming_reminders(t(0), Some(&stranger), 5, Duration::days(3))
            .unwrap_err();
        assert!(matches!(err, Error::NotAMember(_)), "{err}");
        let err = space
            .upcoming_reminders(t(0), None, 5, Duration::zero())
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        out
    }

    #[test]
    fn opened_on_demand_the_list_agenda_and_reminders_never_load_the_history() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut space = busy_space(dir.path());
        let partners = crate::test_support::partner_ids(&mut space);
        let list = space.list(&ListFilter::default()).unwrap();
        let agenda = space.agenda(t(10)).unwrap();
        let expected = reminders(&mut space, &partners);
        assert!(expected.iter().any(|r| !r.is_empty()));
        space.shutdown();

        let mut space = Space::open_with(dir.path(), LoadMode::OnDemand).unwrap();
        assert_eq!(space.list(&ListFilter::default()).unwrap(), list);
        assert_eq!(space.agenda(t(10)).unwrap(), agenda);
        assert_eq!(reminders(&mut space, &partners), expected);
        assert!(matches!(space.doc, DocState::NotLoaded(_)));
        // A write the caches cannot make loads the document on this thread, then goes
        // through as usual.
        let created = space
            .create_agreement(NewAgreement::titled("Loaded on demand"), t(20))
            .unwrap();
        assert!(matches!(space.doc, DocState::Ready(_)));
        assert_eq!(space.open_report().unwrap(), OpenReport::default());
        space.shutdown();
        let mut space = Space::open_with(dir.path(), LoadMode::OnDemand).unwrap();
        let list = space.list(&ListFilter::default()).unwrap();
        assert!(list.iter().any(|a| a.id == created));
    }

    #[test]
    fn opened_on_demand_without_a_cache_or_with_a_damaged_snapshot() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut space = busy_space(dir.path());
        let list = space.list(&ListFilter::default()).unwrap();
        space.compact().unwrap();
        space.shutdown();
        // No cache: the list loads the document.
        std::fs::remove_file(dir.path().join("view.json")).unwrap();
        let mut space = Space::open_with(dir.path(), LoadMode::OnDemand).unwrap();
        assert_eq!(space.list(&ListFilter::default()).unwrap(), list);
        assert!(space.derived.is_some());
        space.shutdown();
        // A damaged snapshot: the call that needs the document names the file, and the file
        // is left as it was.
        std::fs::remove_file(dir.path().join("view.json")).unwrap();
        let snapshot = dir.path().join("snapshot.bin");
        let mut bytes = std::fs::read(&snapshot).unwrap();
        let last = bytes.len() - 10;
        bytes[last] ^= 0xff;
        std::fs::write(&snapshot, &bytes).unwrap();
        let mut space = Space::open_with(dir.path(), LoadMode::OnDemand).unwrap();
        let err = space.list(&ListFilter::default()).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("snapshot.bin"), "{err}");
        // Later calls repeat why.
        let again = space.agenda(t(10)).unwrap_err();
        assert!(again.to_string().contains("snapshot.bin"), "{again}");
        space.shutdown();
        assert_eq!(std::fs::read(&snapshot).unwrap(), bytes);
    }

    #[test]
    fn a_removed_device_reads_the_agenda_but_has_no_reminders_cached_or_loaded() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut alex = busy_space(dir.path());
        let tablet_dir = tempfile::TempDir::new().unwrap();
        let tablet_id = DeviceIdentity::load_or_create(tablet_dir.path())
            .unwrap()
            .device_id();
        alex.add_device(&tablet_id, "tablet", t(30)).unwrap();
        let doc = alex.export_document().unwrap();
        let mut tablet = Space::join(tablet_dir.path(), &doc).unwrap();
        assert!(tablet
            .upcoming_reminders(t(40), None, 5, Duration::days(3))
            .is_ok());
        alex.remove_device(&tablet_id, t(41)).unwrap();
        let heads = tablet.heads().unwrap();
        let changes = alex.changes_since(&heads).unwrap();
        tablet.apply_changes(&changes).unwrap();
        let stranger = |e: Error| matches!(e, Error::NotAMember(_));
        assert!(stranger(
            tablet
                .upcoming_reminders(t(42), None, 5, Duration::days(3))
                .unwrap_err()
        ));
        let agenda = tablet.agenda(t(42)).unwrap();
        tablet.shutdown();
        let mut tablet = Space::open_with(tablet_dir.path(), LoadMode::OnDemand).unwrap();
        assert!(stranger(
            tablet
                .upcoming_reminders(t(42), None, 5, Duration::days(3))
                .unwrap_err()
        ));
        assert_eq!(tablet.agenda(t(42)).unwrap(), agenda);
        assert!(matches!(tablet.doc, DocState::NotLoaded(_)));
    }

    #[test]
    fn a_cache_without_the_agenda_or_a_stale_one_waits_for_the_load() {
        let dir = tempfile::TempDir::new().unwrap();
        let space = busy_space(dir.path());
        space.shutdown();
        let view = dir.path().join("view.json");
        // A cache written by an earlier build has no agenda: the agenda waits for the load.
        let mut cache: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&view).unwrap()).unwrap();
        cache.as_object_mut().unwrap().remove("agenda");
        std::fs::write(&view, serde_json::to_vec(&cache).unwrap()).unwrap();
        let mut space = Space::open(dir.path()).unwrap();
        let agenda = space.agenda(t(10)).unwrap();
        assert!(space.derived.is_some());
        assert_eq!(agenda.open_concerns.len(), 1);
        // A stale cache (another concern raised since) is not used.
        let stale = std::fs::read(&view).unwrap();
        space
            .raise_concern(concern(None, "and this"), t(11))
            .unwrap();
        space.shutdown();
        std::fs::write(&view, stale).unwrap();
        let mut space = Space::open(dir.path()).unwrap();
        assert_eq!(space.agenda(t(12)).unwrap().open_concerns.len(), 2);
        assert!(space.derived.is_some());
        space.shutdown();
        // A cache written for another log (e.g. before a frame that only added checkpoints,
        // which leaves the heads as they were) is not used either.
        let mut cache: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&view).unwrap()).unwrap();
        let frames = cache["log_frames"].as_u64().unwrap();
        cache["log_frames"] = serde_json::json!(frames + 1);
        std::fs::write(&view, serde_json::to_vec(&cache).unwrap()).unwrap();
        let mut space = Space::open(dir.path()).unwrap();
        space.agenda(t(12)).unwrap();
        assert!(space.derived.is_some());
    }
}
