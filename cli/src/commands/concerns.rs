//! Concerns and repair: `concern raise|ack|respond|resolve|renegotiate|show`, `concerns`.

use super::{agreement_id, names, Ctx};
use crate::cli::ConcernCommand;
use crate::error::CliResult;
use crate::output::{short, unique_prefixes, Names, Report, Table};
use accord_core::{Concern, ConcernState, ConcernStep, ListFilter, NewConcern, Space};

/// A concern's state in words.
pub fn state_words(s: ConcernState) -> &'static str {
    match s {
        ConcernState::Open => "open",
        ConcernState::Acknowledged => "acknowledged",
        ConcernState::Responded => "responded",
        ConcernState::Resolved => "resolved",
        ConcernState::Renegotiation => "turned into a renegotiation",
    }
}

/// What a concern is about, in words.
pub fn about(space: &mut Space, c: &Concern) -> String {
    match &c.agreement {
        None => "the relationship".into(),
        Some(id) => space
            .list(&ListFilter::default())
            .ok()
            .and_then(|all| all.into_iter().find(|a| &a.id == id))
            .map(|a| format!("\"{}\"", a.title))
            .unwrap_or_else(|| format!("agreement {}", short(id.as_str()))),
    }
}

fn detail(space: &mut Space, c: &Concern, names: &Names) -> String {
    let mut t = format!(
        "Concern {} about {}\nstate:         {}\nraised by:     {}, {}\n\nWhat happened\n  {}\n",
        c.id,
        about(space, c),
        state_words(c.state),
        names.partner(&c.raised_by),
        names.time(c.raised_at),
        c.what_happened
    );
    if !c.how_i_felt.is_empty() {
        t.push_str(&format!("How I felt\n  {}\n", c.how_i_felt));
    }
    if !c.what_i_need.is_empty() {
        t.push_str(&format!("What I need in repair\n  {}\n", c.what_i_need));
    }
    if !c.events.is_empty() {
        t.push_str("\nSteps\n");
        for e in &c.events {
            let step = match e.step {
                ConcernStep::Acknowledged => "acknowledged it",
                ConcernStep::Responded => "responded",
                ConcernStep::Resolved => "said it is resolved",
                ConcernStep::Renegotiation => "turned it into a renegotiation",
            };
            let text = if e.text.is_empty() {
                String::new()
            } else {
                format!(": {}", e.text)
            };
            t.push_str(&format!(
                "  {}  {} {step}{text}\n",
                names.time(e.at),
                names.plain(&e.partner)
            ));
        }
    }
    t
}

/// What the concern waits for next, in a sentence.
fn next_step(c: &Concern, names: &Names) -> String {
    let me = &names.info().me;
    let raiser = names.plain(&c.raised_by);
    match c.state {
        _ if !c.state.is_open() => "It is closed.".into(),
        ConcernState::Open if &c.raised_by == me => "Your partner acknowledges it next.".into(),
        ConcernState::Open => "Acknowledge it with `accord concern ack`.".into(),
        _ if &c.raised_by == me => {
            "Say it is resolved with `accord concern resolve` once it is repaired.".into()
        }
        _ => format!("{raiser} says when it is resolved."),
    }
}

pub fn concern(ctx: &Ctx, cmd: &ConcernCommand) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let step = |space: &mut Space, prefix: &str, step: ConcernStep, text: &str| {
        let id = space.find_concern(prefix)?;
        CliResult::Ok(space.take_concern_step(&id, step, text, ctx.now)?)
    };
    let (c, verb) = match cmd {
        ConcernCommand::Raise(a) => {
            let agreement =
                a.id.as_deref()
                    .map(|p| agreement_id(&mut space, p))
                    .transpose()?;
            let id = space.raise_concern(
                NewConcern {
                    agreement,
                    what_happened: a.what.clone(),
                    how_i_felt: a.felt.clone(),
                    what_i_need: a.need.clone(),
                },
                ctx.now,
            )?;
            (space.concern(&id)?, "Raised")
        }
        ConcernCommand::Ack(a) => (
            step(&mut space, &a.id, ConcernStep::Acknowledged, "")?,
            "Acknowledged",
        ),
        ConcernCommand::Respond(a) => (
            step(&mut space, &a.id, ConcernStep::Responded, &a.text)?,
            "Responded to",
        ),
        ConcernCommand::Resolve(a) => (
            step(&mut space, &a.id, ConcernStep::Resolved, "")?,
            "Resolved",
        ),
        ConcernCommand::Renegotiate(a) => (
            step(&mut space, &a.id, ConcernStep::Renegotiation, &a.reason)?,
            "Turned into a renegotiation",
        ),
        ConcernCommand::Show(a) => {
            let id = space.find_concern(&a.id)?;
            let names = names(&mut space)?;
            let c = space.concern(&id)?;
            let text = detail(&mut space, &c, &names);
            return Ok(Report::new(&c, text));
        }
    };
    let names = names(&mut space)?;
    let text = format!(
        "{verb}: concern {} about {} ({}). {}\n",
        short(c.id.as_str()),
        about(&mut space, &c),
        state_words(c.state),
        next_step(&c, &names)
    );
    Ok(Report::new(&c, text))
}

pub fn list(ctx: &Ctx) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let names = names(&mut space)?;
    let all = space.concerns()?;
    let text = if all.is_empty() {
        "No concerns. Raise one with `accord concern raise [ID] --what \"...\"`.\n".to_owned()
    } else {
        let prefix = unique_prefixes(all.iter().map(|c| c.id.as_str()));
        let mut table = Table::new(&["id", "state", "raised", "by", "about", "what happened"]);
        for c in &all {
            table.row(vec![
                prefix(c.id.as_str()),
                state_words(c.state).to_owned(),
                names.time(c.raised_at),
                names.plain(&c.raised_by),
                about(&mut space, c),
                c.what_happened.clone(),
            ]);
        }
        table.render()
    };
    Ok(Report::new(&all, text))
}
