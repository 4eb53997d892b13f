//! The reminder part of [`Space`]: recurring commitments and the check-in ritual stored in the
//! document, done and snooze marks, and the schedule computed by
//! [`crate::reminders::schedule::upcoming`].
//!
//! Storage: `rules/{id}` holds a rule as registers (`agreement`, `rule` as JSON, `targets`,
//! `removed`); concurrent edits of the same rule converge to one schedule by a deterministic
//! choice (the greatest JSON text). `settings/checkin_rule` holds the ritual. `marks/{rec}`
//! holds signed records: `done` (an occurrence, shared by both partners, so the partner's
//! phone does not nag about something already done) and `snooze` (one partner's reminder).

use super::{Act, Derived, Intent, Space, Touched, ViewCache};
use crate::agreement::AgreementSummary;
use crate::concern::Concern;
use crate::document::{Document, Val};
use crate::error::{Error, Result};
use crate::ids::{AgreementId, PartnerId, RecordId};
use crate::reminders::recurrence::RecurrenceRule;
use crate::reminders::schedule::{
    self, default_targets, CheckInRitual, CommitmentRule, Marks, Reminder, ScheduleAgreement,
    ScheduleConcern, ScheduleInput, SchedulePartner, Snooze, Targets,
};
use crate::view::{self, Members, Problem};
use chrono::{DateTime, Duration, Utc};

/// How far ahead [`Space::upcoming_reminders`] looks by default (the app's scheduling window).
pub const DEFAULT_HORIZON_DAYS: i64 = 30;

/// Reminder state derived from the document.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReminderState {
    pub(crate) rules: Vec<CommitmentRule>,
    pub(crate) checkin: Option<RecurrenceRule>,
    pub(crate) marks: Marks,
    pub(crate) max_seq: i64,
}

fn targets_to_stored(t: &Targets) -> String {
    match t {
        Targets::Both => "both".into(),
        Targets::Partner(p) => format!("partner:{p}"),
    }
}

fn targets_from_stored(text: &str) -> Option<Targets> {
    match crate::agreement::Concerns::from_stored(text)? {
        crate::agreement::Concerns::Both => Some(Targets::Both),
        crate::agreement::Concerns::Partner(p) => Some(Targets::Partner(p)),
    }
}

fn rule_json(rule: &RecurrenceRule) -> Result<String> {
    rule.validate()
        .map_err(|e| Error::invalid("reminder rule", e.to_string()))?;
    serde_json::to_string(rule).map_err(|e| Error::invalid("reminder rule", e.to_string()))
}

/// Reads rules, the ritual and marks. Once the pairing ended, commitment rules and the
/// check-in ritual no longer remind anyone.
pub(crate) fn read_reminders(
    doc: &Document,
    members: &Members,
    problems: &mut Vec<Problem>,
) -> ReminderState {
    let mut state = ReminderState::default();
    let ended = members.ending.is_some();
    for id in doc.entity_ids("rules") {
        let Some(entity) = doc.entity("rules", &id) else {
            continue;
        };
        // A rule's id holds the order it was made at (no later write may take it again).
        state.max_seq = state.max_seq.max(entity.int("seq").unwrap_or(0));
        if ended
            || entity
                .registers
                .get("removed")
                .is_some_and(|r| r.values.iter().any(|(v, _)| *v == Val::Bool(true)))
        {
            continue;
        }
        // Concurrent edits: every replica picks the same version.
        let rule = entity.registers.get("rule").and_then(|r| {
            r.values
                .iter()
                .filter_map(|(v, _)| v.as_str())
                .max()
                .and_then(|json| serde_json::from_str::<RecurrenceRule>(json).ok())
        });
        let agreement = entity.str("agreement").map(|a| AgreementId(a.to_owned()));
        let targets = entity.str("targets").and_then(targets_from_stored);
        match (rule, agreement, targets) {
            (Some(rule), Some(agreement), Some(targets)) if rule.validate().is_ok() => {
                state.rules.push(CommitmentRule {
                    id: id.clone(),
                    agreement,
                    rule,
                    targets,
                })
            }
            _ => problems.push(Problem::new(
                format!("reminder rule {id}"),
                "is incomplete or invalid; ignored",
            )),
        }
    }
    if let Some(entity) = doc.entity("settings", "checkin").filter(|_| !ended) {
        state.checkin = entity
            .registers
            .get("rule")
            .and_then(|r| r.values.iter().filter_map(|(v, _)| v.as_str()).max())
            .filter(|json| !json.is_empty())
            .and_then(|json| serde_json::from_str::<RecurrenceRule>(json).ok())
            .filter(|r| r.validate().is_ok());
    }
    for r in doc.records(&["marks"]) {
        state.max_seq = state.max_seq.max(r.int("seq").unwrap_or(0));
        read_mark(&mut state.marks, &r, members, problems);
    }
    state
}

