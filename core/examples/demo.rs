//! The product story on the core alone: Alex and Sam each have a device (temporary
//! directories), write agreements offline, meet a conflicting rewrite, settle it, both accept,
//! Sam raises a concern that Alex repairs, and they look at the check-in agenda.
//! Changes travel between the devices by exchanging Automerge changes directly (peer-to-peer
//! sync over iroh is the sync issue).
//!
//! Run: `cargo run --release -p accord-core --example demo`

use accord_core::*;
use chrono::{Duration, Utc};
use std::time::Instant;

fn exchange(a: &mut Space, b: &mut Space) -> Result<(usize, usize)> {
    let to_b = a.changes_since(&b.heads()?)?;
    b.apply_changes(&to_b)?;
    let to_a = b.changes_since(&a.heads()?)?;
    a.apply_changes(&to_a)?;
    let bytes = |c: &Vec<Vec<u8>>| c.iter().map(Vec::len).sum::<usize>();
    Ok((bytes(&to_b), bytes(&to_a)))
}

fn show(space: &mut Space, who: &str) -> Result<()> {
    let info = space.info()?;
    let name = |id: &PartnerId| {
        info.partners
            .iter()
            .find(|p| &p.id == id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "?".into())
    };
    println!("  {who}'s device sees:");
    for a in space.list(&ListFilter::default())? {
        let accepted: Vec<String> = a.accepted_by.iter().map(name).collect();
        println!(
            "    [{:<19}] {:<16} {}  (accepted by: {})",
            a.status.as_str(),
            a.category.label(),
            a.title,
            if accepted.is_empty() {
                "nobody".into()
            } else {
                accepted.join(", ")
            }
        );
    }
    Ok(())
}

