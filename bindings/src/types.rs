//! Records and enums mirroring the core's value types, with conversions.
//!
//! Conventions: instants are `i64` milliseconds since the Unix epoch (UTC); calendar dates are
//! `"YYYY-MM-DD"` strings; times of day are `"HH:MM"`; ids are their string form. A category is
//! its stored text (`"communication"`, `"time_together"`, ... or `"custom:NAME"`); who an
//! agreement concerns is `"both"` or `"partner:<partner id>"`.

use crate::AccordError;
use accord_core as ac;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> Result<DateTime<Utc>, AccordError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| AccordError::InvalidInput {
        message: format!("invalid time: {ms} is not a representable epoch millisecond"),
    })
}

pub(crate) fn date_str(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(crate) fn parse_date(field: &str, s: &str) -> Result<NaiveDate, AccordError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|e| AccordError::InvalidInput {
        message: format!("invalid {field}: {s:?} is not a YYYY-MM-DD date ({e})"),
    })
}

fn parse_time(s: &str) -> Result<NaiveTime, AccordError> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s.trim(), "%H:%M:%S"))
        .map_err(|e| AccordError::InvalidInput {
            message: format!("invalid time of day: {s:?} is not HH:MM ({e})"),
        })
}

fn parse_category(s: &str) -> Result<ac::Category, AccordError> {
    Ok(ac::Category::parse(s)?)
}

fn parse_concerns(s: &str) -> Result<ac::Concerns, AccordError> {
    ac::Concerns::from_stored(s.trim()).ok_or_else(|| AccordError::InvalidInput {
        message: format!("invalid concerns: {s:?} (use \"both\" or \"partner:<partner id>\")"),
    })
}

