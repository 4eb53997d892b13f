//! A partner's keyring: the generations of the secret their sealed positions are encrypted
//! with, kept in the document sealed to that partner's current devices and recovery key.
//!
//! Each `keyrings/{rec}` record holds every generation its writer knows (oldest first), sealed
//! with X25519 + HKDF-SHA256 + ChaCha20-Poly1305 to each recipient: the partner's devices
//! (their Ed25519 keys in Montgomery form) and the partner's recovery key. The other partner
//! is never a recipient. Removing a device or setting up a new recovery secret writes a
//! keyring with a fresh generation the removed device or old secret cannot open, so a lost
//! phone never reads its partner's later positions; enrolling a device reseals the generations
//! to it, so it reads its partner's earlier ones. A position names the generation it is sealed
//! with by its key id.

use crate::error::{Error, Result};
use crate::identity::DeviceIdentity;
use crate::ids::DeviceId;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::montgomery::MontgomeryPoint;
use sha2::{Digest, Sha256, Sha512};

const SECRET_BYTES: usize = 32;
const TAG_BYTES: usize = 16;
/// Most generations a keyring may hold (a rotation per removal or recovery setup).
const MAX_GENERATIONS: usize = 1024;
/// Most recipients of one sealed keyring (a partner's devices and recovery key).
const MAX_RECIPIENTS: usize = 256;

/// The X25519 public key of an X25519 secret.
pub(crate) fn public_of(secret: &[u8; 32]) -> [u8; 32] {
    MontgomeryPoint::mul_base_clamped(*secret).to_bytes()
}

/// The X25519 public key of a device: its Ed25519 key in Montgomery form.
pub(crate) fn device_public(device: &DeviceId) -> Option<[u8; 32]> {
    let bytes: [u8; 32] = hex::decode(device.as_str()).ok()?.try_into().ok()?;
    Some(
        CompressedEdwardsY(bytes)
            .decompress()?
            .to_montgomery()
            .to_bytes(),
    )
}

/// The X25519 secret of this device (the scalar of its Ed25519 key).
pub(crate) fn device_secret(identity: &DeviceIdentity) -> [u8; 32] {
    let hash = Sha512::digest(identity.secret_key().to_bytes());
    let mut scalar = [0u8; 32];
    scalar.copy_from_slice(&hash[..32]);
    scalar
}

fn box_key(
    shared: &MontgomeryPoint,
    eph: &[u8; 32],
    recipient: &[u8; 32],
    context: &[u8],
) -> Option<[u8; 32]> {
    let shared = shared.to_bytes();
    // A low-order point gives an all-zero secret: never a key.
    if shared == [0u8; 32] {
        return None;
    }
    let mut salt = eph.to_vec();
    salt.extend_from_slice(recipient);
    let hk = hkdf::Hkdf::<Sha256>::new(Some(&salt), &shared);
    let mut info = b"accord-seal-v1|".to_vec();
    info.extend_from_slice(context);
    let mut key = [0u8; 32];
    hk.expand(&info, &mut key).ok()?;
    Some(key)
}

/// Seals `plain` to each of `recipients` (X25519 public keys), bound to `context`:
/// `eph (32) | length (4) | { recipient (32) | ciphertext (length + 16) }*`.
pub(crate) fn seal(recipients: &[[u8; 32]], plain: &[u8], context: &[u8]) -> Result<Vec<u8>> {
    let mut eph_secret = [0u8; 32];
    getrandom::fill(&mut eph_secret)
        .map_err(|e| Error::NotAllowed(format!("no randomness for encryption: {e}")))?;
    let eph = public_of(&eph_secret);
    let mut out = eph.to_vec();
    out.extend_from_slice(&(plain.len() as u32).to_be_bytes());
    for recipient in recipients {
        let shared = MontgomeryPoint(*recipient).mul_clamped(eph_secret);
        let key = box_key(&shared, &eph, recipient, context)
            .ok_or_else(|| Error::NotAllowed("a recipient's key is not usable".into()))?;
        let sealed = ChaCha20Poly1305::new((&key).into())
            .encrypt(
                Nonce::from_slice(&[0u8; 12]),
                Payload {
                    msg: plain,
                    aad: context,
                },
            )
            .map_err(|_| Error::NotAllowed("the keyring could not be encrypted".into()))?;
        out.extend_from_slice(recipient);
        out.extend_from_slice(&sealed);
    }
    Ok(out)
}

/// Opens what [`seal`] sealed, with the X25519 secret of one recipient; `None` if it was not
/// sealed to that key, or is damaged.
pub(crate) fn open(sealed: &[u8], secret: &[u8; 32], context: &[u8]) -> Option<Vec<u8>> {
    let eph: [u8; 32] = sealed.get(..32)?.try_into().ok()?;
    let len = u32::from_be_bytes(sealed.get(32..36)?.try_into().ok()?) as usize;
    let entry = 32usize.checked_add(len)?.checked_add(TAG_BYTES)?;
    let mine = public_of(secret);
    let body = sealed.get(36..)?;
    if !body.len().is_multiple_of(entry) || body.len() / entry > MAX_RECIPIENTS {
        return None;
    }
    let ciphertext = body
        .chunks_exact(entry)
        .find(|e| e[..32] == mine)
        .map(|e| &e[32..])?;
    let shared = MontgomeryPoint(eph).mul_clamped(*secret);
    let key = box_key(&shared, &eph, &mine, context)?;
    ChaCha20Poly1305::new((&key).into())
        .decrypt(
            Nonce::from_slice(&[0u8; 12]),
            Payload {
                msg: ciphertext,
                aad: context,
            },
        )
        .ok()
}

