//! Replaying stored rows: the start-up rebuild of every fold, and the
//! verification of the stored hash chain (VerifyChain). Both stream the
//! ledger (never all of it in memory) and split the work over two threads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::cancel::Cancel;
use super::head::Head;
use super::sequencer::Folded;
use super::snapshot::Snapshot;
use crate::chain::{CanonicalError, ChainFaultReason, ChainVerifier};
use crate::event::Event;
use crate::rules::{ChainStatus, Fold, State, TailLimits};
use crate::store::{Store, StoreError};

/// Progress of a rebuild, readable while it runs.
#[derive(Debug, Default)]
pub struct Progress {
    pub folded: AtomicU64,
    pub total: AtomicU64,
}

/// Why stored rows could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the ledger file is damaged: {0}")]
    Damaged(String),
    #[error("the {name} thread failed")]
    ThreadPanicked { name: &'static str },
    #[error("cancelled: the request that asked for it went away")]
    Cancelled,
}

/// Fills a cold tail window with the last stored rows up to `up_to` (see
/// [`crate::rules::TailWindow`]). Blocking: one read of at most the
/// window's rows.
pub fn fill_tail(store: &Store, state: &mut State, up_to: i64) -> Result<(), StoreError> {
    let limits = state.tail.limits();
    let (rows, all) = store.last_rows(up_to, limits.rows, limits.bytes)?;
    state.tail.fill(rows.into_iter().map(Arc::new), all);
    Ok(())
}

/// Rows handed between the rebuild's two threads at a time.
const REBUILD_BATCH: usize = 1024;

/// Folds every stored row with id <= `up_to` into fresh state, streaming,
/// and verifies the stored chain on the way. SQLite finding the file
/// damaged part-way is not the end: the rows read before are served, and
/// the damage reported in [`Folded::damage`].
pub fn rebuild(
    store: &Store,
    tail: TailLimits,
    up_to: i64,
    progress: Option<&Progress>,
    cancel: &Cancel,
) -> Result<Folded, ReplayError> {
    let start = Snapshot {
        head: Head::default(),
        state: State::new(tail),
    };
    rebuild_after(store, start, up_to, progress, cancel)
}

/// [`rebuild`] from a snapshot: folds the stored rows after it, up to
/// `up_to`, verifying their chain from the snapshot's last row on.
pub fn rebuild_after(
    store: &Store,
    start: Snapshot,
    up_to: i64,
    progress: Option<&Progress>,
    cancel: &Cancel,
) -> Result<Folded, ReplayError> {
    if let Some(p) = progress {
        p.total.store(store.count()?, Ordering::Relaxed);
        p.folded.store(start.head.count, Ordering::Relaxed);
    }
    let Snapshot { head, mut state } = start;
    let chain = std::mem::take(&mut state.chain);
    let after = head.last_id;
    let mut folder = Folder {
        state,
        head,
        progress,
    };
    let streamed = stream_parsed_from(
        store,
        after,
        chain,
        up_to,
        Check::MetaAndChain,
        cancel,
        |events| folder.fold(events),
    )?;
    let Folder {
        mut state, head, ..
    } = folder;
    state.set_chain(streamed.chain);
    Ok(Folded {
        head,
        state,
        damage: streamed.damage,
    })
}

/// What the parsing thread of [`stream_parsed`] checks of each row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Meta is parsed (an unreadable one is read as `{}` by the folds).
    Meta,
    /// Meta is parsed and the hash chain verified (its status returned).
    MetaAndChain,
}

/// How a stream of stored rows ended.
#[derive(Debug)]
pub struct Streamed {
    /// The chain's status over the rows streamed (with
    /// [`Check::MetaAndChain`]; the default otherwise).
    pub chain: ChainStatus,
    /// Why the rows stopped before `up_to`: SQLite found the file damaged.
    pub damage: Option<String>,
}

impl Streamed {
    /// The stream, or an error if it stopped at damage.
    pub fn whole(self) -> Result<ChainStatus, ReplayError> {
        match self.damage {
            None => Ok(self.chain),
            Some(damage) => Err(ReplayError::Damaged(damage)),
        }
    }
}

/// Hands every stored row with id <= `up_to` to `fold`, in id order and in
/// batches, each row's meta already parsed; never holds the whole ledger.
/// Stops with [`ReplayError::Cancelled`] once `cancel` is set.
///
/// Two threads share the work: this one reads rows from SQLite and runs
/// `fold`; a second parses each row's meta (and with
/// [`Check::MetaAndChain`] verifies the hash chain, the larger half),
/// handing the parsed events back in order. A row that cannot be read is
/// not an error here: the chain records it as its fault (appends are
/// refused, naming the row) and the folds read its meta as `{}`; every
/// other row is served.
pub fn stream_parsed(
    store: &Store,
    up_to: i64,
    check: Check,
    cancel: &Cancel,
    fold: impl FnMut(Vec<Arc<Event>>),
) -> Result<Streamed, ReplayError> {
    let chain = ChainStatus::default();
    stream_parsed_from(store, i64::MIN, chain, up_to, check, cancel, fold)
}