/// Declares a fieldless FFI enum mirroring a core enum, with conversions both ways.
macro_rules! mirror_enum {
    ($(#[$doc:meta])* $name:ident <=> $core:path { $($(#[$vdoc:meta])* $v:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
        pub enum $name {
            $($(#[$vdoc])* $v),+
        }
        impl From<$core> for $name {
            fn from(v: $core) -> Self {
                use $core as C;
                match v { $(C::$v => $name::$v),+ }
            }
        }
        impl From<$name> for $core {
            fn from(v: $name) -> Self {
                use $core as C;
                match v { $($name::$v => C::$v),+ }
            }
        }
    };
}

mirror_enum!(
    /// What sort of commitment an agreement is.
    Kind <=> ac::Kind {
        /// A mutual agreement.
        Agreement,
        /// A boundary one partner sets.
        Boundary,
        /// An expectation.
        Expectation,
        /// An intention.
        Intention,
    }
);
mirror_enum!(
    /// How firmly it is meant.
    Strength <=> ac::Strength {
        /// "I promise".
        Promise,
        /// "I'll try my best".
        TryMyBest,
        /// An experiment with an end date.
        Experiment,
    }
);
mirror_enum!(
    /// An agreement's derived status.
    Status <=> ac::Status {
        /// Not yet proposed.
        Draft,
        /// Proposed, waiting for acceptances.
        Proposed,
        /// Both partners accepted the exact words.
        Active,
        /// Someone asked to renegotiate.
        NeedsRenegotiation,
        /// Concurrent versions of its wording must be resolved.
        Conflicted,
        /// Retired.
        Retired,
    }
);
mirror_enum!(
    /// A field of an agreement.
    Field <=> ac::Field {
        /// Title.
        Title,
        /// Details text.
        Details,
        /// Kind.
        Kind,
        /// Strength.
        Strength,
        /// Who it concerns.
        Concerns,
        /// Category.
        Category,
        /// Review cadence.
        ReviewEvery,
        /// Next review date.
        NextReview,
    }
);
mirror_enum!(
    /// Unit of a review cadence.
    CadenceUnit <=> ac::CadenceUnit {
        /// Days.
        Days,
        /// Weeks.
        Weeks,
        /// Months.
        Months,
    }
);
mirror_enum!(
    /// Kind of follow-through log entry.
    LogKind <=> ac::LogKind {
        /// Kept the agreement.
        Kept,
        /// Missed it.
        Missed,
        /// A note.
        Note,
    }
);
mirror_enum!(
    /// Where a concern stands.
    ConcernState <=> ac::ConcernState {
        /// Raised, not acknowledged.
        Open,
        /// Acknowledged.
        Acknowledged,
        /// Responded to.
        Responded,
        /// Resolved.
        Resolved,
        /// Led to a renegotiation.
        Renegotiation,
    }
);
mirror_enum!(
    /// A step in a concern's repair.
    ConcernStep <=> ac::ConcernStep {
        /// Acknowledged.
        Acknowledged,
        /// Responded.
        Responded,
        /// Resolved.
        Resolved,
        /// Renegotiation requested.
        Renegotiation,
    }
);
mirror_enum!(
    /// State of a sealed position.
    PositionState <=> ac::PositionState {
        /// Being written (sealed).
        Draft,
        /// Ready, waiting for the partner's.
        Ready,
        /// Both ready: revealed.
        Revealed,
    }
);
mirror_enum!(
    /// What a reminder is about.
    ReminderKind <=> ac::reminders::schedule::ReminderKind {
        /// A recurring commitment.
        Commitment,
        /// An agreement's review is due.
        Review,
        /// The check-in ritual.
        CheckIn,
        /// A nudge about an unacknowledged concern.
        ConcernNudge,
        /// An experiment ends.
        ExperimentEnds,
    }
);
mirror_enum!(
    /// Day of the week.
    Weekday <=> ac::reminders::recurrence::Weekday {
        /// Monday.
        Monday,
        /// Tuesday.
        Tuesday,
        /// Wednesday.
        Wednesday,
        /// Thursday.
        Thursday,
        /// Friday.
        Friday,
        /// Saturday.
        Saturday,
        /// Sunday.
        Sunday,
    }
);
mirror_enum!(
    /// Which week of the month.
    WeekOfMonth <=> ac::reminders::recurrence::WeekOfMonth {
        /// First.
        First,
        /// Second.
        Second,
        /// Third.
        Third,
        /// Fourth.
        Fourth,
        /// Last.
        Last,
    }
);
mirror_enum!(
    /// What an invitation ticket lets the joining device become.
    InviteRole <=> ac::InviteRole {
        /// The other partner.
        Partner,
        /// Another device of the inviting partner.
        MyDevice,
        /// A partner returning on a new device.
        ReturningPartner,
    }
);

/// How a node reaches the couple's other devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum NetworkMode {
    /// n0 relays and internet address lookup plus local-network discovery.
    Production,
    /// No relays or internet lookup: LAN (with discovery) and loopback.
    Local,
    /// Loopback only (tests, demos on one machine).
    Loopback,
}

impl From<NetworkMode> for ac::NetworkConfig {
    fn from(m: NetworkMode) -> Self {
        match m {
            NetworkMode::Production => ac::NetworkConfig::production(),
            NetworkMode::Local => ac::NetworkConfig::local(),
            NetworkMode::Loopback => ac::NetworkConfig::loopback(),
        }
    }
}

/// How often an agreement is reviewed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReviewCadence {
    /// Every this many units.
    pub every: u32,
    /// The unit.
    pub unit: CadenceUnit,
}

impl From<ac::ReviewCadence> for ReviewCadence {
    fn from(c: ac::ReviewCadence) -> Self {
        ReviewCadence {
            every: c.every,
            unit: c.unit.into(),
        }
    }
}

impl TryFrom<ReviewCadence> for ac::ReviewCadence {
    type Error = AccordError;
    fn try_from(c: ReviewCadence) -> Result<Self, AccordError> {
        Ok(ac::ReviewCadence::new(c.every, c.unit.into())?)
    }
}

/// One agreement in a list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AgreementSummary {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Category (stored text, e.g. `"communication"` or `"custom:NAME"`).
    pub category: String,
    /// Human-readable category label.
    pub category_label: String,
    /// Kind.
    pub kind: Kind,
    /// Strength.
    pub strength: Strength,
    /// Who it concerns: `"both"` or `"partner:<id>"`.
    pub concerns: String,
    /// Derived status.
    pub status: Status,
    /// Partners whose acceptance of the current words is recorded.
    pub accepted_by: Vec<String>,
    /// Next review date (`YYYY-MM-DD`).
    pub next_review: Option<String>,
    /// Creation time (epoch ms, creating device's clock).
    pub created_at_ms: i64,
}

