//! # accord-ffi
//!
//! uniffi bindings (Kotlin, Swift) over `accord-core`. The values are the core's own types
//! (derived with the core's `uniffi` feature, custom types for ids, dates and times, errors as
//! `AccordError`); this crate holds only what cannot be derived: the objects the apps hold, the
//! runtime they run on, and the listener. The contract for the apps is in `bindings/README.md`.
//!
//! - [`AccordNode`]: one device's node (its copy of the space plus networking).
//! - [`AccordLocalSpace`]: the same copy without networking, for background jobs.
//! - [`AccordSpace`]: every domain call, written once; both of them hand it out.
//!
//! The bindings own one multi-threaded tokio runtime with two workers (sync sessions are
//! network-bound and short; the app's own calls run on the app's threads), so a phone with
//! eight cores does not keep eight mostly idle workers and their memory. Async exports spawn
//! their work onto it and await the task, so cancelling the foreign coroutine never leaves a
//! write half done.

#![warn(missing_docs)]

use accord_core as ac;
use accord_core::reminders::recurrence::RecurrenceRule;
use accord_core::reminders::schedule::{CommitmentRule, Reminder, Targets};
use accord_core::{
    Agenda, AgreementDetails, AgreementEdit, AgreementId, AgreementSummary, CalendarDate, CheckIn,
    Concern, ConcernId, DeviceId, Error, Field, HistoryEntry, InviteRole, ListFilter, LogEntry,
    LogKind, NewAgreement, NewConcern, NodeEvent, PeerStatus, Position, RecordId, SpaceInfo,
    SyncReport, Timestamp,
};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

uniffi::setup_scaffolding!();
// The core's chrono custom types, used here as arguments.
uniffi::use_remote_type!(accord_core::Timestamp);
uniffi::use_remote_type!(accord_core::CalendarDate);

/// Every call's result: the core's own error crosses as `AccordException` / `AccordError`.
type Res<T> = Result<T, Error>;

/// Worker threads of the bindings' runtime.
const RUNTIME_WORKERS: usize = 2;

/// The one runtime the bindings run all node work on.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(RUNTIME_WORKERS)
            .enable_all()
            .thread_name("accord-ffi")
            .build()
            .expect("the accord-ffi tokio runtime could not start")
    })
}

/// Runs `fut` on the bindings' runtime to completion, even if the caller stops awaiting.
/// A panic in the task is re-raised here (so it surfaces as an exception).
async fn on_runtime<T: Send + 'static>(
    fut: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    match runtime().spawn(fut).await {
        Ok(v) => v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("accord-ffi task ended unexpectedly: {e}"),
    }
}

fn now() -> Timestamp {
    chrono::Utc::now()
}

/// How a node reaches the couple's other devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum NetworkMode {
    /// n0 relays and internet address lookup plus local-network discovery.
    Production,
    /// No relays or internet lookup: LAN (with discovery) and loopback.
    Local,
    /// Loopback only (tests, demos on one machine).
    Loopback,
    /// Only through the n0 relays: no direct path, so no other device (the partner's included)
    /// learns this device's IP address. Slower; needs the relay even on the same Wi-Fi.
    RelayOnly,
}

impl From<NetworkMode> for ac::NetworkConfig {
    fn from(m: NetworkMode) -> Self {
        match m {
            NetworkMode::Production => ac::NetworkConfig::production(),
            NetworkMode::Local => ac::NetworkConfig::local(),
            NetworkMode::Loopback => ac::NetworkConfig::loopback(),
            NetworkMode::RelayOnly => ac::NetworkConfig::relay_only(),
        }
    }
}

/// The running node, until `shutdown` takes it.
type NodeSlot = RwLock<Option<Arc<ac::Node>>>;
/// The space opened without a node, until `shutdown` takes it.
type LocalSlot = Mutex<Option<ac::Space>>;

/// Where an [`AccordSpace`] reaches the space: through the node, or opened on demand.
enum SpaceAccess {
    Node(Arc<NodeSlot>),
    Local(Arc<LocalSlot>),
}