/// [`stream_parsed`] over the rows after id `after` only, the chain
/// continuing from `chain` (the status up to `after`).
pub fn stream_parsed_from(
    store: &Store,
    after: i64,
    chain: ChainStatus,
    up_to: i64,
    check: Check,
    cancel: &Cancel,
    mut fold: impl FnMut(Vec<Arc<Event>>),
) -> Result<Streamed, ReplayError> {
    let (rows_out, rows_in) = std::sync::mpsc::sync_channel::<Vec<Event>>(8);
    // Unbounded, but never holds more than the batches in flight: this
    // thread drains it each time it hands over a batch.
    let (events_out, events_in) = std::sync::mpsc::channel::<Vec<Arc<Event>>>();
    let parser = std::thread::Builder::new()
        .name("pmm-verify".into())
        .spawn(move || {
            let mut chain = chain;
            let verify = check == Check::MetaAndChain;
            for rows in rows_in {
                let events = parse_and_chain(rows, verify.then_some(&mut chain));
                if events_out.send(events).is_err() {
                    break;
                }
            }
            chain
        })
        .map_err(|source| StoreError::Thread {
            name: "rebuild",
            source,
        })?;

    let mut batch = Vec::with_capacity(REBUILD_BATCH);
    let mut last_read = after.max(0);
    let read = store.for_each(after.saturating_add(1), up_to, |row| {
        last_read = row.id;
        batch.push(row);
        if batch.len() == REBUILD_BATCH {
            if cancel.is_cancelled() {
                return Err(ReplayError::Cancelled);
            }
            let full = std::mem::replace(&mut batch, Vec::with_capacity(REBUILD_BATCH));
            // A send fails only if the parser is gone; it is joined below.
            let _ = rows_out.send(full);
            while let Ok(events) = events_in.try_recv() {
                fold(events);
            }
        }
        Ok::<(), ReplayError>(())
    });
    if !batch.is_empty() {
        let _ = rows_out.send(batch);
    }
    drop(rows_out);
    for events in events_in.iter() {
        fold(events);
    }
    let chain = parser
        .join()
        .map_err(|_| ReplayError::ThreadPanicked { name: "rebuild" })?;
    let damage = match read {
        Ok(()) => None,
        Err(ReplayError::Store(StoreError::Sqlite(e))) if is_damage(&e) => {
            Some(format!("rows after id {last_read} cannot be read: {e}"))
        }
        Err(e) => return Err(e),
    };
    Ok(Streamed { chain, damage })
}

/// SQLite says the file is damaged.
fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// The parsing half of a replay: parses each row's meta (so that the
/// folding thread does not) and, when given the chain, checks it.
fn parse_and_chain(rows: Vec<Event>, mut chain: Option<&mut ChainStatus>) -> Vec<Arc<Event>> {
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        match chain.as_deref_mut() {
            // Parsed here (by the chain's check), on this thread.
            Some(chain) => chain.apply(&row),
            None => {
                let _ = row.parsed_meta();
            }
        }
        events.push(Arc::new(row));
    }
    events
}

/// The folding half of a rebuild.
struct Folder<'a> {
    state: State,
    head: Head,
    progress: Option<&'a Progress>,
}

impl Folder<'_> {
    fn fold(&mut self, events: Vec<Arc<Event>>) {
        let n = events.len() as u64;
        for event in events {
            self.head.advance(&event);
            self.state.apply_except_chain(event);
        }
        if let Some(p) = self.progress {
            p.folded.fetch_add(n, Ordering::Relaxed);
        }
    }
}

/// What verifying one row found, before its link to the previous row is
/// checked (that part is sequential).
enum RowCheck {
    Missing,
    Unreadable(String),
    Unhashable(CanonicalError),
    Computed(String),
}

/// Checks a batch of rows, keeping each row with its result.
fn check_rows(rows: Vec<Event>) -> Vec<(Event, RowCheck)> {
    rows.into_iter()
        .map(|row| {
            let check = check_row(&row);
            (row, check)
        })
        .collect()
}

fn check_row(row: &Event) -> RowCheck {
    if row.hash.is_none() {
        return RowCheck::Missing;
    }
    let meta = match row.parsed_meta() {
        Ok(meta) => meta,
        Err(e) => return RowCheck::Unreadable(format!("row {}: {e}", row.id)),
    };
    let hash = crate::chain::hash_with_meta(row, meta);
    match hash {
        Ok(hash) => RowCheck::Computed(hash),
        Err(e) => RowCheck::Unhashable(e),
    }
}

