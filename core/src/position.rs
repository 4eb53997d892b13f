//! Sealed positions: each partner's own view on a topic ("what I expect"), written before a
//! joint wording exists and revealed together.
//!
//! A position enters the shared document only encrypted (ChaCha20-Poly1305, RustCrypto's
//! audited AEAD) with a key derived (HKDF-SHA256) from a generation of that partner's secret
//! (their keyring, sealed in the document to their devices and recovery key only: see
//! [`crate::keyring`]) and the position's id. Marking a position
//! ready is final (in causal order) and commits to that ciphertext. When both partners are
//! ready, a device of each publishes the key of its partner's position (only that key) in
//! answer to the other's "ready"; then both are readable on every device. A published key
//! that does not open the committed ciphertext, or answers another "ready", is rejected.

use crate::error::{Error, Result};
use crate::ids::PartnerId;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Where a partner's position on a topic stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum PositionState {
    /// Written, still editable by its author.
    Draft,
    /// Marked ready (final); sealed until the other partner is ready too.
    Ready,
    /// Both partners are ready and this position's key is published: readable by both.
    Revealed,
}

/// One partner's position on a topic, as this device can see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Position {
    /// The topic (an agreement id or a draft's name).
    pub topic: String,
    /// Whose position it is.
    pub partner: PartnerId,
    /// Its state.
    pub state: PositionState,
    /// The text, if this device may read it (its own partner's, or revealed); `None` = sealed.
    pub text: Option<String>,
}

fn aad(space_id: &str, topic: &str, position: &str, partner: &PartnerId) -> Vec<u8> {
    format!("{space_id}|{topic}|{position}|{partner}").into_bytes()
}

/// Encrypts a position's text; returns (nonce, ciphertext).
pub(crate) fn seal(
    key: &[u8; 32],
    space_id: &str,
    topic: &str,
    position: &str,
    partner: &PartnerId,
    text: &str,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let cipher = ChaCha20Poly1305::new(key.into());
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce)
        .map_err(|e| Error::NotAllowed(format!("no randomness for encryption: {e}")))?;
    let aad = aad(space_id, topic, position, partner);
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: text.as_bytes(),
                aad: &aad,
            },
        )
        .map_err(|_| Error::NotAllowed("the position could not be encrypted".into()))?;
    Ok((nonce.to_vec(), ciphertext))
}

/// Decrypts a position; `None` if the key does not open it.
pub(crate) fn open(
    key: &[u8],
    space_id: &str,
    topic: &str,
    position: &str,
    partner: &PartnerId,
    nonce: &[u8],
    ciphertext: &[u8],
) -> Option<String> {
    let key: &[u8; 32] = key.try_into().ok()?;
    if nonce.len() != 12 {
        return None;
    }
    let cipher = ChaCha20Poly1305::new(key.into());
    let aad = aad(space_id, topic, position, partner);
    let plain = cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: &aad,
            },
        )
        .ok()?;
    String::from_utf8(plain).ok()
}

/// Hex SHA-256 of a ciphertext (what "ready" commits to).
pub(crate) fn digest(ciphertext: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(ciphertext))
}

/// A position text record.
#[derive(Debug, Clone)]
pub(crate) struct SealedText {
    pub(crate) id: String,
    /// The keyring generation it is sealed with.
    pub(crate) key_id: String,
    pub(crate) nonce: Vec<u8>,
    pub(crate) ciphertext: Vec<u8>,
    /// Its place in causal order.
    order: i64,
}

/// One partner's position records on one topic, validated.
#[derive(Debug, Clone)]
pub(crate) struct TopicPosition {
    pub(crate) topic: String,
    pub(crate) partner: PartnerId,
    /// The newest text (what a draft shows).
    pub(crate) latest: Option<SealedText>,
    /// The text that "ready" committed to.
    pub(crate) committed: Option<SealedText>,
    /// The final "ready" record (what the other partner's key answers).
    pub(crate) ready_id: Option<String>,
    /// A published key that opens the committed text.
    pub(crate) key: Option<Vec<u8>>,
}

impl TopicPosition {
    pub(crate) fn is_ready(&self) -> bool {
        self.committed.is_some()
    }
}

/// A "ready" record that commits to a text of its author's.
struct Ready {
    id: String,
    counter: u64,
    actor: String,
    origin: crate::document::Origin,
    text: SealedText,
}

