//! WAL checkpoints off the write path.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its
//! threshold: that commit copies the WAL back into the database file and
//! syncs it, on the writer, while callers wait. The writer connection turns
//! it off (see [`super::schema::prepare_writer`]) and checkpoints run here
//! instead, each ledger with a connection of its own: PASSIVE (they never
//! block the writer), copying each page once per round however many
//! commits rewrote it.
//!
//! One thread checkpoints every open ledger of the process in turn, every
//! [`INTERVAL`], skipping those not written since their last complete
//! checkpoint: a thousand open minds cost one thread, and idle ones cost
//! nothing (a thread per ledger woke four times a second each, 12 % of a
//! core for 1,000 idle minds). When many are written at once, a round
//! takes longer and each checkpoint covers more commits.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::schema::{self, Durability};
use super::StoreError;
use crate::sync::lock;

/// How often each written ledger is checkpointed (at most).
const INTERVAL: Duration = Duration::from_millis(250);

/// Told about each checkpoint (the ledger keeps its head anchor with it).
pub trait CheckpointHook: Send + 'static {
    /// Whether the ledger may have been written since its last complete
    /// checkpoint (a round skips it otherwise).
    fn pending(&self) -> bool {
        true
    }
    /// Just before a checkpoint starts.
    fn before(&mut self);
    /// After it, `complete` when every frame of the WAL was copied into the
    /// database file (and synced): what was committed before it started is
    /// now in the file.
    fn after(&mut self, complete: bool);
}

/// A hook that does nothing.
pub struct NoHook;

impl CheckpointHook for NoHook {
    fn before(&mut self) {}
    fn after(&mut self, _complete: bool) {}
}

/// One ledger's checkpoints: its connection (taken out when it closes) and
/// hook.
struct Entry {
    conn: Option<Connection>,
    hook: Box<dyn CheckpointHook>,
    /// The failure being logged (logged again only when it changes).
    failing: Option<String>,
}

impl Entry {
    fn checkpoint(&mut self) {
        let Some(conn) = &self.conn else {
            return;
        };
        self.hook.before();
        let complete = checkpoint(conn, &mut self.failing);
        self.hook.after(complete);
    }
}

/// The ledgers the checkpoint thread goes through (closed ones are
/// forgotten at the next round).
static REGISTERED: Mutex<Vec<Weak<Mutex<Entry>>>> = Mutex::new(Vec::new());

/// Starts the process's checkpoint thread, once.
fn start_thread() -> Result<(), StoreError> {
    static STARTED: OnceLock<Result<(), String>> = OnceLock::new();
    let started = STARTED.get_or_init(|| {
        std::thread::Builder::new()
            .name("pmm-checkpoint".into())
            .spawn(run)
            .map(drop)
            .map_err(|e| e.to_string())
    });
    started.clone().map_err(|reason| StoreError::Thread {
        name: "checkpoint",
        source: std::io::Error::other(reason),
    })
}

/// The checkpoint thread: a round every [`INTERVAL`] (or as soon as the
/// last one ended, when it took longer).
fn run() {
    loop {
        let started = Instant::now();
        round();
        std::thread::sleep(INTERVAL.saturating_sub(started.elapsed()));
    }
}

/// Checkpoints each registered ledger written since its last complete
/// checkpoint; forgets those closed.
fn round() {
    let entries: Vec<Weak<Mutex<Entry>>> = {
        let mut entries = lock(&REGISTERED);
        entries.retain(|e| e.strong_count() > 0);
        entries.clone()
    };
    for weak in entries {
        // One at a time, held only while it is checkpointed: a closing
        // ledger runs its last checkpoint and closes its connection itself
        // (see `Drop`).
        let Some(entry) = weak.upgrade() else {
            continue;
        };
        // A panic checkpointing one ledger must not end the thread that
        // checkpoints them all.
        let one = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut entry = lock(&entry);
            if entry.hook.pending() {
                entry.checkpoint();
            }
        }));
        if one.is_err() {
            tracing::error!("a checkpoint panicked; the others go on");
        }
    }
}

/// A ledger's checkpoints; the last one runs, and its connection closes,
/// when this is dropped.
pub struct Checkpointer {
    entry: Arc<Mutex<Entry>>,
}

