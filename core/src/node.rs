//! [`Node`]: a device on the network. It owns the [`Space`], an iroh endpoint whose identity is
//! the device key, and the sync and pairing protocols; it keeps sessions with the couple's
//! other devices, pushes local changes live, retries dropped connections with backoff, and
//! reports [`NodeEvent`]s. Only enrolled, non-removed devices ever receive a byte of the
//! document: every incoming sync connection is authorised on its TLS-authenticated endpoint
//! id before anything is read or written.
//!
//! Network configuration is explicit ([`NetworkConfig`]): production uses iroh's n0 relays and
//! address lookup plus local-network discovery (mDNS); a couple may run their own relay; local
//! mode turns relays and internet lookup off. While a node runs with local discovery on, its
//! endpoint id is visible to others on the same network (that is how phones find each other).

use crate::error::{Error, Result};
use crate::ids::DeviceId;
use crate::pairing::{InviteRole, JoinRequest, JoinResponse, PendingInvite, Ticket, PAIR_ALPN};
use crate::protocol_version::{
    connect_current, OutdatedProtocol, OLDER_PAIR_ALPNS, OLDER_SYNC_ALPNS,
};
use crate::space::{CreateSpace, Space, SpaceEvent};
use crate::storage::{write_atomic, Storage};
use crate::sync::{run_session, Traffic, SYNC_ALPN};
use chrono::{DateTime, Utc};
use iroh::endpoint::{presets, Connection};
use iroh::protocol::{AcceptError, ProtocolHandler, Router};
use iroh::{Endpoint, EndpointAddr, EndpointId, RelayMode, RelayUrl, TransportAddr};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

const NETWORK_FILE: &str = "network.json";
/// Largest answer a joining device reads from the device it chose to join (the document).
const MAX_PAIRING_ANSWER: usize = 64 * 1024 * 1024;
/// Largest join request an inviting device reads before the ticket's secret is proven: a
/// secret, two names and a time zone.
const MAX_JOIN_REQUEST: usize = 16 * 1024;
/// How long an inviting device waits for a join request (the secret not yet proven).
const JOIN_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Pairing connections an inviting device serves at once; more are closed at once.
const MAX_PAIRING_CONNECTIONS: usize = 4;
/// How long a joining device waits for the whole exchange with the inviting device.
const JOIN_TIMEOUT: Duration = Duration::from_secs(120);
/// How long an inviting device waits, by default, for its user to confirm a device of theirs.
pub const DEFAULT_CONFIRMATION_TIMEOUT: Duration = Duration::from_secs(90);
/// The longest an invitation ticket may live.
pub const MAX_TICKET_LIFETIME: chrono::Duration = chrono::Duration::hours(24);
/// How often the node checks whether the log is due for compaction.
const MAINTENANCE_TICK: Duration = Duration::from_secs(1);
/// How long no change must have come before the node compacts a due log.
const QUIET_BEFORE_COMPACTING: Duration = Duration::from_secs(3);

/// Which relay servers a device uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelayChoice {
    /// iroh's public n0 relays (they forward encrypted packets and can read nothing).
    Default,
    /// The couple's own `iroh-relay`.
    Custom(String),
    /// No relay: LAN or loopback only.
    Disabled,
}

/// How a node reaches the couple's other devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkConfig {
    /// Relay servers.
    pub relay: RelayChoice,
    /// Internet address lookup (n0 DNS/pkarr): find devices by id when apart.
    pub internet_lookup: bool,
    /// Local-network discovery (mDNS) while the node runs: phones on the same Wi-Fi find each
    /// other with no address typed. The endpoint id is visible on the LAN while it advertises.
    pub local_discovery: bool,
    /// UDP port to bind (`None`: reuse the last one, else any).
    pub bind_port: Option<u16>,
    /// Bind to loopback only (tests and single-machine demos).
    pub loopback_only: bool,
    /// Only through the relay, never a direct path: the other devices (the partner's
    /// included) never learn this device's IP address; the relay still sees it. Slower, and
    /// it needs the relay even on the same Wi-Fi.
    #[serde(default)]
    pub relay_only: bool,
}

impl NetworkConfig {
    /// The production default: n0 relays and address lookup plus local-network discovery.
    pub fn production() -> Self {
        NetworkConfig {
            relay: RelayChoice::Default,
            internet_lookup: true,
            local_discovery: true,
            bind_port: None,
            loopback_only: false,
            relay_only: false,
        }
    }

    /// Like production, but only through the n0 relays (see [`NetworkConfig::relay_only`]):
    /// no direct path and no local-network discovery.
    pub fn relay_only() -> Self {
        NetworkConfig {
            local_discovery: false,
            relay_only: true,
            ..NetworkConfig::production()
        }
    }

    /// The couple's own relay (and no third-party lookup), plus local-network discovery.
    pub fn custom_relay(url: &str) -> Self {
        NetworkConfig {
            relay: RelayChoice::Custom(url.to_owned()),
            internet_lookup: false,
            ..NetworkConfig::production()
        }
    }

    /// Local mode: relays and internet lookup off; LAN (with discovery) and loopback only.
    pub fn local() -> Self {
        NetworkConfig {
            relay: RelayChoice::Disabled,
            internet_lookup: false,
            local_discovery: true,
            bind_port: None,
            loopback_only: false,
            relay_only: false,
        }
    }

    /// Loopback only, no relay, no discovery: devices on one machine (tests, demo).
    pub fn loopback() -> Self {
        NetworkConfig {
            local_discovery: false,
            loopback_only: true,
            ..NetworkConfig::local()
        }
    }
}

/// Something the app may want to react to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum NodeEvent {
    /// The document changed, here (`remote = false`) or by a change from another device.
    DocumentChanged {
        /// Whether the change came from another device.
        remote: bool,
    },
    /// Reminders may have changed: reschedule local notifications.
    RemindersChanged,
    /// A session with one of the couple's devices started.
    DeviceConnected {
        /// The device.
        device: DeviceId,
    },
    /// A session with one of the couple's devices ended.
    DeviceDisconnected {
        /// The device.
        device: DeviceId,
    },
    /// Whether `device` has all of this device's changes may have changed: read
    /// [`Node::sync_status`] again (it says "has all my changes" or "waiting", never a time).
    SyncStatusChanged {
        /// The device.
        device: DeviceId,
    },
    /// A device joined through a ticket from this node.
    DevicePaired {
        /// The new device.
        device: DeviceId,
    },
    /// A device asks to join as another device of this partner (a my-device ticket): show
    /// `code` and ask the user whether it is theirs and shows the same code, then answer with
    /// [`Node::confirm_pairing`]. Nothing is sent to it before; without an answer within the
    /// confirmation timeout it is refused.
    ConfirmPairing {
        /// The joining device.
        device: DeviceId,
        /// The name it gave itself.
        device_name: String,
        /// The code it shows, e.g. `123 456`.
        code: String,
    },
    /// Syncing failed (the document is untouched).
    SyncError {
        /// The device involved, if any.
        device: Option<DeviceId>,
        /// What went wrong.
        message: String,
    },
}

