//! Identifiers of the objects in a couple space.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Random bytes from the operating system, hex encoded.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The OS random source failing is unrecoverable for key material; ids fall back to a
    // process-unique counter mixed with time so an id is never empty.
    if getrandom::fill(&mut buf).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = ((t ^ n.rotate_left(17)) >> ((i % 8) * 8)) as u8 ^ (i as u8);
        }
    }
    hex::encode(buf)
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
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
    };
}

id_type!(
    /// Identifies a couple space.
    SpaceId, 16
);
id_type!(
    /// Identifies a partner within a space.
    PartnerId, 8
);
id_type!(
    /// Identifies a device: the hex form of its Ed25519 public key.
    DeviceId, 32
);
id_type!(
    /// Identifies an agreement (also boundaries, expectations and intentions).
    AgreementId, 8
);
id_type!(
    /// Identifies a concern raised by a partner.
    ConcernId, 8
);
id_type!(
    /// Identifies a record (acceptance, log entry, check-in, ...).
    RecordId, 8
);
