//! The gate in front of the minds: closed (every RPC UNAVAILABLE, with the
//! rebuild's progress) until start-up has opened the mind `default`.

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use tonic::Request;

use super::addressing::mind_of;
use super::error::Error;
use super::validate::Validate;
use crate::config::Limits;
use crate::ledger::handle::Ledger;
use crate::ledger::replay::Progress;
use crate::minds::registry::Registry;

/// The minds once start-up is done.
#[derive(Debug, Default)]
pub struct Gate {
    registry: OnceLock<Arc<Registry>>,
    /// The start-up rebuild of `default`.
    pub progress: Arc<Progress>,
}

impl Gate {
    pub fn new() -> Arc<Gate> {
        Arc::new(Gate::default())
    }

    /// Opens the gate (once).
    pub fn open(&self, registry: Arc<Registry>) {
        let _ = self.registry.set(registry);
    }

    /// The minds, if start-up is done.
    pub fn get(&self) -> Option<&Arc<Registry>> {
        self.registry.get()
    }

    /// The minds, or [`Error::Starting`] while `default` is being opened.
    pub fn registry(&self) -> Result<Arc<Registry>, Error> {
        self.registry.get().cloned().ok_or_else(|| Error::Starting {
            folded: self.progress.folded.load(Ordering::Relaxed),
            total: self.progress.total.load(Ordering::Relaxed),
        })
    }
}

/// The open mind a call is for and its validated request: UNAVAILABLE while
/// starting, then the request checked, then the mind looked up (opened if
/// closed; created first when `create` and the server creates minds on
/// append — never for a request that was refused).
pub async fn mind_and_request<R: Validate>(
    gate: &Gate,
    limits: &Limits,
    request: Request<R>,
    create: bool,
) -> Result<(Arc<Ledger>, R::Valid), Error> {
    let registry = gate.registry()?;
    let name = mind_of(&request);
    let valid = request.into_inner().validate(limits)?;
    let create = create && registry.creates_on_append();
    let ledger = registry.mind(&name, create).await?;
    Ok((ledger, valid))
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
        let status = tonic::Status::from(gate.registry().expect_err("not open yet"));
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert!(
            status.message().contains("250 of 1000"),
            "{}",
            status.message()
        );
    }
}