fn node_of(slot: &NodeSlot) -> Res<Arc<ac::Node>> {
    slot.read()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .ok_or_else(|| Error::NotAllowed("this node was shut down: open it again".into()))
}

/// The couple's space: every domain call, the same whether the app holds an [`AccordNode`]
/// or an [`AccordLocalSpace`] (each hands this out with `space()`).
///
/// Calls are synchronous and may block: the first call after opening waits for the space to
/// load (the list, the agenda and reminders come from the view cache without waiting), and
/// writes return once durable on disk. Call them off the main thread. After the node or local
/// space is shut down, every call fails with `NotAllowed`.
#[derive(uniffi::Object)]
pub struct AccordSpace {
    access: SpaceAccess,
}

impl AccordSpace {
    /// Runs `f` on the space (no foreign callback runs while it holds the space's lock).
    fn with<R>(&self, f: impl FnOnce(&mut ac::Space) -> Res<R>) -> Res<R> {
        match &self.access {
            SpaceAccess::Node(slot) => {
                let node = node_of(slot)?;
                let _rt = runtime().enter();
                node.space(f)
            }
            SpaceAccess::Local(slot) => {
                let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
                let space = guard.as_mut().ok_or_else(|| {
                    Error::NotAllowed("this space was closed: open it again".into())
                })?;
                f(space)
            }
        }
    }
}

#[uniffi::export]
impl AccordSpace {
    /// The space, its partners and devices.
    pub fn info(&self) -> Res<SpaceInfo> {
        self.with(|s| s.info())
    }

    /// Agreements matching `filter` (an empty filter lists all). From the view cache when
    /// the space has not loaded yet.
    pub fn list(&self, filter: ListFilter) -> Res<Vec<AgreementSummary>> {
        self.with(|s| s.list(&filter))
    }

    /// One agreement with its conflicts, acceptances and what changed since each acceptance.
    pub fn agreement(&self, id: AgreementId) -> Res<AgreementDetails> {
        self.with(|s| s.agreement(&id))
    }

    /// An agreement's history, oldest first.
    pub fn history(&self, id: AgreementId) -> Res<Vec<HistoryEntry>> {
        self.with(|s| s.history(&id))
    }

    /// Proposes (or, with `draft`, saves as a draft) a new agreement; returns its id.
    pub fn create_agreement(&self, input: NewAgreement) -> Res<AgreementId> {
        self.with(|s| s.create_agreement(input, now()))
    }

    /// Changes fields of an agreement (a change of wording must be accepted again by both).
    /// Without the loaded space it is written as an intent (see `AccordLocalSpace`).
    pub fn edit_agreement(&self, id: AgreementId, edit: AgreementEdit) -> Res<()> {
        self.with(|s| s.edit_agreement(&id, edit, now()))
    }

    /// Accepts the agreement's current exact words as this partner.
    pub fn accept(&self, id: AgreementId) -> Res<()> {
        self.with(|s| s.accept(&id, now()))
    }

    /// Settles a conflicted field on `value` (one of the candidates, or a merged text).
    pub fn resolve_conflict(&self, id: AgreementId, field: Field, value: String) -> Res<()> {
        self.with(|s| s.resolve_conflict(&id, field, &value, now()))
    }

    /// Retires an agreement, with why; it stays in the history.
    pub fn retire(&self, id: AgreementId, reason: String) -> Res<()> {
        self.with(|s| s.retire(&id, &reason, now()))
    }

    /// Asks to renegotiate an agreement, with why.
    pub fn request_renegotiation(&self, id: AgreementId, reason: String) -> Res<()> {
        self.with(|s| s.request_renegotiation(&id, &reason, now()))
    }

    /// Records that the partners reviewed an agreement on `on`; the next review follows its
    /// cadence.
    pub fn mark_reviewed(&self, id: AgreementId, on: CalendarDate) -> Res<()> {
        self.with(|s| s.mark_reviewed(&id, on, now()))
    }

