//! Admission: how many expensive requests may run at once, per kind of
//! work. A request beyond the limit is refused at once (RESOURCE_EXHAUSTED,
//! saying when to retry) rather than queued: a queue of abandoned work is
//! how a server melts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::Error;
use super::gate::blocking;
use crate::config::WorkLimits;
use crate::ledger::cancel::Cancel;

/// The kinds of work admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// VerifyChain: O(ledger).
    Verify,
    /// Search: O(ledger).
    Search,
    /// A view `as_of_id` a past id that is not cached: O(id).
    Replay,
    /// A context block over a tail window that is not cached: O(tail).
    TailContext,
    /// An Export stream, for its whole life.
    Export,
}

impl WorkLimitsExt for WorkLimits {
    fn of(&self, work: Work) -> usize {
        match work {
            Work::Verify => self.verify,
            Work::Search => self.search,
            Work::Replay => self.replay,
            Work::TailContext => self.tail_context,
            Work::Export => self.export,
        }
    }
}

/// The limit of one kind of work.
trait WorkLimitsExt {
    fn of(&self, work: Work) -> usize;
}

impl Work {
    const ALL: [Work; 5] = [
        Work::Verify,
        Work::Search,
        Work::Replay,
        Work::TailContext,
        Work::Export,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// The name Stats shows, and the flag that sets the limit.
    pub fn name(self) -> (&'static str, &'static str) {
        match self {
            Work::Verify => ("verify_chain", "--max-concurrent-verify"),
            Work::Search => ("search", "--max-concurrent-search"),
            Work::Replay => ("as_of_replay", "--max-concurrent-replays"),
            Work::TailContext => ("tail_context", "--max-concurrent-tail-contexts"),
            Work::Export => ("export", "--max-concurrent-exports"),
        }
    }
}

/// One kind of work: its slots and counters.
#[derive(Debug)]
struct Class {
    work: Work,
    limit: usize,
    slots: Arc<Semaphore>,
    admitted: AtomicU64,
    refused: AtomicU64,
    cancelled: AtomicU64,
    /// A moving average of how long one takes, in microseconds: what a
    /// refused caller is told to wait.
    typical_micros: AtomicU64,
}

/// The admission of every kind of work, shared by the services.
#[derive(Debug)]
pub struct Admission {
    classes: Vec<Arc<Class>>,
}

/// Counters of one kind of work, for Stats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkFigures {
    pub name: &'static str,
    pub limit: usize,
    pub running: usize,
    pub admitted: u64,
    pub refused: u64,
    pub cancelled: u64,
}

/// What a refused caller is told to wait before the first measurement.
const FIRST_GUESS: Duration = Duration::from_millis(500);

impl Admission {
    pub fn new(limits: WorkLimits) -> Self {
        Admission {
            classes: Work::ALL
                .iter()
                .map(|&work| {
                    let limit = limits.of(work);
                    Arc::new(Class {
                        work,
                        limit,
                        slots: Arc::new(Semaphore::new(limit)),
                        admitted: AtomicU64::new(0),
                        refused: AtomicU64::new(0),
                        cancelled: AtomicU64::new(0),
                        typical_micros: AtomicU64::new(FIRST_GUESS.as_micros() as u64),
                    })
                })
                .collect(),
        }
    }

    /// A slot for `work`, or [`Error::Busy`] when every slot is taken.
    pub fn admit(&self, work: Work) -> Result<Admitted, Error> {
        let class = &self.classes[work.index()];
        match Arc::clone(&class.slots).try_acquire_owned() {
            Ok(permit) => {
                class.admitted.fetch_add(1, Ordering::Relaxed);
                Ok(Admitted {
                    _permit: permit,
                    class: Arc::clone(class),
                    started: Instant::now(),
                })
            }
            Err(_) => {
                class.refused.fetch_add(1, Ordering::Relaxed);
                let (what, flag) = work.name();
                Err(Error::Busy {
                    what,
                    flag,
                    limit: class.limit,
                    retry_after: Duration::from_micros(
                        class.typical_micros.load(Ordering::Relaxed),
                    ),
                })
            }
        }
    }

    /// Every kind of work's counters.
    pub fn figures(&self) -> Vec<WorkFigures> {
        self.classes
            .iter()
            .map(|c| WorkFigures {
                name: c.work.name().0,
                limit: c.limit,
                running: c.limit - c.slots.available_permits().min(c.limit),
                admitted: c.admitted.load(Ordering::Relaxed),
                refused: c.refused.load(Ordering::Relaxed),
                cancelled: c.cancelled.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Runs blocking work under a slot of `work`, off the async runtime. If
    /// the caller goes away (cancels, or its deadline passes), `f`'s
    /// [`Cancel`] is set: the work stops at its next check, and only then is
    /// the slot freed.
    pub async fn run<T: Send + 'static>(
        &self,
        work: Work,
        f: impl FnOnce(&Cancel) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let admitted = self.admit(work)?;
        let cancel = Cancel::new();
        let when_gone = cancel.on_drop();
        let result = blocking(move || {
            let result = f(&cancel);
            if cancel.is_cancelled() {
                admitted.class.cancelled.fetch_add(1, Ordering::Relaxed);
            }
            drop(admitted);
            result
        })
        .await;
        when_gone.disarm();
        result
    }
}

/// A slot taken; freed (and the time it took recorded) when dropped. Move
/// it into the work itself, so that the slot stays taken until the work
/// has really stopped, not merely until its caller left.
#[derive(Debug)]
pub struct Admitted {
    _permit: OwnedSemaphorePermit,
    class: Arc<Class>,
    started: Instant,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        // An exponential moving average, weight 1/4 to the newest.
        let took = self.started.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
        let old = self.class.typical_micros.load(Ordering::Relaxed);
        let new = old - old / 4 + took / 4;
        self.class.typical_micros.store(new, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(n: usize) -> WorkLimits {
        WorkLimits {
            verify: n,
            search: n,
            replay: n,
            tail_context: n,
            export: n,
        }
    }

    #[test]
    fn beyond_the_limit_work_is_refused_saying_when_to_retry() {
        let admission = Admission::new(limits(2));
        let first = admission.admit(Work::Verify).expect("first");
        let _second = admission.admit(Work::Verify).expect("second");
        let status = tonic::Status::from(admission.admit(Work::Verify).expect_err("third"));
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert_eq!(
            status.message(),
            "too many verify_chain requests at once (limit 2, --max-concurrent-verify); retry in about 500 ms"
        );
        assert_eq!(
            status
                .metadata()
                .get("grpc-retry-pushback-ms")
                .and_then(|v| v.to_str().ok()),
            Some("500")
        );
        // Other kinds of work have their own slots.
        assert!(admission.admit(Work::Search).is_ok());
        drop(first);
        assert!(admission.admit(Work::Verify).is_ok(), "a freed slot admits");
        let verify = &admission.figures()[0];
        assert_eq!(
            (verify.name, verify.limit, verify.admitted, verify.refused),
            ("verify_chain", 2, 3, 1)
        );
    }
}
