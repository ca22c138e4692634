//! [`Ledger`]: one open ledger — its store, its sequencer, the published
//! snapshot, the subscription hub and the caches — and everything a caller
//! may ask of it. Opening folds the stored rows after the fold snapshot
//! (`pmm.db-snapshot`, see [`super::persist`]), or every row without one
//! (see [`super::replay`]).
//!
//! Methods that read SQLite or replay rows block: call them off the async
//! runtime.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::anchor::{self, Anchor, AnchorKeeper};
use super::breakdown::CachedContext;
use super::caches::{CacheFigures, Caches, Vector};
use super::cancel::Cancel;
use super::condition::{Condition, ConditionCell};
use super::head::Head;
use super::history::{self, History, HistoryError, HistoryQuery};
use super::hub::{self, Ending, Hub, HubError, HubLimits};
use super::persist::{self, SaveError};
use super::replay::{self, Progress, ReplayError, Verification};
use super::reverify::{self, Reverifier};
use super::saver::{SaveOutcome, Saver};
use super::search::{self, SearchQuery, SearchResult};
use super::sequencer::{
    AppendBatch, AppendOutcome, ImportBatch, ImportOutcome, Sequencer, SequencerOptions,
    SequencerStats, StopReason, WriteError,
};
use super::snapshot::{Published, Snapshot};
use super::views::{self, ProjectionView};
use crate::event::Event;
use crate::rules::embedding::embed;
use crate::rules::projection::ProjectionPage;
use crate::rules::{ContextError, ContextFolds, ContextParams, Fold, TailLimits};
use crate::store::checkpoint::Checkpointer;
use crate::store::schema::Durability;
use crate::store::{write, Page, PageQuery, Store, StoreError};

/// The memory of an open ledger besides its windows and caches (its three
/// SQLite connections with their bounded page caches, its folds):
/// measured as the growth of the server's RSS per open mind of 1,000
/// events, its tail window cold, 0.30 MB (BENCHMARKS.md "Many minds").
pub const OPEN_LEDGER_BYTES: u64 = 300_000;

/// Memory of a row held in the tail or live window per byte of its text:
/// the `Event` with its parsed meta (measured: 1.27 KB per row of about
/// 360 bytes of text).
pub const ROW_MEMORY_FACTOR: u64 = 4;

/// How a ledger is opened and run.
#[derive(Clone, Debug)]
pub struct LedgerConfig {
    /// The SQLite file (created with its folder if missing).
    pub path: PathBuf,
    pub durability: Durability,
    /// Read connections in the pool.
    pub read_pool: u32,
    /// The rows kept in memory for context blocks over a tail window.
    pub tail: TailLimits,
    /// How subscriptions bound their memory.
    pub hub: HubLimits,
    /// Requests queued for the writer at most.
    pub write_queue: usize,
    /// Check mode: rebuild and compare every N appended events (0 = off).
    pub verify_folds_every: u64,
    /// Write on although the file does not match its head anchor (after an
    /// operator checked it); the anchor then names the current head.
    pub accept_anchor: bool,
    /// Open subscriptions, counted across every ledger that shares this.
    pub subscribers: Arc<AtomicUsize>,
    /// Save the fold snapshot every N appended events (0 = only when asked,
    /// at close).
    pub snapshot_every: u64,
    /// Verify the whole stored chain in the background this often (zero =
    /// never).
    pub verify_every: Duration,
}

/// Why a ledger could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Replay(#[from] ReplayError),
}

/// A view that cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A read as of a past id that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum AsOfError {
    #[error("as_of_id {as_of} is beyond the ledger's last id {last_id}")]
    BeyondHead { as_of: i64, last_id: i64 },
    #[error(transparent)]
    Replay(#[from] ReplayError),
}

/// Figures of the start-up rebuild.
#[derive(Clone, Copy, Debug, Default)]
pub struct RebuildStats {
    /// Rows folded at open (those after the fold snapshot, if one was used).
    pub events: u64,
    pub duration: Duration,
    /// The last id of the fold snapshot opening started from.
    pub from_snapshot: Option<i64>,
}