impl std::fmt::Debug for Checkpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointer").finish_non_exhaustive()
    }
}

impl Checkpointer {
    /// Starts checkpointing the ledger at `path`, syncing as `durability`
    /// asks.
    pub fn start(
        path: &Path,
        durability: Durability,
        hook: Box<dyn CheckpointHook>,
    ) -> Result<Checkpointer, StoreError> {
        let conn = Connection::open(path)?;
        super::memory::limit(&conn, super::memory::CHECKPOINTER_CACHE_KIB)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "synchronous", schema::synchronous(durability))?;
        let entry = Arc::new(Mutex::new(Entry {
            conn: Some(conn),
            hook,
            failing: None,
        }));
        start_thread()?;
        lock(&REGISTERED).push(Arc::downgrade(&entry));
        Ok(Checkpointer { entry })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Waits for a checkpoint of it in progress on the thread.
        let mut entry = lock(&self.entry);
        entry.checkpoint();
        entry.conn = None;
    }
}

/// One PASSIVE checkpoint: as much of the WAL as no reader still needs.
/// `true` when all of it was copied. A failure is logged when it begins or
/// changes, not every round (a read-only ledger fails them all);
/// `failing` holds the one in progress.
fn checkpoint(conn: &Connection, failing: &mut Option<String>) -> bool {
    let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    });
    match result {
        Ok((busy, wal_frames, copied)) => {
            if failing.take().is_some() {
                tracing::info!("checkpoints work again");
            }
            if copied > 0 {
                tracing::trace!(wal_frames, copied, "checkpoint");
            }
            busy == 0 && wal_frames == copied
        }
        Err(e) => {
            let error = e.to_string();
            if failing.as_ref() != Some(&error) {
                tracing::warn!("checkpoint failed: {error} (logged again only if this changes)");
                *failing = Some(error);
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Counts checkpoints; pending when told.
    struct Counting {
        pending: Arc<AtomicBool>,
        checkpoints: Arc<AtomicUsize>,
    }

    impl CheckpointHook for Counting {
        fn pending(&self) -> bool {
            self.pending.load(Ordering::SeqCst)
        }
        fn before(&mut self) {}
        fn after(&mut self, _complete: bool) {
            self.checkpoints.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn threads_named(name: &str) -> usize {
        std::fs::read_dir("/proc/self/task")
            .expect("tasks")
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .filter(|comm| comm.trim() == name)
            .count()
    }

    /// One thread serves every ledger; a ledger is checkpointed only while
    /// written since its last checkpoint, and once more when it closes.
    #[test]
    fn one_thread_checkpoints_the_ledgers_written_and_each_at_close() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut ledgers = Vec::new();
        for i in 0..12 {
            let path = dir.path().join(format!("{i}.db"));
            let _writer =
                super::super::write::open_connection(&path, Durability::Normal).expect("create");
            let pending = Arc::new(AtomicBool::new(false));
            let checkpoints = Arc::new(AtomicUsize::new(0));
            let hook = Counting {
                pending: Arc::clone(&pending),
                checkpoints: Arc::clone(&checkpoints),
            };
            let checkpointer =
                Checkpointer::start(&path, Durability::Normal, Box::new(hook)).expect("start");
            ledgers.push((checkpointer, pending, checkpoints));
        }
        assert_eq!(threads_named("pmm-checkpoint"), 1);

        std::thread::sleep(INTERVAL * 3);
        assert!(ledgers
            .iter()
            .all(|(_, _, n)| n.load(Ordering::SeqCst) == 0));

        let (_, pending, checkpoints) = &ledgers[3];
        pending.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(5);
        while checkpoints.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
            std::thread::sleep(INTERVAL / 5);
        }
        assert!(checkpoints.load(Ordering::SeqCst) >= 2);
        let others: usize = ledgers
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 3)
            .map(|(_, (_, _, n))| n.load(Ordering::SeqCst))
            .sum();
        assert_eq!(others, 0);

        let (checkpointer, _, checkpoints) = ledgers.remove(0);
        drop(checkpointer);
        assert_eq!(
            checkpoints.load(Ordering::SeqCst),
            1,
            "the last one at close"
        );
    }
}
