//! [`Registry`]: the minds of one server, a bounded set of them open.
//!
//! Each open mind is a whole [`Ledger`] — its own single writer (group
//! commit per mind: no write lock across minds), read pool, folds and
//! caches. The open ones sit in a quick_cache (one shard, no hot section:
//! second-chance eviction, close to least-recently-used) weighted by each mind's measured
//! memory: a mind weighs `max(memory, max_open_memory / max_open_minds)`,
//! so that the weights fitting in `max_open_memory` bounds both the memory
//! and the count. A mind some call is using is pinned; the one evicted is
//! closed in the background — its queued appends are written, its
//! subscriptions end with UNAVAILABLE telling them to resume — and a call
//! for it meanwhile waits for that close before opening it again, so that a
//! file never has two writers.
//!
//! Opening, closing, creating and deleting a mind hold its name's lock (one
//! of [`NAME_LOCKS`] striped locks): concurrent calls for a closed mind
//! share one opening.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use pmm::mind::DEFAULT_MIND;
use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, Lifecycle, OptionsBuilder, Weighter};
use tokio::runtime::Handle;
use tokio::sync::watch;

use super::layout::{Layout, LayoutError};
use crate::ledger::handle::{Ledger, LedgerConfig, OpenError};
use crate::ledger::hub::Ending;
use crate::ledger::replay::Progress;

/// Striped locks by name: opening, closing, creating and deleting a mind
/// hold one. Different minds rarely share a stripe.
pub const NAME_LOCKS: usize = 1024;

/// File descriptors an idle open mind holds (measured a minute after its
/// last call: BENCHMARKS.md "Many minds"): the writer's, the checkpointer's
/// and a reader's connection, each the file and its log; the `-shm` they
/// share; and the file of the two readers r2d2 opened and closed on the
/// way, which SQLite keeps open while the mind's other connections hold
/// their locks on it.
pub const FILES_PER_IDLE_MIND: u64 = 9;

/// How often the open minds are weighed again (their windows and caches
/// grow and shrink).
const REWEIGH_EVERY: Duration = Duration::from_secs(2);

/// How many minds may be open and how much memory they may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenLimits {
    pub max_open_minds: usize,
    pub max_open_memory: u64,
}

/// Why a mind cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum MindError {
    #[error("{}", not_found(.name, .hint))]
    NotFound { name: String, hint: Hint },
    #[error("mind \"{0}\" already exists")]
    AlreadyExists(String),
    #[error("the mind \"default\" cannot be deleted")]
    DefaultStays,
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("cannot open the mind \"{name}\": {source}")]
    Open { name: String, source: OpenError },
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error("{0}")]
    Worker(String),
}

/// What a NOT_FOUND message suggests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hint {
    /// Create it (CreateMind, or --create-minds-on-append).
    Create,
    /// This server serves one file (--db).
    SingleFile,
}

fn not_found(name: &str, hint: &Hint) -> String {
    match hint {
        Hint::Create => format!(
            "pmm-mind: no mind named \"{name}\" on this server (create it with pmm.v1.Minds/CreateMind, or run the server with --create-minds-on-append)"
        ),
        Hint::SingleFile => format!(
            "pmm-mind: no mind named \"{name}\" on this server (it serves one file, --db, as the mind \"default\"; serve a --data-dir for many minds)"
        ),
    }
}

/// What Stats reports of the open minds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegistryFigures {
    pub open: u64,
    pub open_memory_bytes: u64,
    pub limits: Option<OpenLimits>,
    /// Minds opened, and closed to make room, since start.
    pub opened: u64,
    pub closed: u64,
}

/// An open mind as the cache holds it: the ledger and the weight it was
/// put in with.
#[derive(Clone)]
struct OpenMind {
    ledger: Arc<Ledger>,
    weight: u64,
}

#[derive(Clone)]
struct ByWeight;

impl Weighter<String, OpenMind> for ByWeight {
    fn weight(&self, _name: &String, mind: &OpenMind) -> u64 {
        mind.weight
    }
}

/// Minds being closed, each with a flag set once it is.
#[derive(Default)]
struct Closing {
    minds: Mutex<HashMap<String, watch::Receiver<bool>>>,
    closed: AtomicU64,
}

impl Closing {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, watch::Receiver<bool>>> {
        crate::sync::lock(&self.minds)
    }

    /// Waits until every close in progress now is done.
    async fn wait_all(&self) {
        let pending: Vec<String> = self.lock().keys().cloned().collect();
        for name in pending {
            self.wait(&name).await;
        }
    }

    /// Waits until `name` is not being closed.
    async fn wait(&self, name: &str) {
        let pending = self.lock().get(name).cloned();
        if let Some(mut done) = pending {
            let _ = done.wait_for(|closed| *closed).await;
        }
    }
}

