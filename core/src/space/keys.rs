//! A partner's recovery secret and keyring: setting up recovery, sealing the generations of
//! the partner's secret to their devices and recovery key, rotating them.

use super::*;
use crate::keyring::{self, Keyring};
use crate::recovery::RecoverySecret;
use crate::storage::write_atomic;

/// Marks a directory restored from a backup: whose copy it is and the keyring the recovery
/// secret opened (owner-only; the secret itself is not kept).
const RESTORED_FILE: &str = "restored-backup";

/// A backup restored into this directory (see [`Space::restore_backup`]).
pub(crate) struct Restored {
    pub(crate) partner: PartnerId,
    keyring: Keyring,
}

#[derive(Serialize, Deserialize)]
struct RestoredFile {
    partner: PartnerId,
    keyring: String,
}

impl Restored {
    pub(crate) fn load(dir: &Path) -> Result<Option<Restored>> {
        let path = dir.join(RESTORED_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        let corrupt = |reason: &str| Error::Corrupt {
            path: path.clone(),
            reason: reason.to_owned(),
        };
        let file: RestoredFile =
            serde_json::from_slice(&bytes).map_err(|e| corrupt(&e.to_string()))?;
        let keyring = match file.keyring.as_str() {
            "" => Keyring::default(),
            text => hex::decode(text)
                .ok()
                .and_then(|b| Keyring::decode(&b))
                .ok_or_else(|| corrupt("the keyring is damaged"))?,
        };
        Ok(Some(Restored {
            partner: file.partner,
            keyring,
        }))
    }

    fn save(&self, dir: &Path) -> Result<()> {
        let file = RestoredFile {
            partner: self.partner.clone(),
            keyring: hex::encode(self.keyring.encode()),
        };
        let bytes = serde_json::to_vec(&file).map_err(|e| Error::Corrupt {
            path: dir.join(RESTORED_FILE),
            reason: e.to_string(),
        })?;
        write_atomic(&dir.join(RESTORED_FILE), &bytes, true)
    }

    /// Why a restored copy is not written or synced.
    pub(crate) fn error() -> Error {
        Error::NotAllowed(
            "this is a backup restored with your recovery secret: read and export it; to take part again, your partner invites you back (a returning-partner invitation) and you join in an empty directory".into(),
        )
    }
}

impl Space {
    /// Sets up (or replaces) this partner's recovery secret and returns it, to show once: the
    /// partner writes it down or prints it as a QR code. The document keeps only its public
    /// keys; the core forgets the secret when this returns. Only this partner's devices can
    /// replace it; the keyring is rotated so an earlier secret opens nothing written from now.
    pub fn set_up_recovery(&mut self, now: DateTime<Utc>) -> Result<RecoverySecret> {
        let (me, _) = self.writable()?;
        let secret = RecoverySecret::generate()?;
        let public = secret.public();
        let seq = self.next_seq();
        let rec = RecordId::for_record(&self.identity().device_id(), seq);
        self.write("set up recovery", None, now, Touched::All, |tx| {
            tx.insert_record(
                &["recovery"],
                rec.as_str(),
                Act::new(seq).fields(vec![
                    ("partner", me.0.clone().into()),
                    ("sign", public.sign.clone().into()),
                    ("seal", public.seal.to_vec().into()),
                ]),
            )
        })?;
        self.rotate_keyring(None, now)?;
        Ok(secret)
    }

    /// Seals this partner's copy of the space to their recovery key: a new device restores it
    /// with the recovery secret alone ([`Space::restore_backup`]). Needs a recovery secret set
    /// up ([`Space::set_up_recovery`]).
    pub fn export_backup(&mut self) -> Result<Vec<u8>> {
        self.ready()?;
        let (me, _) = self.me_for_reading()?;
        let key = self
            .derived()
            .members
            .recovery
            .get(&me)
            .cloned()
            .ok_or_else(|| {
                Error::NotAllowed(
                    "set up a recovery secret first: a backup opens only with it".into(),
                )
            })?;
        let export = self.export_document()?;
        crate::backup::seal(&self.trust.space_id, &me, &key, &export)
    }

