//! WAL checkpoints off the write path.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its
//! threshold: that commit copies the WAL back into the database file and
//! syncs it, on the writer, while callers wait. The writer connection turns
//! it off (see [`super::schema::prepare_writer`]) and this thread, with a
//! connection of its own, runs a PASSIVE checkpoint a few times a second
//! instead: it never blocks the writer, and copies each page once per round
//! however many commits rewrote it.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use super::schema::{self, Durability};
use super::StoreError;

/// How often the WAL is checkpointed.
const INTERVAL: Duration = Duration::from_millis(250);

/// Told about each checkpoint (the ledger keeps its head anchor with it).
pub trait CheckpointHook: Send + 'static {
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

/// The checkpointing thread; stops (after one last checkpoint) when dropped.
#[derive(Debug)]
pub struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the ledger at `path`, syncing as `durability`
    /// asks.
    pub fn start(
        path: &Path,
        durability: Durability,
        mut hook: Box<dyn CheckpointHook>,
    ) -> Result<Checkpointer, StoreError> {
        let conn = Connection::open(path)?;
        super::memory::limit(&conn, super::memory::CHECKPOINTER_CACHE_KIB)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "synchronous", schema::synchronous(durability))?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("pmm-checkpoint".into())
            .spawn(move || {
                let mut failing = None;
                loop {
                    let last = !matches!(
                        stopped.recv_timeout(INTERVAL),
                        Err(RecvTimeoutError::Timeout)
                    );
                    hook.before();
                    let complete = checkpoint(&conn, &mut failing);
                    hook.after(complete);
                    if last {
                        break;
                    }
                }
            })
            .map_err(|source| StoreError::Thread {
                name: "checkpoint",
                source,
            })?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
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

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