impl From<ac::AgreementSummary> for AgreementSummary {
    fn from(s: ac::AgreementSummary) -> Self {
        AgreementSummary {
            id: s.id.0,
            title: s.title,
            category_label: s.category.label().to_owned(),
            category: s.category.to_stored(),
            kind: s.kind.into(),
            strength: s.strength.into(),
            concerns: s.concerns.to_stored(),
            status: s.status.into(),
            accepted_by: s.accepted_by.into_iter().map(|p| p.0).collect(),
            next_review: s.next_review.map(date_str),
            created_at_ms: to_ms(s.created_at),
        }
    }
}

/// One concurrent value of a conflicted field.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Candidate {
    /// The value (as text).
    pub value: String,
    /// Who wrote it, if known.
    pub author: Option<String>,
    /// Which device, if known.
    pub device: Option<String>,
}

/// A field with concurrent versions.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FieldConflict {
    /// The field.
    pub field: Field,
    /// Its candidate values.
    pub candidates: Vec<Candidate>,
}

/// A recorded acceptance.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Acceptance {
    /// Who accepted.
    pub partner: String,
    /// From which device.
    pub device: String,
    /// Hash of the words accepted.
    pub content_hash: String,
    /// Whether it covers the current words.
    pub current: bool,
    /// When (epoch ms).
    pub at_ms: i64,
}

/// A field's value when accepted and now.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FieldChange {
    /// The field.
    pub field: Field,
    /// Value when accepted.
    pub accepted: String,
    /// Value now.
    pub now: String,
}

impl From<ac::FieldChange> for FieldChange {
    fn from(c: ac::FieldChange) -> Self {
        FieldChange {
            field: c.field.into(),
            accepted: c.accepted,
            now: c.now,
        }
    }
}

/// Changes since one partner's acceptance.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PartnerChanges {
    /// The partner.
    pub partner: String,
    /// What changed since they accepted.
    pub changes: Vec<FieldChange>,
}

/// Why and when an agreement was retired.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Retirement {
    /// Who retired it.
    pub partner: String,
    /// Why.
    pub reason: String,
    /// When (epoch ms).
    pub at_ms: i64,
}

/// Everything about one agreement.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AgreementDetails {
    /// The summary.
    pub summary: AgreementSummary,
    /// Details text.
    pub details: String,
    /// Hash of the current words (none while conflicted).
    pub content_hash: Option<String>,
    /// Review cadence.
    pub review_every: Option<ReviewCadence>,
    /// Creator.
    pub created_by: String,
    /// Fields with concurrent versions.
    pub conflicts: Vec<FieldConflict>,
    /// Acceptances.
    pub acceptances: Vec<Acceptance>,
    /// Changes since each partner's acceptance.
    pub changes_since_acceptance: Vec<PartnerChanges>,
    /// Retirement, if retired.
    pub retirement: Option<Retirement>,
    /// Whether renegotiation was requested.
    pub renegotiation_requested: bool,
}

impl From<ac::AgreementDetails> for AgreementDetails {
    fn from(d: ac::AgreementDetails) -> Self {
        AgreementDetails {
            summary: d.summary.into(),
            details: d.details,
            content_hash: d.content_hash,
            review_every: d.review_every.map(Into::into),
            created_by: d.created_by.0,
            conflicts: d
                .conflicts
                .into_iter()
                .map(|c| FieldConflict {
                    field: c.field.into(),
                    candidates: c
                        .candidates
                        .into_iter()
                        .map(|k| Candidate {
                            value: k.value,
                            author: k.author.map(|p| p.0),
                            device: k.device.map(|d| d.0),
                        })
                        .collect(),
                })
                .collect(),
            acceptances: d
                .acceptances
                .into_iter()
                .map(|a| Acceptance {
                    partner: a.partner.0,
                    device: a.device.0,
                    content_hash: a.content_hash,
                    current: a.current,
                    at_ms: to_ms(a.at),
                })
                .collect(),
            changes_since_acceptance: d
                .changes_since_acceptance
                .into_iter()
                .map(|(p, ch)| PartnerChanges {
                    partner: p.0,
                    changes: ch.into_iter().map(Into::into).collect(),
                })
                .collect(),
            retirement: d.retirement.map(|r| Retirement {
                partner: r.partner.0,
                reason: r.reason,
                at_ms: to_ms(r.at),
            }),
            renegotiation_requested: d.renegotiation_requested,
        }
    }
}