    /// Every agreement (retired ones too) with who accepted which words, as a Markdown
    /// document to save, print or bring to a counselling session; dates in this partner's
    /// time zone.
    pub fn export_markdown(&self) -> Res<String> {
        self.with(|s| Ok(s.export(now())?.to_markdown()))
    }

    /// The same export as [`Self::export_markdown`], as JSON (for another tool).
    pub fn export_json(&self) -> Res<String> {
        let export = self.with(|s| s.export(now()))?;
        serde_json::to_string_pretty(&export)
            .map_err(|e| Error::NotAllowed(format!("the export could not be written: {e}")))
    }

    /// Sets up (or replaces) this partner's recovery secret and returns it as text, to show
    /// once (write it down or print it as a QR code): with it, a partner who lost every
    /// device comes back as themselves (`AccordNode.joinRecovered`). It is kept nowhere.
    pub fn set_up_recovery(&self) -> Res<String> {
        self.with(|s| Ok(s.set_up_recovery(now())?.to_text()))
    }

    /// This partner's copy of the space sealed to their recovery key, to keep as a file: a
    /// new device restores it with the recovery secret alone
    /// (`AccordLocalSpace.restoreBackup`). Needs `setUpRecovery` first.
    pub fn export_backup(&self) -> Res<Vec<u8>> {
        self.with(|s| s.export_backup())
    }

    /// Writes (or rewrites) this partner's sealed position on `topic`; the partner reads it
    /// only once both positions are ready.
    pub fn write_position(&self, topic: String, text: String) -> Res<()> {
        self.with(|s| s.write_position(&topic, &text, now()))
    }

    /// Marks this partner's position on `topic` ready to reveal (final).
    pub fn mark_position_ready(&self, topic: String) -> Res<()> {
        self.with(|s| s.mark_position_ready(&topic, now()))
    }

    /// Positions, optionally on one topic; a text shows only when this device may read it.
    pub fn positions(&self, topic: Option<String>) -> Res<Vec<Position>> {
        self.with(|s| s.positions(topic.as_deref()))
    }

    /// Logs follow-through on an agreement (kept, missed, a note); returns the entry's id.
    pub fn log_follow_through(
        &self,
        id: AgreementId,
        kind: LogKind,
        text: String,
    ) -> Res<RecordId> {
        self.with(|s| s.log_follow_through(&id, kind, &text, now()))
    }

    /// The follow-through log, optionally of one agreement.
    pub fn follow_through(&self, agreement: Option<AgreementId>) -> Res<Vec<LogEntry>> {
        self.with(|s| s.follow_through(agreement.as_ref()))
    }

    /// Raises a concern (what happened, how I felt, what I need); returns its id.
    pub fn raise_concern(&self, input: NewConcern) -> Res<ConcernId> {
        self.with(|s| s.raise_concern(input, now()))
    }

    /// Acknowledges the partner's concern.
    pub fn acknowledge_concern(&self, id: ConcernId) -> Res<()> {
        self.with(|s| s.acknowledge_concern(&id, now()))
    }

    /// Responds to a concern (an apology, a plan; not empty).
    pub fn respond_to_concern(&self, id: ConcernId, text: String) -> Res<()> {
        self.with(|s| s.respond_to_concern(&id, &text, now()))
    }

    /// Says a concern this partner raised is resolved.
    pub fn resolve_concern(&self, id: ConcernId) -> Res<()> {
        self.with(|s| s.resolve_concern(&id, now()))
    }

    /// Turns a concern into a renegotiation of its agreement, with why.
    pub fn renegotiate_from_concern(&self, id: ConcernId, reason: String) -> Res<()> {
        self.with(|s| s.renegotiate_from_concern(&id, &reason, now()))
    }

    /// Every concern with its repair so far.
    pub fn concerns(&self) -> Res<Vec<Concern>> {
        self.with(|s| s.concerns())
    }

