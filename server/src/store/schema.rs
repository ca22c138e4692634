//! The SQLite schema: the reference's `events` table (so reference-made
//! `pmm.db` files open in place) plus pmm's own side tables, all created
//! only if missing.

use rusqlite::Connection;

use super::StoreError;

/// How SQLite makes commits durable (the writer's `synchronous` setting);
/// also the `--durability` flag's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Durability {
    /// synchronous=NORMAL: a commit survives a process crash.
    #[default]
    Normal,
    /// synchronous=FULL: a commit survives power loss.
    Full,
}

const CREATE: &str = "
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    kind TEXT NOT NULL,
    content TEXT NOT NULL,
    meta TEXT NOT NULL,
    prev_hash TEXT,
    hash TEXT
);
CREATE INDEX IF NOT EXISTS idx_events_kind_id ON events(kind, id);
CREATE TABLE IF NOT EXISTS pmm_idempotency (
    key TEXT PRIMARY KEY,
    event_id INTEGER NOT NULL
) WITHOUT ROWID;
-- One row at most: the last id written by a VERBATIM import while the
-- ledger held nothing else. VERBATIM is accepted while it is the ledger's
-- last id (or the ledger is empty); any other write moves past it for good.
CREATE TABLE IF NOT EXISTS pmm_verbatim (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    last_id INTEGER NOT NULL
);
";

/// Columns the `events` table must have.
const REQUIRED_COLUMNS: [&str; 7] = ["id", "ts", "kind", "content", "meta", "prev_hash", "hash"];

/// The `synchronous` pragma's value for a durability.
pub fn synchronous(durability: Durability) -> &'static str {
    match durability {
        Durability::Normal => "NORMAL",
        Durability::Full => "FULL",
    }
}

/// Sets the writer connection's pragmas and creates what is missing.
pub fn prepare_writer(conn: &Connection, durability: Durability) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NotWal { mode });
    }
    conn.pragma_update(None, "synchronous", synchronous(durability))?;
    // Checkpoints run on their own thread (see `checkpoint.rs`), not inside
    // the commit that fills the WAL.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.execute_batch(CREATE)?;
    check_columns(conn)
}

pub fn check_columns(conn: &Connection) -> Result<(), StoreError> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('events')")?;
    let columns = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let missing: Vec<&str> = REQUIRED_COLUMNS
        .iter()
        .copied()
        .filter(|c| !columns.iter().any(|have| have == c))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(StoreError::NotALedger {
            missing: missing.join(", "),
        })
    }
}
