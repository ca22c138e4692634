//! The single writer of a ledger: the write connection and the mutable fold
//! state, driven by whichever request finds it idle.
//!
//! A request queues itself; if no flush is running, it becomes the flush:
//! it takes every request waiting (up to a bound) and commits them in one
//! SQLite transaction (group commit), then hands whatever arrived meanwhile
//! to a flush task, which repeats until the queue is empty. Each request is
//! planned (checked) before
//! anything is written, so that one refused request fails alone. Only after
//! the commit are the new rows folded into the state, the snapshot
//! published and the subscribers woken, then each caller answered: once an
//! append returns, every read and every new subscription reflects it.
//!
//! Writing on the caller's task rather than on a thread of its own spares
//! an uncontended append any hand-off (caller → writer → caller: two
//! cross-thread wake-ups, which cost more than the write itself on a small
//! machine). Work that takes longer (fsync with durability FULL, large
//! groups, the fold check) runs under `block_in_place`, so the runtime
//! keeps its other workers busy meanwhile.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde_json::Value;
use tokio::sync::{oneshot, Notify, Semaphore};

use super::schema::{self, Durability};
use super::{Head, Row, Store, StoreError, ROW_COLUMNS};
use crate::chain::{self, CanonicalError, ChainFault, PreparedHash};
use crate::event::Event;
use crate::mind::{Mind, Snapshot};
use crate::rules::State;

/// Most events committed in one transaction (requests beyond wait for the
/// next one).
const MAX_GROUP_EVENTS: usize = 4096;

/// One event to append; validated by the caller (meta is a JSON object).
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

/// A complete row to import, with its meta parsed.
#[derive(Clone, Debug)]
pub struct ImportRow {
    pub row: Row,
    pub meta: Value,
}

/// A batch of rows to import (ids strictly increasing).
#[derive(Debug)]
pub struct ImportBatch {
    pub rows: Vec<ImportRow>,
    /// Check hashes and links (otherwise store the rows verbatim).
    pub verify: bool,
}