/// The outcome of [`Node::sync_now`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncReport {
    /// Devices that now hold the same document as this one.
    pub converged: Vec<DeviceId>,
    /// Devices that could not be reached or did not converge in time, with why.
    pub unreachable: Vec<Unreachable>,
    /// Application bytes sent in the sessions this call used (frames only).
    pub bytes_sent: u64,
    /// Application bytes received.
    pub bytes_received: u64,
}

/// A device [`Node::sync_now`] could not sync with, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Unreachable {
    /// The device.
    pub device: DeviceId,
    /// Why, readable.
    pub reason: String,
}

impl Unreachable {
    fn new(device: DeviceId, reason: impl Into<String>) -> Self {
        Unreachable {
            device,
            reason: reason.into(),
        }
    }
}

/// Whether a device has all of this device's changes (no presence, no "last seen").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PeerStatus {
    /// The device.
    pub device: DeviceId,
    /// Its partner.
    pub partner: crate::ids::PartnerId,
    /// Its name.
    pub name: String,
    /// Whether, as of the last exchange, it holds every change this device has.
    pub has_all_my_changes: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct NetworkMemory {
    port: Option<u16>,
    /// Local-network addresses last seen for each paired device (to reconnect without
    /// discovery). Public addresses are never kept: they would tell where the partner was.
    peers: BTreeMap<String, Vec<SocketAddr>>,
}

impl NetworkMemory {
    /// Drops every address that is not on a local network (see [`is_local_network`]).
    fn keep_local_only(&mut self) {
        for addrs in self.peers.values_mut() {
            addrs.retain(|a| is_local_network(a.ip()));
        }
        self.peers.retain(|_, addrs| !addrs.is_empty());
    }
}

/// Whether `ip` is on this machine or a local network (loopback, private, link-local, unique
/// local): such an address says nothing about where a device is in the world.
fn is_local_network(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        std::net::IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

struct SessionInfo {
    /// Distinguishes sessions with the same peer (both devices may dial at once).
    id: u64,
    /// (the change generation it was computed at, whether the peer was at this device's heads)
    in_sync: watch::Receiver<(u64, bool)>,
    traffic: Arc<Traffic>,
    /// The session's QUIC connection (for its byte counts).
    connection: Connection,
    /// UDP payload bytes (sent, received) when the session started: the QUIC handshake.
    handshake: (u64, u64),
    task: tokio::task::JoinHandle<()>,
}

/// What a node's open sync sessions exchanged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrafficReport {
    /// Application bytes sent: the sync protocol's frames only.
    pub frame_bytes_sent: u64,
    /// Application bytes received.
    pub frame_bytes_received: u64,
    /// Frames sent.
    pub frames_sent: u64,
    /// Frames received.
    pub frames_received: u64,
    /// Bytes sent in UDP datagrams on the sessions' QUIC connections: the frames plus QUIC's
    /// own (handshake, packet headers, acknowledgements, keep-alives).
    pub wire_bytes_sent: u64,
    /// Bytes received in UDP datagrams on the sessions' QUIC connections.
    pub wire_bytes_received: u64,
    /// Of the wire bytes, those sent before the session began: the QUIC handshake. Exact for
    /// sessions this node dialled; on the accepting side the peer's first frame may be in it.
    pub handshake_bytes_sent: u64,
    /// Of the wire bytes, those received before the session began.
    pub handshake_bytes_received: u64,
}

/// UDP payload bytes (sent, received) on `connection` so far.
fn wire_bytes(connection: &Connection) -> (u64, u64) {
    let stats = connection.stats();
    (stats.udp_tx.bytes, stats.udp_rx.bytes)
}

/// State shared by the node's tasks.
pub(crate) struct Inner {
    space: Mutex<Space>,
    dir: PathBuf,
    endpoint: Endpoint,
    events: broadcast::Sender<NodeEvent>,
    /// Bumped on every change to the document: sessions push what is new.
    pub(crate) changes: watch::Sender<u64>,
    sessions: Mutex<HashMap<DeviceId, SessionInfo>>,
    invites: Mutex<HashMap<String, PendingInvite>>,
    /// Devices of this partner waiting for the user's confirmation, with where to answer.
    confirmations: Mutex<HashMap<DeviceId, tokio::sync::oneshot::Sender<bool>>>,
    /// How long a confirmation waits before the device is refused.
    confirmation_timeout: Mutex<Duration>,
    /// Pairing connections being served now (at most [`MAX_PAIRING_CONNECTIONS`]).
    pairing_connections: std::sync::atomic::AtomicUsize,
    memory: Mutex<NetworkMemory>,
}

impl Inner {
    /// Runs `f` on the space under its lock, then delivers the events it produced (outside
    /// the lock, so a listener may call back into the node).
    pub(crate) fn with_space<R>(&self, f: impl FnOnce(&mut Space) -> R) -> R {
        let (out, events) = {
            let mut space = self.space.lock().unwrap_or_else(|p| p.into_inner());
            let out = f(&mut space);
            (out, space.take_events())
        };
        self.deliver(events);
        out
    }

    fn deliver(&self, events: Vec<SpaceEvent>) {
        let mut local_change = false;
        for event in events {
            match event {
                SpaceEvent::DocumentChanged { remote } => {
                    local_change |= !remote;
                    self.emit(NodeEvent::DocumentChanged { remote });
                }
                SpaceEvent::RemindersChanged => self.emit(NodeEvent::RemindersChanged),
            }
        }
        if local_change {
            self.changes.send_modify(|n| *n += 1);
        }
    }

    pub(crate) fn emit(&self, event: NodeEvent) {
        let _ = self.events.send(event);
    }

    /// A remote change arrived: other sessions push it on.
    pub(crate) fn after_remote_change(&self) {
        self.changes.send_modify(|n| *n += 1);
    }
}

impl crate::sync::SessionHost for Inner {
    fn with_space<R>(&self, f: impl FnOnce(&mut Space) -> R) -> R {
        Inner::with_space(self, f)
    }

    fn watch_changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn after_remote_change(&self) {
        Inner::after_remote_change(self)
    }

    fn session_failed(&self, peer: &DeviceId, message: String) {
        self.emit(NodeEvent::SyncError {
            device: Some(peer.clone()),
            message,
        });
    }

    fn sync_status_changed(&self, peer: &DeviceId) {
        self.emit(NodeEvent::SyncStatusChanged {
            device: peer.clone(),
        });
    }
}

impl Inner {
    fn remember_addrs(&self, device: &DeviceId, addrs: Vec<SocketAddr>) {
        let addrs: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| is_local_network(a.ip()))
            .collect();
        if addrs.is_empty() {
            return;
        }
        let bytes = {
            let mut memory = self.memory.lock().unwrap_or_else(|p| p.into_inner());
            memory.peers.insert(device.0.clone(), addrs);
            serde_json::to_vec_pretty(&*memory).unwrap_or_default()
        };
        let _ = write_atomic(&self.dir.join(NETWORK_FILE), &bytes, false);
    }

    fn known_addr(&self, device: &DeviceId) -> Result<EndpointAddr> {
        let id: EndpointId = device
            .as_str()
            .parse()
            .map_err(|_| Error::invalid("device id", device.as_str()))?;
        let memory = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        let addrs = memory
            .peers
            .get(device.as_str())
            .cloned()
            .unwrap_or_default();
        Ok(EndpointAddr::from_parts(
            id,
            addrs.into_iter().map(TransportAddr::Ip),
        ))
    }
}

