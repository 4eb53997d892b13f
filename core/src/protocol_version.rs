//! Telling devices on another version of Accord to update, before any change is exchanged.
//!
//! Each protocol's ALPN carries its version ([`SYNC_ALPN`], [`PAIR_ALPN`]). A node also
//! accepts the ALPNs of earlier versions, only to close such a connection at once with
//! [`UPDATE_NEEDED_CODE`] and a reason the older app shows ("update needed: ..."). When
//! connecting, a node offers the earlier ALPNs too: a peer that can only pick one of them is an
//! older version, and the connection is closed the same way before a byte of the space is sent.
//! A peer on a newer version does the same to this one, so each side learns which needs the
//! update.

use crate::error::{Error, Result};
use crate::pairing::PAIR_ALPN;
use crate::sync::SYNC_ALPN;
use iroh::endpoint::{ConnectOptions, Connection};
use iroh::protocol::{AcceptError, ProtocolHandler};
use iroh::{Endpoint, EndpointAddr};

/// Sync ALPNs of earlier versions (schema 3 and before).
pub const OLDER_SYNC_ALPNS: [&[u8]; 2] = [b"accord/sync/3", b"accord/sync/2"];
/// Pairing ALPNs of earlier versions.
pub const OLDER_PAIR_ALPNS: [&[u8]; 2] = [b"accord/pair/2", b"accord/pair/1"];
/// The application close code meaning "the other device must update Accord".
pub const UPDATE_NEEDED_CODE: u32 = 426;

const TELL_OLDER: &[u8] =
    b"update needed: the other device runs a newer version of Accord; update this app to sync with it";

/// Every ALPN a node listens on: the current protocols and, to tell them to update, the older.
pub(crate) fn all_alpns() -> Vec<Vec<u8>> {
    [SYNC_ALPN, PAIR_ALPN]
        .into_iter()
        .chain(OLDER_SYNC_ALPNS)
        .chain(OLDER_PAIR_ALPNS)
        .map(<[u8]>::to_vec)
        .collect()
}

/// Answers a connection on an earlier version's ALPN: it is closed at once, telling the older
/// app to update; nothing is read or sent.
#[derive(Debug, Clone)]
pub(crate) struct OutdatedProtocol;

impl ProtocolHandler for OutdatedProtocol {
    async fn accept(&self, connection: Connection) -> std::result::Result<(), AcceptError> {
        tracing::info!(
            peer = %connection.remote_id(),
            alpn = %String::from_utf8_lossy(connection.alpn()),
            "a device on an older version of Accord connected; told it to update"
        );
        connection.close(UPDATE_NEEDED_CODE.into(), TELL_OLDER);
        connection.closed().await;
        Ok(())
    }
}

/// Connects to `addr` on `alpn` (this version's), also offering `older` so that a peer on an
/// earlier version is told to update rather than failing the handshake. Returns
/// [`Error::UpdateNeeded`] when the peer only speaks an earlier version; other failures are
/// `unreachable(reason)`.
pub(crate) async fn connect_current(
    endpoint: &Endpoint,
    addr: EndpointAddr,
    alpn: &[u8],
    older: &[&[u8]],
    unreachable: impl Fn(String) -> Error,
) -> Result<Connection> {
    let options =
        ConnectOptions::new().with_additional_alpns(older.iter().map(|a| a.to_vec()).collect());
    let connecting = endpoint
        .connect_with_opts(addr, alpn, options)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let connection = connecting.await.map_err(|e| unreachable(e.to_string()))?;
    if connection.alpn() != alpn {
        connection.close(UPDATE_NEEDED_CODE.into(), TELL_OLDER);
        return Err(Error::UpdateNeeded(
            "the other device runs an older version of Accord; update the app there to sync with it"
                .into(),
        ));
    }
    Ok(connection)
}