/// Closes what the cache evicts.
#[derive(Clone)]
struct Closer {
    closing: Arc<Closing>,
    runtime: Handle,
}

impl Lifecycle<String, OpenMind> for Closer {
    type RequestState = ();

    fn begin_request(&self) -> Self::RequestState {}

    /// A mind some call holds stays open.
    fn is_pinned(&self, _name: &String, mind: &OpenMind) -> bool {
        Arc::strong_count(&mind.ledger) > 1
    }

    /// Runs under the cache's lock: the close is registered before anyone
    /// can look for the mind again, and done in the background.
    fn on_evict(&self, _: &mut (), name: String, mind: OpenMind) {
        let (done, closed) = watch::channel(false);
        self.closing.lock().insert(name.clone(), closed);
        let closing = Arc::clone(&self.closing);
        self.runtime.spawn(async move {
            close(&name, mind.ledger, Ending::Closed).await;
            closing.closed.fetch_add(1, Ordering::Relaxed);
            closing.lock().remove(&name);
            done.send_replace(true);
        });
    }
}

/// Closes a ledger nobody else holds: ends its subscriptions, writes what
/// is queued, saves its fold snapshot (the next open folds only what comes
/// after), and drops it off the runtime (dropping joins its threads).
async fn close(name: &str, ledger: Arc<Ledger>, ending: Ending) {
    ledger.end_subscriptions(ending);
    ledger.stop_writer(ending).await;
    let name = name.to_string();
    let dropped = tokio::task::spawn_blocking(move || {
        if let Err(e) = ledger.save_snapshot() {
            tracing::warn!(mind = %name, "fold snapshot not saved at close: {e}");
        }
        drop(ledger);
        name
    })
    .await;
    match dropped {
        Ok(name) => tracing::debug!(mind = %name, "closed"),
        Err(e) => tracing::error!("closing a mind failed: {e}"),
    }
}

/// The minds of one server.
pub struct Registry {
    layout: Layout,
    /// How each mind's ledger is opened (its path aside).
    template: LedgerConfig,
    limits: OpenLimits,
    open: Cache<String, OpenMind, ByWeight, DefaultHashBuilder, Closer>,
    closing: Arc<Closing>,
    locks: Vec<tokio::sync::Mutex<()>>,
    hasher: DefaultHashBuilder,
    create_on_append: bool,
    opened: AtomicU64,
    stopping: AtomicBool,
    /// Start-up progress of the mind being opened when it is `default`.
    progress: Arc<Progress>,
    /// `default`, held open for good: health follows its condition.
    default: std::sync::OnceLock<Arc<Ledger>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("layout", &self.layout)
            .field("open", &self.open.len())
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A registry of the minds in `layout`, none open yet. Must be called
    /// on the runtime (closes are spawned on it).
    pub fn new(
        layout: Layout,
        template: LedgerConfig,
        limits: OpenLimits,
        create_on_append: bool,
        progress: Arc<Progress>,
    ) -> Arc<Registry> {
        let limits = OpenLimits {
            max_open_minds: limits.max_open_minds.max(1),
            max_open_memory: limits.max_open_memory.max(1),
        };
        let closing = Arc::new(Closing::default());
        let options = OptionsBuilder::new()
            // One shard: the limits hold for the whole set, not per shard.
            .shards(1)
            // No "hot" section: a mind used often long ago is closed
            // before one used lately (second-chance, close to LRU), not
            // kept for good while the others churn.
            .hot_allocation(0.0)
            .estimated_items_capacity(limits.max_open_minds)
            .weight_capacity(limits.max_open_memory)
            .build()
            .unwrap_or_else(|_| unreachable!("shards, items and weight are set"));
        let open = Cache::with_options(
            options,
            ByWeight,
            DefaultHashBuilder::default(),
            Closer {
                closing: Arc::clone(&closing),
                runtime: Handle::current(),
            },
        );
        let registry = Arc::new(Registry {
            layout,
            template,
            limits,
            open,
            closing,
            locks: (0..NAME_LOCKS)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            hasher: DefaultHashBuilder::default(),
            create_on_append,
            opened: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            progress,
            default: std::sync::OnceLock::new(),
        });
        tokio::spawn(reweigh(Arc::downgrade(&registry)));
        registry
    }

    /// Opens `default` (creating it on a fresh data directory) and holds it
    /// open for good: it always exists, and health follows it.
    pub async fn open_default(&self) -> Result<Arc<Ledger>, MindError> {
        let ledger = self.mind(DEFAULT_MIND, true).await?;
        let _ = self.default.set(Arc::clone(&ledger));
        Ok(ledger)
    }

