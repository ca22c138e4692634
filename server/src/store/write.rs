//! The write connection and the statements the single writer runs on it.
//! Transactions are the caller's: these run inside whatever transaction the
//! connection has open.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use super::schema::{self, Durability};
use super::{event_from_sql, private, StoreError, ROW_COLUMNS};
use crate::event::Event;

/// Opens the write connection (creating the file, its folder and the
/// schema if missing; what is created is private to this user, see
/// [`private`]).
pub fn open_connection(path: &Path, durability: Durability) -> Result<Connection, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        private::create_dir_all(dir)?;
    }
    private::create_file(path)?;
    let conn = Connection::open(path).map_err(|e| folder_not_writable(path, e))?;
    super::memory::limit(&conn, super::memory::WRITER_CACHE_KIB)
        .map_err(|e| folder_not_writable(path, e))?;
    schema::prepare_writer(&conn, durability).map_err(|e| match e {
        StoreError::Sqlite(e) => folder_not_writable(path, e),
        other => other,
    })?;
    Ok(conn)
}

/// An open that failed, with the reason a read-only folder gives when it is
/// one (SQLite's own message, "unable to open database file", does not say).
fn folder_not_writable(path: &Path, source: rusqlite::Error) -> StoreError {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match writable(dir) {
        Err(reason) => StoreError::FolderNotWritable {
            dir: dir.to_path_buf(),
            reason,
            source,
        },
        Ok(()) => StoreError::Sqlite(source),
    }
}

/// Why the ledger at `path` cannot be written through `conn` (the write
/// connection), if it cannot: the database file is read-only, or a `-wal`
/// or `-shm` file beside it is. SQLite makes those with the database file's
/// mode, so a file once opened while read-only leaves them read-only after
/// it is made writable again: reads work, every write transaction fails.
pub fn unwritable(conn: &Connection, path: &Path) -> Option<String> {
    if conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false) {
        return Some(format!("{} cannot be written", path.display()));
    }
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let side = std::path::PathBuf::from(side);
        // access(2), not an open: closing a descriptor of a file SQLite has
        // open would drop its locks on it.
        if let Err(e) = writable(&side) {
            return Some(format!(
                "{} cannot be written ({e}); make it writable as {} is",
                side.display(),
                path.display()
            ));
        }
    }
    None
}

/// Whether this process may write `path` (`Ok` when it does not exist).
#[cfg(unix)]
fn writable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return Ok(());
    };
    // SAFETY: a valid NUL-terminated path; access has no other precondition.
    if unsafe { libc::access(c_path.as_ptr(), libc::W_OK) } == 0 {
        return Ok(());
    }
    match std::io::Error::last_os_error() {
        e if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        e => Err(e),
    }
}

#[cfg(not(unix))]
fn writable(path: &Path) -> std::io::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.permissions().readonly() => Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "read-only",
        )),
        _ => Ok(()),
    }
}

/// The columns of a row to insert, borrowed from wherever they are.
#[derive(Clone, Copy, Debug)]
pub struct RowRef<'a> {
    pub id: i64,
    pub ts: &'a str,
    pub kind: &'a str,
    pub content: &'a str,
    pub meta_text: &'a str,
    pub prev_hash: Option<&'a str>,
    pub hash: Option<&'a str>,
}

impl<'a> From<&'a Event> for RowRef<'a> {
    fn from(ev: &'a Event) -> Self {
        RowRef {
            id: ev.id,
            ts: &ev.ts,
            kind: &ev.kind,
            content: &ev.content,
            meta_text: &ev.meta_text,
            prev_hash: ev.prev_hash.as_deref(),
            hash: ev.hash.as_deref(),
        }
    }
}

/// Inserts a row with every column as given.
pub fn insert_event(conn: &Connection, ev: &RowRef<'_>) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO events (id, ts, kind, content, meta, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(rusqlite::params![
        ev.id,
        ev.ts,
        ev.kind,
        ev.content,
        ev.meta_text,
        ev.prev_hash,
        ev.hash
    ])?;
    Ok(())
}

/// Records that the event `id` was appended under an idempotency key.
pub fn insert_idempotency_key(conn: &Connection, key: &str, id: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO pmm_idempotency (key, event_id) VALUES (?1, ?2)")?
        .execute(rusqlite::params![key, id])?;
    Ok(())
}

/// The event appended under an idempotency key, if any.
pub fn idempotency_key(conn: &Connection, key: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT event_id FROM pmm_idempotency WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()
}

/// One stored row by id, read on the write connection (inside the
/// writer's transaction).
pub fn stored_event(conn: &Connection, id: i64) -> rusqlite::Result<Option<Event>> {
    conn.prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM events WHERE id = ?1"))?
        .query_row([id], event_from_sql)
        .optional()
}

/// The last id written by a VERBATIM import, as long as every row up to it
/// came from VERBATIM imports (see `pmm_verbatim` in the schema).
pub fn verbatim_last_id(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT last_id FROM pmm_verbatim WHERE one = 1")?
        .query_row([], |r| r.get(0))
        .optional()
}

/// Records that the rows up to `id` were all written by VERBATIM imports.
pub fn set_verbatim_last_id(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO pmm_verbatim (one, last_id) VALUES (1, ?1) \
         ON CONFLICT(one) DO UPDATE SET last_id = excluded.last_id",
    )?
    .execute([id])?;
    Ok(())
}