fn endpoint_device(id: EndpointId) -> DeviceId {
    DeviceId(id.to_string())
}

/// Accepts sync connections from enrolled devices only.
#[derive(Clone)]
struct SyncProtocol(Arc<Inner>);

impl std::fmt::Debug for SyncProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SyncProtocol")
    }
}

impl ProtocolHandler for SyncProtocol {
    async fn accept(&self, connection: Connection) -> std::result::Result<(), AcceptError> {
        let peer = endpoint_device(connection.remote_id());
        if !self.0.with_space(|s| s.is_authorized_peer(&peer)) {
            tracing::info!(peer = %peer, "refused a sync connection from a device that is not enrolled");
            connection.close(1u32.into(), b"not a device of this space");
            return Ok(());
        }
        let (send, recv) = match connection.accept_bi().await {
            Ok(streams) => streams,
            Err(e) => return Err(AcceptError::from_err(e)),
        };
        let addrs = remote_ip_addrs(&self.0.endpoint, connection.remote_id()).await;
        self.0.remember_addrs(&peer, addrs);
        start_session(&self.0, peer, connection, send, recv).await;
        Ok(())
    }
}

async fn remote_ip_addrs(endpoint: &Endpoint, id: EndpointId) -> Vec<SocketAddr> {
    endpoint
        .remote_info(id)
        .await
        .map(|info| {
            info.into_addrs()
                .filter_map(|a| match a.into_addr() {
                    TransportAddr::Ip(ip) => Some(ip),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Registers and runs a session; returns when it ends.
async fn start_session(
    inner: &Arc<Inner>,
    peer: DeviceId,
    connection: Connection,
    send: iroh::endpoint::SendStream,
    recv: iroh::endpoint::RecvStream,
) {
    static NEXT_SESSION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let id = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = watch::channel((0u64, false));
    let traffic = Arc::new(Traffic::default());
    let handshake = wire_bytes(&connection);
    let session_connection = connection.clone();
    let task_inner = inner.clone();
    let task_peer = peer.clone();
    let task_traffic = traffic.clone();
    // Register before the task runs, so its end always finds (and removes) its own entry.
    let mut sessions = inner.sessions.lock().unwrap_or_else(|p| p.into_inner());
    let task = tokio::spawn(async move {
        task_inner.emit(NodeEvent::DeviceConnected {
            device: task_peer.clone(),
        });
        let _ = run_session(
            task_inner.clone(),
            task_peer.clone(),
            send,
            recv,
            tx,
            task_traffic,
        )
        .await;
        connection.close(0u32.into(), b"done");
        task_inner.emit(NodeEvent::DeviceDisconnected {
            device: task_peer.clone(),
        });
        let mut sessions = task_inner
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if sessions.get(&task_peer).is_some_and(|s| s.id == id) {
            sessions.remove(&task_peer);
        }
    });
    // When both devices dialled at once, the older session keeps running until its connection
    // ends (aborting it would break a sync waiting on it); the map points at the newest.
    sessions.insert(
        peer,
        SessionInfo {
            id,
            in_sync: rx,
            traffic,
            connection: session_connection,
            handshake,
            task,
        },
    );
}

/// Answers pairing requests for this node's open invitations.
#[derive(Clone)]
struct PairProtocol(Arc<Inner>);

impl std::fmt::Debug for PairProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PairProtocol")
    }
}

/// Reads one length-prefixed pairing message of at most `limit` bytes. Memory grows with
/// the bytes that arrive, not with the length the sender claims.
async fn read_message(recv: &mut iroh::endpoint::RecvStream, limit: usize) -> Result<Vec<u8>> {
    let interrupted =
        |e: &dyn std::fmt::Display| Error::InvalidRemoteData(format!("pairing interrupted: {e}"));
    let mut len = [0u8; 4];
    recv.read_exact(&mut len)
        .await
        .map_err(|e| interrupted(&e))?;
    let len = u32::from_be_bytes(len) as usize;
    if len > limit {
        return Err(Error::InvalidRemoteData(format!(
            "pairing message of {len} bytes is over the limit of {limit}"
        )));
    }
    let mut body = Vec::with_capacity(len.min(64 * 1024));
    let mut chunk = vec![0u8; len.min(64 * 1024)];
    while body.len() < len {
        let want = (len - body.len()).min(chunk.len());
        recv.read_exact(&mut chunk[..want])
            .await
            .map_err(|e| interrupted(&e))?;
        body.extend_from_slice(&chunk[..want]);
    }
    Ok(body)
}

async fn write_message(send: &mut iroh::endpoint::SendStream, body: &[u8]) -> Result<()> {
    let mut bytes = (body.len() as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(body);
    send.write_all(&bytes)
        .await
        .map_err(|e| Error::InvalidRemoteData(format!("pairing interrupted: {e}")))
}

impl PairProtocol {
    async fn answer(&self, joiner: &DeviceId, request: JoinRequest) -> JoinResponse {
        let refused = |message: &str| JoinResponse::Refused {
            message: message.to_owned(),
        };
        let give_back = || {
            // A failed attempt leaves the ticket usable.
            if let Some(invite) = self
                .0
                .invites
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_mut(&request.secret)
            {
                invite.used = false;
            }
        };
        let role = {
            let mut invites = self.0.invites.lock().unwrap_or_else(|p| p.into_inner());
            let Some(invite) = invites.get_mut(&request.secret) else {
                return refused(
                    "this invitation is not valid here: ask your partner for a new ticket",
                );
            };
            if invite.used {
                return refused("this invitation was already used: ask for a new ticket");
            }
            if invite.expires_at < Utc::now() {
                return refused("this invitation expired: ask for a new ticket");
            }
            // Taken while this attempt runs; given back if it fails.
            invite.used = true;
            invite.role
        };
        if (role == InviteRole::ReturningPartner) != request.recovery.is_some() {
            give_back();
            return refused(match role {
                InviteRole::ReturningPartner => "this invitation is for a partner coming back after losing every device: join with your recovery secret",
                _ => "a recovery secret is used only with a returning-partner invitation: ask your partner for one",
            });
        }
        // A device of this partner gets the partner's keyring: the user confirms it first.
        if role == InviteRole::MyDevice && !self.confirmed(joiner, &request).await {
            give_back();
            return refused(
                "the inviting device did not confirm this device (the codes must match, and someone must confirm there in time)",
            );
        }
        let now = Utc::now();
        let result = self.0.with_space(|s| -> Result<JoinResponse> {
            match (role, &request.recovery) {
                (InviteRole::Partner, _) => {
                    s.add_partner(
                        &request.partner_name,
                        &request.time_zone,
                        joiner,
                        &request.device_name,
                        now,
                    )?;
                }
                (InviteRole::MyDevice, _) => s.add_device(joiner, &request.device_name, now)?,
                (InviteRole::ReturningPartner, Some(claim)) => {
                    s.add_recovered_device(
                        joiner,
                        &request.device_name,
                        &claim.key,
                        &claim.proof,
                        now,
                    )?;
                }
                (InviteRole::ReturningPartner, None) => {
                    return Err(Error::NotAllowed("no recovery proof was sent".into()))
                }
            }
            Ok(JoinResponse::Accepted {
                document: s.export_document()?,
            })
        });
        match result {
            Ok(response) => {
                self.0.emit(NodeEvent::DevicePaired {
                    device: joiner.clone(),
                });
                self.0.after_remote_change();
                response
            }
            Err(e) => {
                // A failed enrolment (e.g. a name too long) leaves the ticket usable.
                give_back();
                match e {
                    Error::NotAllowed(message) => refused(&message),
                    other => refused(&other.to_string()),
                }
            }
        }
    }

    /// Asks the user (through [`NodeEvent::ConfirmPairing`]) whether `joiner` is theirs;
    /// false when declined or not answered in time.
    async fn confirmed(&self, joiner: &DeviceId, request: &JoinRequest) -> bool {
        let (answer, decision) = tokio::sync::oneshot::channel();
        self.0
            .confirmations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(joiner.clone(), answer);
        let inviter = self.0.endpoint.id().to_string();
        self.0.emit(NodeEvent::ConfirmPairing {
            device: joiner.clone(),
            device_name: request.device_name.clone(),
            code: crate::pairing::confirmation_code(&request.secret, &inviter, joiner.as_str()),
        });
        let timeout = *self
            .0
            .confirmation_timeout
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let confirmed = matches!(tokio::time::timeout(timeout, decision).await, Ok(Ok(true)));
        self.0
            .confirmations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(joiner);
        confirmed
    }

    /// Whether an invitation is waiting (not used, not expired): pairing is served only then.
    fn invite_pending(&self) -> bool {
        let now = Utc::now();
        self.0
            .invites
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .any(|i| !i.used && i.expires_at >= now)
    }
}

/// Counts a pairing connection being served while it lives.
struct PairingSlot<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> PairingSlot<'a> {
    /// A slot, unless [`MAX_PAIRING_CONNECTIONS`] are served already.
    fn take(count: &'a std::sync::atomic::AtomicUsize) -> Option<Self> {
        let before = count.fetch_add(1, Ordering::SeqCst);
        let slot = PairingSlot(count);
        (before < MAX_PAIRING_CONNECTIONS).then_some(slot)
    }
}

impl Drop for PairingSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl ProtocolHandler for PairProtocol {
    async fn accept(&self, connection: Connection) -> std::result::Result<(), AcceptError> {
        let Some(_slot) = PairingSlot::take(&self.0.pairing_connections) else {
            connection.close(1u32.into(), b"busy");
            return Ok(());
        };
        let joiner = endpoint_device(connection.remote_id());
        let (mut send, mut recv) =
            tokio::time::timeout(JOIN_REQUEST_TIMEOUT, connection.accept_bi())
                .await
                .map_err(AcceptError::from_err)?
                .map_err(AcceptError::from_err)?;
        let response = if !self.invite_pending() {
            // Nothing is read from a device while no invitation waits.
            JoinResponse::Refused {
                message: "this device has no invitation waiting (a ticket works once, for a limited time): ask for a new ticket"
                    .into(),
            }
        } else {
            let request = tokio::time::timeout(
                JOIN_REQUEST_TIMEOUT,
                read_message(&mut recv, MAX_JOIN_REQUEST),
            )
            .await
            .unwrap_or_else(|_| {
                Err(Error::InvalidRemoteData(
                    "the join request did not come in time".into(),
                ))
            });
            match request.and_then(|b| {
                serde_json::from_slice::<JoinRequest>(&b)
                    .map_err(|e| Error::InvalidRemoteData(e.to_string()))
            }) {
                Ok(request) => self.answer(&joiner, request).await,
                Err(e) => JoinResponse::Refused {
                    message: e.to_string(),
                },
            }
        };
        if matches!(response, JoinResponse::Accepted { .. }) {
            let addrs = remote_ip_addrs(&self.0.endpoint, connection.remote_id()).await;
            self.0.remember_addrs(&joiner, addrs);
        }
        let _ = write_message(&mut send, &response.encode()).await;
        let _ = send.finish();
        // Let the joiner read the answer before the connection goes.
        let _ = tokio::time::timeout(Duration::from_secs(5), connection.closed()).await;
        Ok(())
    }
}

async fn bind_endpoint(
    dir: &Path,
    secret: iroh::SecretKey,
    config: &NetworkConfig,
) -> Result<(Endpoint, NetworkMemory)> {
    let mut memory: NetworkMemory = std::fs::read(dir.join(NETWORK_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    // A file written by an earlier version may hold public addresses.
    memory.keep_local_only();
    let port = config.bind_port.or(memory.port).unwrap_or(0);
    let build = |port: u16| {
        let mut builder = if config.internet_lookup {
            Endpoint::builder(presets::N0)
        } else {
            Endpoint::builder(presets::Minimal)
        };
        builder = builder
            .secret_key(secret.clone())
            .alpns(crate::protocol_version::all_alpns());
        builder = match &config.relay {
            RelayChoice::Default => builder.relay_mode(RelayMode::Default),
            RelayChoice::Custom(url) => match url.parse::<RelayUrl>() {
                Ok(url) => builder.relay_mode(RelayMode::custom([url])),
                Err(_) => return Err(Error::invalid("relay url", format!("'{url}' is not a URL"))),
            },
            RelayChoice::Disabled => builder.relay_mode(RelayMode::Disabled),
        };
        if config.relay_only {
            // No IP transport at all: every packet goes through the relay.
            if config.relay == RelayChoice::Disabled {
                return Err(Error::invalid(
                    "network",
                    "relay-only needs a relay (the default one or the couple's own)",
                ));
            }
            return Ok(builder.clear_ip_transports());
        }
        if config.local_discovery {
            builder =
                builder.address_lookup(iroh_mdns_address_lookup::MdnsAddressLookup::builder());
        }
        let ip = if config.loopback_only {
            "127.0.0.1"
        } else {
            "0.0.0.0"
        };
        builder
            .bind_addr(format!("{ip}:{port}").as_str())
            .map_err(|e| Error::invalid("bind address", e.to_string()))
    };
    let endpoint = match build(port)?.bind().await {
        Ok(ep) => ep,
        Err(_) if port != 0 => build(0)?
            .bind()
            .await
            .map_err(|e| Error::NotAllowed(format!("the network could not be started: {e}")))?,
        Err(e) => {
            return Err(Error::NotAllowed(format!(
                "the network could not be started: {e}"
            )))
        }
    };
    memory.port = endpoint.bound_sockets().first().map(|a| a.port());
    let bytes = serde_json::to_vec_pretty(&memory).unwrap_or_default();
    let _ = write_atomic(&dir.join(NETWORK_FILE), &bytes, false);
    Ok((endpoint, memory))
}

/// Exclusive access to a node's space; when dropped, the events it caused are delivered
/// (after the lock is released) and local changes are pushed to connected devices.
pub struct SpaceGuard<'a> {
    guard: Option<std::sync::MutexGuard<'a, Space>>,
    inner: &'a Inner,
}

impl std::ops::Deref for SpaceGuard<'_> {
    type Target = Space;
    fn deref(&self) -> &Space {
        self.guard.as_ref().expect("present until dropped")
    }
}

impl std::ops::DerefMut for SpaceGuard<'_> {
    fn deref_mut(&mut self) -> &mut Space {
        self.guard.as_mut().expect("present until dropped")
    }
}

impl Drop for SpaceGuard<'_> {
    fn drop(&mut self) {
        let events = self
            .guard
            .as_mut()
            .map(|g| g.take_events())
            .unwrap_or_default();
        self.guard = None;
        self.inner.deliver(events);
    }
}

/// A device on the network, holding its copy of the space.
pub struct Node {
    inner: Arc<Inner>,
    router: Router,
    retry: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Compacts the log when it is due and the space is quiet.
    maintenance: tokio::task::JoinHandle<()>,
    /// Tells the maintenance task to stop.
    stop_maintenance: watch::Sender<bool>,
    /// For a node made by `join`: what joining exchanged.
    join_traffic: Mutex<Option<JoinTraffic>>,
}

/// Compacts the space's log when it is due and no change came for
/// [`QUIET_BEFORE_COMPACTING`], so no edit waits for a compaction. The compaction runs on a
/// blocking thread; after a failure the task waits for a new change before trying again. Ends
/// when `stop` is set (a running compaction finishes first) or the node is gone.
fn spawn_maintenance(
    inner: &Arc<Inner>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let weak = Arc::downgrade(inner);
    tokio::spawn(async move {
        let mut quiet: Option<(u64, tokio::time::Instant)> = None;
        let mut failed_at: Option<u64> = None;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(MAINTENANCE_TICK) => {}
                _ = stop.changed() => return,
            }
            let Some(inner) = weak.upgrade() else {
                return;
            };
            let generation = *inner.changes.borrow();
            let now = tokio::time::Instant::now();
            match quiet {
                Some((seen, since))
                    if seen == generation
                        && failed_at != Some(generation)
                        && now.duration_since(since) >= QUIET_BEFORE_COMPACTING =>
                {
                    let compacting = inner.clone();
                    let result =
                        tokio::task::spawn_blocking(move || compacting.with_space(|s| s.tidy()))
                            .await;
                    failed_at = match result {
                        Ok(Ok(_)) => None,
                        Ok(Err(e)) => {
                            tracing::warn!("compacting the log failed (it stays valid): {e}");
                            Some(generation)
                        }
                        Err(_) => Some(generation),
                    };
                    quiet = Some((generation, now));
                }
                Some((seen, _)) if seen == generation => {}
                _ => quiet = Some((generation, now)),
            }
        }
    })
}

