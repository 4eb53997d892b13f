//! The reminder schedule: which reminders a partner should see next.
//!
//! [`upcoming`] is a pure, deterministic computation over typed inputs ([`ScheduleInput`]):
//! no I/O and no clock reads (`now` is passed in), so every device computes the same
//! reminders with the same ids from the same document.
//!
//! # What reminds whom
//!
//! * **Commitments** ([`ReminderKind::Commitment`]): every occurrence of a [`CommitmentRule`],
//!   for agreements whose status is `active` or `needs_renegotiation` only (not drafts,
//!   proposals, conflicted or retired agreements: nothing both partners currently stand
//!   behind). Sent to the partners in the rule's [`Targets`]; it fires at the rule's own
//!   instant (the rule's time zone), the same instant for both partners.
//! * **Reviews** ([`ReminderKind::Review`]): an agreement (any status except retired) with a
//!   next review date reminds both partners on that date at [`ScheduleInput::review_time`] in
//!   each partner's own time zone, so partners in different zones get different instants.
//! * **Trial ends** ([`ReminderKind::ExperimentEnds`]): an experiment (not retired) reminds both
//!   partners on its end date (`experiment_ends`, else its next review date) at `review_time`
//!   local. When the end date equals the next review date, only this reminder is sent (no
//!   separate review reminder for the same day).
//! * **Check-ins** ([`ReminderKind::CheckIn`]): every occurrence of the couple's
//!   [`CheckInRitual`], both partners.
//! * **Concern nudges** ([`ReminderKind::ConcernNudge`]): an open concern not acknowledged
//!   [`ScheduleInput::concern_nudge_after`] after it was raised gently nudges the partner who
//!   did not raise it, once.
//!
//! # Due items fire at `now`
//!
//! Reviews, trial ends and concern nudges whose moment has passed (e.g. a review date before
//! today) fire at `now`, on every call, until they are marked done (or the data changes: a
//! new review date, an acknowledgment): the app keeps showing them. Their ids stay the same.
//! Past occurrences of recurring rules are not repeated.
//!
//! # Ids, done and snooze
//!
//! Every reminder has a stable [`Reminder::occurrence`] id (what it is about, without the
//! partner) and a [`Reminder::id`] (the occurrence for one partner). Both are the first 16
//! bytes, hex, of a SHA-256 over what the reminder is, so every call on every device gives
//! the same ids. [`Marks`] holds done occurrences (done by either partner hides it for both)
//! and per-partner snoozes keyed by reminder id. A snooze only ever delays: the reminder
//! fires at the snooze time instead (same id), and is left out when that lies beyond the
//! horizon.
//!
//! Invalid recurrence rules and unknown partner time zones do not fail the schedule: an
//! invalid rule reminds nobody, an unknown partner zone is treated as UTC.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::recurrence::{local_to_utc, Occurrence, Occurrences, RecurrenceRule};
use crate::agreement::{AgreementSummary, Concerns, Kind, Status, Strength};
use crate::ids::{AgreementId, ConcernId, PartnerId};

/// Domain separation prefix of every reminder key.
const KEY_DOMAIN: &str = "accord-reminder-v1";

/// Default delay after which an unacknowledged concern nudges the other partner (24 hours).
pub const DEFAULT_CONCERN_NUDGE_AFTER: Duration = Duration::hours(24);

/// Default local time at which reviews and trial ends fire (09:00).
pub const DEFAULT_REVIEW_TIME: NaiveTime = match NaiveTime::from_hms_opt(9, 0, 0) {
    Some(time) => time,
    None => NaiveTime::MIN,
};

/// A partner as the scheduler needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulePartner {
    /// Id.
    pub id: PartnerId,
    /// Display name, used in reminder texts.
    pub name: String,
    /// IANA time zone name, e.g. "Europe/Berlin" (unknown names are treated as UTC).
    pub time_zone: String,
}

/// Who a recurring commitment reminds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Targets {
    /// Both partners.
    Both,
    /// One partner only.
    Partner(PartnerId),
}

impl Targets {
    /// Whether `partner` is reminded.
    pub fn includes(&self, partner: &PartnerId) -> bool {
        match self {
            Targets::Both => true,
            Targets::Partner(p) => p == partner,
        }
    }
}

/// Who a commitment reminds unless its rule says otherwise: both partners when the agreement
/// concerns both, else only the partner it concerns (e.g. that partner's boundary or
/// intention). Every kind currently follows `concerns`; `kind` is taken so the policy can
/// differ per kind without changing callers.
pub fn default_targets(concerns: &Concerns, kind: Kind) -> Targets {
    let _ = kind;
    match concerns {
        Concerns::Both => Targets::Both,
        Concerns::Partner(p) => Targets::Partner(p.clone()),
    }
}

/// A recurring commitment attached to an agreement, e.g. "date night every Friday 19:00".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CommitmentRule {
    /// Stable rule id (part of every reminder id of the rule).
    pub id: String,
    /// The agreement the rule belongs to.
    pub agreement: AgreementId,
    /// When it repeats, in the rule's own time zone.
    pub rule: RecurrenceRule,
    /// Who is reminded (see [`default_targets`]).
    pub targets: Targets,
}

/// An agreement as the scheduler needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleAgreement {
    /// Title, status, kind, strength, who it concerns and next review date.
    pub summary: AgreementSummary,
    /// Last day of an experiment's trial period (experiments fall back to the next review date).
    pub experiment_ends: Option<NaiveDate>,
}

/// A concern as the scheduler needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleConcern {
    /// Id.
    pub id: ConcernId,
    /// The agreement it is about, if any (its title appears in the nudge).
    pub agreement: Option<AgreementId>,
    /// Who raised it.
    pub raised_by: PartnerId,
    /// When it was raised.
    pub raised_at: DateTime<Utc>,
    /// Whether the other partner has acknowledged it.
    pub acknowledged: bool,
    /// Whether it still needs attention (not resolved, not turned into a renegotiation).
    pub open: bool,
    /// What happened. Never shown in reminder texts (they may appear on a lock screen).
    pub what_happened: String,
}

/// The couple's check-in ritual.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInRitual {
    /// When check-ins happen.
    pub rule: RecurrenceRule,
}

/// A snooze of one partner's reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snooze {
    /// The reminder fires at this instant instead.
    pub until: DateTime<Utc>,
    /// When the reminder was due before it was first snoozed; finds snoozed occurrences of
    /// recurring rules whose own time has already passed.
    pub due: DateTime<Utc>,
}

/// What partners did with reminders: done occurrences and per-partner snoozes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marks {
    done: BTreeSet<String>,
    snoozes: BTreeMap<String, Snooze>,
}

impl Marks {
    /// No marks.
    pub fn new() -> Self {
        Marks::default()
    }

    /// Marks an occurrence ([`Reminder::occurrence`]) done: hidden for both partners.
    pub fn mark_done(&mut self, occurrence: impl Into<String>) {
        self.done.insert(occurrence.into());
    }

    /// Whether an occurrence is done.
    pub fn is_done(&self, occurrence: &str) -> bool {
        self.done.contains(occurrence)
    }