fn main() -> Result<()> {
    let started = Instant::now();
    let root = std::env::temp_dir().join(format!("accord-demo-{}", std::process::id()));
    let (alex_dir, sam_dir) = (root.join("alex"), root.join("sam"));
    let mut now = Utc::now();
    let mut tick = || {
        now += Duration::minutes(1);
        now
    };

    println!("Accord demo: a couple makes their agreements explicit.\n");
    let mut alex = Space::create(
        &alex_dir,
        CreateSpace {
            partner_name: "Alex".into(),
            time_zone: "Europe/Berlin".into(),
            device_name: "Alex's phone".into(),
        },
        tick(),
    )?;
    println!("1. Alex creates the couple space on their phone.");
    let sam_identity = DeviceIdentity::load_or_create(&sam_dir)?;
    alex.add_partner(
        "Sam",
        "Europe/Berlin",
        &sam_identity.device_id(),
        "Sam's phone",
        tick(),
    )?;
    let mut sam = Space::join(&sam_dir, &alex.export_document()?)?;
    println!("2. Alex enrols Sam's phone; Sam's phone receives the space.\n");

    println!("3. Offline, each proposes agreements from their own phone.");
    let mut lunch = NewAgreement::titled("On workdays we text once at lunch");
    lunch.details = "Longer talks wait until the evening.".into();
    let lunch = alex.create_agreement(lunch, tick())?;
    let mut date = NewAgreement::titled("Date night every Friday from 19:00");
    date.category = Category::parse("time together")?;
    date.strength = Strength::Promise;
    date.details = "We alternate who plans it.".into();
    let date = alex.create_agreement(date, tick())?;
    let mut timeout = NewAgreement::titled("Time-outs last 20 minutes, then we come back");
    timeout.category = Category::parse("conflict rules")?;
    timeout.strength = Strength::Experiment;
    timeout.review_every = Some(ReviewCadence::parse("1 month")?);
    let timeout = sam.create_agreement(timeout, tick())?;
    let mut boundary =
        NewAgreement::titled("Please don't share what I tell you in confidence with your family");
    boundary.kind = Kind::Boundary;
    boundary.category = Category::parse("family and friends")?;
    boundary.concerns = Concerns::Partner(sam.info()?.me);
    boundary.strength = Strength::Promise;
    let boundary = sam.create_agreement(boundary, tick())?;

    let t = Instant::now();
    let (ab, ba) = exchange(&mut alex, &mut sam)?;
    println!(
        "4. They meet and sync ({ab} + {ba} bytes of changes, {:.1} ms).",
        t.elapsed().as_secs_f64() * 1e3
    );
    for id in [&lunch, &date] {
        sam.accept(id, tick())?;
    }
    for id in [&timeout, &boundary] {
        alex.accept(id, tick())?;
    }
    exchange(&mut alex, &mut sam)?;
    show(&mut alex, "Alex")?;

    println!("\n5. Offline again, both rewrite the date-night wording.");
    alex.edit_agreement(
        &date,
        AgreementEdit {
            title: Some("Date night every Friday from 19:30".into()),
            ..Default::default()
        },
        tick(),
    )?;
    sam.edit_agreement(
        &date,
        AgreementEdit {
            title: Some("Date night every Friday from 19:00, phones away".into()),
            ..Default::default()
        },
        tick(),
    )?;
    exchange(&mut alex, &mut sam)?;
    let details = sam.agreement(&date)?;
    println!(
        "   After syncing, the agreement is {}: both versions are kept:",
        details.summary.status.as_str()
    );
    for c in &details.conflicts {
        for candidate in &c.candidates {
            println!("     {}: \"{}\"", c.field.key(), candidate.value);
        }
    }
    sam.resolve_conflict(
        &date,
        Field::Title,
        "Date night every Friday from 19:30, phones away",
        tick(),
    )?;
    exchange(&mut alex, &mut sam)?;
    let changed = alex.agreement(&date)?;
    for (_, changes) in &changed.changes_since_acceptance {
        for c in changes {
            println!(
                "   Sam settles it. Alex sees what changed since accepting: {} \"{}\" -> \"{}\"",
                c.field.key(),
                c.accepted,
                c.now
            );
        }
    }
    alex.accept(&date, tick())?;
    exchange(&mut alex, &mut sam)?;
    println!(
        "   Alex accepts the new words: {}.",
        sam.agreement(&date)?.summary.status.as_str()
    );

    println!("\n6. Sam raises a concern; Alex repairs it.");
    alex.log_follow_through(&lunch, LogKind::Missed, "Long call at 11", tick())?;
    let concern = sam.raise_concern(
        NewConcern {
            agreement: Some(lunch.clone()),
            what_happened: "You called three times during my meeting.".into(),
            how_i_felt: "Stressed and a bit embarrassed.".into(),
            what_i_need: "Keep to the lunch text unless it's urgent.".into(),
        },
        tick(),
    )?;
    exchange(&mut alex, &mut sam)?;
    alex.acknowledge_concern(&concern, tick())?;
    alex.respond_to_concern(
        &concern,
        "I'm sorry. I'll save it for the evening unless it's urgent.",
        tick(),
    )?;
    exchange(&mut alex, &mut sam)?;
    sam.resolve_concern(&concern, tick())?;
    exchange(&mut alex, &mut sam)?;
    println!(
        "   Concern is {:?} on both phones.",
        alex.concern(&concern)?.state
    );

    println!("\n7. The Sunday check-in agenda (Alex's phone):");
    let agenda = alex.agenda(tick() + Duration::days(35))?;
    println!("   1. {}", agenda.appreciation_prompt);
    println!("   2. Open concerns: {}", agenda.open_concerns.len());
    println!(
        "   3. Due for review: {}",
        agenda
            .due_for_review
            .iter()
            .map(|a| a.title.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    );
    println!(
        "   4. Missed since the last check-in: {}",
        agenda.missed_since_last_checkin.len()
    );
    println!(
        "   5. Waiting for a partner: {}",
        agenda.waiting_for_partner.len()
    );
    println!("   6. Upcoming commitments: computed by the reminders module (not yet wired)");
    show(&mut sam, "Sam")?;

    drop(alex);
    drop(sam);
    let _ = std::fs::remove_dir_all(&root);
    println!("\nDone in {:.2} s.", started.elapsed().as_secs_f64());
    Ok(())
}
