//! The views: derived from the document, all at once after a load, or only what a write or
//! a peer's changes touched; problems found on the way.

use super::*;

impl Touched {
    /// Whether re-deriving this part can change what reminders are computed from (partners,
    /// agreements, concerns, rules and marks; not the log, check-ins or positions).
    pub(super) fn affects_reminders(&self) -> bool {
        !matches!(
            self,
            Touched::Log
                | Touched::LogEntry(_)
                | Touched::Checkins
                | Touched::CheckIn(_)
                | Touched::Positions
        )
    }
}

/// Replaces the entries with the ids of `entries` (or adds them), keeping `list` sorted by
/// `key` (order, id).
pub(super) fn upsert<T>(list: &mut Vec<T>, entries: Vec<T>, key: fn(&T) -> (i64, &str)) {
    for entry in entries {
        match list.binary_search_by(|e| key(e).cmp(&key(&entry))) {
            Ok(at) => list[at] = entry,
            Err(_) => {
                // Records do not change, but an entry re-read under another order must not
                // stay twice.
                let id = key(&entry).1;
                list.retain(|e| key(e).1 != id);
                let at = list.partition_point(|e| key(e) < key(&entry));
                list.insert(at, entry);
            }
        }
    }
}

/// Keeps the problems found for one part of the views (none: the entry goes).
pub(super) fn set_problems(
    problems: &mut BTreeMap<String, Vec<Problem>>,
    part: String,
    found: Vec<Problem>,
) {
    if found.is_empty() {
        problems.remove(&part);
    } else {
        problems.insert(part, found);
    }
}

