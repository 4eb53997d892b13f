//! The one public error type of the core.

use std::path::PathBuf;

/// Every way an Accord operation can fail. Messages say what was wrong and what to do.
#[derive(Debug, thiserror::Error)]
// Across the boundary: `AccordException.<Variant>` carrying this message (Kotlin), `AccordError`
// (Swift). Every variant crosses as itself, so there is no mapping to keep in step.
#[cfg_attr(
    feature = "uniffi",
    derive(uniffi::Error),
    uniffi(flat_error, name = "AccordError")
)]
pub enum Error {
    /// No object of this kind has this id in the space.
    #[error("no {what} with id {id}: check the id (list them to see the valid ones)")]
    NotFound {
        /// What was looked up ("agreement", "concern", ...).
        what: &'static str,
        /// The id that was given.
        id: String,
    },
    /// An input value was rejected; `field` names it and `reason` says why.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The input that was wrong.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// The space already has two partners.
    #[error("this space already has two partners; a third partner cannot join")]
    ThirdPartner,
    /// The acting device or partner is not (or no longer) part of the space.
    #[error("{0} is not a member of this space")]
    NotAMember(String),
    /// The operation is not allowed for this partner or in this state.
    #[error("not allowed: {0}")]
    NotAllowed(String),
    /// The agreement's wording has concurrent versions that must be resolved first.
    #[error("agreement {id} has conflicting versions of {fields}: resolve them first")]
    Conflicted {
        /// The agreement.
        id: String,
        /// The fields in conflict, comma separated.
        fields: String,
    },
    /// The document was written by a newer version of Accord; it is open read-only.
    #[error("this space was written by a newer version of Accord (schema {found}, this app knows {supported}); it is open read-only: update the app to make changes")]
    ReadOnly {
        /// Schema version found in the document.
        found: u64,
        /// Newest schema version this build understands.
        supported: u64,
    },
    /// Another copy of this device (the same key: a restored backup, a migrated phone) wrote
    /// to the space. This copy stops writing and syncing, so the two never clash; it keeps what
    /// it holds to read and export, and is paired again as a new device.
    #[error("another copy of this device (a restored backup or a migrated phone) has written to the space with the same key; this copy no longer writes or syncs so nothing is lost: export anything only here, then pair this device again as a new device (a my-device invitation, in an empty directory)")]
    DeviceKeyInUse,
    /// The other device runs another version of Accord; the one named must be updated.
    #[error("update needed: {0}")]
    UpdateNeeded(String),
    /// The space was made by a development version of Accord whose rules this one no longer
    /// reads; it is open read-only.
    #[error("this space was made by a development version of Accord (schema {found}; this app writes schema {supported}), which this version cannot change or sync: export what it holds (`accord export`, or Export in the app) and start a new space")]
    DevelopmentSchema {
        /// Schema version found in the document.
        found: u64,
        /// The schema version this build writes.
        supported: u64,
    },
    /// The data directory already holds a space.
    #[error("{0} already holds an Accord space; use another directory or open the existing one")]
    AlreadyInitialized(PathBuf),
    /// The data directory holds no space yet.
    #[error("{0} holds no Accord space yet: create one or join one first")]
    NotInitialized(PathBuf),
    /// Another process has the data directory open.
    #[error("{0} is in use by another Accord process; close it or use that process")]
    InUse(PathBuf),
    /// A stored file is damaged and cannot be read; nothing was overwritten.
    #[error("{path} is damaged ({reason}); nothing was overwritten: restore it from a backup or re-sync from your partner's device")]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored file was written by a newer version of Accord in a format this build cannot
    /// read; it was left untouched (nothing in it is dropped).
    #[error("{path} was written by a newer version of Accord ({what}); nothing was changed or dropped: update the app to open this space")]
    NewerVersion {
        /// The file.
        path: PathBuf,
        /// What is newer.
        what: String,
    },
    /// Reading or writing a file failed.
    #[error("could not access {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Data received from another device could not be applied; nothing was changed.
    #[error("invalid data from another device: {0}")]
    InvalidRemoteData(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound {
            what,
            id: id.into(),
        }
    }
}

/// Result type of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
