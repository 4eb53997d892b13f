//! `accord demo`: the product story end to end with two partners, each with a node in a
//! temporary directory, over real iroh connections on loopback.

use crate::error::{CliError, CliResult};
use crate::output::Report;
use accord_core::reminders::recurrence::{Frequency, RecurrenceRule, WeekOfMonth, Weekday};
use accord_core::*;
use chrono::{Duration as Days, NaiveTime, Utc};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

fn say(out: &mut String, line: impl AsRef<str>) {
    println!("{}", line.as_ref());
    let _ = writeln!(out, "{}", line.as_ref());
}

fn weekly(day: Weekday, hh: u32, tz: &str) -> RecurrenceRule {
    RecurrenceRule {
        frequency: Frequency::Weekly {
            interval: 1,
            weekdays: vec![day],
        },
        time: NaiveTime::from_hms_opt(hh, 0, 0).unwrap_or(NaiveTime::MIN),
        time_zone: tz.into(),
        start: Utc::now().date_naive(),
        until: None,
    }
}

async fn meet(out: &mut String, a: &Node, b: &Node, what: &str) -> Result<()> {
    let t = Instant::now();
    let before = b.traffic();
    let report = b.sync_now(Duration::from_secs(20)).await?;
    if report.converged.is_empty() {
        return Err(Error::NotAllowed(format!(
            "the devices did not converge: {:?}",
            report.unreachable
        )));
    }
    // Wait until the other side has applied everything too.
    let deadline = Instant::now() + Duration::from_secs(10);
    while a.space(|s| s.heads())? != b.space(|s| s.heads())? && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = t.elapsed();
    let after = b.traffic();
    say(
        out,
        format!(
            "   {what}: in sync in {:.1} ms, {} bytes sent and {} received.",
            elapsed.as_secs_f64() * 1e3,
            after
                .frame_bytes_sent
                .saturating_sub(before.frame_bytes_sent),
            after
                .frame_bytes_received
                .saturating_sub(before.frame_bytes_received)
        ),
    );
    Ok(())
}

fn show(out: &mut String, node: &Node, who: &str) -> Result<()> {
    let info = node.space(|s| s.info())?;
    let name = |id: &PartnerId| {
        info.partners
            .iter()
            .find(|p| &p.id == id)
            .map(|p| p.name.clone())
            .unwrap_or_default()
    };
    say(out, format!("   {who}'s phone:"));
    for a in node.space(|s| s.list(&ListFilter::default()))? {
        let accepted: Vec<String> = a.accepted_by.iter().map(name).collect();
        say(
            out,
            format!(
                "     [{:<19}] {:<18} {}  (accepted by {})",
                a.status.as_str(),
                a.category.label(),
                a.title,
                if accepted.is_empty() {
                    "nobody".into()
                } else {
                    accepted.join(" and ")
                }
            ),
        );
    }
    Ok(())
}