/// Where one appended event landed.
#[derive(Clone, Debug)]
pub struct Appended {
    pub row: Arc<Row>,
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
    #[error("event cannot be hashed: {0}")]
    Unhashable(#[from] CanonicalError),
    #[error(transparent)]
    Storage(#[from] StoreError),
    #[error("the server is shutting down")]
    ShuttingDown,
}

impl From<rusqlite::Error> for WriteError {
    fn from(e: rusqlite::Error) -> Self {
        WriteError::Storage(StoreError::Sqlite(e))
    }
}

enum Request {
    Append(
        AppendBatch,
        oneshot::Sender<Result<AppendOutcome, WriteError>>,
    ),
    Import(
        ImportBatch,
        oneshot::Sender<Result<ImportOutcome, WriteError>>,
    ),
}

impl Request {
    fn len(&self) -> usize {
        match self {
            Request::Append(b, _) => b.events.len(),
            Request::Import(b, _) => b.rows.len(),
        }
    }
}

/// Counters of the writer, for Stats.
#[derive(Debug, Default)]
pub struct WriterStats {
    pub appended_events: AtomicU64,
    pub commits: AtomicU64,
    /// Check mode: rebuilds compared, and how many differed.
    pub fold_checks: AtomicU64,
    pub fold_mismatches: AtomicU64,
}

/// Called with each committed row, in id order, after the snapshot that
/// includes it is published (the subscription hub).
pub type RowSink = Box<dyn Fn(Arc<Row>) + Send + 'static>;

/// Groups of at least this many events are committed under
/// `block_in_place` (about half a millisecond of work and more).
const HEAVY_GROUP_EVENTS: usize = 64;

/// The handle callers use to reach the writer.
#[derive(Clone, Debug)]
pub struct WriterHandle {
    shared: Arc<Shared>,
    pub stats: Arc<WriterStats>,
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
    requests: VecDeque<Request>,
    /// A flush is running, on a caller's task or its own: it empties
    /// `requests` before clearing this.
    flushing: bool,
    /// Stopping: new requests are refused.
    closed: bool,
}

impl WriterHandle {
    /// Appends a batch; resolves once it is committed and published.
    pub async fn append(&self, batch: AppendBatch) -> Result<AppendOutcome, WriteError> {
        let (reply, rx) = oneshot::channel();
        self.submit(Request::Append(batch, reply), rx).await
    }

    /// Imports a batch of complete rows.
    pub async fn import(&self, batch: ImportBatch) -> Result<ImportOutcome, WriteError> {
        let (reply, rx) = oneshot::channel();
        self.submit(Request::Import(batch, reply), rx).await
    }

    /// Queues a request, starts a flush unless one is running, and waits
    /// for the answer. Once queued, a request is written even if the
    /// caller goes away.
    async fn submit<T>(
        &self,
        request: Request,
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
            if queue.closed {
                return Err(WriteError::ShuttingDown);
            }
            queue.requests.push_back(request);
            !std::mem::replace(&mut queue.flushing, true)
        };
        if start_flush {
            // Nobody is writing: commit right here, on this request's own
            // task, so that an uncontended append is answered without any
            // hand-off between tasks or threads. (No await until the group
            // is committed: a caller going away cannot interrupt it.) What
            // arrives meanwhile is left to a flush task.
            let mut guard = FlushGuard {
                shared: &self.shared,
                finished: false,
            };
            commit_next_group(&self.shared);
            if !end_if_idle(&self.shared) {
                tokio::spawn(flush(Arc::clone(&self.shared)));
            }
            guard.finished = true;
        }
        answer.await.map_err(|_| WriteError::ShuttingDown)?
    }

    /// Refuses new writes ([`WriteError::ShuttingDown`]) and waits until
    /// the requests already queued are written and answered.
    pub async fn stop(&self) {
        let idle = self.shared.idle.notified();
        tokio::pin!(idle);
        // Registered before looking, so that the end of a flush between the
        // look and the wait is not missed.
        idle.as_mut().enable();
        let flushing = {
            let mut queue = lock(&self.shared.queue);
            queue.closed = true;
            queue.flushing
        };
        if flushing {
            idle.await;
        }
        tracing::debug!("writer stopped");
    }
}

/// The queue and the writer stay usable after a panic elsewhere while they
/// were held: a flush that panics is cleaned up by [`FlushGuard`].
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Writes groups until the queue is empty, letting the runtime's other
/// tasks run between groups.
async fn flush(shared: Arc<Shared>) {
    let mut guard = FlushGuard {
        shared: &shared,
        finished: false,
    };
    loop {
        commit_next_group(&shared);
        if end_if_idle(&shared) {
            break;
        }
        tokio::task::yield_now().await;
    }
    guard.finished = true;
}

/// Commits the requests at the front of the queue (up to
/// [`MAX_GROUP_EVENTS`]) in one transaction.
fn commit_next_group(shared: &Shared) {
    let Some(group) = take_group(&mut lock(&shared.queue)) else {
        return;
    };
    let events: usize = group.iter().map(Request::len).sum();
    let mut writer = lock(&shared.writer);
    let heavy = events >= HEAVY_GROUP_EVENTS
        || writer.core.durability == Durability::Full
        || writer.core.check.due(events);
    if heavy && can_block_in_place() {
        tokio::task::block_in_place(|| writer.commit(group, true));
    } else {
        writer.commit(group, true);
    }
}

/// The next group to commit, or `None` when nothing is queued.
fn take_group(queue: &mut Queue) -> Option<Vec<Request>> {
    let mut group = Vec::new();
    let mut size = 0;
    while let Some(next) = queue.requests.front() {
        if !group.is_empty() && size + next.len() > MAX_GROUP_EVENTS {
            break;
        }
        size += next.len();
        group.extend(queue.requests.pop_front());
    }
    (!group.is_empty()).then_some(group)
}

/// Ends the flush if nothing is queued (waking [`WriterHandle::stop`]);
/// `false` when there is more to write.
fn end_if_idle(shared: &Shared) -> bool {
    let mut queue = lock(&shared.queue);
    if !queue.requests.is_empty() {
        return false;
    }
    queue.flushing = false;
    if queue.closed {
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

impl Drop for FlushGuard<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let mut queue = lock(&self.shared.queue);
        tracing::error!("writer: a flush failed; refusing further writes");
        queue.closed = true;
        queue.flushing = false;
        for request in queue.requests.drain(..) {
            request.fail(storage_error("the writer failed"));
        }
        self.shared.idle.notify_waiters();
    }
}

/// Opens the write connection (creating the file and schema if missing).
pub fn open_connection(path: &Path, durability: Durability) -> Result<Connection, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let conn = Connection::open(path)?;
    schema::prepare_writer(&conn, durability)?;
    Ok(conn)
}

