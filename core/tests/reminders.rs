//! Reminders computed from the space: rules in the document, done/snooze synced, targets.
mod common;

use accord_core::reminders::recurrence::{Frequency, RecurrenceRule, WeekOfMonth, Weekday};
use accord_core::reminders::schedule::{ReminderKind, Targets};
use accord_core::*;
use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use common::*;

fn weekly(day: Weekday, hh: u32, mm: u32, tz: &str) -> RecurrenceRule {
    RecurrenceRule {
        frequency: Frequency::Weekly {
            interval: 1,
            weekdays: vec![day],
        },
        time: NaiveTime::from_hms_opt(hh, mm, 0).unwrap(),
        time_zone: tz.into(),
        start: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        until: None,
    }
}

fn commitments(
    space: &mut Space,
    partner: Option<&PartnerId>,
) -> Vec<accord_core::reminders::schedule::Reminder> {
    space
        .upcoming_reminders(t(0), partner, 64, Duration::days(21))
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == ReminderKind::Commitment)
        .collect()
}

#[test]
fn a_weekly_commitment_reminds_both_at_the_rules_instant_with_stable_ids() {
    let (mut alex, mut sam) = couple();
    let date = active(&mut alex, &mut sam, "Date night every Friday from 19:00");
    alex.space
        .add_commitment_rule(
            &date,
            weekly(Weekday::Friday, 19, 0, "Europe/Berlin"),
            None,
            t(1),
        )
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    let alex_id = alex.space.info().unwrap().me;
    let sam_id = sam.space.info().unwrap().me;
    let for_alex = commitments(&mut alex.space, None);
    assert_eq!(for_alex.len(), 3);
    // 2027-03-05 is a Friday; 19:00 in Berlin (CET) is 18:00 UTC.
    assert_eq!(
        for_alex[0].fires_at_utc,
        Utc.with_ymd_and_hms(2027, 3, 5, 18, 0, 0).unwrap()
    );
    let for_sam = commitments(&mut sam.space, None);
    // Sam lives in New York: same instant, Sam's local wall clock.
    assert_eq!(for_sam[0].fires_at_utc, for_alex[0].fires_at_utc);
    assert_eq!(
        for_sam[0].fires_at_local.time(),
        NaiveTime::from_hms_opt(13, 0, 0).unwrap()
    );
    assert_eq!(for_sam[0].occurrence, for_alex[0].occurrence);
    assert_ne!(for_sam[0].id, for_alex[0].id);
    // The same reminder has the same id on every call and on every device.
    assert_eq!(commitments(&mut alex.space, Some(&sam_id)), for_sam);
    assert_eq!(commitments(&mut sam.space, Some(&alex_id)), for_alex);
    assert_eq!(commitments(&mut alex.space, None), for_alex);
}

#[test]
fn a_boundary_of_one_partner_reminds_only_that_partner() {
    let (mut alex, mut sam) = couple();
    let sam_id = sam.space.info().unwrap().me;
    let mut boundary = new_agreement("Quiet hour after work");
    boundary.kind = Kind::Boundary;
    boundary.concerns = Concerns::Partner(sam_id.clone());
    let id = active_with(&mut alex, &mut sam, boundary);
    sam.space
        .add_commitment_rule(
            &id,
            weekly(Weekday::Monday, 18, 0, "America/New_York"),
            None,
            t(1),
        )
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(commitments(&mut sam.space, None).len(), 3);
    assert!(commitments(&mut alex.space, None).is_empty());
    // ... unless the rule says otherwise.
    alex.space
        .add_commitment_rule(
            &id,
            weekly(Weekday::Tuesday, 18, 0, "UTC"),
            Some(Targets::Both),
            t(2),
        )
        .unwrap();
    assert_eq!(commitments(&mut alex.space, None).len(), 3);
}

