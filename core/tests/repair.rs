//! Follow-through log, concerns and repair, check-ins and the agenda.
mod common;

use accord_core::*;
use chrono::NaiveDate;
use common::*;

#[test]
fn the_log_is_append_only_and_in_causal_order() {
    let (mut alex, mut sam) = couple();
    let id = alex
        .space
        .create_agreement(new_agreement("Lunch text"), t(1))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    alex.space
        .log_follow_through(&id, LogKind::Kept, "", t(2))
        .unwrap();
    sam.space
        .log_follow_through(&id, LogKind::Missed, "busy day", t(2))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    let a = alex.space.follow_through(Some(&id)).unwrap();
    let s = sam.space.follow_through(Some(&id)).unwrap();
    assert_eq!(a, s);
    assert_eq!(a.len(), 2);
    let unknown = AgreementId::from("0000");
    assert!(matches!(
        alex.space
            .log_follow_through(&unknown, LogKind::Note, "", t(3))
            .unwrap_err(),
        Error::NotFound { .. }
    ));
    assert_eq!(LogKind::parse("MISSED"), Some(LogKind::Missed));
    assert_eq!(LogKind::parse("score"), None);
}

#[test]
fn a_concern_is_acknowledged_responded_to_and_resolved() {
    let (mut alex, mut sam) = couple();
    let id = alex
        .space
        .create_agreement(new_agreement("Call if late"), t(1))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    let cid = sam
        .space
        .raise_concern(
            NewConcern {
                agreement: Some(id.clone()),
                what_happened: "You were an hour late without calling".into(),
                how_i_felt: "Worried".into(),
                what_i_need: "A text next time".into(),
            },
            t(2),
        )
        .unwrap();
    assert_eq!(sam.space.concern(&cid).unwrap().state, ConcernState::Open);
    // The partner who raised it cannot acknowledge it, nor can the other resolve it.
    assert!(matches!(
        sam.space.acknowledge_concern(&cid, t(3)).unwrap_err(),
        Error::NotAllowed(_)
    ));
    sync(&mut alex.space, &mut sam.space);
    assert!(matches!(
        alex.space.resolve_concern(&cid, t(3)).unwrap_err(),
        Error::NotAllowed(_)
    ));
    alex.space.acknowledge_concern(&cid, t(3)).unwrap();
    assert_eq!(
        alex.space.concern(&cid).unwrap().state,
        ConcernState::Acknowledged
    );
    assert!(alex.space.respond_to_concern(&cid, "  ", t(4)).is_err());
    alex.space
        .respond_to_concern(&cid, "I'm sorry. I'll text before I leave work.", t(4))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    let c = sam.space.concern(&cid).unwrap();
    assert_eq!(c.state, ConcernState::Responded);
    assert_eq!(c.events.len(), 2);
    sam.space.resolve_concern(&cid, t(5)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(
        alex.space.concern(&cid).unwrap().state,
        ConcernState::Resolved
    );
    assert!(matches!(
        alex.space
            .respond_to_concern(&cid, "more", t(6))
            .unwrap_err(),
        Error::NotAllowed(_)
    ));
    assert_eq!(
        alex.space.concerns().unwrap(),
        sam.space.concerns().unwrap()
    );
}

#[test]
fn a_concern_can_turn_into_a_renegotiation() {
    let (mut alex, mut sam) = couple();
    let id = alex
        .space
        .create_agreement(new_agreement("Time-out"), t(1))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    sam.space.accept(&id, t(2)).unwrap();
    let cid = sam
        .space
        .raise_concern(
            NewConcern {
                agreement: Some(id.clone()),
                what_happened: "It did not work".into(),
                how_i_felt: String::new(),
                what_i_need: String::new(),
            },
            t(3),
        )
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(status(&mut alex.space, &id), Status::Active);
    alex.space
        .renegotiate_from_concern(&cid, "Let's change the rule", t(4))
        .unwrap();
    assert_eq!(
        alex.space.concern(&cid).unwrap().state,
        ConcernState::Renegotiation
    );
    assert_eq!(status(&mut alex.space, &id), Status::NeedsRenegotiation);
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(status(&mut sam.space, &id), Status::NeedsRenegotiation);
    let general = sam
        .space
        .raise_concern(
            NewConcern {
                agreement: None,
                what_happened: "We rarely talk".into(),
                how_i_felt: String::new(),
                what_i_need: String::new(),
            },
            t(5),
        )
        .unwrap();
    assert!(matches!(
        sam.space
            .renegotiate_from_concern(&general, "", t(6))
            .unwrap_err(),
        Error::NotAllowed(_)
    ));
    let unknown = ConcernId::from("nope");
    assert!(matches!(
        sam.space.acknowledge_concern(&unknown, t(6)).unwrap_err(),
        Error::NotFound { .. }
    ));
}

#[test]
fn concurrent_concern_steps_converge() {
    let (mut alex, mut sam) = couple();
    let cid = sam
        .space
        .raise_concern(
            NewConcern {
                agreement: None,
                what_happened: "x".into(),
                how_i_felt: String::new(),
                what_i_need: String::new(),
            },
            t(1),
        )
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    alex.space.acknowledge_concern(&cid, t(2)).unwrap();
    sam.space
        .respond_to_concern(&cid, "Here is what would help", t(2))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(
        alex.space.concern(&cid).unwrap(),
        sam.space.concern(&cid).unwrap()
    );
    assert_eq!(
        alex.space.concern(&cid).unwrap().state,
        ConcernState::Responded
    );
}

#[test]
fn the_agenda_follows_domain_order_and_the_last_checkin() {
    let (mut alex, mut sam) = couple();
    let mut reviewed = new_agreement("Monthly money talk");
    reviewed.review_every = Some(ReviewCadence::parse("1 month").unwrap());
    let review_id = alex.space.create_agreement(reviewed, t(1)).unwrap();
    let id = alex
        .space
        .create_agreement(new_agreement("Dishes before bed"), t(1))
        .unwrap();
    let mut draft = new_agreement("Draft rule");
    draft.draft = true;
    alex.space.create_agreement(draft, t(1)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    sam.space.accept(&review_id, t(2)).unwrap();
    sam.space.accept(&id, t(2)).unwrap();
    sync(&mut alex.space, &mut sam.space);

    alex.space
        .log_follow_through(&id, LogKind::Missed, "before", t(3))
        .unwrap();
    alex.space
        .record_checkin(
            NaiveDate::from_ymd_opt(2027, 3, 7).unwrap(),
            "good talk",
            t(4),
        )
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    sam.space
        .log_follow_through(&id, LogKind::Missed, "after", t(5))
        .unwrap();
    sam.space
        .log_follow_through(&id, LogKind::Kept, "", t(5))
        .unwrap();
    let c1 = sam
        .space
        .raise_concern(
            NewConcern {
                agreement: Some(id.clone()),
                what_happened: "first".into(),
                how_i_felt: String::new(),
                what_i_need: String::new(),
            },
            t(6),
        )
        .unwrap();
    let c2 = sam
        .space
        .raise_concern(
            NewConcern {
                agreement: None,
                what_happened: "second".into(),
                how_i_felt: String::new(),
                what_i_need: String::new(),
            },
            t(7),
        )
        .unwrap();
    sync(&mut alex.space, &mut sam.space);

    // Before the review date: nothing due.
    let agenda = alex.space.agenda(t(60)).unwrap();
    assert!(agenda.appreciation_prompt.contains("appreciation"));
    assert_eq!(
        agenda
            .open_concerns
            .iter()
            .map(|c| c.id.clone())
            .collect::<Vec<_>>(),
        vec![c1, c2]
    );
    assert!(agenda.due_for_review.is_empty());
    assert_eq!(agenda.missed_since_last_checkin.len(), 1);
    assert_eq!(agenda.missed_since_last_checkin[0].text, "after");
    assert_eq!(agenda.waiting_for_partner.len(), 1);
    assert_eq!(agenda.waiting_for_partner[0].agreement.title, "Draft rule");
    assert_eq!(agenda.waiting_for_partner[0].waiting_for.len(), 2);
    assert_eq!(agenda.last_checkin.as_ref().unwrap().notes, "good talk");
    // A month later the money talk is due for review, on both replicas alike.
    let later = t(60 * 24 * 32);
    let agenda = alex.space.agenda(later).unwrap();
    assert_eq!(agenda.due_for_review.len(), 1);
    assert_eq!(agenda.due_for_review[0].id, review_id);
    assert_eq!(
        sam.space.agenda(later).unwrap().due_for_review,
        agenda.due_for_review
    );
    // Reviewing moves the date one cadence on.
    alex.space
        .mark_reviewed(&review_id, later.date_naive(), later)
        .unwrap();
    assert!(alex.space.agenda(later).unwrap().due_for_review.is_empty());
    assert!(matches!(
        alex.space
            .mark_reviewed(&id, later.date_naive(), later)
            .unwrap_err(),
        Error::NotAllowed(_)
    ));
}

#[test]
fn several_records_arriving_in_one_sync_all_appear() {
    // Records are single values in one collection; a batch of them must update the views of
    // every one (regression: only the first key written to a collection was re-read).
    let (mut alex, mut sam) = couple();
    let id = active(&mut alex, &mut sam, "Call if late");
    let day = chrono::NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
    for minute in 10..13 {
        alex.space.record_checkin(day, "notes", t(minute)).unwrap();
        alex.space
            .log_follow_through(&id, LogKind::Kept, "", t(minute))
            .unwrap();
    }
    send(&mut alex.space, &mut sam.space);
    assert_eq!(sam.space.checkins().unwrap().len(), 3);
    assert_eq!(sam.space.follow_through(Some(&id)).unwrap().len(), 3);
    assert_eq!(
        sam.space.checkins().unwrap(),
        alex.space.checkins().unwrap()
    );
}

#[test]
fn record_times_come_from_their_change_on_every_replica() {
    // Records do not store their time: it is the time of the change that wrote them, the same
    // on the writer, on the partner after a sync, and after a reopen.
    let (mut alex, mut sam) = couple();
    let id = active(&mut alex, &mut sam, "Call if late");
    let day = chrono::NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
    alex.space
        .log_follow_through(&id, LogKind::Kept, "on time", t(42))
        .unwrap();
    alex.space.record_checkin(day, "", t(43)).unwrap();
    send(&mut alex.space, &mut sam.space);
    let path = sam.path();
    let Replica { dir: _keep, space } = sam;
    space.shutdown();
    let mut reopened = Space::open(&path).unwrap();
    for space in [&mut alex.space, &mut reopened] {
        let log = space.follow_through(Some(&id)).unwrap();
        assert_eq!(log.last().unwrap().at, t(42));
        assert_eq!(log.last().unwrap().text, "on time");
        assert_eq!(space.checkins().unwrap()[0].at, t(43));
    }
}
