//! Pairing in person, by ticket (text or QR code), over its own ALPN ([`PAIR_ALPN`]).
//!
//! The inviting device creates a [`Ticket`] with its address, a one-time secret, the role it
//! grants (chosen by the inviter and kept on the inviting device: the joiner cannot change it)
//! and an expiry. The joining device (which must be empty) connects, proves the secret, gets
//! enrolled (a record signed by the inviting device), and receives the whole document, in
//! which a device of the same partner finds that partner's keyring sealed to it. A partner who
//! lost every device comes back with a returning-partner ticket from the other partner and
//! proves who they are with their recovery secret. A ticket works once.

use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use data_encoding::BASE32_NOPAD;
use iroh::EndpointAddr;
use serde::{Deserialize, Serialize};

/// The versioned ALPN of the pairing protocol.
pub const PAIR_ALPN: &[u8] = b"accord/pair/3";
/// Default lifetime of a ticket.
pub const DEFAULT_TICKET_MINUTES: i64 = 10;
const TICKET_PREFIX: &str = "accord1";

/// What a ticket lets the joining device become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum InviteRole {
    /// The other partner's first device (only while the space has one partner).
    Partner,
    /// Another device of the inviting device's partner.
    MyDevice,
    /// The other partner's new device after they lost every device: it is enrolled only with
    /// a proof by that partner's recovery secret, so no one can enrol a device in the other
    /// partner's name.
    ReturningPartner,
}

impl InviteRole {
    /// Parses `partner`, `my-device` or `returning-partner`.
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_lowercase().replace('_', "-").as_str() {
            "partner" => Ok(InviteRole::Partner),
            "my-device" | "device" => Ok(InviteRole::MyDevice),
            "returning-partner" | "returning" => Ok(InviteRole::ReturningPartner),
            _ => Err(Error::invalid(
                "role",
                format!("'{text}' is not a role; use partner, my-device or returning-partner"),
            )),
        }
    }
}

/// The short code both devices show while a device of the same partner joins (six digits,
/// as `123 456`): derived from the ticket's secret and both device ids, so a device that
/// joined with an intercepted ticket shows another code than the one the owner's device does.
pub fn confirmation_code(secret: &str, inviter: &str, joiner: &str) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for part in ["accord-confirm-v1", secret, inviter, joiner] {
        hash.update((part.len() as u32).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % 1_000_000;
    format!("{:03} {:03}", n / 1000, n % 1000)
}

/// A pairing invitation, printable as compact text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// How to reach the inviting device.
    pub addr: EndpointAddr,
    /// The one-time secret (hex).
    pub secret: String,
    /// The role granted (informative: the inviting device decides).
    pub role: InviteRole,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl Ticket {
    /// The confirmation code the device `joiner` shows when it joins with this ticket (see
    /// [`confirmation_code`]).
    pub fn confirmation_code(&self, joiner: &crate::ids::DeviceId) -> String {
        confirmation_code(&self.secret, &self.addr.id.to_string(), joiner.as_str())
    }

    /// The ticket as text (fits a QR code).
    pub fn to_text(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!(
            "{TICKET_PREFIX}{}",
            BASE32_NOPAD.encode(&json).to_lowercase()
        )
    }

    /// Parses a ticket's text, with a clear error for anything else.
    pub fn parse(text: &str) -> Result<Ticket> {
        let bad = || {
            Error::invalid(
                "ticket",
                "this is not an Accord invitation; copy the whole ticket again",
            )
        };
        let body = text.trim().strip_prefix(TICKET_PREFIX).ok_or_else(bad)?;
        let bytes = BASE32_NOPAD
            .decode(body.to_uppercase().as_bytes())
            .map_err(|_| bad())?;
        serde_json::from_slice(&bytes).map_err(|_| bad())
    }
}

/// What the joining device sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct JoinRequest {
    pub(crate) secret: String,
    pub(crate) partner_name: String,
    pub(crate) time_zone: String,
    pub(crate) device_name: String,
    /// For a returning partner: their recovery key and its proof for the joining device.
    #[serde(default)]
    pub(crate) recovery: Option<RecoveryClaim>,
}

/// A returning partner's claim: the public signing key of their recovery secret (hex) and
/// its signature of the joining device's id (hex).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RecoveryClaim {
    pub(crate) key: String,
    pub(crate) proof: String,
}

/// What the inviting device answers (binary: the document is sent as is, compressed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JoinResponse {
    Accepted { document: Vec<u8> },
    Refused { message: String },
}

impl JoinResponse {
    pub(crate) fn encode(&self) -> Vec<u8> {
        match self {
            JoinResponse::Refused { message } => {
                let mut out = vec![0u8];
                out.extend_from_slice(message.as_bytes());
                out
            }
            JoinResponse::Accepted { document } => {
                let mut out = Vec::with_capacity(document.len() + 1);
                out.push(1);
                out.extend_from_slice(document);
                out
            }
        }
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self> {
        let bad =
            || Error::InvalidRemoteData("the inviting device sent an unexpected answer".into());
        match bytes.split_first() {
            Some((0, message)) => Ok(JoinResponse::Refused {
                message: String::from_utf8_lossy(message).into_owned(),
            }),
            Some((1, document)) if !document.is_empty() => Ok(JoinResponse::Accepted {
                document: document.to_vec(),
            }),
            _ => Err(bad()),
        }
    }
}

/// An invitation waiting on the inviting device.
#[derive(Debug, Clone)]
pub(crate) struct PendingInvite {
    pub(crate) role: InviteRole,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) used: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_round_trip_and_garbage_gets_a_clear_error() {
        let key = iroh_base::SecretKey::generate();
        let ticket = Ticket {
            addr: EndpointAddr::new(key.public()).with_ip_addr("127.0.0.1:4242".parse().unwrap()),
            secret: "00ff".into(),
            role: InviteRole::MyDevice,
            expires_at: Utc::now(),
        };
        let text = ticket.to_text();
        assert!(text.starts_with("accord1"));
        assert!(text.len() < 600, "{}", text.len());
        assert_eq!(Ticket::parse(&text).unwrap(), ticket);
        assert_eq!(
            Ticket::parse(&text.to_uppercase().replace("ACCORD1", "accord1")).unwrap(),
            ticket
        );
        for garbage in [
            "",
            "accord1",
            "accord1!!!",
            "hello",
            &text[..text.len() - 3],
        ] {
            let err = Ticket::parse(garbage).unwrap_err();
            assert!(
                err.to_string().contains("not an Accord invitation"),
                "{err}"
            );
        }
        assert_eq!(
            InviteRole::parse("my_device").unwrap(),
            InviteRole::MyDevice
        );
        assert_eq!(
            InviteRole::parse("returning-partner").unwrap(),
            InviteRole::ReturningPartner
        );
        assert!(InviteRole::parse("boss").is_err());
        for response in [
            JoinResponse::Refused {
                message: "no".into(),
            },
            JoinResponse::Accepted {
                document: vec![1, 2, 3],
            },
        ] {
            assert_eq!(JoinResponse::decode(&response.encode()).unwrap(), response);
        }
        assert!(JoinResponse::decode(&[]).is_err());
        assert!(JoinResponse::decode(&[1]).is_err());
        assert!(JoinResponse::decode(&[2, 1]).is_err());
    }
}
