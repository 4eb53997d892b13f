//! Trust: signed records, device enrolment rules and the local trust anchor.
//!
//! Automerge actor ids are not authenticated, and the partner is part of the threat model: a
//! modified client of one partner must not accept, retire or enrol devices in the other's name.
//! So every record the core writes carries an Ed25519 signature (field `sig`) by the acting
//! device over a canonical encoding of the record (its path, id and every other field), and
//! derived views count only records whose signature verifies against a device that was validly
//! enrolled for the partner the record names, and not removed before the record.
//!
//! Enrolment rules (checked on every replica, in causal order of the records' Lamport counters):
//! - the founder's first device enrols itself; which device founded the space is pinned in the
//!   device's local `space.json` when it creates or joins the space (never taken from the
//!   shared document afterwards);
//! - the other partner's first device is enrolled by a device of the founder, once, while the
//!   space has one partner (`role = partner`);
//! - a returning partner's replacement device is enrolled by the other partner
//!   (`role = returning`), which removes all of that partner's previous devices;
//! - every other device is enrolled by a device of its own partner (`role = device`);
//! - a removal record signed by any valid device removes a device; it is never valid again.
//!
//! Verification results are cached by a hash of what was verified, in memory and in the
//! owner-only `verified.bin`, so reopening does not verify everything again.

use crate::document::{Record, Val};
use crate::error::{Error, Result};
use crate::identity::{verify, DeviceIdentity};
use crate::ids::DeviceId;
use crate::storage::write_atomic;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

const ANCHOR_FILE: &str = "space.json";
const VERIFIED_FILE: &str = "verified.bin";

/// The device-local facts a replica trusts without the shared document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Anchor {
    pub(crate) space_id: String,
    pub(crate) founder_device: String,
}

impl Anchor {
    pub(crate) fn load(dir: &Path) -> Result<Option<Anchor>> {
        let path = dir.join(ANCHOR_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::Corrupt {
                    path,
                    reason: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    pub(crate) fn save(&self, dir: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::Corrupt {
            path: dir.join(ANCHOR_FILE),
            reason: e.to_string(),
        })?;
        write_atomic(&dir.join(ANCHOR_FILE), &bytes, true)
    }
}

/// The canonical bytes a record's signature covers: a domain tag, the space id, the record's
/// path and id, and every field but `sig`, in key order.
pub(crate) fn canonical_bytes(
    space_id: &str,
    path: &str,
    id: &str,
    fields: &[(&str, &Val)],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let mut put = |bytes: &[u8]| {
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    };
    put(b"accord-record-v1");
    put(space_id.as_bytes());
    put(path.as_bytes());
    put(id.as_bytes());
    let mut sorted: Vec<&(&str, &Val)> = fields.iter().filter(|(k, _)| *k != "sig").collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    for (key, value) in sorted {
        put(key.as_bytes());
        match value {
            Val::Str(s) => {
                put(b"s");
                put(s.as_bytes());
            }
            Val::Int(i) => {
                put(b"i");
                put(&i.to_le_bytes());
            }
            Val::Bool(b) => {
                put(b"b");
                put(&[u8::from(*b)]);
            }
            Val::Bytes(b) => {
                put(b"y");
                put(b);
            }
            Val::Other(o) => {
                put(b"o");
                put(o.as_bytes());
            }
        }
    }
    out
}

/// Signs `fields` for the record `path/id` and returns them with `sig` added.
pub(crate) fn sign_fields<'a>(
    identity: &DeviceIdentity,
    space_id: &str,
    path: &str,
    id: &str,
    mut fields: Vec<(&'a str, Val)>,
) -> Vec<(&'a str, Val)> {
    let refs: Vec<(&str, &Val)> = fields.iter().map(|(k, v)| (*k, v)).collect();
    let sig = identity.sign(&canonical_bytes(space_id, path, id, &refs));
    fields.push(("sig", Val::Bytes(sig.to_vec())));
    fields
}

/// Checks signatures, remembering what verified.
#[derive(Clone, Default)]
pub(crate) struct Verifier {
    verified: Arc<Mutex<HashSet<[u8; 32]>>>,
    dirty: Arc<std::sync::atomic::AtomicBool>,
}

impl Verifier {
    /// Loads the cache of verified records from `dir` (a damaged cache is simply ignored).
    pub(crate) fn load(dir: &Path) -> Verifier {
        let verifier = Verifier::default();
        verifier.load_from(dir);
        verifier
    }

    /// Adds the records cached in `dir` as verified.
    pub(crate) fn load_from(&self, dir: &Path) {
        if let Ok(bytes) = std::fs::read(dir.join(VERIFIED_FILE)) {
            if let Ok(mut set) = self.verified.lock() {
                set.reserve(bytes.len() / 32);
                for chunk in bytes.chunks_exact(32) {
                    if let Ok(hash) = <[u8; 32]>::try_from(chunk) {
                        set.insert(hash);
                    }
                }
            }
        }
    }

    /// Saves the cache (owner-only; best effort).
    pub(crate) fn save(&self, dir: &Path) {
        if !self.dirty.swap(false, std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let bytes: Vec<u8> = match self.verified.lock() {
            Ok(set) => set.iter().flatten().copied().collect(),
            Err(_) => return,
        };
        let _ = write_atomic(&dir.join(VERIFIED_FILE), &bytes, false);
    }

    /// Whether `record` (stored at `path`) carries a valid signature by `signer`.
    pub(crate) fn record_signed_by(
        &self,
        space_id: &str,
        path: &str,
        record: &Record,
        signer: &DeviceId,
    ) -> bool {
        let Some(sig) = record.fields.get("sig").and_then(|v| match v {
            Val::Bytes(b) => Some(b.as_slice()),
            _ => None,
        }) else {
            return false;
        };
        let fields: Vec<(&str, &Val)> =
            record.fields.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let message = canonical_bytes(space_id, path, &record.id, &fields);
        let mut hasher = Sha256::new();
        hasher.update(signer.as_str().as_bytes());
        hasher.update(&message);
        hasher.update(sig);
        let key: [u8; 32] = hasher.finalize().into();
        if self
            .verified
            .lock()
            .map(|s| s.contains(&key))
            .unwrap_or(false)
        {
            return true;
        }
        let ok = verify(signer, &message, sig);
        if ok {
            if let Ok(mut set) = self.verified.lock() {
                set.insert(key);
                self.dirty.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        ok
    }
}

/// A device's enrolment role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Founder,
    Partner,
    Device,
    Returning,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Founder => "founder",
            Role::Partner => "partner",
            Role::Device => "device",
            Role::Returning => "returning",
        }
    }
    pub(crate) fn parse(text: &str) -> Option<Role> {
        [Role::Founder, Role::Partner, Role::Device, Role::Returning]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// Signs the records this device writes.
#[derive(Clone)]
pub(crate) struct Signer {
    pub(crate) identity: DeviceIdentity,
    pub(crate) space_id: String,
}

impl Signer {
    pub(crate) fn sign<'a>(
        &self,
        path: &[&str],
        id: &str,
        fields: Vec<(&'a str, Val)>,
    ) -> Vec<(&'a str, Val)> {
        sign_fields(&self.identity, &self.space_id, &path.join("/"), id, fields)
    }
}
