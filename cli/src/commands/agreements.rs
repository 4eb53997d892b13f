//! Agreements: `add`, `list`, `show`, `edit`, `accept`, `resolve`, `retire`, `renegotiate`,
//! `reviewed`, `log`.

use super::{
    agreement_id, names, parse_category, parse_concerns, parse_date, parse_kind, parse_status,
    parse_strength, status_sentence, summary, today, Ctx,
};
use crate::cli::{
    AddArgs, EditArgs, ListArgs, LogArgs, LogKindArg, RenegotiateArgs, ResolveArgs, RetireArgs,
    ReviewedArgs,
};
use crate::duration::parse_cadence;
use crate::error::{CliError, CliResult};
use crate::output::{indent, short, unique_prefixes, Names, Report, Table};
use crate::spec;
use accord_core::{
    AgreementEdit, AgreementId, AgreementSummary, CadenceChange, Field, ListFilter, LogKind,
    NewAgreement, Space,
};
use serde_json::json;

/// A report of the agreement after a change: its summary as JSON, a sentence as text.
fn changed(space: &mut Space, id: &AgreementId, verb: &str) -> CliResult<Report> {
    let names = names(space)?;
    let s = summary(space, id)?;
    let text = format!(
        "{verb} \"{}\" ({}). Now {}.\n",
        s.title,
        short(s.id.as_str()),
        status_sentence(&s, &names)
    );
    Ok(Report::new(&s, text))
}

pub fn add(ctx: &Ctx, a: &AddArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let names = names(&mut space)?;
    let input = NewAgreement {
        title: a.title.clone(),
        details: a.details.clone(),
        category: parse_category(&mut space, &a.category)?,
        kind: parse_kind(&a.kind)?,
        strength: parse_strength(&a.strength)?,
        concerns: parse_concerns(&names, &a.concerns)?,
        review_every: a
            .review_every
            .as_deref()
            .map(|t| parse_cadence("--review-every", t))
            .transpose()?,
        draft: a.draft,
    };
    let id = space.create_agreement(input, ctx.now)?;
    let s = summary(&mut space, &id)?;
    let note = format!("Added \"{}\": {}.", s.title, status_sentence(&s, &names));
    Ok(Report::new(&s, format!("{id}\n")).with_note(note))
}