async fn story(out: &mut String, root: &std::path::Path) -> Result<()> {
    let net = NetworkConfig::loopback;
    let now = Utc::now;
    say(
        out,
        "Accord demo: Alex and Sam make their agreements explicit.\n",
    );
    let alex = Node::create(
        &root.join("alex"),
        CreateSpace {
            partner_name: "Alex".into(),
            time_zone: "Europe/Berlin".into(),
            device_name: "Alex's phone".into(),
        },
        net(),
    )
    .await?;
    say(out, "1. Alex sets up Accord on their phone.");
    let ticket = alex.invite(InviteRole::Partner, chrono::Duration::minutes(10))?;
    say(
        out,
        format!(
            "2. Alex shows Sam a pairing ticket ({} characters, fits a QR code).",
            ticket.to_text().len()
        ),
    );
    let t = Instant::now();
    let sam = Node::join(
        &root.join("sam"),
        &ticket.to_text(),
        "Sam",
        "Europe/Berlin",
        "Sam's phone",
        net(),
    )
    .await?;
    say(
        out,
        format!(
            "   Sam's phone joins over a real connection in {:.1} ms ({} bytes received).",
            t.elapsed().as_secs_f64() * 1e3,
            sam.join_bytes_received().unwrap_or(0)
        ),
    );

    say(
        out,
        "\n3. Offline, each proposes agreements from DOMAIN.md on their own phone.",
    );
    let mut lunch = NewAgreement::titled("On workdays we text once at lunch");
    lunch.details = "Longer talks wait until the evening.".into();
    let lunch = alex.space(|s| s.create_agreement(lunch, now()))?;
    let mut date = NewAgreement::titled("Date night every Friday from 19:00");
    date.category = Category::parse("time together")?;
    date.strength = Strength::Promise;
    date.details = "We alternate who plans it.".into();
    let date = alex.space(|s| s.create_agreement(date, now()))?;
    let mut money = NewAgreement::titled("Any purchase over 200 € is talked about first");
    money.category = Category::parse("finances")?;
    money.strength = Strength::Promise;
    let money = sam.space(|s| s.create_agreement(money, now()))?;
    let mut timeout =
        NewAgreement::titled("When one of us asks for a time-out, we pause for 20 minutes");
    timeout.category = Category::parse("conflict rules")?;
    timeout.strength = Strength::Experiment;
    timeout.review_every = Some(ReviewCadence::parse("1 month")?);
    let timeout = sam.space(|s| s.create_agreement(timeout, now()))?;
    let sam_id = sam.space(|s| s.info())?.me;
    let mut boundary =
        NewAgreement::titled("Please don't share what I tell you in confidence with your family");
    boundary.kind = Kind::Boundary;
    boundary.category = Category::parse("family and friends")?;
    boundary.concerns = Concerns::Partner(sam_id.clone());
    let boundary = sam.space(|s| s.create_agreement(boundary, now()))?;
    meet(out, &alex, &sam, "They meet").await?;
    for id in [&lunch, &date] {
        sam.space(|s| s.accept(id, now()))?;
    }
    for id in [&money, &timeout, &boundary] {
        alex.space(|s| s.accept(id, now()))?;
    }
    meet(out, &alex, &sam, "Both accept each other's proposals").await?;
    show(out, &alex, "Alex")?;

    say(
        out,
        "\n4. Offline again, both rewrite the date-night wording.",
    );
    {
        // Both write before either hears of the other's words, as if offline: the session
        // from the last meeting is still open, so Sam's space stays locked meanwhile and
        // Alex's words cannot reach it in between.
        let mut sam_space = sam.lock_space();
        alex.space(|s| {
            s.edit_agreement(
                &date,
                AgreementEdit {
                    title: Some("Date night every Friday from 19:30".into()),
                    ..Default::default()
                },
                now(),
            )
        })?;
        sam_space.edit_agreement(
            &date,
            AgreementEdit {
                title: Some("Date night every Friday from 19:00, phones away".into()),
                ..Default::default()
            },
            now(),
        )?;
    }
    meet(out, &alex, &sam, "They meet").await?;
    let details = sam.space(|s| s.agreement(&date))?;
    say(
        out,
        format!(
            "   The agreement is {}; nothing was mixed, both versions are kept:",
            details.summary.status.as_str()
        ),
    );
    for c in &details.conflicts {
        for candidate in &c.candidates {
            say(
                out,
                format!("     {}: \"{}\"", c.field.key(), candidate.value),
            );
        }
    }
    sam.space(|s| {
        s.resolve_conflict(
            &date,
            Field::Title,
            "Date night every Friday from 19:30, phones away",
            now(),
        )
    })?;
    meet(out, &alex, &sam, "Sam settles it").await?;
    for since in alex.space(|s| s.agreement(&date))?.changes_since_acceptance {
        for c in since.changes {
            say(
                out,
                format!(
                    "   Alex sees what changed since accepting: {} \"{}\" -> \"{}\"",
                    c.field.key(),
                    c.accepted,
                    c.now
                ),
            );
        }
    }
    alex.space(|s| s.accept(&date, now()))?;
    meet(out, &alex, &sam, "Alex accepts the new words").await?;
    say(
        out,
        format!(
            "   Date night is {} again.",
            sam.space(|s| s.agreement(&date))?.summary.status.as_str()
        ),
    );

    say(out, "\n5. Sam raises a concern; Alex repairs it.");
    alex.space(|s| s.log_follow_through(&lunch, LogKind::Missed, "Long call at 11", now()))?;
    let concern = sam.space(|s| {
        s.raise_concern(
            NewConcern {
                agreement: Some(lunch.clone()),
                what_happened: "You called three times during my meeting.".into(),
                how_i_felt: "Stressed.".into(),
                what_i_need: "Keep to the lunch text unless it's urgent.".into(),
            },
            now(),
        )
    })?;
    meet(out, &alex, &sam, "Sam's concern reaches Alex").await?;
    alex.space(|s| s.acknowledge_concern(&concern, now()))?;
    alex.space(|s| {
        s.respond_to_concern(
            &concern,
            "I'm sorry. I'll save it for the evening unless it's urgent.",
            now(),
        )
    })?;
    meet(out, &alex, &sam, "Alex acknowledges and apologises").await?;
    sam.space(|s| s.resolve_concern(&concern, now()))?;
    meet(out, &alex, &sam, "Sam says it is repaired").await?;

    say(
        out,
        "\n6. Reminders: date night, the Sunday check-in, the money talk.",
    );
    alex.space(|s| {
        s.add_commitment_rule(
            &date,
            weekly(Weekday::Friday, 19, "Europe/Berlin"),
            None,
            now(),
        )
    })?;
    let mut talk = weekly(Weekday::Saturday, 10, "Europe/Berlin");
    talk.frequency = Frequency::MonthlyOnWeekday {
        interval: 1,
        week: WeekOfMonth::First,
        weekday: Weekday::Saturday,
    };
    sam.space(|s| s.add_commitment_rule(&money, talk, None, now()))?;
    sam.space(|s| s.set_checkin_ritual(Some(weekly(Weekday::Sunday, 20, "Europe/Berlin")), now()))?;
    meet(out, &alex, &sam, "Reminder rules sync").await?;

    say(out, "\n7. The check-in agenda on Alex's phone:");
    let agenda = alex.space(|s| s.agenda(now() + Days::days(35)))?;
    say(out, format!("   1. {}", agenda.appreciation_prompt));
    say(
        out,
        format!("   2. Open concerns: {}", agenda.open_concerns.len()),
    );
    let due: Vec<&str> = agenda
        .due_for_review
        .iter()
        .map(|a| a.title.as_str())
        .collect();
    say(
        out,
        format!(
            "   3. Due for review: {}",
            if due.is_empty() {
                "nothing".into()
            } else {
                due.join("; ")
            }
        ),
    );
    say(
        out,
        format!(
            "   4. Missed since the last check-in: {}",
            agenda.missed_since_last_checkin.len()
        ),
    );
    say(
        out,
        format!(
            "   5. Waiting for a partner: {}",
            agenda.waiting_for_partner.len()
        ),
    );
    let upcoming: Vec<String> = agenda
        .upcoming
        .iter()
        .take(3)
        .map(|u| format!("{} ({})", u.title, u.at.format("%a %d %b %H:%M UTC")))
        .collect();
    say(out, format!("   6. Coming up: {}", upcoming.join("; ")));

    say(out, "\n8. Next reminders on each phone:");
    for (node, who) in [(&alex, "Alex"), (&sam, "Sam")] {
        for r in node.space(|s| s.upcoming_reminders(now(), None, 3, Days::days(30)))? {
            say(
                out,
                format!(
                    "   {who}: {} - {} (local {})",
                    r.title,
                    r.body,
                    r.fires_at_local.format("%a %d %b %H:%M")
                ),
            );
        }
    }
    show(out, &sam, "Sam")?;
    sam.shutdown().await;
    alex.shutdown().await;
    Ok(())
}

/// Runs the demo; prints as it goes.
pub fn demo() -> CliResult<Report> {
    let started = Instant::now();
    let root = tempfile_dir()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::input("demo", e.to_string()))?;
    let mut out = String::new();
    let result = rt.block_on(story(&mut out, &root));
    let _ = std::fs::remove_dir_all(&root);
    result?;
    let done = format!("\nDone in {:.1} s.", started.elapsed().as_secs_f64());
    println!("{done}");
    Ok(Report::new(
        serde_json::json!({ "narrative": out, "seconds": started.elapsed().as_secs_f64() }),
        "",
    ))
}

fn tempfile_dir() -> CliResult<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "accord-demo-{}-{}",
        std::process::id(),
        Utc::now().timestamp_millis()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| CliError::input("demo", e.to_string()))?;
    Ok(dir)
}