/// What joining exchanged: the answer's bytes and the connection's UDP bytes both ways.
#[derive(Debug, Clone, Copy)]
struct JoinTraffic {
    answer: u64,
    wire: (u64, u64),
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("id", &self.inner.endpoint.id())
            .finish()
    }
}

impl Node {
    /// Opens the space in `dir` and starts the network. Needs a tokio runtime.
    pub async fn start(dir: &Path, config: NetworkConfig) -> Result<Node> {
        let path = dir.to_path_buf();
        let space = tokio::task::spawn_blocking(move || Space::open(&path))
            .await
            .map_err(|e| Error::NotAllowed(format!("opening failed: {e}")))??;
        Self::with_space(dir, space, config).await
    }

    /// Creates a new space in the empty `dir` and starts the network.
    pub async fn create(dir: &Path, input: CreateSpace, config: NetworkConfig) -> Result<Node> {
        let space = Space::create(dir, input, Utc::now())?;
        Self::with_space(dir, space, config).await
    }

    /// Starts the network for an open space.
    pub async fn with_space(dir: &Path, space: Space, config: NetworkConfig) -> Result<Node> {
        let secret = space.identity().secret_key().clone();
        let (endpoint, memory) = bind_endpoint(dir, secret, &config).await?;
        Ok(Self::assemble(dir, space, endpoint, memory))
    }

