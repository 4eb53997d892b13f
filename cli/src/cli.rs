//! The command line: global options and every command with its arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Accord: your agreements as a couple, kept on your own devices.
///
/// Agreements become active only once both of you accepted the exact words. IDs may be
/// abbreviated to any unique prefix. Times are RFC 3339 (2027-03-05T19:00:00+01:00), dates
/// YYYY-MM-DD, durations like 10m, 2h, 3 days, 2 weeks or 3 months.
#[derive(Debug, Parser)]
#[command(name = "accord", version, max_term_width = 100)]
pub struct Cli {
    /// This device's data directory [default: $XDG_DATA_HOME/accord or ~/.local/share/accord]
    #[arg(long, global = true, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Machine-readable output: JSON on stdout; errors as {"error": {"kind", "message"}} on stderr
    #[arg(long, global = true)]
    pub json: bool,

    /// default: n0 relays and address lookup plus local discovery; local: relays and internet
    /// lookup off, LAN and loopback only
    #[arg(long, global = true, value_enum, default_value_t = Network::Default)]
    pub network: Network,

    #[command(subcommand)]
    pub command: Command,
}

/// Network configurations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Network {
    /// n0 relays and address lookup plus local-network discovery
    Default,
    /// relays and internet lookup off: LAN and loopback only
    Local,
    /// only through the n0 relays: no direct path, so no other device learns this one's IP
    /// address (slower; needs the relay even on the same Wi-Fi)
    RelayOnly,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Invite a device by ticket (prints it and a QR code), then wait until it is used
    Invite(InviteArgs),
    /// Join a space with a ticket from your partner's (or your own other) device
    Join(JoinArgs),
    /// Run this device's node: accept, discover on the LAN, sync live, until interrupted
    Serve,
    /// Connect to your other devices and converge; fails naming the unreachable ones
    Sync(SyncArgs),
    /// The whole product story with two partners on this computer, over real connections
    Demo,
    /// Create a couple space on this device (you become its first partner)
    Init(InitArgs),
    /// Who is in the space, its devices, and how many agreements are in each state
    Status,
    /// Write a new agreement (prints its id); unless it is a draft, you accept its words
    Add(AddArgs),
    /// List agreements
    List(ListArgs),
    /// Everything about one agreement: words, acceptances, conflicts, history, log, reminders
    Show(IdArg),
    /// Change an agreement; a change of wording must be accepted again by both of you
    Edit(EditArgs),
    /// Accept an agreement's current exact words
    Accept(IdArg),
    /// Settle a conflict by choosing one version (or new words) for a field
    Resolve(ResolveArgs),
    /// Retire an agreement (it stays in the history)
    Retire(RetireArgs),
    /// Ask to revisit an agreement; it is active again once both of you accept
    Renegotiate(RenegotiateArgs),
    /// Record that you reviewed an agreement: the next review is one cadence later
    Reviewed(ReviewedArgs),
    /// Write your own position on a topic, sealed until both of you are ready
    Position(PositionArgs),
    /// Show positions (your partner's stay sealed until both of you are ready)
    Positions(PositionsArgs),
    /// Log follow-through on an agreement: kept, missed or a note (never a score)
    Log(LogArgs),
    /// Raise, acknowledge, respond to and resolve concerns
    #[command(subcommand)]
    Concern(ConcernCommand),
    /// List concerns, oldest first
    Concerns,
    /// Attach a recurring reminder to an agreement (e.g. date night every friday at 19:00)
    Remind(RemindArgs),
    /// Remove a recurring reminder from its agreement
    Unremind(UnremindArgs),
    /// Set (or turn off) your regular check-in, e.g. --every sunday --at 20:00
    CheckinRitual(RitualArgs),
    /// Upcoming reminders for you
    Reminders(RemindersArgs),
    /// Mark a reminder done (for both of you)
    Done(ReminderIdArg),
    /// Snooze one of your reminders
    Snooze(SnoozeArgs),
    /// The check-in agenda; with --record, record a check-in you held
    Checkin(CheckinArgs),
    /// Remove one of your own devices (a lost phone); it keeps its copy but can no longer take part
    Unpair(UnpairArgs),
    /// End the pairing with your partner: their devices stop syncing with yours; both keep
    /// their copies
    EndPairing(EndPairingArgs),
    /// Confirm (or --decline) a device of yours asking to join through `serve`
    Confirm(ConfirmArgs),
    /// Set up a new recovery secret (shown once: write it down). `init` and `join` set one up
    Recovery(RecoveryArgs),
    /// Write your copy of the space to a file sealed to your recovery secret
    Backup(BackupArgs),
    /// Restore a backup into an empty directory with your recovery secret (read from the first
    /// line of standard input): a copy to read and export
    Restore(RestoreArgs),
    /// Export all agreements as a readable document (Markdown) or as JSON
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Your display name
    #[arg(long)]
    pub name: String,
    /// Your IANA time zone, e.g. Europe/Berlin [default: the TZ environment variable, else UTC]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// A name for this device [default: "<NAME>'s computer"]
    #[arg(long, value_name = "N")]
    pub device_name: Option<String>,
}

