//! Planning: deciding what a job writes on top of the ledger's head, and
//! refusing it when it conflicts, reading but never writing. A refused job
//! needs no rollback, so one bad request in a group fails alone.

use std::sync::Arc;

use rusqlite::Connection;

use super::clock::now_ts;
use super::job::{AppendPlan, ImportPlan, Job, Placement, Planned};
use super::{AppendBatch, Appended, ImportBatch, ImportMode, WriteError};
use crate::chain::{self, ChainFault};
use crate::event::{Event, MAX_ID};
use crate::ledger::head::Head;
use crate::store::write::{idempotency_key, stored_event};

/// What planning reads besides the database: the head the group has
/// reached so far and whether the chain verified up to the ledger's head.
pub(super) struct Ground<'a> {
    pub head: &'a Head,
    pub chain_fault: Option<&'a ChainFault>,
}

/// Plans a job; a job refused is answered here (`None`).
pub(super) fn plan(conn: &Connection, ground: &Ground<'_>, job: Job) -> Option<Planned> {
    let refused = match job {
        Job::Append(batch, reply) => match plan_append(conn, ground, &batch) {
            Ok(plan) => return Some(Planned::Append(batch, reply, plan)),
            Err(e) => (Job::Append(batch, reply), e),
        },
        Job::Import(batch, reply) => match plan_import(conn, ground, &batch) {
            Ok(plan) => return Some(Planned::Import(batch, reply, plan)),
            Err(e) => (Job::Import(batch, reply), e),
        },
    };
    let (job, error) = refused;
    job.fail(error);
    None
}

fn plan_append(
    conn: &Connection,
    ground: &Ground<'_>,
    batch: &AppendBatch,
) -> Result<AppendPlan, WriteError> {
    if let Some(originals) = find_retry(conn, batch)? {
        return Ok(AppendPlan::Retry(originals));
    }
    let head = ground.head;
    if let Some(expected) = batch.expected_last_id {
        if expected != head.last_id {
            return Err(WriteError::Conflict {
                expected,
                head: head.clone(),
            });
        }
    }
    if let Some(fault) = ground.chain_fault {
        return Err(WriteError::ChainBroken(fault.clone()));
    }
    let mut placements: Vec<Placement> = Vec::with_capacity(batch.events.len());
    for new in &batch.events {
        let prev_hash = match placements.last() {
            Some(p) => Some(p.hash.clone()),
            None => head.last_hash.clone(),
        };
        let last_id = placements.last().map_or(head.last_id, |p| p.id);
        let id = last_id
            .checked_add(1)
            .filter(|id| *id <= MAX_ID)
            .ok_or(WriteError::IdsExhausted { last_id })?;
        let ts = now_ts();
        let hash = new.hash.finish(id, &ts, prev_hash.as_deref());
        placements.push(Placement {
            id,
            ts,
            prev_hash,
            hash,
        });
    }
    Ok(AppendPlan::Write(placements))
}

/// Idempotency: `Some(originals)` when this request is a pure retry.
fn find_retry(conn: &Connection, batch: &AppendBatch) -> Result<Option<Vec<Appended>>, WriteError> {
    if batch.events.iter().all(|e| e.idempotency_key.is_none()) {
        return Ok(None);
    }
    let reading = |e: rusqlite::Error| WriteError::storage("reading idempotency keys", &e);
    let mut originals: Vec<(&str, i64)> = Vec::new();
    let mut any_new = false;
    for ev in &batch.events {
        let found = match &ev.idempotency_key {
            Some(key) => idempotency_key(conn, key)
                .map_err(reading)?
                .map(|id| (key.as_str(), id)),
            None => None,
        };
        match found {
            Some(original) => originals.push(original),
            None => any_new = true,
        }
    }
    match (originals.first(), any_new) {
        (None, _) => Ok(None),
        (Some(&(key, id)), true) => Err(WriteError::PartialRetry {
            key: key.to_string(),
            id,
        }),
        (Some(_), false) => {
            let mut events = Vec::with_capacity(originals.len());
            for (key, id) in originals {
                let event = stored_event(conn, id).map_err(reading)?.ok_or_else(|| {
                    WriteError::DanglingKey {
                        key: key.to_string(),
                        id,
                    }
                })?;
                events.push(Appended {
                    event: Arc::new(event),
                    deduplicated: true,
                });
            }
            Ok(Some(events))
        }
    }
}

