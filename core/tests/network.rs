//! Pairing and sync between nodes over real iroh connections on loopback (relays off).
use accord_core::*;
use chrono::Utc;
use std::time::Duration;
use tempfile::TempDir;

const T: Duration = Duration::from_secs(10);

async fn alex_node() -> (TempDir, Node) {
    let dir = TempDir::new().unwrap();
    let node = Node::create(
        dir.path(),
        CreateSpace {
            partner_name: "Alex".into(),
            time_zone: "Europe/Berlin".into(),
            device_name: "phone".into(),
        },
        NetworkConfig::loopback(),
    )
    .await
    .unwrap();
    (dir, node)
}

async fn join(inviter: &Node, role: InviteRole, name: &str) -> (TempDir, Node) {
    let ticket = inviter
        .invite(role, chrono::Duration::minutes(10))
        .unwrap()
        .to_text();
    let dir = TempDir::new().unwrap();
    let joining = Node::join(
        dir.path(),
        &ticket,
        name,
        "America/New_York",
        "phone",
        NetworkConfig::loopback(),
    );
    let node = match role {
        InviteRole::MyDevice => tokio::join!(joining, answer_next(inviter, true)).0,
        InviteRole::Partner | InviteRole::ReturningPartner => joining.await,
    }
    .unwrap();
    (dir, node)
}