    /// Records a check-in held on `held_on`; returns its id.
    pub fn record_checkin(&self, held_on: CalendarDate, notes: String) -> Res<RecordId> {
        self.with(|s| s.record_checkin(held_on, &notes, now()))
    }

    /// Recorded check-ins.
    pub fn checkins(&self) -> Res<Vec<CheckIn>> {
        self.with(|s| s.checkins())
    }

    /// The check-in agenda as of `now`.
    pub fn agenda(&self, now: Timestamp) -> Res<Agenda> {
        self.with(|s| s.agenda(now))
    }

    /// Sets the couple's check-in ritual (e.g. Sundays 19:00 in a time zone); `None` stops it.
    pub fn set_checkin_ritual(&self, rule: Option<RecurrenceRule>) -> Res<()> {
        self.with(|s| s.set_checkin_ritual(rule, now()))
    }

    /// The check-in ritual, if one is set.
    pub fn checkin_ritual(&self) -> Res<Option<RecurrenceRule>> {
        self.with(|s| s.checkin_ritual())
    }

    /// Attaches a recurring commitment to an agreement; `targets` `None` reminds whom the
    /// agreement concerns. Returns the rule's id.
    pub fn add_commitment_rule(
        &self,
        agreement: AgreementId,
        rule: RecurrenceRule,
        targets: Option<Targets>,
    ) -> Res<String> {
        self.with(|s| s.add_commitment_rule(&agreement, rule, targets, now()))
    }

    /// Changes a commitment rule's recurrence.
    pub fn edit_commitment_rule(&self, rule_id: String, rule: RecurrenceRule) -> Res<()> {
        self.with(|s| s.edit_commitment_rule(&rule_id, rule, now()))
    }

    /// Removes a commitment rule (its reminders stop).
    pub fn remove_commitment_rule(&self, rule_id: String) -> Res<()> {
        self.with(|s| s.remove_commitment_rule(&rule_id, now()))
    }

    /// Commitment rules, optionally of one agreement.
    pub fn commitment_rules(&self, agreement: Option<AgreementId>) -> Res<Vec<CommitmentRule>> {
        self.with(|s| s.commitment_rules(agreement.as_ref()))
    }

    /// This partner's next reminders after `now`: at most `limit`, within `horizon_days`.
    /// Schedule them as local notifications keyed by `Reminder.id`.
    pub fn upcoming_reminders(
        &self,
        now: Timestamp,
        limit: u32,
        horizon_days: u32,
    ) -> Res<Vec<Reminder>> {
        let horizon = chrono::Duration::days(horizon_days.into());
        self.with(|s| s.upcoming_reminders(now, None, limit as usize, horizon))
    }

    /// Marks a reminder occurrence done (for both partners).
    pub fn mark_reminder_done(&self, id: String) -> Res<()> {
        self.with(|s| s.mark_reminder_done(&id, now()))
    }

    /// Snoozes a reminder occurrence until `until`.
    pub fn snooze_reminder(&self, id: String, until: Timestamp) -> Res<()> {
        self.with(|s| s.snooze_reminder(&id, until, now()))
    }

    /// Writes the space's caches now (call when the app goes to the background: it may be
    /// killed without a shutdown), so the next cold start shows the list at once.
    pub fn flush(&self) -> Res<()> {
        self.with(|s| {
            s.flush();
            Ok(())
        })
    }
}

/// Receives node events. Implemented in Kotlin/Swift; called on a background thread.
#[uniffi::export(foreign)]
pub trait NodeListener: Send + Sync {
    /// Called once per event, in order. May call back into the node.
    fn on_event(&self, event: NodeEvent);
}

/// A live event subscription; `cancel()` (or dropping it) stops delivery at once.
#[derive(uniffi::Object)]
pub struct Subscription {
    cancelled: Arc<AtomicBool>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

#[uniffi::export]
impl Subscription {
    /// Stops delivery: no `on_event` call starts after this returns.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        if let Some(task) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
    }