/// The generations of one partner's secret this device can open, oldest first.
#[derive(Clone, Default)]
pub(crate) struct Keyring {
    generations: Vec<[u8; SECRET_BYTES]>,
}

impl Keyring {
    /// A keyring from the plaintext of a sealed one; `None` if malformed.
    pub(crate) fn decode(plain: &[u8]) -> Option<Keyring> {
        if plain.is_empty()
            || !plain.len().is_multiple_of(SECRET_BYTES)
            || plain.len() / SECRET_BYTES > MAX_GENERATIONS
        {
            return None;
        }
        Some(Keyring {
            generations: plain
                .chunks_exact(SECRET_BYTES)
                .map(|c| c.try_into().expect("32 bytes"))
                .collect(),
        })
    }

    /// The generations, back to back (what is sealed).
    pub(crate) fn encode(&self) -> Vec<u8> {
        self.generations.concat()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.generations.is_empty()
    }

    /// Adds the generations of `other` this keyring lacks (keeping order: the newest of the
    /// keyring read last stays current).
    pub(crate) fn merge(&mut self, other: Keyring) {
        for g in other.generations {
            if let Some(at) = self.generations.iter().position(|x| *x == g) {
                self.generations.remove(at);
            }
            self.generations.push(g);
        }
    }

    /// Adds a fresh generation, which becomes current.
    pub(crate) fn rotate(&mut self) -> Result<()> {
        let mut fresh = [0u8; SECRET_BYTES];
        getrandom::fill(&mut fresh)
            .map_err(|e| Error::NotAllowed(format!("no randomness for a new key: {e}")))?;
        if self.generations.len() >= MAX_GENERATIONS {
            self.generations.remove(0);
        }
        self.generations.push(fresh);
        Ok(())
    }

    /// The current generation's key id, if any.
    pub(crate) fn current_id(&self) -> Option<String> {
        self.generations.last().map(key_id)
    }

    /// The key of one position, sealed with the generation `key_id`.
    pub(crate) fn position_key(
        &self,
        key_id: &str,
        space_id: &str,
        topic: &str,
        position: &str,
    ) -> Option<[u8; 32]> {
        let secret = self.generations.iter().find(|g| key_id_eq(g, key_id))?;
        let hk = hkdf::Hkdf::<Sha256>::new(Some(space_id.as_bytes()), secret);
        let mut info = b"accord-position-v2|".to_vec();
        info.extend_from_slice(topic.as_bytes());
        info.push(b'|');
        info.extend_from_slice(position.as_bytes());
        let mut key = [0u8; 32];
        hk.expand(&info, &mut key).ok()?;
        Some(key)
    }
}

/// A generation's public name: 16 hex digits of a hash of it.
fn key_id(secret: &[u8; SECRET_BYTES]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"accord-key-id-v1");
    hash.update(secret);
    hex::encode(&hash.finalize()[..8])
}

fn key_id_eq(secret: &[u8; SECRET_BYTES], id: &str) -> bool {
    key_id(secret) == id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> (DeviceIdentity, DeviceId) {
        let dir = tempfile::tempdir().unwrap();
        let identity = DeviceIdentity::load_or_create(dir.path()).unwrap();
        let id = identity.device_id();
        (identity, id)
    }

    #[test]
    fn sealed_to_devices_and_a_recovery_key_opens_for_each_and_no_one_else() {
        let (alex_phone, phone_id) = device();
        let (alex_laptop, laptop_id) = device();
        let (sam_phone, _) = device();
        let recovery = [9u8; 32];
        let recipients = [
            device_public(&phone_id).unwrap(),
            device_public(&laptop_id).unwrap(),
            public_of(&recovery),
        ];
        let sealed = seal(&recipients, b"generations", b"ctx").unwrap();
        for secret in [
            device_secret(&alex_phone),
            device_secret(&alex_laptop),
            recovery,
        ] {
            assert_eq!(
                open(&sealed, &secret, b"ctx").as_deref(),
                Some(&b"generations"[..])
            );
        }
        assert_eq!(open(&sealed, &device_secret(&sam_phone), b"ctx"), None);
        // Bound to its context: copied elsewhere it does not open.
        assert_eq!(open(&sealed, &recovery, b"elsewhere"), None);
        // Damaged or garbage bytes never open and never panic.
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1; // inside the last recipient's box: the recovery key's
        assert_eq!(open(&flipped, &recovery, b"ctx"), None);
        for garbage in [&b""[..], &[0u8; 35], &[0xff; 200]] {
            assert_eq!(open(garbage, &recovery, b"ctx"), None);
        }
    }

    #[test]
    fn a_keyring_keeps_its_generations_and_finds_them_by_id() {
        let mut ring = Keyring::default();
        assert!(ring.current_id().is_none());
        ring.rotate().unwrap();
        let first = ring.current_id().unwrap();
        ring.rotate().unwrap();
        let second = ring.current_id().unwrap();
        assert_ne!(first, second);
        let copy = Keyring::decode(&ring.encode()).unwrap();
        assert!(copy.position_key(&first, "s", "t", "p").is_some());
        assert_eq!(
            copy.position_key(&second, "s", "t", "p"),
            ring.position_key(&second, "s", "t", "p")
        );
        assert!(copy
            .position_key("0000000000000000", "s", "t", "p")
            .is_none());
        assert!(Keyring::decode(&[1u8; 31]).is_none());
        assert!(Keyring::decode(&[]).is_none());
    }
}