/// What Stats reports of one ledger.
#[derive(Clone, Debug)]
pub struct LedgerStats {
    pub head: Head,
    pub events_by_kind: Vec<(String, u64)>,
    pub db_bytes: u64,
    pub wal_bytes: u64,
    pub caches: Vec<CacheFigures>,
    pub rebuild: RebuildStats,
    pub uptime: Duration,
    pub appended_events: u64,
    pub commits: u64,
    pub subscribers: usize,
    /// Rows and bytes in the subscribers' live window.
    pub live_window: (usize, usize),
    /// The first row where the chain breaks (or cannot be read), if any.
    pub chain_fault: Option<crate::chain::ChainFault>,
    /// Whether the ledger can be written.
    pub condition: Condition,
    pub durability: Durability,
}

/// An open ledger.
#[derive(Debug)]
pub struct Ledger {
    config: LedgerConfig,
    store: Store,
    sequencer: Sequencer,
    published: Arc<Published>,
    hub: Hub,
    caches: Caches,
    rebuild: RebuildStats,
    opened_at: Instant,
    condition: ConditionCell,
    saver: Saver,
    /// A broken chain found after open (by the periodic verification).
    found_fault: Arc<OnceLock<crate::chain::ChainFault>>,
    reverifier: Option<Reverifier>,
    /// Asks the writer to fill the cold tail window (see
    /// [`crate::rules::TailWindow`]).
    tail_wanted: Arc<AtomicBool>,
    _checkpointer: Checkpointer,
}

impl Ledger {
    /// Opens (or creates) the ledger, folds the stored rows into fresh
    /// state (those after the fold snapshot when it can be used), and
    /// starts the sequencer. Blocking.
    pub fn open(config: LedgerConfig, progress: &Progress) -> Result<Ledger, OpenError> {
        let opened_at = Instant::now();
        let conn = write::open_connection(&config.path, config.durability)?;
        let read_only = write::unwritable(&conn, &config.path);
        let store = Store::open_pool(&config.path, config.read_pool)?;
        let rebuild_start = Instant::now();
        let snapshot_path = persist::path_for(&config.path);
        // The tail window opens cold (a snapshot's comes back cold): a
        // mind holds the rows of its window only once a tail block is
        // asked for.
        let mut start =
            persist::load(&snapshot_path, &store, config.tail).unwrap_or_else(|| Snapshot {
                head: Head::default(),
                state: crate::rules::State::new(config.tail),
            });
        start.state.tail.make_cold();
        let (from_snapshot, skipped) = (start.head.last_id, start.head.count);
        let folded =
            replay::rebuild_after(&store, start, i64::MAX, Some(progress), &Cancel::never())?;
        if let Err(e) = store.release_memory() {
            tracing::debug!("cannot release the read cache after the rebuild: {e}");
        }
        let rebuild = RebuildStats {
            events: folded.head.count - skipped,
            duration: rebuild_start.elapsed(),
            from_snapshot: (from_snapshot > 0).then_some(from_snapshot),
        };
        tracing::info!(
            events = folded.head.count,
            folded = rebuild.events,
            from_snapshot,
            last_id = folded.head.last_id,
            millis = rebuild.duration.as_millis() as u64,
            chain_ok = folded.state.chain.ok(),
            "derived state rebuilt"
        );
        if let Some(fault) = folded.state.chain.fault() {
            tracing::error!(
                id = fault.id,
                "{fault}: reads are served, appends are refused (see VerifyChain)"
            );
        }
        let anchor_path = anchor::path_for(&config.path);
        let (condition, anchored) = check_anchor(&config, &anchor_path, &store, &folded.head)?;
        if let Some(damage) = &folded.damage {
            condition.degrade(Condition::Damaged {
                reason: damage.clone(),
            });
        }
        if let Some(reason) = read_only {
            condition.degrade(Condition::ReadOnly { reason });
        }
        let published = Arc::new(Published::new(Snapshot {
            head: folded.head.clone(),
            state: folded.state.clone(),
        }));
        let checkpointer = Checkpointer::start(
            &config.path,
            config.durability,
            Box::new(AnchorKeeper::new(
                anchor_path,
                Arc::clone(&published),
                condition.clone(),
                config.durability == Durability::Full,
                anchored,
            )),
        )?;
        let hub = Hub::new(
            config.hub,
            folded.head.last_id,
            Arc::clone(&config.subscribers),
        );
        let found_fault = Arc::new(OnceLock::new());
        let tail_wanted = Arc::new(AtomicBool::new(false));
        let saver = Saver::new(
            snapshot_path,
            Arc::clone(&published),
            config.snapshot_every,
            from_snapshot,
            Arc::clone(&found_fault),
        );
        let sink = {
            let (hub_sink, saver) = (hub.sink(), saver.clone());
            Box::new(move |rows: &[Arc<Event>]| {
                hub_sink(rows);
                saver.note(rows.len());
            })
        };
        // Many rows folded: the next open should not fold them again.
        let many = config.snapshot_every > 0 && rebuild.events >= config.snapshot_every;
        if many && folded.damage.is_none() {
            saver.save_in_background();
        }
        let reverifier = Reverifier::start(
            config.verify_every,
            store.clone(),
            Arc::clone(&published),
            Arc::clone(&found_fault),
        );
        let sequencer = Sequencer::start(
            conn,
            folded,
            Arc::clone(&published),
            sink,
            SequencerOptions {
                durability: config.durability,
                queue: config.write_queue,
                verify_folds_every: config.verify_folds_every,
                store: store.clone(),
                condition: condition.clone(),
                found_fault: Arc::clone(&found_fault),
                tail_wanted: Arc::clone(&tail_wanted),
            },
        );
        Ok(Ledger {
            config,
            store,
            sequencer,
            published,
            hub,
            caches: Caches::default(),
            rebuild,
            opened_at,
            condition,
            saver,
            found_fault,
            reverifier,
            tail_wanted,
            _checkpointer: checkpointer,
        })
    }

