//! Writing a change without the loaded document (part of the document module, the only one
//! that touches Automerge).
//!
//! Loading a long history costs far more memory than the document's current state (Automerge
//! 0.12 rebuilds every change while loading). A process that opens the space only to make one
//! edit need not pay for it: what the edit reads of the document (the entity's registers with
//! the operations that wrote them, the heads, this device's last sequence number and the
//! highest operation counter) is kept beside the view cache, and the change is built from it
//! as an [`ExpandedChange`], the same operations Automerge's own transaction would make (a
//! test checks they are byte for byte the same change).

use super::{packed, Entity, Record, Register, Val};
use automerge::legacy::{Key, ObjectId, Op, OpId, OpType, SortedVec};
use automerge::{ActorId, ChangeHash, ExpandedChange, ObjId, ObjType, ReadDoc, ScalarValue};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An operation's id as a cache keeps it: its counter and its actor (hex).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct OpRef {
    pub(crate) counter: u64,
    pub(crate) actor: String,
}

impl OpRef {
    fn of(id: &ObjId) -> Option<OpRef> {
        match id {
            ObjId::Id(counter, actor, _) => Some(OpRef {
                counter: *counter,
                actor: actor.to_hex_string(),
            }),
            ObjId::Root => None,
        }
    }

    fn to_op_id(&self) -> Option<OpId> {
        let actor = hex::decode(&self.actor).ok()?;
        Some(OpId(self.counter, ActorId::from(actor)))
    }
}

/// One concurrent value of a register and the operation that wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CachedValue {
    pub(crate) value: Val,
    pub(crate) op: OpRef,
}

/// What writing to one entity needs to know of it, read while the document was loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct EntityBasis {
    /// The entity's map.
    pub(crate) obj: OpRef,
    /// Every scalar key with each concurrent value, in [`Register`]'s order.
    pub(crate) registers: BTreeMap<String, Vec<CachedValue>>,
    /// The child maps that hold records (acceptances, ...), by key.
    pub(crate) maps: BTreeMap<String, OpRef>,
}

impl EntityBasis {
    /// Whether every value is one this schema writes exactly (string, integer, boolean or
    /// bytes): only then does an edit built from the cache match the document's own reading.
    pub(crate) fn is_plain(&self) -> bool {
        self.registers
            .values()
            .flatten()
            .all(|v| !matches!(v.value, Val::Other(_)))
    }

    /// The document's root as the parent of records in its top-level `maps` (no register is
    /// written through it).
    pub(crate) fn root(maps: BTreeMap<String, OpRef>) -> EntityBasis {
        EntityBasis {
            obj: OpRef {
                counter: 0,
                actor: String::new(),
            },
            registers: BTreeMap::new(),
            maps,
        }
    }

    /// The entity as [`super::Document::entity_registers`] reads it (without a place in a
    /// loaded document: only for deriving views).
    pub(crate) fn to_entity(&self, id: &str) -> Entity {
        Entity {
            id: id.to_owned(),
            registers: self
                .registers
                .iter()
                .map(|(key, values)| {
                    let values = values
                        .iter()
                        .map(|v| (v.value.clone(), v.op.actor.clone()))
                        .collect();
                    (key.clone(), Register { values })
                })
                .collect(),
            children: BTreeMap::new(),
            obj: automerge::ROOT,
        }
    }
}

/// Where the document stands: what the next change of this device builds on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DocumentTip {
    /// The document's heads (hex).
    pub(crate) heads: Vec<String>,
    /// The sequence number of this device's last change (0 before its first).
    pub(crate) seq: u64,
    /// The hash (hex) of this device's last change: the next one follows it even when a
    /// peer's change has since made it no longer a head.
    pub(crate) last_local: Option<String>,
    /// The highest operation counter in the document.
    pub(crate) max_op: u64,
}

/// A value read exactly as it would be written back (anything else is `Other`).
fn exact_val(value: &automerge::Value<'_>) -> Val {
    match value {
        automerge::Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Str(s) => Val::Str(s.to_string()),
            ScalarValue::Int(i) => Val::Int(*i),
            ScalarValue::Boolean(b) => Val::Bool(*b),
            ScalarValue::Bytes(b) => Val::Bytes(b.clone()),
            other => Val::Other(format!("{other:?}")),
        },
        automerge::Value::Object(t) => Val::Other(format!("{t:?} object")),
    }
}

