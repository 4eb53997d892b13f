//! Reminders: `remind`, `unremind`, `checkin-ritual`, `reminders`, `done`, `snooze`.

use super::{
    agreement_id, names, parse_date, parse_instant, parse_time_of_day, parse_tz, summary, Ctx,
};
use crate::cli::{RemindArgs, ReminderIdArg, RemindersArgs, RitualArgs, SnoozeArgs, UnremindArgs};
use crate::duration;
use crate::error::{CliError, CliResult};
use crate::output::{short, time_in, Names, Report, Table};
use crate::spec;
use accord_core::reminders::recurrence::RecurrenceRule;
use accord_core::reminders::schedule::{Reminder, ReminderKind, Targets};
use accord_core::Space;
use chrono::{Duration, NaiveDate, SubsecRound as _};
use serde_json::json;

/// A rule from the options shared by `remind` and `checkin-ritual`.
fn rule(
    names: &Names,
    ctx: &Ctx,
    every: &str,
    at: &str,
    tz: Option<&str>,
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
) -> CliResult<RecurrenceRule> {
    let frequency = spec::parse("--every", every)?;
    let time = parse_time_of_day("--at", at)?;
    let time_zone = match tz {
        Some(t) => parse_tz("--tz", t)?,
        None => names.tz().name().to_owned(),
    };
    let zone: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::UTC);
    let start = from.unwrap_or_else(|| ctx.now.with_timezone(&zone).date_naive());
    let rule = RecurrenceRule {
        frequency,
        time,
        time_zone,
        start,
        until,
    };
    rule.validate()
        .map_err(|e| CliError::input("reminder", e.to_string()))?;
    Ok(rule)
}

/// A rule in words: "every week on friday at 19:00 (Europe/Berlin)".
pub fn describe_rule(r: &RecurrenceRule) -> String {
    format!(
        "every {} at {} ({})",
        spec::describe(&r.frequency),
        r.time.format("%H:%M"),
        r.time_zone
    )
}

/// The next time a rule fires, in words.
fn next_of(r: &RecurrenceRule, ctx: &Ctx) -> String {
    let zone: chrono_tz::Tz = r.time_zone.parse().unwrap_or(chrono_tz::UTC);
    match r.next_occurrence(ctx.now) {
        Ok(Some(o)) => format!("next: {}", time_in(o.fires_at, zone)),
        _ => "it has no further dates".into(),
    }
}

pub fn remind(ctx: &Ctx, a: &RemindArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let id = agreement_id(&mut space, &a.id)?;
    let names = names(&mut space)?;
    let from = a
        .from
        .as_deref()
        .map(|d| parse_date("--from", d))
        .transpose()?;
    let until = a
        .until
        .as_deref()
        .map(|d| parse_date("--until", d))
        .transpose()?;
    let r = rule(&names, ctx, &a.every, &a.at, a.tz.as_deref(), from, until)?;
    let rule_id = space.add_commitment_rule(&id, r.clone(), None, ctx.now)?;
    let rules = space.commitment_rules(Some(&id))?;
    let added = rules.into_iter().find(|x| x.id == rule_id);
    let s = summary(&mut space, &id)?;
    let when = if s.status == accord_core::Status::Active
        || s.status == accord_core::Status::NeedsRenegotiation
    {
        next_of(&r, ctx)
    } else {
        "it reminds once it is active (both of you accepted it)".to_owned()
    };
    let who = match added.as_ref().map(|x| &x.targets) {
        Some(Targets::Partner(p)) => format!("reminds {}", names.plain(p)),
        _ => "reminds both of you".into(),
    };
    Ok(Report::new(
        json!({ "id": rule_id, "rule": added }),
        format!(
            "Added reminder {} to \"{}\": {}, {who}; {}.\n",
            short(&rule_id),
            s.title,
            describe_rule(&r),
            when
        ),
    ))
}

pub fn unremind(ctx: &Ctx, a: &UnremindArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let prefix = a.rule.trim();
    let rules = space.commitment_rules(None)?;
    let matching: Vec<_> = rules
        .iter()
        .filter(|r| !prefix.is_empty() && r.id.starts_with(prefix))
        .collect();
    let found = match matching.as_slice() {
        [one] => (*one).clone(),
        [] => {
            return Err(accord_core::Error::NotFound {
                what: "reminder rule",
                id: prefix.to_owned(),
            }
            .into())
        }
        many => {
            return Err(CliError::input(
                "id",
                format!(
                    "'{prefix}' matches {} reminder rules; give more characters",
                    many.len()
                ),
            ))
        }
    };
    space.remove_commitment_rule(&found.id, ctx.now)?;
    Ok(Report::new(
        json!({ "removed": found }),
        format!(
            "Removed reminder {} ({}).\n",
            short(&found.id),
            describe_rule(&found.rule)
        ),
    ))
}

