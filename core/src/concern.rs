//! Concerns and repair: a partner raises a concern (what happened, how I felt, what I need in
//! repair); the other partner acknowledges; either responds (apology, plan); the partner who
//! raised it resolves it, or either turns it into a renegotiation of the agreement.
//! The state is derived from the recorded steps, so concurrent steps converge.

use crate::ids::{AgreementId, ConcernId, PartnerId, RecordId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a partner writes to raise a concern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NewConcern {
    /// The agreement it is about, or `None` for the relationship in general.
    pub agreement: Option<AgreementId>,
    /// What happened.
    pub what_happened: String,
    /// How I felt.
    pub how_i_felt: String,
    /// What I need in repair.
    pub what_i_need: String,
}

/// A step in the repair of a concern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ConcernStep {
    /// The other partner acknowledged it.
    Acknowledged,
    /// A partner responded (apology, plan).
    Responded,
    /// The partner who raised it considers it repaired.
    Resolved,
    /// It was turned into a renegotiation of the agreement.
    Renegotiation,
}

impl ConcernStep {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ConcernStep::Acknowledged => "acknowledged",
            ConcernStep::Responded => "responded",
            ConcernStep::Resolved => "resolved",
            ConcernStep::Renegotiation => "renegotiation",
        }
    }
    pub(crate) fn from_stored(text: &str) -> Option<Self> {
        [
            ConcernStep::Acknowledged,
            ConcernStep::Responded,
            ConcernStep::Resolved,
            ConcernStep::Renegotiation,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// Where a concern stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ConcernState {
    /// Raised, not yet acknowledged.
    Open,
    /// Acknowledged by the other partner.
    Acknowledged,
    /// Someone responded (apology, plan).
    Responded,
    /// Repaired, says the partner who raised it.
    Resolved,
    /// Turned into a renegotiation of the agreement.
    Renegotiation,
}

impl ConcernState {
    /// Whether it still needs attention (not resolved and not turned into a renegotiation).
    pub fn is_open(self) -> bool {
        !matches!(self, ConcernState::Resolved | ConcernState::Renegotiation)
    }
}

/// One recorded step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ConcernEvent {
    /// Record id.
    pub id: RecordId,
    /// The step.
    pub step: ConcernStep,
    /// Who took it.
    pub partner: PartnerId,
    /// Text (a response's apology or plan; may be empty).
    pub text: String,
    /// When (display only).
    pub at: DateTime<Utc>,
}

/// A concern with its derived state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Concern {
    /// Id.
    pub id: ConcernId,
    /// The agreement it is about, if any.
    pub agreement: Option<AgreementId>,
    /// What happened.
    pub what_happened: String,
    /// How I felt.
    pub how_i_felt: String,
    /// What I need in repair.
    pub what_i_need: String,
    /// Who raised it.
    pub raised_by: PartnerId,
    /// When (display only).
    pub raised_at: DateTime<Utc>,
    /// Derived state.
    pub state: ConcernState,
    /// Whether the other partner has acknowledged it.
    pub acknowledged: bool,
    /// Every step, in causal order.
    pub events: Vec<ConcernEvent>,
    /// Its place in causal order used for "oldest first": the op counter of the change that wrote it (what
    /// its writer had seen always comes before it).
    pub order: i64,
}