/// Like [`exact_val`], for a value read in place.
fn exact_val_ref(value: &automerge::ValueRef<'_>) -> Val {
    match value {
        automerge::ValueRef::Scalar(s) => match s {
            automerge::ScalarValueRef::Str(s) => Val::Str(s.to_string()),
            automerge::ScalarValueRef::Int(i) => Val::Int(*i),
            automerge::ScalarValueRef::Boolean(b) => Val::Bool(*b),
            automerge::ScalarValueRef::Bytes(b) => Val::Bytes(b.to_vec()),
            other => Val::Other(format!("{other:?}")),
        },
        automerge::ValueRef::Object(t) => Val::Other(format!("{t:?} object")),
    }
}

impl super::Document {
    /// The heads, this device's last sequence number and the highest operation counter.
    pub(crate) fn tip(&self) -> DocumentTip {
        let heads = self.doc.get_heads();
        // As Automerge's transaction counts: the highest counter of any change.
        let max_op = match &self.clock {
            Some(clock) => clock.values().map(|e| e.1).max(),
            None => self
                .doc
                .get_changes_meta(&[])
                .into_iter()
                .map(|m| m.max_op)
                .max(),
        }
        .unwrap_or(0);
        let last = self.last_local_change();
        DocumentTip {
            heads: heads.iter().map(|h| h.to_string()).collect(),
            seq: last.map_or(0, |(_, seq, _)| seq),
            last_local: last.map(|(hash, _, _)| ChangeHash(hash).to_string()),
            max_op,
        }
    }

    /// The top-level maps (`marks`, `log`, ...) by key, as parents of records.
    pub(crate) fn top_level_maps(&self) -> BTreeMap<String, OpRef> {
        self.doc
            .map_range(&automerge::ROOT, ..)
            .filter(|item| {
                !item.conflict && matches!(item.value, automerge::ValueRef::Object(ObjType::Map))
            })
            .filter_map(|item| Some((item.key.to_string(), OpRef::of(&item.id())?)))
            .collect()
    }

    /// What writing to the entity `id` of `collection` needs, if it exists.
    pub(crate) fn entity_basis(&self, collection: &str, id: &str) -> Option<EntityBasis> {
        let obj = self.resolve(&[collection, id])?;
        let mut registers = BTreeMap::new();
        let mut maps = BTreeMap::new();
        for item in self.doc.map_range(&obj, ..) {
            let key = item.key.to_string();
            if let (automerge::ValueRef::Object(ObjType::Map), false) = (&item.value, item.conflict)
            {
                maps.insert(key, OpRef::of(&item.id())?);
                continue;
            }
            if !item.conflict {
                let value = CachedValue {
                    value: exact_val_ref(&item.value),
                    op: OpRef::of(&item.id())?,
                };
                registers.insert(key, vec![value]);
                continue;
            }
            let mut values = Vec::new();
            for (value, op) in self.doc.get_all(&obj, key.as_str()).ok()? {
                values.push(CachedValue {
                    value: exact_val(&value),
                    op: OpRef::of(&op)?,
                });
            }
            // The order `Register` lists values in.
            values.sort_by(|a, b| {
                a.op.actor
                    .cmp(&b.op.actor)
                    .then_with(|| format!("{:?}", a.value).cmp(&format!("{:?}", b.value)))
            });
            registers.insert(key, values);
        }
        Some(EntityBasis {
            obj: OpRef::of(&obj)?,
            registers,
            maps,
        })
    }
}

/// A record to add to one of the entity's child maps in the same change.
pub(crate) struct NewRecord<'a> {
    /// The child map (`acceptances`, ...).
    pub(crate) map: &'a str,
    /// The record's id.
    pub(crate) key: &'a str,
    pub(crate) fields: Vec<(&'a str, Val)>,
}

/// A change written without the loaded document.
pub(crate) struct UnloadedChange {
    /// The change as stored and sent.
    pub(crate) bytes: Vec<u8>,
    pub(crate) hash: [u8; 32],
    /// The record added, as a reader of the document would see it.
    pub(crate) record: Option<Record>,
}

/// Why a change cannot be built from the cache (the caller then loads the document).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NeedsDocument(pub(crate) &'static str);