/// Takes one `marks/{rec}` record into `marks`: a done occurrence, or a snooze that ends later
/// than the one known. Records by no valid member, or incomplete, are reported and ignored.
pub(crate) fn read_mark(
    marks: &mut Marks,
    r: &crate::document::Record,
    members: &Members,
    problems: &mut Vec<Problem>,
) {
    if let Err(why) = members.record_author(r) {
        problems.push(Problem::new(
            format!("reminder mark {}", r.id),
            format!("{why}; ignored"),
        ));
        return;
    }
    match r.str("kind") {
        Some("done") => match r.str("occurrence") {
            Some(o) => marks.mark_done(o),
            None => problems.push(Problem::new(
                format!("reminder mark {}", r.id),
                "names no occurrence",
            )),
        },
        Some("snooze") => {
            let (Some(reminder), Some(until), Some(due)) =
                (r.str("reminder"), r.int("until"), r.int("due"))
            else {
                problems.push(Problem::new(
                    format!("reminder mark {}", r.id),
                    "is incomplete",
                ));
                return;
            };
            // A reminder id includes its partner: only that partner's snoozes count, so the
            // snoozer is checked when the reminder is computed (see `marks_for`).
            let snooze = Snooze {
                until: view::time_of(Some(until)),
                due: view::time_of(Some(due)),
            };
            let later = marks
                .snooze_of(reminder)
                .is_none_or(|s| s.until < snooze.until);
            if later {
                marks.insert_snooze(reminder, snooze);
            }
        }
        _ => problems.push(Problem::new(
            format!("reminder mark {}", r.id),
            "has an unknown kind",
        )),
    }
}

pub(crate) fn schedule_partners(members: &Members) -> Vec<SchedulePartner> {
    members
        .partners
        .iter()
        .map(|p| SchedulePartner {
            id: p.id.clone(),
            name: p.name.clone(),
            time_zone: p.time_zone.clone(),
        })
        .collect()
}

pub(crate) fn schedule_concerns(concerns: &[Concern]) -> Vec<ScheduleConcern> {
    concerns
        .iter()
        .map(|c| ScheduleConcern {
            id: c.id.clone(),
            agreement: c.agreement.clone(),
            raised_by: c.raised_by.clone(),
            raised_at: c.raised_at,
            acknowledged: c.acknowledged,
            open: c.state.is_open(),
            what_happened: c.what_happened.clone(),
        })
        .collect()
}

/// Computes the schedule from derived state.
pub(crate) fn compute(
    derived: &Derived,
    now: DateTime<Utc>,
    partner: &PartnerId,
    limit: usize,
    horizon: Duration,
) -> Vec<Reminder> {
    schedule_from(
        ScheduleParts {
            partners: &schedule_partners(&derived.members),
            agreements: derived.agreements.values().map(|a| &a.summary),
            rules: &derived.reminders.rules,
            concerns: &schedule_concerns(&derived.concerns),
            marks: &derived.reminders.marks,
            checkin: derived.reminders.checkin.as_ref(),
        },
        now,
        partner,
        limit,
        horizon,
    )
}

