//! # accord-core
//!
//! The heart of Accord: the couple's shared agreements document (an Automerge CRDT behind a
//! typed domain API), consent to exact words, follow-through, concerns and repair, check-ins,
//! and crash-safe storage of one device's copy.
//!
//! The entry point is [`Space`]: open or create a device directory, then call domain
//! operations. Every write returns only once it is durable on disk. Status and other views are
//! derived from the document, so every replica computes the same; device clocks are used for
//! display only.

pub mod agreement;
mod backup;
pub mod checkin;
pub mod concern;
mod document;
pub mod error;
pub mod export;
#[cfg(feature = "uniffi")]
pub mod ffi;
pub mod followthrough;
pub mod identity;
pub mod ids;
mod keyring;
pub mod node;
pub mod pairing;
pub mod position;
pub mod protocol_version;
pub mod recovery;
pub mod reminders;
pub mod space;
pub mod storage;
pub mod sync;
mod trust;
pub mod view;
pub mod word_diff;

pub use agreement::{
    Acceptance, AgreementDetails, AgreementEdit, AgreementSummary, CadenceChange, CadenceUnit,
    Candidate, Category, Concerns, Content, Field, FieldChange, FieldConflict, Kind, NewAgreement,
    PartnerChanges, Retirement, ReviewCadence, StandardCategory, Status, Strength,
};
pub use checkin::{Agenda, CheckIn, Upcoming, Waiting};
pub use concern::{Concern, ConcernEvent, ConcernState, ConcernStep, NewConcern};
pub use error::{Error, Result};
pub use export::{Export, ExportAcceptance, ExportAgreement, ExportPartner, ExportRetirement};
#[cfg(feature = "uniffi")]
pub use ffi::{CalendarDate, LocalDateTime, TimeOfDay, Timestamp};
pub use followthrough::{LogEntry, LogKind};
pub use identity::{register_key_vault, DeviceIdentity, KeyVault};
pub use ids::{AgreementId, ConcernId, DeviceId, PartnerId, RecordId, SpaceId};
pub use node::{
    NetworkConfig, Node, NodeEvent, PeerStatus, RelayChoice, SpaceGuard, SyncReport, TrafficReport,
    Unreachable,
};
pub use pairing::{InviteRole, Ticket};
pub use position::{Position, PositionState};
pub use recovery::RecoverySecret;
pub use space::{
    CreateSpace, HistoryEntry, ListFilter, LoadMode, OpenReport, PeerSyncState, ReplayReport,
    Space, SpaceEvent, SpaceInfo, SCHEMA_VERSION,
};
pub use storage::TornTail;
pub use view::{Device, Ending, Partner, Problem};
pub use word_diff::{word_diff, WordChange, WordRun};

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();

#[cfg(test)]
mod recovery_tests;
#[cfg(test)]
mod schema_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod trust_tests;
