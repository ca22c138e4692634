//! The sequencer: the single writer of one ledger. It owns the write
//! connection and the mutable fold state, and is driven by whichever
//! request finds it idle.
//!
//! A request queues itself; if no flush is running, it becomes the flush:
//! it takes every request waiting (up to a bound) and commits them in one
//! SQLite transaction (group commit, [`commit`]), then hands whatever
//! arrived meanwhile to a flush task, which repeats until the queue is
//! empty. Each request is planned ([`plan`]) before anything is written, so
//! that one refused request fails alone. Only after the commit are the new
//! rows folded into the state, the snapshot published and the subscribers
//! woken, then each caller answered ([`publish`]): once an append returns,
//! every read and every new subscription reflects it.
//!
//! Writing on the caller's task rather than on a thread of its own spares
//! an uncontended append any hand-off (caller → writer → caller: two
//! cross-thread wake-ups, which cost more than the write itself on a small
//! machine). Work that takes longer (fsync with durability FULL, large
//! groups, the fold check) runs under `block_in_place`, so the runtime
//! keeps its other workers busy meanwhile.

mod clock;
mod commit;
mod job;
mod plan;
mod publish;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, OnceLock};

use rusqlite::Connection;
use serde_json::Value;
use tokio::sync::{oneshot, Notify, Semaphore};

use self::commit::Writer;
use self::job::Job;
use super::condition::{Condition, ConditionCell};
use super::head::Head;
use super::snapshot::{Published, Snapshot};
use crate::chain::{ChainFault, PreparedHash};
use crate::event::Event;
use crate::rules::State;
use crate::store::schema::Durability;
use crate::store::Store;
use crate::sync::lock;

pub use self::clock::now_ts;

/// Most events committed in one transaction (requests beyond wait for the
/// next one).
const MAX_GROUP_EVENTS: usize = 4096;

/// Groups of at least this many events are committed under
/// `block_in_place` (about half a millisecond of work and more).
const HEAVY_GROUP_EVENTS: usize = 64;

/// One event to append, validated: its meta is a JSON object that
/// canonical JSON can write.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub kind: String,
    pub content: String,
    /// The meta text exactly as the client sent it (stored as is).
    pub meta_text: String,
    /// The same meta, parsed with key order kept.
    pub meta: Value,
    /// The hash of its content, kind and meta, to be completed with its
    /// place in the chain.
    pub hash: PreparedHash,
    pub idempotency_key: Option<String>,
}

/// An atomic append of one or more events.
#[derive(Debug)]
pub struct AppendBatch {
    pub events: Vec<NewEvent>,
    pub expected_last_id: Option<i64>,
    /// Capture the snapshot as of this write for derived views.
    pub want_snapshot: bool,
}

/// How an import checks its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportMode {
    /// Hashes and links must verify.
    Verify,
    /// Rows are stored as given (a copy of an already broken chain); only
    /// into an empty ledger or onto rows of earlier VERBATIM imports.
    Verbatim,
}

/// Complete rows to import (ids strictly increasing, meta parsed).
#[derive(Debug)]
pub struct ImportBatch {
    pub rows: Vec<Event>,
    pub mode: ImportMode,
}

/// Where one appended event landed.
#[derive(Clone, Debug)]
pub struct Appended {
    pub event: Arc<Event>,
    pub deduplicated: bool,
}

/// The result of an append.
#[derive(Debug)]
pub struct AppendOutcome {
    pub events: Vec<Appended>,
    pub head: Head,
    /// The snapshot as of this write, when asked for.
    pub snapshot: Option<Arc<Snapshot>>,
}

/// The result of an import.
#[derive(Debug)]
pub struct ImportOutcome {
    pub imported: u64,
    pub skipped: u64,
    pub head: Head,
}

/// Why a write was refused. Nothing of a refused request is stored.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("expected_last_id: expected {expected}, ledger last id is {}", head.last_id)]
    Conflict { expected: i64, head: Head },
    #[error("idempotency key {key:?} was already used by event {id}, but other events of this request are new; retry the request exactly or use fresh keys")]
    PartialRetry { key: String, id: i64 },
    #[error("the ledger's hash chain is broken ({0}); refusing to write on top of it")]
    ChainBroken(ChainFault),
    #[error("import row {id}: {reason}")]
    ImportConflict { id: i64, reason: String, head: Head },
    #[error("import row {id}: {reason}")]
    ImportInvalid { id: i64, reason: String },
    #[error("no id is left for a new event: the ledger's last id is {last_id}, and ids end at {} (2^53 - 1)", crate::event::MAX_ID)]
    IdsExhausted { last_id: i64 },
    #[error("VERBATIM import only copies a ledger into an empty one (or continues such a copy); this ledger holds rows written otherwise (last id {}): import in VERIFY mode", head.last_id)]
    VerbatimNotEmpty { head: Head },
    #[error("idempotency key {key:?} points at event {id}, which is not stored")]
    DanglingKey { key: String, id: i64 },
    #[error("storage failure while {during}: {reason}")]
    Storage {
        during: &'static str,
        reason: String,
    },
    /// SQLite could not grow the file (the disk, or a quota, is full).
    #[error("the disk is full while {during}: {reason}; nothing was written")]
    DiskFull {
        during: &'static str,
        reason: String,
    },
    #[error("{0}")]
    NotWritable(Condition),
    #[error("the writer failed earlier and refuses further writes; restart the server")]
    WriterFailed,
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("the mind was closed to make room for others while this write waited; nothing of it was written: retry (it is opened again)")]
    MindClosed,
    #[error("the mind was deleted while this write waited; nothing of it was written")]
    MindDeleted,
}