    fn assemble(dir: &Path, space: Space, endpoint: Endpoint, memory: NetworkMemory) -> Node {
        let (events, _) = broadcast::channel(1024);
        let (changes, _) = watch::channel(0u64);
        let inner = Arc::new(Inner {
            space: Mutex::new(space),
            dir: dir.to_path_buf(),
            endpoint: endpoint.clone(),
            events,
            changes,
            sessions: Mutex::new(HashMap::new()),
            invites: Mutex::new(HashMap::new()),
            confirmations: Mutex::new(HashMap::new()),
            confirmation_timeout: Mutex::new(DEFAULT_CONFIRMATION_TIMEOUT),
            pairing_connections: std::sync::atomic::AtomicUsize::new(0),
            memory: Mutex::new(memory),
        });
        let mut router = Router::builder(endpoint)
            .accept(SYNC_ALPN, SyncProtocol(inner.clone()))
            .accept(PAIR_ALPN, PairProtocol(inner.clone()));
        for older in OLDER_SYNC_ALPNS.into_iter().chain(OLDER_PAIR_ALPNS) {
            router = router.accept(older, OutdatedProtocol);
        }
        let router = router.spawn();
        let (stop_maintenance, stop) = watch::channel(false);
        Node {
            maintenance: spawn_maintenance(&inner, stop),
            stop_maintenance,
            inner,
            router,
            retry: Mutex::new(None),
            join_traffic: Mutex::new(None),
        }
    }

    /// Joins a space with a ticket from another device. `dir` must hold no space; this device's
    /// identity is created in it. Needs a tokio runtime.
    pub async fn join(
        dir: &Path,
        ticket: &str,
        partner_name: &str,
        time_zone: &str,
        device_name: &str,
        config: NetworkConfig,
    ) -> Result<Node> {
        Self::join_with(
            dir,
            ticket,
            partner_name,
            time_zone,
            device_name,
            None,
            config,
        )
        .await
    }

    /// Comes back as the partner whose recovery secret `recovery` is, after losing every
    /// device, with a returning-partner ticket from the other partner's device. `dir` must
    /// hold no space. The other partner's device checks the proof before it sends anything;
    /// this partner's earlier devices become void. Needs a tokio runtime.
    pub async fn join_recovered(
        dir: &Path,
        ticket: &str,
        recovery: &str,
        device_name: &str,
        config: NetworkConfig,
    ) -> Result<Node> {
        let recovery = crate::recovery::RecoverySecret::parse(recovery)?;
        Self::join_with(dir, ticket, "", "UTC", device_name, Some(&recovery), config).await
    }

