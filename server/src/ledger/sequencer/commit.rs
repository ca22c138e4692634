//! The group commit: every job of a group planned and written in one
//! SQLite transaction. Should a write fail (a storage failure, not a
//! refused request), the transaction is rolled back and each job is retried
//! alone, so that only the failing one fails.

use std::iter;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use rusqlite::{Connection, TransactionBehavior};

use super::job::{Job, Planned};
use super::plan::{plan, Ground};
use super::{Folded, RowSink, SequencerOptions, SequencerStats, WriteError};
use crate::chain::ChainFault;
use crate::ledger::condition::ConditionCell;
use crate::ledger::head::Head;
use crate::ledger::snapshot::Published;
use crate::rules::State;
use crate::store::schema::Durability;
use crate::store::Store;

/// The write connection and everything written through it.
pub(super) struct Writer {
    conn: Connection,
    pub(super) core: Core,
}

/// Everything but the connection (so that a transaction can borrow the
/// connection while planning reads the state).
pub(super) struct Core {
    pub(super) head: Head,
    pub(super) state: State,
    pub(super) published: Arc<Published>,
    pub(super) sink: RowSink,
    pub(super) stats: Arc<SequencerStats>,
    pub(super) check: FoldCheck,
    durability: Durability,
    /// Whether the ledger may be written; storage errors may worsen it.
    condition: ConditionCell,
    found_fault: Arc<OnceLock<ChainFault>>,
    pub(super) tail_wanted: Arc<AtomicBool>,
}

/// The check mode: incremental state against a rebuild from SQLite.
pub(super) struct FoldCheck {
    every: u64,
    pub(super) since: u64,
    pub(super) store: Store,
}

impl FoldCheck {
    pub(super) fn new(every: u64, store: Store) -> Self {
        FoldCheck {
            every,
            since: 0,
            store,
        }
    }

    /// Whether writing `events` more events triggers a check.
    pub(super) fn due(&self, events: usize) -> bool {
        self.every > 0 && self.since + events as u64 >= self.every
    }
}

impl Writer {
    pub(super) fn new(
        conn: Connection,
        folded: Folded,
        published: Arc<Published>,
        sink: RowSink,
        stats: Arc<SequencerStats>,
        options: SequencerOptions,
    ) -> Self {
        Writer {
            conn,
            core: Core {
                head: folded.head,
                state: folded.state,
                published,
                sink,
                stats,
                check: FoldCheck::new(options.verify_folds_every, options.store),
                durability: options.durability,
                condition: options.condition,
                found_fault: options.found_fault,
                tail_wanted: options.tail_wanted,
            },
        }
    }

    /// The write connection (tests set traps on it).
    #[cfg(test)]
    pub(super) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Whether committing `events` more events takes long enough to leave
    /// the async runtime's worker for (an fsync, a fold check, or filling
    /// the tail window: up to `--max-tail` rows read from SQLite).
    pub(super) fn is_slow(&self, events: usize) -> bool {
        self.core.durability == Durability::Full
            || self.core.check.due(events)
            || self.core.tail_fill_due()
    }

    /// Commits a group in one transaction, isolating a storage failure.
    pub(super) fn commit(&mut self, group: Vec<Job>) {
        self.commit_group(group, true);
    }

    fn commit_group(&mut self, group: Vec<Job>, isolate: bool) {
        let started = std::time::Instant::now();
        let jobs = group.len();
        let Writer { conn, core } = self;
        if !core.condition.is_writable() {
            let condition = core.condition.get();
            for job in group {
                job.fail(WriteError::NotWritable(condition.clone()));
            }
            return;
        }
        let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                core.condition.observe(&e);
                tracing::warn!("sequencer: cannot begin a transaction: {e}");
                for job in group {
                    job.fail(WriteError::storage("beginning a transaction", &e));
                }
                return;
            }
        };
        let mut head = core.head.clone();
        let mut done: Vec<Planned> = Vec::with_capacity(group.len());
        let mut pending = group.into_iter();
        let mut failed: Option<(Planned, rusqlite::Error)> = None;
        for job in pending.by_ref() {
            let ground = Ground {
                head: &head,
                chain_fault: core.state.chain.fault().or(core.found_fault.get()),
            };
            let Some(planned) = plan(&tx, &ground, job) else {
                continue;
            };
            if let Err(e) = planned.write(&tx) {
                failed = Some((planned, e));
                break;
            }
            planned.advance(&mut head);
            done.push(planned);
        }
        if let Some((planned, error)) = failed {
            drop(tx); // rolls back
            tracing::warn!("sequencer: write failed: {error}");
            core.condition.observe(&error);
            if isolate {
                let rest: Vec<Job> = done
                    .into_iter()
                    .map(Planned::into_job)
                    .chain(iter::once(planned.into_job()))
                    .chain(pending)
                    .collect();
                for job in rest {
                    self.commit_group(vec![job], false);
                }
            } else {
                // Retried alone already (its group is only itself): it is
                // the one that fails.
                let rest = done.into_iter().map(Planned::into_job).chain(pending);
                for job in iter::once(planned.into_job()).chain(rest) {
                    job.fail(WriteError::storage("writing rows", &error));
                }
            }
            return;
        }
        if let Err(e) = tx.commit() {
            tracing::warn!("sequencer: commit failed: {e}");
            core.condition.observe(&e);
            for planned in done {
                planned
                    .into_job()
                    .fail(WriteError::storage("committing", &e));
            }
            return;
        }
        core.stats.commits.fetch_add(1, Ordering::Relaxed);
        let committed = started.elapsed();
        core.publish(done, head);
        tracing::trace!(
            jobs,
            commit_us = committed.as_micros() as u64,
            total_us = started.elapsed().as_micros() as u64,
            "group committed"
        );
    }
}
