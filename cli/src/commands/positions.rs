//! Sealed positions: `position`, `positions`.

use super::{names, Ctx};
use crate::cli::{PositionArgs, PositionsArgs};
use crate::error::CliResult;
use crate::output::{Names, Report, Table};
use accord_core::{Error, ListFilter, Position, PositionState, Space};
use serde_json::json;

/// What a sealed text shows as.
pub const SEALED: &str = "(sealed until both are ready)";

/// The stored topic for what was typed: an agreement's id when the text is a unique prefix
/// of one (lowercase letters and digits only), else the free name itself.
fn topic_of(space: &mut Space, text: &str) -> CliResult<String> {
    let t = text.trim();
    let id_like = t
        .chars()
        .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase());
    if !t.is_empty() && id_like {
        match space.find_agreement(t) {
            Ok(id) => return Ok(id.to_string()),
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(t.to_owned())
}

/// A topic for people: an agreement's title (with its short id), or the free name.
fn topic_label(space: &mut Space, topic: &str) -> String {
    let titles = space.list(&ListFilter::default()).unwrap_or_default();
    match titles.iter().find(|a| a.id.as_str() == topic) {
        Some(a) => format!("\"{}\" ({})", a.title, crate::output::short(a.id.as_str())),
        None => topic.to_owned(),
    }
}

fn state_words(p: &Position) -> &'static str {
    match p.state {
        PositionState::Draft => "draft",
        PositionState::Ready => "ready",
        PositionState::Revealed => "revealed",
    }
}

fn text_of(p: &Position, names: &Names) -> String {
    match &p.text {
        Some(t) => t.clone(),
        None if p.partner == names.info().me => {
            "(this device cannot read it: it lacks your private key)".into()
        }
        None => SEALED.into(),
    }
}

fn table(space: &mut Space, positions: &[Position], names: &Names) -> String {
    let mut table = Table::new(&["topic", "partner", "state", "position"]);
    for p in positions {
        table.row(vec![
            topic_label(space, &p.topic),
            names.partner(&p.partner),
            state_words(p).to_owned(),
            text_of(p, names),
        ]);
    }
    table.render()
}

fn as_json(positions: &[Position], names: &Names) -> serde_json::Value {
    json!(positions
        .iter()
        .map(|p| json!({
            "topic": p.topic,
            "partner": p.partner,
            "partner_name": names.plain(&p.partner),
            "state": p.state,
            "text": p.text,
            "sealed": p.text.is_none() && p.partner != names.info().me,
        }))
        .collect::<Vec<_>>())
}

pub fn position(ctx: &Ctx, a: &PositionArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let topic = topic_of(&mut space, &a.topic)?;
    if let Some(text) = &a.text {
        space.write_position(&topic, text, ctx.now)?;
    }
    if a.ready {
        space.mark_position_ready(&topic, ctx.now)?;
    }
    let names = names(&mut space)?;
    let positions = space.positions(Some(&topic))?;
    let label = topic_label(&mut space, &topic);
    let revealed = positions
        .iter()
        .filter(|p| p.state == PositionState::Revealed)
        .count()
        >= 2;
    let what = match (a.text.is_some(), a.ready) {
        (true, true) => "Wrote your position and marked it ready (final)",
        (true, false) => {
            "Wrote your position (sealed: your partner sees it once both of you are ready)"
        }
        _ => "Marked your position ready (final)",
    };
    let after = if revealed {
        "Both of you are ready: both positions are revealed."
    } else if a.ready {
        "Both positions are revealed once your partner is ready too."
    } else {
        "Mark it ready with --ready when it says what you mean."
    };
    let text = format!(
        "{what} on {label}.\n{after}\n\n{}",
        table(&mut space, &positions, &names)
    );
    Ok(Report::new(
        json!({ "topic": topic, "positions": as_json(&positions, &names) }),
        text,
    ))
}

pub fn positions(ctx: &Ctx, a: &PositionsArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let topic = a
        .topic
        .as_deref()
        .map(|t| topic_of(&mut space, t))
        .transpose()?;
    let names = names(&mut space)?;
    let positions = space.positions(topic.as_deref())?;
    let text = if positions.is_empty() {
        match &a.topic {
            Some(t) => format!(
                "No positions on {t} yet. Write yours with `accord position {t} --text \"...\"`.\n"
            ),
            None => "No positions yet. Write yours with `accord position TOPIC --text \"...\"`.\n"
                .into(),
        }
    } else {
        table(&mut space, &positions, &names)
    };
    Ok(Report::new(as_json(&positions, &names), text))
}