/// Reads every position record and keeps what verifies: texts, the final "ready" of each
/// partner and topic, and published keys that open the committed text.
///
/// Ready is final in causal order: a "ready" written after another of the same partner and
/// topic (it had seen it) never counts. Of those that had seen none, the one the other
/// partner's key answers is final (the reveal binds to what that device saw), else the first
/// by op counter. A key counts only when it opens its author's committed text and answers the
/// other partner's final "ready", so re-committing after reading the other's position changes
/// nothing.
pub(crate) fn read_positions(
    doc: &crate::document::Document,
    members: &crate::view::Members,
    space_id: &str,
    problems: &mut Vec<crate::view::Problem>,
    max_seq: &mut i64,
) -> Vec<TopicPosition> {
    use crate::view::Problem;
    use std::collections::BTreeMap;
    let mut texts: BTreeMap<String, (String, PartnerId, SealedText)> = BTreeMap::new();
    let mut readies: Vec<(String, PartnerId, String, String, &crate::document::Record)> =
        Vec::new();
    let mut keys: Vec<(String, PartnerId, String, Vec<u8>, String, String)> = Vec::new();
    let records = doc.records(&["positions"]);
    for r in &records {
        *max_seq = (*max_seq).max(r.int("seq").unwrap_or(0));
        let author = match members.record_author(r) {
            Ok(author) => author.partner.clone(),
            Err(why) => {
                problems.push(Problem::new(
                    format!("position record {}", r.id),
                    format!("{why}; ignored"),
                ));
                continue;
            }
        };
        let Some(topic) = r.str("topic").map(str::to_owned) else {
            problems.push(Problem::new(
                format!("position record {}", r.id),
                "names no topic; ignored",
            ));
            continue;
        };
        let order = r.order();
        match r.str("kind") {
            Some("text") => match (r.bytes("nonce"), r.bytes("ciphertext"), r.str("key_id")) {
                (Some(n), Some(c), Some(key_id)) => {
                    texts.insert(
                        r.id.clone(),
                        (
                            topic,
                            author,
                            SealedText {
                                id: r.id.clone(),
                                key_id: key_id.to_owned(),
                                nonce: n.to_vec(),
                                ciphertext: c.to_vec(),
                                order,
                            },
                        ),
                    );
                }
                _ => problems.push(Problem::new(
                    format!("position {}", r.id),
                    "has no ciphertext; ignored",
                )),
            },
            Some("ready") => match (r.str("position"), r.str("digest")) {
                (Some(p), Some(d)) => readies.push((topic, author, p.to_owned(), d.to_owned(), r)),
                _ => problems.push(Problem::new(
                    format!("position ready {}", r.id),
                    "is incomplete; ignored",
                )),
            },
            Some("key") => match (r.str("position"), r.bytes("key"), r.str("answers")) {
                (Some(p), Some(k), Some(a)) => keys.push((
                    topic,
                    author,
                    p.to_owned(),
                    k.to_vec(),
                    r.id.clone(),
                    a.to_owned(),
                )),
                _ => problems.push(Problem::new(
                    format!("position key {}", r.id),
                    "is incomplete; ignored",
                )),
            },
            _ => problems.push(Problem::new(
                format!("position record {}", r.id),
                "has an unknown kind; ignored",
            )),
        }
    }
    let mut out: BTreeMap<(String, PartnerId), TopicPosition> = BTreeMap::new();
    for (topic, partner, text) in texts.values() {
        let entry = out
            .entry((topic.clone(), partner.clone()))
            .or_insert_with(|| TopicPosition {
                topic: topic.clone(),
                partner: partner.clone(),
                latest: None,
                committed: None,
                ready_id: None,
                key: None,
            });
        if entry
            .latest
            .as_ref()
            .is_none_or(|l| (text.order, &text.id) > (l.order, &l.id))
        {
            entry.latest = Some(text.clone());
        }
    }
    // Each partner's valid readies per topic.
    let mut groups: BTreeMap<(String, PartnerId), Vec<Ready>> = BTreeMap::new();
    for (topic, partner, position, committed_digest, r) in readies {
        match texts.get(&position) {
            Some((t, p, text))
                if *t == topic && *p == partner && digest(&text.ciphertext) == committed_digest =>
            {
                groups.entry((topic, partner)).or_default().push(Ready {
                    id: r.id.clone(),
                    counter: r.counter,
                    actor: r.actor.clone(),
                    origin: r.origin(),
                    text: text.clone(),
                });
            }
            _ => problems.push(Problem::new(
                format!("position ready {}", r.id),
                "does not match the position it names; ignored",
            )),
        }
    }
    for ((topic, partner), group) in groups {
        // Readies that had seen no other of the group: the candidates for final.
        let first: Vec<&Ready> = group
            .iter()
            .filter(|r| {
                let seen = if group.len() > 1 {
                    doc.seen_at(&r.origin)
                } else {
                    BTreeMap::new()
                };
                !group
                    .iter()
                    .any(|o| o.id != r.id && seen.get(&o.actor).is_some_and(|&c| c >= o.counter))
            })
            .collect();
        let answered = |r: &&Ready| {
            keys.iter()
                .any(|k| k.0 == topic && k.1 != partner && k.5 == r.id)
        };
        let by_order = |a: &&&Ready, b: &&&Ready| (a.counter, &a.id).cmp(&(b.counter, &b.id));
        let chosen = first
            .iter()
            .filter(|r| answered(r))
            .min_by(by_order)
            .or_else(|| first.iter().min_by(by_order));
        let Some(chosen) = chosen else { continue };
        let Some(entry) = out.get_mut(&(topic.clone(), partner.clone())) else {
            continue;
        };
        entry.committed = Some(chosen.text.clone());
        entry.ready_id = Some(chosen.id.clone());
    }
    let final_ready: BTreeMap<(String, PartnerId), String> = out
        .iter()
        .filter_map(|(k, e)| e.ready_id.clone().map(|id| (k.clone(), id)))
        .collect();
    for (topic, partner, position, key, id, answers) in keys {
        let answers_final = final_ready
            .iter()
            .any(|((t, p), ready)| *t == topic && *p != partner && *ready == answers);
        if !answers_final {
            problems.push(Problem::new(
                format!("position key {id}"),
                "does not answer the other partner's final \"ready\"; rejected",
            ));
            continue;
        }
        let Some(entry) = out.get_mut(&(topic.clone(), partner.clone())) else {
            continue;
        };
        let Some(committed) = &entry.committed else {
            continue;
        };
        if committed.id != position {
            problems.push(Problem::new(
                format!("position key {id}"),
                "is for another position than the committed one; rejected",
            ));
            continue;
        }
        if open(
            &key,
            space_id,
            &topic,
            &position,
            &partner,
            &committed.nonce,
            &committed.ciphertext,
        )
        .is_some()
        {
            entry.key = Some(key);
        } else {
            problems.push(Problem::new(
                format!("position key {id}"),
                "does not open the committed position; rejected",
            ));
        }
    }
    out.into_values().collect()
}