    async fn join_with(
        dir: &Path,
        ticket: &str,
        partner_name: &str,
        time_zone: &str,
        device_name: &str,
        recovery: Option<&crate::recovery::RecoverySecret>,
        config: NetworkConfig,
    ) -> Result<Node> {
        let ticket = Ticket::parse(ticket)?;
        match (ticket.role, recovery) {
            (InviteRole::ReturningPartner, None) => {
                return Err(Error::invalid(
                    "ticket",
                    "this invitation is for a partner coming back after losing every device: join with your recovery secret",
                ))
            }
            (InviteRole::Partner | InviteRole::MyDevice, Some(_)) => {
                return Err(Error::invalid(
                    "ticket",
                    "a recovery secret is used only with a returning-partner invitation: ask your partner for one",
                ))
            }
            _ => {}
        }
        if Storage::exists(dir) {
            return Err(Error::NotAllowed(format!(
                "{} already holds a space: a device can join only while it is empty (use another --data directory)",
                dir.display()
            )));
        }
        if ticket.expires_at < Utc::now() {
            return Err(Error::NotAllowed(
                "this invitation expired: ask for a new ticket".into(),
            ));
        }
        let identity = crate::identity::DeviceIdentity::load_or_create(dir)?;
        let (endpoint, memory) = bind_endpoint(dir, identity.secret_key().clone(), &config).await?;
        let exchange = async {
            let connection = connect_current(
                &endpoint,
                ticket.addr.clone(),
                PAIR_ALPN,
                &OLDER_PAIR_ALPNS,
                |e| Error::NotAllowed(format!("the inviting device could not be reached: {e}")),
            )
            .await?;
            let (mut send, mut recv) = connection.open_bi().await.map_err(|e| {
                Error::NotAllowed(format!("the inviting device could not be reached: {e}"))
            })?;
            let request = JoinRequest {
                secret: ticket.secret.clone(),
                partner_name: partner_name.to_owned(),
                time_zone: time_zone.to_owned(),
                device_name: device_name.to_owned(),
                recovery: recovery.map(|r| crate::pairing::RecoveryClaim {
                    key: r.public().sign,
                    proof: r.proof(&identity.device_id()),
                }),
            };
            write_message(&mut send, &serde_json::to_vec(&request).unwrap_or_default()).await?;
            let _ = send.finish();
            let body = read_message(&mut recv, MAX_PAIRING_ANSWER).await?;
            let wire = wire_bytes(&connection);
            connection.close(0u32.into(), b"joined");
            let traffic = JoinTraffic {
                answer: body.len() as u64,
                wire,
            };
            Ok::<_, Error>((JoinResponse::decode(&body)?, traffic))
        };
        let response = tokio::time::timeout(JOIN_TIMEOUT, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(Error::NotAllowed(
                    "the inviting device did not answer in time: try again next to it".into(),
                ))
            });
        let (response, traffic) = match response {
            Ok(r) => r,
            Err(e) => {
                endpoint.close().await;
                return Err(e);
            }
        };
        match response {
            JoinResponse::Accepted { document } => {
                let space = match recovery {
                    Some(recovery) => Space::join_recovered(dir, &document, recovery)?,
                    None => Space::join(dir, &document)?,
                };
                let node = Self::assemble(dir, space, endpoint, memory);
                *node.join_traffic.lock().unwrap_or_else(|p| p.into_inner()) = Some(traffic);
                let inviter = endpoint_device(ticket.addr.id);
                node.inner
                    .remember_addrs(&inviter, ticket.addr.ip_addrs().copied().collect());
                Ok(node)
            }
            JoinResponse::Refused { message } => {
                endpoint.close().await;
                Err(Error::NotAllowed(message))
            }
        }
    }

    /// For a node made by [`Node::join`]: the bytes of the inviting device's answer (the
    /// document).
    pub fn join_bytes_received(&self) -> Option<u64> {
        self.join_traffic
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|j| j.answer)
    }

    /// For a node made by [`Node::join`]: the UDP payload bytes (sent, received) of the
    /// joining connection, QUIC handshake included.
    pub fn join_wire_bytes(&self) -> Option<(u64, u64)> {
        self.join_traffic
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|j| j.wire)
    }

    /// What the open sync sessions exchanged: application frames, and apart from them the
    /// bytes on the wire and the QUIC handshakes.
    pub fn traffic(&self) -> TrafficReport {
        let sessions = self
            .inner
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let mut report = TrafficReport::default();
        for s in sessions.values() {
            let (wire_sent, wire_received) = wire_bytes(&s.connection);
            report.frame_bytes_sent += s.traffic.bytes_sent.load(Ordering::Relaxed);
            report.frame_bytes_received += s.traffic.bytes_received.load(Ordering::Relaxed);
            report.frames_sent += s.traffic.frames_sent.load(Ordering::Relaxed);
            report.frames_received += s.traffic.frames_received.load(Ordering::Relaxed);
            report.wire_bytes_sent += wire_sent;
            report.wire_bytes_received += wire_received;
            report.handshake_bytes_sent += s.handshake.0;
            report.handshake_bytes_received += s.handshake.1;
        }
        report
    }

    /// This device's id (its endpoint id).
    pub fn device_id(&self) -> DeviceId {
        endpoint_device(self.inner.endpoint.id())
    }

    /// Remembers direct addresses of a paired device (e.g. read from its QR code or from a
    /// previous session), so local mode can dial it without discovery.
    pub fn remember_peer_addr(&self, addr: &EndpointAddr) {
        self.inner.remember_addrs(
            &endpoint_device(addr.id),
            addr.ip_addrs().copied().collect(),
        );
    }

    /// This device's current address (id plus direct addresses).
    pub fn addr(&self) -> EndpointAddr {
        self.inner.endpoint.addr()
    }

    /// Runs a domain operation on the space; events it causes reach subscribers and local
    /// changes are pushed to connected devices.
    pub fn space<R>(&self, f: impl FnOnce(&mut Space) -> R) -> R {
        self.inner.with_space(f)
    }

    /// Locks the space for a series of operations (see [`SpaceGuard`]); prefer
    /// [`Node::space`] for single operations.
    pub fn lock_space(&self) -> SpaceGuard<'_> {
        SpaceGuard {
            guard: Some(self.inner.space.lock().unwrap_or_else(|p| p.into_inner())),
            inner: &self.inner,
        }
    }

    /// Subscribes to the node's events.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.inner.events.subscribe()
    }

    /// Creates a one-time pairing ticket granting `role`, valid for `valid_for`.
    pub fn invite(&self, role: InviteRole, valid_for: chrono::Duration) -> Result<Ticket> {
        if valid_for <= chrono::Duration::zero() {
            return Err(Error::invalid("expiry", "must be in the future"));
        }
        if valid_for > MAX_TICKET_LIFETIME {
            return Err(Error::invalid(
                "expiry",
                "an invitation lives at most 24 hours: pair while you are together",
            ));
        }
        self.space(|s| -> Result<()> {
            let info = s.info()?;
            match role {
                InviteRole::Partner if info.partners.len() >= 2 => Err(Error::ThirdPartner),
                InviteRole::ReturningPartner => match info.partners.iter().find(|p| p.id != info.me) {
                    None => Err(Error::NotAllowed("your partner has not joined yet: invite them as partner".into())),
                    Some(_) if info.ending.is_some() => Err(Error::NotAllowed(
                        "the pairing ended: no one comes back into this space (a new relationship is a new space)".into(),
                    )),
                    Some(p) if !p.has_recovery => Err(Error::NotAllowed(format!(
                        "{} has not set up a recovery secret, so they cannot come back as the same partner",
                        p.name
                    ))),
                    Some(_) => Ok(()),
                },
                _ => Ok(()),
            }
        })?;
        let secret = crate::ids::random_hex(16);
        let expires_at: DateTime<Utc> = Utc::now() + valid_for;
        self.inner
            .invites
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                secret.clone(),
                PendingInvite {
                    role,
                    expires_at,
                    used: false,
                },
            );
        Ok(Ticket {
            addr: self.addr(),
            secret,
            role,
            expires_at,
        })
    }

    async fn dial(&self, peer: &DeviceId) -> Result<()> {
        if self
            .inner
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(peer)
        {
            return Ok(());
        }
        let addr = self.inner.known_addr(peer)?;
        let connection = connect_current(
            &self.inner.endpoint,
            addr,
            SYNC_ALPN,
            &OLDER_SYNC_ALPNS,
            |e| Error::NotAllowed(format!("could not connect: {e}")),
        )
        .await?;
        let (send, recv) = connection
            .open_bi()
            .await
            .map_err(|e| Error::NotAllowed(format!("could not open a stream: {e}")))?;
        let addrs = remote_ip_addrs(&self.inner.endpoint, connection.remote_id()).await;
        self.inner.remember_addrs(peer, addrs);
        start_session(&self.inner, peer.clone(), connection, send, recv).await;
        Ok(())
    }

    /// Connects to every known device and returns when each reachable one has converged, or
    /// after `timeout`, naming the devices that were unreachable.
    pub async fn sync_now(&self, timeout: Duration) -> Result<SyncReport> {
        let peers = self.space(|s| s.peer_devices())?;
        let deadline = tokio::time::Instant::now() + timeout;
        let mut report = SyncReport::default();
        let mut waiting = Vec::new();
        for peer in &peers {
            // Keep trying until the deadline: a device on the LAN may need a moment to be
            // discovered, and a dropped attempt may succeed on the next try.
            let mut last_error = String::from("timed out connecting");
            let connected = loop {
                match tokio::time::timeout_at(deadline, self.dial(&peer.id)).await {
                    Ok(Ok(())) => break true,
                    Ok(Err(e)) => last_error = e.to_string(),
                    Err(_) => break false,
                }
                if tokio::time::Instant::now() + Duration::from_millis(300) >= deadline {
                    break false;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            };
            if connected {
                waiting.push(peer.id.clone());
            } else {
                report
                    .unreachable
                    .push(Unreachable::new(peer.id.clone(), last_error));
            }
        }
        for peer in waiting {
            let info = {
                let sessions = self
                    .inner
                    .sessions
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                sessions
                    .get(&peer)
                    .map(|s| (s.in_sync.clone(), s.traffic.clone()))
            };
            let Some((mut in_sync, traffic)) = info else {
                report
                    .unreachable
                    .push(Unreachable::new(peer, "the connection closed"));
                continue;
            };
            // In sync as of every change made here before this call (a flag computed before
            // a change that has not reached the session yet does not count).
            let target = *self.inner.changes.borrow();
            let done = tokio::time::timeout_at(
                deadline,
                in_sync.wait_for(|(generation, synced)| *synced && *generation >= target),
            )
            .await;
            report.bytes_sent += traffic.bytes_sent.load(Ordering::Relaxed);
            report.bytes_received += traffic.bytes_received.load(Ordering::Relaxed);
            match done {
                Ok(Ok(_)) => report.converged.push(peer),
                Ok(Err(_)) => report.unreachable.push(Unreachable::new(
                    peer,
                    "the connection closed before converging",
                )),
                Err(_) => report
                    .unreachable
                    .push(Unreachable::new(peer, "did not converge in time")),
            }
        }
        Ok(report)
    }

    /// Keeps trying to connect to every known device that has no session, with backoff
    /// (1 s doubling to 60 s), until the node shuts down.
    pub fn keep_connected(&self) {
        let node_inner = self.inner.clone();
        let endpoint = self.inner.endpoint.clone();
        let handle = tokio::spawn(async move {
            let mut backoff: HashMap<DeviceId, (tokio::time::Instant, Duration)> = HashMap::new();
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                if endpoint.is_closed() {
                    return;
                }
                let peers = node_inner
                    .with_space(|s| s.peer_devices())
                    .unwrap_or_default();
                for peer in peers {
                    let connected = node_inner
                        .sessions
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .contains_key(&peer.id);
                    if connected {
                        backoff.remove(&peer.id);
                        continue;
                    }
                    let now = tokio::time::Instant::now();
                    let (next, delay) = backoff
                        .get(&peer.id)
                        .copied()
                        .unwrap_or((now, Duration::from_secs(1)));
                    if now < next {
                        continue;
                    }
                    let attempt = async {
                        let addr = node_inner.known_addr(&peer.id)?;
                        let connection = connect_current(
                            &endpoint,
                            addr,
                            SYNC_ALPN,
                            &OLDER_SYNC_ALPNS,
                            Error::NotAllowed,
                        )
                        .await?;
                        let (send, recv) = connection
                            .open_bi()
                            .await
                            .map_err(|e| Error::NotAllowed(e.to_string()))?;
                        start_session(&node_inner, peer.id.clone(), connection, send, recv).await;
                        Ok::<(), Error>(())
                    };
                    match tokio::time::timeout(Duration::from_secs(10), attempt).await {
                        Ok(Ok(())) => {
                            backoff.remove(&peer.id);
                        }
                        _ => {
                            let delay = (delay * 2).min(Duration::from_secs(60));
                            backoff.insert(peer.id.clone(), (now + delay, delay));
                        }
                    }
                }
            }
        });
        if let Some(old) = self
            .retry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(handle)
        {
            old.abort();
        }
    }

    /// For each other device: whether it holds all of this device's changes (as of the last
    /// exchange). No presence or "last seen" is kept.
    pub fn sync_status(&self) -> Result<Vec<PeerStatus>> {
        self.space(|s| {
            let peers = s.peer_devices()?;
            Ok(peers
                .into_iter()
                .map(|d| {
                    let state = s.load_sync_state(&d.id);
                    PeerStatus {
                        has_all_my_changes: s.peer_has_all_my_changes(&state),
                        device: d.id,
                        partner: d.partner,
                        name: d.name,
                    }
                })
                .collect())
        })
    }

    /// Removes one of this partner's own devices: it is never authorised again, and its open
    /// session ends now (a lost phone gets nothing more).
    pub fn unpair(&self, device: &DeviceId) -> Result<()> {
        self.space(|s| s.remove_device(device, Utc::now()))?;
        if let Some(session) = self
            .inner
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(device)
        {
            session.task.abort();
        }
        Ok(())
    }

    /// Answers a [`NodeEvent::ConfirmPairing`]: `confirm` enrols the device, reseals this
    /// partner's keyring to it and sends it the space; otherwise it is refused (the ticket stays usable until it
    /// expires). Fails if no device of that id is waiting.
    pub fn confirm_pairing(&self, device: &DeviceId, confirm: bool) -> Result<()> {
        let waiting = self
            .inner
            .confirmations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(device)
            .ok_or_else(|| Error::not_found("device waiting for confirmation", device.as_str()))?;
        waiting
            .send(confirm)
            .map_err(|_| Error::NotAllowed("the device stopped waiting".into()))
    }

    /// The devices waiting for [`Node::confirm_pairing`].
    pub fn waiting_confirmations(&self) -> Vec<DeviceId> {
        self.inner
            .confirmations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// How long a device of this partner waits for confirmation before it is refused
    /// (default [`DEFAULT_CONFIRMATION_TIMEOUT`]).
    pub fn set_confirmation_timeout(&self, timeout: Duration) {
        *self
            .inner
            .confirmation_timeout
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = timeout;
    }

    /// The code this device will show when it joins with `ticket` (a my-device ticket) from
    /// the empty directory `dir`: its key is made there now if it has none.
    pub fn join_confirmation_code(dir: &Path, ticket: &str) -> Result<String> {
        let ticket = Ticket::parse(ticket)?;
        let identity = crate::identity::DeviceIdentity::load_or_create(dir)?;
        Ok(ticket.confirmation_code(&identity.device_id()))
    }

    /// Ends the pairing with the other partner (see [`Space::end_pairing`]). A session open
    /// with one of their devices sends it the ending, then closes; no new one is accepted.
    pub fn end_pairing(&self) -> Result<crate::Ending> {
        self.space(|s| s.end_pairing(Utc::now()))
    }

    /// Writes the space's view cache now if it is out of date (apps call it when going to the
    /// background: a phone may kill the app without a shutdown).
    pub fn flush(&self) {
        self.inner.with_space(|s| s.flush())
    }

    /// Tells the network layer the OS saw a network change (mobile apps call this).
    pub async fn network_changed(&self) {
        self.inner.endpoint.network_change().await;
    }

    /// Stops the node: ends sessions, closes the endpoint. The space is saved and closed.
    pub async fn shutdown(self) {
        // Stop the tasks and wait for them, so the space is closed (and its directory lock
        // released) when this returns; a running compaction finishes first.
        let _ = self.stop_maintenance.send(true);
        let retry = self.retry.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(retry) = retry {
            retry.abort();
            let _ = retry.await;
        }
        let sessions: Vec<SessionInfo> = self
            .inner
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .map(|(_, s)| s)
            .collect();
        for s in sessions {
            s.task.abort();
            let _ = s.task.await;
        }
        let _ = self.maintenance.await;
        let _ = self.router.shutdown().await;
        self.inner.endpoint.close().await;
        // Closing is a quiet moment: compact a due log (or save the caches) off the async
        // threads.
        let inner = self.inner.clone();
        let _ = tokio::task::spawn_blocking(move || inner.with_space(|s| s.close())).await;
    }
}