    /// `default`, once start-up has opened it.
    pub fn default_mind(&self) -> Option<Arc<Ledger>> {
        self.default.get().cloned()
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Whether an Append may create the mind it names.
    pub fn creates_on_append(&self) -> bool {
        self.create_on_append
    }

    /// The open mind `name`, opening it if it is closed (`create`: creating
    /// it if it does not exist). NOT_FOUND for a mind that does not exist.
    pub async fn mind(&self, name: &str, create: bool) -> Result<Arc<Ledger>, MindError> {
        if let Some(mind) = self.open.get(name) {
            return Ok(mind.ledger);
        }
        let _lock = self.lock(name).await;
        if let Some(mind) = self.open.get(name) {
            return Ok(mind.ledger);
        }
        self.closing.wait(name).await;
        if !self.layout.exists(name) {
            if !create {
                return Err(self.not_found(name));
            }
            self.layout.prepare(name)?;
        }
        self.open_locked(name).await
    }

    /// Creates the mind `name` (and opens it).
    pub async fn create(&self, name: &str) -> Result<Arc<Ledger>, MindError> {
        let _lock = self.lock(name).await;
        self.closing.wait(name).await;
        if self.open.get(name).is_some() || !self.layout.prepare(name)? {
            return Err(MindError::AlreadyExists(name.to_string()));
        }
        self.open_locked(name).await
    }

    /// The open mind `name` if it is open (without opening it).
    pub fn if_open(&self, name: &str) -> Option<Arc<Ledger>> {
        self.open.peek(name).map(|mind| mind.ledger)
    }

    /// Deletes the mind `name`: closes it (its queued appends are written,
    /// its subscriptions end) and moves its folder to the trash; returns
    /// where it went.
    pub async fn delete(&self, name: &str) -> Result<PathBuf, MindError> {
        if name == DEFAULT_MIND {
            return Err(MindError::DefaultStays);
        }
        if let Layout::SingleFile(_) = self.layout {
            return Err(self.not_found(name));
        }
        let _lock = self.lock(name).await;
        self.closing.wait(name).await;
        if !self.layout.exists(name) {
            return Err(self.not_found(name));
        }
        if let Some((_, mind)) = self.open.remove(name) {
            close(name, mind.ledger, Ending::Deleted).await;
        }
        let stamp = utc_stamp();
        Ok(self.layout.trash(name, &stamp)?)
    }

    /// Closes every open mind (at shutdown): refuses new openings, ends
    /// subscriptions, writes what is queued.
    pub async fn close_all(&self) {
        self.stopping.store(true, Ordering::Release);
        let minds: Vec<(String, OpenMind)> = self.open.drain().collect();
        for (name, mind) in minds {
            close(&name, mind.ledger, Ending::ShuttingDown).await;
        }
        self.closing.wait_all().await;
    }

    /// Ends the subscriptions of every open mind (shutdown begins).
    pub fn end_subscriptions(&self) {
        for (_, mind) in self.open.iter() {
            mind.ledger.end_subscriptions(Ending::ShuttingDown);
        }
    }

    /// The open minds' figures, for Stats.
    pub fn figures(&self) -> RegistryFigures {
        let mut memory = 0;
        for (_, mind) in self.open.iter() {
            memory += mind.ledger.memory_bytes();
        }
        RegistryFigures {
            open: self.open.len() as u64,
            open_memory_bytes: memory,
            limits: Some(self.limits),
            opened: self.opened.load(Ordering::Relaxed),
            closed: self.closing.closed.load(Ordering::Relaxed),
        }
    }

    /// NOT_FOUND for `name`, with what this server suggests.
    pub fn not_found(&self, name: &str) -> MindError {
        let hint = match self.layout {
            Layout::SingleFile(_) => Hint::SingleFile,
            Layout::DataDir(_) => Hint::Create,
        };
        MindError::NotFound {
            name: name.to_string(),
            hint,
        }
    }

    async fn lock(&self, name: &str) -> tokio::sync::MutexGuard<'_, ()> {
        let stripe = (self.hasher.hash_one(name) as usize) % self.locks.len();
        self.locks[stripe].lock().await
    }

