//! Identifiers of the objects in a couple space.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Random bytes from the operating system, hex encoded.
///
/// Panics if the operating system's random source fails: ticket secrets and ids must never
/// be guessable, and there is no safe substitute (the panic surfaces as an error in the apps).
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if let Err(e) = getrandom::fill(&mut buf) {
        panic!("the operating system's random source failed ({e}): nothing was written");
    }
    hex::encode(buf)
}

/// Longest id the apps may pass in (16 random or 13 base-36 digits, then a device id).
#[cfg(feature = "uniffi")]
const MAX_ID_CHARS: usize = 80;

/// Checks an id passed in by an app: 1 to 80 lowercase letters and digits, as every id the
/// core hands out is. A malformed id is an invalid input, not an unknown one.
#[cfg(feature = "uniffi")]
fn check_id_from_app(what: &'static str, text: String) -> uniffi::Result<String> {
    let well_formed = !text.is_empty()
        && text.len() <= MAX_ID_CHARS
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase());
    if well_formed {
        Ok(text)
    } else {
        Err(crate::error::Error::invalid(
            what,
            format!(
                "{text:?} is not an id (ids are 1 to {MAX_ID_CHARS} lowercase letters and digits)"
            ),
        )
        .into())
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $len:expr, $what:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// A new random id.
            pub fn random() -> Self {
                $name(random_hex($len))
            }
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }

        // Text across the boundary; a malformed id from an app is an invalid input.
        #[cfg(feature = "uniffi")]
        uniffi::custom_type!($name, String, {
            lower: |id| id.0,
            try_lift: |text| check_id_from_app($what, text).map($name),
        });
    };
}

id_type!(
    /// Identifies a couple space.
    SpaceId, 16, "space id"
);
id_type!(
    /// Identifies a partner within a space.
    PartnerId, 8, "partner id"
);
id_type!(
    /// Identifies a device: the hex form of its Ed25519 public key.
    DeviceId, 32, "device id"
);
id_type!(
    /// Identifies an agreement (also boundaries, expectations and intentions).
    AgreementId, 8, "agreement id"
);
id_type!(
    /// Identifies a concern raised by a partner.
    ConcernId, 8, "concern id"
);
id_type!(
    /// Identifies a record (acceptance, log entry, check-in, ...).
    RecordId, 8, "record id"
);

/// Separates the agreement from the rest of a follow-through log entry's key.
pub(crate) const LOG_KEY_SEPARATOR: char = '/';

/// The id of a new object (record, agreement, concern, revision, reminder rule, sealed
/// position) written by `device` with sequence number `seq` (a Lamport counter, for ids
/// only: order comes from the change graph, see `Record::order`): `seq` in base 36, then the
/// device's whole id. Every write of a device takes a new number, so ids are unique per
/// device, and the key is bound to its author: no other device may create a key ending in
/// this device's id (see `Document::check_foreign_writes`), so no one can take a device's
/// next key before it. Ids that differ only in the device compress well in the document.
/// An order a peer pushed to the largest value (no longer unique) falls back to random
/// digits, still followed by the device id.
pub(crate) fn order_key(device: &DeviceId, seq: i64) -> String {
    if seq <= 0 || seq == i64::MAX {
        return format!("{}{}", random_hex(8), device.0);
    }
    let mut digits = Vec::new();
    let mut n = seq as u64;
    while n > 0 {
        digits.push(char::from_digit((n % 36) as u32, 36).unwrap_or('0'));
        n /= 36;
    }
    digits.reverse();
    format!("{}{}", digits.into_iter().collect::<String>(), device.0)
}

/// The sequence number an [`order_key`] was made from, if it was made from one (for a log
/// entry's key, the part after the agreement).
pub(crate) fn seq_of_key(key: &str) -> Option<i64> {
    let key = key.rsplit(LOG_KEY_SEPARATOR).next()?;
    let digits = key.get(..key.len().checked_sub(64)?)?;
    i64::from_str_radix(digits, 36).ok()
}

/// Whether `key` is bound to the device `device` (it ends with the device's whole id).
pub(crate) fn key_is_bound_to(key: &str, device: &str) -> bool {
    key.len() > device.len() && key.ends_with(device)
}

impl RecordId {
    /// The key of a new record written by `device` with causal order `seq` (see
    /// [`order_key`]).
    pub(crate) fn for_record(device: &DeviceId, seq: i64) -> Self {
        RecordId(order_key(device, seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_keys_are_unique_per_device_bound_to_it_and_fall_back_when_saturated() {
        let alex = DeviceId("3f9a12bc".to_string() + &"0".repeat(56));
        let sam = DeviceId("3f9a12bc".to_string() + &"1".repeat(56));
        assert_eq!(RecordId::for_record(&alex, 1).0, format!("1{}", alex.0));
        assert_eq!(RecordId::for_record(&alex, 36).0, format!("10{}", alex.0));
        assert_ne!(
            RecordId::for_record(&alex, 5),
            RecordId::for_record(&sam, 5),
            "devices sharing a prefix still get different keys"
        );
        assert!(key_is_bound_to(&RecordId::for_record(&alex, 5).0, &alex.0));
        assert!(!key_is_bound_to(&RecordId::for_record(&sam, 5).0, &alex.0));
        assert!(
            !key_is_bound_to(&alex.0, &alex.0),
            "the bare device id is no record key"
        );
        let keys: std::collections::HashSet<_> =
            (1..2000).map(|s| RecordId::for_record(&alex, s)).collect();
        assert_eq!(keys.len(), 1999);
        let saturated = RecordId::for_record(&alex, i64::MAX);
        assert_eq!(saturated.0.len(), 16 + 64, "random digits, then the device");
        assert!(key_is_bound_to(&saturated.0, &alex.0));
        assert_ne!(saturated, RecordId::for_record(&alex, i64::MAX));
        assert!(key_is_bound_to(&RecordId::for_record(&alex, -3).0, &alex.0));
    }
}
