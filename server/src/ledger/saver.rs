//! When the fold snapshot (`persist.rs`) is saved: every N appended events
//! on a thread of its own (the writer only counts; the snapshot is encoded
//! from the published `Arc<Snapshot>`, never from the writer's state), at
//! most one save in flight per ledger; after an open that folded many rows;
//! and at close, by [`Saver::save_now`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::persist::{self, SaveError};
use super::snapshot::Published;
use crate::chain::ChainFault;

/// What a save did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaveOutcome {
    /// The snapshot as of this row was written.
    Written { last_id: i64 },
    /// The file already covers the current head.
    UpToDate { last_id: i64 },
    /// Nothing is saved: why.
    NotSaved(&'static str),
}

/// The saver of one ledger (cheap to clone: the writer's sink holds one).
#[derive(Clone, Debug)]
pub struct Saver(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    published: Arc<Published>,
    /// Save every this many appended events (0: only when asked).
    every: u64,
    since: AtomicU64,
    in_flight: AtomicBool,
    /// The last id written; held while writing, so that a save at close
    /// and one in the background never share the temporary file.
    written: Mutex<i64>,
    /// A broken chain found after open (`reverify.rs`): nothing is saved.
    found_fault: Arc<OnceLock<ChainFault>>,
}

impl Saver {
    /// `saved`: the last id the file already covers (0 for none).
    pub fn new(
        path: PathBuf,
        published: Arc<Published>,
        every: u64,
        saved: i64,
        found_fault: Arc<OnceLock<ChainFault>>,
    ) -> Self {
        Saver(Arc::new(Inner {
            path,
            published,
            every,
            since: AtomicU64::new(0),
            in_flight: AtomicBool::new(false),
            written: Mutex::new(saved),
            found_fault,
        }))
    }

    /// Counts `events` appended; starts a background save when N are due
    /// and none is running. Called by the writer after each commit.
    pub fn note(&self, events: usize) {
        let every = self.0.every;
        if every == 0 || events == 0 {
            return;
        }
        let since = self.0.since.fetch_add(events as u64, Ordering::Relaxed) + events as u64;
        if since >= every {
            self.save_in_background();
        }
    }

    /// Starts a save on a thread of its own unless one is running.
    pub fn save_in_background(&self) {
        if self.0.in_flight.swap(true, Ordering::AcqRel) {
            return;
        }
        self.0.since.store(0, Ordering::Relaxed);
        let saver = self.clone();
        let spawned = std::thread::Builder::new()
            .name("pmm-snapshot".into())
            .spawn(move || {
                if let Err(e) = saver.save_now() {
                    tracing::warn!("{e}");
                }
                saver.0.in_flight.store(false, Ordering::Release);
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot start saving the fold snapshot: {e}");
            self.0.in_flight.store(false, Ordering::Release);
        }
    }

    /// Saves the current snapshot now (blocking), unless the file already
    /// covers it or the chain is broken.
    pub fn save_now(&self) -> Result<SaveOutcome, SaveError> {
        let snapshot = self.0.published.snapshot();
        let last_id = snapshot.head.last_id;
        if last_id == 0 {
            return Ok(SaveOutcome::NotSaved("the ledger is empty"));
        }
        if !snapshot.state.chain.ok() || self.0.found_fault.get().is_some() {
            return Ok(SaveOutcome::NotSaved("the hash chain is broken"));
        }
        let mut written = crate::sync::lock(&self.0.written);
        if *written == last_id {
            return Ok(SaveOutcome::UpToDate { last_id });
        }
        let started = std::time::Instant::now();
        persist::save(&self.0.path, &snapshot)?;
        *written = last_id;
        tracing::debug!(
            last_id,
            millis = started.elapsed().as_millis() as u64,
            "fold snapshot saved"
        );
        Ok(SaveOutcome::Written { last_id })
    }

    /// Whether a background save is running (tests).
    pub fn in_flight(&self) -> bool {
        self.0.in_flight.load(Ordering::Acquire)
    }
}
