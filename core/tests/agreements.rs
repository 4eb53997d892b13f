//! Agreements, consent to exact words, conflicts and lifecycle.
mod common;

use accord_core::*;
use common::*;

#[test]
fn creating_counts_as_the_authors_acceptance_and_both_make_it_active() {
    let (mut alex, mut sam) = couple();
    let id = alex
        .space
        .create_agreement(new_agreement("Text once at lunch"), t(5))
        .unwrap();
    assert_eq!(status(&mut alex.space, &id), Status::Proposed);
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(status(&mut sam.space, &id), Status::Proposed);
    sam.space.accept(&id, t(6)).unwrap();
    assert_eq!(status(&mut sam.space, &id), Status::Active);
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(status(&mut alex.space, &id), Status::Active);
    let details = alex.space.agreement(&id).unwrap();
    assert_eq!(details.acceptances.len(), 2);
    assert!(details.acceptances.iter().all(|a| a.current));
}

#[test]
fn a_draft_stays_a_draft_until_someone_accepts() {
    let (mut alex, _sam) = couple();
    let mut input = new_agreement("Phones away at dinner");
    input.draft = true;
    let id = alex.space.create_agreement(input, t(5)).unwrap();
    assert_eq!(status(&mut alex.space, &id), Status::Draft);
    alex.space
        .edit_agreement(
            &id,
            AgreementEdit {
                details: Some("From 19:00".into()),
                ..Default::default()
            },
            t(6),
        )
        .unwrap();
    assert_eq!(status(&mut alex.space, &id), Status::Draft);
    alex.space.accept(&id, t(7)).unwrap();
    assert_eq!(status(&mut alex.space, &id), Status::Proposed);
}

#[test]
fn one_partner_alone_can_only_propose() {
    let mut alex = founder();
    let id = alex
        .space
        .create_agreement(new_agreement("Solo"), t(5))
        .unwrap();
    alex.space.accept(&id, t(6)).unwrap();
    assert_eq!(status(&mut alex.space, &id), Status::Proposed);
}

#[test]
fn editing_the_wording_needs_both_to_accept_again_and_shows_what_changed() {
    let (mut alex, mut sam) = couple();
    let id = active(&mut alex, &mut sam, "Call if late");
    assert_eq!(status(&mut alex.space, &id), Status::Active);

    edit_title(
        &mut alex.space,
        &id,
        "Call if more than 30 minutes late",
        t(7),
    );
    assert_eq!(status(&mut alex.space, &id), Status::NeedsRenegotiation);
    sync(&mut alex.space, &mut sam.space);
    let details = sam.space.agreement(&id).unwrap();
    assert_eq!(details.summary.accepted_by.len(), 1);
    let since = &details.changes_since_acceptance[0];
    let changes = &since.changes;
    assert_eq!(since.partner, sam.space.info().unwrap().me);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].field, Field::Title);
    assert_eq!(changes[0].accepted, "Call if late");
    assert_eq!(changes[0].now, "Call if more than 30 minutes late");

    sam.space.accept(&id, t(8)).unwrap();
    assert_eq!(status(&mut sam.space, &id), Status::Active);
}

#[test]
fn category_changes_do_not_need_new_consent() {
    let (mut alex, mut sam) = couple();
    let id = active(&mut alex, &mut sam, "Dishes before bed");
    alex.space
        .edit_agreement(
            &id,
            AgreementEdit {
                category: Some(Category::parse("household").unwrap()),
                ..Default::default()
            },
            t(7),
        )
        .unwrap();
    assert_eq!(status(&mut alex.space, &id), Status::Active);
}