/// What the reminder schedule is computed from, borrowed from the derived views or the view
/// cache.
pub(crate) struct ScheduleParts<'a, I> {
    pub(crate) partners: &'a [SchedulePartner],
    pub(crate) agreements: I,
    pub(crate) rules: &'a [CommitmentRule],
    pub(crate) concerns: &'a [ScheduleConcern],
    pub(crate) marks: &'a Marks,
    pub(crate) checkin: Option<&'a RecurrenceRule>,
}

/// The schedule for `partner`: at most `limit` reminders within `horizon` of `now`.
pub(crate) fn schedule_from<'s>(
    parts: ScheduleParts<'_, impl Iterator<Item = &'s AgreementSummary>>,
    now: DateTime<Utc>,
    partner: &PartnerId,
    limit: usize,
    horizon: Duration,
) -> Vec<Reminder> {
    let agreements: Vec<ScheduleAgreement> = parts
        .agreements
        .map(|a| ScheduleAgreement {
            summary: a.clone(),
            experiment_ends: None,
        })
        .collect();
    let ritual = parts.checkin.cloned().map(|rule| CheckInRitual { rule });
    let mut input = ScheduleInput::new(
        parts.partners,
        &agreements,
        parts.rules,
        parts.concerns,
        parts.marks,
    );
    input.checkin = ritual.as_ref();
    schedule::upcoming(&input, now, partner, limit, horizon)
}

impl Space {
    /// Attaches a recurring commitment to an agreement (e.g. date night every Friday 19:00).
    /// `targets` defaults to the partners the agreement concerns. Returns the rule id.
    pub fn add_commitment_rule(
        &mut self,
        agreement: &AgreementId,
        rule: RecurrenceRule,
        targets: Option<Targets>,
        now: DateTime<Utc>,
    ) -> Result<String> {
        self.writable()?;
        let json = rule_json(&rule)?;
        let state = self.state(agreement)?;
        let targets =
            targets.unwrap_or_else(|| default_targets(&state.summary.concerns, state.summary.kind));
        if let Targets::Partner(p) = &targets {
            if !self.derived().members.is_partner(p) {
                return Err(Error::NotAMember(format!("partner {p}")));
            }
        }
        let seq = self.next_seq();
        let id = crate::ids::order_key(&self.identity().device_id(), seq);
        let rid = id.clone();
        let aid = agreement.clone();
        self.write("add rule", Some(agreement), now, Touched::Reminders, |tx| {
            tx.insert_map(
                &["rules"],
                &rid,
                vec![
                    ("agreement", aid.0.clone().into()),
                    ("rule", json.into()),
                    ("targets", targets_to_stored(&targets).into()),
                    ("removed", false.into()),
                    ("seq", seq.into()),
                ],
                &[],
            )
        })?;
        Ok(id)
    }

    fn rule_agreement(&self, rule_id: &str) -> Result<AgreementId> {
        self.derived()
            .reminders
            .rules
            .iter()
            .find(|r| r.id == rule_id)
            .map(|r| r.agreement.clone())
            .ok_or_else(|| Error::not_found("reminder rule", rule_id))
    }

    /// Changes when a recurring commitment repeats.
    pub fn edit_commitment_rule(
        &mut self,
        rule_id: &str,
        rule: RecurrenceRule,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.writable()?;
        let json = rule_json(&rule)?;
        let agreement = self.rule_agreement(rule_id)?;
        self.write(
            "edit rule",
            Some(&agreement),
            now,
            Touched::Reminders,
            |tx| tx.put(&["rules", rule_id], "rule", json),
        )
    }