    /// Snoozes one partner's reminder until `until`. Snoozing again keeps the original due time.
    pub fn snooze(&mut self, reminder: &Reminder, until: DateTime<Utc>) {
        let due = self
            .snoozes
            .get(&reminder.id)
            .map_or(reminder.fires_at_utc, |s| s.due);
        self.snoozes
            .insert(reminder.id.clone(), Snooze { until, due });
    }

    /// Records a snooze of the reminder with id `reminder_id` (e.g. when loading stored marks).
    pub fn insert_snooze(&mut self, reminder_id: impl Into<String>, snooze: Snooze) {
        self.snoozes.insert(reminder_id.into(), snooze);
    }

    /// The snooze of a reminder, if any.
    pub fn snooze_of(&self, reminder_id: &str) -> Option<&Snooze> {
        self.snoozes.get(reminder_id)
    }

    /// Every done occurrence id, sorted.
    pub fn done(&self) -> impl Iterator<Item = &str> {
        self.done.iter().map(String::as_str)
    }

    /// Every snooze with its reminder id, sorted by id.
    pub fn snoozes(&self) -> impl Iterator<Item = (&str, &Snooze)> {
        self.snoozes.iter().map(|(id, s)| (id.as_str(), s))
    }
}

/// Everything the schedule is computed from.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleInput<'a> {
    /// The partners of the space.
    pub partners: &'a [SchedulePartner],
    /// The agreements (any status).
    pub agreements: &'a [ScheduleAgreement],
    /// Recurring commitments of agreements.
    pub rules: &'a [CommitmentRule],
    /// Concerns (any state).
    pub concerns: &'a [ScheduleConcern],
    /// The check-in ritual, if set.
    pub checkin: Option<&'a CheckInRitual>,
    /// Done and snoozed reminders.
    pub marks: &'a Marks,
    /// How long after it was raised an unacknowledged concern nudges the other partner.
    pub concern_nudge_after: Duration,
    /// Local time (in each partner's zone) at which reviews and trial ends fire.
    pub review_time: NaiveTime,
}

impl<'a> ScheduleInput<'a> {
    /// An input without check-in ritual, nudging after 24 hours and reviewing at 09:00.
    pub fn new(
        partners: &'a [SchedulePartner],
        agreements: &'a [ScheduleAgreement],
        rules: &'a [CommitmentRule],
        concerns: &'a [ScheduleConcern],
        marks: &'a Marks,
    ) -> Self {
        ScheduleInput {
            partners,
            agreements,
            rules,
            concerns,
            checkin: None,
            marks,
            concern_nudge_after: DEFAULT_CONCERN_NUDGE_AFTER,
            review_time: DEFAULT_REVIEW_TIME,
        }
    }
}

/// What a reminder leads to when tapped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ReminderTarget {
    /// An agreement.
    Agreement(AgreementId),
    /// A concern.
    Concern(ConcernId),
    /// The check-in.
    CheckIn,
}

/// What a reminder is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ReminderKind {
    /// An occurrence of a recurring commitment.
    Commitment,
    /// An agreement is due for review.
    Review,
    /// An occurrence of the check-in ritual.
    CheckIn,
    /// A concern has waited for acknowledgment.
    ConcernNudge,
    /// An experiment's trial period ends.
    ExperimentEnds,
}

impl ReminderKind {
    /// Stable text, e.g. `concern_nudge`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderKind::Commitment => "commitment",
            ReminderKind::Review => "review",
            ReminderKind::CheckIn => "check_in",
            ReminderKind::ConcernNudge => "concern_nudge",
            ReminderKind::ExperimentEnds => "experiment_ends",
        }
    }
}

/// A moment a partner should be reminded, ready to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Reminder {
    /// Stable id of this reminder for this partner (snoozes are keyed by it).
    pub id: String,
    /// Stable id of what it is about, shared by both partners (done is keyed by it).
    pub occurrence: String,
    /// What it is about.
    pub kind: ReminderKind,
    /// The partner reminded.
    pub partner: PartnerId,
    /// When it fires.
    pub fires_at_utc: DateTime<Utc>,
    /// When it fires, on the wall clock of the partner's time zone.
    pub fires_at_local: NaiveDateTime,
    /// The partner's IANA time zone used for `fires_at_local`.
    pub time_zone: String,
    /// Title, ready to show.
    pub title: String,
    /// Body text, ready to show.
    pub body: String,
    /// What it leads to.
    pub target: ReminderTarget,
}

/// First 16 bytes (hex) of a SHA-256 over length-prefixed parts.
fn key(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(&hasher.finalize()[..16])
}

/// Local date and nominal minute as text, e.g. `2027-01-08T19:00`.
fn local_stamp(date: NaiveDate, time: NaiveTime) -> String {
    format!("{date}T{:02}:{:02}", time.hour(), time.minute())
}

/// Occurrence id of a commitment rule's occurrence (local date and nominal local time in the
/// rule's zone, see [`Occurrence`]).
pub fn commitment_occurrence(
    rule_id: &str,
    local_date: NaiveDate,
    local_time: NaiveTime,
) -> String {
    key(&[
        KEY_DOMAIN,
        ReminderKind::Commitment.as_str(),
        rule_id,
        &local_stamp(local_date, local_time),
    ])
}

/// Occurrence id of a check-in ritual occurrence (local date and nominal local time).
pub fn checkin_occurrence(local_date: NaiveDate, local_time: NaiveTime) -> String {
    key(&[
        KEY_DOMAIN,
        ReminderKind::CheckIn.as_str(),
        &local_stamp(local_date, local_time),
    ])
}

/// Occurrence id of an agreement's review on `date`.
pub fn review_occurrence(agreement: &AgreementId, date: NaiveDate) -> String {
    key(&[
        KEY_DOMAIN,
        ReminderKind::Review.as_str(),
        agreement.as_str(),
        &date.to_string(),
    ])
}

/// Occurrence id of the end of an experiment's trial period on `date`.
pub fn experiment_occurrence(agreement: &AgreementId, date: NaiveDate) -> String {
    key(&[
        KEY_DOMAIN,
        ReminderKind::ExperimentEnds.as_str(),
        agreement.as_str(),
        &date.to_string(),
    ])
}

/// Occurrence id of the nudge about a concern.
pub fn nudge_occurrence(concern: &ConcernId) -> String {
    key(&[
        KEY_DOMAIN,
        ReminderKind::ConcernNudge.as_str(),
        concern.as_str(),
    ])
}

/// Reminder id of an occurrence for one partner.
pub fn reminder_id(occurrence: &str, partner: &PartnerId) -> String {
    key(&[KEY_DOMAIN, "reminder", occurrence, partner.as_str()])
}

/// Whether an agreement's recurring commitments remind.
fn reminds_commitments(status: Status) -> bool {
    matches!(status, Status::Active | Status::NeedsRenegotiation)
}

/// Where the occurrences of a recurring source come from.
#[derive(Clone, Copy)]
enum Origin<'a> {
    Commitment {
        rule: &'a CommitmentRule,
        agreement: &'a ScheduleAgreement,
    },
    CheckIn,
}