/// The write connection and everything written through it.
struct Writer {
    conn: Connection,
    core: Core,
}

/// Everything but the connection (so a transaction can borrow the
/// connection while staging mutates this).
struct Core {
    head: Head,
    state: State,
    mind: Arc<Mind>,
    sink: RowSink,
    stats: Arc<WriterStats>,
    check: FoldCheck,
    durability: Durability,
}

/// The check mode: incremental state against a rebuild from SQLite.
struct FoldCheck {
    every: u64,
    since: u64,
    store: Store,
}

impl FoldCheck {
    /// Whether writing `events` more events triggers a check.
    fn due(&self, events: usize) -> bool {
        self.every > 0 && self.since + events as u64 >= self.every
    }
}

/// Starts the writer on an open connection whose rows have been folded into
/// `state` (and published in `mind`) up to `head`. At most `queue` requests
/// wait or are written at once. `verify_every` > 0 turns on the check mode:
/// every that many written events, the state is rebuilt from `store` and
/// compared.
#[allow(clippy::too_many_arguments)]
pub fn start(
    conn: Connection,
    durability: Durability,
    head: Head,
    state: State,
    mind: Arc<Mind>,
    sink: RowSink,
    queue: usize,
    verify_every: u64,
    store: Store,
) -> WriterHandle {
    let stats = Arc::new(WriterStats::default());
    let writer = Writer {
        conn,
        core: Core {
            head,
            state,
            mind,
            sink,
            stats: Arc::clone(&stats),
            check: FoldCheck {
                every: verify_every,
                since: 0,
                store,
            },
            durability,
        },
    };
    let shared = Shared {
        queue: Mutex::new(Queue::default()),
        writer: Mutex::new(writer),
        slots: Semaphore::new(queue.max(1)),
        idle: Notify::new(),
    };
    WriterHandle {
        shared: Arc::new(shared),
        stats,
    }
}

/// Answers one caller, given the head after the whole group.
type Reply = Box<dyn FnOnce(&Head)>;

/// What a request will write, decided (and checked) before anything is
/// written, so that a request refused for a logical reason needs no
/// rollback.
enum Plan {
    /// A pure idempotent retry: nothing to write, the originals to return.
    Retry(Vec<Appended>),
    /// New rows and the idempotency keys pointing at them (the events to
    /// fold are made after the commit from the request's own parsed meta).
    Append {
        rows: Vec<Arc<Row>>,
        keys: Vec<(String, i64)>,
    },
    /// Imported rows to write, and how many were already stored.
    Import {
        rows: Vec<Arc<Row>>,
        fold: Vec<Arc<Event>>,
        skipped: u64,
    },
}

impl Plan {
    fn rows(&self) -> &[Arc<Row>] {
        match self {
            Plan::Retry(_) => &[],
            Plan::Append { rows, .. } | Plan::Import { rows, .. } => rows,
        }
    }

