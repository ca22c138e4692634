//! The gate in front of the ledger: closed (every RPC UNAVAILABLE, with the
//! rebuild's progress) until start-up has opened the ledger.

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use super::error::Error;
use crate::ledger::handle::Ledger;
use crate::ledger::replay::Progress;

/// The ledger once start-up is done.
#[derive(Debug, Default)]
pub struct Gate {
    ledger: OnceLock<Arc<Ledger>>,
    pub progress: Progress,
}

impl Gate {
    pub fn new() -> Arc<Gate> {
        Arc::new(Gate::default())
    }

    /// Opens the gate (once).
    pub fn open(&self, ledger: Arc<Ledger>) {
        let _ = self.ledger.set(ledger);
    }

    /// The ledger, if open.
    pub fn get(&self) -> Option<&Arc<Ledger>> {
        self.ledger.get()
    }

    /// The ledger, or [`Error::Starting`] while it is being opened.
    pub fn ledger(&self) -> Result<Arc<Ledger>, Error> {
        self.ledger.get().cloned().ok_or_else(|| Error::Starting {
            folded: self.progress.folded.load(Ordering::Relaxed),
            total: self.progress.total.load(Ordering::Relaxed),
        })
    }
}

/// Runs blocking work (SQLite reads, replays) off the async runtime.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Worker(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpcs_are_unavailable_with_progress_until_the_ledger_is_open() {
        let gate = Gate::new();
        gate.progress.total.store(1000, Ordering::Relaxed);
        gate.progress.folded.store(250, Ordering::Relaxed);
        let status = tonic::Status::from(gate.ledger().expect_err("not open yet"));
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert!(
            status.message().contains("250 of 1000"),
            "{}",
            status.message()
        );
    }
}