impl<'a> Origin<'a> {
    fn subject(self, occ: &Occurrence) -> Subject<'a> {
        match self {
            Origin::Commitment { rule, agreement } => Subject::Commitment {
                rule,
                agreement,
                date: occ.local_date,
                time: occ.local_time,
            },
            Origin::CheckIn => Subject::CheckIn {
                date: occ.local_date,
                time: occ.local_time,
            },
        }
    }
}

/// A recurring source: its lazy occurrences and what they are.
struct Source<'a> {
    occurrences: Occurrences,
    origin: Origin<'a>,
}

/// What one reminder is about.
#[derive(Clone, Copy)]
enum Subject<'a> {
    Commitment {
        rule: &'a CommitmentRule,
        agreement: &'a ScheduleAgreement,
        date: NaiveDate,
        time: NaiveTime,
    },
    CheckIn {
        date: NaiveDate,
        time: NaiveTime,
    },
    Review {
        agreement: &'a ScheduleAgreement,
        date: NaiveDate,
    },
    ExperimentEnds {
        agreement: &'a ScheduleAgreement,
        date: NaiveDate,
        ended: bool,
    },
    ConcernNudge {
        concern: &'a ScheduleConcern,
        raised_by: &'a str,
        about: Option<&'a str>,
    },
}

impl Subject<'_> {
    fn kind(&self) -> ReminderKind {
        match self {
            Subject::Commitment { .. } => ReminderKind::Commitment,
            Subject::CheckIn { .. } => ReminderKind::CheckIn,
            Subject::Review { .. } => ReminderKind::Review,
            Subject::ExperimentEnds { .. } => ReminderKind::ExperimentEnds,
            Subject::ConcernNudge { .. } => ReminderKind::ConcernNudge,
        }
    }

    fn occurrence(&self) -> String {
        match self {
            Subject::Commitment {
                rule, date, time, ..
            } => commitment_occurrence(&rule.id, *date, *time),
            Subject::CheckIn { date, time } => checkin_occurrence(*date, *time),
            Subject::Review { agreement, date } => review_occurrence(&agreement.summary.id, *date),
            Subject::ExperimentEnds {
                agreement, date, ..
            } => experiment_occurrence(&agreement.summary.id, *date),
            Subject::ConcernNudge { concern, .. } => nudge_occurrence(&concern.id),
        }
    }

    fn target(&self) -> ReminderTarget {
        match self {
            Subject::Commitment { agreement, .. }
            | Subject::Review { agreement, .. }
            | Subject::ExperimentEnds { agreement, .. } => {
                ReminderTarget::Agreement(agreement.summary.id.clone())
            }
            Subject::CheckIn { .. } => ReminderTarget::CheckIn,
            Subject::ConcernNudge { concern, .. } => ReminderTarget::Concern(concern.id.clone()),
        }
    }

    /// Title and body; `fires_at` dates the nudge's "a day ago".
    fn texts(&self, fires_at: DateTime<Utc>) -> (String, String) {
        match self {
            Subject::Commitment { agreement, .. } => {
                let title = &agreement.summary.title;
                let body = match agreement.summary.kind {
                    Kind::Agreement => format!("Time for: {title} (you both agreed)"),
                    Kind::Boundary => format!("A gentle reminder: {title} (a boundary)"),
                    Kind::Expectation => format!("Time for: {title} (an expectation)"),
                    Kind::Intention => {
                        format!("Time for: {title} (an intention: trying your best is enough)")
                    }
                };
                (title.clone(), body)
            }
            Subject::CheckIn { .. } => (
                "Check-in".to_owned(),
                "Time for your check-in together.".to_owned(),
            ),
            Subject::Review { agreement, .. } => {
                let title = &agreement.summary.title;
                (
                    format!("Review: {title}"),
                    format!(
                        "Time to look at “{title}” together and see whether it still works for you both."
                    ),
                )
            }
            Subject::ExperimentEnds {
                agreement, ended, ..
            } => {
                let title = &agreement.summary.title;
                let when = if *ended { "has ended" } else { "ends today" };
                (
                    format!("Trial ends: {title}"),
                    format!(
                        "The trial of “{title}” {when}. Talk together about how it went: keep it, change it, or let it go."
                    ),
                )
            }
            Subject::ConcernNudge {
                concern,
                raised_by,
                about,
            } => {
                let ago = ago(fires_at.signed_duration_since(concern.raised_at));
                let about = about.map(|t| format!(" about “{t}”")).unwrap_or_default();
                (
                    format!("A concern from {raised_by}"),
                    format!(
                        "{raised_by} raised a concern{about} {ago}. When you're ready, take a look."
                    ),
                )
            }
        }
    }
}

/// A gentle "how long ago": hours, then days, then "a while ago".
fn ago(elapsed: Duration) -> String {
    let hours = elapsed.num_hours();
    let days = elapsed.num_days();
    if hours < 1 {
        "recently".to_owned()
    } else if hours == 1 {
        "an hour ago".to_owned()
    } else if hours < 24 {
        format!("{hours} hours ago")
    } else if days == 1 {
        "a day ago".to_owned()
    } else if days < 7 {
        format!("{days} days ago")
    } else {
        "a while ago".to_owned()
    }
}

/// A pending reminder in the merge.
enum Item<'a> {
    /// An occurrence of `sources[source]`; `advance` pulls the source's next occurrence.
    Rule {
        source: usize,
        occ: Occurrence,
        advance: bool,
    },
    /// A one-off reminder (review, trial end, nudge) due at the entry's time.
    Single(Subject<'a>),
    /// A snoozed reminder, final.
    Ready(Box<Reminder>),
}

/// A heap entry ordered by earliest time first (then insertion order).
struct Entry<'a> {
    at: DateTime<Utc>,
    seq: u64,
    item: Item<'a>,
}

impl PartialEq for Entry<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.seq == other.seq
    }
}

impl Eq for Entry<'_> {}

impl PartialOrd for Entry<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap.
        other
            .at
            .cmp(&self.at)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// The min-heap of pending reminders.
struct Queue<'a> {
    heap: BinaryHeap<Entry<'a>>,
    seq: u64,
}

impl<'a> Queue<'a> {
    fn push(&mut self, at: DateTime<Utc>, item: Item<'a>) {
        self.seq += 1;
        self.heap.push(Entry {
            at,
            seq: self.seq,
            item,
        });
    }
}

/// The partner being scheduled for.
struct Recipient<'a> {
    id: &'a PartnerId,
    tz: Tz,
    time_zone: String,
}

impl Recipient<'_> {
    fn reminder(
        &self,
        subject: &Subject<'_>,
        id: String,
        occurrence: String,
        fires_at: DateTime<Utc>,
    ) -> Reminder {
        let (title, body) = subject.texts(fires_at);
        Reminder {
            id,
            occurrence,
            kind: subject.kind(),
            partner: self.id.clone(),
            fires_at_utc: fires_at,
            fires_at_local: fires_at.with_timezone(&self.tz).naive_local(),
            time_zone: self.time_zone.clone(),
            title,
            body,
            target: subject.target(),
        }
    }
}