    /// Writes the planned rows; an error here is a storage failure.
    fn write(&self, conn: &Connection) -> rusqlite::Result<()> {
        for row in self.rows() {
            insert_row(conn, row)?;
        }
        if let Plan::Append { keys, .. } = self {
            let mut stmt =
                conn.prepare_cached("INSERT INTO pmm_idempotency (key, event_id) VALUES (?1, ?2)")?;
            for (key, id) in keys {
                stmt.execute(rusqlite::params![key, id])?;
            }
        }
        Ok(())
    }
}

impl Request {
    fn fail(self, error: WriteError) {
        match self {
            Request::Append(_, reply) => {
                let _ = reply.send(Err(error));
            }
            Request::Import(_, reply) => {
                let _ = reply.send(Err(error));
            }
        }
    }
}

impl Writer {
    /// Commits a group in one transaction. Should a write fail (a storage
    /// error, not a refused request), the transaction is rolled back and,
    /// with `isolate`, each request is retried alone so that only the
    /// failing one fails.
    fn commit(&mut self, group: Vec<Request>, isolate: bool) {
        let started = std::time::Instant::now();
        let requests = group.len();
        let tx = match self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
        {
            Ok(tx) => tx,
            Err(e) => {
                for request in group {
                    request.fail(storage_error(&e.to_string()));
                }
                return;
            }
        };
        let mut head = self.core.head.clone();
        let mut done: Vec<(Request, Plan)> = Vec::with_capacity(group.len());
        let mut pending = group.into_iter();
        let mut failed: Option<(Request, rusqlite::Error)> = None;
        for request in pending.by_ref() {
            let plan = match self.core.plan(&tx, &head, &request) {
                Ok(plan) => plan,
                Err(e) => {
                    request.fail(e);
                    continue;
                }
            };
            if let Err(e) = plan.write(&tx) {
                failed = Some((request, e));
                break;
            }
            for row in plan.rows() {
                advance(&mut head, row);
            }
            done.push((request, plan));
        }
        if let Some((request, error)) = failed {
            drop(tx); // rolls back
            tracing::warn!("writer: write failed: {error}");
            if isolate {
                let rest = done
                    .into_iter()
                    .map(|(r, _)| r)
                    .chain(std::iter::once(request))
                    .chain(pending);
                for request in rest {
                    self.commit(vec![request], false);
                }
            } else {
                request.fail(storage_error(&error.to_string()));
                for (request, _) in done {
                    request.fail(storage_error(&error.to_string()));
                }
            }
            return;
        }
        if let Err(e) = tx.commit() {
            tracing::warn!("writer: commit failed: {e}");
            for (request, _) in done {
                request.fail(storage_error(&format!("commit failed: {e}")));
            }
            return;
        }
        self.core.stats.commits.fetch_add(1, Ordering::Relaxed);
        let committed = started.elapsed();
        self.core.publish(done, head);
        tracing::trace!(
            requests,
            commit_us = committed.as_micros() as u64,
            total_us = started.elapsed().as_micros() as u64,
            "group committed"
        );
    }
}

fn storage_error(message: &str) -> WriteError {
    WriteError::Storage(StoreError::Schema(message.to_string()))
}

/// The timestamp of a row written now: UTC, microseconds, `+00:00`, the
/// fraction omitted when it is zero (as the reference writes it).
pub fn now_ts() -> String {
    format_ts(chrono::Utc::now())
}