    /// Removes a recurring commitment.
    pub fn remove_commitment_rule(&mut self, rule_id: &str, now: DateTime<Utc>) -> Result<()> {
        self.writable()?;
        let agreement = self.rule_agreement(rule_id)?;
        self.write(
            "remove rule",
            Some(&agreement),
            now,
            Touched::Reminders,
            |tx| tx.put(&["rules", rule_id], "removed", true),
        )
    }

    /// The recurring commitments (of one agreement, or all).
    pub fn commitment_rules(
        &mut self,
        agreement: Option<&AgreementId>,
    ) -> Result<Vec<CommitmentRule>> {
        self.ready()?;
        Ok(self
            .derived()
            .reminders
            .rules
            .iter()
            .filter(|r| agreement.is_none_or(|a| &r.agreement == a))
            .cloned()
            .collect())
    }

    /// Sets (or with `None` removes) the couple's check-in ritual, e.g. Sunday 20:00.
    pub fn set_checkin_ritual(
        &mut self,
        rule: Option<RecurrenceRule>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.writable()?;
        let json = rule
            .as_ref()
            .map(rule_json)
            .transpose()?
            .unwrap_or_default();
        let exists = self.doc().entity("settings", "checkin").is_some();
        self.write("check-in ritual", None, now, Touched::Reminders, |tx| {
            if exists {
                tx.put(&["settings", "checkin"], "rule", json)
            } else {
                tx.insert_map(&["settings"], "checkin", vec![("rule", json.into())], &[])
            }
        })
    }

    /// The couple's check-in ritual, if set.
    pub fn checkin_ritual(&mut self) -> Result<Option<RecurrenceRule>> {
        self.ready()?;
        Ok(self.derived().reminders.checkin.clone())
    }

    /// The next reminders for `partner` (default: this device's partner), sorted by fire time,
    /// at most `limit`, within `horizon` of `now`. Ids are stable across calls and devices.
    /// Right after opening they are computed from the view cache while the document loads.
    pub fn upcoming_reminders(
        &mut self,
        now: DateTime<Utc>,
        partner: Option<&PartnerId>,
        limit: usize,
        horizon: Duration,
    ) -> Result<Vec<Reminder>> {
        if horizon <= Duration::zero() {
            return Err(Error::invalid("horizon", "must be positive"));
        }
        if self.derived.is_none() {
            if let Some(ViewCache {
                agreements: list,
                agenda: Some(inputs),
                ..
            }) = &self.cached
            {
                let me = match partner {
                    Some(p) if !inputs.is_partner(p) => {
                        return Err(Error::NotAMember(format!("partner {p}")))
                    }
                    Some(p) => p,
                    None => inputs.me_enrolled().ok_or_else(|| {
                        Error::NotAMember(format!("this device ({})", self.identity().device_id()))
                    })?,
                };
                return Ok(schedule_from(
                    inputs.schedule_parts(list.iter()),
                    now,
                    me,
                    limit,
                    horizon,
                ));
            }
        }
        self.ready()?;
        let me = match partner {
            Some(p) => {
                if !self.derived().members.is_partner(p) {
                    return Err(Error::NotAMember(format!("partner {p}")));
                }
                p.clone()
            }
            None => self.me()?.0,
        };
        Ok(compute(self.derived(), now, &me, limit, horizon))
    }

    /// Finds an upcoming reminder of either partner by id, occurrence or id prefix (served
    /// from the view cache while the document is not loaded, like `upcoming_reminders`).
    pub(super) fn find_reminder(&mut self, id: &str, now: DateTime<Utc>) -> Result<Reminder> {
        let partners = match (&self.derived, &self.cached) {
            (
                None,
                Some(ViewCache {
                    agenda: Some(inputs),
                    ..
                }),
            ) => inputs.partner_ids(),
            _ => {
                self.ready()?;
                self.derived().members.partner_ids()
            }
        };
        let id = id.trim();
        let horizon = Duration::days(400);
        for partner in partners {
            let all = self.upcoming_reminders(now, Some(&partner), usize::MAX, horizon)?;
            let mut found: Vec<Reminder> = all
                .into_iter()
                .filter(|r| {
                    r.id == id || r.occurrence == id || (id.len() >= 6 && r.id.starts_with(id))
                })
                .collect();
            if found.len() == 1 {
                return Ok(found.remove(0));
            }
            if found.len() > 1 {
                return Err(Error::invalid(
                    "reminder id",
                    format!("'{id}' matches several reminders; give more characters"),
                ));
            }
        }
        Err(Error::not_found("upcoming reminder", id))
    }