/// The next reminders of `partner`: those firing in `[now, now + horizon]` (plus due reviews,
/// trial ends and nudges, which fire at `now`), done ones left out, snoozed ones moved,
/// sorted by `(fires_at_utc, id)` and at most `limit`.
///
/// Lazy: rules are merged in time order and only the reminders needed are built, so the cost
/// grows with `limit` and the number of rules, not with the horizon. An unknown `partner`
/// gets no reminders.
pub fn upcoming(
    input: &ScheduleInput<'_>,
    now: DateTime<Utc>,
    partner: &PartnerId,
    limit: usize,
    horizon: Duration,
) -> Vec<Reminder> {
    if limit == 0 {
        return Vec::new();
    }
    let Some(me) = input.partners.iter().find(|p| &p.id == partner) else {
        return Vec::new();
    };
    let end = now
        .checked_add_signed(horizon)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    if end < now {
        return Vec::new();
    }
    let recipient = match Tz::from_str(&me.time_zone) {
        Ok(tz) => Recipient {
            id: partner,
            tz,
            time_zone: me.time_zone.clone(),
        },
        Err(_) => Recipient {
            id: partner,
            tz: Tz::UTC,
            time_zone: "UTC".to_owned(),
        },
    };
    let today = now.with_timezone(&recipient.tz).date_naive();
    let marks = input.marks;
    let mut queue = Queue {
        heap: BinaryHeap::new(),
        seq: 0,
    };

    // Snoozed occurrences of recurring rules whose own time has passed.
    let past_dues: BTreeSet<DateTime<Utc>> = marks
        .snoozes
        .values()
        .filter(|s| s.due < now && s.until >= now)
        .map(|s| s.due)
        .collect();

    let agreements: HashMap<&str, &ScheduleAgreement> = input
        .agreements
        .iter()
        .map(|a| (a.summary.id.as_str(), a))
        .collect();

    // Recurring sources: commitments and the check-in ritual.
    let mut sources: Vec<Source<'_>> = Vec::new();
    let mut add_source = |rule: &RecurrenceRule, origin| {
        let Ok(mut occurrences) = rule.occurrences_from(now) else {
            return;
        };
        let index = sources.len();
        if let Some(occ) = occurrences.next() {
            if occ.fires_at <= end {
                queue.push(
                    occ.fires_at,
                    Item::Rule {
                        source: index,
                        occ,
                        advance: true,
                    },
                );
            }
        }
        for &due in &past_dues {
            if let Ok(Some(occ)) = rule.next_occurrence(due) {
                if occ.fires_at == due {
                    queue.push(
                        due,
                        Item::Rule {
                            source: index,
                            occ,
                            advance: false,
                        },
                    );
                }
            }
        }
        sources.push(Source {
            occurrences,
            origin,
        });
    };
    for rule in input.rules {
        if !rule.targets.includes(partner) {
            continue;
        }
        let Some(&agreement) = agreements.get(rule.agreement.as_str()) else {
            continue;
        };
        if reminds_commitments(agreement.summary.status) {
            add_source(&rule.rule, Origin::Commitment { rule, agreement });
        }
    }
    if let Some(ritual) = input.checkin {
        add_source(&ritual.rule, Origin::CheckIn);
    }

    // One-off reminders: due ones fire at `now`.
    let mut single = |subject, due: DateTime<Utc>| {
        let at = due.max(now);
        if at <= end {
            queue.push(at, Item::Single(subject));
        }
    };
    for agreement in input.agreements {
        let summary = &agreement.summary;
        if summary.status == Status::Retired {
            continue;
        }
        let trial_end = (summary.strength == Strength::Experiment)
            .then(|| agreement.experiment_ends.or(summary.next_review))
            .flatten();
        if let Some(date) = trial_end {
            single(
                Subject::ExperimentEnds {
                    agreement,
                    date,
                    ended: date < today,
                },
                local_to_utc(recipient.tz, date, input.review_time),
            );
        }
        if let Some(date) = summary.next_review.filter(|d| Some(*d) != trial_end) {
            single(
                Subject::Review { agreement, date },
                local_to_utc(recipient.tz, date, input.review_time),
            );
        }
    }
    for concern in input.concerns {
        if !concern.open || concern.acknowledged || &concern.raised_by == partner {
            continue;
        }
        let raised_by = input
            .partners
            .iter()
            .find(|p| p.id == concern.raised_by)
            .map_or("Your partner", |p| p.name.as_str());
        let about = concern
            .agreement
            .as_ref()
            .and_then(|id| agreements.get(id.as_str()))
            .map(|a| a.summary.title.as_str());
        let due = concern
            .raised_at
            .checked_add_signed(input.concern_nudge_after)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        single(
            Subject::ConcernNudge {
                concern,
                raised_by,
                about,
            },
            due,
        );
    }

    // Merge in time order; items come out sorted by time, so stop once `limit` are found
    // and the next one is later than the last found.
    let mut found: Vec<Reminder> = Vec::new();
    while let Some(Entry { at, item, .. }) = queue.heap.pop() {
        if at > end {
            break;
        }
        if found.len() >= limit && found.last().is_some_and(|r| at > r.fires_at_utc) {
            break;
        }
        let subject = match item {
            Item::Ready(reminder) => {
                found.push(*reminder);
                continue;
            }
            Item::Single(subject) => subject,
            Item::Rule {
                source,
                occ,
                advance,
            } => {
                let Some(src) = sources.get_mut(source) else {
                    continue;
                };
                if advance {
                    if let Some(next) = src.occurrences.next() {
                        if next.fires_at <= end {
                            queue.push(
                                next.fires_at,
                                Item::Rule {
                                    source,
                                    occ: next,
                                    advance: true,
                                },
                            );
                        }
                    }
                }
                src.origin.subject(&occ)
            }
        };
        let occurrence = subject.occurrence();
        if marks.is_done(&occurrence) {
            continue;
        }
        let id = reminder_id(&occurrence, partner);
        match marks.snooze_of(&id) {
            Some(snooze) if snooze.until > at => {
                if snooze.until >= now && snooze.until <= end {
                    let reminder = recipient.reminder(&subject, id, occurrence, snooze.until);
                    queue.push(snooze.until, Item::Ready(Box::new(reminder)));
                }
            }
            _ if at < now => {}
            _ => found.push(recipient.reminder(&subject, id, occurrence, at)),
        }
    }
    found.sort_by(|a, b| {
        a.fires_at_utc
            .cmp(&b.fires_at_utc)
            .then_with(|| a.id.cmp(&b.id))
    });
    found.truncate(limit);
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::{Category, StandardCategory};
    use crate::reminders::recurrence::{Frequency, Weekday};

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid test time")
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        date(y, mo, d).and_time(hm(h, mi)).and_utc()
    }

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        date(y, mo, d).and_time(hm(h, mi))
    }

    fn alex() -> PartnerId {
        PartnerId::from("alex")
    }

    fn sam() -> PartnerId {
        PartnerId::from("sam")
    }

    /// Monday 2027-01-04 12:00 UTC.
    fn now() -> DateTime<Utc> {
        utc(2027, 1, 4, 12, 0)
    }

    fn partners() -> Vec<SchedulePartner> {
        vec![
            SchedulePartner {
                id: alex(),
                name: "Alex".to_owned(),
                time_zone: "Europe/Berlin".to_owned(),
            },
            SchedulePartner {
                id: sam(),
                name: "Sam".to_owned(),
                time_zone: "America/New_York".to_owned(),
            },
        ]
    }

    fn agreement(id: &str, title: &str, status: Status, kind: Kind) -> ScheduleAgreement {
        ScheduleAgreement {
            summary: AgreementSummary {
                id: AgreementId::from(id),
                title: title.to_owned(),
                category: Category::Standard(StandardCategory::TimeTogether),
                kind,
                strength: Strength::Promise,
                concerns: Concerns::Both,
                status,
                accepted_by: vec![alex(), sam()],
                next_review: None,
                created_at: utc(2026, 12, 1, 0, 0),
            },
            experiment_ends: None,
        }
    }

    fn weekly(weekday: Weekday, time: NaiveTime, tz: &str) -> RecurrenceRule {
        RecurrenceRule {
            frequency: Frequency::Weekly {
                interval: 1,
                weekdays: vec![weekday],
            },
            time,
            time_zone: tz.to_owned(),
            start: date(2027, 1, 1),
            until: None,
        }
    }

    fn daily(time: NaiveTime, tz: &str) -> RecurrenceRule {
        RecurrenceRule {
            frequency: Frequency::Daily { interval: 1 },
            time,
            time_zone: tz.to_owned(),
            start: date(2027, 1, 1),
            until: None,
        }
    }

    fn commitment(
        id: &str,
        agreement: &str,
        rule: RecurrenceRule,
        targets: Targets,
    ) -> CommitmentRule {
        CommitmentRule {
            id: id.to_owned(),
            agreement: AgreementId::from(agreement),
            rule,
            targets,
        }
    }

    /// Owned inputs, built from scratch each time (like a second device would).
    struct Fixture {
        partners: Vec<SchedulePartner>,
        agreements: Vec<ScheduleAgreement>,
        rules: Vec<CommitmentRule>,
        concerns: Vec<ScheduleConcern>,
        checkin: Option<CheckInRitual>,
        marks: Marks,
    }

    impl Fixture {
        fn empty() -> Self {
            Fixture {
                partners: partners(),
                agreements: Vec::new(),
                rules: Vec::new(),
                concerns: Vec::new(),
                checkin: None,
                marks: Marks::new(),
            }
        }

        /// "Date night" (active, both), every Friday 19:00 Berlin, review on Sunday 2027-01-10.
        fn date_night() -> Self {
            let mut f = Fixture::empty();
            let mut a = agreement("a1", "Date night", Status::Active, Kind::Agreement);
            a.summary.next_review = Some(date(2027, 1, 10));
            f.agreements.push(a);
            f.rules.push(commitment(
                "r1",
                "a1",
                weekly(Weekday::Friday, hm(19, 0), "Europe/Berlin"),
                Targets::Both,
            ));
            f
        }

        fn input(&self) -> ScheduleInput<'_> {
            let mut input = ScheduleInput::new(
                &self.partners,
                &self.agreements,
                &self.rules,
                &self.concerns,
                &self.marks,
            );
            input.checkin = self.checkin.as_ref();
            input
        }

        fn at(&self, now: DateTime<Utc>, partner: &PartnerId, days: i64) -> Vec<Reminder> {
            upcoming(&self.input(), now, partner, 64, Duration::days(days))
        }

        fn run(&self, partner: &PartnerId, days: i64) -> Vec<Reminder> {
            self.at(now(), partner, days)
        }
    }

    /// (kind, fires_at_utc, fires_at_local) of each reminder.
    fn when(reminders: &[Reminder]) -> Vec<(ReminderKind, DateTime<Utc>, NaiveDateTime)> {
        reminders
            .iter()
            .map(|r| (r.kind, r.fires_at_utc, r.fires_at_local))
            .collect()
    }

    #[test]
    fn partners_in_different_zones() {
        let f = Fixture::date_night();
        let a = f.run(&alex(), 7);
        let s = f.run(&sam(), 7);
        // The weekly rule fires at its own instant (19:00 Berlin) once per partner; the review
        // fires at 09:00 in each partner's own zone.
        assert_eq!(
            when(&a),
            vec![
                (
                    ReminderKind::Commitment,
                    utc(2027, 1, 8, 18, 0),
                    local(2027, 1, 8, 19, 0)
                ),
                (
                    ReminderKind::Review,
                    utc(2027, 1, 10, 8, 0),
                    local(2027, 1, 10, 9, 0)
                ),
            ]
        );
        assert_eq!(
            when(&s),
            vec![
                (
                    ReminderKind::Commitment,
                    utc(2027, 1, 8, 18, 0),
                    local(2027, 1, 8, 13, 0)
                ),
                (
                    ReminderKind::Review,
                    utc(2027, 1, 10, 14, 0),
                    local(2027, 1, 10, 9, 0)
                ),
            ]
        );
        assert_eq!(a[0].time_zone, "Europe/Berlin");
        assert_eq!(s[0].time_zone, "America/New_York");
        assert!(a.iter().all(|r| r.partner == alex()));
        assert!(s.iter().all(|r| r.partner == sam()));
        assert_eq!(a[0].title, "Date night");
        assert_eq!(a[0].body, "Time for: Date night (you both agreed)");
        assert_eq!(
            a[0].target,
            ReminderTarget::Agreement(AgreementId::from("a1"))
        );
        assert_eq!(a[1].title, "Review: Date night");
        assert_eq!(
            a[1].body,
            "Time to look at “Date night” together and see whether it still works for you both."
        );
        // Shared occurrences, separate reminder ids.
        assert_eq!(a[0].occurrence, s[0].occurrence);
        assert_eq!(a[1].occurrence, s[1].occurrence);
        assert_ne!(a[0].id, s[0].id);
        assert_ne!(a[1].id, s[1].id);
    }

    #[test]
    fn boundary_of_one_partner_reminds_only_that_partner() {
        assert_eq!(
            default_targets(&Concerns::Both, Kind::Agreement),
            Targets::Both
        );
        assert_eq!(
            default_targets(&Concerns::Partner(sam()), Kind::Boundary),
            Targets::Partner(sam())
        );
        assert_eq!(
            default_targets(&Concerns::Partner(alex()), Kind::Intention),
            Targets::Partner(alex())
        );

        let mut f = Fixture::empty();
        let mut b = agreement(
            "b1",
            "Confidences stay between us",
            Status::Active,
            Kind::Boundary,
        );
        b.summary.concerns = Concerns::Partner(sam());
        let targets = default_targets(&b.summary.concerns, b.summary.kind);
        f.agreements.push(b);
        f.rules.push(commitment(
            "rb",
            "b1",
            weekly(Weekday::Monday, hm(18, 0), "America/New_York"),
            targets,
        ));
        assert_eq!(f.run(&alex(), 14), vec![]);
        let s = f.run(&sam(), 14);
        assert_eq!(
            when(&s),
            vec![
                (
                    ReminderKind::Commitment,
                    utc(2027, 1, 4, 23, 0),
                    local(2027, 1, 4, 18, 0)
                ),
                (
                    ReminderKind::Commitment,
                    utc(2027, 1, 11, 23, 0),
                    local(2027, 1, 11, 18, 0)
                ),
            ]
        );
        assert_eq!(
            s[0].body,
            "A gentle reminder: Confidences stay between us (a boundary)"
        );

        // The rule can override who is reminded.
        f.rules[0].targets = Targets::Both;
        assert_eq!(f.run(&alex(), 14).len(), 2);
    }

    #[test]
    fn ids_are_stable_across_calls_and_devices() {
        let device_a = Fixture::date_night();
        let device_b = Fixture::date_night();
        let first = device_a.run(&alex(), 7);
        assert_eq!(first, device_a.run(&alex(), 7));
        assert_eq!(first, device_b.run(&alex(), 7));
        // A later `now` keeps the ids of the same occurrences.
        let later = device_b.at(utc(2027, 1, 6, 0, 0), &alex(), 7);
        assert_eq!(later[0].id, first[0].id);
        assert_eq!(later[1].id, first[1].id);

        // Ids follow the documented derivation.
        let occurrence = commitment_occurrence("r1", date(2027, 1, 8), hm(19, 0));
        assert_eq!(first[0].occurrence, occurrence);
        assert_eq!(first[0].id, reminder_id(&occurrence, &alex()));
        assert_eq!(
            first[1].occurrence,
            review_occurrence(&AgreementId::from("a1"), date(2027, 1, 10))
        );
        assert_eq!(first[0].id.len(), 32);
        assert!(first[0].id.chars().all(|c| c.is_ascii_hexdigit()));
        // Pinned: changing the derivation would change ids already stored on devices.
        assert_eq!(occurrence, "d557906b6742722a01df389979d1a044");
        assert_eq!(first[0].id, "3e326276ea9e49ac9433ffb6a1d50658");
    }

    #[test]
    fn limit_is_respected() {
        let mut f = Fixture::date_night();
        f.rules[0].rule = daily(hm(19, 0), "Europe/Berlin");
        let all = f.run(&alex(), 30);
        assert_eq!(all.len(), 31); // 30 daily occurrences (Jan 4..Feb 2) and the review.
        let three = upcoming(&f.input(), now(), &alex(), 3, Duration::days(30));
        assert_eq!(
            three.iter().map(|r| r.fires_at_utc).collect::<Vec<_>>(),
            vec![
                utc(2027, 1, 4, 18, 0),
                utc(2027, 1, 5, 18, 0),
                utc(2027, 1, 6, 18, 0)
            ]
        );
        assert_eq!(three[..], all[..3]);
        assert_eq!(
            upcoming(&f.input(), now(), &alex(), 0, Duration::days(30)),
            vec![]
        );
    }

    #[test]
    fn horizon_is_respected() {
        let mut f = Fixture::date_night();
        f.rules[0].rule = daily(hm(19, 0), "Europe/Berlin");
        // [Mon 12:00, Thu 12:00]: three evenings, the review on Sunday is beyond.
        assert_eq!(
            f.run(&alex(), 3)
                .iter()
                .map(|r| r.fires_at_utc)
                .collect::<Vec<_>>(),
            vec![
                utc(2027, 1, 4, 18, 0),
                utc(2027, 1, 5, 18, 0),
                utc(2027, 1, 6, 18, 0)
            ]
        );
        // Both ends are inclusive.
        let input = f.input();
        let six_hours = upcoming(&input, now(), &alex(), 64, Duration::hours(6));
        assert_eq!(when(&six_hours)[0].1, utc(2027, 1, 4, 18, 0));
        assert_eq!(six_hours.len(), 1);
        assert_eq!(
            upcoming(&input, now(), &alex(), 64, Duration::minutes(359)),
            vec![]
        );
        assert_eq!(
            upcoming(&input, now(), &alex(), 64, Duration::hours(-1)),
            vec![]
        );
    }

    #[test]
    fn done_hides_it_for_both_partners() {
        let mut f = Fixture::date_night();
        let first = f.run(&alex(), 14);
        assert_eq!(first[0].fires_at_utc, utc(2027, 1, 8, 18, 0));
        // Alex marks Friday's date night done; Sam does not see it either.
        f.marks.mark_done(first[0].occurrence.clone());
        assert!(f.marks.is_done(&first[0].occurrence));
        for partner in [alex(), sam()] {
            let kinds_and_times: Vec<_> = f
                .run(&partner, 14)
                .iter()
                .map(|r| (r.kind, r.fires_at_utc))
                .collect();
            assert_ne!(kinds_and_times[0].1, utc(2027, 1, 8, 18, 0));
            assert!(kinds_and_times.contains(&(ReminderKind::Commitment, utc(2027, 1, 15, 18, 0))));
            assert!(!kinds_and_times.contains(&(ReminderKind::Commitment, utc(2027, 1, 8, 18, 0))));
        }
        // The review (done by Sam) disappears for Alex too.
        let review = f.run(&sam(), 14)[0].clone();
        assert_eq!(review.kind, ReminderKind::Review);
        f.marks.mark_done(review.occurrence);
        assert_eq!(
            when(&f.run(&alex(), 14)),
            vec![(
                ReminderKind::Commitment,
                utc(2027, 1, 15, 18, 0),
                local(2027, 1, 15, 19, 0)
            )]
        );
    }

    #[test]
    fn snooze_moves_only_that_partners_reminder() {
        let mut f = Fixture::date_night();
        let alex_friday = f.run(&alex(), 7)[0].clone();
        let sam_before = f.run(&sam(), 7);
        f.marks.snooze(&alex_friday, utc(2027, 1, 8, 20, 0));

        let a = f.run(&alex(), 7);
        assert_eq!(
            when(&a),
            vec![
                (
                    ReminderKind::Commitment,
                    utc(2027, 1, 8, 20, 0),
                    local(2027, 1, 8, 21, 0)
                ),
                (
                    ReminderKind::Review,
                    utc(2027, 1, 10, 8, 0),
                    local(2027, 1, 10, 9, 0)
                ),
            ]
        );
        assert_eq!(a[0].id, alex_friday.id);
        assert_eq!(f.run(&sam(), 7), sam_before);

        // After its own time has passed, the snoozed occurrence still comes at 20:00.
        let during = utc(2027, 1, 8, 18, 30);
        let a = f.at(during, &alex(), 7);
        assert_eq!(a[0].id, alex_friday.id);
        assert_eq!(a[0].fires_at_utc, utc(2027, 1, 8, 20, 0));
        assert_ne!(
            f.at(during, &sam(), 7)[0].fires_at_utc,
            utc(2027, 1, 8, 18, 0)
        );

        // Snoozing again keeps the original due time; a snooze beyond the horizon leaves it out.
        f.marks.snooze(&a[0], utc(2027, 1, 8, 22, 0));
        assert_eq!(
            f.marks.snooze_of(&alex_friday.id),
            Some(&Snooze {
                until: utc(2027, 1, 8, 22, 0),
                due: utc(2027, 1, 8, 18, 0)
            })
        );
        assert_eq!(
            f.at(during, &alex(), 7)[0].fires_at_utc,
            utc(2027, 1, 8, 22, 0)
        );
        let short = upcoming(&f.input(), during, &alex(), 64, Duration::hours(2));
        assert_eq!(short, vec![]);
        // Once the snooze has passed, the past occurrence is not shown again.
        assert_ne!(
            f.at(utc(2027, 1, 8, 22, 30), &alex(), 7)[0].id,
            alex_friday.id
        );
    }

    #[test]
    fn concern_nudge_once_to_the_other_partner() {
        let mut f = Fixture::date_night();
        f.agreements[0].summary.next_review = None;
        f.rules.clear();
        f.concerns.push(ScheduleConcern {
            id: ConcernId::from("c1"),
            agreement: None,
            raised_by: sam(),
            raised_at: utc(2027, 1, 4, 11, 0),
            acknowledged: false,
            open: true,
            what_happened: "You shared what I told you".to_owned(),
        });
        // Not for the partner who raised it.
        assert_eq!(f.run(&sam(), 7), vec![]);
        let a = f.run(&alex(), 7);
        assert_eq!(
            when(&a),
            vec![(
                ReminderKind::ConcernNudge,
                utc(2027, 1, 5, 11, 0),
                local(2027, 1, 5, 12, 0)
            )]
        );
        assert_eq!(a[0].title, "A concern from Sam");
        assert_eq!(
            a[0].body,
            "Sam raised a concern a day ago. When you're ready, take a look."
        );
        assert_eq!(a[0].target, ReminderTarget::Concern(ConcernId::from("c1")));
        assert_eq!(a[0].occurrence, nudge_occurrence(&ConcernId::from("c1")));
        // Before 24 hours with a short horizon: nothing yet.
        assert_eq!(f.at(now(), &alex(), 0), vec![]);

        // Once due it fires at `now`, with the same id, until acknowledged.
        let later = utc(2027, 1, 6, 12, 0);
        let a2 = f.at(later, &alex(), 7);
        assert_eq!(a2.len(), 1);
        assert_eq!(a2[0].id, a[0].id);
        assert_eq!(a2[0].fires_at_utc, later);
        assert_eq!(
            a2[0].body,
            "Sam raised a concern 2 days ago. When you're ready, take a look."
        );

        // About an agreement: its title is named.
        f.concerns[0].agreement = Some(AgreementId::from("a1"));
        assert_eq!(
            f.run(&alex(), 7)[0].body,
            "Sam raised a concern about “Date night” a day ago. When you're ready, take a look."
        );

        f.concerns[0].acknowledged = true;
        assert_eq!(f.at(later, &alex(), 7), vec![]);
        f.concerns[0].acknowledged = false;
        f.concerns[0].open = false;
        assert_eq!(f.at(later, &alex(), 7), vec![]);
    }

    #[test]
    fn retired_agreements_do_not_remind() {
        let mut f = Fixture::date_night();
        f.agreements[0].summary.status = Status::Retired;
        f.agreements[0].summary.strength = Strength::Experiment;
        f.agreements[0].experiment_ends = Some(date(2027, 1, 9));
        f.checkin = None;
        assert_eq!(f.run(&alex(), 30), vec![]);
        assert_eq!(f.run(&sam(), 30), vec![]);

        // Drafts, proposals and conflicted agreements get reviews but no commitment reminders.
        for status in [Status::Draft, Status::Proposed, Status::Conflicted] {
            let mut f = Fixture::date_night();
            f.agreements[0].summary.status = status;
            assert_eq!(
                when(&f.run(&alex(), 7)),
                vec![(
                    ReminderKind::Review,
                    utc(2027, 1, 10, 8, 0),
                    local(2027, 1, 10, 9, 0)
                )]
            );
        }
        // Needs renegotiation still reminds of the commitment.
        let mut f = Fixture::date_night();
        f.agreements[0].summary.status = Status::NeedsRenegotiation;
        assert_eq!(f.run(&alex(), 7)[0].kind, ReminderKind::Commitment);
    }

    #[test]
    fn experiment_end_reminds_both() {
        let mut f = Fixture::empty();
        let mut e = agreement("e1", "Time-outs", Status::Active, Kind::Agreement);
        e.summary.strength = Strength::Experiment;
        e.summary.next_review = Some(date(2027, 1, 12));
        f.agreements.push(e);
        // Falls back to the review date; one reminder, not a review as well.
        let a = f.run(&alex(), 14);
        let s = f.run(&sam(), 14);
        assert_eq!(
            when(&a),
            vec![(
                ReminderKind::ExperimentEnds,
                utc(2027, 1, 12, 8, 0),
                local(2027, 1, 12, 9, 0)
            )]
        );
        assert_eq!(
            when(&s),
            vec![(
                ReminderKind::ExperimentEnds,
                utc(2027, 1, 12, 14, 0),
                local(2027, 1, 12, 9, 0)
            )]
        );
        assert_eq!(a[0].title, "Trial ends: Time-outs");
        assert_eq!(
            a[0].body,
            "The trial of “Time-outs” ends today. Talk together about how it went: keep it, change it, or let it go."
        );
        assert_eq!(
            a[0].occurrence,
            experiment_occurrence(&AgreementId::from("e1"), date(2027, 1, 12))
        );

        // An explicit end date, separate from the review.
        f.agreements[0].experiment_ends = Some(date(2027, 1, 7));
        assert_eq!(
            when(&f.run(&alex(), 14)),
            vec![
                (
                    ReminderKind::ExperimentEnds,
                    utc(2027, 1, 7, 8, 0),
                    local(2027, 1, 7, 9, 0)
                ),
                (
                    ReminderKind::Review,
                    utc(2027, 1, 12, 8, 0),
                    local(2027, 1, 12, 9, 0)
                ),
            ]
        );

        // Ended before today: fires now.
        f.agreements[0].experiment_ends = Some(date(2027, 1, 2));
        let a = f.run(&alex(), 1);
        assert_eq!(
            when(&a),
            vec![(
                ReminderKind::ExperimentEnds,
                now(),
                local(2027, 1, 4, 13, 0)
            )]
        );
        assert!(a[0].body.starts_with("The trial of “Time-outs” has ended."));
    }

    #[test]
    fn overdue_review_fires_now_until_done() {
        let mut f = Fixture::date_night();
        f.rules.clear();
        f.agreements[0].summary.next_review = Some(date(2027, 1, 1));
        let a = f.run(&alex(), 1);
        assert_eq!(
            when(&a),
            vec![(ReminderKind::Review, now(), local(2027, 1, 4, 13, 0))]
        );
        let later = f.at(utc(2027, 1, 5, 7, 0), &alex(), 1);
        assert_eq!(later[0].id, a[0].id);
        assert_eq!(later[0].fires_at_utc, utc(2027, 1, 5, 7, 0));
        // A snooze moves it; marked done, it is gone for both.
        f.marks.snooze(&a[0], utc(2027, 1, 4, 15, 0));
        assert_eq!(f.run(&alex(), 1)[0].fires_at_utc, utc(2027, 1, 4, 15, 0));
        assert_eq!(f.run(&sam(), 1)[0].fires_at_utc, now());
        f.marks.mark_done(a[0].occurrence.clone());
        assert_eq!(f.run(&alex(), 1), vec![]);
        assert_eq!(f.run(&sam(), 1), vec![]);
    }

    #[test]
    fn check_in_ritual_reminds_both() {
        let mut f = Fixture::empty();
        f.checkin = Some(CheckInRitual {
            rule: weekly(Weekday::Sunday, hm(20, 0), "Europe/Berlin"),
        });
        let a = f.run(&alex(), 7);
        let s = f.run(&sam(), 7);
        assert_eq!(
            when(&a),
            vec![(
                ReminderKind::CheckIn,
                utc(2027, 1, 10, 19, 0),
                local(2027, 1, 10, 20, 0)
            )]
        );
        assert_eq!(
            when(&s),
            vec![(
                ReminderKind::CheckIn,
                utc(2027, 1, 10, 19, 0),
                local(2027, 1, 10, 14, 0)
            )]
        );
        assert_eq!(a[0].title, "Check-in");
        assert_eq!(a[0].body, "Time for your check-in together.");
        assert_eq!(a[0].target, ReminderTarget::CheckIn);
        assert_eq!(
            a[0].occurrence,
            checkin_occurrence(date(2027, 1, 10), hm(20, 0))
        );
        assert_eq!(a[0].occurrence, s[0].occurrence);
    }

    #[test]
    fn check_in_keeps_local_time_across_dst() {
        let mut f = Fixture::empty();
        f.checkin = Some(CheckInRitual {
            rule: weekly(Weekday::Sunday, hm(20, 0), "Europe/Berlin"),
        });
        let from = utc(2027, 3, 20, 12, 0);
        let a = f.at(from, &alex(), 16);
        assert_eq!(
            when(&a),
            vec![
                (
                    ReminderKind::CheckIn,
                    utc(2027, 3, 21, 19, 0),
                    local(2027, 3, 21, 20, 0)
                ),
                (
                    ReminderKind::CheckIn,
                    utc(2027, 3, 28, 18, 0),
                    local(2027, 3, 28, 20, 0)
                ),
                (
                    ReminderKind::CheckIn,
                    utc(2027, 4, 4, 18, 0),
                    local(2027, 4, 4, 20, 0)
                ),
            ]
        );
        // New York already changed on 2027-03-14: Sam sees 15:00, then 14:00.
        let s = f.at(from, &sam(), 16);
        assert_eq!(
            s.iter().map(|r| r.fires_at_local).collect::<Vec<_>>(),
            vec![
                local(2027, 3, 21, 15, 0),
                local(2027, 3, 28, 14, 0),
                local(2027, 4, 4, 14, 0)
            ]
        );
    }

    #[test]
    fn unknown_partner_and_zone() {
        let mut f = Fixture::date_night();
        assert_eq!(f.run(&PartnerId::from("nobody"), 7), vec![]);
        f.partners[0].time_zone = "Mars/Olympus_Mons".to_owned();
        let a = f.run(&alex(), 7);
        assert_eq!(a[0].time_zone, "UTC");
        assert_eq!(a[0].fires_at_local, local(2027, 1, 8, 18, 0));
        assert_eq!(a[1].fires_at_utc, utc(2027, 1, 10, 9, 0));
        // An invalid rule reminds nobody (and does not fail the rest).
        f.rules[0].rule.time_zone = "Nowhere".to_owned();
        assert_eq!(when(&f.run(&alex(), 7)).len(), 1);
    }

    #[test]
    fn serde_is_snake_case_and_roundtrips() {
        let mut f = Fixture::date_night();
        f.checkin = Some(CheckInRitual {
            rule: weekly(Weekday::Sunday, hm(20, 0), "Europe/Berlin"),
        });
        f.concerns.push(ScheduleConcern {
            id: ConcernId::from("c1"),
            agreement: None,
            raised_by: sam(),
            raised_at: utc(2027, 1, 3, 10, 0),
            acknowledged: false,
            open: true,
            what_happened: String::new(),
        });
        let a = f.run(&alex(), 7);
        let json = serde_json::to_string(&a).expect("serialize");
        for needle in [
            r#""kind":"concern_nudge""#,
            r#""target":{"concern":"c1"}"#,
            r#""kind":"check_in","partner":"alex""#,
            r#""target":"check_in""#,
            r#""target":{"agreement":"a1"}"#,
            r#""fires_at_local":"2027-01-10T20:00:00""#,
        ] {
            assert!(json.contains(needle), "{needle} in {json}");
        }
        let back: Vec<Reminder> = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, a);

        f.marks.mark_done("x");
        f.marks.snooze(&a[0], utc(2027, 1, 4, 13, 0));
        let json = serde_json::to_string(&f.marks).expect("serialize");
        let back: Marks = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, f.marks);
        assert_eq!(back.done().collect::<Vec<_>>(), vec!["x"]);
        assert_eq!(back.snoozes().count(), 1);
        assert_eq!(
            serde_json::to_string(&Targets::Partner(sam())).expect("serialize"),
            r#"{"partner":"sam"}"#
        );
    }

    /// 500 agreements with daily rules at spread-out minutes, reviews and a few done marks.
    fn many() -> Fixture {
        let mut f = Fixture::empty();
        for i in 0..500u32 {
            let id = format!("a{i}");
            let mut a = agreement(
                &id,
                &format!("Agreement {i}"),
                Status::Active,
                Kind::Agreement,
            );
            a.summary.next_review = Some(date(2027, 1, 5 + i % 20));
            f.agreements.push(a);
            let tz = if i % 2 == 0 {
                "Europe/Berlin"
            } else {
                "America/New_York"
            };
            f.rules.push(commitment(
                &format!("r{i}"),
                &id,
                daily(hm(6 + i % 15, (i * 7) % 60), tz),
                Targets::Both,
            ));
        }
        f
    }

    #[test]
    fn many_agreements_lazy_merge_equals_full_computation() {
        let mut f = many();
        let full = upcoming(&f.input(), now(), &alex(), usize::MAX, Duration::days(3));
        assert_eq!(full.len(), 500 * 3 + 3 * 25);
        for limit in [1, 64, 700] {
            let some = upcoming(&f.input(), now(), &alex(), limit, Duration::days(3));
            assert_eq!(some[..], full[..limit]);
        }
        assert!(full
            .windows(2)
            .all(|w| (w[0].fires_at_utc, &w[0].id) < (w[1].fires_at_utc, &w[1].id)));
        // Done and snoozed items inside the first 64 keep the result exact.
        let first = upcoming(&f.input(), now(), &alex(), 64, Duration::days(3));
        f.marks.mark_done(first[0].occurrence.clone());
        f.marks.snooze(&first[1], utc(2027, 1, 6, 0, 0));
        let full = upcoming(&f.input(), now(), &alex(), usize::MAX, Duration::days(3));
        let some = upcoming(&f.input(), now(), &alex(), 64, Duration::days(3));
        assert_eq!(some[..], full[..64]);
        assert!(!full.iter().any(|r| r.occurrence == first[0].occurrence));
        assert!(full
            .iter()
            .any(|r| r.id == first[1].id && r.fires_at_utc == utc(2027, 1, 6, 0, 0)));
    }
}