#[derive(Debug, Args)]
pub struct IdArg {
    /// Agreement id (any unique prefix)
    pub id: String,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The words of the agreement
    #[arg(long)]
    pub title: String,
    /// More detail, measurable where possible
    #[arg(long, default_value = "")]
    pub details: String,
    /// communication, time together, personal space, finances, household, intimacy and
    /// fidelity, digital life, family and friends, conflict rules, repair, check-ins, values
    /// and goals, or custom:NAME
    #[arg(long, default_value = "communication")]
    pub category: String,
    /// agreement, boundary, expectation or intention
    #[arg(long, default_value = "agreement")]
    pub kind: String,
    /// promise, try_my_best or experiment
    #[arg(long, default_value = "try_my_best")]
    pub strength: String,
    /// Who it concerns: both, me, partner (or a partner's name)
    #[arg(long, default_value = "both")]
    pub concerns: String,
    /// Review cadence, e.g. "2 weeks", "1 month", quarterly
    #[arg(long, value_name = "DURATION")]
    pub review_every: Option<String>,
    /// Save as a draft: nobody accepts it yet
    #[arg(long)]
    pub draft: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this category
    #[arg(long)]
    pub category: Option<String>,
    /// Only this status: draft, proposed, active, needs_renegotiation, conflicted, retired
    #[arg(long)]
    pub status: Option<String>,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// Agreement id (any unique prefix)
    pub id: String,
    /// New words
    #[arg(long)]
    pub title: Option<String>,
    /// New details
    #[arg(long)]
    pub details: Option<String>,
    /// New category
    #[arg(long)]
    pub category: Option<String>,
    /// New kind
    #[arg(long)]
    pub kind: Option<String>,
    /// New strength
    #[arg(long)]
    pub strength: Option<String>,
    /// Who it concerns: both, me, partner
    #[arg(long)]
    pub concerns: Option<String>,
    /// New review cadence, or "none" to stop reviewing
    #[arg(long, value_name = "DURATION")]
    pub review_every: Option<String>,
    /// Next review date (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub next_review: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("choice").required(true).args(["value", "candidate"])))]
pub struct ResolveArgs {
    /// Agreement id (any unique prefix)
    pub id: String,
    /// The field in conflict: title, details, kind, strength, concerns, category,
    /// review_every, next_review
    #[arg(long, value_name = "F")]
    pub field: String,
    /// The value to keep (one of the versions, or new words)
    #[arg(long, value_name = "V")]
    pub value: Option<String>,
    /// The number of a version as listed by `accord show`
    #[arg(long, value_name = "N")]
    pub candidate: Option<usize>,
}

#[derive(Debug, Args)]
pub struct RetireArgs {
    /// Agreement id (any unique prefix)
    pub id: String,
    /// Why it is retired (kept in the history)
    #[arg(long, value_name = "R")]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct RenegotiateArgs {
    /// Agreement id (any unique prefix)
    pub id: String,
    /// Why you want to revisit it
    #[arg(long, value_name = "R", default_value = "")]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct ReviewedArgs {
    /// Agreement id (any unique prefix)
    pub id: String,
    /// The day of the review (YYYY-MM-DD) [default: today]
    #[arg(long, value_name = "DATE")]
    pub on: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).multiple(true).args(["text", "ready"])))]
