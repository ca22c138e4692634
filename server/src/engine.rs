//! One open ledger: the store, the writer, the published mind, the
//! subscription hub and the caches, opened and rebuilt at start-up.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;

use crate::config::Config;
use crate::event::Event;
use crate::hub::Hub;
use crate::mind::{Mind, Snapshot};
use crate::rules::embedding::{embed, EMBED_DIM};
use crate::rules::projection::ProjectionPage;
use crate::rules::{ChainStatus, ContextParams, Fold, State};
use crate::store::checkpoint::Checkpointer;
use crate::store::writer::{self, WriterHandle};
use crate::store::{Head, Row, Store, StoreError};

/// An embedding vector.
pub type Vector = Arc<[f64; EMBED_DIM]>;

/// Progress of the start-up rebuild, readable while it runs.
#[derive(Debug, Default)]
pub struct Progress {
    pub folded: AtomicU64,
    pub total: AtomicU64,
}

/// Why a ledger could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Figures of the start-up rebuild.
#[derive(Clone, Copy, Debug, Default)]
pub struct RebuildStats {
    pub events: u64,
    pub duration: Duration,
}

/// Key of a cached context block: (as of id, parameters, tail rows if any).
type ContextKey = (i64, ContextParams, Option<usize>);

/// The caches of derived values, by key.
pub struct Caches {
    /// Embeddings of texts (Embed, Search queries).
    pub embeddings: Cache<String, Vector>,
    /// Embeddings of stored events, by id (Search).
    pub event_vectors: Cache<i64, Vector>,
    /// Snapshots as of a past id (reads with `as_of_id`).
    pub history: Cache<i64, Arc<Snapshot>>,
    /// Context blocks by head and parameters (each new head is a new key).
    pub contexts: Cache<ContextKey, Arc<String>>,
    /// GetProjection answers by (as of id, strict, page), each built once
    /// per head.
    pub projections: Cache<(i64, bool, ProjectionPage), Arc<pmm::v1::GetProjectionResponse>>,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches").finish_non_exhaustive()
    }
}

/// An open ledger.
#[derive(Debug)]
pub struct Engine {
    pub config: Config,
    pub store: Store,
    pub writer: WriterHandle,
    pub mind: Arc<Mind>,
    pub hub: Hub,
    pub caches: Caches,
    pub rebuild: RebuildStats,
    pub started: Instant,
    _checkpointer: Checkpointer,
}

impl Engine {
    /// Opens (or creates) the ledger, folds every stored row into fresh
    /// state, and starts the writer. Blocking: run it off the async runtime.
    pub fn open(config: Config, progress: &Progress) -> Result<Engine, OpenError> {
        let started = Instant::now();
        let conn = writer::open_connection(&config.db, config.durability.into())?;
        let checkpointer = Checkpointer::start(&config.db, config.durability.into())?;
        let store = Store::open_pool(&config.db, config.read_pool)?;
        let rebuild_start = Instant::now();
        let (state, head) = rebuild(&store, config.max_tail, i64::MAX, Some(progress))?;
        let rebuild = RebuildStats {
            events: head.count,
            duration: rebuild_start.elapsed(),
        };
        tracing::info!(
            events = head.count,
            last_id = head.last_id,
            millis = rebuild.duration.as_millis() as u64,
            chain_ok = state.chain.ok(),
            "derived state rebuilt"
        );
        if let Some(fault) = state.chain.fault() {
            tracing::warn!("{fault}: reads are served, appends are refused");
        }
        let mind = Arc::new(Mind::new(Snapshot {
            head: head.clone(),
            state: state.clone(),
        }));
        let hub = Hub::new(config.subscriber_buffer, config.max_subscribers);
        let writer = writer::start(
            conn,
            config.durability.into(),
            head,
            state,
            Arc::clone(&mind),
            hub.sink(),
            config.max_batch_events.max(64),
            config.verify_folds_every,
            store.clone(),
        );
        Ok(Engine {
            caches: Caches {
                embeddings: Cache::new(16_384),
                event_vectors: Cache::new(262_144),
                history: Cache::new(16),
                contexts: Cache::new(256),
                projections: Cache::new(16),
            },
            config,
            store,
            writer,
            mind,
            hub,
            rebuild,
            started,
            _checkpointer: checkpointer,
        })
    }

