//! The periodic background verification of the whole stored chain: since
//! an open from a fold snapshot verifies only the rows after it, the rows
//! before are verified here every `--verify-every` (and by VerifyChain).
//! One such verification runs at a time in the process; each ledger's
//! stops when the ledger closes. A broken chain found is logged and
//! recorded where the writer and Stats read it (appends are then refused,
//! as for a chain found broken at open).

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::cancel::Cancel;
use super::replay::{self, ReplayError, VerifyFault};
use super::snapshot::Published;
use crate::chain::{ChainFault, ChainFaultReason};
use crate::store::Store;

/// Held by the one verification running in the process.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The verification thread of one ledger; dropping it stops the thread.
#[derive(Debug)]
pub struct Reverifier {
    cancel: Cancel,
    /// Dropped (or sent on) to wake the thread from its wait.
    _wake: mpsc::Sender<()>,
}

impl Reverifier {
    /// Verifies the chain every `every` (`None` when it is zero).
    pub fn start(
        every: Duration,
        store: Store,
        published: Arc<Published>,
        found: Arc<OnceLock<ChainFault>>,
    ) -> Option<Reverifier> {
        if every.is_zero() {
            return None;
        }
        let cancel = Cancel::new();
        let (wake, woken) = mpsc::channel::<()>();
        let flag = cancel.clone();
        let spawned = std::thread::Builder::new()
            .name("pmm-reverify".into())
            .spawn(move || run(every, &woken, &store, &published, &found, &flag));
        if let Err(e) = spawned {
            tracing::warn!("cannot start the periodic chain verification: {e}");
            return None;
        }
        Some(Reverifier {
            cancel,
            _wake: wake,
        })
    }

    /// Stops the thread (also on drop).
    pub fn stop(&self) {
        self.cancel.cancel();
    }
}

impl Drop for Reverifier {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn run(
    every: Duration,
    woken: &mpsc::Receiver<()>,
    store: &Store,
    published: &Published,
    found: &OnceLock<ChainFault>,
    cancel: &Cancel,
) {
    loop {
        match woken.recv_timeout(every) {
            Err(RecvTimeoutError::Timeout) => {}
            // Woken, or the ledger is gone.
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        if cancel.is_cancelled() {
            return;
        }
        if verify_once(store, published, found, cancel).is_break() {
            return;
        }
    }
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