fn accepted_by(a: &AgreementSummary, names: &Names) -> String {
    if a.accepted_by.is_empty() {
        "nobody".into()
    } else {
        a.accepted_by
            .iter()
            .map(|p| names.plain(p))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

pub fn list(ctx: &Ctx, a: &ListArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let filter = ListFilter {
        category: a
            .category
            .as_deref()
            .map(|c| parse_category(&mut space, c))
            .transpose()?,
        status: a.status.as_deref().map(parse_status).transpose()?,
    };
    let all = space.list(&ListFilter::default())?;
    let shown = space.list(&filter)?;
    let names = names(&mut space)?;
    let prefix = unique_prefixes(all.iter().map(|a| a.id.as_str()));
    let text = if shown.is_empty() {
        if all.is_empty() {
            "No agreements yet. Write one with `accord add --title \"...\"`.\n".to_owned()
        } else {
            "No agreements match.\n".to_owned()
        }
    } else {
        let mut table = Table::new(&[
            "id",
            "status",
            "category",
            "kind",
            "strength",
            "accepted by",
            "title",
        ]);
        for s in &shown {
            table.row(vec![
                prefix(s.id.as_str()),
                s.status.words().to_owned(),
                s.category.label().to_owned(),
                s.kind.label().to_owned(),
                s.strength.label().to_owned(),
                accepted_by(s, &names),
                s.title.clone(),
            ]);
        }
        table.render()
    };
    Ok(Report::new(&shown, text))
}

pub fn show(ctx: &Ctx, prefix: &str) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let id = agreement_id(&mut space, prefix)?;
    let names = names(&mut space)?;
    let d = space.agreement(&id)?;
    let history = space.history(&id)?;
    let log = space.follow_through(Some(&id))?;
    let rules = space.commitment_rules(Some(&id))?;
    let concerns: Vec<_> = space
        .concerns()?
        .into_iter()
        .filter(|c| c.agreement.as_ref() == Some(&id))
        .collect();
    let s = &d.summary;

    let mut t = String::new();
    t.push_str(&format!("{}\n\n", s.title));
    let mut facts = vec![
        ("id", s.id.to_string()),
        ("status", status_sentence(s, &names)),
        ("category", s.category.label().to_owned()),
        ("kind", s.kind.label().to_owned()),
        ("strength", s.strength.label().to_owned()),
        ("concerns", names.concerns(&s.concerns)),
        (
            "written by",
            format!(
                "{}, {}",
                names.partner(&d.created_by),
                names.time(s.created_at)
            ),
        ),
    ];
    match (&d.review_every, &s.next_review) {
        (Some(c), Some(next)) => {
            facts.push(("review", format!("every {}, next on {next}", c.describe())))
        }
        (Some(c), None) => facts.push(("review", format!("every {}", c.describe()))),
        (None, Some(next)) => facts.push(("review", format!("on {next}"))),
        (None, None) => {}
    }
    if d.renegotiation_requested {
        facts.push((
            "renegotiation",
            "requested: both of you accept again to make it active".into(),
        ));
    }
    if let Some(r) = &d.retirement {
        facts.push((
            "retired",
            format!(
                "by {}, {}: {}",
                names.partner(&r.partner),
                names.time(r.at),
                r.reason
            ),
        ));
    }
    for (k, v) in facts {
        t.push_str(&format!("{:<14}{v}\n", format!("{k}:")));
    }
    if !d.details.is_empty() {
        t.push_str(&format!("\nDetails\n{}\n", indent(&d.details, 2)));
    }

    t.push_str("\nAcceptances\n");
    if d.acceptances.is_empty() {
        t.push_str("  nobody has accepted it yet\n");
    }
    for acc in &d.acceptances {
        t.push_str(&format!(
            "  {} accepted {} {}\n",
            names.partner(&acc.partner),
            if acc.current {
                "these words,"
            } else {
                "earlier words,"
            },
            names.time(acc.at)
        ));
        if let Some(since) = d
            .changes_since_acceptance
            .iter()
            .find(|c| c.partner == acc.partner)
        {
            for c in &since.changes {
                t.push_str(&format!(
                    "    changed since: {}: \"{}\" -> \"{}\"\n",
                    c.field.key(),
                    names.field_value(c.field, &c.accepted),
                    names.field_value(c.field, &c.now)
                ));
            }
        }
    }

    if !d.conflicts.is_empty() {
        t.push_str(&format!(
            "\nConflicts: two versions met. Settle each with `accord resolve {} --field F --candidate N` (or --value for new words)\n",
            short(id.as_str())
        ));
        for c in &d.conflicts {
            t.push_str(&format!("  {}:\n", c.field.key()));
            for (i, cand) in c.candidates.iter().enumerate() {
                let by = cand
                    .author
                    .as_ref()
                    .map(|p| names.partner(p))
                    .unwrap_or_else(|| "an unknown device".into());
                t.push_str(&format!(
                    "    {}. \"{}\"  (by {by})\n",
                    i + 1,
                    names.field_value(c.field, &cand.value)
                ));
            }
        }
    }

    if !rules.is_empty() {
        t.push_str("\nReminders\n");
        for r in &rules {
            t.push_str(&format!(
                "  rule {}: every {} at {} ({}), from {}{}, for {}\n",
                short(&r.id),
                spec::describe(&r.rule.frequency),
                r.rule.time.format("%H:%M"),
                r.rule.time_zone,
                r.rule.start,
                r.rule
                    .until
                    .map(|u| format!(" until {u}"))
                    .unwrap_or_default(),
                match &r.targets {
                    accord_core::reminders::schedule::Targets::Both => "both".to_owned(),
                    accord_core::reminders::schedule::Targets::Partner(p) => names.plain(p),
                }
            ));
        }
    }

    if !log.is_empty() {
        t.push_str("\nFollow-through\n");
        for e in &log {
            let text = if e.text.is_empty() {
                String::new()
            } else {
                format!(": {}", e.text)
            };
            t.push_str(&format!(
                "  {}  {} logged {}{text}\n",
                names.time(e.at),
                names.plain(&e.author),
                e.kind.as_str()
            ));
        }
    }

    if !concerns.is_empty() {
        t.push_str("\nConcerns\n");
        for c in &concerns {
            t.push_str(&format!(
                "  {}  {}, raised by {}: {}\n",
                short(c.id.as_str()),
                super::concerns::state_words(c.state),
                names.plain(&c.raised_by),
                c.what_happened
            ));
        }
    }

    t.push_str("\nHistory\n");
    for h in &history {
        let who = h
            .partner
            .as_ref()
            .map(|p| names.plain(p))
            .unwrap_or_else(|| "an unknown device".into());
        t.push_str(&format!(
            "  {}  {who} {}\n",
            names.time(h.at),
            action_words(&h.action)
        ));
        if h.action != "created" {
            for c in &h.changes {
                t.push_str(&format!(
                    "    {}: \"{}\" -> \"{}\"\n",
                    c.field.key(),
                    names.field_value(c.field, &c.accepted),
                    names.field_value(c.field, &c.now)
                ));
            }
        }
    }

    let json = json!({
        "agreement": d,
        "history": history,
        "log": log,
        "rules": rules,
        "concerns": concerns,
    });
    Ok(Report::new(json, t))
}

/// A history action in words (the core names reminder and concern operations tersely).
fn action_words(action: &str) -> &str {
    match action {
        "add rule" => "added a reminder",
        "edit rule" => "changed a reminder",
        "remove rule" => "removed a reminder",
        "concern step" => "took a step on a concern",
        other => other,
    }
}

pub fn edit(ctx: &Ctx, a: &EditArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let id = agreement_id(&mut space, &a.id)?;
    let names = names(&mut space)?;
    let review_every = match a.review_every.as_deref().map(str::trim) {
        None => None,
        Some(t) if matches!(t.to_lowercase().as_str(), "none" | "off" | "never") => {
            Some(CadenceChange::Remove)
        }
        Some(t) => Some(CadenceChange::Set {
            cadence: parse_cadence("--review-every", t)?,
        }),
    };
    let edit = AgreementEdit {
        title: a.title.clone(),
        details: a.details.clone(),
        category: a
            .category
            .as_deref()
            .map(|c| parse_category(&mut space, c))
            .transpose()?,
        kind: a.kind.as_deref().map(parse_kind).transpose()?,
        strength: a.strength.as_deref().map(parse_strength).transpose()?,
        concerns: a
            .concerns
            .as_deref()
            .map(|c| parse_concerns(&names, c))
            .transpose()?,
        review_every,
        next_review: a
            .next_review
            .as_deref()
            .map(|d| parse_date("--next-review", d))
            .transpose()?,
    };
    if edit.is_empty() {
        return Err(CliError::input(
            "edit",
            "changes nothing: give at least one of --title, --details, --category, --kind, --strength, --concerns, --review-every, --next-review",
        ));
    }
    space.edit_agreement(&id, edit, ctx.now)?;
    changed(&mut space, &id, "Changed")
}

pub fn accept(ctx: &Ctx, prefix: &str) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let id = agreement_id(&mut space, prefix)?;
    space.accept(&id, ctx.now)?;
    changed(&mut space, &id, "Accepted")
}