    pub fn config(&self) -> &LedgerConfig {
        &self.config
    }

    /// The current snapshot (lock-free).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.published.snapshot()
    }

    /// The current head.
    pub fn head(&self) -> Head {
        self.published.snapshot().head.clone()
    }

    /// The snapshot as of `as_of` when it is at hand: the current one (for
    /// `None` or the head) or a cached one; `Ok(None)` when it must be
    /// rebuilt ([`Ledger::rebuild_as_of`]).
    pub fn snapshot_at_hand(&self, as_of: Option<i64>) -> Result<Option<Arc<Snapshot>>, AsOfError> {
        let current = self.published.snapshot();
        let Some(id) = as_of else {
            return Ok(Some(current));
        };
        if id > current.head.last_id {
            return Err(AsOfError::BeyondHead {
                as_of: id,
                last_id: current.head.last_id,
            });
        }
        if id == current.head.last_id {
            return Ok(Some(current));
        }
        Ok(self.caches.history.get(&id))
    }

    /// The snapshot as of a past id, rebuilt from SQLite (and cached).
    /// Blocking, O(id); stops early when `cancel` is set.
    pub fn rebuild_as_of(&self, id: i64, cancel: &Cancel) -> Result<Arc<Snapshot>, AsOfError> {
        if let Some(snapshot) = self.snapshot_at_hand(Some(id))? {
            return Ok(snapshot);
        }
        self.caches.history.get_or_insert_with(&id, || {
            let folded = replay::rebuild(&self.store, self.config.tail, id, None, cancel)?;
            Ok(Arc::new(Snapshot {
                head: folded.head,
                state: folded.state,
            }))
        })
    }

    /// Appends a batch; resolves once it is committed and published.
    pub async fn append(&self, batch: AppendBatch) -> Result<AppendOutcome, WriteError> {
        self.sequencer.append(batch).await
    }

    /// Imports a batch of complete rows.
    pub async fn import(&self, batch: ImportBatch) -> Result<ImportOutcome, WriteError> {
        self.sequencer.import(batch).await
    }

    /// A page of stored rows. Blocking.
    pub fn read_page(&self, query: &PageQuery) -> Result<Page, StoreError> {
        self.observed(self.store.page(query))
    }

    /// One stored row. Blocking.
    pub fn event(&self, id: i64) -> Result<Option<Event>, StoreError> {
        self.observed(self.store.get(id))
    }

    /// Starts a subscription.
    pub fn subscribe(
        &self,
        spec: hub::Spec,
    ) -> Result<mpsc::Receiver<Result<hub::Delivery, HubError>>, HubError> {
        self.hub
            .subscribe(spec, self.store.clone(), Arc::clone(&self.published))
    }

    /// Whether the ledger can be written, and how that changes.
    pub fn condition(&self) -> &ConditionCell {
        &self.condition
    }

    /// A store error, after noting what it says about the file (read-only,
    /// damaged).
    fn observed<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(StoreError::Sqlite(e)) = &result {
            self.condition.observe(e);
        }
        result
    }

    /// Verifies the stored chain up to `up_to`. Blocking, O(ledger); stops
    /// early when `cancel` is set.
    /// A fault found is recorded as the ledger's chain fault (appends are
    /// refused, Stats shows it), as one found at open: rows before a fold
    /// snapshot are not checked at open.
    pub fn verify(&self, up_to: i64, cancel: &Cancel) -> Result<Verification, ReplayError> {
        let verification = replay::verify_stored_chain(&self.store, up_to, cancel)?;
        if let Some((id, fault)) = &verification.fault {
            let fault = reverify::chain_fault(*id, fault.clone());
            if self.found_fault.set(fault.clone()).is_ok() {
                tracing::error!(
                    id,
                    "VerifyChain: {fault}: reads are served, appends are refused"
                );
            }
        }
        Ok(verification)
    }

    /// Searches the rows up to `last_id`. Blocking, O(ledger); stops early
    /// when `cancel` is set.
    pub fn search(
        &self,
        query: &SearchQuery,
        last_id: i64,
        cancel: &Cancel,
    ) -> Result<SearchResult, ReplayError> {
        let query_vector = self.embed(&query.text);
        search::search(
            &self.store,
            &self.caches,
            query,
            &query_vector,
            last_id,
            cancel,
        )
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

    /// A context block of a snapshot if it is cached.
    pub fn cached_context(
        &self,
        snapshot: &Snapshot,
        params: &ContextParams,
        tail: Option<usize>,
    ) -> Option<Arc<CachedContext>> {
        self.caches
            .contexts
            .get(&(snapshot.as_of_id(), *params, tail))
    }

    /// A context block of a snapshot, cached by head and parameters (with
    /// its breakdowns, counted when first asked for): an interaction asks
    /// for the same block several times per head, and a
    /// tail block costs a replay of the tail window. A tail longer than the
    /// rows the window holds in memory is folded from the older rows in
    /// SQLite first (blocking then). `tail` is at most `max_tail` rows.
    pub fn context(
        &self,
        snapshot: &Snapshot,
        params: &ContextParams,
        tail: Option<usize>,
    ) -> Result<Arc<CachedContext>, ViewError> {
        let key = (snapshot.as_of_id(), *params, tail);
        self.caches.contexts.get_or_insert_with(&key, || {
            let window = &snapshot.state.tail;
            let block = match tail {
                Some(n) if !window.holds(n) => {
                    if window.is_cold() {
                        self.tail_wanted.store(true, Ordering::Relaxed);
                    }
                    let older = self.fold_older(snapshot, n - window.len())?;
                    window.fold_last_after(n, older).render(params)?
                }
                _ => snapshot.state.context_block(params, tail)?,
            };
            Ok(Arc::new(CachedContext::new(block)))
        })
    }

    /// The `count` rows before a snapshot's tail window, folded from SQLite.
    fn fold_older(&self, snapshot: &Snapshot, count: usize) -> Result<ContextFolds, ViewError> {
        let before = snapshot
            .state
            .tail
            .first_id()
            .unwrap_or(snapshot.as_of_id().saturating_add(1));
        let mut folds = ContextFolds::default();
        let Some(from) = self.store.nth_id_before(before, count)? else {
            // Fewer rows than that: all of them.
            self.store.for_each(i64::MIN, before - 1, |ev| {
                folds.apply(&ev);
                Ok::<(), StoreError>(())
            })?;
            return Ok(folds);
        };
        self.store.for_each(from, before - 1, |ev| {
            folds.apply(&ev);
            Ok::<(), StoreError>(())
        })?;
        Ok(folds)
    }

    /// IAS, GAS and the stage as of a series of ids up to `query.to` (the
    /// head when unset), from one replay of the stored rows; stops early
    /// once `cancel` is set. Blocking, O(to).
    pub fn metrics_history(
        &self,
        query: &HistoryQuery,
        cancel: &Cancel,
    ) -> Result<History, HistoryError> {
        history::metrics_history(&self.store, query, self.head().last_id, cancel)
    }

    /// The projection view of a snapshot, built once per head and page.
    pub fn projection(
        &self,
        snapshot: &Snapshot,
        strict: bool,
        page: &ProjectionPage,
    ) -> Arc<ProjectionView> {
        let key = (snapshot.as_of_id(), strict, *page);
        match self.caches.projections.get(&key) {
            Some(view) => view,
            None => {
                let view = Arc::new(views::projection(snapshot, strict, page));
                self.caches.projections.insert(key, Arc::clone(&view));
                view
            }
        }
    }

    /// Statistics of the ledger. Blocking (counts rows by kind).
    pub fn stats(&self) -> Result<LedgerStats, StoreError> {
        let events_by_kind = self.observed(self.store.counts_by_kind())?;
        let (db_bytes, wal_bytes) = self.store.file_sizes();
        let writer: &SequencerStats = &self.sequencer.stats;
        let load = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed);
        Ok(LedgerStats {
            head: self.head(),
            events_by_kind,
            db_bytes,
            wal_bytes,
            caches: self.caches.figures(),
            rebuild: self.rebuild,
            uptime: self.opened_at.elapsed(),
            appended_events: load(&writer.appended_events),
            commits: load(&writer.commits),
            subscribers: self.hub.subscriber_count(),
            live_window: self.hub.window_size(),
            chain_fault: self.chain_fault(),
            condition: self.condition.get(),
            durability: self.config.durability,
        })
    }

    /// Counters of the sequencer (check mode included).
    pub fn sequencer_stats(&self) -> &SequencerStats {
        &self.sequencer.stats
    }

    /// Ends subscriptions (with the error `ending` gives) and the periodic
    /// verification; the sequencer finishes what it has queued.
    pub fn end_subscriptions(&self, ending: Ending) {
        self.hub.end(ending);
        if let Some(reverifier) = &self.reverifier {
            reverifier.stop();
        }
    }

    /// An estimate of the memory this open ledger holds, in bytes: a fixed
    /// part and the parts that grow — the tail window, the live window and
    /// the caches — calibrated against the server's RSS (the two windows
    /// share rows, counted twice: an estimate from above).
    pub fn memory_bytes(&self) -> u64 {
        let (_, live_window) = self.hub.window_size();
        let tail = self.published.snapshot().state.tail.bytes();
        OPEN_LEDGER_BYTES + ROW_MEMORY_FACTOR * (live_window + tail) as u64 + self.caches.bytes()
    }

    /// The first row where the chain breaks, found at open, by the writer
    /// or by the periodic verification.
    pub fn chain_fault(&self) -> Option<crate::chain::ChainFault> {
        let snapshot = self.snapshot();
        snapshot
            .state
            .chain
            .fault()
            .or(self.found_fault.get())
            .cloned()
    }

    /// Saves the fold snapshot of the current head (blocking), so that the
    /// next open folds only what is written after it. Call it when closing
    /// the ledger, after [`Ledger::stop_writer`].
    pub fn save_snapshot(&self) -> Result<SaveOutcome, SaveError> {
        self.saver.save_now()
    }

    /// The fold snapshot's saver (tests).
    pub fn saver(&self) -> &Saver {
        &self.saver
    }

    /// Refuses new writes (saying why: `ending`) and waits for what is
    /// queued to be written.
    pub async fn stop_writer(&self, ending: Ending) {
        let reason = match ending {
            Ending::ShuttingDown => StopReason::ShuttingDown,
            Ending::Closed => StopReason::MindClosed,
            Ending::Deleted => StopReason::MindDeleted,
        };
        self.sequencer.stop(reason).await;
    }
}

