//! A partner's recovery secret: how a partner who lost every device comes back as the same
//! partner, without the other partner's power.
//!
//! The secret (160 random bits, shown once as 36 characters to write down or print as a QR
//! code) never enters the document or a device's files. Two public keys derived from it do:
//! an Ed25519 key that signs a recovery [`proof`](RecoverySecret::proof) for one new device,
//! and an X25519 key the partner's keyrings and backups are sealed to (see
//! [`crate::keyring`]). Only that partner's devices write their recovery keys; a device
//! enrolled with a valid proof voids that partner's earlier devices.

use crate::error::{Error, Result};
use crate::ids::DeviceId;
use data_encoding::BASE32_NOPAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const SECRET_BYTES: usize = 20;
/// Characters of checksum after the secret's 32 (a typo is caught before any key is derived).
const CHECK_CHARS: usize = 4;

/// A partner's recovery secret. Shown once; the core keeps it only while a call needs it.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoverySecret([u8; SECRET_BYTES]);

impl std::fmt::Debug for RecoverySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoverySecret(..)")
    }
}

/// The public parts of a recovery secret, as the document holds them (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RecoveryKey {
    /// Ed25519 public key that signs recovery proofs.
    pub(crate) sign: String,
    /// X25519 public key keyrings and backups are sealed to.
    pub(crate) seal: [u8; 32],
}

impl RecoverySecret {
    /// A new random secret (a space makes one with [`crate::Space::set_up_recovery`]).
    pub fn generate() -> Result<RecoverySecret> {
        let mut bytes = [0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::NotAllowed(format!("no randomness for a recovery secret: {e}")))?;
        Ok(RecoverySecret(bytes))
    }

    /// The secret as text to write down: nine groups of four letters and digits
    /// (`ABCD-EFGH-...`), the last group a checksum.
    pub fn to_text(&self) -> String {
        let mut text = BASE32_NOPAD.encode(&self.0);
        text.push_str(&checksum(&text));
        text.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// Reads a secret as written down (case, spaces and dashes do not matter), with a clear
    /// error for a typo.
    pub fn parse(text: &str) -> Result<RecoverySecret> {
        let clean: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let body_chars = clean.len().saturating_sub(CHECK_CHARS);
        let bad = |why: &str| Error::invalid("recovery secret", why.to_owned());
        if clean.len() != 32 + CHECK_CHARS || !clean.is_ascii() {
            return Err(bad(
                "a recovery secret has 36 letters and digits in nine groups of four",
            ));
        }
        let (body, check) = clean.split_at(body_chars);
        let bytes = BASE32_NOPAD
            .decode(body.as_bytes())
            .map_err(|_| bad("it holds a character that is not in a recovery secret (A-Z, 2-7)"))?;
        if checksum(body) != check {
            return Err(bad(
                "it has a typo: check each group against what you wrote down",
            ));
        }
        let bytes: [u8; SECRET_BYTES] = bytes
            .try_into()
            .map_err(|_| bad("a recovery secret has 36 letters and digits"))?;
        Ok(RecoverySecret(bytes))
    }

    fn derive(&self, purpose: &str) -> [u8; 32] {
        let hk = hkdf::Hkdf::<Sha256>::new(Some(b"accord-recovery-v1"), &self.0);
        let mut out = [0u8; 32];
        // 32 bytes is always a valid HKDF-SHA256 output length.
        let _ = hk.expand(purpose.as_bytes(), &mut out);
        out
    }

    fn signing_key(&self) -> iroh_base::SecretKey {
        iroh_base::SecretKey::from_bytes(&self.derive("sign"))
    }

    /// The X25519 secret that opens what is sealed to [`RecoveryKey::seal`].
    pub(crate) fn seal_secret(&self) -> [u8; 32] {
        self.derive("seal")
    }

    /// The public parts the document holds.
    pub(crate) fn public(&self) -> RecoveryKey {
        RecoveryKey {
            sign: self.signing_key().public().to_string(),
            seal: crate::keyring::public_of(&self.seal_secret()),
        }
    }

    /// Proof that the holder of this secret asks to enrol `device` as their device.
    pub(crate) fn proof(&self, device: &DeviceId) -> String {
        hex::encode(self.signing_key().sign(&proof_message(device)).to_bytes())
    }
}

fn checksum(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    BASE32_NOPAD.encode(&digest)[..CHECK_CHARS].to_owned()
}

fn proof_message(device: &DeviceId) -> Vec<u8> {
    let mut out = b"accord-recover-device-v1|".to_vec();
    out.extend_from_slice(device.as_str().as_bytes());
    out
}

impl RecoveryKey {
    /// Whether `proof` (hex) is this key's proof for `device`.
    pub(crate) fn proves(&self, device: &DeviceId, proof: &str) -> bool {
        let Ok(signature) = hex::decode(proof) else {
            return false;
        };
        crate::identity::verify(
            &DeviceId(self.sign.clone()),
            &proof_message(device),
            &signature,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_typos_are_caught() {
        let secret = RecoverySecret::generate().unwrap();
        let text = secret.to_text();
        assert_eq!(text.len(), 36 + 8, "{text}");
        assert_eq!(RecoverySecret::parse(&text).unwrap(), secret);
        let relaxed = text.to_lowercase().replace('-', " ");
        assert_eq!(RecoverySecret::parse(&relaxed).unwrap(), secret);
        // One character changed: a typo, never another secret.
        let mut typo: Vec<char> = text.chars().collect();
        typo[0] = if typo[0] == 'A' { 'B' } else { 'A' };
        let typo: String = typo.into_iter().collect();
        let err = RecoverySecret::parse(&typo).unwrap_err().to_string();
        assert!(err.contains("typo"), "{err}");
        for garbage in [
            "",
            "abc",
            "1111-1111-1111-1111-1111-1111-1111-1111-1111",
            "é",
        ] {
            assert!(RecoverySecret::parse(garbage).is_err(), "{garbage}");
        }
        assert!(!format!("{secret:?}").contains(&text[..4]));
    }

    #[test]
    fn a_proof_holds_for_its_device_and_key_only() {
        let secret = RecoverySecret::generate().unwrap();
        let other = RecoverySecret::generate().unwrap();
        let device = DeviceId(iroh_base::SecretKey::generate().public().to_string());
        let another = DeviceId(iroh_base::SecretKey::generate().public().to_string());
        let proof = secret.proof(&device);
        assert!(secret.public().proves(&device, &proof));
        assert!(!secret.public().proves(&another, &proof));
        assert!(!other.public().proves(&device, &proof));
        assert!(!secret.public().proves(&device, "not hex"));
        assert_ne!(secret.public(), other.public());
    }
}