pub fn resolve(ctx: &Ctx, a: &ResolveArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let id = agreement_id(&mut space, &a.id)?;
    let field = Field::parse(&a.field)?;
    let names = names(&mut space)?;
    let details = space.agreement(&id)?;
    let conflict = details.conflicts.iter().find(|c| c.field == field);
    let value = match (a.candidate, &a.value) {
        (Some(n), _) => {
            let conflict = conflict.ok_or_else(|| {
                CliError::input(
                    "--field",
                    format!(
                        "{} of this agreement is not in conflict; use `accord edit` to change it",
                        field.key()
                    ),
                )
            })?;
            let cand = n
                .checked_sub(1)
                .and_then(|i| conflict.candidates.get(i))
                .ok_or_else(|| {
                    CliError::input(
                        "--candidate",
                        format!(
                            "{n} is not a version of {}: choose 1 to {} (see `accord show`)",
                            field.key(),
                            conflict.candidates.len()
                        ),
                    )
                })?;
            // Stored values go back in the form the core reads.
            match field {
                Field::Category => cand
                    .value
                    .strip_prefix("custom:")
                    .unwrap_or(&cand.value)
                    .to_owned(),
                _ => cand.value.clone(),
            }
        }
        (None, Some(v)) => match field {
            Field::Concerns => parse_concerns(&names, v)?.to_stored(),
            Field::ReviewEvery => parse_cadence("--value", v)?.to_stored(),
            _ => v.clone(),
        },
        (None, None) => return Err(CliError::input("resolve", "give --value or --candidate")),
    };
    space.resolve_conflict(&id, field, &value, ctx.now)?;
    changed(&mut space, &id, "Settled")
}

pub fn retire(ctx: &Ctx, a: &RetireArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let id = agreement_id(&mut space, &a.id)?;
    space.retire(&id, &a.reason, ctx.now)?;
    changed(&mut space, &id, "Retired")
}

pub fn renegotiate(ctx: &Ctx, a: &RenegotiateArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let id = agreement_id(&mut space, &a.id)?;
    space.request_renegotiation(&id, &a.reason, ctx.now)?;
    changed(&mut space, &id, "Asked to renegotiate")
}

pub fn reviewed(ctx: &Ctx, a: &ReviewedArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let id = agreement_id(&mut space, &a.id)?;
    let names = names(&mut space)?;
    let on = match &a.on {
        Some(d) => parse_date("--on", d)?,
        None => today(&names, ctx.now),
    };
    space.mark_reviewed(&id, on, ctx.now)?;
    let s = summary(&mut space, &id)?;
    let next = s
        .next_review
        .map(|d| format!("the next review is on {d}"))
        .unwrap_or_else(|| "no next review is set".into());
    Ok(Report::new(
        &s,
        format!("Reviewed \"{}\" on {on}; {next}.\n", s.title),
    ))
}

pub fn log(ctx: &Ctx, a: &LogArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let id = agreement_id(&mut space, &a.id)?;
    let kind = match a.kind {
        LogKindArg::Kept => LogKind::Kept,
        LogKindArg::Missed => LogKind::Missed,
        LogKindArg::Note => LogKind::Note,
    };
    let entry = space.add_log_entry(&id, kind, &a.text, ctx.now)?;
    let s = summary(&mut space, &id)?;
    let what = match kind {
        LogKind::Kept => "kept",
        LogKind::Missed => "missed",
        LogKind::Note => "a note",
    };
    Ok(Report::new(
        json!({ "id": entry.id, "entry": entry }),
        format!("Logged {what} for \"{}\"\n", s.title),
    ))
}