    /// The snapshot as of `as_of` (the current one when `None` or when it is
    /// the head), rebuilt from SQLite and cached for past ids.
    pub fn snapshot_as_of(&self, as_of: Option<i64>) -> Result<Arc<Snapshot>, AsOfError> {
        let current = self.mind.snapshot();
        let Some(id) = as_of else { return Ok(current) };
        if id > current.head.last_id {
            return Err(AsOfError::BeyondHead {
                as_of: id,
                last_id: current.head.last_id,
            });
        }
        if id == current.head.last_id {
            return Ok(current);
        }
        self.caches.history.get_or_insert_with(&id, || {
            let (state, head) = rebuild(&self.store, self.config.max_tail, id, None)?;
            Ok(Arc::new(Snapshot { head, state }))
        })
    }

    /// The embedding of a text, cached.
    pub fn embed(&self, text: &str) -> Vector {
        if let Some(v) = self.caches.embeddings.get(text) {
            return v;
        }
        let v: Vector = Arc::new(embed(text));
        self.caches
            .embeddings
            .insert(text.to_string(), Arc::clone(&v));
        v
    }

    /// The embedding of a text, computed (for one-off texts such as stored
    /// events, cached by id elsewhere).
    pub fn embed_uncached(&self, text: &str) -> Vector {
        Arc::new(embed(text))
    }

    /// Stops subscriptions and lets the writer finish what it has queued.
    pub fn shut_down(&self) {
        self.hub.shut_down();
    }

    /// Refuses new writes and waits for what is queued to be written.
    pub async fn stop_writer(&self) {
        self.writer.stop().await;
    }
}

/// A read as of a past id that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum AsOfError {
    #[error("as_of_id {as_of} is beyond the ledger's last id {last_id}")]
    BeyondHead { as_of: i64, last_id: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Rows handed between the rebuild's two threads at a time.
const REBUILD_BATCH: usize = 1024;

/// Folds every stored row with id <= `up_to` into fresh state, streaming.
///
/// Two threads share the work: this one reads rows from SQLite and folds
/// events; a second parses each row's meta and verifies the hash chain
/// (the larger half), handing the parsed events back in order.
pub fn rebuild(
    store: &Store,
    tail_capacity: usize,
    up_to: i64,
    progress: Option<&Progress>,
) -> Result<(State, Head), StoreError> {
    if let Some(p) = progress {
        let conn = store.conn()?;
        let total: i64 = conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
        p.total.store(total as u64, Ordering::Relaxed);
    }
    let (rows_out, rows_in) = std::sync::mpsc::sync_channel::<Vec<Row>>(8);
    // Unbounded, but never holds more than the batches in flight: this
    // thread drains it each time it hands over a batch.
    let (events_out, events_in) = std::sync::mpsc::channel::<Result<Vec<Arc<Event>>, StoreError>>();
    let parser = std::thread::Builder::new()
        .name("pmm-verify".into())
        .spawn(move || {
            let mut chain = ChainStatus::default();
            for rows in rows_in {
                let events: Result<Vec<Arc<Event>>, StoreError> = rows
                    .into_iter()
                    .map(|row| row.into_event().map(Arc::new))
                    .collect();
                if let Ok(events) = &events {
                    for ev in events {
                        chain.apply(ev);
                    }
                }
                if events_out.send(events).is_err() {
                    break;
                }
            }
            chain
        })
        .map_err(|e| StoreError::Schema(format!("cannot start the verifying thread: {e}")))?;

    let mut folder = Folder {
        state: State::new(tail_capacity),
        head: Head::default(),
        progress,
    };
    let mut batch = Vec::with_capacity(REBUILD_BATCH);
    let read = store.for_each(i64::MIN, up_to, |row| {
        batch.push(row);
        if batch.len() == REBUILD_BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(REBUILD_BATCH));
            // A send fails only if the parser is gone; it is joined below.
            let _ = rows_out.send(full);
            while let Ok(events) = events_in.try_recv() {
                folder.fold(events?);
            }
        }
        Ok::<(), StoreError>(())
    });
    if !batch.is_empty() {
        let _ = rows_out.send(batch);
    }
    drop(rows_out);
    let drained: Result<(), StoreError> = events_in.iter().try_for_each(|events| {
        folder.fold(events?);
        Ok(())
    });
    let chain = parser
        .join()
        .map_err(|_| StoreError::Schema("the verifying thread failed".to_string()))?;
    read?;
    drained?;
    let Folder {
        mut state, head, ..
    } = folder;
    state.set_chain(chain);
    Ok((state, head))
}