pub struct PositionArgs {
    /// An agreement id (prefix) or a free name for the topic
    pub topic: String,
    /// Your position, in your own words (rewrite it as often as you like until ready)
    #[arg(long, value_name = "T")]
    pub text: Option<String>,
    /// Mark your position ready: final; both are revealed once both of you are ready
    #[arg(long)]
    pub ready: bool,
}

#[derive(Debug, Args)]
pub struct PositionsArgs {
    /// Only this topic (an agreement id prefix or a free name)
    pub topic: Option<String>,
}

/// A follow-through entry's kind.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogKindArg {
    /// It was kept
    Kept,
    /// It was missed
    Missed,
    /// A note
    Note,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Agreement id (any unique prefix)
    pub id: String,
    /// kept, missed or note
    pub kind: LogKindArg,
    /// What happened
    #[arg(long, value_name = "T", default_value = "")]
    pub text: String,
}

#[derive(Debug, Subcommand)]
pub enum ConcernCommand {
    /// Raise a concern about an agreement (or, without an id, about the relationship)
    Raise(RaiseArgs),
    /// Acknowledge your partner's concern
    Ack(ConcernIdArg),
    /// Respond to a concern: an apology, a plan
    Respond(RespondArgs),
    /// Say your concern is repaired
    Resolve(ConcernIdArg),
    /// Turn a concern into a renegotiation of its agreement
    Renegotiate(ConcernRenegotiateArgs),
    /// Everything about one concern
    Show(ConcernIdArg),
}

#[derive(Debug, Args)]
pub struct RaiseArgs {
    /// The agreement it is about (any unique prefix); none for the relationship in general
    pub id: Option<String>,
    /// What happened
    #[arg(long, value_name = "W")]
    pub what: String,
    /// How you felt
    #[arg(long, value_name = "F", default_value = "")]
    pub felt: String,
    /// What you need in repair
    #[arg(long, value_name = "N", default_value = "")]
    pub need: String,
}

#[derive(Debug, Args)]
pub struct ConcernIdArg {
    /// Concern id (any unique prefix)
    pub id: String,
}

#[derive(Debug, Args)]
pub struct RespondArgs {
    /// Concern id (any unique prefix)
    pub id: String,
    /// Your response
    #[arg(long, value_name = "T")]
    pub text: String,
}

#[derive(Debug, Args)]
pub struct ConcernRenegotiateArgs {
    /// Concern id (any unique prefix)
    pub id: String,
    /// Why the agreement should be revisited
    #[arg(long, value_name = "R", default_value = "")]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct RemindArgs {
    /// Agreement id (any unique prefix)
    pub id: String,
    /// How often: day, 2 days, friday, monday,thursday, week on friday, 2 weeks on sunday,
    /// month on day 15, month on first saturday, 3 months on last friday
    #[arg(long, value_name = "SPEC")]
    pub every: String,
    /// Local time of day, 24-hour HH:MM
    #[arg(long, value_name = "HH:MM")]
    pub at: String,
    /// IANA time zone of the time [default: yours]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// First possible day (YYYY-MM-DD) [default: today]
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last possible day (YYYY-MM-DD) [default: none]
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
}

#[derive(Debug, Args)]
pub struct UnremindArgs {
    /// Reminder rule id (any unique prefix; `accord show ID` lists them)
    pub rule: String,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("ritual").required(true).args(["every", "off"])))]