fn plan_import(
    conn: &Connection,
    ground: &Ground<'_>,
    batch: &ImportBatch,
) -> Result<ImportPlan, WriteError> {
    let head = ground.head;
    let conflict = |id: i64, reason: String| WriteError::ImportConflict {
        id,
        reason,
        head: head.clone(),
    };
    let mut skipped = 0;
    let (mut last_id, mut last_hash) = (head.last_id, head.last_hash.as_deref());
    for row in &batch.rows {
        if row.id <= last_id {
            let stored = stored_event(conn, row.id)
                .map_err(|e| WriteError::storage("reading stored rows", &e))?;
            match stored {
                Some(stored) if &stored == row => {
                    skipped += 1;
                    continue;
                }
                Some(stored) => {
                    return Err(conflict(
                        row.id,
                        format!(
                            "differs from the stored row in {}",
                            differing_fields(&stored, row).join(", ")
                        ),
                    ))
                }
                None => {
                    return Err(conflict(
                        row.id,
                        format!(
                        "id is not after the ledger's last id {last_id} and no such row is stored"
                    ),
                    ))
                }
            }
        }
        if batch.mode == ImportMode::Verify {
            check_import_link(ground, row, last_hash).map_err(|reason| match reason {
                LinkProblem::Conflict(reason) => conflict(row.id, reason),
                LinkProblem::Invalid(reason) => WriteError::ImportInvalid { id: row.id, reason },
                LinkProblem::ChainBroken(fault) => WriteError::ChainBroken(fault),
            })?;
        }
        (last_id, last_hash) = (row.id, row.hash.as_deref());
    }
    Ok(ImportPlan { skipped })
}

/// Why a row cannot be imported in verify mode.
enum LinkProblem {
    /// It does not continue the stored chain.
    Conflict(String),
    /// Its own hash is wrong.
    Invalid(String),
    ChainBroken(ChainFault),
}

/// Verify mode: the row links to the row before it and hashes to its
/// stored hash.
fn check_import_link(
    ground: &Ground<'_>,
    row: &Event,
    last_hash: Option<&str>,
) -> Result<(), LinkProblem> {
    if let Some(fault) = ground.chain_fault {
        return Err(LinkProblem::ChainBroken(fault.clone()));
    }
    if row.prev_hash.as_deref() != last_hash {
        return Err(LinkProblem::Conflict(format!(
            "prev_hash {} does not link to the ledger's last hash {}",
            shown(row.prev_hash.as_deref()),
            shown(last_hash)
        )));
    }
    let meta = row
        .parsed_meta()
        .map_err(|e| LinkProblem::Invalid(e.to_string()))?;
    let computed = chain::hash_with_meta(row, meta)
        .map_err(|e| LinkProblem::Invalid(format!("cannot be hashed: {e}")))?;
    if row.hash.as_deref() != Some(computed.as_str()) {
        return Err(LinkProblem::Invalid(match row.hash.as_deref() {
            None => format!("hash is missing (the recomputed hash is {computed})"),
            Some(stored) => format!("hash {stored} does not match the recomputed hash {computed}"),
        }));
    }
    Ok(())
}

/// A hash for a message: the text, or `null`.
fn shown(hash: Option<&str>) -> String {
    hash.map_or_else(|| "null".to_string(), |h| format!("\"{h}\""))
}

fn differing_fields(a: &Event, b: &Event) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if a.ts != b.ts {
        fields.push("ts");
    }
    if a.kind != b.kind {
        fields.push("kind");
    }
    if a.content != b.content {
        fields.push("content");
    }
    if a.meta_text != b.meta_text {
        fields.push("meta");
    }
    if a.prev_hash != b.prev_hash {
        fields.push("prev_hash");
    }
    if a.hash != b.hash {
        fields.push("hash");
    }
    fields
}
