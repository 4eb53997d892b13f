//! The sync protocol between two paired devices over one QUIC bi-stream (ALPN [`SYNC_ALPN`]).
//!
//! Frames are `[length u32 BE][kind u8][payload]`, at most [`MAX_FRAME_BYTES`]; an oversize or
//! malformed frame ends the session with a logged error and leaves the document untouched.
//! A payload of [`COMPRESS_FROM`] bytes or more is sent deflated when that is smaller (the
//! kind then has its [`COMPRESSED`] bit set); it may not inflate beyond the frame limit.
//! Kinds: `Changes` (raw changes: sent first on reconnect, what the peer lacks since the last
//! exchange, so no handshake round trip is needed) and `Sync` (an Automerge sync message).
//! Both sides run the same loop; a local change is pushed at once while connected.

use crate::error::{Error, Result};
use crate::ids::DeviceId;
use crate::space::Space;
use iroh::endpoint::{RecvStream, SendStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::watch;

/// The versioned ALPN of the sync protocol.
pub const SYNC_ALPN: &[u8] = b"accord/sync/4";
/// Largest frame accepted (a larger length closes the connection).
pub const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;
/// The most frames a peer may send in one session; a session ends after that and the peer
/// reconnects (an exchange of a large document takes a few hundred).
pub const MAX_FRAMES_PER_SESSION: u64 = 100_000;

const KIND_CHANGES: u8 = 1;
const KIND_SYNC: u8 = 2;
/// Kind bit: the payload is deflated.
const COMPRESSED: u8 = 0x80;
/// Payloads from this size on are deflated (changes repeat actor ids and structure).
const COMPRESS_FROM: usize = 256;

fn deflate(payload: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(payload).ok()?;
    encoder.finish().ok()
}

/// Inflates a payload, refusing one that would grow beyond the frame limit.
fn inflate(compressed: &[u8]) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(compressed)
        .take(MAX_FRAME_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::InvalidRemoteData(format!("malformed frame: bad compression: {e}")))?;
    if out.len() > MAX_FRAME_BYTES {
        return Err(Error::InvalidRemoteData(format!(
            "malformed frame: inflates beyond the limit of {MAX_FRAME_BYTES} bytes"
        )));
    }
    Ok(out)
}

/// A frame of the sync protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    Changes(Vec<Vec<u8>>),
    Sync(Vec<u8>),
}

impl Frame {
    /// Whether applying this frame is likely to take long (many changes).
    fn is_heavy(&self) -> bool {
        match self {
            Frame::Changes(changes) => changes.len() > 4,
            Frame::Sync(message) => message.len() > 4096,
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut payload = Vec::new();
        let kind = match self {
            Frame::Changes(changes) => {
                payload.extend_from_slice(&(changes.len() as u32).to_be_bytes());
                for c in changes {
                    payload.extend_from_slice(&(c.len() as u32).to_be_bytes());
                    payload.extend_from_slice(c);
                }
                KIND_CHANGES
            }
            Frame::Sync(message) => {
                payload.extend_from_slice(message);
                KIND_SYNC
            }
        };
        let (kind, payload) = match (payload.len() >= COMPRESS_FROM)
            .then(|| deflate(&payload))
            .flatten()
        {
            Some(smaller) if smaller.len() < payload.len() => (kind | COMPRESSED, smaller),
            _ => (kind, payload),
        };
        let mut out = Vec::with_capacity(payload.len() + 5);
        out.extend_from_slice(&((payload.len() + 1) as u32).to_be_bytes());
        out.push(kind);
        out.extend_from_slice(&payload);
        out
    }

    pub(crate) fn decode(body: &[u8]) -> Result<Frame> {
        let bad = |why: &str| Error::InvalidRemoteData(format!("malformed frame: {why}"));
        let (&kind, rest) = body.split_first().ok_or_else(|| bad("empty"))?;
        let inflated;
        let mut rest = if kind & COMPRESSED != 0 {
            inflated = inflate(rest)?;
            inflated.as_slice()
        } else {
            rest
        };
        match kind & !COMPRESSED {
            KIND_SYNC => Ok(Frame::Sync(rest.to_vec())),
            KIND_CHANGES => {
                let mut take = |n: usize| -> Result<&[u8]> {
                    if rest.len() < n {
                        return Err(bad("truncated"));
                    }
                    let (head, tail) = rest.split_at(n);
                    rest = tail;
                    Ok(head)
                };
                let count =
                    u32::from_be_bytes(take(4)?.try_into().map_err(|_| bad("count"))?) as usize;
                let mut changes = Vec::with_capacity(count.min(4096));
                for _ in 0..count {
                    let len = u32::from_be_bytes(take(4)?.try_into().map_err(|_| bad("length"))?)
                        as usize;
                    changes.push(take(len)?.to_vec());
                }
                if !rest.is_empty() {
                    return Err(bad("trailing bytes"));
                }
                Ok(Frame::Changes(changes))
            }
            other => Err(bad(&format!("unknown kind {other}"))),
        }
    }
}

/// What a sync session needs of the node that runs it (the node implements it; this module
/// does not depend on the node).
pub(crate) trait SessionHost: Send + Sync + 'static {
    /// Runs `f` on the space under its lock (its events are delivered after).
    fn with_space<R>(&self, f: impl FnOnce(&mut Space) -> R) -> R;
    /// The change generation, bumped on every change to the document.
    fn watch_changes(&self) -> watch::Receiver<u64>;
    /// A change from this session's peer was applied: other sessions push it on.
    fn after_remote_change(&self);
    /// The session with `peer` ended with an error.
    fn session_failed(&self, peer: &DeviceId, message: String);
    /// Whether `peer` is at this device's changes flipped (its sync status may have changed).
    fn sync_status_changed(&self, peer: &DeviceId);
}