#[test]
fn concurrent_rewrites_of_the_same_field_are_a_conflict_until_resolved() {
    let (mut alex, mut sam) = couple();
    let id = active(&mut alex, &mut sam, "Date night");

    edit_title(&mut alex.space, &id, "Date night every Friday", t(7));
    edit_title(&mut sam.space, &id, "Date night every Saturday", t(7));
    sync(&mut alex.space, &mut sam.space);

    for space in [&mut alex.space, &mut sam.space] {
        let details = space.agreement(&id).unwrap();
        assert_eq!(details.summary.status, Status::Conflicted);
        assert_eq!(details.conflicts.len(), 1);
        let values: Vec<&str> = details.conflicts[0]
            .candidates
            .iter()
            .map(|c| c.value.as_str())
            .collect();
        assert!(values.contains(&"Date night every Friday"));
        assert!(values.contains(&"Date night every Saturday"));
        assert!(details.conflicts[0]
            .candidates
            .iter()
            .all(|c| c.author.is_some()));
        assert!(details.content_hash.is_none());
    }
    let alex_view = alex.space.agreement(&id).unwrap();
    let sam_view = sam.space.agreement(&id).unwrap();
    assert_eq!(alex_view.conflicts, sam_view.conflicts);

    let err = alex.space.accept(&id, t(8)).unwrap_err();
    assert!(matches!(err, Error::Conflicted { .. }), "{err}");

    sam.space
        .resolve_conflict(&id, Field::Title, "Date night every Friday", t(9))
        .unwrap();
    assert_eq!(status(&mut sam.space, &id), Status::NeedsRenegotiation);
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(status(&mut alex.space, &id), Status::NeedsRenegotiation);
    alex.space.accept(&id, t(10)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(status(&mut alex.space, &id), Status::Active);
    assert_eq!(status(&mut sam.space, &id), Status::Active);
    assert_eq!(
        alex.space.agreement(&id).unwrap().summary.title,
        "Date night every Friday"
    );
}

/// A change that replaces a conflicting value which is not the visible winner must still
/// update the views: they list every concurrent value.
#[test]
fn replacing_a_losing_conflict_value_updates_the_candidates() {
    let (mut alex, mut sam) = couple();
    let mut tablet = enrolled(&mut alex, None);
    let id = active(&mut alex, &mut sam, "Date night");
    sync(&mut alex.space, &mut tablet.space);
    let category = |space: &mut Space, value: StandardCategory, at| {
        space
            .edit_agreement(
                &id,
                AgreementEdit {
                    category: Some(Category::Standard(value)),
                    ..Default::default()
                },
                at,
            )
            .unwrap()
    };
    // Sam's value wins the conflict: many offline writes first give it a high op counter.
    for i in 0..20 {
        sam.space
            .create_agreement(new_agreement(&format!("Offline {i}")), t(5))
            .unwrap();
    }
    category(&mut sam.space, StandardCategory::Finances, t(6));
    // Alex writes another value; the tablet sees it and replaces it with a third one.
    category(&mut alex.space, StandardCategory::TimeTogether, t(6));
    send(&mut alex.space, &mut tablet.space);
    category(&mut tablet.space, StandardCategory::Household, t(7));
    // Alex meets Sam first (a conflict), then the tablet, whose change replaces the value
    // that does not win.
    send(&mut sam.space, &mut alex.space);
    send(&mut tablet.space, &mut alex.space);
    let candidates = |space: &mut Space| -> Vec<String> {
        let mut values: Vec<String> = space.agreement(&id).unwrap().conflicts[0]
            .candidates
            .iter()
            .map(|c| c.value.clone())
            .collect();
        values.sort();
        values
    };
    assert_eq!(candidates(&mut alex.space), ["finances", "household"]);
    // The same as a view derived from scratch.
    let Replica { dir, space } = alex;
    space.shutdown();
    let mut reopened = Space::open(dir.path()).unwrap();
    assert_eq!(candidates(&mut reopened), ["finances", "household"]);
}

#[test]
fn offline_edits_of_different_fields_merge_but_need_both_to_accept() {
    let (mut alex, mut sam) = couple();
    let id = active(&mut alex, &mut sam, "Money talk");
    edit_title(&mut alex.space, &id, "Monthly money talk", t(7));
    sam.space
        .edit_agreement(
            &id,
            AgreementEdit {
                details: Some("First Saturday".into()),
                ..Default::default()
            },
            t(7),
        )
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    let details = alex.space.agreement(&id).unwrap();
    assert!(details.conflicts.is_empty());
    assert_eq!(details.summary.title, "Monthly money talk");
    assert_eq!(details.details, "First Saturday");
    assert_eq!(details.summary.status, Status::NeedsRenegotiation);
    assert!(details.summary.accepted_by.is_empty());
    alex.space.accept(&id, t(8)).unwrap();
    sam.space.accept(&id, t(8)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(status(&mut alex.space, &id), Status::Active);
    assert_eq!(status(&mut sam.space, &id), Status::Active);
}

#[test]
fn identical_concurrent_values_are_not_a_conflict() {
    let (mut alex, mut sam) = couple();
    let id = alex
        .space
        .create_agreement(new_agreement("Walks"), t(5))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    for space in [&mut alex.space, &mut sam.space] {
        space
            .edit_agreement(
                &id,
                AgreementEdit {
                    title: Some("Sunday walks".into()),
                    ..Default::default()
                },
                t(6),
            )
            .unwrap();
    }
    sync(&mut alex.space, &mut sam.space);
    let details = alex.space.agreement(&id).unwrap();
    assert!(details.conflicts.is_empty());
    assert_eq!(details.summary.title, "Sunday walks");
}

#[test]
fn renegotiation_request_holds_until_both_accept_again() {
    let (mut alex, mut sam) = couple();
    let id = active(&mut alex, &mut sam, "Time-out 20 minutes");
    sam.space
        .request_renegotiation(&id, "20 minutes is too short", t(7))
        .unwrap();
    assert_eq!(status(&mut sam.space, &id), Status::NeedsRenegotiation);
    assert!(sam.space.agreement(&id).unwrap().renegotiation_requested);
    sync(&mut alex.space, &mut sam.space);
    alex.space.accept(&id, t(8)).unwrap();
    assert_eq!(status(&mut alex.space, &id), Status::NeedsRenegotiation);
    sync(&mut alex.space, &mut sam.space);
    sam.space.accept(&id, t(9)).unwrap();
    assert_eq!(status(&mut sam.space, &id), Status::Active);
    sync(&mut alex.space, &mut sam.space);
    assert_eq!(status(&mut alex.space, &id), Status::Active);
}

#[test]
fn retired_wins_over_everything_and_cannot_be_edited() {
    let (mut alex, mut sam) = couple();
    let id = alex
        .space
        .create_agreement(new_agreement("Old rule"), t(5))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    sam.space.retire(&id, "We moved in together", t(6)).unwrap();
    sync(&mut alex.space, &mut sam.space);
    let details = alex.space.agreement(&id).unwrap();
    assert_eq!(details.summary.status, Status::Retired);
    assert_eq!(details.retirement.unwrap().reason, "We moved in together");
    let err = alex
        .space
        .edit_agreement(
            &id,
            AgreementEdit {
                title: Some("x".into()),
                ..Default::default()
            },
            t(7),
        )
        .unwrap_err();
    assert!(matches!(err, Error::NotAllowed(_)));
    assert!(matches!(
        alex.space.accept(&id, t(7)).unwrap_err(),
        Error::NotAllowed(_)
    ));
    assert!(matches!(
        alex.space.retire(&id, "again", t(7)).unwrap_err(),
        Error::NotAllowed(_)
    ));
}

#[test]
fn list_filters_and_sorts() {
    let (mut alex, _sam) = couple();
    let mut a = new_agreement("B title");
    a.category = Category::parse("household").unwrap();
    alex.space.create_agreement(a, t(1)).unwrap();
    let mut b = new_agreement("A title");
    b.draft = true;
    alex.space.create_agreement(b, t(2)).unwrap();
    let all = alex.space.list(&ListFilter::default()).unwrap();
    assert_eq!(all.len(), 2);
    let household = alex
        .space
        .list(&ListFilter {
            category: Some(Category::parse("Household").unwrap()),
            status: None,
        })
        .unwrap();
    assert_eq!(household.len(), 1);
    assert_eq!(household[0].title, "B title");
    let drafts = alex
        .space
        .list(&ListFilter {
            category: None,
            status: Some(Status::Draft),
        })
        .unwrap();
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].title, "A title");
}