#[test]
fn done_syncs_to_the_partner_and_snooze_is_per_partner() {
    let (mut alex, mut sam) = couple();
    let id = active(&mut alex, &mut sam, "Sunday walk");
    alex.space
        .add_commitment_rule(&id, weekly(Weekday::Sunday, 10, 0, "UTC"), None, t(1))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    let first = commitments(&mut alex.space, None)[0].clone();
    alex.space.mark_reminder_done(&first.id, t(2)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    assert!(!commitments(&mut sam.space, None)
        .iter()
        .any(|r| r.occurrence == first.occurrence));
    assert!(!commitments(&mut alex.space, None)
        .iter()
        .any(|r| r.occurrence == first.occurrence));

    let sams = commitments(&mut sam.space, None)[0].clone();
    let until = sams.fires_at_utc + Duration::hours(2);
    sam.space.snooze_reminder(&sams.id, until, t(3)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    let snoozed = commitments(&mut sam.space, None)
        .into_iter()
        .find(|r| r.id == sams.id)
        .unwrap();
    assert_eq!(snoozed.fires_at_utc, until);
    let alexs = commitments(&mut alex.space, None)
        .into_iter()
        .find(|r| r.occurrence == sams.occurrence)
        .unwrap();
    assert_eq!(alexs.fires_at_utc, sams.fires_at_utc);
    // Snoozing by a duration counts from the fire time.
    let next = commitments(&mut sam.space, None)
        .into_iter()
        .find(|r| r.id != sams.id)
        .unwrap();
    sam.space
        .snooze_reminder_for(&next.id, Duration::minutes(30), t(3))
        .unwrap();
    let moved = commitments(&mut sam.space, None)
        .into_iter()
        .find(|r| r.id == next.id)
        .unwrap();
    assert_eq!(
        moved.fires_at_utc,
        next.fires_at_utc + Duration::minutes(30)
    );
    assert!(sam
        .space
        .snooze_reminder_for(&next.id, Duration::zero(), t(3))
        .is_err());
    // Alex cannot snooze Sam's reminder; unknown ids get a clear error.
    assert!(matches!(
        alex.space
            .snooze_reminder(&sams.id, until, t(4))
            .unwrap_err(),
        Error::NotAllowed(_)
    ));
    assert!(matches!(
        alex.space
            .mark_reminder_done("ffffffffffff", t(4))
            .unwrap_err(),
        Error::NotFound { .. }
    ));
}

#[test]
fn concurrent_edits_of_a_rule_converge_to_one_schedule() {
    let (mut alex, mut sam) = couple();
    let id = active(&mut alex, &mut sam, "Money talk");
    let rule = alex
        .space
        .add_commitment_rule(&id, weekly(Weekday::Saturday, 10, 0, "UTC"), None, t(1))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    let mut monthly = weekly(Weekday::Saturday, 10, 0, "UTC");
    monthly.frequency = Frequency::MonthlyOnWeekday {
        interval: 1,
        week: WeekOfMonth::First,
        weekday: Weekday::Saturday,
    };
    alex.space
        .edit_commitment_rule(&rule, monthly, t(2))
        .unwrap();
    sam.space
        .edit_commitment_rule(&rule, weekly(Weekday::Sunday, 11, 0, "UTC"), t(2))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    let sam_id = sam.space.info().unwrap().me;
    assert_eq!(
        alex.space.commitment_rules(None).unwrap(),
        sam.space.commitment_rules(None).unwrap()
    );
    assert_eq!(
        commitments(&mut alex.space, Some(&sam_id)),
        commitments(&mut sam.space, None)
    );
    alex.space.remove_commitment_rule(&rule, t(3)).unwrap();
    assert!(commitments(&mut alex.space, None).is_empty());
}

#[test]
fn invalid_rules_are_rejected_with_clear_errors() {
    let (mut alex, mut sam) = couple();
    let id = active(&mut alex, &mut sam, "Rules");
    let mut zero = weekly(Weekday::Friday, 19, 0, "UTC");
    zero.frequency = Frequency::Daily { interval: 0 };
    let mut tz = weekly(Weekday::Friday, 19, 0, "Mars/Base");
    tz.until = None;
    let mut backwards = weekly(Weekday::Friday, 19, 0, "UTC");
    backwards.until = Some(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
    let mut empty = weekly(Weekday::Friday, 19, 0, "UTC");
    empty.frequency = Frequency::Weekly {
        interval: 1,
        weekdays: vec![],
    };
    for rule in [zero, tz, backwards, empty] {
        let err = alex
            .space
            .add_commitment_rule(&id, rule, None, t(1))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    }
    let unknown = AgreementId::from("nope");
    assert!(matches!(
        alex.space
            .add_commitment_rule(&unknown, weekly(Weekday::Friday, 19, 0, "UTC"), None, t(1))
            .unwrap_err(),
        Error::NotFound { .. }
    ));
    assert!(alex.space.commitment_rules(None).unwrap().is_empty());
}

#[test]
fn the_limit_the_ritual_and_the_agenda() {
    let (mut alex, mut sam) = couple();
    let id = active(&mut alex, &mut sam, "Daily hug");
    let mut daily = weekly(Weekday::Monday, 8, 0, "UTC");
    daily.frequency = Frequency::Daily { interval: 1 };
    alex.space
        .add_commitment_rule(&id, daily, None, t(1))
        .unwrap();
    alex.space
        .set_checkin_ritual(Some(weekly(Weekday::Sunday, 20, 0, "Europe/Berlin")), t(1))
        .unwrap();
    let five = alex
        .space
        .upcoming_reminders(t(0), None, 5, Duration::days(30))
        .unwrap();
    assert_eq!(five.len(), 5);
    assert!(five
        .windows(2)
        .all(|w| w[0].fires_at_utc <= w[1].fires_at_utc));
    let all = alex
        .space
        .upcoming_reminders(t(0), None, 1000, Duration::days(30))
        .unwrap();
    assert!(all.iter().any(|r| r.kind == ReminderKind::CheckIn));
    assert_eq!(
        alex.space.checkin_ritual().unwrap().unwrap().time_zone,
        "Europe/Berlin"
    );
    let agenda = alex.space.agenda(t(0)).unwrap();
    assert!(!agenda.upcoming.is_empty());
    assert!(agenda
        .upcoming
        .iter()
        .any(|u| u.title.contains("Daily hug")));
    assert!(alex
        .space
        .upcoming_reminders(t(0), None, 5, Duration::zero())
        .is_err());
}

#[test]
fn changes_that_affect_reminders_emit_an_event_local_or_remote() {
    let (mut alex, mut sam) = couple();
    let id = active(&mut alex, &mut sam, "Walks");
    alex.space.take_events();
    sam.space.take_events();
    // A log entry changes the document but no reminder.
    alex.space
        .log_follow_through(&id, LogKind::Kept, "", t(1))
        .unwrap();
    assert_eq!(
        alex.space.take_events(),
        vec![SpaceEvent::DocumentChanged { remote: false }]
    );
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(
        sam.space.take_events(),
        vec![SpaceEvent::DocumentChanged { remote: true }]
    );
    // A rule changes both, locally and on the partner's device when it arrives.
    alex.space
        .add_commitment_rule(&id, weekly(Weekday::Sunday, 9, 0, "UTC"), None, t(2))
        .unwrap();
    assert_eq!(
        alex.space.take_events(),
        vec![
            SpaceEvent::DocumentChanged { remote: false },
            SpaceEvent::RemindersChanged
        ]
    );
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(
        sam.space.take_events(),
        vec![
            SpaceEvent::DocumentChanged { remote: true },
            SpaceEvent::RemindersChanged
        ]
    );
    // Marking done on one phone makes the other reschedule.
    let first = commitments(&mut sam.space, None)[0].clone();
    sam.space.mark_reminder_done(&first.id, t(3)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    assert!(alex
        .space
        .take_events()
        .contains(&SpaceEvent::RemindersChanged));
}