/// Applies a received frame to the space; whether the document moved.
fn apply_frame<H: SessionHost>(
    inner: &H,
    state: &mut crate::PeerSyncState,
    frame: Frame,
) -> Result<bool> {
    match frame {
        Frame::Changes(changes) => inner.with_space(|s| s.apply_changes(&changes)),
        Frame::Sync(message) => inner.with_space(|s| s.receive_sync_message(state, &message)),
    }
}

/// Bytes and frames one session moved (application frames only, not QUIC overhead).
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    pub(crate) bytes_sent: AtomicU64,
    pub(crate) bytes_received: AtomicU64,
    pub(crate) frames_sent: AtomicU64,
    pub(crate) frames_received: AtomicU64,
}

pub(crate) async fn write_frame(
    send: &mut SendStream,
    frame: &Frame,
    traffic: &Traffic,
) -> Result<()> {
    let bytes = frame.encode();
    send.write_all(&bytes)
        .await
        .map_err(|e| Error::InvalidRemoteData(format!("connection lost while sending: {e}")))?;
    traffic
        .bytes_sent
        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
    traffic.frames_sent.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Reads one frame; `Ok(None)` when the peer finished the stream.
pub(crate) async fn read_frame(recv: &mut RecvStream, traffic: &Traffic) -> Result<Option<Frame>> {
    let mut len = [0u8; 4];
    match recv.read_exact(&mut len).await {
        Ok(()) => {}
        Err(iroh::endpoint::ReadExactError::FinishedEarly(0)) => return Ok(None),
        Err(e) => {
            return Err(Error::InvalidRemoteData(format!(
                "connection lost while reading: {e}"
            )))
        }
    }
    let len = u32::from_be_bytes(len) as usize;
    if len == 0 || len > MAX_FRAME_BYTES {
        return Err(Error::InvalidRemoteData(format!(
            "frame of {len} bytes is over the limit of {MAX_FRAME_BYTES}"
        )));
    }
    let mut body = vec![0u8; len];
    recv.read_exact(&mut body)
        .await
        .map_err(|e| Error::InvalidRemoteData(format!("truncated frame: {e}")))?;
    traffic
        .bytes_received
        .fetch_add(len as u64 + 4, Ordering::Relaxed);
    traffic.frames_received.fetch_add(1, Ordering::Relaxed);
    Frame::decode(&body).map(Some)
}

/// Runs a sync session with `peer` until the stream ends, an error occurs or the node stops.
/// `in_sync` tells waiters whether the peer was last seen at this device's heads, with the
/// change generation (see [`SessionHost::watch_changes`]) that was computed at.
pub(crate) async fn run_session<H: SessionHost>(
    inner: Arc<H>,
    peer: DeviceId,
    mut send: SendStream,
    mut recv: RecvStream,
    in_sync: watch::Sender<(u64, bool)>,
    traffic: Arc<Traffic>,
) -> Result<()> {
    let mut changed = inner.watch_changes();
    let mut state = inner.with_space(|s| s.load_sync_state(&peer));
    // Reconnect shortcut: what the peer lacks since the last exchange, before any handshake.
    let prime = inner.with_space(|s| s.changes_since_last_sync(&mut state))?;
    if !prime.is_empty() {
        write_frame(&mut send, &Frame::Changes(prime), &traffic).await?;
    }
    // The sync state changed since it was last saved (it is saved after the reply is sent,
    // so saving it delays neither the app's event nor the peer's acknowledgement).
    let mut unsaved = false;
    let mut last_synced = None;
    let outcome: Result<()> = async {
        loop {
            // A device removed while connected gets nothing more; one whose partner's pairing
            // was ended gets what it lacks up to the ending (so it learns of it), then nothing.
            if !inner.with_space(|s| s.is_authorized_peer(&peer)) {
                let ended = inner.with_space(|s| s.pairing_ended_for(&peer));
                if ended {
                    let last = inner.with_space(|s| s.generate_sync_message(&mut state));
                    if let Ok(Some(message)) = last {
                        write_frame(&mut send, &Frame::Sync(message), &traffic).await?;
                        // Closing the connection at once would drop what is still in flight.
                        let _ = send.finish();
                        let _ = tokio::time::timeout(
                            std::time::Duration::from_secs(5),
                            send.stopped(),
                        )
                        .await;
                    }
                    return Err(Error::NotAMember(format!(
                        "the pairing with device {peer}'s partner ended"
                    )));
                }
                return Err(Error::NotAMember(format!("device {peer} was removed")));
            }
            // Say what there is to say.
            let generation = *changed.borrow_and_update();
            let (message, synced) = inner.with_space(|s| {
                let m = s.generate_sync_message(&mut state);
                (m, s.peer_in_sync(&state))
            });
            if let Some(message) = message? {
                write_frame(&mut send, &Frame::Sync(message), &traffic).await?;
            }
            // Saved before waiters hear of it, so `sync_status` (read from the saved state)
            // agrees with a `sync_now` that returns.
            if std::mem::take(&mut unsaved) {
                let _ = inner.with_space(|s| s.save_sync_state(&state));
            }
            in_sync.send_replace((generation, synced));
            if last_synced.replace(synced) != Some(synced) {
                inner.sync_status_changed(&peer);
            }
            tokio::select! {
                frame = read_frame(&mut recv, &traffic) => {
                    let Some(frame) = frame? else { return Ok(()) };
                    if traffic.frames_received.load(Ordering::Relaxed) > MAX_FRAMES_PER_SESSION {
                        return Err(Error::InvalidRemoteData(format!(
                            "the peer sent more than {MAX_FRAMES_PER_SESSION} frames in one session"
                        )));
                    }
                    let moved = if frame.is_heavy() {
                        // Applying many changes (and fsyncing them) would hold this runtime
                        // thread for milliseconds and stall other sessions: do it aside.
                        let inner = inner.clone();
                        let mut lent =
                            std::mem::replace(&mut state, crate::PeerSyncState::blank(peer.clone()));
                        let (back, moved) = tokio::task::spawn_blocking(move || {
                            let moved = apply_frame(&*inner, &mut lent, frame);
                            (lent, moved)
                        })
                        .await
                        .map_err(|e| Error::InvalidRemoteData(format!("applying a frame failed: {e}")))?;
                        state = back;
                        moved?
                    } else {
                        apply_frame(&*inner, &mut state, frame)?
                    };
                    if moved {
                        inner.after_remote_change();
                    }
                    unsaved = true;
                }
                changed_result = changed.changed() => {
                    if changed_result.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
    .await;
    let _ = inner.with_space(|s| s.save_sync_state(&state));
    if let Err(e) = &outcome {
        tracing::warn!(peer = %peer, error = %e, "sync session ended with an error");
        inner.session_failed(&peer, e.to_string());
    }
    let _ = send.finish();
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_garbage_is_refused() {
        for frame in [
            Frame::Sync(vec![1, 2, 3]),
            Frame::Changes(vec![vec![9; 5], vec![]]),
        ] {
            let bytes = frame.encode();
            assert_eq!(Frame::decode(&bytes[4..]).unwrap(), frame);
        }
        assert!(Frame::decode(&[]).is_err());
        assert!(Frame::decode(&[7, 1, 2]).is_err());
        assert!(Frame::decode(&[KIND_CHANGES, 0, 0, 0, 2, 0, 0, 0, 9]).is_err());
        assert!(Frame::decode(&[KIND_CHANGES, 0, 0, 0, 0, 1]).is_err());
    }

    #[test]
    fn large_payloads_travel_deflated_and_bad_compression_is_refused() {
        let changes: Vec<Vec<u8>> = (0..50u8).map(|i| [vec![i], vec![7; 60]].concat()).collect();
        let frame = Frame::Changes(changes);
        let bytes = frame.encode();
        assert_eq!(bytes[4] & COMPRESSED, COMPRESSED, "sent deflated");
        assert!(bytes.len() < 50 * 60 / 4, "{} bytes", bytes.len());
        assert_eq!(Frame::decode(&bytes[4..]).unwrap(), frame);
        // Small payloads stay as they are.
        assert_eq!(Frame::Sync(vec![1; 10]).encode()[4], KIND_SYNC);
        // Garbage behind the compressed bit, and a payload inflating past the limit.
        let err = Frame::decode(&[KIND_SYNC | COMPRESSED, 0xff, 0x00, 0x13]).unwrap_err();
        assert!(err.to_string().contains("compression"), "{err}");
        let bomb = deflate(&vec![0u8; MAX_FRAME_BYTES + 10]).unwrap();
        let mut body = vec![KIND_SYNC | COMPRESSED];
        body.extend_from_slice(&bomb);
        let err = Frame::decode(&body).unwrap_err();
        assert!(err.to_string().contains("beyond the limit"), "{err}");
    }
}