/// The user of `inviter` answers the next device asking to join as theirs; returns its code.
/// Panics (instead of hanging the test) if no device asks within a minute.
async fn answer_next(inviter: &Node, confirm: bool) -> String {
    let mut events = inviter.subscribe();
    let answer = async {
        loop {
            match events.recv().await {
                Ok(NodeEvent::ConfirmPairing { device, code, .. }) => {
                    inviter.confirm_pairing(&device, confirm).unwrap();
                    return code;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                    panic!("the inviting node stopped before a device asked to join")
                }
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), answer)
        .await
        .expect("no device asked to join within a minute")
}

fn heads(node: &Node) -> Vec<String> {
    node.space(|s| s.heads().unwrap())
}

fn titles(node: &Node) -> Vec<String> {
    let mut t: Vec<String> = node
        .space(|s| s.list(&ListFilter::default()).unwrap())
        .into_iter()
        .map(|a| a.title)
        .collect();
    t.sort();
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_pair_by_ticket_edit_offline_and_converge() {
    let (_a, alex) = alex_node().await;
    alex.space(|s| {
        s.create_agreement(NewAgreement::titled("Before Sam joined"), Utc::now())
            .unwrap()
    });
    let (_s, sam) = join(&alex, InviteRole::Partner, "Sam").await;
    assert_eq!(
        heads(&alex),
        heads(&sam),
        "fresh join receives the full document"
    );
    // The joining connection's UDP bytes include the QUIC handshake and the whole answer.
    let (wire_sent, wire_received) = sam.join_wire_bytes().unwrap();
    assert!(wire_sent > 0);
    assert!(wire_received > sam.join_bytes_received().unwrap());
    assert_eq!(sam.space(|s| s.info().unwrap().partners.len()), 2);

    // Offline edits on both sides, then they meet.
    let id = alex.space(|s| {
        s.create_agreement(NewAgreement::titled("Alex's proposal"), Utc::now())
            .unwrap()
    });
    sam.space(|s| {
        s.create_agreement(NewAgreement::titled("Sam's proposal"), Utc::now())
            .unwrap()
    });
    let report = sam.sync_now(T).await.unwrap();
    assert_eq!(report.converged, vec![alex.device_id()], "{report:?}");
    assert!(report.unreachable.is_empty());
    assert!(report.bytes_sent > 0 && report.bytes_received > 0);
    // Frames, and apart from them the bytes on the wire, of which the QUIC handshake.
    let traffic = sam.traffic();
    assert!(traffic.frames_sent > 0 && traffic.frames_received > 0);
    assert!(traffic.wire_bytes_sent > traffic.frame_bytes_sent);
    assert!(traffic.wire_bytes_received > traffic.frame_bytes_received);
    assert!(traffic.handshake_bytes_sent > 0 && traffic.handshake_bytes_received > 0);
    assert!(traffic.handshake_bytes_sent < traffic.wire_bytes_sent);
    tokio::time::timeout(T, async {
        while heads(&alex) != heads(&sam) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("converged");
    assert_eq!(titles(&alex), titles(&sam));
    assert_eq!(titles(&alex).len(), 3);
    let status = alex.sync_status().unwrap();
    assert_eq!(status.len(), 1);
    // Sam accepts; it is active on both.
    sam.space(|s| s.accept(&id, Utc::now()).unwrap());
    sam.sync_now(T).await.unwrap();
    tokio::time::timeout(T, async {
        while alex.space(|s| s.agreement(&id).unwrap().summary.status) != Status::Active {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("active on Alex's device");
    sam.shutdown().await;
    alex.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_change_reaches_the_connected_partner() {
    let (_a, alex) = alex_node().await;
    let (_s, sam) = join(&alex, InviteRole::Partner, "Sam").await;
    sam.sync_now(T).await.unwrap();
    let mut events = sam.subscribe();
    alex.space(|s| {
        s.create_agreement(NewAgreement::titled("Pushed live"), Utc::now())
            .unwrap()
    });
    let got = tokio::time::timeout(T, async {
        loop {
            if let Ok(NodeEvent::DocumentChanged { remote: true }) = events.recv().await {
                return;
            }
        }
    })
    .await;
    assert!(got.is_ok(), "no remote change event within 10 s");
    assert!(titles(&sam).contains(&"Pushed live".to_string()));
    sam.shutdown().await;
    alex.shutdown().await;
}

/// `sync_now` right after a local write, while a session is already open and was in sync,
/// returns only once the peer holds that write (a flag from before the write does not count).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_right_after_a_write_waits_for_that_write() {
    let (_a, alex) = alex_node().await;
    let (_s, sam) = join(&alex, InviteRole::Partner, "Sam").await;
    alex.sync_now(T).await.unwrap();
    for i in 0..20 {
        alex.space(|s| {
            s.create_agreement(NewAgreement::titled(format!("Written {i}")), Utc::now())
                .unwrap()
        });
        let report = alex.sync_now(T).await.unwrap();
        assert_eq!(report.converged.len(), 1, "{report:?}");
        assert_eq!(heads(&sam), heads(&alex), "after write {i}");
    }
    sam.shutdown().await;
    alex.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_device_reconnects_with_its_saved_sync_state() {
    let (_a, alex) = alex_node().await;
    let (sam_dir, sam) = join(&alex, InviteRole::Partner, "Sam").await;
    sam.sync_now(T).await.unwrap();
    sam.shutdown().await;
    assert!(sam_dir.path().join("sync").read_dir().unwrap().count() >= 1);
    alex.space(|s| {
        s.create_agreement(NewAgreement::titled("While Sam was away"), Utc::now())
            .unwrap()
    });
    let sam = Node::start(sam_dir.path(), NetworkConfig::loopback())
        .await
        .unwrap();
    let report = sam.sync_now(T).await.unwrap();
    assert_eq!(report.converged.len(), 1, "{report:?}");
    tokio::time::timeout(T, async {
        while heads(&alex) != heads(&sam) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("converged after restart");
    sam.shutdown().await;
    alex.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partners_tablet_joins_and_reads_their_positions() {
    let (_a, alex) = alex_node().await;
    alex.space(|s| {
        s.write_position("evenings", "phones away after 21:00", Utc::now())
            .unwrap()
    });
    let (_t, tablet) = join(&alex, InviteRole::MyDevice, "ignored").await;
    let info = tablet.space(|s| s.info().unwrap());
    assert_eq!(
        info.partners.len(),
        1,
        "the tablet is Alex's, not a new partner"
    );
    let positions = tablet.space(|s| s.positions(Some("evenings")).unwrap());
    assert_eq!(
        positions[0].text.as_deref(),
        Some("phones away after 21:00")
    );
    let (_s, sam) = join(&alex, InviteRole::Partner, "Sam").await;
    sam.sync_now(T).await.unwrap();
    tablet.sync_now(T).await.unwrap();
    assert_eq!(tablet.space(|s| s.info().unwrap().partners.len()), 2);
    for n in [sam, tablet, alex] {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tickets_are_refused_and_change_nothing() {
    let (_a, alex) = alex_node().await;
    let before = heads(&alex);
    // Wrong secret.
    let mut ticket = alex
        .invite(InviteRole::Partner, chrono::Duration::minutes(10))
        .unwrap();
    let good = ticket.clone();
    ticket.secret = "00".repeat(16);
    let dir = TempDir::new().unwrap();
    let err = Node::join(
        dir.path(),
        &ticket.to_text(),
        "Mallory",
        "UTC",
        "",
        NetworkConfig::loopback(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not valid"), "{err}");
    // Expired.
    let expired = alex
        .invite(InviteRole::Partner, chrono::Duration::milliseconds(1))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let dir = TempDir::new().unwrap();
    let err = Node::join(
        dir.path(),
        &expired.to_text(),
        "Sam",
        "UTC",
        "",
        NetworkConfig::loopback(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    // Garbage.
    let dir = TempDir::new().unwrap();
    let err = Node::join(
        dir.path(),
        "accord1nonsense",
        "Sam",
        "UTC",
        "",
        NetworkConfig::loopback(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("not an Accord invitation"),
        "{err}"
    );
    assert_eq!(
        heads(&alex),
        before,
        "nothing changed on the inviting device"
    );
    // The joiner cannot change the role: a my-device ticket edited to say "partner".
    let mut device_ticket = alex
        .invite(InviteRole::MyDevice, chrono::Duration::minutes(10))
        .unwrap();
    device_ticket.role = InviteRole::Partner;
    let dir = TempDir::new().unwrap();
    let device_ticket = device_ticket.to_text();
    let joining = Node::join(
        dir.path(),
        &device_ticket,
        "Eve",
        "UTC",
        "",
        NetworkConfig::loopback(),
    );
    let node = tokio::join!(joining, answer_next(&alex, true)).0.unwrap();
    assert_eq!(
        node.space(|s| s.info().unwrap().partners.len()),
        1,
        "enrolled as Alex's device, not a partner"
    );
    node.shutdown().await;
    // Used once, then refused.
    let dir = TempDir::new().unwrap();
    let sam = Node::join(
        dir.path(),
        &good.to_text(),
        "Sam",
        "UTC",
        "",
        NetworkConfig::loopback(),
    )
    .await
    .unwrap();
    let dir2 = TempDir::new().unwrap();
    let err = Node::join(
        dir2.path(),
        &good.to_text(),
        "Sam again",
        "UTC",
        "",
        NetworkConfig::loopback(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("works once"), "{err}");
    // A device that already holds a space cannot join.
    let again = alex
        .invite(InviteRole::MyDevice, chrono::Duration::minutes(10))
        .unwrap();
    let err = Node::join(
        _a.path(),
        &again.to_text(),
        "x",
        "UTC",
        "",
        NetworkConfig::loopback(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("only while it is empty"), "{err}");
    // A third partner cannot be invited.
    assert!(matches!(
        alex.invite(InviteRole::Partner, chrono::Duration::minutes(10))
            .unwrap_err(),
        Error::ThirdPartner
    ));
    sam.shutdown().await;
    alex.shutdown().await;
}

/// Connects to `target` with a raw endpoint using `key`, sends `payload` on the sync ALPN and
/// returns every byte received before the connection ended.
async fn raw_sync_attempt(target: &Node, key: iroh::SecretKey, payload: Vec<u8>) -> Vec<u8> {
    raw_attempt(target, sync::SYNC_ALPN, Some(key), payload).await
}

/// Connects to `target` on `alpn` (as `key`, or a fresh device), sends `payload` and returns
/// what came back within 3 s of silence.
async fn raw_attempt(
    target: &Node,
    alpn: &[u8],
    key: Option<iroh::SecretKey>,
    payload: Vec<u8>,
) -> Vec<u8> {
    let mut builder = iroh::Endpoint::builder(iroh::endpoint::presets::Minimal);
    if let Some(key) = key {
        builder = builder.secret_key(key);
    }
    let ep = builder
        .relay_mode(iroh::RelayMode::Disabled)
        .bind_addr("127.0.0.1:0")
        .unwrap()
        .bind()
        .await
        .unwrap();
    let mut received = Vec::new();
    if let Ok(conn) = ep.connect(target.addr(), alpn).await {
        if let Ok((mut send, mut recv)) = conn.open_bi().await {
            let _ = send.write_all(&payload).await;
            let mut buf = [0u8; 4096];
            while let Ok(Ok(Some(n))) =
                tokio::time::timeout(Duration::from_secs(3), recv.read(&mut buf)).await
            {
                received.extend_from_slice(&buf[..n]);
            }
        }
    }
    ep.close().await;
    received
}

/// Sends `payload` on the pairing protocol from a fresh device; returns what came back.
async fn raw_pairing_attempt(target: &Node, payload: Vec<u8>) -> String {
    let received = raw_attempt(target, pairing::PAIR_ALPN, None, payload).await;
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairing_is_served_only_while_an_invitation_waits_and_reads_little() {
    let (_a, alex) = alex_node().await;
    let before = heads(&alex);
    // No invitation waiting: nothing is read, the answer says why.
    let mut huge_claim = (64u32 * 1024 * 1024).to_be_bytes().to_vec();
    huge_claim.extend_from_slice(&[7u8; 1024]);
    let answer = raw_pairing_attempt(&alex, huge_claim.clone()).await;
    assert!(answer.contains("no invitation waiting"), "{answer:?}");
    // With one waiting, a request longer than a join request is refused before it is read.
    let ticket = alex
        .invite(InviteRole::Partner, chrono::Duration::minutes(10))
        .unwrap();
    let answer = raw_pairing_attempt(&alex, huge_claim).await;
    assert!(answer.contains("over the limit"), "{answer:?}");
    // A failed enrolment does not use the ticket up: a name too long, then the right one.
    let dir = TempDir::new().unwrap();
    let err = Node::join(
        dir.path(),
        &ticket.to_text(),
        &"S".repeat(500),
        "UTC",
        "",
        NetworkConfig::loopback(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("partner name"), "{err}");
    assert_eq!(
        heads(&alex),
        before,
        "nothing changed on the inviting device"
    );
    let dir = TempDir::new().unwrap();
    let sam = Node::join(
        dir.path(),
        &ticket.to_text(),
        "Sam",
        "UTC",
        "",
        NetworkConfig::loopback(),
    )
    .await
    .unwrap();
    assert_eq!(sam.space(|s| s.info().unwrap().partners.len()), 2);
    // Used now: the next attempt is answered without reading, as before any invitation.
    let answer = raw_pairing_attempt(&alex, vec![0, 0, 0, 2, b'{', b'}']).await;
    assert!(answer.contains("no invitation waiting"), "{answer:?}");
    // Tickets live at most a day.
    let err = alex
        .invite(InviteRole::MyDevice, chrono::Duration::hours(25))
        .unwrap_err();
    assert!(err.to_string().contains("24 hours"), "{err}");
    alex.shutdown().await;
    sam.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_and_removed_devices_receive_no_document_bytes() {
    let (_a, alex) = alex_node().await;
    alex.space(|s| {
        s.create_agreement(NewAgreement::titled("Private"), Utc::now())
            .unwrap()
    });
    // A hello that an enrolled device would answer with document data.
    let hello = sync_hello();
    let stranger = iroh::SecretKey::generate();
    assert!(raw_sync_attempt(&alex, stranger, hello.clone())
        .await
        .is_empty());
    // A device that was removed.
    let (tablet_dir, tablet) = join(&alex, InviteRole::MyDevice, "").await;
    let tablet_id = tablet.device_id();
    tablet.shutdown().await;
    let key = DeviceIdentity::load_or_create(tablet_dir.path())
        .unwrap()
        .secret_key()
        .clone();
    assert!(
        !raw_sync_attempt(&alex, key.clone(), hello.clone())
            .await
            .is_empty(),
        "an enrolled device is answered"
    );
    alex.unpair(&tablet_id).unwrap();
    assert!(raw_sync_attempt(&alex, key, hello).await.is_empty());
    alex.shutdown().await;
}

/// A valid first sync frame (an Automerge sync message from an empty document).
fn sync_hello() -> Vec<u8> {
    let dir = TempDir::new().unwrap();
    let mut space = Space::create(
        dir.path(),
        CreateSpace {
            partner_name: "X".into(),
            time_zone: "UTC".into(),
            device_name: String::new(),
        },
        Utc::now(),
    )
    .unwrap();
    let peer = DeviceId("00".repeat(32));
    let mut state = space.load_sync_state(&peer);
    let message = space.generate_sync_message(&mut state).unwrap().unwrap();
    let mut frame = ((message.len() + 1) as u32).to_be_bytes().to_vec();
    frame.push(2);
    frame.extend_from_slice(&message);
    frame
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_oversize_frames_close_the_connection_and_leave_the_document_intact() {
    let (_a, alex) = alex_node().await;
    let (sam_dir, sam) = join(&alex, InviteRole::Partner, "Sam").await;
    sam.shutdown().await;
    alex.space(|s| {
        s.create_agreement(NewAgreement::titled("Intact"), Utc::now())
            .unwrap()
    });
    let before = heads(&alex);
    let key = DeviceIdentity::load_or_create(sam_dir.path())
        .unwrap()
        .secret_key()
        .clone();
    let mut oversize = u32::MAX.to_be_bytes().to_vec();
    oversize.extend_from_slice(&[2; 64]);
    let mut garbage = 9u32.to_be_bytes().to_vec();
    garbage.extend_from_slice(&[2, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]);
    for payload in [oversize, garbage, vec![0, 0, 0, 3, 7, 7, 7]] {
        raw_sync_attempt(&alex, key.clone(), payload).await;
        assert_eq!(heads(&alex), before);
    }
    // Alex still works and still syncs with the real Sam.
    let sam = Node::start(sam_dir.path(), NetworkConfig::loopback())
        .await
        .unwrap();
    let report = sam.sync_now(T).await.unwrap();
    assert_eq!(report.converged.len(), 1, "{report:?}");
    sam.shutdown().await;
    alex.shutdown().await;
}

/// A device of an earlier version: a bare endpoint speaking only `alpn`.
async fn older_device(alpn: &[u8]) -> iroh::Endpoint {
    iroh::Endpoint::builder(iroh::endpoint::presets::Minimal)
        .relay_mode(iroh::RelayMode::Disabled)
        .alpns(vec![alpn.to_vec()])
        .bind_addr("127.0.0.1:0")
        .unwrap()
        .bind()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_on_another_version_is_told_to_update_before_any_change_is_exchanged() {
    let (_alex_dir, alex) = alex_node().await;
    let _ticket = alex
        .invite(InviteRole::Partner, chrono::Duration::minutes(10))
        .unwrap();
    // An older device connecting (to sync or to pair) is closed at once: "update needed",
    // without a byte of the space.
    for alpn in protocol_version::OLDER_SYNC_ALPNS
        .into_iter()
        .chain(protocol_version::OLDER_PAIR_ALPNS)
    {
        let older = older_device(alpn).await;
        let conn = tokio::time::timeout(T, older.connect(alex.addr(), alpn))
            .await
            .unwrap()
            .unwrap();
        let mut received = Vec::new();
        if let Ok((mut send, mut recv)) = conn.open_bi().await {
            let _ = send.write_all(&[0, 0, 0, 1, 2]).await;
            let mut buf = [0u8; 1024];
            while let Ok(Ok(Some(n))) =
                tokio::time::timeout(Duration::from_secs(3), recv.read(&mut buf)).await
            {
                received.extend_from_slice(&buf[..n]);
            }
        }
        assert!(received.is_empty(), "nothing is sent to an older device");
        let reason = tokio::time::timeout(T, conn.closed()).await.unwrap();
        let text = reason.to_string();
        assert!(
            text.contains("update needed") && text.contains("426"),
            "{}: {text}",
            String::from_utf8_lossy(alpn)
        );
        older.close().await;
    }
    // Joining through an older device's ticket: this app says the other one needs updating.
    let older = older_device(protocol_version::OLDER_PAIR_ALPNS[0]).await;
    let listening = older.clone();
    let accepting = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Some(incoming) = listening.accept().await {
            if let Ok(conn) = incoming.await {
                held.push(conn);
            }
        }
    });
    let ticket = pairing::Ticket {
        addr: older.addr(),
        secret: "00".repeat(16),
        role: InviteRole::Partner,
        expires_at: Utc::now() + chrono::Duration::minutes(5),
    };
    let dir = TempDir::new().unwrap();
    let err = Node::join(
        dir.path(),
        &ticket.to_text(),
        "Sam",
        "UTC",
        "phone",
        NetworkConfig::loopback(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::UpdateNeeded(ref m) if m.contains("older version")),
        "{err}"
    );
    // The device that tried to join holds no space and can still join a current inviter.
    let (_sam_dir, sam) = join(&alex, InviteRole::Partner, "Sam").await;
    assert_eq!(sam.space(|s| s.info().unwrap().partners.len()), 2);
    older.close().await;
    accepting.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_after_the_most_frames_a_peer_may_send() {
    let (_a, alex) = alex_node().await;
    let (sam_dir, sam) = join(&alex, InviteRole::Partner, "Sam").await;
    sam.shutdown().await;
    let key = DeviceIdentity::load_or_create(sam_dir.path())
        .unwrap()
        .secret_key()
        .clone();
    let mut events = alex.subscribe();
    // Sam's modified client sends one frame more than a session takes: each an empty list
    // of changes (`len 5, kind 1, count 0`).
    let frame = [0, 0, 0, 5, 1, 0, 0, 0, 0];
    let count = sync::MAX_FRAMES_PER_SESSION as usize + 1;
    let payload: Vec<u8> = frame
        .iter()
        .copied()
        .cycle()
        .take(frame.len() * count)
        .collect();
    let before = heads(&alex);
    // The client stays connected until the node ends the session (however long reading
    // takes on a busy machine).
    let ep = iroh::Endpoint::builder(iroh::endpoint::presets::Minimal)
        .secret_key(key)
        .relay_mode(iroh::RelayMode::Disabled)
        .bind_addr("127.0.0.1:0")
        .unwrap()
        .bind()
        .await
        .unwrap();
    let conn = ep.connect(alex.addr(), sync::SYNC_ALPN).await.unwrap();
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    let reading = tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        while let Ok(Some(_)) = recv.read(&mut buf).await {}
    });
    let _ = send.write_all(&payload).await;
    let ended = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            if let Ok(NodeEvent::SyncError { message, .. }) = events.recv().await {
                return message;
            }
        }
    })
    .await
    .expect("the session ended with an error");
    assert!(ended.contains("frames in one session"), "{ended}");
    assert_eq!(heads(&alex), before);
    reading.abort();
    ep.close().await;
    alex.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ending_the_pairing_tells_the_connected_partner_then_stops_syncing() {
    let (_a, alex) = alex_node().await;
    let (_s, sam) = join(&alex, InviteRole::Partner, "Sam").await;
    alex.space(|s| {
        s.create_agreement(NewAgreement::titled("Before the end"), Utc::now())
            .unwrap()
    });
    // A session must be open when Alex ends the pairing (that is what this tests): follow
    // Sam's sessions from before the first sync, and end only while one is open.
    let mut sam_events = sam.subscribe();
    assert_eq!(sam.sync_now(T).await.unwrap().converged.len(), 1);
    sam.keep_connected();
    alex.keep_connected();
    let mut open = 0i32;
    let deadline = tokio::time::Instant::now() + T;
    loop {
        while let Ok(event) = sam_events.try_recv() {
            match event {
                NodeEvent::DeviceConnected { .. } => open += 1,
                NodeEvent::DeviceDisconnected { .. } => open -= 1,
                _ => {}
            }
        }
        if open > 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Sam's device never connected to Alex's"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ending = alex.end_pairing().unwrap();
    // Sam's device learns of the ending on the open session ...
    let deadline = tokio::time::Instant::now() + T;
    while sam.space(|s| s.info().unwrap().ending.is_none()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Sam never learned of the ending"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sam.space(|s| s.info().unwrap().ending), Some(ending));
    // ... keeps its copy, and neither writes nor syncs with Alex any more.
    assert_eq!(titles(&sam), vec!["Before the end".to_owned()]);
    assert!(sam
        .space(|s| s.create_agreement(NewAgreement::titled("After"), Utc::now()))
        .is_err());
    let sam_device = sam.device_id();
    assert!(!alex.space(|s| s.is_authorized_peer(&sam_device)));
    let before = heads(&alex);
    let _ = sam.sync_now(Duration::from_secs(3)).await;
    assert_eq!(heads(&alex), before);
    sam.shutdown().await;
    alex.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_only_node_has_no_direct_path_to_offer_or_take() {
    // A relay that is not there (nothing listens): with no IP transport, nothing connects.
    let config = NetworkConfig {
        relay: RelayChoice::Custom("http://127.0.0.1:9".into()),
        internet_lookup: false,
        ..NetworkConfig::relay_only()
    };
    let dir = TempDir::new().unwrap();
    let hidden = Node::create(
        dir.path(),
        CreateSpace {
            partner_name: "Alex".into(),
            time_zone: "UTC".into(),
            device_name: "phone".into(),
        },
        config,
    )
    .await
    .unwrap();
    assert_eq!(
        hidden.addr().ip_addrs().count(),
        0,
        "a relay-only device offers no IP address"
    );
    // A device that knows only its id and relay cannot reach it directly: pairing fails
    // instead of falling back to a direct path.
    let ticket = hidden
        .invite(InviteRole::Partner, chrono::Duration::minutes(5))
        .unwrap()
        .to_text();
    let sam_dir = TempDir::new().unwrap();
    let joined = tokio::time::timeout(
        Duration::from_secs(60),
        Node::join(
            sam_dir.path(),
            &ticket,
            "Sam",
            "UTC",
            "phone",
            NetworkConfig::loopback(),
        ),
    )
    .await;
    assert!(!matches!(joined, Ok(Ok(_))), "no direct path was taken");
    // Relay-only without a relay is refused plainly.
    let Err(err) = Node::create(
        TempDir::new().unwrap().path(),
        CreateSpace {
            partner_name: "Alex".into(),
            time_zone: "UTC".into(),
            device_name: "phone".into(),
        },
        NetworkConfig {
            relay: RelayChoice::Disabled,
            ..NetworkConfig::relay_only()
        },
    )
    .await
    else {
        panic!("relay-only without a relay was accepted");
    };
    assert!(
        err.to_string().contains("relay-only needs a relay"),
        "{err}"
    );
    hidden.shutdown().await;
}

/// A tablet joining from `dir` with `ticket`.
async fn join_with(dir: &TempDir, ticket: &str) -> Result<Node> {
    Node::join(
        dir.path(),
        ticket,
        "",
        "UTC",
        "tablet",
        NetworkConfig::loopback(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_of_ones_own_joins_only_once_confirmed_with_the_same_code() {
    let (_a, alex) = alex_node().await;
    alex.space(|s| {
        s.write_position("evenings", "phones away after 21:00", Utc::now())
            .unwrap()
    });
    let ticket = alex
        .invite(InviteRole::MyDevice, chrono::Duration::minutes(10))
        .unwrap()
        .to_text();
    // Declined: refused, nothing enrolled, nothing sent; the ticket stays usable.
    let dir = TempDir::new().unwrap();
    let shown = Node::join_confirmation_code(dir.path(), &ticket).unwrap();
    assert_eq!(shown.len(), 7, "{shown}");
    let (joined, asked) = tokio::join!(join_with(&dir, &ticket), answer_next(&alex, false));
    assert_eq!(asked, shown, "both devices show the same code");
    let Err(err) = joined else {
        panic!("joined although declined")
    };
    assert!(err.to_string().contains("did not confirm"), "{err}");
    assert_eq!(alex.space(|s| s.info().unwrap().devices.len()), 1);
    // Not answered in time: refused the same way.
    alex.set_confirmation_timeout(Duration::from_millis(300));
    let dir = TempDir::new().unwrap();
    let Err(err) = join_with(&dir, &ticket).await else {
        panic!("joined without a confirmation")
    };
    assert!(err.to_string().contains("did not confirm"), "{err}");
    assert!(alex.waiting_confirmations().is_empty());
    // Confirmed: the tablet joins with the partner secret (it reads Alex's sealed position).
    alex.set_confirmation_timeout(Duration::from_secs(30));
    let dir = TempDir::new().unwrap();
    let (joined, _) = tokio::join!(join_with(&dir, &ticket), answer_next(&alex, true));
    let tablet = joined.unwrap();
    let positions = tablet.space(|s| s.positions(Some("evenings")).unwrap());
    assert_eq!(
        positions[0].text.as_deref(),
        Some("phones away after 21:00")
    );
    // A partner's ticket asks no confirmation; answering nobody is an error.
    assert!(alex
        .confirm_pairing(&DeviceId("ab".repeat(32)), true)
        .is_err());
    tablet.shutdown().await;
    alex.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_who_lost_every_device_comes_back_by_invitation_with_their_recovery_secret() {
    let (_a, alex) = alex_node().await;
    let (_s, sam) = join(&alex, InviteRole::Partner, "Sam").await;
    let secret = alex.space(|s| s.set_up_recovery(Utc::now()).unwrap().to_text());
    let alex_partner = alex.space(|s| s.info().unwrap().me);
    let lost_phone = alex.space(|s| s.info().unwrap().my_device);
    alex.space(|s| {
        s.write_position("evenings", "phones away after 21:00", Utc::now())
            .unwrap();
        s.mark_position_ready("evenings", Utc::now()).unwrap();
    });
    sam.sync_now(T).await.unwrap();
    alex.shutdown().await; // the phone is gone

    // A ticket of another kind, a wrong or mistyped secret: refused, nothing sent.
    let invite = |role| {
        sam.invite(role, chrono::Duration::minutes(10))
            .unwrap()
            .to_text()
    };
    let dir = TempDir::new().unwrap();
    let cfg = NetworkConfig::loopback;
    let err = Node::join_recovered(
        dir.path(),
        &invite(InviteRole::MyDevice),
        &secret,
        "",
        cfg(),
    )
    .await
    .err()
    .unwrap();
    assert!(err.to_string().contains("returning-partner"), "{err}");
    let ticket = invite(InviteRole::ReturningPartner);
    let mut typo = secret.clone();
    typo.replace_range(0..1, if secret.starts_with('A') { "B" } else { "A" });
    let err = Node::join_recovered(dir.path(), &ticket, &typo, "", cfg())
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("typo"), "{err}");
    let wrong = RecoverySecret::generate().unwrap().to_text();
    let err = Node::join_recovered(dir.path(), &ticket, &wrong, "", cfg())
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("not a partner's current one"),
        "{err}"
    );
    let err = Node::join(dir.path(), &ticket, "Mallory", "UTC", "", cfg())
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("recovery secret"), "{err}");

    // The right secret: back as Alex, the lost phone void, the position still revealable.
    let dir = TempDir::new().unwrap();
    let back = Node::join_recovered(dir.path(), &ticket, &secret, "new phone", cfg())
        .await
        .unwrap();
    let info = back.space(|s| s.info().unwrap());
    assert_eq!(info.me, alex_partner);
    assert!(info.devices.iter().any(|d| d.id == lost_phone && d.removed));
    assert_eq!(
        back.space(|s| s.positions(Some("evenings")).unwrap())[0]
            .text
            .as_deref(),
        Some("phones away after 21:00")
    );
    sam.space(|s| {
        s.write_position("evenings", "after 22:00", Utc::now())
            .unwrap();
        s.mark_position_ready("evenings", Utc::now()).unwrap();
    });
    sam.sync_now(T).await.unwrap();
    sam.sync_now(T).await.unwrap();
    let revealed = sam.space(|s| s.positions(Some("evenings")).unwrap());
    assert!(
        revealed
            .iter()
            .all(|p| p.state == PositionState::Revealed && p.text.is_some()),
        "{revealed:?}"
    );
    // The ticket worked once.
    let again = TempDir::new().unwrap();
    assert!(
        Node::join_recovered(again.path(), &ticket, &secret, "", cfg())
            .await
            .is_err()
    );
    back.shutdown().await;
    sam.shutdown().await;
}