/// Why the chain breaks at a row, as VerifyChain reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyFault {
    HashMissing,
    Unreadable(String),
    Chain(ChainFaultReason),
}

/// The result of verifying stored rows: rows checked (the faulty one
/// included) and the first fault, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    pub checked: u64,
    pub fault: Option<(i64, VerifyFault)>,
}

/// Verifies every stored row with id <= `up_to` (SPEC §1), streaming. This
/// thread reads the rows and links them in order; a second thread parses
/// and hashes batches, and this one checks a batch itself whenever the
/// second has enough queued, so the two stay equally busy.
pub fn verify_stored_chain(
    store: &Store,
    up_to: i64,
    cancel: &Cancel,
) -> Result<Verification, ReplayError> {
    let (work_out, work_in) = std::sync::mpsc::sync_channel::<Vec<Event>>(2);
    let (done_out, done_in) = std::sync::mpsc::channel::<Vec<(Event, RowCheck)>>();
    let worker = std::thread::Builder::new()
        .name("pmm-verify".into())
        .spawn(move || {
            for rows in work_in {
                let checked = check_rows(rows);
                if done_out.send(checked).is_err() {
                    break;
                }
            }
        })
        .map_err(|source| StoreError::Thread {
            name: "verify",
            source,
        })?;

    let mut linker = Linker::new(done_in);
    let mut batch = Vec::with_capacity(REBUILD_BATCH);
    let read = store.for_each(i64::MIN, up_to, |row| {
        if linker.result.fault.is_some() {
            return Err(Walk::Found);
        }
        batch.push(row);
        if batch.len() < REBUILD_BATCH {
            return Ok(());
        }
        if cancel.is_cancelled() {
            return Err(Walk::Cancelled);
        }
        let full = std::mem::replace(&mut batch, Vec::with_capacity(REBUILD_BATCH));
        match work_out.try_send(full) {
            Ok(()) => linker.pending.push_back(Checked::AtWorker),
            // The worker is busy, or gone (it fails only by panicking):
            // check the batch here.
            Err(
                std::sync::mpsc::TrySendError::Full(full)
                | std::sync::mpsc::TrySendError::Disconnected(full),
            ) => linker.pending.push_back(Checked::Here(check_rows(full))),
        }
        linker.link_ready(MAX_PENDING_BATCHES);
        Ok(())
    });
    drop(work_out);
    linker.pending.push_back(Checked::Here(check_rows(batch)));
    linker.link_ready(0);
    if worker.join().is_err() || linker.worker_failed {
        return Err(ReplayError::ThreadPanicked { name: "verify" });
    }
    match read {
        Ok(()) | Err(Walk::Found) => Ok(linker.result),
        Err(Walk::Cancelled) => Err(ReplayError::Cancelled),
        Err(Walk::Store(e)) => Err(e.into()),
    }
}

/// Batches checked but not yet linked, at most (bounds memory when the
/// worker falls behind).
const MAX_PENDING_BATCHES: usize = 8;

/// A batch in verification order: checked here, or sent to the worker
/// (whose results come back in the order the batches were sent).
enum Checked {
    Here(Vec<(Event, RowCheck)>),
    AtWorker,
}

/// Links checked rows to the ones before, strictly in id order.
struct Linker {
    verifier: ChainVerifier,
    result: Verification,
    pending: std::collections::VecDeque<Checked>,
    done_in: std::sync::mpsc::Receiver<Vec<(Event, RowCheck)>>,
    worker_failed: bool,
}

impl Linker {
    fn new(done_in: std::sync::mpsc::Receiver<Vec<(Event, RowCheck)>>) -> Self {
        Linker {
            verifier: ChainVerifier::new(),
            result: Verification {
                checked: 0,
                fault: None,
            },
            pending: std::collections::VecDeque::new(),
            done_in,
            worker_failed: false,
        }
    }

    /// Links the batches at the front that are ready, waiting for the
    /// worker while more than `keep` batches are pending.
    fn link_ready(&mut self, keep: usize) {
        while let Some(front) = self.pending.pop_front() {
            let batch = match front {
                Checked::Here(batch) => batch,
                Checked::AtWorker => {
                    let ready = if self.pending.len() >= keep {
                        self.done_in.recv().ok()
                    } else {
                        self.done_in.try_recv().ok()
                    };
                    match ready {
                        Some(batch) => batch,
                        None if self.pending.len() >= keep => {
                            // The worker is gone (it fails only by
                            // panicking): its rows were never checked.
                            self.worker_failed = true;
                            self.pending.clear();
                            return;
                        }
                        None => {
                            self.pending.push_front(Checked::AtWorker);
                            return;
                        }
                    }
                }
            };
            self.link(batch);
        }
    }