/// The folding half of a rebuild.
struct Folder<'a> {
    state: State,
    head: Head,
    progress: Option<&'a Progress>,
}

impl Folder<'_> {
    fn fold(&mut self, events: Vec<Arc<Event>>) {
        let n = events.len() as u64;
        for event in events {
            self.head.last_id = event.id;
            self.head.count += 1;
            self.head.last_hash.clone_from(&event.hash);
            self.head.last_ts = Some(event.ts.clone());
            self.state.apply_except_chain(event);
        }
        if let Some(p) = self.progress {
            p.folded.fetch_add(n, Ordering::Relaxed);
        }
    }
}

/// What verifying one row found, before its link to the previous row is
/// checked (that part is sequential).
enum RowCheck {
    Missing,
    Unreadable(String),
    Unhashable(crate::chain::CanonicalError),
    Computed(String),
}

/// Checks a batch of rows, keeping each row with its result.
fn check_rows(rows: Vec<Row>) -> Vec<(Row, RowCheck)> {
    rows.into_iter()
        .map(|row| {
            let check = check_row(&row);
            (row, check)
        })
        .collect()
}

fn check_row(row: &Row) -> RowCheck {
    if row.hash.is_none() {
        return RowCheck::Missing;
    }
    let meta = match row.parse_meta() {
        Ok(meta) => meta,
        Err(e) => return RowCheck::Unreadable(e.to_string()),
    };
    let hash = crate::chain::event_hash(
        row.id,
        &row.ts,
        &row.kind,
        &row.content,
        &meta,
        row.prev_hash.as_deref(),
    );
    match hash {
        Ok(hash) => RowCheck::Computed(hash),
        Err(e) => RowCheck::Unhashable(e),
    }
}

/// Why the chain breaks at a row, as VerifyChain reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyFault {
    HashMissing,
    Unreadable(String),
    Chain(crate::chain::ChainFaultReason),
}

/// The result of verifying stored rows: rows checked (the faulty one
/// included) and the first fault, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    pub checked: u64,
    pub fault: Option<(i64, VerifyFault)>,
}

