//! What the sequencer queues (a job: a request and where to answer it) and
//! what planning makes of it (the same job with what it will write). Each
//! kind of request carries its own plan, so no request can meet another
//! kind's plan.

use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::super::head::Head;
use super::{
    AppendBatch, AppendOutcome, Appended, ImportBatch, ImportMode, ImportOutcome, WriteError,
};
use crate::event::{Event, ParsedMeta};
use crate::store::write::{insert_event, insert_idempotency_key, set_verbatim_last_id, RowRef};

/// Where a job's answer goes.
pub(super) type Reply<T> = oneshot::Sender<Result<T, WriteError>>;

/// A request waiting to be written.
pub(super) enum Job {
    Append(AppendBatch, Reply<AppendOutcome>),
    Import(ImportBatch, Reply<ImportOutcome>),
}

impl Job {
    /// Events (rows) the job carries.
    pub(super) fn len(&self) -> usize {
        match self {
            Job::Append(batch, _) => batch.events.len(),
            Job::Import(batch, _) => batch.rows.len(),
        }
    }

    /// Answers the job with an error; nothing of it was written.
    pub(super) fn fail(self, error: WriteError) {
        match self {
            Job::Append(_, reply) => {
                let _ = reply.send(Err(error));
            }
            Job::Import(_, reply) => {
                let _ = reply.send(Err(error));
            }
        }
    }
}

/// A job with its plan: checked against the ledger, ready to be written.
pub(super) enum Planned {
    Append(AppendBatch, Reply<AppendOutcome>, AppendPlan),
    Import(ImportBatch, Reply<ImportOutcome>, ImportPlan),
}

/// What an append writes.
pub(super) enum AppendPlan {
    /// A pure idempotent retry: nothing to write, the originals to return.
    Retry(Vec<Appended>),
    /// Each event's place in the chain, in batch order. The rows are built
    /// from the batch's own texts after the commit (moved, not copied).
    Write(Vec<Placement>),
}

/// Where a new event goes: what the sequencer adds to it.
pub(super) struct Placement {
    pub id: i64,
    pub ts: String,
    pub prev_hash: Option<String>,
    pub hash: String,
}

/// What an import writes: its rows after the first `skipped`, which are
/// stored already.
pub(super) struct ImportPlan {
    pub skipped: usize,
}

impl Planned {
    /// The job again, unplanned (to retry it alone after a failed group).
    pub(super) fn into_job(self) -> Job {
        match self {
            Planned::Append(batch, reply, _) => Job::Append(batch, reply),
            Planned::Import(batch, reply, _) => Job::Import(batch, reply),
        }
    }

    /// Writes the planned rows (and idempotency keys) in the connection's
    /// open transaction; an error here is a storage failure.
    pub(super) fn write(&self, conn: &Connection) -> rusqlite::Result<()> {
        match self {
            Planned::Append(_, _, AppendPlan::Retry(_)) => Ok(()),
            Planned::Append(batch, _, AppendPlan::Write(placements)) => {
                for (new, place) in batch.events.iter().zip(placements) {
                    insert_event(
                        conn,
                        &RowRef {
                            id: place.id,
                            ts: &place.ts,
                            kind: &new.kind,
                            content: &new.content,
                            meta_text: &new.meta_text,
                            prev_hash: place.prev_hash.as_deref(),
                            hash: Some(&place.hash),
                        },
                    )?;
                    if let Some(key) = &new.idempotency_key {
                        insert_idempotency_key(conn, key, place.id)?;
                    }
                }
                Ok(())
            }
            Planned::Import(batch, _, plan) => {
                let new = &batch.rows[plan.skipped..];
                for row in new {
                    insert_event(conn, &RowRef::from(row))?;
                }
                match new.last() {
                    Some(last) if batch.mode == ImportMode::Verbatim => {
                        set_verbatim_last_id(conn, last.id)
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    /// Moves `head` past the rows this job writes.
    pub(super) fn advance(&self, head: &mut Head) {
        match self {
            Planned::Append(_, _, AppendPlan::Retry(_)) => {}
            Planned::Append(_, _, AppendPlan::Write(placements)) => {
                for p in placements {
                    head.advance_to(p.id, Some(&p.hash), &p.ts);
                }
            }
            Planned::Import(batch, _, plan) => {
                for row in &batch.rows[plan.skipped..] {
                    head.advance(row);
                }
            }
        }
    }
}

/// The rows of a committed append, built by moving the batch's texts.
pub(super) fn appended_rows(batch: AppendBatch, placements: Vec<Placement>) -> Vec<Arc<Event>> {
    batch
        .events
        .into_iter()
        .zip(placements)
        .map(|(new, place)| {
            Arc::new(Event {
                id: place.id,
                ts: place.ts,
                kind: new.kind,
                content: new.content,
                meta_text: new.meta_text,
                prev_hash: place.prev_hash,
                hash: Some(place.hash),
                parsed: ParsedMeta::given(new.meta),
            })
        })
        .collect()
}
