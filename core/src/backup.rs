//! Encrypted backups: a partner's copy of the space, sealed to their recovery key, so a new
//! device restores it with the recovery secret alone.
//!
//! Format: `ACCORD-BACKUP\x00\x01` (version 1), then the space id and the partner id (each a
//! 2-byte length and UTF-8), then the exported document sealed (see [`crate::keyring::seal`])
//! to the partner's recovery key, bound to that space and partner. Nothing in it is readable
//! without the secret; a changed byte makes it refuse to open.

use crate::error::{Error, Result};
use crate::ids::PartnerId;
use crate::recovery::{RecoveryKey, RecoverySecret};

const MAGIC: &[u8] = b"ACCORD-BACKUP\x00\x01";
/// Largest backup restored (a couple's decades of writes are a few MB).
const MAX_BACKUP_BYTES: usize = 512 * 1024 * 1024;

/// What a backup holds once opened.
#[derive(Debug)]
pub(crate) struct OpenedBackup {
    pub(crate) space_id: String,
    pub(crate) partner: PartnerId,
    /// The exported document (checkpoints and document, as pairing sends it).
    pub(crate) export: Vec<u8>,
}

fn context(space_id: &str, partner: &PartnerId) -> Vec<u8> {
    format!("accord-backup-v1|{space_id}|{partner}").into_bytes()
}

/// Seals `export` (an exported document) for `partner`'s recovery key.
pub(crate) fn seal(
    space_id: &str,
    partner: &PartnerId,
    key: &RecoveryKey,
    export: &[u8],
) -> Result<Vec<u8>> {
    let sealed = crate::keyring::seal(&[key.seal], export, &context(space_id, partner))?;
    let mut out = MAGIC.to_vec();
    for part in [space_id, partner.as_str()] {
        out.extend_from_slice(&(part.len() as u16).to_be_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens a backup with the recovery secret, with a clear error for anything else.
pub(crate) fn open(bytes: &[u8], secret: &RecoverySecret) -> Result<OpenedBackup> {
    let not_backup = || {
        Error::invalid(
            "backup",
            "this is not an Accord backup (or it is damaged): choose the file `accord backup` or the app's backup wrote",
        )
    };
    if bytes.len() > MAX_BACKUP_BYTES {
        return Err(Error::invalid(
            "backup",
            "the file is too large to be a backup",
        ));
    }
    let mut rest = bytes.strip_prefix(MAGIC).ok_or_else(not_backup)?;
    let mut parts = Vec::new();
    for _ in 0..2 {
        let len = u16::from_be_bytes(
            rest.get(..2)
                .ok_or_else(not_backup)?
                .try_into()
                .map_err(|_| not_backup())?,
        ) as usize;
        let text = rest.get(2..2 + len).ok_or_else(not_backup)?;
        parts.push(String::from_utf8(text.to_vec()).map_err(|_| not_backup())?);
        rest = &rest[2 + len..];
    }
    let (space_id, partner) = (parts[0].clone(), PartnerId(parts[1].clone()));
    let export = crate::keyring::open(rest, &secret.seal_secret(), &context(&space_id, &partner))
        .ok_or_else(|| {
            Error::invalid(
                "recovery secret",
                "it does not open this backup: it is another partner's secret, a replaced one, or the backup is damaged",
            )
        })?;
    Ok(OpenedBackup {
        space_id,
        partner,
        export,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_opens_with_its_secret_only_and_never_when_changed() {
        let secret = RecoverySecret::generate().unwrap();
        let partner = PartnerId("ab12".into());
        let bytes = seal("space", &partner, &secret.public(), b"the document").unwrap();
        let opened = open(&bytes, &secret).unwrap();
        assert_eq!(opened.export, b"the document");
        assert_eq!(
            (opened.space_id.as_str(), opened.partner),
            ("space", partner)
        );
        assert!(!bytes.windows(12).any(|w| w == b"the document"));
        let other = RecoverySecret::generate().unwrap();
        let err = open(&bytes, &other).unwrap_err().to_string();
        assert!(err.contains("does not open this backup"), "{err}");
        for at in [MAGIC.len() + 3, bytes.len() - 1] {
            let mut changed = bytes.clone();
            changed[at] ^= 1;
            assert!(open(&changed, &secret).is_err(), "byte {at}");
        }
        for garbage in [
            &b""[..],
            b"ACCORD-BACKUP",
            &bytes[..MAGIC.len() + 1],
            b"{json}",
        ] {
            let err = open(garbage, &secret).unwrap_err().to_string();
            assert!(err.contains("not an Accord backup"), "{err}");
        }
    }
}