    /// Marks a reminder's occurrence done, for both partners.
    pub fn mark_reminder_done(&mut self, id: &str, now: DateTime<Utc>) -> Result<()> {
        let intent = Intent::ReminderDone {
            reminder: id.to_owned(),
        };
        if let Some(done) = self.write_intent(intent, now) {
            return done.map(|_| ());
        }
        self.writable()?;
        let reminder = self.find_reminder(id, now)?;
        if self.derived().reminders.marks.is_done(&reminder.occurrence) {
            return Ok(());
        }
        let fields = done_mark_fields(&reminder);
        self.write_mark("reminder done", fields, now)
    }

    /// Writes a `marks` record of this device with `fields`.
    fn write_mark(
        &mut self,
        op: &str,
        fields: Vec<(&'static str, Val)>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let seq = self.next_seq();
        let rec = RecordId::for_record(&self.identity().device_id(), seq);
        self.write(op, None, now, Touched::Reminders, |tx| {
            tx.insert_record(&["marks"], rec.as_str(), Act::new(seq).fields(fields))
        })
    }

    /// Snoozes one of this partner's reminders until `until` (only for this partner).
    pub fn snooze_reminder(
        &mut self,
        id: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let intent = Intent::ReminderSnooze {
            reminder: id.to_owned(),
            until,
        };
        if let Some(done) = self.write_intent(intent, now) {
            return done.map(|_| ());
        }
        let (me, _) = self.writable()?;
        let reminder = self.find_reminder(id, now)?;
        let fields =
            snooze_mark_fields(&reminder, &me, &self.derived().reminders.marks, until, now)?;
        self.write_mark("reminder snooze", fields, now)
    }

    /// Snoozes one of this partner's reminders by `duration`, from its fire time or from `now`
    /// if it is already due.
    pub fn snooze_reminder_for(
        &mut self,
        id: &str,
        duration: Duration,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if duration <= Duration::zero() {
            return Err(Error::invalid(
                "snooze",
                "must be a positive duration, e.g. 10m or 2h",
            ));
        }
        let reminder = self.find_reminder(id, now)?;
        let from = reminder.fires_at_utc.max(now);
        self.snooze_reminder(&reminder.id, from + duration, now)
    }
}

/// The fields of a mark saying `reminder`'s occurrence is done (for both partners).
pub(super) fn done_mark_fields(reminder: &Reminder) -> Vec<(&'static str, Val)> {
    vec![
        ("kind", "done".into()),
        ("occurrence", reminder.occurrence.clone().into()),
    ]
}

/// The fields of a mark snoozing `reminder` until `until`, checked: only partner `me`'s own
/// reminders, only into the future. The due time is the one already snoozed, if it was.
pub(super) fn snooze_mark_fields(
    reminder: &Reminder,
    me: &PartnerId,
    marks: &Marks,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<(&'static str, Val)>> {
    if &reminder.partner != me {
        return Err(Error::NotAllowed(
            "you can snooze only your own reminders".into(),
        ));
    }
    if until <= now {
        return Err(Error::invalid("snooze", "must end in the future"));
    }
    let due = marks
        .snooze_of(&reminder.id)
        .map(|s| s.due)
        .unwrap_or(reminder.fires_at_utc);
    Ok(vec![
        ("kind", "snooze".into()),
        ("reminder", reminder.id.clone().into()),
        ("until", until.timestamp_millis().into()),
        ("due", due.timestamp_millis().into()),
    ])
}
