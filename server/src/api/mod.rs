//! The tonic services: translate protobuf ⇄ domain, map errors to
//! `tonic::Status` in one place ([`status`]), nothing else.

pub mod convert;
pub mod ledger;
pub mod mind;
pub mod status;

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use tonic::Status;

use crate::engine::{Engine, Progress};

/// The engine once start-up is done. Until then every RPC answers
/// UNAVAILABLE with the rebuild's progress.
#[derive(Debug, Default)]
pub struct Gate {
    engine: OnceLock<Arc<Engine>>,
    pub progress: Progress,
}

impl Gate {
    pub fn new() -> Arc<Gate> {
        Arc::new(Gate::default())
    }

    /// Opens the gate (once).
    pub fn open(&self, engine: Arc<Engine>) {
        let _ = self.engine.set(engine);
    }

    pub fn get(&self) -> Option<&Arc<Engine>> {
        self.engine.get()
    }

    /// The engine, or UNAVAILABLE while the derived state is being rebuilt.
    pub fn engine(&self) -> Result<&Arc<Engine>, Status> {
        self.engine.get().ok_or_else(|| {
            Status::unavailable(format!(
                "starting up: rebuilding derived state ({} of {} events folded); retry shortly",
                self.progress.folded.load(Ordering::Relaxed),
                self.progress.total.load(Ordering::Relaxed)
            ))
        })
    }
}

/// Runs blocking work (SQLite reads, replays) off the async runtime.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Status> + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Status::internal(format!("worker failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpcs_are_unavailable_with_progress_until_the_engine_is_open() {
        let gate = Gate::new();
        gate.progress.total.store(1000, Ordering::Relaxed);
        gate.progress.folded.store(250, Ordering::Relaxed);
        let status = gate.engine().expect_err("not open yet");
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert!(
            status.message().contains("250 of 1000"),
            "{}",
            status.message()
        );
    }
}