    /// Whether `cancel()` was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// One device's Accord node: its copy of the space plus networking to the couple's devices.
#[derive(uniffi::Object)]
pub struct AccordNode {
    node: Arc<NodeSlot>,
}

impl AccordNode {
    fn wrap(node: ac::Node) -> Arc<Self> {
        Arc::new(AccordNode {
            node: Arc::new(RwLock::new(Some(Arc::new(node)))),
        })
    }

    fn node(&self) -> Res<Arc<ac::Node>> {
        node_of(&self.node)
    }
}

#[uniffi::export]
impl AccordNode {
    /// Creates a new space in the empty directory `dir` (the founder) and starts its node.
    #[uniffi::constructor]
    pub async fn create(
        dir: String,
        name: String,
        time_zone: String,
        device_name: String,
        network: NetworkMode,
    ) -> Res<Arc<Self>> {
        on_runtime(async move {
            let input = ac::CreateSpace {
                partner_name: name,
                time_zone,
                device_name,
            };
            let node = ac::Node::create(&PathBuf::from(dir), input, network.into()).await?;
            Ok(AccordNode::wrap(node))
        })
        .await
    }

    /// Opens the space in `dir` and starts its node (fails with `InUse` while another node
    /// or an `AccordLocalSpace` has it open).
    #[uniffi::constructor]
    pub async fn open(dir: String, network: NetworkMode) -> Res<Arc<Self>> {
        on_runtime(async move {
            let node = ac::Node::start(&PathBuf::from(dir), network.into()).await?;
            Ok(AccordNode::wrap(node))
        })
        .await
    }

    /// Joins a space with an invitation `ticket` into the empty directory `dir`.
    #[uniffi::constructor]
    pub async fn join(
        dir: String,
        ticket: String,
        name: String,
        time_zone: String,
        device_name: String,
        network: NetworkMode,
    ) -> Res<Arc<Self>> {
        on_runtime(async move {
            let node = ac::Node::join(
                &PathBuf::from(dir),
                &ticket,
                &name,
                &time_zone,
                &device_name,
                network.into(),
            )
            .await?;
            Ok(AccordNode::wrap(node))
        })
        .await
    }

    /// Comes back as the partner whose `recovery_secret` this is, after losing every device:
    /// joins with a returning-partner `ticket` from the other partner's device into the
    /// empty directory `dir`. The other device checks the proof before sending anything; this
    /// partner's earlier devices become void.
    #[uniffi::constructor]
    pub async fn join_recovered(
        dir: String,
        ticket: String,
        recovery_secret: String,
        device_name: String,
        network: NetworkMode,
    ) -> Res<Arc<Self>> {
        on_runtime(async move {
            let node = ac::Node::join_recovered(
                &PathBuf::from(dir),
                &ticket,
                &recovery_secret,
                &device_name,
                network.into(),
            )
            .await?;
            Ok(AccordNode::wrap(node))
        })
        .await
    }

    /// The space's domain calls, through this node.
    pub fn space(&self) -> Arc<AccordSpace> {
        Arc::new(AccordSpace {
            access: SpaceAccess::Node(self.node.clone()),
        })
    }

    /// This device's id.
    pub fn device_id(&self) -> Res<DeviceId> {
        Ok(self.node()?.device_id())
    }

    /// Creates an invitation ticket (text, also for a QR code) valid for `valid_minutes`.
    pub fn invite(&self, role: InviteRole, valid_minutes: u32) -> Res<String> {
        let node = self.node()?;
        let _rt = runtime().enter();
        let ticket = node.invite(role, chrono::Duration::minutes(valid_minutes.into()))?;
        Ok(ticket.to_text())
    }

    /// Removes one of this partner's own devices (a lost phone): it is never authorised again.
    pub fn unpair(&self, device: DeviceId) -> Res<()> {
        let node = self.node()?;
        let _rt = runtime().enter();
        node.unpair(&device)
    }