/// A new agreement to propose (or save as a draft).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewAgreement {
    /// Title.
    pub title: String,
    /// Details text.
    pub details: String,
    /// Category (`"communication"`, ... or `"custom:NAME"`).
    pub category: String,
    /// Kind.
    pub kind: Kind,
    /// Strength.
    pub strength: Strength,
    /// `"both"` or `"partner:<id>"`.
    pub concerns: String,
    /// Review cadence.
    pub review_every: Option<ReviewCadence>,
    /// Save as a draft instead of proposing.
    pub draft: bool,
}

impl TryFrom<NewAgreement> for ac::NewAgreement {
    type Error = AccordError;
    fn try_from(n: NewAgreement) -> Result<Self, AccordError> {
        Ok(ac::NewAgreement {
            title: n.title,
            details: n.details,
            category: parse_category(&n.category)?,
            kind: n.kind.into(),
            strength: n.strength.into(),
            concerns: parse_concerns(&n.concerns)?,
            review_every: n.review_every.map(TryInto::try_into).transpose()?,
            draft: n.draft,
        })
    }
}

/// An edit: only the fields that are set change.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct AgreementEdit {
    /// New title.
    #[uniffi(default = None)]
    pub title: Option<String>,
    /// New details.
    #[uniffi(default = None)]
    pub details: Option<String>,
    /// New category.
    #[uniffi(default = None)]
    pub category: Option<String>,
    /// New kind.
    #[uniffi(default = None)]
    pub kind: Option<Kind>,
    /// New strength.
    #[uniffi(default = None)]
    pub strength: Option<Strength>,
    /// New concerns (`"both"` or `"partner:<id>"`).
    #[uniffi(default = None)]
    pub concerns: Option<String>,
    /// New review cadence.
    #[uniffi(default = None)]
    pub review_every: Option<ReviewCadence>,
    /// Remove the review cadence (ignored when `review_every` is set).
    #[uniffi(default = false)]
    pub clear_review_every: bool,
    /// New next review date (`YYYY-MM-DD`).
    #[uniffi(default = None)]
    pub next_review: Option<String>,
}

impl TryFrom<AgreementEdit> for ac::AgreementEdit {
    type Error = AccordError;
    fn try_from(e: AgreementEdit) -> Result<Self, AccordError> {
        let review_every = match (e.review_every, e.clear_review_every) {
            (Some(c), _) => Some(Some(c.try_into()?)),
            (None, true) => Some(None),
            (None, false) => None,
        };
        Ok(ac::AgreementEdit {
            title: e.title,
            details: e.details,
            category: e.category.as_deref().map(parse_category).transpose()?,
            kind: e.kind.map(Into::into),
            strength: e.strength.map(Into::into),
            concerns: e.concerns.as_deref().map(parse_concerns).transpose()?,
            review_every,
            next_review: e
                .next_review
                .as_deref()
                .map(|d| parse_date("next review", d))
                .transpose()?,
        })
    }
}

/// A concern to raise.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewConcern {
    /// The agreement it is about, if any.
    pub agreement: Option<String>,
    /// What happened.
    pub what_happened: String,
    /// How I felt.
    pub how_i_felt: String,
    /// What I need.
    pub what_i_need: String,
}

impl From<NewConcern> for ac::NewConcern {
    fn from(n: NewConcern) -> Self {
        ac::NewConcern {
            agreement: n.agreement.map(ac::AgreementId),
            what_happened: n.what_happened,
            how_i_felt: n.how_i_felt,
            what_i_need: n.what_i_need,
        }
    }
}

/// A step in a concern's repair.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConcernEvent {
    /// Record id.
    pub id: String,
    /// The step.
    pub step: ConcernStep,
    /// Who.
    pub partner: String,
    /// Text (a response or reason).
    pub text: String,
    /// When (epoch ms).
    pub at_ms: i64,
}

/// A concern and its repair so far.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Concern {
    /// Id.
    pub id: String,
    /// The agreement it is about, if any.
    pub agreement: Option<String>,
    /// What happened.
    pub what_happened: String,
    /// How they felt.
    pub how_i_felt: String,
    /// What they need.
    pub what_i_need: String,
    /// Who raised it.
    pub raised_by: String,
    /// When (epoch ms).
    pub raised_at_ms: i64,
    /// Where it stands.
    pub state: ConcernState,
    /// Whether acknowledged.
    pub acknowledged: bool,
    /// Its steps.
    pub events: Vec<ConcernEvent>,
}

