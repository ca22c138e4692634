//! The periodic background verification of the whole stored chain: since
//! an open from a fold snapshot verifies only the rows after it, the rows
//! before are verified here every `--verify-every` (and by VerifyChain).
//! One thread runs every open ledger's verifications, one at a time, each
//! when due (a thread per ledger would be a thousand sleeping threads for
//! a thousand open minds); a ledger's stops when it closes. A broken chain
//! found is logged and recorded where the writer and Stats read it
//! (appends are then refused, as for a chain found broken at open).

use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use super::cancel::Cancel;
use super::replay::{self, ReplayError, VerifyFault};
use super::snapshot::Published;
use crate::chain::{ChainFault, ChainFaultReason};
use crate::store::Store;
use crate::sync::lock;

/// The longest the thread sleeps without looking at its list.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// One ledger's verifications.
struct Entry {
    every: Duration,
    /// When it is next due; `None` once there is no reason to verify again
    /// (a fault was found and recorded).
    due: Mutex<Option<Instant>>,
    store: Store,
    published: Arc<Published>,
    found: Arc<OnceLock<ChainFault>>,
    cancel: Cancel,
}

/// The ledgers the verification thread serves (closed ones are forgotten
/// when it next looks), and what wakes it when one is added.
static REGISTERED: Mutex<Vec<Weak<Entry>>> = Mutex::new(Vec::new());
static ADDED: Condvar = Condvar::new();

/// A ledger's periodic verification; dropping it stops it (a verification
/// of it in progress is cancelled).
pub struct Reverifier {
    entry: Arc<Entry>,
}

impl std::fmt::Debug for Reverifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reverifier")
            .field("every", &self.entry.every)
            .finish_non_exhaustive()
    }
}

impl Reverifier {
    /// Verifies the chain every `every` (`None` when it is zero, or when
    /// the thread cannot be started).
    pub fn start(
        every: Duration,
        store: Store,
        published: Arc<Published>,
        found: Arc<OnceLock<ChainFault>>,
    ) -> Option<Reverifier> {
        if every.is_zero() {
            return None;
        }
        if let Err(e) = start_thread() {
            tracing::warn!("cannot start the periodic chain verification: {e}");
            return None;
        }
        let entry = Arc::new(Entry {
            every,
            due: Mutex::new(Instant::now().checked_add(every)),
            store,
            published,
            found,
            cancel: Cancel::new(),
        });
        lock(&REGISTERED).push(Arc::downgrade(&entry));
        ADDED.notify_one();
        Some(Reverifier { entry })
    }

    /// Stops it (also on drop).
    pub fn stop(&self) {
        self.entry.cancel.cancel();
    }
}

impl Drop for Reverifier {
    fn drop(&mut self) {
        self.entry.cancel.cancel();
    }
}

/// Starts the process's verification thread, once.
fn start_thread() -> Result<(), String> {
    static STARTED: OnceLock<Result<(), String>> = OnceLock::new();
    STARTED
        .get_or_init(|| {
            std::thread::Builder::new()
                .name("pmm-reverify".into())
                .spawn(run)
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .clone()
}

/// The verification thread: runs what is due, then sleeps until the next
/// one is (or a ledger is added).
fn run() {
    loop {
        let now = Instant::now();
        // Held weakly until its turn: a ledger closed meanwhile is skipped.
        let due: Vec<Weak<Entry>> = {
            let mut list = lock(&REGISTERED);
            list.retain(|e| e.strong_count() > 0);
            let mut due = Vec::new();
            let mut next = now + LOOK_EVERY;
            // A stopped ledger (closing) is never due again.
            let live = list.iter().filter_map(Weak::upgrade);
            for entry in live.filter(|e| !e.cancel.is_cancelled()) {
                let at = *lock(&entry.due);
                match at {
                    Some(at) if at <= now => due.push(Arc::downgrade(&entry)),
                    Some(at) => next = next.min(at),
                    None => {}
                }
            }
            if due.is_empty() {
                let wait = next.saturating_duration_since(now);
                drop(ADDED.wait_timeout(list, wait));
                continue;
            }
            due
        };
        for entry in due.iter().filter_map(Weak::upgrade) {
            // A panic verifying one ledger must not end the thread that
            // verifies them all (that ledger is not verified again).
            let one = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| verify_due(&entry)));
            if one.is_err() {
                *lock(&entry.due) = None;
                tracing::error!("a periodic chain verification panicked; the others go on");
            }
        }
    }
}

/// One due verification of a ledger, and when the next is.
fn verify_due(entry: &Entry) {
    if entry.cancel.is_cancelled() {
        return;
    }
    let again = verify_once(&entry.store, &entry.published, &entry.found, &entry.cancel);
    *lock(&entry.due) = match again {
        std::ops::ControlFlow::Continue(()) => Instant::now().checked_add(entry.every),
        std::ops::ControlFlow::Break(()) => None,
    };
}

/// The chain fault a verification found at row `id`.
pub fn chain_fault(id: i64, fault: VerifyFault) -> ChainFault {
    ChainFault {
        id,
        reason: match fault {
            VerifyFault::HashMissing => ChainFaultReason::HashMissing,
            VerifyFault::Unreadable(reason) => ChainFaultReason::Unreadable(reason),
            VerifyFault::Chain(reason) => reason,
        },
    }
}

/// One verification up to the current head; `Break` when there is no
/// reason to verify again (cancelled, or a fault found and recorded).
pub fn verify_once(
    store: &Store,
    published: &Published,
    found: &OnceLock<ChainFault>,
    cancel: &Cancel,
) -> std::ops::ControlFlow<()> {
    use std::ops::ControlFlow::{Break, Continue};
    let up_to = published.snapshot().head.last_id;
    let started = std::time::Instant::now();
    match replay::verify_stored_chain(store, up_to, cancel) {
        Ok(v) => match v.fault {
            None => {
                tracing::debug!(
                    checked = v.checked,
                    millis = started.elapsed().as_millis() as u64,
                    "periodic chain verification: the chain verifies"
                );
                Continue(())
            }
            Some((id, fault)) => {
                let fault = chain_fault(id, fault);
                tracing::error!(
                    id,
                    "periodic chain verification: {fault}: reads are served, appends are refused (see VerifyChain)"
                );
                let _ = found.set(fault);
                Break(())
            }
        },
        Err(ReplayError::Cancelled) => Break(()),
        Err(e) => {
            tracing::warn!("periodic chain verification failed: {e}");
            Continue(())
        }
    }
}
