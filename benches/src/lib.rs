//! pmm-bench: a deterministic PMM ledger generator (the `pmm-gen` binary)
//! and the criterion benches of the rules (`benches/` at the workspace root).
//!
//! [`Generator`] yields an endless session of [`Draft`]s from a seed;
//! [`Chainer`] numbers them from 1 and links them into the hash chain; the
//! `write_*` functions write the first `n` as events to append, as a chained
//! `events.jsonl`, or as a `pmm.db`. [`load`] is the load generator behind
//! the `pmm-load` binary.

pub mod gen;
pub mod load;
pub mod pools;
pub mod rng;

use std::io::Write;
use std::path::{Path, PathBuf};

use pmm_server::chain::{event_hash, CanonicalError};
use pmm_server::event::{Event, ParsedMeta};
use pmm_server::store::write::{insert_event, RowRef};
use rusqlite::Connection;
use serde::Serialize;
use serde_json::Value;

pub use gen::{Draft, Generator};

/// Why a ledger could not be written.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
    #[error("{0} already exists; refusing to overwrite it")]
    Exists(PathBuf),
    #[error(transparent)]
    Store(#[from] pmm_server::store::StoreError),
}

/// Numbers drafts from 1 and links each to the previous one's hash.
#[derive(Clone, Debug, Default)]
pub struct Chainer {
    last_id: i64,
    prev_hash: Option<String>,
}

impl Chainer {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next row of the ledger.
    pub fn link(&mut self, d: Draft) -> Result<Event, CanonicalError> {
        let id = self.last_id + 1;
        let hash = event_hash(
            id,
            &d.ts,
            d.kind,
            &d.content,
            &d.meta,
            self.prev_hash.as_deref(),
        )?;
        self.last_id = id;
        Ok(Event {
            id,
            ts: d.ts,
            kind: d.kind.to_string(),
            content: d.content,
            meta_text: d.meta.to_string(),
            prev_hash: self.prev_hash.replace(hash.clone()),
            hash: Some(hash),
            parsed: ParsedMeta::given(d.meta),
        })
    }
}

/// The first `n` rows of the ledger of `seed`.
pub fn chained(n: usize, seed: u64) -> impl Iterator<Item = Result<Event, CanonicalError>> {
    let mut chainer = Chainer::new();
    Generator::new(seed).take(n).map(move |d| chainer.link(d))
}

/// The first `n` rows of the ledger of `seed`, in memory.
pub fn ledger(n: usize, seed: u64) -> Result<Vec<Event>, CanonicalError> {
    chained(n, seed).collect()
}

/// An event to append: `{"kind", "content", "meta"}`.
#[derive(Serialize)]
struct Append<'a> {
    kind: &'a str,
    content: &'a str,
    meta: &'a Value,
}

/// A row in the fixtures' `events.jsonl` field order.
#[derive(Serialize)]
struct Row<'a> {
    id: i64,
    ts: &'a str,
    kind: &'a str,
    content: &'a str,
    meta: &'a Value,
    prev_hash: Option<&'a str>,
    hash: Option<&'a str>,
}

fn write_line(out: &mut impl Write, value: &impl Serialize) -> Result<(), GenError> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Writes `n` events to append, one `{"kind", "content", "meta"}` per line.
pub fn write_events(n: usize, seed: u64, mut out: impl Write) -> Result<(), GenError> {
    for d in Generator::new(seed).take(n) {
        let line = Append {
            kind: d.kind,
            content: &d.content,
            meta: &d.meta,
        };
        write_line(&mut out, &line)?;
    }
    out.flush()?;
    Ok(())
}

/// Writes `n` chained rows as JSON lines (the fixtures' `events.jsonl`).
pub fn write_jsonl(n: usize, seed: u64, mut out: impl Write) -> Result<(), GenError> {
    for ev in chained(n, seed) {
        let ev = ev?;
        let row = Row {
            id: ev.id,
            ts: &ev.ts,
            kind: &ev.kind,
            content: &ev.content,
            meta: ev.meta(),
            prev_hash: ev.prev_hash.as_deref(),
            hash: ev.hash.as_deref(),
        };
        write_line(&mut out, &row)?;
    }
    out.flush()?;
    Ok(())
}