    fn link(&mut self, batch: Vec<(Event, RowCheck)>) {
        for (row, check) in batch {
            if self.result.fault.is_some() {
                return;
            }
            self.result.checked += 1;
            let fault = match check {
                RowCheck::Missing => Some(VerifyFault::HashMissing),
                RowCheck::Unreadable(reason) => Some(VerifyFault::Unreadable(reason)),
                RowCheck::Computed(hash) => self.link_row(&row, Ok(hash)),
                RowCheck::Unhashable(e) => self.link_row(&row, Err(e)),
            };
            if let Some(fault) = fault {
                self.result.fault = Some((row.id, fault));
            }
        }
    }

    fn link_row(
        &mut self,
        row: &Event,
        hash: Result<String, CanonicalError>,
    ) -> Option<VerifyFault> {
        self.verifier
            .check_link(
                row.id,
                row.prev_hash.as_deref(),
                row.hash.as_deref(),
                || hash,
            )
            .err()
            .map(|f| VerifyFault::Chain(f.reason))
    }
}

/// Why a verification walk over the rows stopped.
enum Walk {
    /// The first fault is known: the rest need not be read.
    Found,
    Cancelled,
    Store(StoreError),
}

impl From<StoreError> for Walk {
    fn from(e: StoreError) -> Self {
        Walk::Store(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ParsedMeta;
    use std::sync::mpsc;

    /// `n` rows forming a valid chain.
    fn chain_of(n: i64) -> Vec<Event> {
        let mut prev: Option<String> = None;
        (1..=n)
            .map(|id| {
                let meta = serde_json::json!({"i": id});
                let ts = "2025-09-29T12:00:00+00:00".to_string();
                let hash = crate::chain::event_hash(id, &ts, "user", "x", &meta, prev.as_deref())
                    .expect("hashable");
                Event {
                    id,
                    ts,
                    kind: "user".into(),
                    content: "x".into(),
                    meta_text: meta.to_string(),
                    prev_hash: prev.replace(hash.clone()),
                    hash: Some(hash),
                    parsed: ParsedMeta::given(meta),
                }
            })
            .collect()
    }

    fn linker() -> (Linker, mpsc::Sender<Vec<(Event, RowCheck)>>) {
        let (done_out, done_in) = mpsc::channel();
        (Linker::new(done_in), done_out)
    }

    /// Batches checked here and at the worker are linked strictly in id
    /// order, whichever finished first.
    #[test]
    fn batches_checked_here_and_at_the_worker_link_in_order() {
        let mut rows = chain_of(6);
        let (c, b, a) = (rows.split_off(4), rows.split_off(2), rows);
        let (mut linker, worker) = linker();
        linker.pending.push_back(Checked::AtWorker);
        linker.pending.push_back(Checked::Here(check_rows(b)));
        linker.pending.push_back(Checked::AtWorker);
        // The worker answers both of its batches, in the order it got them.
        worker.send(check_rows(a)).expect("send");
        worker.send(check_rows(c)).expect("send");
        linker.link_ready(0);
        assert_eq!(linker.result.checked, 6);
        assert_eq!(linker.result.fault, None);
        assert!(!linker.worker_failed);
    }

    /// A tampered row in a batch checked here is reported at its id, after
    /// the worker's earlier batch was linked.
    #[test]
    fn the_first_fault_is_found_in_a_batch_checked_here() {
        let mut rows = chain_of(4);
        rows[3].content.push('!');
        let b = rows.split_off(2);
        let (mut linker, worker) = linker();
        linker.pending.push_back(Checked::AtWorker);
        linker.pending.push_back(Checked::Here(check_rows(b)));
        worker.send(check_rows(rows)).expect("send");
        linker.link_ready(0);
        assert_eq!(
            linker.result.fault,
            Some((4, VerifyFault::Chain(ChainFaultReason::HashMismatch)))
        );
        assert_eq!(linker.result.checked, 4);
    }

    /// While fewer than `keep` batches are pending, a batch the worker has
    /// not finished is waited for later, not now.
    #[test]
    fn an_unfinished_worker_batch_is_left_pending_below_the_bound() {
        let (mut linker, _worker) = linker();
        linker.pending.push_back(Checked::AtWorker);
        linker.link_ready(4);
        assert_eq!(linker.pending.len(), 1);
        assert!(!linker.worker_failed);
    }

    /// A worker gone without answering is a failure, never a shorter check.
    #[test]
    fn a_worker_gone_is_a_failure() {
        let (mut linker, worker) = linker();
        linker.pending.push_back(Checked::AtWorker);
        drop(worker);
        linker.link_ready(0);
        assert!(linker.worker_failed);
        assert_eq!(linker.result.checked, 0);
    }
}