/// Builds one change of this device (`actor`) that sets `puts` on the entity and adds
/// `record`, as Automerge's own transaction would; on success updates `tip` and `basis` to
/// what the document holds after it.
pub(crate) fn write_without_document(
    tip: &mut DocumentTip,
    actor: &[u8],
    basis: &mut EntityBasis,
    puts: &[(&str, Val)],
    record: Option<NewRecord<'_>>,
    message: &str,
    time_ms: i64,
) -> Result<UnloadedChange, NeedsDocument> {
    let actor_hex = hex::encode(actor);
    let actor_id = ActorId::from(actor.to_vec());
    // Counter 0 is no operation's: the root, a parent of records only.
    let obj = match puts.is_empty() {
        true => None,
        false => Some(
            basis
                .obj
                .to_op_id()
                .filter(|id| id.0 > 0)
                .ok_or(NeedsDocument("entity id"))?,
        ),
    };
    // A damaged cache must not make a change the document would refuse on load.
    let start_op = tip
        .max_op
        .checked_add(1)
        .filter(|op| *op < super::MAX_OP_COUNTER)
        .ok_or(NeedsDocument("op counter"))?;
    let seq = tip.seq.checked_add(1).ok_or(NeedsDocument("sequence"))?;
    let mut operations = Vec::new();
    let mut after: Vec<(String, Vec<CachedValue>)> = Vec::new();
    for (key, value) in puts {
        if matches!(value, Val::Other(_)) {
            return Err(NeedsDocument("value"));
        }
        // Replacing a child map (a peer's doing) is left to the loaded document.
        if basis.maps.contains_key(*key) {
            return Err(NeedsDocument("key holds a map"));
        }
        let current = basis.registers.get(*key).cloned().unwrap_or_default();
        if current.iter().any(|v| matches!(v.value, Val::Other(_))) {
            return Err(NeedsDocument("register holds an unknown value"));
        }
        let next = OpRef {
            counter: start_op + operations.len() as u64,
            actor: actor_hex.clone(),
        };
        let pred = |values: &[&CachedValue]| -> Result<SortedVec<OpId>, NeedsDocument> {
            let ids: Option<Vec<OpId>> = values.iter().map(|v| v.op.to_op_id()).collect();
            Ok(SortedVec::from(ids.ok_or(NeedsDocument("op id"))?))
        };
        // As Automerge resolves a put: the value that wins (the highest op id) already equal
        // means nothing to write alone, or deleting the others in a conflict.
        let winner = current
            .iter()
            .max_by(|a, b| (a.op.counter, &a.op.actor).cmp(&(b.op.counter, &b.op.actor)));
        match winner {
            Some(w) if w.value.to_scalar() == value.to_scalar() => {
                if current.len() == 1 {
                    continue;
                }
                let others: Vec<&CachedValue> = current.iter().filter(|v| v.op != w.op).collect();
                operations.push(Op {
                    action: OpType::Delete,
                    obj: ObjectId::Id(obj.clone().ok_or(NeedsDocument("entity id"))?),
                    key: Key::Map((*key).into()),
                    pred: pred(&others)?,
                    insert: false,
                });
                after.push((key.to_string(), vec![w.clone()]));
            }
            _ => {
                let all: Vec<&CachedValue> = current.iter().collect();
                operations.push(Op {
                    action: OpType::Put(value.to_scalar()),
                    obj: ObjectId::Id(obj.clone().ok_or(NeedsDocument("entity id"))?),
                    key: Key::Map((*key).into()),
                    pred: pred(&all)?,
                    insert: false,
                });
                after.push((
                    key.to_string(),
                    vec![CachedValue {
                        value: value.clone(),
                        op: next,
                    }],
                ));
            }
        }
    }
    let mut new_record = None;
    if let Some(record) = record {
        let parent = basis
            .maps
            .get(record.map)
            .and_then(OpRef::to_op_id)
            .ok_or(NeedsDocument("record map"))?;
        let bytes = packed::encode(&record.fields);
        let counter = start_op + operations.len() as u64;
        operations.push(Op {
            action: OpType::Put(ScalarValue::Bytes(bytes.clone())),
            obj: ObjectId::Id(parent),
            key: Key::Map(record.key.into()),
            pred: SortedVec::new(),
            insert: false,
        });
        let mut fields = packed::decode(&bytes).unwrap_or_default();
        fields.entry("at".to_owned()).or_insert(Val::Int(time_ms));
        new_record = Some(Record {
            id: record.key.to_owned(),
            fields,
            children: BTreeMap::new(),
            actor: actor_hex.clone(),
            counter,
            foreign: false,
            obj: ObjId::Id(counter, actor_id.clone(), 0),
        });
    }
    if operations.is_empty() {
        return Err(NeedsDocument("nothing to write"));
    }
    let deps: Option<Vec<ChangeHash>> = tip
        .heads
        .iter()
        .chain(tip.last_local.iter().filter(|h| !tip.heads.contains(h)))
        .map(|h| h.parse().ok())
        .collect();
    let ops = operations.len() as u64;
    let change = automerge::Change::from(ExpandedChange {
        operations,
        actor_id,
        hash: None,
        seq,
        start_op: std::num::NonZeroU64::new(start_op).ok_or(NeedsDocument("op counter"))?,
        time: time_ms,
        message: Some(message.to_owned()),
        deps: deps.ok_or(NeedsDocument("heads"))?,
        extra_bytes: Vec::new(),
        author: None,
    });
    let hash = change.hash();
    tip.heads = vec![hash.to_string()];
    tip.seq = seq;
    tip.last_local = Some(hash.to_string());
    tip.max_op = start_op + ops - 1;
    for (key, values) in after {
        basis.registers.insert(key, values);
    }
    Ok(UnloadedChange {
        bytes: change.raw_bytes().to_vec(),
        hash: hash.0,
        record: new_record,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Document;
    use super::*;

    const A: [u8; 32] = [1; 32];
    const B: [u8; 32] = [2; 32];

    /// A document with one agreement `x` (title, details, revision, an acceptances map).
    fn with_agreement() -> Document {
        let mut doc = Document::empty(&A);
        doc.change("create", 1, |tx| {
            tx.put(&[], "schema", 2i64)?;
            tx.insert_map(&[], "agreements", vec![], &[])?;
            tx.insert_map(
                &["agreements"],
                "x",
                vec![
                    ("title", "Call when late".into()),
                    ("details", "old".into()),
                    ("revision", "r0".into()),
                    ("seq", 1i64.into()),
                ],
                &["acceptances"],
            )
        })
        .unwrap();
        doc
    }

    /// `doc` with `details` rewritten concurrently by device B and by A.
    fn with_conflict(mut doc: Document) -> Document {
        let theirs = doc
            .forge_change(&B, |tx| tx.put(&["agreements", "x"], "details", "theirs"))
            .unwrap();
        doc.change("edit", 2, |tx| {
            tx.put(&["agreements", "x"], "details", "mine")
        })
        .unwrap();
        doc.apply_stored_changes(&[theirs]).unwrap();
        doc
    }

    /// Writes `puts` and an acceptance both ways: from the cache, and through Automerge's
    /// own transaction. They must be the same change, and the cache must then read as the
    /// document does.
    fn same_change_both_ways(doc: &Document, puts: &[(&str, &str)]) {
        let mut tip = doc.tip();
        let mut basis = doc.entity_basis("agreements", "x").unwrap();
        assert!(basis.is_plain());
        let vals: Vec<(&str, Val)> = puts.iter().map(|(k, v)| (*k, Val::from(*v))).collect();
        let fields = || vec![("hash", Val::from("ab")), ("seq", Val::Int(9))];
        let built = write_without_document(
            &mut tip,
            &A,
            &mut basis,
            &vals,
            Some(NewRecord {
                map: "acceptances",
                key: "rec9",
                fields: fields(),
            }),
            "edit@x",
            1234,
        )
        .unwrap();

        let mut reference = Document::load(&doc.save(), &A).unwrap();
        reference
            .change("edit@x", 1234, |tx| {
                for (k, v) in &vals {
                    tx.put(&["agreements", "x"], k, v.clone())?;
                }
                tx.insert_record(&["agreements", "x", "acceptances"], "rec9", fields())
            })
            .unwrap();
        let own = reference.doc.get_last_local_change().unwrap();
        assert_eq!(built.hash, own.hash().0);
        assert_eq!(built.bytes, own.raw_bytes());
        assert_eq!(tip, reference.tip());
        assert_eq!(basis, reference.entity_basis("agreements", "x").unwrap());
        assert_eq!(
            basis.to_entity("x").registers,
            reference
                .entity_registers("agreements", "x")
                .unwrap()
                .registers
        );
        let record = built.record.unwrap();
        let read = reference
            .record(&["agreements", "x", "acceptances"], "rec9")
            .unwrap();
        assert_eq!(
            (record.fields, record.actor, record.counter, record.foreign),
            (read.fields, read.actor, read.counter, read.foreign)
        );
        // And the change applies where the history is loaded.
        let mut applied = Document::load(&doc.save(), &A).unwrap();
        applied.apply_stored_changes(&[built.bytes]).unwrap();
        assert_eq!(applied.heads(), reference.heads());
    }

    #[test]
    fn a_plain_edit_is_automerges_own_change() {
        same_change_both_ways(&with_agreement(), &[("details", "new"), ("revision", "r1")]);
    }

    #[test]
    fn settling_a_conflict_with_a_new_value_is_automerges_own_change() {
        same_change_both_ways(&with_conflict(with_agreement()), &[("details", "both")]);
    }

    #[test]
    fn settling_a_conflict_with_either_candidate_is_automerges_own_change() {
        // One candidate is the value that wins (a delete of the other), one is not (a put).
        same_change_both_ways(&with_conflict(with_agreement()), &[("details", "mine")]);
        same_change_both_ways(&with_conflict(with_agreement()), &[("details", "theirs")]);
    }

    #[test]
    fn an_edit_after_a_peers_change_that_followed_ours_is_automerges_own_change() {
        // B's change follows A's last one, so A's last change is no longer a head: Automerge
        // still names it among the new change's dependencies.
        let mut doc = with_agreement();
        let theirs = doc
            .forge_change(&B, |tx| tx.put(&["agreements", "x"], "title", "B's title"))
            .unwrap();
        doc.apply_raw_changes(&[theirs]).unwrap();
        let (own, _, _) = doc.last_local_change().unwrap();
        assert!(!doc.heads().contains(&ChangeHash(own)));
        same_change_both_ways(&doc, &[("details", "after B")]);
    }

    #[test]
    fn a_record_in_a_top_level_map_is_automerges_own_change() {
        let mut doc = with_agreement();
        doc.change("marks", 2, |tx| tx.insert_map(&[], "marks", vec![], &[]))
            .unwrap();
        let fields = || vec![("kind", Val::from("done")), ("seq", Val::Int(3))];
        let mut tip = doc.tip();
        let mut root = EntityBasis::root(doc.top_level_maps());
        let built = write_without_document(
            &mut tip,
            &A,
            &mut root,
            &[],
            Some(NewRecord {
                map: "marks",
                key: "m3",
                fields: fields(),
            }),
            "reminder done",
            99,
        )
        .unwrap();
        let mut reference = Document::load(&doc.save(), &A).unwrap();
        reference
            .change("reminder done", 99, |tx| {
                tx.insert_record(&["marks"], "m3", fields())
            })
            .unwrap();
        let own = reference.doc.get_last_local_change().unwrap();
        assert_eq!(built.bytes, own.raw_bytes());
        assert_eq!(tip, reference.tip());
        // The root takes no register writes.
        let refused = write_without_document(
            &mut tip,
            &A,
            &mut root,
            &[("schema", Val::Int(3))],
            None,
            "m",
            1,
        );
        assert_eq!(refused.err(), Some(NeedsDocument("entity id")));
    }

    #[test]
    fn an_unchanged_value_writes_nothing_but_the_record() {
        same_change_both_ways(&with_agreement(), &[("title", "Call when late")]);
    }

    #[test]
    fn what_the_cache_cannot_write_exactly_is_refused_not_guessed() {
        let doc = with_agreement();
        let mut tip = doc.tip();
        let mut basis = doc.entity_basis("agreements", "x").unwrap();
        let before = (tip.clone(), basis.clone());
        // A record map the cache does not know.
        let missing = NewRecord {
            map: "retirements",
            key: "r",
            fields: vec![("seq", Val::Int(1))],
        };
        let refused = write_without_document(&mut tip, &A, &mut basis, &[], Some(missing), "m", 1);
        assert_eq!(refused.err(), Some(NeedsDocument("record map")));
        // A key that holds a child map.
        let refused = write_without_document(
            &mut tip,
            &A,
            &mut basis,
            &[("acceptances", Val::from("t"))],
            None,
            "m",
            1,
        );
        assert_eq!(refused.err(), Some(NeedsDocument("key holds a map")));
        // Counters a damaged cache could hold.
        for (seq, max_op) in [(u64::MAX, 5), (1, u64::MAX), (1, (1 << 31) - 1)] {
            let mut damaged = DocumentTip {
                seq,
                max_op,
                ..tip.clone()
            };
            let refused = write_without_document(
                &mut damaged,
                &A,
                &mut basis,
                &[("title", Val::from("t"))],
                None,
                "m",
                1,
            );
            assert!(refused.is_err(), "seq {seq}, max_op {max_op}");
        }
        // A register holding a value this schema never writes.
        basis.registers.get_mut("title").unwrap()[0].value = Val::Other("F64(1.0)".into());
        assert!(!basis.is_plain());
        let refused = write_without_document(
            &mut tip,
            &A,
            &mut basis,
            &[("title", Val::from("t"))],
            None,
            "m",
            1,
        );
        assert!(refused.is_err());
        // Nothing to write at all.
        let mut basis = before.1.clone();
        let refused = write_without_document(&mut tip, &A, &mut basis, &[], None, "m", 1);
        assert_eq!(refused.err(), Some(NeedsDocument("nothing to write")));
        assert_eq!((tip, basis), before);
    }

    /// Device B's change number `seq` setting the root's `note`, its one operation numbered
    /// `start_op` (whatever the changes it follows, `deps`, numbered).
    fn note_by_b(seq: u64, start_op: u64, deps: Vec<ChangeHash>) -> automerge::Change {
        automerge::Change::from(ExpandedChange {
            operations: vec![Op {
                action: OpType::Put("b".into()),
                obj: ObjectId::Root,
                key: Key::Map("note".into()),
                pred: SortedVec::new(),
                insert: false,
            }],
            actor_id: ActorId::from(B.to_vec()),
            hash: None,
            seq,
            start_op: std::num::NonZeroU64::new(start_op).unwrap(),
            time: 5,
            message: None,
            deps,
            extra_bytes: Vec::new(),
            author: None,
        })
    }

    #[test]
    fn a_peer_change_numbered_below_the_changes_it_follows_is_refused() {
        let mut doc = with_agreement();
        // Device B's change, numbered from 1 though it follows A's operations.
        let low = note_by_b(1, 1, doc.heads());
        // From a peer it is refused: a snapshot holding it could not be read back.
        let err = doc
            .apply_raw_changes(&[low.raw_bytes().to_vec()])
            .unwrap_err();
        assert!(err.to_string().contains("below"), "{err}");
        assert_ne!(doc.heads(), vec![low.hash()]);
        let mut accepted = Document::load(&doc.save(), &A).unwrap();
        accepted
            .apply_stored_changes(&[low.raw_bytes().to_vec()])
            .unwrap();
        assert!(
            Document::load(&accepted.save(), &A).is_err(),
            "what accepting it would have cost"
        );
    }

    #[test]
    fn a_low_numbered_change_sent_before_the_one_it_follows_is_not_kept() {
        let mut doc = with_agreement();
        let d = doc
            .forge_change(&B, |tx| tx.put(&["agreements", "x"], "title", "B's title"))
            .unwrap();
        let d = automerge::Change::from_bytes(d).unwrap();
        // B's second change, numbered inside D's operations, sent first: it waits for D.
        let x = note_by_b(2, d.max_op(), vec![d.hash()]);
        let before = doc.heads();
        doc.apply_raw_changes(&[x.raw_bytes().to_vec()]).unwrap();
        assert_eq!(doc.heads(), before, "x waits for d");
        let err = doc
            .apply_raw_changes(&[d.raw_bytes().to_vec()])
            .unwrap_err();
        assert!(err.to_string().contains("below"), "{err}");
        assert!(doc.is_damaged(), "the caller reloads from disk");
    }

    #[test]
    fn the_next_counter_is_the_highest_of_any_branch() {
        // Two branches: B's change is concurrent with A's later, longer one.
        let mut doc = with_agreement();
        let theirs = doc
            .forge_change(&B, |tx| tx.put(&["agreements", "x"], "title", "B's title"))
            .unwrap();
        doc.change("long", 3, |tx| {
            for i in 0..20i64 {
                tx.put(&["agreements", "x"], "seq", i)?;
            }
            Ok(())
        })
        .unwrap();
        doc.apply_raw_changes(&[theirs]).unwrap();
        assert_eq!(doc.heads().len(), 2);
        same_change_both_ways(&doc, &[("details", "merged")]);
        // Loaded afresh, before the clock of applied changes is built.
        let reloaded = Document::load(&doc.save(), &A).unwrap();
        assert!(reloaded.clock.is_none());
        same_change_both_ways(&reloaded, &[("details", "merged")]);
    }
}