/// Written field by field: chrono's `format` parses its pattern on every
/// call, a cost paid per appended event on the writer.
fn format_ts(t: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write as _;
    let mut ts = String::with_capacity(32);
    let _ = write!(
        ts,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let micros = t.timestamp_subsec_micros();
    if micros != 0 {
        let _ = write!(ts, ".{micros:06}");
    }
    ts.push_str("+00:00");
    ts
}

fn insert_row(conn: &Connection, row: &Row) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO events (id, ts, kind, content, meta, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(rusqlite::params![
        row.id,
        row.ts,
        row.kind,
        row.content,
        row.meta,
        row.prev_hash,
        row.hash
    ])?;
    Ok(())
}

fn stored_row(conn: &Connection, id: i64) -> rusqlite::Result<Option<Row>> {
    conn.prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM events WHERE id = ?1"))?
        .query_row([id], Row::from_sql)
        .optional()
}

impl Core {
    /// Decides what a request writes on top of `head`, reading but not
    /// writing; refuses it when it conflicts.
    fn plan(&self, conn: &Connection, head: &Head, request: &Request) -> Result<Plan, WriteError> {
        match request {
            Request::Append(batch, _) => self.plan_append(conn, head, batch),
            Request::Import(batch, _) => self.plan_import(conn, head, batch),
        }
    }

    /// Idempotency: `Some(originals)` when this request is a pure retry.
    fn find_retry(
        &self,
        conn: &Connection,
        batch: &AppendBatch,
    ) -> Result<Option<Vec<Appended>>, WriteError> {
        if batch.events.iter().all(|e| e.idempotency_key.is_none()) {
            return Ok(None);
        }
        let mut stmt =
            conn.prepare_cached("SELECT event_id FROM pmm_idempotency WHERE key = ?1")?;
        let mut originals = Vec::new();
        let mut first_match: Option<(String, i64)> = None;
        let mut any_new = false;
        for ev in &batch.events {
            let found = match &ev.idempotency_key {
                Some(key) => stmt
                    .query_row([key], |r| r.get::<_, i64>(0))
                    .optional()?
                    .map(|id| (key.clone(), id)),
                None => None,
            };
            match found {
                Some((key, id)) => {
                    first_match.get_or_insert((key, id));
                    originals.push(id);
                }
                None => any_new = true,
            }
        }
        match (first_match, any_new) {
            (None, _) => Ok(None),
            (Some((key, id)), true) => Err(WriteError::PartialRetry { key, id }),
            (Some(_), false) => {
                let mut events = Vec::with_capacity(originals.len());
                for id in originals {
                    let row = stored_row(conn, id)?.ok_or_else(|| {
                        storage_error(&format!("idempotency key points at missing event {id}"))
                    })?;
                    events.push(Appended {
                        row: Arc::new(row),
                        deduplicated: true,
                    });
                }
                Ok(Some(events))
            }
        }
    }

    fn plan_append(
        &self,
        conn: &Connection,
        head: &Head,
        batch: &AppendBatch,
    ) -> Result<Plan, WriteError> {
        if let Some(originals) = self.find_retry(conn, batch)? {
            return Ok(Plan::Retry(originals));
        }
        if let Some(expected) = batch.expected_last_id {
            if expected != head.last_id {
                return Err(WriteError::Conflict {
                    expected,
                    head: head.clone(),
                });
            }
        }
        if let Some(fault) = self.state.chain.fault() {
            return Err(WriteError::ChainBroken(fault.clone()));
        }
        let mut rows = Vec::with_capacity(batch.events.len());
        let mut keys = Vec::new();
        let (mut last_id, mut last_hash) = (head.last_id, head.last_hash.clone());
        for new in &batch.events {
            let id = last_id + 1;
            let ts = now_ts();
            let hash = new.hash.finish(id, &ts, last_hash.as_deref());
            let row = Row {
                id,
                ts,
                kind: new.kind.clone(),
                content: new.content.clone(),
                meta: new.meta_text.clone(),
                prev_hash: last_hash,
                hash: Some(hash),
            };
            if let Some(key) = &new.idempotency_key {
                keys.push((key.clone(), id));
            }
            (last_id, last_hash) = (id, row.hash.clone());
            rows.push(Arc::new(row));
        }
        Ok(Plan::Append { rows, keys })
    }

    fn plan_import(
        &self,
        conn: &Connection,
        head: &Head,
        batch: &ImportBatch,
    ) -> Result<Plan, WriteError> {
        let mut skipped = 0u64;
        let mut rows = Vec::new();
        let mut fold = Vec::new();
        let (mut last_id, mut last_hash) = (head.last_id, head.last_hash.clone());
        let conflict = |id: i64, reason: String| WriteError::ImportConflict {
            id,
            reason,
            head: head.clone(),
        };
        for item in &batch.rows {
            let row = &item.row;
            if row.id <= last_id {
                match stored_row(conn, row.id)? {
                    Some(stored) if &stored == row => {
                        skipped += 1;
                        continue;
                    }
                    Some(stored) => {
                        return Err(conflict(
                            row.id,
                            format!("differs from the stored row in {}", differing_fields(&stored, row).join(", ")),
                        ))
                    }
                    None => {
                        return Err(conflict(
                            row.id,
                            format!("id is not after the ledger's last id {last_id} and no such row is stored"),
                        ))
                    }
                }
            }
            if batch.verify {
                if let Some(fault) = self.state.chain.fault() {
                    return Err(WriteError::ChainBroken(fault.clone()));
                }
                if row.prev_hash != last_hash {
                    return Err(conflict(
                        row.id,
                        format!(
                            "prev_hash {:?} does not link to the ledger's last hash {:?}",
                            row.prev_hash, last_hash
                        ),
                    ));
                }
                let computed = chain::hash_of(&row.event_with_meta(item.meta.clone()))?;
                if row.hash.as_deref() != Some(computed.as_str()) {
                    return Err(WriteError::ImportInvalid {
                        id: row.id,
                        reason: format!(
                            "stored hash {:?} does not match the recomputed hash {computed}",
                            row.hash
                        ),
                    });
                }
            }
            (last_id, last_hash) = (row.id, row.hash.clone());
            fold.push(Arc::new(row.event_with_meta(item.meta.clone())));
            rows.push(Arc::new(row.clone()));
        }
        Ok(Plan::Import {
            rows,
            fold,
            skipped,
        })
    }

    /// Folds committed rows; `hashed` when their hashes were computed from
    /// them in this request (appends, verified imports), so the chain fold
    /// need not hash them again.
    fn fold(&mut self, folded: &mut Head, events: Vec<Arc<Event>>, hashed: bool) {
        for ev in events {
            advance_to(folded, ev.id, &ev.hash, &ev.ts);
            if hashed {
                self.state.apply_hashed(ev);
            } else {
                self.state.apply_shared(ev);
            }
        }
    }

    /// Folds the committed rows, publishes the snapshot, wakes subscribers
    /// and answers each caller.
    fn publish(&mut self, done: Vec<(Request, Plan)>, head: Head) {
        let mut replies: Vec<Reply> = Vec::with_capacity(done.len());
        // The head as of the rows folded so far: after a request's own rows,
        // its "as of this write" head.
        let mut folded = self.head.clone();
        let mut new_rows: Vec<Arc<Row>> = Vec::new();
        for (request, plan) in done {
            new_rows.extend(plan.rows().iter().cloned());
            match (request, plan) {
                (Request::Append(batch, reply), plan) => {
                    let events = match plan {
                        Plan::Retry(originals) => originals,
                        Plan::Append { rows, .. } => {
                            let fold = rows
                                .iter()
                                .zip(batch.events)
                                .map(|(row, new)| Arc::new(row.event_with_meta(new.meta)))
                                .collect();
                            self.fold(&mut folded, fold, true);
                            rows.into_iter()
                                .map(|row| Appended {
                                    row,
                                    deduplicated: false,
                                })
                                .collect()
                        }
                        Plan::Import { .. } => Vec::new(),
                    };
                    let snapshot = batch.want_snapshot.then(|| {
                        Arc::new(Snapshot {
                            head: folded.clone(),
                            state: self.state.clone(),
                        })
                    });
                    replies.push(Box::new(move |final_head: &Head| {
                        let _ = reply.send(Ok(AppendOutcome {
                            events,
                            head: final_head.clone(),
                            snapshot,
                        }));
                    }));
                }
                (Request::Import(batch, reply), plan) => {
                    let (imported, skipped) = match plan {
                        Plan::Import {
                            rows,
                            fold,
                            skipped,
                        } => {
                            self.fold(&mut folded, fold, batch.verify);
                            (rows.len() as u64, skipped)
                        }
                        Plan::Retry(_) | Plan::Append { .. } => (0, 0),
                    };
                    replies.push(Box::new(move |final_head: &Head| {
                        let _ = reply.send(Ok(ImportOutcome {
                            imported,
                            skipped,
                            head: final_head.clone(),
                        }));
                    }));
                }
            }
        }
        self.head = head;
        self.mind.publish(Arc::new(Snapshot {
            head: self.head.clone(),
            state: self.state.clone(),
        }));
        let written = new_rows.len() as u64;
        self.check.since += written;
        self.stats
            .appended_events
            .fetch_add(written, Ordering::Relaxed);
        for row in new_rows {
            (self.sink)(row);
        }
        for reply in replies {
            reply(&self.head);
        }
        if self.check.due(0) {
            self.check.since = 0;
            self.check_folds();
        }
    }

    /// Rebuilds every fold from SQLite and compares it with the incremental
    /// state; a difference is logged and counted (it is a bug).
    fn check_folds(&self) {
        self.stats.fold_checks.fetch_add(1, Ordering::Relaxed);
        let rebuilt = crate::engine::rebuild(
            &self.check.store,
            self.state.tail.capacity(),
            self.head.last_id,
            None,
        );
        let same = match rebuilt {
            Ok((state, _)) => match (state.outputs(), self.state.outputs()) {
                (Ok(a), Ok(b)) => a == b,
                (Err(a), Err(b)) => a == b,
                _ => false,
            },
            Err(e) => {
                tracing::warn!("fold check: rebuild failed: {e}");
                return;
            }
        };
        if same {
            tracing::debug!(
                last_id = self.head.last_id,
                "fold check: incremental state equals a rebuild"
            );
        } else {
            self.stats.fold_mismatches.fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                last_id = self.head.last_id,
                "fold check: incremental state differs from a rebuild"
            );
        }
    }
}