impl From<ac::Concern> for Concern {
    fn from(c: ac::Concern) -> Self {
        Concern {
            id: c.id.0,
            agreement: c.agreement.map(|a| a.0),
            what_happened: c.what_happened,
            how_i_felt: c.how_i_felt,
            what_i_need: c.what_i_need,
            raised_by: c.raised_by.0,
            raised_at_ms: to_ms(c.raised_at),
            state: c.state.into(),
            acknowledged: c.acknowledged,
            events: c
                .events
                .into_iter()
                .map(|e| ConcernEvent {
                    id: e.id.0,
                    step: e.step.into(),
                    partner: e.partner.0,
                    text: e.text,
                    at_ms: to_ms(e.at),
                })
                .collect(),
        }
    }
}

/// A follow-through log entry.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LogEntry {
    /// Record id.
    pub id: String,
    /// The agreement.
    pub agreement: String,
    /// Kind.
    pub kind: LogKind,
    /// Text.
    pub text: String,
    /// Who wrote it.
    pub author: String,
    /// When (epoch ms).
    pub at_ms: i64,
}

impl From<ac::LogEntry> for LogEntry {
    fn from(l: ac::LogEntry) -> Self {
        LogEntry {
            id: l.id.0,
            agreement: l.agreement.0,
            kind: l.kind.into(),
            text: l.text,
            author: l.author.0,
            at_ms: to_ms(l.at),
        }
    }
}

/// A recorded check-in.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CheckIn {
    /// Record id.
    pub id: String,
    /// Date held (`YYYY-MM-DD`).
    pub held_on: String,
    /// Notes.
    pub notes: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// When recorded (epoch ms).
    pub at_ms: i64,
}

impl From<ac::CheckIn> for CheckIn {
    fn from(c: ac::CheckIn) -> Self {
        CheckIn {
            id: c.id.0,
            held_on: date_str(c.held_on),
            notes: c.notes,
            recorded_by: c.recorded_by.0,
            at_ms: to_ms(c.at),
        }
    }
}

/// An agreement waiting for acceptances.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Waiting {
    /// The agreement.
    pub agreement: AgreementSummary,
    /// Partners who have not accepted its current words.
    pub waiting_for: Vec<String>,
}

/// Something coming up.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Upcoming {
    /// What.
    pub title: String,
    /// When (epoch ms).
    pub at_ms: i64,
}

/// The check-in agenda.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Agenda {
    /// An appreciation prompt.
    pub appreciation_prompt: String,
    /// Open concerns.
    pub open_concerns: Vec<Concern>,
    /// Agreements due for review.
    pub due_for_review: Vec<AgreementSummary>,
    /// Missed entries since the last check-in.
    pub missed_since_last_checkin: Vec<LogEntry>,
    /// Agreements waiting for a partner.
    pub waiting_for_partner: Vec<Waiting>,
    /// Upcoming items.
    pub upcoming: Vec<Upcoming>,
    /// The last check-in.
    pub last_checkin: Option<CheckIn>,
}

impl From<ac::Agenda> for Agenda {
    fn from(a: ac::Agenda) -> Self {
        Agenda {
            appreciation_prompt: a.appreciation_prompt,
            open_concerns: a.open_concerns.into_iter().map(Into::into).collect(),
            due_for_review: a.due_for_review.into_iter().map(Into::into).collect(),
            missed_since_last_checkin: a
                .missed_since_last_checkin
                .into_iter()
                .map(Into::into)
                .collect(),
            waiting_for_partner: a
                .waiting_for_partner
                .into_iter()
                .map(|w| Waiting {
                    agreement: w.agreement.into(),
                    waiting_for: w.waiting_for.into_iter().map(|p| p.0).collect(),
                })
                .collect(),
            upcoming: a
                .upcoming
                .into_iter()
                .map(|u| Upcoming {
                    title: u.title,
                    at_ms: to_ms(u.at),
                })
                .collect(),
            last_checkin: a.last_checkin.map(Into::into),
        }
    }
}

/// One entry of an agreement's history.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HistoryEntry {
    /// When (epoch ms, writing device's clock).
    pub at_ms: i64,
    /// Who, if known.
    pub partner: Option<String>,
    /// Which device, if known.
    pub device: Option<String>,
    /// What was done (`created`, `edited`, `accepted`, ...).
    pub action: String,
    /// Fields set, with values before and after.
    pub changes: Vec<FieldChange>,
}