/// Why a sequencer stops taking writes (what a write refused after it is
/// told).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    ShuttingDown,
    /// Closed to make room in the set of open minds.
    MindClosed,
    MindDeleted,
}

impl StopReason {
    fn error(self) -> WriteError {
        match self {
            StopReason::ShuttingDown => WriteError::ShuttingDown,
            StopReason::MindClosed => WriteError::MindClosed,
            StopReason::MindDeleted => WriteError::MindDeleted,
        }
    }
}

impl WriteError {
    fn storage(during: &'static str, e: &rusqlite::Error) -> WriteError {
        let reason = e.to_string();
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => WriteError::DiskFull { during, reason },
            _ => WriteError::Storage { during, reason },
        }
    }
}

/// Counters of the sequencer, for Stats.
#[derive(Debug, Default)]
pub struct SequencerStats {
    pub appended_events: AtomicU64,
    pub commits: AtomicU64,
    /// Check mode: rebuilds compared, and how many differed.
    pub fold_checks: AtomicU64,
    pub fold_mismatches: AtomicU64,
}

/// Called with each commit's new rows, in id order, after the snapshot that
/// includes them is published (the subscription hub).
pub type RowSink = Box<dyn Fn(&[Arc<Event>]) + Send + 'static>;

/// How a sequencer writes.
#[derive(Clone, Debug)]
pub struct SequencerOptions {
    pub durability: Durability,
    /// At most this many requests wait or are written at once; more wait
    /// for a slot.
    pub queue: usize,
    /// Check mode: every that many written events, the state is rebuilt
    /// from `store` and compared (0 = off).
    pub verify_folds_every: u64,
    /// Where the check mode rebuilds from.
    pub store: Store,
    /// Whether the ledger may be written (read-only, damaged, anchor).
    pub condition: ConditionCell,
    /// A broken chain found after open by the periodic verification
    /// (`ledger/reverify.rs`): refused like one found at open.
    pub found_fault: Arc<OnceLock<ChainFault>>,
    /// Set by a reader that found the tail window cold: the next commit
    /// fills it from `store` (see [`crate::rules::TailWindow`]).
    pub tail_wanted: Arc<AtomicBool>,
}

/// The state a sequencer starts from: every stored row folded.
#[derive(Debug)]
pub struct Folded {
    pub head: Head,
    pub state: State,
    /// Where reading the stored rows stopped because the file is damaged
    /// (the state covers the rows before).
    pub damage: Option<String>,
}

/// The handle callers use to reach the writer.
#[derive(Clone, Debug)]
pub struct Sequencer {
    shared: Arc<Shared>,
    pub stats: Arc<SequencerStats>,
}

struct Shared {
    queue: Mutex<Queue>,
    /// Locked only by the one running flush (never contended).
    writer: Mutex<Writer>,
    /// Bounds the requests queued or being written; callers wait for a slot.
    slots: Semaphore,
    /// Signalled when a flush ends after the queue was closed.
    idle: Notify,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// A flush is running, on a caller's task or its own: it empties
    /// `jobs` before clearing this.
    flushing: bool,
    /// Stopping: new requests are refused, saying why.
    closed: Option<StopReason>,
    /// A flush panicked: new requests are refused.
    failed: bool,
}

impl Sequencer {
    /// Starts the sequencer on an open write connection whose rows are
    /// folded into `folded` (and published in `published`).
    pub fn start(
        conn: Connection,
        folded: Folded,
        published: Arc<Published>,
        sink: RowSink,
        options: SequencerOptions,
    ) -> Sequencer {
        let stats = Arc::new(SequencerStats::default());
        let queue = options.queue.max(1);
        let writer = Writer::new(conn, folded, published, sink, Arc::clone(&stats), options);
        let shared = Shared {
            queue: Mutex::new(Queue::default()),
            writer: Mutex::new(writer),
            slots: Semaphore::new(queue),
            idle: Notify::new(),
        };
        Sequencer {
            shared: Arc::new(shared),
            stats,
        }
    }