    /// Answers `NodeEvent.ConfirmPairing`: `confirm` enrols the device of this partner (it
    /// gets the space, with this partner's keyring sealed to it), otherwise it is refused.
    pub fn confirm_pairing(&self, device: DeviceId, confirm: bool) -> Res<()> {
        let node = self.node()?;
        node.confirm_pairing(&device, confirm)
    }

    /// How long a device of this partner waits for `confirm_pairing` before it is refused
    /// (default 90 seconds).
    pub fn set_confirmation_timeout(&self, seconds: u32) -> Res<()> {
        let node = self.node()?;
        node.set_confirmation_timeout(std::time::Duration::from_secs(seconds.into()));
        Ok(())
    }

    /// Ends the pairing with the other partner: their devices stop syncing with this
    /// partner's, both keep their copies, reminders stop. Cannot be undone.
    pub fn end_pairing(&self) -> Res<accord_core::Ending> {
        let node = self.node()?;
        let _rt = runtime().enter();
        node.end_pairing()
    }

    /// Keeps sessions with the couple's devices open for live push (retrying in the background).
    pub fn keep_connected(&self) -> Res<()> {
        let node = self.node()?;
        let _rt = runtime().enter();
        node.keep_connected();
        Ok(())
    }

    /// Syncs with every known device now; returns when each converged or after `timeout_ms`.
    pub async fn sync_now(&self, timeout_ms: u64) -> Res<SyncReport> {
        let node = self.node()?;
        on_runtime(async move { node.sync_now(Duration::from_millis(timeout_ms)).await }).await
    }

    /// For each other device of the couple: whether it has all of this device's changes
    /// ("has all my changes") or not yet ("waiting"), as of the last exchange. Changes written
    /// while no node ran count as waiting. No time, presence or "last seen" is kept. Read it
    /// again on `SyncStatusChanged` and `DocumentChanged`.
    pub fn sync_status(&self) -> Res<Vec<PeerStatus>> {
        let node = self.node()?;
        let _rt = runtime().enter();
        node.sync_status()
    }

    /// Tells the node the network changed (call from the OS's network callback).
    pub async fn network_changed(&self) -> Res<()> {
        let node = self.node()?;
        on_runtime(async move { node.network_changed().await }).await;
        Ok(())
    }

