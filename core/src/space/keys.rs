//! A partner's recovery secret and keyring: setting up recovery, sealing the generations of
//! the partner's secret to their devices and recovery key, rotating them.

use super::*;
use crate::keyring::{self, Keyring};
use crate::recovery::RecoverySecret;

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

    /// The generations of this partner's secret this device can open (with `recovery`, also
    /// those sealed to the partner's recovery key), from every valid keyring of this partner.
    pub(crate) fn keyring(&self, recovery: Option<&RecoverySecret>) -> Keyring {
        let mut ring = Keyring::default();
        let Some(me) = self.derived.as_ref().and_then(|d| {
            d.members
                .devices
                .get(&self.identity.device_id())
                .map(|m| m.partner.clone())
        }) else {
            return ring;
        };
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