#[cfg(test)]
mod maintenance_tests {
    use super::*;
    use crate::{CreateSpace, NewAgreement};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_idle_node_compacts_a_due_log() {
        let dir = tempfile::TempDir::new().unwrap();
        let input = CreateSpace {
            partner_name: "Alex".into(),
            time_zone: "UTC".into(),
            device_name: String::new(),
        };
        let node = Node::create(dir.path(), input, NetworkConfig::loopback())
            .await
            .unwrap();
        node.space(|s| s.set_compaction_limits(3, u64::MAX));
        for i in 0..4 {
            node.space(|s| s.create_agreement(NewAgreement::titled(format!("A{i}")), Utc::now()))
                .unwrap();
        }
        assert_eq!(node.space(|s| s.frames_since_snapshot()), 4);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while node.space(|s| s.frames_since_snapshot()) != 0 {
            assert!(tokio::time::Instant::now() < deadline, "not compacted");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            node.space(|s| s.list(&crate::ListFilter::default()).unwrap().len()),
            4
        );
        // Shutting down closes the space: its directory opens again at once.
        node.shutdown().await;
        let mut space = Space::open(dir.path()).unwrap();
        assert_eq!(space.list(&crate::ListFilter::default()).unwrap().len(), 4);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_quiet_moment_after_a_sync_saves_the_cache_a_killed_process_opens_from() {
        let root = tempfile::TempDir::new().unwrap();
        let (alex_dir, sam_dir) = (root.path().join("alex"), root.path().join("sam"));
        let input = CreateSpace {
            partner_name: "Alex".into(),
            time_zone: "UTC".into(),
            device_name: String::new(),
        };
        let node = Node::create(&alex_dir, input, NetworkConfig::loopback())
            .await
            .unwrap();
        let sam_id = crate::DeviceIdentity::load_or_create(&sam_dir)
            .unwrap()
            .device_id();
        let export = node
            .space(|s| {
                s.add_partner("Sam", "UTC", &sam_id, "", Utc::now())?;
                s.export_document()
            })
            .unwrap();
        let mut sam = Space::join(&sam_dir, &export).unwrap();
        let id = sam
            .create_agreement(NewAgreement::titled("From Sam's phone"), Utc::now())
            .unwrap();
        let heads = node.space(|s| s.heads()).unwrap();
        let changes = sam.changes_since(&heads).unwrap();
        assert!(node.space(|s| s.apply_changes(&changes)).unwrap());
        // The node writes the cache once the space has been quiet for a while.
        let view = alex_dir.join("view.json");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !std::fs::read_to_string(&view)
            .unwrap_or_default()
            .contains(id.as_str())
        {
            assert!(tokio::time::Instant::now() < deadline, "cache not written");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // What a SIGKILL now leaves: the files as they are (the node is not shut down).
        let killed = root.path().join("killed");
        std::fs::create_dir_all(&killed).unwrap();
        for entry in std::fs::read_dir(&alex_dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), killed.join(entry.file_name())).unwrap();
            }
        }
        let mut space = Space::open_with(&killed, crate::LoadMode::OnDemand).unwrap();
        let list = space.list(&crate::ListFilter::default()).unwrap();
        assert!(
            list.iter().any(|a| a.id == id),
            "the synced agreement is listed"
        );
        assert!(!space.document_loaded(), "served from the cache");
        node.shutdown().await;
    }
}

