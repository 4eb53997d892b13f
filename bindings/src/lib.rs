//! # accord-ffi
//!
//! uniffi bindings (Kotlin, Swift) over `accord-core`. Conversion only: every rule lives in the
//! core. See [`types`] for the value conventions (instants are `i64` epoch milliseconds, dates
//! `"YYYY-MM-DD"` strings, ids strings).
//!
//! The bindings own one multi-threaded tokio runtime with two workers (sync sessions are
//! network-bound and short; the app's own calls run on the app's threads), so a phone with
//! eight cores does not keep eight mostly idle workers and their memory. Async exports spawn their work onto it and await the task, so
//! cancelling the foreign coroutine never leaves a write half done.

#![warn(missing_docs)]

use accord_core as ac;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

pub mod types;
pub use types::*;

uniffi::setup_scaffolding!();

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

/// Every way an Accord call can fail; the message says what was wrong and what to do.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum AccordError {
    /// No object with this id.
    #[error("{message}")]
    NotFound {
        /// Readable message.
        message: String,
    },
    /// An input was rejected.
    #[error("{message}")]
    InvalidInput {
        /// Readable message.
        message: String,
    },
    /// Not allowed for this partner, device or state.
    #[error("{message}")]
    NotAllowed {
        /// Readable message.
        message: String,
    },
    /// Conflicting versions must be resolved first.
    #[error("{message}")]
    Conflict {
        /// Readable message.
        message: String,
    },
    /// The space is open read-only (written by a newer version).
    #[error("{message}")]
    ReadOnly {
        /// Readable message.
        message: String,
    },
    /// The data directory is in use by another process.
    #[error("{message}")]
    InUse {
        /// Readable message.
        message: String,
    },
    /// Reading or writing storage failed, or a stored file is damaged.
    #[error("{message}")]
    Storage {
        /// Readable message.
        message: String,
    },
    /// Networking or data from another device failed.
    #[error("{message}")]
    Network {
        /// Readable message.
        message: String,
    },
}

impl From<ac::Error> for AccordError {
    fn from(e: ac::Error) -> Self {
        let message = e.to_string();
        use ac::Error as E;
        // No catch-all: a new core error is mapped on purpose.
        match e {
            E::NotFound { .. } => AccordError::NotFound { message },
            E::InvalidInput { .. } => AccordError::InvalidInput { message },
            E::ThirdPartner
            | E::NotAMember(_)
            | E::NotAllowed(_)
            | E::AlreadyInitialized(_)
            | E::NotInitialized(_) => AccordError::NotAllowed { message },
            E::Conflicted { .. } => AccordError::Conflict { message },
            E::ReadOnly { .. } | E::NewerVersion { .. } => AccordError::ReadOnly { message },
            E::InUse(_) => AccordError::InUse { message },
            E::Corrupt { .. } | E::Io { .. } => AccordError::Storage { message },
            E::InvalidRemoteData(_) => AccordError::Network { message },
        }
    }
}

type Res<T> = Result<T, AccordError>;

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn aid(id: String) -> ac::AgreementId {
    ac::AgreementId(id)
}

fn cid(id: String) -> ac::ConcernId {
    ac::ConcernId(id)
}

/// Receives node events. Implemented in Kotlin/Swift; called on a background thread.
#[uniffi::export(foreign)]
pub trait NodeListener: Send + Sync {
    /// Called once per event, in order. May call back into the node.
    fn on_event(&self, event: NodeEventRecord);
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

/// Runs domain operations on a space: the node's, or one opened on demand. The calls both
/// [`AccordNode`] and [`AccordLocalSpace`] export convert their values here, once.
trait WithSpace {
    /// Runs `f` on the space.
    fn with_space<R>(&self, f: impl FnOnce(&mut ac::Space) -> ac::Result<R>) -> Res<R>;

    fn space_info(&self) -> Res<SpaceInfo> {
        self.with_space(|s| s.info()).map(Into::into)
    }

