//! The CLI's error: the core's errors plus input the CLI itself rejects.
//!
//! Every error has a stable `kind` (used in `--json` output) and a message that says what was
//! wrong and what to do.

use accord_core::Error;
use std::path::PathBuf;

/// Exit code of a failed command.
pub const EXIT_ERROR: i32 = 1;
/// Exit code of a command line that could not be parsed.
pub const EXIT_USAGE: i32 = 2;

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// The core refused or failed.
    Core(Error),
    /// An argument the CLI could not read (a duration, a repeat spec, a date, ...).
    Input {
        /// What was given (`--every`, `--at`, ...).
        what: String,
        /// What was wrong and what to write instead.
        message: String,
    },
    /// A file the CLI writes (an export) could not be written.
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl CliError {
    /// An invalid argument.
    pub fn input(what: impl Into<String>, message: impl Into<String>) -> Self {
        CliError::Input {
            what: what.into(),
            message: message.into(),
        }
    }

    /// Stable machine-readable kind.
    pub fn kind(&self) -> &'static str {
        match self {
            CliError::Core(e) => match e {
                Error::NotFound { .. } => "not_found",
                Error::InvalidInput { .. } => "invalid_input",
                Error::ThirdPartner => "third_partner",
                Error::NotAMember(_) => "not_a_member",
                Error::NotAllowed(_) => "not_allowed",
                Error::Conflicted { .. } => "conflicted",
                Error::ReadOnly { .. } => "read_only",
                Error::DevelopmentSchema { .. } => "development_schema",
                Error::UpdateNeeded(_) => "update_needed",
                Error::DeviceKeyInUse => "device_key_in_use",
                Error::AlreadyInitialized(_) => "already_initialized",
                Error::NotInitialized(_) => "not_initialized",
                Error::InUse(_) => "in_use",
                Error::Corrupt { .. } => "corrupt",
                Error::NewerVersion { .. } => "newer_version",
                Error::Io { .. } => "io",
                Error::InvalidRemoteData(_) => "invalid_remote_data",
            },
            CliError::Input { .. } => "invalid_input",
            CliError::Io { .. } => "io",
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Core(e) => write!(f, "{e}"),
            CliError::Input { what, message } => write!(f, "invalid {what}: {message}"),
            CliError::Io { path, source } => {
                write!(f, "could not write {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for CliError {}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Core(e)
    }
}

/// Result of a CLI operation.
pub type CliResult<T> = Result<T, CliError>;