pub(super) fn same_part(a: &Touched, b: &Touched) -> bool {
    match (a, b) {
        (Touched::Agreement(x), Touched::Agreement(y)) => x == y,
        (Touched::AgreementWritten(x), Touched::AgreementWritten(y)) => x == y,
        (Touched::LogEntry(x), Touched::LogEntry(y)) => x == y,
        (Touched::DeviceAdded(x), Touched::DeviceAdded(y)) => x == y,
        (Touched::CheckIn(x), Touched::CheckIn(y)) => x == y,
        (Touched::Concern(x, _), Touched::Concern(y, _)) => x == y,
        (Touched::Concerns(_), Touched::Concerns(_)) => true,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// A hash of everything the reminder schedule depends on.
pub(super) fn reminders_fingerprint(derived: &Derived) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in &derived.members.partners {
        (&p.id, &p.name, &p.time_zone).hash(&mut h);
    }
    for a in derived.agreements.values() {
        a.reminder_fingerprint().hash(&mut h);
    }
    // What the schedule reads of a concern (a response changes nothing it shows).
    for c in &derived.concerns {
        let open = c.state.is_open();
        (&c.id, c.acknowledged, open, c.raised_at, &c.agreement).hash(&mut h);
        (&c.raised_by, &c.what_happened).hash(&mut h);
    }
    format!(
        "{:?}{:?}{:?}",
        derived.reminders.rules, derived.reminders.checkin, derived.reminders.marks
    )
    .hash(&mut h);
    h.finish()
}

/// Every view of `doc`, read with the trust rules of `trust`.
pub(super) fn derive_views(doc: &Document, trust: &TrustContext) -> Derived {
    let mut problems = BTreeMap::new();
    let mut p = Vec::new();
    let members = view::read_members(doc, trust, &mut p);
    let members_max_seq = members.max_seq;
    problems.insert("members".to_owned(), std::mem::take(&mut p));
    // The agreements and the log are the two largest parts: derive them on both cores.
    let ((agreements, agreement_problems), log) = std::thread::scope(|scope| {
        let agreements = scope.spawn(|| {
            let mut p = Vec::new();
            (view::derive_agreements(doc, &members, &mut p), p)
        });
        let log = view::read_log(doc, &members, &mut p);
        match agreements.join() {
            Ok(done) => (done, log),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    problems.insert("agreements".to_owned(), agreement_problems);
    problems.insert("log".to_owned(), std::mem::take(&mut p));
    let checkins = view::read_checkins(doc, &members, &mut p);
    problems.insert("checkins".to_owned(), std::mem::take(&mut p));
    let mut max_seq = agreements.values().map(|a| a.max_seq).max().unwrap_or(0);
    let concerns = view::read_concerns(doc, &members, &mut p, &mut max_seq);
    problems.insert("concerns".to_owned(), std::mem::take(&mut p));
    crate::position::read_positions(doc, &members, &trust.space_id, &mut p, &mut max_seq);
    problems.insert("positions".to_owned(), std::mem::take(&mut p));
    let reminders = reminders::read_reminders(doc, &members, &mut p);
    problems.insert("reminders".to_owned(), p);
    max_seq = max_seq.max(reminders.max_seq);
    max_seq = max_seq.max(view::max_record_seq(&log, &checkins, &concerns));
    max_seq = max_seq.max(members_max_seq);
    Derived {
        heads: doc.heads(),
        members,
        agreements,
        log,
        checkins,
        concerns,
        reminders,
        problems,
        max_seq,
        schema: doc.schema_version(),
    }
}

impl Space {
    pub(super) fn derive_all(&mut self) -> Result<()> {
        let derived = derive_views(self.doc(), &self.trust);
        self.set_derived(derived);
        Ok(())
    }

    /// Takes `derived` as the views of the loaded document.
    pub(super) fn set_derived(&mut self, derived: Derived) {
        self.reminders_dirty = true;
        self.report.read_only = read_only_reason(derived.schema);
        self.derived = Some(derived);
        self.cached = None;
    }

    pub(super) fn rederive(&mut self, touched: Touched) -> Result<()> {
        self.reminders_dirty |= touched.affects_reminders();
        let doc = match &self.doc {
            DocState::Ready(doc) => doc,
            _ => return Ok(()),
        };
        let Some(derived) = self.derived.as_mut() else {
            return self.derive_all();
        };
        let mut p = Vec::new();
        let rederive_agreement = |id: &AgreementId, derived: &mut Derived| {
            let mut p = Vec::new();
            match view::derive_one(doc, id.as_str(), &derived.members, &mut p) {
                Some(state) => {
                    derived.max_seq = derived.max_seq.max(state.max_seq);
                    derived.agreements.insert(id.clone(), state);
                }
                None => {
                    derived.agreements.remove(id);
                }
            }
            set_problems(&mut derived.problems, format!("agreement:{id}"), p);
        };
        match touched {
            Touched::All => return self.derive_all(),
            Touched::DeviceAdded(device) => {
                let members = view::read_members(doc, &self.trust, &mut p);
                if self.trust.checkpoints.seq_of(&device).is_some()
                    || !derived.members.only_adds_device(&members, &device)
                {
                    return self.derive_all();
                }
                derived.max_seq = derived.max_seq.max(members.max_seq);
                derived.members = members;
                derived.problems.insert("members".into(), p);
            }
            Touched::Agreement(id) => rederive_agreement(&id, derived),
            // The previous state is taken out (not copied): it is replaced or dropped below.
            Touched::AgreementWritten(id) => match derived.agreements.remove(&id) {
                Some(previous) => {
                    let mut p = Vec::new();
                    match view::derive_one_after_local_write(
                        doc,
                        previous,
                        &derived.members,
                        &mut p,
                    ) {
                        Some(state) => {
                            derived.max_seq = derived.max_seq.max(state.max_seq);
                            derived.agreements.insert(id.clone(), state);
                        }
                        None => {
                            derived.agreements.remove(&id);
                        }
                    }
                    set_problems(&mut derived.problems, format!("agreement:{id}"), p);
                }
                None => rederive_agreement(&id, derived),
            },
            Touched::Log => {
                derived.log = view::read_log(doc, &derived.members, &mut p);
                derived.problems.insert("log".into(), p);
            }
            Touched::Checkins => {
                derived.checkins = view::read_checkins(doc, &derived.members, &mut p);
                derived.problems.insert("checkins".into(), p);
            }
            Touched::Reminders => {
                derived.reminders = reminders::read_reminders(doc, &derived.members, &mut p);
                derived.max_seq = derived.max_seq.max(derived.reminders.max_seq);
                derived.problems.insert("reminders".into(), p);
            }
            Touched::LogEntry(id) => {
                let records = doc.record(&["log"], &id).into_iter().collect();
                let entries = view::read_log_from(records, &derived.members, &mut p);
                upsert(&mut derived.log, entries, |e| (e.order, e.id.as_str()));
                set_problems(&mut derived.problems, format!("log:{id}"), p);
            }
            Touched::CheckIn(id) => {
                let records = doc.record(&["checkins"], &id).into_iter().collect();
                let entries = view::read_checkins_from(records, &derived.members, &mut p);
                upsert(&mut derived.checkins, entries, |e| (e.order, e.id.as_str()));
                set_problems(&mut derived.problems, format!("checkin:{id}"), p);
            }
            Touched::Concern(id, agreement) => {
                let records = doc.record(&["concerns"], &id).into_iter().collect();
                let mut max = derived.max_seq;
                let entries = view::read_concerns_from(records, &derived.members, &mut p, &mut max);
                derived.max_seq = max;
                upsert(&mut derived.concerns, entries, |e| (e.order, e.id.as_str()));
                set_problems(&mut derived.problems, format!("concern:{id}"), p);
                if let Some(id) = agreement {
                    rederive_agreement(&id, derived);
                }
            }
            Touched::Positions => {
                let mut max = derived.max_seq;
                crate::position::read_positions(
                    doc,
                    &derived.members,
                    &self.trust.space_id,
                    &mut p,
                    &mut max,
                );
                derived.max_seq = max;
                derived.problems.insert("positions".into(), p);
            }
            Touched::Concerns(agreement) => {
                let mut max = derived.max_seq;
                derived.concerns = view::read_concerns(doc, &derived.members, &mut p, &mut max);
                derived.max_seq = max;
                derived.problems.insert("concerns".into(), p);
                if let Some(id) = agreement {
                    rederive_agreement(&id, derived);
                }
            }
        }
        let derived = self.derived.as_mut().expect("present");
        derived.max_seq = derived.max_seq.max(view::max_record_seq(
            &derived.log,
            &derived.checkins,
            &derived.concerns,
        ));
        derived.heads = doc.heads();
        Ok(())
    }

    /// Re-derives what changes from other devices touched (found by diffing the document),
    /// falling back to a full derivation for changes to members or the root.
    pub(crate) fn rederive_remote(&mut self, before: &[Heads]) -> Result<()> {
        let touched = self.doc().touched_since(before);
        let mut parts: Vec<Touched> = Vec::new();
        for (top, key) in touched {
            let part = match top.as_str() {
                "agreements" => match key {
                    Some(id) => Touched::Agreement(AgreementId(id)),
                    None => return self.derive_all(),
                },
                "log" => key.map(Touched::LogEntry).unwrap_or(Touched::Log),
                "checkins" => key.map(Touched::CheckIn).unwrap_or(Touched::Checkins),
                "concerns" => match key {
                    Some(id) => Touched::Concern(id, None),
                    None => Touched::Concerns(None),
                },
                "positions" | "keyrings" => Touched::Positions,
                "rules" | "marks" | "settings" => Touched::Reminders,
                _ => return self.derive_all(),
            };
            if !parts.iter().any(|p| same_part(p, &part)) {
                parts.push(part);
            }
        }
        for part in parts {
            self.rederive(part)?;
        }
        Ok(())
    }

    /// Records that break the schema and were left out of the views.
    pub fn problems(&mut self) -> Result<Vec<Problem>> {
        self.ready()?;
        let mut all: Vec<Problem> = self
            .derived()
            .problems
            .values()
            .flatten()
            .cloned()
            .collect();
        all.sort();
        all.dedup();
        Ok(all)
    }
}

#[cfg(test)]
mod upsert_tests {
    use super::upsert;

    fn key(e: &(i64, String)) -> (i64, &str) {
        (e.0, e.1.as_str())
    }

    fn entry(order: i64, id: &str) -> (i64, String) {
        (order, id.to_owned())
    }

    #[test]
    fn entries_are_added_in_order_replaced_in_place_and_never_kept_twice() {
        let mut list = vec![entry(1, "a"), entry(3, "c"), entry(5, "e")];
        upsert(&mut list, vec![entry(4, "d"), entry(0, "z")], key);
        assert_eq!(
            list,
            [
                entry(0, "z"),
                entry(1, "a"),
                entry(3, "c"),
                entry(4, "d"),
                entry(5, "e")
            ]
        );
        // The same entry again changes nothing.
        upsert(&mut list, vec![entry(3, "c")], key);
        assert_eq!(list.len(), 5);
        // An entry re-read under another order moves; it is not kept twice.
        upsert(&mut list, vec![entry(9, "a")], key);
        assert_eq!(
            list,
            [
                entry(0, "z"),
                entry(3, "c"),
                entry(4, "d"),
                entry(5, "e"),
                entry(9, "a")
            ]
        );
        upsert(&mut list, Vec::new(), key);
        assert_eq!(list.len(), 5);
    }
}