    /// Restores a backup made by [`Space::export_backup`] into the empty directory `dir`, with
    /// the recovery secret it was sealed to (its text, as written down). The copy is readable
    /// as that partner (their sealed positions included) and exportable, never written or
    /// synced: to take part again, the other partner invites them back
    /// ([`crate::InviteRole::ReturningPartner`]).
    pub fn restore_backup(dir: &Path, backup: &[u8], recovery_secret: &str) -> Result<Space> {
        let secret = RecoverySecret::parse(recovery_secret)?;
        let opened = crate::backup::open(backup, &secret)?;
        let mut space =
            Space::restore_into(dir, &opened.export, &opened.space_id, &opened.partner)?;
        space.restored = Some(Restored {
            partner: opened.partner,
            keyring: Keyring::default(),
        });
        let keyring = space.keyring(Some(&secret));
        if let Some(restored) = space.restored.as_mut() {
            restored.keyring = keyring;
            restored.save(dir)?;
        }
        Ok(space)
    }

    /// The generations of this partner's secret this device can open (with `recovery`, also
    /// those sealed to the partner's recovery key), from every valid keyring of this partner.
    pub(crate) fn keyring(&self, recovery: Option<&RecoverySecret>) -> Keyring {
        let mut ring = Keyring::default();
        if self.derived.is_none() {
            return ring;
        }
        let Ok((me, _)) = self.me_for_reading() else {
            return ring;
        };
        if let Some(restored) = &self.restored {
            ring.merge(restored.keyring.clone());
        }
        let members = &self.derived().members;
        let mut secrets = vec![keyring::device_secret(&self.identity)];
        secrets.extend(recovery.map(RecoverySecret::seal_secret));
        let mut records = self.doc().records(&["keyrings"]);
        records.sort_by(|a, b| (a.counter, &a.id).cmp(&(b.counter, &b.id)));
        for r in records {
            let ours = members
                .record_author(&r)
                .is_ok_and(|author| author.partner == me);
            let Some(sealed) = r.bytes("sealed").filter(|_| ours) else {
                continue;
            };
            let context = keyring_context(&self.trust.space_id, &me, &r.id);
            let opened = secrets
                .iter()
                .find_map(|s| keyring::open(sealed, s, &context))
                .and_then(|plain| Keyring::decode(&plain));
            if let Some(found) = opened {
                ring.merge(found);
            }
        }
        ring
    }

    /// Writes this partner's keyring with a fresh generation (the current one from now on),
    /// sealed to their current devices and recovery key only.
    pub(super) fn rotate_keyring(
        &mut self,
        recovery: Option<&RecoverySecret>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut ring = self.keyring(recovery);
        ring.rotate()?;
        self.write_keyring(&ring, now)
    }

    /// Seals `ring` to this partner's current devices and recovery key and writes it.
    pub(super) fn write_keyring(&mut self, ring: &Keyring, now: DateTime<Utc>) -> Result<()> {
        let (me, _) = self.writable()?;
        let members = &self.derived().members;
        let mut recipients: Vec<[u8; 32]> = members
            .devices
            .values()
            .filter(|d| d.partner == me && !d.removed)
            .filter_map(|d| keyring::device_public(&d.id))
            .collect();
        recipients.extend(members.recovery.get(&me).map(|k| k.seal));
        let seq = self.next_seq();
        let rec = RecordId::for_record(&self.identity().device_id(), seq);
        let context = keyring_context(&self.trust.space_id, &me, rec.as_str());
        let sealed = keyring::seal(&recipients, &ring.encode(), &context)?;
        self.write("keyring", None, now, Touched::Positions, |tx| {
            tx.insert_record(
                &["keyrings"],
                rec.as_str(),
                Act::new(seq).fields(vec![
                    ("partner", me.0.clone().into()),
                    ("sealed", sealed.into()),
                ]),
            )
        })
    }
}

/// What a sealed keyring is bound to: the space, its partner and its record.
fn keyring_context(space_id: &str, partner: &PartnerId, record: &str) -> Vec<u8> {
    format!("{space_id}|{partner}|{record}").into_bytes()
}