#[test]
fn history_lists_who_changed_what() {
    let (mut alex, mut sam) = couple();
    let id = alex
        .space
        .create_agreement(new_agreement("Lunch text"), t(5))
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    sam.space
        .edit_agreement(
            &id,
            AgreementEdit {
                details: Some("Workdays only".into()),
                ..Default::default()
            },
            t(6),
        )
        .unwrap();
    sync(&mut alex.space, &mut sam.space);
    alex.space.accept(&id, t(7)).unwrap();
    let history = alex.space.history(&id).unwrap();
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["created", "edited", "accepted"]);
    let sam_id = sam.space.info().unwrap().me;
    assert_eq!(history[1].partner.as_ref(), Some(&sam_id));
    assert_eq!(history[1].changes[0].field, Field::Details);
    assert_eq!(history[1].changes[0].accepted, "");
    assert_eq!(history[1].changes[0].now, "Workdays only");
    assert_eq!(history[1].at, t(6));
}

#[test]
fn bad_input_gets_clear_errors() {
    let (mut alex, _sam) = couple();
    let err = alex
        .space
        .create_agreement(new_agreement("   "), t(1))
        .unwrap_err();
    assert!(err.to_string().contains("title"), "{err}");
    let long = "x".repeat(agreement::MAX_TITLE_CHARS + 1);
    let err = alex
        .space
        .create_agreement(new_agreement(&long), t(1))
        .unwrap_err();
    assert!(err.to_string().contains("at most 200"), "{err}");
    let unknown = AgreementId::from("ffffffffffffffff");
    assert!(matches!(
        alex.space.accept(&unknown, t(1)).unwrap_err(),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        alex.space.agreement(&unknown).unwrap_err(),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        alex.space.history(&unknown).unwrap_err(),
        Error::NotFound { .. }
    ));
    let mut about_stranger = new_agreement("About someone");
    about_stranger.concerns = Concerns::Partner(PartnerId::from("nobody"));
    assert!(matches!(
        alex.space
            .create_agreement(about_stranger, t(1))
            .unwrap_err(),
        Error::NotAMember(_)
    ));
    let id = alex
        .space
        .create_agreement(new_agreement("Fine"), t(1))
        .unwrap();
    assert!(alex
        .space
        .edit_agreement(&id, AgreementEdit::default(), t(2))
        .is_err());
    assert!(matches!(
        alex.space
            .resolve_conflict(&id, Field::Title, "x", t(2))
            .unwrap_err(),
        Error::NotAllowed(_)
    ));
    assert!(Field::parse("colour").is_err());
    assert!(ReviewCadence::parse("0 weeks").is_err());
    assert!(ReviewCadence::parse("fortnightly-ish").is_err());
}