pub struct RitualArgs {
    /// How often (same specs as `remind --every`)
    #[arg(long, value_name = "SPEC", requires = "at")]
    pub every: Option<String>,
    /// Local time of day, 24-hour HH:MM
    #[arg(long, value_name = "HH:MM", requires = "every")]
    pub at: Option<String>,
    /// IANA time zone of the time [default: yours]
    #[arg(long, value_name = "ZONE", requires = "every")]
    pub tz: Option<String>,
    /// Turn the check-in ritual off
    #[arg(long, conflicts_with_all = ["every", "at", "tz"])]
    pub off: bool,
}

#[derive(Debug, Args)]
pub struct RemindersArgs {
    /// At most this many
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
    /// From this time (RFC 3339, or a date YYYY-MM-DD meaning its start) [default: now]
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// How many days ahead
    #[arg(long, value_name = "N", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3660))]
    pub days: u32,
}

#[derive(Debug, Args)]
pub struct ReminderIdArg {
    /// Reminder id (a prefix of at least 6 characters, as listed by `accord reminders`)
    pub id: String,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("how_long").required(true).args(["for_", "until"])))]
pub struct SnoozeArgs {
    /// Reminder id (a prefix of at least 6 characters)
    pub id: String,
    /// For how long, e.g. 10m, 2h, 3 days
    #[arg(long = "for", id = "for_", value_name = "DURATION")]
    pub for_: Option<String>,
    /// Until this time (RFC 3339)
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckinArgs {
    /// Record a check-in you held
    #[arg(long)]
    pub record: bool,
    /// Notes from the check-in
    #[arg(long, value_name = "N", requires = "record", default_value = "")]
    pub notes: String,
    /// The day it was held (YYYY-MM-DD) [default: today]
    #[arg(long, value_name = "DATE", requires = "record")]
    pub on: Option<String>,
}

#[derive(Debug, Args)]
pub struct ConfirmArgs {
    /// The waiting device's id (any unique prefix, as `serve` printed it)
    pub device: String,
    /// Refuse it instead
    #[arg(long)]
    pub decline: bool,
}

#[derive(Debug, Args)]
pub struct EndPairingArgs {
    /// Confirm: ending cannot be undone (a new relationship is a new space)
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct RecoveryArgs {
    /// Replace the one you have (it stops working)
    #[arg(long)]
    pub replace: bool,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write (it opens only with your recovery secret)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct UnpairArgs {
    /// Device id (any unique prefix; `accord status` lists them)
    pub device: String,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A readable document, to print or bring to a counselling session
    Markdown,
    /// The same data, serialised
    Json,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// markdown or json
    #[arg(long, value_enum, default_value_t = ExportFormat::Markdown)]
    pub format: ExportFormat,
    /// Write to this file instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}

#[derive(Debug, Args)]
pub struct InviteArgs {
    /// Who may join: partner (while you are alone), my-device, or returning-partner (your
    /// partner's new device after they lost every device; they need their recovery secret)
    #[arg(long, default_value = "partner")]
    pub role: String,
    /// How long the ticket works, e.g. 10m
    #[arg(long, default_value = "10m")]
    pub expires: String,
}

#[derive(Debug, Args)]
pub struct JoinArgs {
    /// The ticket text
    pub ticket: String,
    /// Your display name (when joining as the inviting device's partner)
    #[arg(long, default_value = "")]
    pub name: String,
    /// Your IANA time zone [default: the TZ environment variable, else UTC]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// A name for this device
    #[arg(long, default_value = "")]
    pub device_name: String,
    /// Come back as yourself after losing every device: reads your recovery secret from
    /// the first line of standard input (needs a returning-partner ticket)
    #[arg(long)]
    pub recover: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// How long to try, e.g. 30s or 2m
    #[arg(long, default_value = "30s")]
    pub timeout: String,
}