pub fn ritual(ctx: &Ctx, a: &RitualArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let names = names(&mut space)?;
    if a.off {
        space.set_checkin_ritual(None, ctx.now)?;
        return Ok(Report::new(
            json!({ "rule": null }),
            "Turned the check-in ritual off.\n",
        ));
    }
    let (Some(every), Some(at)) = (a.every.as_deref(), a.at.as_deref()) else {
        return Err(CliError::input(
            "checkin-ritual",
            "give --every SPEC --at HH:MM, or --off",
        ));
    };
    let r = rule(&names, ctx, every, at, a.tz.as_deref(), None, None)?;
    space.set_checkin_ritual(Some(r.clone()), ctx.now)?;
    Ok(Report::new(
        json!({ "rule": r }),
        format!(
            "Your check-in is {}; {}.\n",
            describe_rule(&r),
            next_of(&r, ctx)
        ),
    ))
}

fn kind_words(k: ReminderKind) -> &'static str {
    match k {
        ReminderKind::Commitment => "commitment",
        ReminderKind::Review => "review",
        ReminderKind::CheckIn => "check-in",
        ReminderKind::ConcernNudge => "concern",
        ReminderKind::ExperimentEnds => "trial ends",
    }
}

pub fn upcoming(ctx: &Ctx, a: &RemindersArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let names = names(&mut space)?;
    let from = match &a.from {
        Some(t) => parse_instant("--from", t, names.tz())?,
        None => ctx.now,
    };
    let list = space.upcoming_reminders(from, None, a.limit, Duration::days(i64::from(a.days)))?;
    let text = if list.is_empty() {
        format!(
            "No reminders in the next {} days. Add one with `accord remind ID --every SPEC --at HH:MM`.\n",
            a.days
        )
    } else {
        reminder_table(&list, &names)
    };
    Ok(Report::new(&list, text))
}

fn reminder_table(list: &[Reminder], names: &Names) -> String {
    let mut table = Table::new(&["id", "when", "what", "reminder"]);
    for r in list {
        table.row(vec![
            short(&r.id),
            names.time(r.fires_at_utc),
            kind_words(r.kind).to_owned(),
            r.title.clone(),
        ]);
    }
    table.render()
}

fn found(space: &mut Space, id: &str, ctx: &Ctx) -> Option<Reminder> {
    let id = id.trim();
    let partners: Vec<_> = space
        .info()
        .map(|i| i.partners.into_iter().map(|p| p.id).collect())
        .unwrap_or_default();
    partners.iter().find_map(|p| {
        space
            .upcoming_reminders(ctx.now, Some(p), usize::MAX, Duration::days(400))
            .ok()?
            .into_iter()
            .find(|r| r.id.starts_with(id) || r.occurrence.starts_with(id))
    })
}

pub fn done(ctx: &Ctx, a: &ReminderIdArg) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let names = names(&mut space)?;
    let before = found(&mut space, &a.id, ctx);
    space.mark_reminder_done(&a.id, ctx.now)?;
    let title = before
        .as_ref()
        .map(|r| format!(" \"{}\" ({})", r.title, names.time(r.fires_at_utc)))
        .unwrap_or_default();
    Ok(Report::new(
        json!({ "id": a.id.trim(), "done": true, "reminder": before }),
        format!("Marked{title} done, for both of you.\n"),
    ))
}

pub fn snooze(ctx: &Ctx, a: &SnoozeArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let names = names(&mut space)?;
    let until = match (&a.for_, &a.until) {
        (Some(d), _) => duration::parse("--for", d)?.after("--for", ctx.now)?,
        (None, Some(t)) => parse_instant("--until", t, names.tz())?,
        (None, None) => {
            return Err(CliError::input(
                "snooze",
                "give --for DURATION or --until TIME",
            ))
        }
    };
    // Whole seconds: what is shown (RFC 3339) is exactly when it fires.
    let until = until.trunc_subsecs(0);
    let before = found(&mut space, &a.id, ctx);
    space.snooze_reminder(&a.id, until, ctx.now)?;
    let title = before
        .as_ref()
        .map(|r| format!(" \"{}\"", r.title))
        .unwrap_or_default();
    Ok(Report::new(
        json!({ "id": a.id.trim(), "snoozed_until": until, "reminder": before }),
        format!("Snoozed{title} until {}.\n", names.time(until)),
    ))
}