/// The ledger's condition as its head anchor finds it, and the anchor now
/// in force (to be kept with the checkpoints).
fn check_anchor(
    config: &LedgerConfig,
    path: &std::path::Path,
    store: &Store,
    head: &Head,
) -> Result<(ConditionCell, Option<Anchor>), StoreError> {
    let condition = ConditionCell::new(Condition::Writable);
    let anchor = match Anchor::read(path) {
        Ok(anchor) => anchor,
        Err(e) => {
            tracing::warn!("{e}; the ledger is not checked against an anchor");
            return Ok((condition, None));
        }
    };
    let Some(anchor) = anchor else {
        return Ok((condition, None));
    };
    let Some(reason) = anchor.check(store, head)? else {
        return Ok((condition, Some(anchor)));
    };
    if config.accept_anchor {
        tracing::warn!(
            "{reason}; accepted (--accept-anchor): the anchor now names the current head"
        );
        let now = Anchor::of(head);
        let renewed = match &now {
            Some(anchor) => anchor.write(path, true).map_err(|e| e.to_string()),
            None => std::fs::remove_file(path).map_err(|e| e.to_string()),
        };
        if let Err(e) = renewed {
            tracing::warn!("cannot renew the anchor {}: {e}", path.display());
        }
        return Ok((condition, now));
    }
    condition.degrade(Condition::AnchorMismatch { reason });
    Ok((condition, Some(anchor)))
}