#[cfg(test)]
mod presence_tests {
    use super::*;

    #[test]
    fn only_local_network_addresses_of_a_peer_are_kept() {
        let local = [
            "127.0.0.1:1",
            "10.1.2.3:1",
            "192.168.1.20:1",
            "172.16.0.9:1",
            "169.254.3.4:1",
            "[::1]:1",
            "[fd12::1]:1",
            "[fe80::1]:1",
        ];
        let public = [
            "8.8.8.8:1",
            "100.64.0.1:1",
            "[2001:db8::1]:1",
            "[2a00::1]:1",
        ];
        for a in local {
            assert!(
                is_local_network(a.parse::<SocketAddr>().unwrap().ip()),
                "{a}"
            );
        }
        for a in public {
            assert!(
                !is_local_network(a.parse::<SocketAddr>().unwrap().ip()),
                "{a}"
            );
        }
        // A file from an earlier version loses the public ones when read.
        let mut memory = NetworkMemory::default();
        memory.peers.insert(
            "a".into(),
            vec![
                "8.8.8.8:5".parse().unwrap(),
                "192.168.1.2:5".parse().unwrap(),
            ],
        );
        memory
            .peers
            .insert("b".into(), vec!["[2a00::1]:5".parse().unwrap()]);
        memory.keep_local_only();
        assert_eq!(memory.peers.len(), 1);
        assert_eq!(
            memory.peers["a"],
            vec!["192.168.1.2:5".parse::<SocketAddr>().unwrap()]
        );
    }
}
