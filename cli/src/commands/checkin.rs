//! `checkin`: the agenda, in DOMAIN.md's order, or `--record` to record one held.

use super::concerns::{about, state_words};
use super::{names, parse_date, today, Ctx};
use crate::cli::CheckinArgs;
use crate::error::CliResult;
use crate::output::{short, Report};
use accord_core::ListFilter;

pub fn checkin(ctx: &Ctx, a: &CheckinArgs) -> CliResult<Report> {
    let mut space = ctx.open()?;
    let names = names(&mut space)?;
    if a.record {
        let on = match &a.on {
            Some(d) => parse_date("--on", d)?,
            None => today(&names, ctx.now),
        };
        let held = space.add_checkin(on, &a.notes, ctx.now)?;
        return Ok(Report::new(
            &held,
            format!(
                "Recorded the check-in held on {on}. The next agenda counts missed commitments from here.\n"
            ),
        ));
    }

    let agenda = space.agenda(ctx.now)?;
    let titles = space.list(&ListFilter::default())?;
    let title_of = |id: &accord_core::AgreementId| {
        titles
            .iter()
            .find(|a| &a.id == id)
            .map(|a| a.title.clone())
            .unwrap_or_else(|| format!("agreement {}", short(id.as_str())))
    };
    let none = "   nothing\n";
    let mut t = String::from("Check-in agenda");
    match &agenda.last_checkin {
        Some(c) => t.push_str(&format!(" (last check-in: {})\n\n", c.held_on)),
        None => t.push_str(" (your first check-in)\n\n"),
    }

    t.push_str(&format!(
        "1. Appreciation\n   {}\n\n",
        agenda.appreciation_prompt
    ));

    t.push_str("2. Concerns still open (oldest first)\n");
    if agenda.open_concerns.is_empty() {
        t.push_str(none);
    }
    for c in &agenda.open_concerns {
        t.push_str(&format!(
            "   - {} about {}, raised by {} ({}): {}\n",
            short(c.id.as_str()),
            about(&mut space, c),
            names.plain(&c.raised_by),
            state_words(c.state),
            c.what_happened
        ));
    }
    t.push('\n');

    t.push_str("3. Agreements due for review\n");
    if agenda.due_for_review.is_empty() {
        t.push_str(none);
    }
    for s in &agenda.due_for_review {
        t.push_str(&format!(
            "   - {} \"{}\" (review was due {}; after reviewing: `accord reviewed {}`)\n",
            short(s.id.as_str()),
            s.title,
            s.next_review.map(|d| d.to_string()).unwrap_or_default(),
            short(s.id.as_str())
        ));
    }
    t.push('\n');

    t.push_str("4. Commitments missed since the last check-in\n");
    if agenda.missed_since_last_checkin.is_empty() {
        t.push_str(none);
    }
    for e in &agenda.missed_since_last_checkin {
        let text = if e.text.is_empty() {
            String::new()
        } else {
            format!(": {}", e.text)
        };
        t.push_str(&format!(
            "   - \"{}\", logged by {} on {}{text}\n",
            title_of(&e.agreement),
            names.plain(&e.author),
            names.time(e.at)
        ));
    }
    t.push('\n');

    t.push_str("5. Drafts and proposals waiting for a partner\n");
    if agenda.waiting_for_partner.is_empty() {
        t.push_str(none);
    }
    for w in &agenda.waiting_for_partner {
        let who: Vec<String> = w.waiting_for.iter().map(|p| names.partner(p)).collect();
        let waiting = if who.is_empty() {
            "your partner (not joined yet)".to_owned()
        } else {
            who.join(" and ")
        };
        t.push_str(&format!(
            "   - {} \"{}\" ({}; waiting for {waiting})\n",
            short(w.agreement.id.as_str()),
            w.agreement.title,
            w.agreement.status.words()
        ));
    }
    t.push('\n');

    t.push_str("6. Upcoming commitments\n");
    if agenda.upcoming.is_empty() {
        t.push_str(none);
    }
    for u in &agenda.upcoming {
        t.push_str(&format!("   - {}  {}\n", names.time(u.at), u.title));
    }
    t.push_str("\nAfterwards: `accord checkin --record [--notes \"...\"]`.\n");
    Ok(Report::new(&agenda, t))
}
