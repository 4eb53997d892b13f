//! The device's own Ed25519 key: created on first open, kept in an owner-only file
//! (`device.key`), never in the shared document. Its public half is the device id, the
//! device's Automerge actor id and (for sync) its iroh endpoint id.

use crate::error::{Error, Result};
use crate::ids::DeviceId;
use crate::storage::{create_private_file, ensure_private_dir, sync_dir};
use iroh_base::{PublicKey, SecretKey, Signature};
use std::io::Write;
use std::path::Path;

const KEY_FILE: &str = "device.key";

/// This device's key pair.
#[derive(Clone)]
pub struct DeviceIdentity {
    secret: SecretKey,
}

impl std::fmt::Debug for DeviceIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceIdentity")
            .field("device_id", &self.device_id())
            .finish_non_exhaustive()
    }
}

impl DeviceIdentity {
    /// Reads the key of the device directory `dir`, creating it (owner-only) on first use.
    pub fn load_or_create(dir: &Path) -> Result<Self> {
        ensure_private_dir(dir)?;
        let path = dir.join(KEY_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let bytes: [u8; 32] = bytes.as_slice().try_into().map_err(|_| Error::Corrupt {
                    path: path.clone(),
                    reason: format!("a device key has 32 bytes, this file has {}", bytes.len()),
                })?;
                Ok(DeviceIdentity {
                    secret: SecretKey::from_bytes(&bytes),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secret = SecretKey::generate();
                let tmp = dir.join("device.key.tmp");
                let _ = std::fs::remove_file(&tmp);
                let mut file = create_private_file(&tmp).map_err(|e| Error::io(&tmp, e))?;
                file.write_all(&secret.to_bytes())
                    .and_then(|_| file.sync_all())
                    .map_err(|e| Error::io(&tmp, e))?;
                std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
                sync_dir(dir)?;
                Ok(DeviceIdentity { secret })
            }
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Whether `dir` already has a device key.
    pub fn exists(dir: &Path) -> bool {
        dir.join(KEY_FILE).exists()
    }

    /// The device id (hex of the public key).
    pub fn device_id(&self) -> DeviceId {
        DeviceId(self.secret.public().to_string())
    }

    /// The secret key (for the device's iroh endpoint).
    pub fn secret_key(&self) -> &SecretKey {
        &self.secret
    }

    /// The Automerge actor id of this device: its public key bytes.
    pub(crate) fn actor_bytes(&self) -> [u8; 32] {
        *self.secret.public().as_bytes()
    }

    /// Signs `message` with the device key.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.secret.sign(message).to_bytes()
    }
}

/// Checks an Ed25519 `signature` of `message` by the device `device`.
pub fn verify(device: &DeviceId, message: &[u8], signature: &[u8]) -> bool {
    let Ok(key) = device.as_str().parse::<PublicKey>() else {
        return false;
    };
    let Ok(sig) = <[u8; 64]>::try_from(signature) else {
        return false;
    };
    key.verify(message, &Signature::from_bytes(&sig)).is_ok()
}
