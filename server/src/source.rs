//! Reading whole ledgers from files, one row at a time: an `events.jsonl`
//! (the fixtures' format) or a reference-made `pmm.db`.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::event::{Event, EventParseError};

/// Why a ledger file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {source}")]
    Line {
        path: String,
        line: usize,
        source: EventParseError,
    },
    #[error("{path}: row {id}: meta is not valid JSON: {source}")]
    Meta {
        path: String,
        id: i64,
        source: serde_json::Error,
    },
    #[error("{path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
}

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

/// True when the file starts with the SQLite header.
pub fn is_sqlite(path: &Path) -> Result<bool, SourceError> {
    let mut head = [0u8; 16];
    let mut file = File::open(path).map_err(|e| io_error(path, e))?;
    let n = file.read(&mut head).map_err(|e| io_error(path, e))?;
    Ok(n == head.len() && head == SQLITE_MAGIC)
}

fn io_error(path: &Path, source: std::io::Error) -> SourceError {
    SourceError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Calls `f` with each row of a ledger file (JSON lines or SQLite), in file
/// order for JSON lines and id order for SQLite. Stops at the first error,
/// whether from reading or from `f`.
pub fn for_each_event<E: From<SourceError>>(
    path: &Path,
    mut f: impl FnMut(Event) -> Result<(), E>,
) -> Result<(), E> {
    if is_sqlite(path)? {
        for_each_db_event(path, f)
    } else {
        let file = File::open(path).map_err(|e| io_error(path, e))?;
        for (index, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| io_error(path, e))?;
            if line.trim().is_empty() {
                continue;
            }
            let ev = Event::from_json_line(&line).map_err(|source| SourceError::Line {
                path: path.display().to_string(),
                line: index + 1,
                source,
            })?;
            f(ev)?;
        }
        Ok(())
    }
}

/// Calls `f` with each row of a SQLite ledger (SPEC §1 schema) in id order,
/// streaming (the ledger is never held in memory).
pub fn for_each_db_event<E: From<SourceError>>(
    path: &Path,
    mut f: impl FnMut(Event) -> Result<(), E>,
) -> Result<(), E> {
    let sqlite = |source| SourceError::Sqlite {
        path: path.display().to_string(),
        source,
    };
    let conn = open_read_only(path).map_err(sqlite)?;
    let mut stmt = conn
        .prepare("SELECT id, ts, kind, content, meta, prev_hash, hash FROM events ORDER BY id")
        .map_err(sqlite)?;
    let mut rows = stmt.query([]).map_err(sqlite)?;
    while let Some(row) = rows.next().map_err(sqlite)? {
        let ev = event_from_row(row).map_err(|e| match e {
            RowError::Sqlite(source) => sqlite(source),
            RowError::Meta { id, source } => SourceError::Meta {
                path: path.display().to_string(),
                id,
                source,
            },
        })?;
        f(ev)?;
    }
    Ok(())
}

/// Opens a ledger file for reading without writing anything beside it.
///
/// A WAL-mode database normally gets `-wal`/`-shm` files created next to it
/// even by a reader; when no `-wal` file exists there is nothing outside the
/// main file, so it is opened `immutable` and the folder is left as it was.
pub fn open_read_only(path: &Path) -> Result<Connection, rusqlite::Error> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI;
    if Path::new(&wal).exists() {
        return Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY);
    }
    let uri = format!("file:{}?immutable=1", uri_escape(&path.to_string_lossy()));
    Connection::open_with_flags(uri, flags)
}

/// Escapes the characters that have a meaning in an SQLite URI path.
fn uri_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' | '?' | '#' => out.push_str(&format!("%{:02X}", c as u32)),
            _ => out.push(c),
        }
    }
    out
}

/// Why a row could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RowError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("row {id}: meta is not valid JSON: {source}")]
    Meta { id: i64, source: serde_json::Error },
}

/// An event from a row selected as `id, ts, kind, content, meta, prev_hash, hash`.
pub fn event_from_row(row: &rusqlite::Row<'_>) -> Result<Event, RowError> {
    let id: i64 = row.get(0)?;
    let meta_text: String = row.get(4)?;
    let meta = serde_json::from_str(&meta_text).map_err(|source| RowError::Meta { id, source })?;
    Ok(Event {
        id,
        ts: row.get(1)?,
        kind: row.get(2)?,
        content: row.get(3)?,
        meta_text,
        prev_hash: row.get(5)?,
        hash: row.get(6)?,
        parsed: crate::event::ParsedMeta::given(meta),
    })
}