/// Verifies every stored row with id <= `up_to` (SPEC §1), streaming. This
/// thread reads the rows and links them in order; a second thread parses
/// and hashes batches, and this one checks a batch itself whenever the
/// second has enough queued, so the two stay equally busy.
pub fn verify_stored_chain(store: &Store, up_to: i64) -> Result<Verification, StoreError> {
    let (work_out, work_in) = std::sync::mpsc::sync_channel::<Vec<Row>>(2);
    let (done_out, done_in) = std::sync::mpsc::channel::<Vec<(Row, RowCheck)>>();
    let worker = std::thread::Builder::new()
        .name("pmm-verify".into())
        .spawn(move || {
            for rows in work_in {
                let checked = check_rows(rows);
                if done_out.send(checked).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| StoreError::Schema(format!("cannot start the verifying thread: {e}")))?;

    let mut linker = Linker {
        verifier: crate::chain::ChainVerifier::new(),
        result: Verification {
            checked: 0,
            fault: None,
        },
        pending: std::collections::VecDeque::new(),
        done_in,
        worker_failed: false,
    };
    let mut batch = Vec::with_capacity(REBUILD_BATCH);
    let read = store.for_each(i64::MIN, up_to, |row| {
        if linker.result.fault.is_some() {
            return Err(Walk::Found);
        }
        batch.push(row);
        if batch.len() < REBUILD_BATCH {
            return Ok(());
        }
        let full = std::mem::replace(&mut batch, Vec::with_capacity(REBUILD_BATCH));
        match work_out.try_send(full) {
            Ok(()) => linker.pending.push_back(Checked::AtWorker),
            // The worker is busy, or gone (it fails only by panicking):
            // check the batch here.
            Err(
                std::sync::mpsc::TrySendError::Full(full)
                | std::sync::mpsc::TrySendError::Disconnected(full),
            ) => linker.pending.push_back(Checked::Here(check_rows(full))),
        }
        linker.link_ready(MAX_PENDING_BATCHES);
        Ok(())
    });
    drop(work_out);
    linker.pending.push_back(Checked::Here(check_rows(batch)));
    linker.link_ready(0);
    if worker.join().is_err() || linker.worker_failed {
        return Err(StoreError::Schema(
            "the verifying thread failed".to_string(),
        ));
    }
    match read {
        Ok(()) | Err(Walk::Found) => Ok(linker.result),
        Err(Walk::Store(e)) => Err(e),
    }
}

/// Batches checked but not yet linked, at most (bounds memory when the
/// worker falls behind).
const MAX_PENDING_BATCHES: usize = 8;

/// A batch in verification order: checked here, or sent to the worker
/// (whose results come back in the order the batches were sent).
enum Checked {
    Here(Vec<(Row, RowCheck)>),
    AtWorker,
}

/// Links checked rows to the ones before, strictly in id order.
struct Linker {
    verifier: crate::chain::ChainVerifier,
    result: Verification,
    pending: std::collections::VecDeque<Checked>,
    done_in: std::sync::mpsc::Receiver<Vec<(Row, RowCheck)>>,
    worker_failed: bool,
}

impl Linker {
    /// Links the batches at the front that are ready, waiting for the
    /// worker while more than `keep` batches are pending.
    fn link_ready(&mut self, keep: usize) {
        while let Some(front) = self.pending.pop_front() {
            let batch = match front {
                Checked::Here(batch) => batch,
                Checked::AtWorker => {
                    let ready = if self.pending.len() >= keep {
                        self.done_in.recv().ok()
                    } else {
                        self.done_in.try_recv().ok()
                    };
                    match ready {
                        Some(batch) => batch,
                        None if self.pending.len() >= keep => {
                            // The worker is gone (it fails only by
                            // panicking): its rows were never checked.
                            self.worker_failed = true;
                            self.pending.clear();
                            return;
                        }
                        None => {
                            self.pending.push_front(Checked::AtWorker);
                            return;
                        }
                    }
                }
            };
            self.link(batch);
        }
    }

    fn link(&mut self, batch: Vec<(Row, RowCheck)>) {
        for (row, check) in batch {
            if self.result.fault.is_some() {
                return;
            }
            self.result.checked += 1;
            let fault = match check {
                RowCheck::Missing => Some(VerifyFault::HashMissing),
                RowCheck::Unreadable(reason) => Some(VerifyFault::Unreadable(reason)),
                RowCheck::Computed(hash) => self.link_row(&row, Ok(hash)),
                RowCheck::Unhashable(e) => self.link_row(&row, Err(e)),
            };
            if let Some(fault) = fault {
                self.result.fault = Some((row.id, fault));
            }
        }
    }

    fn link_row(
        &mut self,
        row: &Row,
        hash: Result<String, crate::chain::CanonicalError>,
    ) -> Option<VerifyFault> {
        self.verifier
            .check_link(
                row.id,
                row.prev_hash.as_deref(),
                row.hash.as_deref(),
                || hash,
            )
            .err()
            .map(|f| VerifyFault::Chain(f.reason))
    }
}

/// Why a verification walk over the rows stopped.
enum Walk {
    /// The first fault is known: the rest need not be read.
    Found,
    Store(StoreError),
}

impl From<StoreError> for Walk {
    fn from(e: StoreError) -> Self {
        Walk::Store(e)
    }
}
