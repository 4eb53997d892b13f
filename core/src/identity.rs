//! The device's own Ed25519 key: created on first open, kept in an owner-only file
//! (`device.key`) or, where the app registered a [`KeyVault`] for the folder the space lives
//! in, in the platform's key store (the iOS Keychain), never in the shared document. Its
//! public half is the device id, the device's Automerge actor id and (for sync) its iroh
//! endpoint id.

use crate::error::{Error, Result};
use crate::ids::DeviceId;
use crate::storage::{create_private_file, ensure_private_dir, sync_dir};
use iroh_base::{PublicKey, SecretKey, Signature};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

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

/// Writes `secret` as the owner-only `device.key` of `dir`, atomically.
fn write_key_file(dir: &Path, secret: &SecretKey) -> Result<()> {
    let path = dir.join(KEY_FILE);
    let tmp = dir.join("device.key.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file = create_private_file(&tmp).map_err(|e| Error::io(&tmp, e))?;
    file.write_all(&secret.to_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    sync_dir(dir)
}

/// A platform's store for device keys (the iOS Keychain), used instead of `device.key` for
/// the spaces under the folder it was registered for with [`register_key_vault`].
pub trait KeyVault: Send + Sync {
    /// The key stored under `label` (the space folder's name), if any.
    fn load(&self, label: &str) -> Option<Vec<u8>>;
    /// Keeps `key` under `label`; false when it could not (the key then stays a file).
    fn store(&self, label: &str, key: &[u8]) -> bool;
}

/// The registered vaults, each for the spaces under one folder.
static VAULTS: RwLock<Vec<(PathBuf, Arc<dyn KeyVault>)>> = RwLock::new(Vec::new());

/// Keeps the device keys of the spaces under `root` in `vault` from now on: a new key goes
/// there, an existing `device.key` moves there (and the file is deleted).
pub fn register_key_vault(root: &Path, vault: Arc<dyn KeyVault>) {
    let mut vaults = VAULTS.write().unwrap_or_else(|p| p.into_inner());
    vaults.retain(|(r, _)| r != root);
    vaults.push((root.to_path_buf(), vault));
}

/// The vault for the space folder `dir`, and the label its key has there.
fn vault_for(dir: &Path) -> Option<(Arc<dyn KeyVault>, String)> {
    let label = dir.file_name()?.to_string_lossy().into_owned();
    let vaults = VAULTS.read().unwrap_or_else(|p| p.into_inner());
    vaults
        .iter()
        .find(|(root, _)| dir.starts_with(root))
        .map(|(_, vault)| (vault.clone(), label))
}

fn key_from(bytes: &[u8], origin: &Path) -> Result<SecretKey> {
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| Error::Corrupt {
        path: origin.to_path_buf(),
        reason: format!("a device key has 32 bytes, this one has {}", bytes.len()),
    })?;
    Ok(SecretKey::from_bytes(&bytes))
}

impl DeviceIdentity {
    /// Reads the key of the device directory `dir` (from its vault, if one is registered for
    /// it, else from its file), creating it on first use.
    pub fn load_or_create(dir: &Path) -> Result<Self> {
        ensure_private_dir(dir)?;
        let path = dir.join(KEY_FILE);
        if let Some((vault, label)) = vault_for(dir) {
            if let Some(bytes) = vault.load(&label) {
                return Ok(DeviceIdentity {
                    secret: key_from(&bytes, &path)?,
                });
            }
            // A key file from before the vault moves into it; else a new key is made there.
            let secret = match std::fs::read(&path) {
                Ok(bytes) => key_from(&bytes, &path)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => SecretKey::generate(),
                Err(e) => return Err(Error::io(path, e)),
            };
            if vault.store(&label, &secret.to_bytes()) {
                if path.exists() {
                    std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                    sync_dir(dir)?;
                }
                return Ok(DeviceIdentity { secret });
            }
            if !path.exists() {
                write_key_file(dir, &secret)?;
            }
            return Ok(DeviceIdentity { secret });
        }
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
                write_key_file(dir, &secret)?;
                Ok(DeviceIdentity { secret })
            }
            Err(e) => Err(Error::io(path, e)),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// A vault in memory; `refuse` makes every store fail.
    #[derive(Default)]
    struct MemoryVault {
        keys: Mutex<HashMap<String, Vec<u8>>>,
        refuse: bool,
    }

    impl KeyVault for MemoryVault {
        fn load(&self, label: &str) -> Option<Vec<u8>> {
            self.keys.lock().unwrap().get(label).cloned()
        }
        fn store(&self, label: &str, key: &[u8]) -> bool {
            if self.refuse {
                return false;
            }
            self.keys.lock().unwrap().insert(label.into(), key.to_vec());
            true
        }
    }

    #[test]
    fn a_registered_vault_keeps_the_key_and_no_file_is_written() {
        let root = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        register_key_vault(root.path(), vault.clone());
        let dir = root.path().join("Accord");
        let first = DeviceIdentity::load_or_create(&dir).unwrap();
        assert!(!dir.join(KEY_FILE).exists());
        assert_eq!(
            vault.load("Accord").unwrap(),
            first.secret_key().to_bytes().to_vec()
        );
        let again = DeviceIdentity::load_or_create(&dir).unwrap();
        assert_eq!(first.device_id(), again.device_id());
        // A folder elsewhere is not the vault's: its key stays a file.
        let other = tempfile::tempdir().unwrap();
        DeviceIdentity::load_or_create(other.path()).unwrap();
        assert!(other.path().join(KEY_FILE).exists());
    }

    #[test]
    fn an_existing_key_file_moves_into_the_vault_and_a_refusing_vault_leaves_the_file() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("space");
        let before = DeviceIdentity::load_or_create(&dir).unwrap();
        assert!(dir.join(KEY_FILE).exists());
        let refusing = Arc::new(MemoryVault {
            refuse: true,
            ..Default::default()
        });
        register_key_vault(root.path(), refusing);
        assert_eq!(
            DeviceIdentity::load_or_create(&dir).unwrap().device_id(),
            before.device_id()
        );
        assert!(
            dir.join(KEY_FILE).exists(),
            "a vault that cannot keep it leaves the file"
        );
        let vault = Arc::new(MemoryVault::default());
        register_key_vault(root.path(), vault.clone());
        assert_eq!(
            DeviceIdentity::load_or_create(&dir).unwrap().device_id(),
            before.device_id()
        );
        assert!(!dir.join(KEY_FILE).exists(), "moved into the vault");
        assert!(vault.load("space").is_some());
        // A damaged key in the vault is an error, never a new identity.
        vault.store("space", &[1, 2, 3]);
        assert!(matches!(
            DeviceIdentity::load_or_create(&dir),
            Err(Error::Corrupt { .. })
        ));
    }
}
