//! Check-ins: the couple's meeting ritual, with an agenda built from the data in DOMAIN.md's
//! order.

use crate::agreement::AgreementSummary;
use crate::concern::Concern;
use crate::followthrough::LogEntry;
use crate::ids::{PartnerId, RecordId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The prompt that opens every check-in.
pub const APPRECIATION_PROMPT: &str =
    "Start with appreciation: each of you names one thing the other did since the last check-in that you valued.";

/// A check-in that was held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CheckIn {
    /// Record id.
    pub id: RecordId,
    /// The day it was held.
    pub held_on: NaiveDate,
    /// Optional notes.
    pub notes: String,
    /// Who recorded it.
    pub recorded_by: PartnerId,
    /// When it was recorded (display only).
    pub at: DateTime<Utc>,
    /// Its place in causal order: the op counter of the change that wrote it (what
    /// its writer had seen always comes before it).
    pub order: i64,
}

/// A draft or proposal waiting for a partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Waiting {
    /// The agreement.
    pub agreement: AgreementSummary,
    /// The partners whose acceptance of the current wording is missing.
    pub waiting_for: Vec<PartnerId>,
}

/// Something coming up (filled from the reminders schedule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Upcoming {
    /// What it is.
    pub title: String,
    /// When it is due.
    pub at: DateTime<Utc>,
}

/// The check-in agenda, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Agenda {
    /// 1. The appreciation prompt.
    pub appreciation_prompt: String,
    /// 2. Concerns still open, oldest first.
    pub open_concerns: Vec<Concern>,
    /// 3. Agreements due for review.
    pub due_for_review: Vec<AgreementSummary>,
    /// 4. Commitments missed since the last check-in.
    pub missed_since_last_checkin: Vec<LogEntry>,
    /// 5. Drafts and proposals waiting for a partner.
    pub waiting_for_partner: Vec<Waiting>,
    /// 6. Upcoming commitments.
    pub upcoming: Vec<Upcoming>,
    /// The last check-in held, if any.
    pub last_checkin: Option<CheckIn>,
}
