//! The commands. Each takes its arguments and the context, opens the space if it needs it,
//! and returns a [`Report`] in both forms (JSON and text).

mod agreements;
mod checkin;
mod concerns;
mod demo;
mod export;
pub mod network;
mod positions;
mod reminders;
pub mod setup;

use crate::cli::{Cli, Command};
use crate::error::{CliError, CliResult};
use crate::output::{Names, Report};
use accord_core::{
    AgreementId, AgreementSummary, Category, Concerns, Kind, ListFilter, LoadMode, NetworkConfig,
    Space, SpaceGuard, Status, Strength,
};
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use std::path::PathBuf;

/// What every command needs: where the data is, the time of this invocation, the network
/// configuration, and — inside `accord serve` — the running node.
pub struct Ctx<'n> {
    /// This device's data directory.
    pub data: PathBuf,
    /// The time every write of this invocation records.
    pub now: DateTime<Utc>,
    /// How to reach the couple's other devices.
    pub network: NetworkConfig,
    /// The running node, when the command runs inside `accord serve`.
    pub node: Option<&'n network::Serving>,
}

/// The space a command works on: opened by this process, or the running node's.
pub enum SpaceHandle<'a> {
    /// Opened by this command.
    Owned(Box<Space>),
    /// The node's space inside `accord serve`.
    Shared(SpaceGuard<'a>),
}

impl std::ops::Deref for SpaceHandle<'_> {
    type Target = Space;
    fn deref(&self) -> &Space {
        match self {
            SpaceHandle::Owned(s) => s,
            SpaceHandle::Shared(g) => g,
        }
    }
}

impl std::ops::DerefMut for SpaceHandle<'_> {
    fn deref_mut(&mut self) -> &mut Space {
        match self {
            SpaceHandle::Owned(s) => s,
            SpaceHandle::Shared(g) => g,
        }
    }
}

impl Drop for SpaceHandle<'_> {
    /// A one-shot command's space is closed when the command is done (the served one stays
    /// with the node).
    fn drop(&mut self) {
        if let SpaceHandle::Owned(space) = self {
            space.close();
        }
    }
}

impl Ctx<'_> {
    /// Opens the space (fails if the directory holds none or another process has it open);
    /// inside `accord serve`, the node's space. A one-shot command loads the document only if
    /// it needs more than the cached list, agenda and reminders.
    pub fn open(&self) -> CliResult<SpaceHandle<'_>> {
        match self.node {
            Some(serving) => Ok(SpaceHandle::Shared(serving.node.lock_space())),
            None => Ok(SpaceHandle::Owned(Box::new(Space::open_with(
                &self.data,
                LoadMode::OnDemand,
            )?))),
        }
    }
}