    /// Opens `name` (its lock held, nothing closing it) and puts it in the
    /// cache, which may close others to make room.
    async fn open_locked(&self, name: &str) -> Result<Arc<Ledger>, MindError> {
        if self.stopping.load(Ordering::Acquire) {
            return Err(MindError::ShuttingDown);
        }
        let Some(path) = self.layout.db_path(name) else {
            return Err(self.not_found(name));
        };
        let config = LedgerConfig {
            path,
            ..self.template.clone()
        };
        let progress = if name == DEFAULT_MIND {
            Arc::clone(&self.progress)
        } else {
            Arc::new(Progress::default())
        };
        let opened = tokio::task::spawn_blocking(move || Ledger::open(config, &progress))
            .await
            .map_err(|e| MindError::Worker(e.to_string()))?;
        let ledger = Arc::new(opened.map_err(|source| MindError::Open {
            name: name.to_string(),
            source,
        })?);
        self.opened.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(mind = name, "opened");
        let weight = self.weight(&ledger);
        self.open.insert(
            name.to_string(),
            OpenMind {
                ledger: Arc::clone(&ledger),
                weight,
            },
        );
        Ok(ledger)
    }

    /// Puts an open mind back in the cache with a new weight (which may
    /// close others). Not `replace`: quick_cache hands a replaced value to
    /// `on_evict`, which would close the mind. Under the name's lock, so
    /// that nobody opens it meanwhile; a mind evicted since is left to its
    /// close.
    async fn reweigh(&self, name: &str, weight: u64) {
        let _lock = self.lock(name).await;
        let Some((name, mind)) = self.open.remove(name) else {
            return;
        };
        // Held through the insert: a mind being inserted is pinned.
        let ledger = mind.ledger;
        self.open.insert(
            name,
            OpenMind {
                ledger: Arc::clone(&ledger),
                weight,
            },
        );
        drop(ledger);
    }

    /// A mind's weight in the cache: its memory, at least its share of the
    /// memory by count (so that the count is bounded too), at most all of
    /// it (a mind larger than the limit is still served, alone).
    fn weight(&self, ledger: &Ledger) -> u64 {
        let share = self.limits.max_open_memory / self.limits.max_open_minds as u64;
        ledger
            .memory_bytes()
            .max(share.max(1))
            .min(self.limits.max_open_memory)
    }
}

/// Weighs the open minds again now and then, until the registry is gone.
async fn reweigh(registry: std::sync::Weak<Registry>) {
    let mut ticks = tokio::time::interval(REWEIGH_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(registry) = registry.upgrade() else {
            return;
        };
        if registry.stopping.load(Ordering::Acquire) {
            return;
        }
        let minds: Vec<(String, OpenMind)> = registry.open.iter().collect();
        for (name, mind) in minds {
            let weight = registry.weight(&mind.ledger);
            // Only a real change: a re-insert costs a little.
            if weight.abs_diff(mind.weight) > mind.weight / 8 {
                registry.reweigh(&name, weight).await;
            }
        }
    }
}

/// A UTC time stamp for a file or folder name, to the millisecond
/// (`20261130T031500.123Z`).
pub fn utc_stamp() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn registry(dir: &std::path::Path, max_open_minds: usize) -> Arc<Registry> {
        let config = Config::for_data_dir(dir);
        Registry::new(
            config.layout(),
            config.ledger(PathBuf::new()),
            OpenLimits {
                max_open_minds,
                max_open_memory: 1 << 30,
            },
            false,
            Arc::new(Progress::default()),
        )
    }

    /// Waits for the closes in progress.
    async fn settled(registry: &Registry) {
        registry.closing.wait_all().await;
    }

    #[tokio::test]
    async fn a_mind_weighed_again_stays_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let registry = registry(dir.path(), 10);
        let a = registry.create("a").await.expect("create");
        registry.reweigh("a", 5 << 20).await;
        settled(&registry).await;
        assert_eq!(registry.figures().closed, 0, "not closed by the re-insert");
        let still = registry.if_open("a").expect("open");
        assert!(Arc::ptr_eq(&a, &still));
        assert_eq!(registry.open.get("a").map(|m| m.weight), Some(5 << 20));
    }

    #[tokio::test]
    async fn the_least_recently_used_is_closed_and_a_held_one_never() {
        let dir = tempfile::tempdir().expect("tempdir");
        let registry = registry(dir.path(), 2);
        let held = registry.create("held").await.expect("create");
        drop(registry.create("b").await.expect("create"));
        drop(registry.create("c").await.expect("create"));
        settled(&registry).await;
        assert!(registry.if_open("held").is_some(), "a held mind is pinned");
        assert!(registry.if_open("b").is_none(), "b made room for c");
        assert!(registry.if_open("c").is_some());
        assert_eq!(registry.figures().closed, 1);
        drop(held);
        // Opened again on demand, from its file.
        assert!(registry.mind("b", false).await.is_ok());
        settled(&registry).await;
        assert_eq!(registry.figures().open, 2);
        assert!(matches!(
            registry.mind("nobody", false).await,
            Err(MindError::NotFound { .. })
        ));
    }
}