    fn space_list(&self, status: Option<Status>) -> Res<Vec<AgreementSummary>> {
        let filter = ac::ListFilter {
            category: None,
            status: status.map(Into::into),
        };
        Ok(self
            .with_space(|s| s.list(&filter))?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    fn space_edit(&self, id: String, edit: AgreementEdit) -> Res<()> {
        let edit = edit.try_into()?;
        self.with_space(|s| s.edit_agreement(&aid(id), edit, now()))
    }

    fn space_accept(&self, id: String) -> Res<()> {
        self.with_space(|s| s.accept(&aid(id), now()))
    }

    fn space_agenda(&self, now_ms: i64) -> Res<Agenda> {
        let at = types::from_ms(now_ms)?;
        self.with_space(|s| s.agenda(at)).map(Into::into)
    }

    fn space_reminders(&self, now_ms: i64, limit: u32, horizon_days: u32) -> Res<Vec<Reminder>> {
        let at = types::from_ms(now_ms)?;
        let horizon = chrono::Duration::days(horizon_days.into());
        Ok(self
            .with_space(|s| s.upcoming_reminders(at, None, limit as usize, horizon))?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    fn space_log(&self, id: String, kind: LogKind, text: String) -> Res<String> {
        Ok(self
            .with_space(|s| s.log_follow_through(&aid(id), kind.into(), &text, now()))?
            .0)
    }

    fn space_checkin(&self, held_on: String, notes: String) -> Res<String> {
        let held_on = types::parse_date("check-in date", &held_on)?;
        Ok(self
            .with_space(|s| s.record_checkin(held_on, &notes, now()))?
            .0)
    }

    fn space_acknowledge(&self, id: String) -> Res<()> {
        self.with_space(|s| s.acknowledge_concern(&cid(id), now()))
    }

    fn space_respond(&self, id: String, text: String) -> Res<()> {
        self.with_space(|s| s.respond_to_concern(&cid(id), &text, now()))
    }

    fn space_resolve(&self, id: String) -> Res<()> {
        self.with_space(|s| s.resolve_concern(&cid(id), now()))
    }

    fn space_mark_done(&self, id: String) -> Res<()> {
        self.with_space(|s| s.mark_reminder_done(&id, now()))
    }

    fn space_snooze(&self, id: String, until_ms: i64) -> Res<()> {
        let until = types::from_ms(until_ms)?;
        self.with_space(|s| s.snooze_reminder(&id, until, now()))
    }
}

impl WithSpace for AccordNode {
    fn with_space<R>(&self, f: impl FnOnce(&mut ac::Space) -> ac::Result<R>) -> Res<R> {
        self.space(f)
    }
}

impl WithSpace for AccordLocalSpace {
    fn with_space<R>(&self, f: impl FnOnce(&mut ac::Space) -> ac::Result<R>) -> Res<R> {
        self.with(f)
    }
}

/// One device's Accord node: its copy of the space plus networking to the couple's devices.
#[derive(uniffi::Object)]
pub struct AccordNode {
    node: RwLock<Option<Arc<ac::Node>>>,
}

impl AccordNode {
    fn wrap(node: ac::Node) -> Arc<Self> {
        Arc::new(AccordNode {
            node: RwLock::new(Some(Arc::new(node))),
        })
    }

    fn node(&self) -> Res<Arc<ac::Node>> {
        self.node
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| AccordError::NotAllowed {
                message: "this node was shut down: open it again".into(),
            })
    }

    /// Runs a domain operation on the space (no foreign callback runs while it holds the lock).
    fn space<R>(&self, f: impl FnOnce(&mut ac::Space) -> ac::Result<R>) -> Res<R> {
        let node = self.node()?;
        let _rt = runtime().enter();
        Ok(node.space(f)?)
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

    /// Opens the space in `dir` and starts its node.
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

    /// This device's id.
    pub fn device_id(&self) -> Res<String> {
        Ok(self.node()?.device_id().0)
    }

    /// The space, its partners and devices.
    pub fn info(&self) -> Res<SpaceInfo> {
        self.space_info()
    }

    /// Agreements, optionally only one status.
    pub fn list(&self, status: Option<Status>) -> Res<Vec<AgreementSummary>> {
        self.space_list(status)
    }

    /// One agreement with conflicts, acceptances and changes since acceptance.
    pub fn agreement(&self, id: String) -> Res<AgreementDetails> {
        self.space(|s| s.agreement(&aid(id))).map(Into::into)
    }

    /// Proposes (or drafts) an agreement; returns its id.
    pub fn create_agreement(&self, input: NewAgreement) -> Res<String> {
        let input = input.try_into()?;
        Ok(self.space(|s| s.create_agreement(input, now()))?.0)
    }

    /// Edits an agreement (acceptances of the old words no longer count).
    pub fn edit_agreement(&self, id: String, edit: AgreementEdit) -> Res<()> {
        self.space_edit(id, edit)
    }

    /// Accepts the agreement's current words as this partner.
    pub fn accept(&self, id: String) -> Res<()> {
        self.space_accept(id)
    }

    /// Settles a conflicted field on `value`.
    pub fn resolve_conflict(&self, id: String, field: Field, value: String) -> Res<()> {
        self.space(|s| s.resolve_conflict(&aid(id), field.into(), &value, now()))
    }

    /// Retires an agreement.
    pub fn retire(&self, id: String, reason: String) -> Res<()> {
        self.space(|s| s.retire(&aid(id), &reason, now()))
    }

    /// Asks to renegotiate an agreement.
    pub fn request_renegotiation(&self, id: String, reason: String) -> Res<()> {
        self.space(|s| s.request_renegotiation(&aid(id), &reason, now()))
    }

    /// An agreement's history.
    pub fn history(&self, id: String) -> Res<Vec<HistoryEntry>> {
        Ok(self
            .space(|s| s.history(&aid(id)))?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Every agreement with its details, acceptances, conflicts and retirement, as a JSON
    /// document (to save, print or bring to a counselling session). The app renders it.
    pub fn export_json(&self) -> Res<String> {
        let details = self.space(|s| {
            let list = s.list(&ac::ListFilter::default())?;
            list.iter()
                .map(|a| s.agreement(&a.id))
                .collect::<ac::Result<Vec<_>>>()
        })?;
        serde_json::to_string_pretty(&details).map_err(|e| AccordError::Storage {
            message: format!("the export could not be written: {e}"),
        })
    }

    /// Writes (or rewrites) this partner's sealed position on `topic`.
    pub fn write_position(&self, topic: String, text: String) -> Res<()> {
        self.space(|s| s.write_position(&topic, &text, now()))
    }

    /// Marks this partner's position on `topic` ready to reveal.
    pub fn mark_position_ready(&self, topic: String) -> Res<()> {
        self.space(|s| s.mark_position_ready(&topic, now()))
    }

    /// Positions, optionally on one topic.
    pub fn positions(&self, topic: Option<String>) -> Res<Vec<Position>> {
        Ok(self
            .space(|s| s.positions(topic.as_deref()))?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Logs follow-through on an agreement; returns the record id.
    pub fn log_follow_through(&self, id: String, kind: LogKind, text: String) -> Res<String> {
        self.space_log(id, kind, text)
    }

    /// The follow-through log, optionally for one agreement.
    pub fn follow_through(&self, agreement: Option<String>) -> Res<Vec<LogEntry>> {
        let agreement = agreement.map(aid);
        Ok(self
            .space(|s| s.follow_through(agreement.as_ref()))?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Raises a concern; returns its id.
    pub fn raise_concern(&self, input: NewConcern) -> Res<String> {
        Ok(self.space(|s| s.raise_concern(input.into(), now()))?.0)
    }

    /// Acknowledges the partner's concern.
    pub fn acknowledge_concern(&self, id: String) -> Res<()> {
        self.space_acknowledge(id)
    }

    /// Responds to a concern.
    pub fn respond_to_concern(&self, id: String, text: String) -> Res<()> {
        self.space_respond(id, text)
    }

    /// Marks a concern resolved.
    pub fn resolve_concern(&self, id: String) -> Res<()> {
        self.space_resolve(id)
    }

    /// Turns a concern into a renegotiation of its agreement.
    pub fn renegotiate_from_concern(&self, id: String, reason: String) -> Res<()> {
        self.space(|s| s.renegotiate_from_concern(&cid(id), &reason, now()))
    }

    /// All concerns.
    pub fn concerns(&self) -> Res<Vec<Concern>> {
        Ok(self
            .space(|s| s.concerns())?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Records a check-in held on `held_on` (`YYYY-MM-DD`); returns the record id.
    pub fn record_checkin(&self, held_on: String, notes: String) -> Res<String> {
        self.space_checkin(held_on, notes)
    }

    /// Recorded check-ins.
    pub fn checkins(&self) -> Res<Vec<CheckIn>> {
        Ok(self
            .space(|s| s.checkins())?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The check-in agenda as of `now_ms`.
    pub fn agenda(&self, now_ms: i64) -> Res<Agenda> {
        self.space_agenda(now_ms)
    }

    /// This partner's next reminders after `now_ms`: at most `limit`, within `horizon_days`.
    pub fn upcoming_reminders(
        &self,
        now_ms: i64,
        limit: u32,
        horizon_days: u32,
    ) -> Res<Vec<Reminder>> {
        self.space_reminders(now_ms, limit, horizon_days)
    }

    /// Marks a reminder occurrence done.
    pub fn mark_reminder_done(&self, id: String) -> Res<()> {
        self.space_mark_done(id)
    }

    /// Snoozes a reminder occurrence until `until_ms`.
    pub fn snooze_reminder(&self, id: String, until_ms: i64) -> Res<()> {
        self.space_snooze(id, until_ms)
    }

    /// Attaches a recurring commitment to an agreement; `target_partner` (a partner id, or
    /// `None` for the default: whom the agreement concerns). Returns the rule id.
    pub fn add_commitment_rule(
        &self,
        agreement: String,
        rule: RecurrenceRule,
        target_partner: Option<String>,
    ) -> Res<String> {
        use ac::reminders::schedule::Targets;
        let rule = rule.try_into()?;
        let targets = target_partner.map(|p| {
            if p == "both" {
                Targets::Both
            } else {
                Targets::Partner(ac::PartnerId(p))
            }
        });
        self.space(|s| s.add_commitment_rule(&aid(agreement), rule, targets, now()))
    }

    /// Creates an invitation ticket (text) valid for `valid_minutes`.
    pub fn invite(&self, role: InviteRole, valid_minutes: u32) -> Res<String> {
        let node = self.node()?;
        let _rt = runtime().enter();
        let ticket = node.invite(role.into(), chrono::Duration::minutes(valid_minutes.into()))?;
        Ok(ticket.to_text())
    }

    /// Removes a device: it is never authorised again.
    pub fn unpair(&self, device: String) -> Res<()> {
        let node = self.node()?;
        let _rt = runtime().enter();
        Ok(node.unpair(&ac::DeviceId(device))?)
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
        on_runtime(async move {
            Ok(node
                .sync_now(Duration::from_millis(timeout_ms))
                .await?
                .into())
        })
        .await
    }

    /// Writes the space's caches now (call when the app goes to the background: it may be
    /// killed without a shutdown), so the next cold start shows the list at once.
    pub fn flush(&self) -> Res<()> {
        self.node()?.flush();
        Ok(())
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
                        listener.on_event(event.into());
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
    /// Every later call fails with `NotAllowed`.
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

/// Panics on purpose: lets the apps check that a Rust panic surfaces as an exception.
#[uniffi::export]
pub fn debug_panic() {
    panic!("accord-ffi debug_panic: a deliberate panic to test error surfacing");
}

/// This device's copy of the space without networking, for background jobs with tight memory
/// limits (rescheduling notifications, a notification's "done" or "accept" action). It loads
/// the document only when a call needs it: the list, the agenda and reminders come from the
/// view cache, and an edit, an acceptance, a done mark or a snooze is written from the edit
/// cache without loading the history. It holds the data directory's lock: use it only while no node has the space open,
/// and shut it down when done.
#[derive(uniffi::Object)]
pub struct AccordLocalSpace {
    space: Mutex<Option<ac::Space>>,
}

impl AccordLocalSpace {
    fn with<R>(&self, f: impl FnOnce(&mut ac::Space) -> ac::Result<R>) -> Res<R> {
        let mut guard = self.space.lock().unwrap_or_else(|p| p.into_inner());
        let space = guard.as_mut().ok_or_else(|| AccordError::NotAllowed {
            message: "this space was closed: open it again".into(),
        })?;
        Ok(f(space)?)
    }
}

#[uniffi::export]
impl AccordLocalSpace {
    /// Opens the space in `dir` without starting a node (fails with `InUse` while a node or
    /// another process has it open).
    #[uniffi::constructor]
    pub fn open(dir: String) -> Res<Arc<Self>> {
        let space = ac::Space::open_with(&PathBuf::from(dir), ac::LoadMode::OnDemand)?;
        Ok(Arc::new(AccordLocalSpace {
            space: Mutex::new(Some(space)),
        }))
    }

    /// The space, its partners and devices.
    pub fn info(&self) -> Res<SpaceInfo> {
        self.space_info()
    }

    /// Agreements, optionally only one status.
    pub fn list(&self, status: Option<Status>) -> Res<Vec<AgreementSummary>> {
        self.space_list(status)
    }

    /// The check-in agenda as of `now_ms`.
    pub fn agenda(&self, now_ms: i64) -> Res<Agenda> {
        self.space_agenda(now_ms)
    }

    /// This partner's next reminders after `now_ms`: at most `limit`, within `horizon_days`.
    pub fn upcoming_reminders(
        &self,
        now_ms: i64,
        limit: u32,
        horizon_days: u32,
    ) -> Res<Vec<Reminder>> {
        self.space_reminders(now_ms, limit, horizon_days)
    }

    /// Changes fields of an agreement (a change of wording must be accepted again by both).
    pub fn edit_agreement(&self, id: String, edit: AgreementEdit) -> Res<()> {
        self.space_edit(id, edit)
    }

    /// Accepts the agreement's current exact words.
    pub fn accept(&self, id: String) -> Res<()> {
        self.space_accept(id)
    }

    /// Logs follow-through on an agreement (kept, missed, a note), e.g. from a notification's
    /// action; returns the record id.
    pub fn log_follow_through(&self, id: String, kind: LogKind, text: String) -> Res<String> {
        self.space_log(id, kind, text)
    }

    /// Records a check-in held on `held_on` (`YYYY-MM-DD`), e.g. from the check-in
    /// reminder's action; returns the record id.
    pub fn record_checkin(&self, held_on: String, notes: String) -> Res<String> {
        self.space_checkin(held_on, notes)
    }

    /// Acknowledges the partner's concern, e.g. from the concern nudge's action.
    pub fn acknowledge_concern(&self, id: String) -> Res<()> {
        self.space_acknowledge(id)
    }

    /// Responds to a concern (an apology, a plan; not empty).
    pub fn respond_to_concern(&self, id: String, text: String) -> Res<()> {
        self.space_respond(id, text)
    }

    /// Says a concern this partner raised is resolved.
    pub fn resolve_concern(&self, id: String) -> Res<()> {
        self.space_resolve(id)
    }

    /// Marks a reminder occurrence done.
    pub fn mark_reminder_done(&self, id: String) -> Res<()> {
        self.space_mark_done(id)
    }

    /// Snoozes a reminder occurrence until `until_ms`.
    pub fn snooze_reminder(&self, id: String, until_ms: i64) -> Res<()> {
        self.space_snooze(id, until_ms)
    }

    /// Saves the caches and releases the data directory (a node can open it then). Every
    /// later call fails with `NotAllowed`.
    pub fn shutdown(&self) {
        let taken = self.space.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(space) = taken {
            space.shutdown();
        }
    }

    /// Writes the caches now (call when the app goes to the background: it may be killed
    /// without a shutdown), so the next cold start shows the list at once.
    pub fn flush(&self) -> Res<()> {
        self.with(|space| {
            space.flush();
            Ok(())
        })
    }
}