/// Runs the command line's command in this process (`node`: inside `accord serve`).
pub fn run(cli: &Cli, node: Option<&network::Serving>) -> CliResult<Report> {
    let ctx = Ctx {
        data: cli
            .data
            .clone()
            .unwrap_or_else(accord_core::space::default_data_dir),
        now: Utc::now(),
        network: match cli.network {
            crate::cli::Network::Default => NetworkConfig::production(),
            crate::cli::Network::Local => NetworkConfig::local(),
            crate::cli::Network::RelayOnly => NetworkConfig::relay_only(),
        },
        node,
    };
    match &cli.command {
        Command::Invite(a) => network::invite(&ctx, a),
        Command::Join(a) => network::join(&ctx, a),
        Command::Serve => network::serve(&ctx),
        Command::Sync(a) => network::sync(&ctx, a),
        Command::Demo => demo::demo(),
        Command::Init(a) => setup::init(&ctx, a),
        Command::Status => setup::status(&ctx),
        Command::Unpair(a) => setup::unpair(&ctx, a),
        Command::EndPairing(a) => setup::end_pairing(&ctx, a),
        Command::Confirm(a) => network::confirm(&ctx, a),
        Command::Recovery(a) => setup::recovery(&ctx, a),
        Command::Backup(a) => setup::backup(&ctx, a),
        Command::Restore(a) => setup::restore(&ctx, a),
        Command::Add(a) => agreements::add(&ctx, a),
        Command::List(a) => agreements::list(&ctx, a),
        Command::Show(a) => agreements::show(&ctx, &a.id),
        Command::Edit(a) => agreements::edit(&ctx, a),
        Command::Accept(a) => agreements::accept(&ctx, &a.id),
        Command::Resolve(a) => agreements::resolve(&ctx, a),
        Command::Retire(a) => agreements::retire(&ctx, a),
        Command::Renegotiate(a) => agreements::renegotiate(&ctx, a),
        Command::Reviewed(a) => agreements::reviewed(&ctx, a),
        Command::Log(a) => agreements::log(&ctx, a),
        Command::Position(a) => positions::position(&ctx, a),
        Command::Positions(a) => positions::positions(&ctx, a),
        Command::Concern(c) => concerns::concern(&ctx, c),
        Command::Concerns => concerns::list(&ctx),
        Command::Remind(a) => reminders::remind(&ctx, a),
        Command::Unremind(a) => reminders::unremind(&ctx, a),
        Command::CheckinRitual(a) => reminders::ritual(&ctx, a),
        Command::Reminders(a) => reminders::upcoming(&ctx, a),
        Command::Done(a) => reminders::done(&ctx, a),
        Command::Snooze(a) => reminders::snooze(&ctx, a),
        Command::Checkin(a) => checkin::checkin(&ctx, a),
        Command::Export(a) => export::export(&ctx, a),
    }
}

// ----- reading arguments ------------------------------------------------------------------

/// A date `YYYY-MM-DD`.
pub fn parse_date(what: &str, text: &str) -> CliResult<NaiveDate> {
    text.trim()
        .parse::<NaiveDate>()
        .map_err(|_| CliError::input(what, format!("'{text}' is not a date like 2027-03-26")))
}

/// A time of day `HH:MM` (24-hour).
pub fn parse_time_of_day(what: &str, text: &str) -> CliResult<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").map_err(|_| {
        CliError::input(
            what,
            format!("'{text}' is not a time of day like 19:00 (24-hour HH:MM)"),
        )
    })
}

/// An instant: RFC 3339, or a date meaning its start in `tz`.
pub fn parse_instant(what: &str, text: &str, tz: chrono_tz::Tz) -> CliResult<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    if let Ok(date) = t.parse::<NaiveDate>() {
        let midnight = date.and_time(NaiveTime::MIN);
        if let Some(local) = tz.from_local_datetime(&midnight).earliest() {
            return Ok(local.with_timezone(&Utc));
        }
    }
    Err(CliError::input(
        what,
        format!("'{text}' is not a time like 2027-03-05T19:00:00+01:00 (RFC 3339) or a date like 2027-03-05"),
    ))
}

/// An IANA time zone name.
pub fn parse_tz(what: &str, text: &str) -> CliResult<String> {
    let t = text.trim();
    t.parse::<chrono_tz::Tz>().map_err(|_| {
        CliError::input(
            what,
            format!("'{text}' is not an IANA time zone; use a name like Europe/Berlin or UTC"),
        )
    })?;
    Ok(t.to_owned())
}

/// A kind: agreement, boundary, expectation or intention.
pub fn parse_kind(text: &str) -> CliResult<Kind> {
    Kind::parse(text).ok_or_else(|| {
        CliError::input(
            "kind",
            format!("'{text}' is not a kind: use agreement, boundary, expectation or intention"),
        )
    })
}

/// A strength: promise, try_my_best or experiment.
pub fn parse_strength(text: &str) -> CliResult<Strength> {
    Strength::parse(text).ok_or_else(|| {
        CliError::input(
            "strength",
            format!("'{text}' is not a strength: use promise, try_my_best or experiment"),
        )
    })
}