fn advance(head: &mut Head, row: &Row) {
    advance_to(head, row.id, &row.hash, &row.ts);
}

fn advance_to(head: &mut Head, id: i64, hash: &Option<String>, ts: &str) {
    head.last_id = id;
    head.last_hash = hash.clone();
    head.last_ts = Some(ts.to_string());
    head.count += 1;
}

fn differing_fields(a: &Row, b: &Row) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if a.ts != b.ts {
        fields.push("ts");
    }
    if a.kind != b.kind {
        fields.push("kind");
    }
    if a.content != b.content {
        fields.push("content");
    }
    if a.meta != b.meta {
        fields.push("meta");
    }
    if a.prev_hash != b.prev_hash {
        fields.push("prev_hash");
    }
    if a.hash != b.hash {
        fields.push("hash");
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::format_ts;
    use chrono::{TimeZone, Utc};

    #[test]
    fn timestamps_are_written_as_the_reference_writes_them() {
        let at = |secs: i64, micros: u32| {
            Utc.timestamp_opt(secs, micros * 1000)
                .single()
                .expect("valid time")
        };
        assert_eq!(format_ts(at(0, 0)), "1970-01-01T00:00:00+00:00");
        assert_eq!(
            format_ts(at(1_795_000_000, 5)),
            "2026-11-18T11:06:40.000005+00:00"
        );
        assert_eq!(
            format_ts(at(253_402_300_799, 999_999)),
            "9999-12-31T23:59:59.999999+00:00"
        );
        // Nanoseconds below a microsecond are dropped, as Python's
        // datetime keeps only microseconds.
        let t = Utc.timestamp_opt(60, 1_999).single().expect("valid time");
        assert_eq!(format_ts(t), "1970-01-01T00:01:00.000001+00:00");
    }
}