    /// Appends a batch; resolves once it is committed and published.
    pub async fn append(&self, batch: AppendBatch) -> Result<AppendOutcome, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Append(batch, reply), answer).await
    }

    /// Imports a batch of complete rows.
    pub async fn import(&self, batch: ImportBatch) -> Result<ImportOutcome, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Import(batch, reply), answer).await
    }

    /// Queues a job, starts a flush unless one is running, and waits for
    /// the answer. Once queued, a job is written even if the caller goes
    /// away.
    async fn submit<T>(
        &self,
        job: Job,
        answer: oneshot::Receiver<Result<T, WriteError>>,
    ) -> Result<T, WriteError> {
        let _slot = self
            .shared
            .slots
            .acquire()
            .await
            .map_err(|_| WriteError::ShuttingDown)?;
        let start_flush = {
            let mut queue = lock(&self.shared.queue);
            if queue.failed {
                return Err(WriteError::WriterFailed);
            }
            if let Some(reason) = queue.closed {
                return Err(reason.error());
            }
            queue.jobs.push_back(job);
            !std::mem::replace(&mut queue.flushing, true)
        };
        if start_flush {
            // Nobody is writing: commit right here, on this request's own
            // task, so that an uncontended append is answered without any
            // hand-off between tasks or threads. (No await until the group
            // is committed: a caller going away cannot interrupt it.) What
            // arrives meanwhile is left to a flush task.
            let guard = FlushGuard::new(&self.shared);
            commit_next_group(&self.shared);
            if !end_if_idle(&self.shared) {
                tokio::spawn(flush(Arc::clone(&self.shared)));
            }
            guard.finish();
        }
        answer.await.map_err(|_| WriteError::ShuttingDown)?
    }

    /// Refuses new writes (with the error `reason` gives) and waits until
    /// the jobs already queued are written and answered.
    pub async fn stop(&self, reason: StopReason) {
        let idle = self.shared.idle.notified();
        tokio::pin!(idle);
        // Registered before looking, so that the end of a flush between the
        // look and the wait is not missed.
        idle.as_mut().enable();
        let flushing = {
            let mut queue = lock(&self.shared.queue);
            queue.closed.get_or_insert(reason);
            queue.flushing
        };
        if flushing {
            idle.await;
        }
        tracing::debug!("sequencer stopped");
    }
}

/// Writes groups until the queue is empty, letting the runtime's other
/// tasks run between groups.
async fn flush(shared: Arc<Shared>) {
    let guard = FlushGuard::new(&shared);
    loop {
        commit_next_group(&shared);
        if end_if_idle(&shared) {
            break;
        }
        tokio::task::yield_now().await;
    }
    guard.finish();
}

/// Commits the jobs at the front of the queue (up to [`MAX_GROUP_EVENTS`])
/// in one transaction.
fn commit_next_group(shared: &Shared) {
    let Some(group) = take_group(&mut lock(&shared.queue)) else {
        return;
    };
    let events: usize = group.iter().map(Job::len).sum();
    let mut writer = lock(&shared.writer);
    let heavy = events >= HEAVY_GROUP_EVENTS || writer.is_slow(events);
    if heavy && can_block_in_place() {
        tokio::task::block_in_place(|| writer.commit(group));
    } else {
        writer.commit(group);
    }
}

/// The next group to commit, or `None` when nothing is queued.
fn take_group(queue: &mut Queue) -> Option<Vec<Job>> {
    let mut group = Vec::new();
    let mut size = 0;
    while let Some(next) = queue.jobs.front() {
        if !group.is_empty() && size + next.len() > MAX_GROUP_EVENTS {
            break;
        }
        size += next.len();
        group.extend(queue.jobs.pop_front());
    }
    (!group.is_empty()).then_some(group)
}

/// Ends the flush if nothing is queued (waking [`Sequencer::stop`]);
/// `false` when there is more to write.
fn end_if_idle(shared: &Shared) -> bool {
    let mut queue = lock(&shared.queue);
    if !queue.jobs.is_empty() {
        return false;
    }
    queue.flushing = false;
    if queue.closed.is_some() {
        shared.idle.notify_waiters();
    }
    true
}

/// `block_in_place` exists only on the multi-threaded runtime.
fn can_block_in_place() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}

/// Should a flush panic, refuses what is still queued rather than leaving
/// it waiting forever, and ends the flush.
struct FlushGuard<'a> {
    shared: &'a Shared,
    finished: bool,
}

impl<'a> FlushGuard<'a> {
    fn new(shared: &'a Shared) -> Self {
        FlushGuard {
            shared,
            finished: false,
        }
    }

    fn finish(mut self) {
        self.finished = true;
    }
}

impl Drop for FlushGuard<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let mut queue = lock(&self.shared.queue);
        tracing::error!("sequencer: a flush failed; refusing further writes");
        queue.failed = true;
        queue.flushing = false;
        for job in queue.jobs.drain(..) {
            job.fail(WriteError::WriterFailed);
        }
        self.shared.idle.notify_waiters();
    }
}
