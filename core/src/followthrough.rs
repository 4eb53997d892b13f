//! The follow-through log: append-only kept / missed / note entries. No scores, no streaks.

use crate::ids::{AgreementId, PartnerId, RecordId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a log entry says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum LogKind {
    /// The commitment was kept.
    Kept,
    /// The commitment was missed.
    Missed,
    /// A note.
    Note,
}

impl LogKind {
    /// Stable text.
    pub fn as_str(self) -> &'static str {
        match self {
            LogKind::Kept => "kept",
            LogKind::Missed => "missed",
            LogKind::Note => "note",
        }
    }
    /// Parses `kept`, `missed` or `note`.
    pub fn parse(text: &str) -> Option<Self> {
        [LogKind::Kept, LogKind::Missed, LogKind::Note]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// One entry of the follow-through log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LogEntry {
    /// Record id.
    pub id: RecordId,
    /// The agreement.
    pub agreement: AgreementId,
    /// Kept, missed or note.
    pub kind: LogKind,
    /// Optional text.
    pub text: String,
    /// Who wrote it.
    pub author: PartnerId,
    /// When (display only).
    pub at: DateTime<Utc>,
    /// Its place in causal order: the op counter of the change that wrote it (what
    /// its writer had seen always comes before it).
    pub order: i64,
}
