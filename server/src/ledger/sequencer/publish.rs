//! After a commit: the new rows are folded into the state, the snapshot
//! published, the subscribers woken, and then each caller answered, so
//! that an answered write is visible to every later read.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::commit::Core;
use super::job::{appended_rows, AppendPlan, Planned};
use super::{AppendOutcome, Appended, ImportMode, ImportOutcome};
use crate::event::Event;
use crate::ledger::cancel::Cancel;
use crate::ledger::head::Head;
use crate::ledger::replay;
use crate::ledger::snapshot::Snapshot;

/// Answers one caller, given the head after the whole group.
type Reply = Box<dyn FnOnce(&Head)>;

/// Whether folded rows had their hashes computed from their own fields in
/// this request (appends, verified imports): the chain fold then checks
/// only their links.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hashed {
    Here,
    Elsewhere,
}

impl Core {
    /// Folds the committed jobs' rows, publishes the snapshot, wakes
    /// subscribers and answers each caller.
    pub(super) fn publish(&mut self, done: Vec<Planned>, head: Head) {
        let mut replies: Vec<Reply> = Vec::with_capacity(done.len());
        // The head as of the rows folded so far: after a job's own rows,
        // its "as of this write" head.
        let mut folded = self.head.clone();
        let mut new_rows: Vec<Arc<Event>> = Vec::new();
        for planned in done {
            match planned {
                Planned::Append(batch, reply, plan) => {
                    let want_snapshot = batch.want_snapshot;
                    let events = match plan {
                        AppendPlan::Retry(originals) => originals,
                        AppendPlan::Write(placements) => {
                            let rows = appended_rows(batch, placements);
                            self.fold(&mut folded, &rows, Hashed::Here);
                            new_rows.extend(rows.iter().cloned());
                            rows.into_iter()
                                .map(|event| Appended {
                                    event,
                                    deduplicated: false,
                                })
                                .collect()
                        }
                    };
                    let snapshot = want_snapshot.then(|| {
                        Arc::new(Snapshot {
                            head: folded.clone(),
                            state: self.state.clone(),
                        })
                    });
                    replies.push(Box::new(move |final_head: &Head| {
                        let _ = reply.send(Ok(AppendOutcome {
                            events,
                            head: final_head.clone(),
                            snapshot,
                        }));
                    }));
                }
                Planned::Import(batch, reply, plan) => {
                    let hashed = match batch.mode {
                        ImportMode::Verify => Hashed::Here,
                        ImportMode::Verbatim => Hashed::Elsewhere,
                    };
                    let rows: Vec<Arc<Event>> = batch
                        .rows
                        .into_iter()
                        .skip(plan.skipped)
                        .map(Arc::new)
                        .collect();
                    self.fold(&mut folded, &rows, hashed);
                    let (imported, skipped) = (rows.len() as u64, plan.skipped as u64);
                    new_rows.extend(rows);
                    replies.push(Box::new(move |final_head: &Head| {
                        let _ = reply.send(Ok(ImportOutcome {
                            imported,
                            skipped,
                            head: final_head.clone(),
                        }));
                    }));
                }
            }
        }
        self.head = head;
        self.fill_tail_if_wanted();
        self.published.publish(Arc::new(Snapshot {
            head: self.head.clone(),
            state: self.state.clone(),
        }));
        let written = new_rows.len() as u64;
        self.check.since += written;
        self.stats
            .appended_events
            .fetch_add(written, Ordering::Relaxed);
        (self.sink)(&new_rows);
        for reply in replies {
            reply(&self.head);
        }
        if self.check.due(0) {
            self.check.since = 0;
            self.check_folds();
        }
    }

    fn fold(&mut self, folded: &mut Head, rows: &[Arc<Event>], hashed: Hashed) {
        for ev in rows {
            folded.advance(ev);
            match hashed {
                Hashed::Here => self.state.apply_hashed(Arc::clone(ev)),
                Hashed::Elsewhere => self.state.apply_shared(Arc::clone(ev)),
            }
        }
    }

    /// Whether the next commit fills the tail window.
    pub(super) fn tail_fill_due(&self) -> bool {
        self.state.tail.is_cold() && self.tail_wanted.load(Ordering::Relaxed)
    }

    /// Fills a cold tail window that a reader asked for, from the rows
    /// just committed and those before (a failed read leaves it cold:
    /// tail blocks are then read from SQLite, as before).
    fn fill_tail_if_wanted(&mut self) {
        if !self.tail_fill_due() {
            return;
        }
        self.tail_wanted.store(false, Ordering::Relaxed);
        if let Err(e) = replay::fill_tail(&self.check.store, &mut self.state, self.head.last_id) {
            tracing::warn!("cannot fill the tail window: {e}");
        }
    }

    /// Rebuilds every fold from SQLite and compares it with the incremental
    /// state; a difference is logged and counted (it is a bug).
    fn check_folds(&self) {
        self.stats.fold_checks.fetch_add(1, Ordering::Relaxed);
        let rebuilt = replay::rebuild(
            &self.check.store,
            self.state.tail.limits(),
            self.head.last_id,
            None,
            &Cancel::never(),
        );
        let same = match rebuilt {
            Ok(mut folded) => {
                if self.state.tail.is_cold() {
                    // No rows to compare a tail block over.
                    folded.state.tail.make_cold();
                }
                match (folded.state.outputs(), self.state.outputs()) {
                    (Ok(a), Ok(b)) => a == b,
                    (Err(a), Err(b)) => a == b,
                    _ => false,
                }
            }
            Err(e) => {
                tracing::warn!("fold check: rebuild failed: {e}");
                return;
            }
        };
        if same {
            tracing::debug!(
                last_id = self.head.last_id,
                "fold check: incremental state equals a rebuild"
            );
        } else {
            self.stats.fold_mismatches.fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                last_id = self.head.last_id,
                "fold check: incremental state differs from a rebuild"
            );
        }
    }
}