#[test]
fn a_third_partner_is_refused() {
    let (mut alex, _sam) = couple();
    let dir = tempfile::TempDir::new().unwrap();
    let third = DeviceIdentity::load_or_create(dir.path()).unwrap();
    let err = alex
        .space
        .add_partner("Kim", "Europe/Paris", &third.device_id(), "phone", t(3))
        .unwrap_err();
    assert!(matches!(err, Error::ThirdPartner), "{err}");
}

#[test]
fn an_unknown_time_zone_is_refused() {
    let mut alex = founder();
    let dir = tempfile::TempDir::new().unwrap();
    let sam = DeviceIdentity::load_or_create(dir.path()).unwrap();
    let err = alex
        .space
        .add_partner("Sam", "Mars/Olympus", &sam.device_id(), "phone", t(3))
        .unwrap_err();
    assert!(err.to_string().contains("time zone"), "{err}");
}

#[test]
fn a_device_not_enrolled_cannot_join() {
    let mut alex = founder();
    let doc = alex.space.export_document().unwrap();
    let dir = tempfile::TempDir::new().unwrap();
    let err = Space::join(dir.path(), &doc).err().unwrap();
    assert!(matches!(err, Error::NotAMember(_)), "{err}");
}

#[test]
fn a_second_device_of_a_partner_acts_as_that_partner() {
    let (mut alex, mut sam) = couple();
    let mut tablet = enrolled(&mut alex, None);
    let id = tablet
        .space
        .create_agreement(new_agreement("From the tablet"), t(5))
        .unwrap();
    send(&mut tablet.space, &mut alex.space);
    sync(&mut alex.space, &mut sam.space);
    let alex_id = alex.space.info().unwrap().me;
    assert_eq!(
        sam.space.agreement(&id).unwrap().summary.accepted_by,
        vec![alex_id]
    );
}

#[test]
fn ids_can_be_abbreviated() {
    let (mut alex, _sam) = couple();
    let id = alex
        .space
        .create_agreement(new_agreement("Prefix"), t(5))
        .unwrap();
    assert_eq!(alex.space.find_agreement(&id.as_str()[..6]).unwrap(), id);
    assert!(matches!(
        alex.space.find_agreement("zzzz").unwrap_err(),
        Error::NotFound { .. }
    ));
}