impl From<ac::HistoryEntry> for HistoryEntry {
    fn from(h: ac::HistoryEntry) -> Self {
        HistoryEntry {
            at_ms: to_ms(h.at),
            partner: h.partner.map(|p| p.0),
            device: h.device.map(|d| d.0),
            action: h.action,
            changes: h.changes.into_iter().map(Into::into).collect(),
        }
    }
}

/// What a reminder leads to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ReminderTarget {
    /// An agreement.
    Agreement {
        /// Its id.
        id: String,
    },
    /// A concern.
    Concern {
        /// Its id.
        id: String,
    },
    /// The check-in.
    CheckIn,
}

/// A reminder to schedule as a local notification.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Reminder {
    /// Stable id (use it as the notification id).
    pub id: String,
    /// Occurrence key.
    pub occurrence: String,
    /// Kind.
    pub kind: ReminderKind,
    /// For which partner.
    pub partner: String,
    /// When it fires (epoch ms).
    pub fires_at_ms: i64,
    /// Local wall-clock time it fires (`YYYY-MM-DDTHH:MM:SS`).
    pub fires_at_local: String,
    /// Time zone of `fires_at_local`.
    pub time_zone: String,
    /// Notification title.
    pub title: String,
    /// Notification body.
    pub body: String,
    /// What it leads to.
    pub target: ReminderTarget,
}

impl From<ac::reminders::schedule::Reminder> for Reminder {
    fn from(r: ac::reminders::schedule::Reminder) -> Self {
        use ac::reminders::schedule::ReminderTarget as T;
        Reminder {
            id: r.id,
            occurrence: r.occurrence,
            kind: r.kind.into(),
            partner: r.partner.0,
            fires_at_ms: to_ms(r.fires_at_utc),
            fires_at_local: r.fires_at_local.format("%Y-%m-%dT%H:%M:%S").to_string(),
            time_zone: r.time_zone,
            title: r.title,
            body: r.body,
            target: match r.target {
                T::Agreement(a) => ReminderTarget::Agreement { id: a.0 },
                T::Concern(c) => ReminderTarget::Concern { id: c.0 },
                T::CheckIn => ReminderTarget::CheckIn,
            },
        }
    }
}

/// A partner's sealed position on a topic.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Position {
    /// Topic.
    pub topic: String,
    /// Whose.
    pub partner: String,
    /// State.
    pub state: PositionState,
    /// Text, when visible to this device.
    pub text: Option<String>,
}

impl From<ac::Position> for Position {
    fn from(p: ac::Position) -> Self {
        Position {
            topic: p.topic,
            partner: p.partner.0,
            state: p.state.into(),
            text: p.text,
        }
    }
}

/// A partner.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Partner {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
}

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Device {
    /// Id.
    pub id: String,
    /// Its partner.
    pub partner: String,
    /// Name.
    pub name: String,
    /// Whether it was removed.
    pub removed: bool,
}

/// The space, its members and this device's place in it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SpaceInfo {
    /// Space id.
    pub id: String,
    /// Schema version stored.
    pub schema_version: u64,
    /// Why the space is read-only, if it is.
    pub read_only: Option<String>,
    /// This device.
    pub my_device: String,
    /// This device's partner.
    pub me: String,
    /// The partners (at most two).
    pub partners: Vec<Partner>,
    /// Every enrolled device.
    pub devices: Vec<Device>,
}

impl From<ac::SpaceInfo> for SpaceInfo {
    fn from(i: ac::SpaceInfo) -> Self {
        SpaceInfo {
            id: i.id.0,
            schema_version: i.schema_version,
            read_only: i.read_only,
            my_device: i.my_device.0,
            me: i.me.0,
            partners: i
                .partners
                .into_iter()
                .map(|p| Partner {
                    id: p.id.0,
                    name: p.name,
                    time_zone: p.time_zone,
                })
                .collect(),
            devices: i
                .devices
                .into_iter()
                .map(|d| Device {
                    id: d.id.0,
                    partner: d.partner.0,
                    name: d.name,
                    removed: d.removed,
                })
                .collect(),
        }
    }
}

/// A device that could not be synced, with why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Unreachable {
    /// The device.
    pub device: String,
    /// Why.
    pub reason: String,
}

/// The outcome of `sync_now`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Devices now holding the same document.
    pub converged: Vec<String>,
    /// Devices not reached or not converged in time.
    pub unreachable: Vec<Unreachable>,
    /// Application bytes sent.
    pub bytes_sent: u64,
    /// Application bytes received.
    pub bytes_received: u64,
}