/// A category: a standard one, `custom:NAME`, or the name of a custom category already used.
pub fn parse_category(space: &mut Space, text: &str) -> CliResult<Category> {
    let t = text.trim();
    if let Some(name) = t.strip_prefix("custom:") {
        return Ok(Category::parse(name)?);
    }
    let parsed = Category::parse(t)?;
    if let Category::Standard(_) = parsed {
        return Ok(parsed);
    }
    let known = space
        .list(&ListFilter::default())?
        .into_iter()
        .map(|a| a.category)
        .find(|c| matches!(c, Category::Custom(n) if n.eq_ignore_ascii_case(t)));
    known.ok_or_else(|| {
        let standard: Vec<&str> = accord_core::StandardCategory::ALL
            .iter()
            .map(|c| c.label())
            .collect();
        CliError::input(
            "category",
            format!(
                "'{t}' is not a category: use one of {}, or your own as custom:NAME",
                standard.join(", ")
            ),
        )
    })
}

/// Who an agreement concerns: both, me, partner, or a partner's name.
pub fn parse_concerns(names: &Names, text: &str) -> CliResult<Concerns> {
    let t = text.trim();
    let info = names.info();
    match t.to_lowercase().as_str() {
        "both" | "us" => return Ok(Concerns::Both),
        "me" | "mine" => return Ok(Concerns::Partner(info.me.clone())),
        "partner" => {
            return info
                .partners
                .iter()
                .find(|p| p.id != info.me)
                .map(|p| Concerns::Partner(p.id.clone()))
                .ok_or_else(|| {
                    CliError::input(
                        "concerns",
                        "your partner has not joined yet: use both or me for now",
                    )
                })
        }
        _ => {}
    }
    if let Some(p) = info
        .partners
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(t) || p.id.as_str() == t)
    {
        return Ok(Concerns::Partner(p.id.clone()));
    }
    Err(CliError::input(
        "concerns",
        format!("'{t}' is not both, me, partner or a partner's name"),
    ))
}

/// A status name.
pub fn parse_status(text: &str) -> CliResult<Status> {
    Ok(Status::parse(text)?)
}

// ----- shared views -----------------------------------------------------------------------

/// The names and zone of the space (a removed device keeps its copy and can still read them).
pub fn names(space: &mut Space) -> CliResult<Names> {
    Ok(Names::new(space.info()?))
}

/// Today's date in this partner's zone.
pub fn today(names: &Names, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&names.tz()).date_naive()
}

/// What an agreement's status means for the couple, in a sentence.
pub fn status_sentence(a: &AgreementSummary, names: &Names) -> String {
    let info = names.info();
    let waiting: Vec<String> = info
        .partners
        .iter()
        .filter(|p| !a.accepted_by.contains(&p.id))
        .map(|p| {
            if p.id == info.me {
                "you".to_owned()
            } else {
                p.name.clone()
            }
        })
        .collect();
    let joined = info.partners.len() >= 2;
    match a.status {
        Status::Draft => "draft: nobody has accepted it yet (accept it to propose it)".into(),
        Status::Proposed if !joined && waiting.is_empty() => {
            "proposed: waiting for your partner to join and accept".into()
        }
        Status::Proposed => format!("proposed: waiting for {} to accept", waiting.join(" and ")),
        Status::Active => "active: both of you accepted these words".into(),
        Status::NeedsRenegotiation => {
            if waiting.is_empty() {
                "needs renegotiation: both of you accept again to make it active".into()
            } else {
                format!(
                    "needs renegotiation: waiting for {} to accept again",
                    waiting.join(" and ")
                )
            }
        }
        Status::Conflicted => {
            "conflicted: two versions met; settle them with `accord resolve`".into()
        }
        Status::Retired => "retired: kept in the history".into(),
    }
}

/// Resolves an agreement id prefix.
pub fn agreement_id(space: &mut Space, prefix: &str) -> CliResult<AgreementId> {
    Ok(space.find_agreement(prefix)?)
}

/// One agreement's summary.
pub fn summary(space: &mut Space, id: &AgreementId) -> CliResult<AgreementSummary> {
    Ok(space.summary(id)?)
}
