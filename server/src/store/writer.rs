//! The single writer of a ledger: one OS thread owning the write connection
//! and the mutable fold state.
//!
//! Requests queue on a channel; the thread takes every request waiting (up
//! to a bound) and commits them in one SQLite transaction (group commit),
//! each inside its own savepoint so that one bad request fails alone. Only
//! after the commit are the new rows folded into the state, the snapshot
//! published and the subscribers woken, then each caller answered: once an
//! append returns, every read and every new subscription reflects it.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::schema::{self, Durability};
use super::{Head, Row, Store, StoreError, ROW_COLUMNS};
use crate::chain::{self, CanonicalError, ChainFault};
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

/// What the writer thread receives: work, or the order to stop once the
/// work queued before it is done.
enum Message {
    Write(Request),
    Stop,
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

/// The handle callers use to reach the writer thread.
#[derive(Clone, Debug)]
pub struct WriterHandle {
    tx: mpsc::Sender<Message>,
    pub stats: Arc<WriterStats>,
}

impl WriterHandle {
    /// Appends a batch; resolves once it is committed and published.
    pub async fn append(&self, batch: AppendBatch) -> Result<AppendOutcome, WriteError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Message::Write(Request::Append(batch, reply)))
            .await
            .map_err(|_| WriteError::ShuttingDown)?;
        rx.await.map_err(|_| WriteError::ShuttingDown)?
    }

    /// Imports a batch of complete rows.
    pub async fn import(&self, batch: ImportBatch) -> Result<ImportOutcome, WriteError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Message::Write(Request::Import(batch, reply)))
            .await
            .map_err(|_| WriteError::ShuttingDown)?;
        rx.await.map_err(|_| WriteError::ShuttingDown)?
    }

    /// Asks the writer to stop after the requests already queued; later
    /// writes fail with [`WriteError::ShuttingDown`].
    pub async fn stop(&self) {
        let _ = self.tx.send(Message::Stop).await;
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

/// The writer thread's own state.
struct Writer {
    conn: Connection,
    core: Core,
    rx: mpsc::Receiver<Message>,
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
}

/// The check mode: incremental state against a rebuild from SQLite.
struct FoldCheck {
    every: u64,
    since: u64,
    store: Store,
}

/// Starts the writer thread on an open connection whose rows have been
/// folded into `state` (and published in `mind`) up to `head`.
/// `verify_every` > 0 turns on the check mode: every that many written
/// events, the state is rebuilt from `store` and compared.
#[allow(clippy::too_many_arguments)]
pub fn spawn(
    conn: Connection,
    head: Head,
    state: State,
    mind: Arc<Mind>,
    sink: RowSink,
    queue: usize,
    verify_every: u64,
    store: Store,
) -> std::io::Result<(WriterHandle, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel(queue.max(1));
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
        },
        rx,
    };
    let join = std::thread::Builder::new()
        .name("pmm-writer".into())
        .spawn(move || writer.run())?;
    Ok((WriterHandle { tx, stats }, join))
}

/// Answers one caller, given the head after the whole group.
type Reply = Box<dyn FnOnce(&Head)>;

/// What a request will write, decided (and checked) before anything is
/// written, so that a request refused for a logical reason needs no
/// rollback.
enum Plan {
    /// A pure idempotent retry: nothing to write, the originals to return.
    Retry(Vec<Appended>),
    /// New rows and the idempotency keys pointing at them.
    Append {
        rows: Vec<Arc<Row>>,
        keys: Vec<(String, i64)>,
        fold: Vec<Arc<Event>>,
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
    fn run(mut self) {
        let mut stopping = false;
        while !stopping {
            let Some(Message::Write(first)) = self.rx.blocking_recv() else {
                break;
            };
            let mut size = first.len();
            let mut group = vec![first];
            while size < MAX_GROUP_EVENTS {
                match self.rx.try_recv() {
                    Ok(Message::Write(next)) => {
                        size += next.len();
                        group.push(next);
                    }
                    Ok(Message::Stop) => {
                        stopping = true;
                        break;
                    }
                    Err(_) => break,
                }
            }
            self.commit(group, true);
        }
        // Refuse what arrives from now on, and answer what is still queued.
        self.rx.close();
        while let Ok(message) = self.rx.try_recv() {
            if let Message::Write(request) = message {
                request.fail(WriteError::ShuttingDown);
            }
        }
        tracing::debug!("writer stopped");
    }

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
    let now = chrono::Utc::now();
    if now.timestamp_subsec_micros() == 0 {
        now.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        now.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
    }
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
        let mut fold = Vec::with_capacity(batch.events.len());
        let (mut last_id, mut last_hash) = (head.last_id, head.last_hash.clone());
        for new in &batch.events {
            let id = last_id + 1;
            let ts = now_ts();
            let hash = chain::event_hash(
                id,
                &ts,
                &new.kind,
                &new.content,
                &new.meta,
                last_hash.as_deref(),
            )?;
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
            fold.push(Arc::new(row.event_with_meta(new.meta.clone())));
            rows.push(Arc::new(row));
        }
        Ok(Plan::Append { rows, keys, fold })
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
                        Plan::Append { rows, fold, .. } => {
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
        self.stats
            .appended_events
            .fetch_add(written, Ordering::Relaxed);
        for row in new_rows {
            (self.sink)(row);
        }
        for reply in replies {
            reply(&self.head);
        }
        self.check.since += written;
        if self.check.every > 0 && self.check.since >= self.check.every {
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