impl From<ac::SyncReport> for SyncReport {
    fn from(r: ac::SyncReport) -> Self {
        SyncReport {
            converged: r.converged.into_iter().map(|d| d.0).collect(),
            unreachable: r
                .unreachable
                .into_iter()
                .map(|(d, reason)| Unreachable {
                    device: d.0,
                    reason,
                })
                .collect(),
            bytes_sent: r.bytes_sent,
            bytes_received: r.bytes_received,
        }
    }
}

/// How often a recurrence repeats.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Frequency {
    /// Every `interval` days.
    Daily {
        /// Interval.
        interval: u32,
    },
    /// Every `interval` weeks on these weekdays.
    Weekly {
        /// Interval.
        interval: u32,
        /// Weekdays.
        weekdays: Vec<Weekday>,
    },
    /// Every `interval` months on this day of the month.
    MonthlyOnDay {
        /// Interval.
        interval: u32,
        /// Day of month (1-31).
        day: u32,
    },
    /// Every `interval` months on e.g. the second Tuesday.
    MonthlyOnWeekday {
        /// Interval.
        interval: u32,
        /// Which week.
        week: WeekOfMonth,
        /// Which weekday.
        weekday: Weekday,
    },
}

/// A recurrence rule in a time zone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RecurrenceRule {
    /// How often.
    pub frequency: Frequency,
    /// Local time of day (`HH:MM`).
    pub time: String,
    /// IANA time zone.
    pub time_zone: String,
    /// First date (`YYYY-MM-DD`).
    pub start: String,
    /// Last date (`YYYY-MM-DD`), if any.
    pub until: Option<String>,
}

impl TryFrom<RecurrenceRule> for ac::reminders::recurrence::RecurrenceRule {
    type Error = AccordError;
    fn try_from(r: RecurrenceRule) -> Result<Self, AccordError> {
        use ac::reminders::recurrence::Frequency as F;
        let frequency = match r.frequency {
            Frequency::Daily { interval } => F::Daily { interval },
            Frequency::Weekly { interval, weekdays } => F::Weekly {
                interval,
                weekdays: weekdays.into_iter().map(Into::into).collect(),
            },
            Frequency::MonthlyOnDay { interval, day } => F::MonthlyOnDay { interval, day },
            Frequency::MonthlyOnWeekday {
                interval,
                week,
                weekday,
            } => F::MonthlyOnWeekday {
                interval,
                week: week.into(),
                weekday: weekday.into(),
            },
        };
        Ok(ac::reminders::recurrence::RecurrenceRule {
            frequency,
            time: parse_time(&r.time)?,
            time_zone: r.time_zone,
            start: parse_date("start", &r.start)?,
            until: r
                .until
                .as_deref()
                .map(|d| parse_date("until", d))
                .transpose()?,
        })
    }
}

/// Something the app may react to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum NodeEventRecord {
    /// The document changed, here or (`remote`) by another device's change.
    DocumentChanged {
        /// Whether the change came from another device.
        remote: bool,
    },
    /// Reminders may have changed: reschedule notifications.
    RemindersChanged,
    /// A session with a device started.
    DeviceConnected {
        /// The device.
        device: String,
    },
    /// A session with a device ended.
    DeviceDisconnected {
        /// The device.
        device: String,
    },
    /// A device joined through a ticket from this node.
    DevicePaired {
        /// The new device.
        device: String,
    },
    /// Syncing failed (the document is untouched).
    SyncError {
        /// The device involved, if any.
        device: Option<String>,
        /// What went wrong.
        message: String,
    },
}

impl From<ac::NodeEvent> for NodeEventRecord {
    fn from(e: ac::NodeEvent) -> Self {
        use ac::NodeEvent as E;
        match e {
            E::DocumentChanged { remote } => NodeEventRecord::DocumentChanged { remote },
            E::RemindersChanged => NodeEventRecord::RemindersChanged,
            E::DeviceConnected { device } => NodeEventRecord::DeviceConnected { device: device.0 },
            E::DeviceDisconnected { device } => {
                NodeEventRecord::DeviceDisconnected { device: device.0 }
            }
            E::DevicePaired { device } => NodeEventRecord::DevicePaired { device: device.0 },
            E::SyncError { device, message } => NodeEventRecord::SyncError {
                device: device.map(|d| d.0),
                message,
            },
        }
    }
}