/// The `events` table of SPEC §1, as the reference creates it.
const CREATE_EVENTS: &str = "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, \
    ts TEXT NOT NULL, kind TEXT NOT NULL, content TEXT NOT NULL, meta TEXT NOT NULL, \
    prev_hash TEXT, hash TEXT)";

/// Writes `n` chained rows to a new SQLite ledger at `path` (WAL mode, one
/// transaction, meta as JSON text). Refuses to touch an existing file.
pub fn write_db(n: usize, seed: u64, path: &Path) -> Result<(), GenError> {
    if path.exists() {
        return Err(GenError::Exists(path.to_path_buf()));
    }
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(CREATE_EVENTS)?;
    let tx = conn.transaction()?;
    for ev in chained(n, seed) {
        let ev = ev?;
        insert_event(&tx, &RowRef::from(&ev))?;
    }
    tx.commit()?;
    Ok(())
}

/// Adds to a ledger what pmm-server creates on its first open of a
/// reference-made file (the kind index, the idempotency table), so that a
/// server started on it measures a restart, not that one-time migration.
pub fn add_server_schema(path: &Path) -> Result<(), GenError> {
    let conn = Connection::open(path)?;
    pmm_server::store::schema::prepare_writer(
        &conn,
        pmm_server::store::schema::Durability::Normal,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pmm_server::chain::verify_chain;
    use pmm_server::rules::{Fold, State};

    fn jsonl(n: usize, seed: u64) -> Vec<u8> {
        let mut out = Vec::new();
        write_jsonl(n, seed, &mut out).expect("write jsonl");
        out
    }

    #[test]
    fn same_seed_same_bytes() {
        assert_eq!(jsonl(3000, 7), jsonl(3000, 7));
        assert_ne!(jsonl(3000, 7), jsonl(3000, 8));
        let mut a = Vec::new();
        let mut b = Vec::new();
        write_events(500, 7, &mut a).expect("events");
        write_events(500, 7, &mut b).expect("events");
        assert_eq!(a, b);
    }

    #[test]
    fn the_chain_verifies_and_the_rules_fold_it() {
        let events = ledger(5000, 3).expect("ledger");
        assert_eq!(verify_chain(&events), Ok(5000));
        let mut state = State::default();
        for ev in &events {
            state.apply(ev);
        }
        let outputs = state.outputs().expect("outputs");
        assert_eq!(outputs["chain_ok"], true);
        assert!(state.whole.projection.open_count() > 0);
        assert!(!state.directives.is_empty());
    }

    #[test]
    fn jsonl_rows_read_back_as_the_same_events() {
        let text = String::from_utf8(jsonl(300, 5)).expect("utf-8");
        let read: Vec<Event> = text
            .lines()
            .map(|line| {
                let row = pmm::ledger_file::parse_line(line).expect("row");
                pmm_server::source::event_from_row(row).expect("event")
            })
            .collect();
        assert_eq!(read, ledger(300, 5).expect("ledger"));
    }

    #[test]
    fn db_reads_back_and_verifies() {
        let path = std::env::temp_dir().join(format!("pmm-gen-test-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        write_db(2000, 11, &path).expect("write db");
        assert!(matches!(write_db(1, 11, &path), Err(GenError::Exists(_))));
        let mut read = Vec::new();
        pmm_server::source::for_each_event(&path, |ev| {
            read.push(ev);
            Ok::<_, pmm_server::source::SourceError>(())
        })
        .expect("read db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        assert_eq!(verify_chain(&read), Ok(2000));
        assert_eq!(read, ledger(2000, 11).expect("ledger"));
    }
}