    /// Delivers node events to `listener` until the subscription is cancelled or dropped.
    pub fn subscribe(&self, listener: Arc<dyn NodeListener>) -> Res<Arc<Subscription>> {
        let mut events = self.node()?.subscribe();
        let cancelled = Arc::new(AtomicBool::new(false));
        let flag = cancelled.clone();
        let task = runtime().spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                let event = match events.recv().await {
                    Ok(e) => e,
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                };
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let listener = listener.clone();
                // The callback may block or call back into the node: run it off the workers.
                let flag2 = flag.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    if !flag2.load(Ordering::SeqCst) {
                        listener.on_event(event);
                    }
                })
                .await;
            }
        });
        Ok(Arc::new(Subscription {
            cancelled,
            task: Mutex::new(Some(task)),
        }))
    }

    /// Stops the node: ends sessions, closes the endpoint, saves and closes the space.
    /// Every later call (also through `space()`) fails with `NotAllowed`.
    pub async fn shutdown(&self) {
        let taken = self.node.write().unwrap_or_else(|p| p.into_inner()).take();
        let Some(mut node) = taken else { return };
        on_runtime(async move {
            // Wait (briefly) for calls still in flight to release their handle.
            for _ in 0..200 {
                match Arc::try_unwrap(node) {
                    Ok(n) => return n.shutdown().await,
                    Err(shared) => node = shared,
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        })
        .await
    }
}

/// Panics on purpose: lets the apps' tests check that a Rust panic surfaces as an exception.
/// Only in debug builds (and release builds with the `test-hooks` feature, for benchmarks that
/// compile the tests): an app's release build has no way to make the library panic.
#[cfg(any(debug_assertions, feature = "test-hooks"))]
#[uniffi::export]
pub fn debug_panic() {
    panic!("accord-ffi debug_panic: a deliberate panic to test error surfacing");
}

/// The platform's store for device keys (the iOS Keychain), implemented by the app: with it
/// registered, a space's device key is kept there instead of in a `device.key` file.
#[uniffi::export(with_foreign)]
pub trait DeviceKeyStore: Send + Sync {
    /// The key stored under `label` (the space folder's name), if any.
    fn load(&self, label: String) -> Option<Vec<u8>>;
    /// Keeps `key` under `label`; false when it could not (the key then stays a file).
    fn store(&self, label: String, key: Vec<u8>) -> bool;
}

/// The app's key store as the core's vault.
struct KeyStoreVault(Arc<dyn DeviceKeyStore>);

impl ac::KeyVault for KeyStoreVault {
    fn load(&self, label: &str) -> Option<Vec<u8>> {
        self.0.load(label.to_owned())
    }
    fn store(&self, label: &str, key: &[u8]) -> bool {
        self.0.store(label.to_owned(), key.to_vec())
    }
}

/// Keeps the device keys of the spaces under the folder `root` in `store` from now on (call it
/// once at launch, before opening a space): a new key goes there, an existing `device.key`
/// moves there and the file is deleted.
#[uniffi::export]
pub fn register_device_key_store(root: String, store: Arc<dyn DeviceKeyStore>) {
    ac::register_key_vault(&PathBuf::from(root), Arc::new(KeyStoreVault(store)));
}

/// The code a new device shows while it joins with a my-device `ticket` from the empty
/// directory `dir` (its key is made there now): show it, and let the user confirm on the
/// inviting device that it shows the same.
#[uniffi::export]
pub fn join_confirmation_code(dir: String, ticket: String) -> Res<String> {
    ac::Node::join_confirmation_code(&PathBuf::from(dir), &ticket)
}

/// This device's copy of the space without networking, for background jobs with tight memory
/// limits (rescheduling notifications, a notification's "done" or "accept" action). It loads
/// the document only when a call needs it: the list, the agenda and reminders come from the
/// view cache, and an edit, an acceptance, a follow-through entry, a check-in, a concern step,
/// a done mark or a snooze is written as an intent without loading the history (replayed into
/// the document the next time it loads). It holds the data directory's lock: use it only
/// while no node has the space open, and shut it down when done.
#[derive(uniffi::Object)]
pub struct AccordLocalSpace {
    space: Arc<LocalSlot>,
}

#[uniffi::export]
impl AccordLocalSpace {
    /// Opens the space in `dir` without starting a node (fails with `InUse` while a node or
    /// another process has it open).
    #[uniffi::constructor]
    pub fn open(dir: String) -> Res<Arc<Self>> {
        let space = ac::Space::open_with(&PathBuf::from(dir), ac::LoadMode::OnDemand)?;
        Ok(Arc::new(AccordLocalSpace {
            space: Arc::new(Mutex::new(Some(space))),
        }))
    }

    /// Restores a `backup` (from `AccordSpace.exportBackup`) into the empty directory `dir`
    /// with the `recovery_secret` it was sealed to: a copy to read and export as that
    /// partner, never written or synced (`info().readOnly` says so and what to do instead).
    #[uniffi::constructor]
    pub fn restore_backup(dir: String, backup: Vec<u8>, recovery_secret: String) -> Res<Arc<Self>> {
        let space = ac::Space::restore_backup(&PathBuf::from(dir), &backup, &recovery_secret)?;
        Ok(Arc::new(AccordLocalSpace {
            space: Arc::new(Mutex::new(Some(space))),
        }))
    }

    /// The space's domain calls, on this copy.
    pub fn space(&self) -> Arc<AccordSpace> {
        Arc::new(AccordSpace {
            access: SpaceAccess::Local(self.space.clone()),
        })
    }

    /// Saves the caches and releases the data directory (a node can open it then). Every
    /// later call (also through `space()`) fails with `NotAllowed`.
    pub fn shutdown(&self) {
        let taken = self.space.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(space) = taken {
            space.shutdown();
        }
    }
}
