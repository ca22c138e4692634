//! Reading a ledger file, streaming: a JSON-lines file (the fixtures'
//! `events.jsonl`, one row object per line) or a SQLite `pmm.db` made by the
//! reference (table `events`, SPEC §1), told apart by the SQLite header.
//!
//! Rows come out as plain [`Row`]s, in line order or in id order, one at a
//! time (a ledger is never held in memory); the server and the client each
//! convert them to their own event type. Every error names the file, and
//! the line or row it is about.

mod json_lines;
mod sqlite;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use json_lines::parse_line;
pub use sqlite::open_read_only;

/// The first 16 bytes of every SQLite database file.
pub const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// The format of a ledger file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON row per line.
    JsonLines,
    /// A SQLite database with an `events` table.
    Sqlite,
}

/// One row of a ledger file, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: i64,
    pub ts: String,
    pub kind: String,
    pub content: String,
    pub meta: Meta,
    /// The previous row's hash; `None` on the first row.
    pub prev_hash: Option<String>,
    /// The stored hash; `None` when not stored.
    pub hash: Option<String>,
}

/// A row's `meta` as the file holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Meta {
    /// The `meta` column of a database: JSON text, not parsed.
    Text(String),
    /// The `meta` value of a JSON line (`{}` when the key is absent).
    Json(Value),
}

/// Why a row cannot be read or converted (without its place in the file,
/// which [`Error`] adds).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RowError(pub String);

/// Why a ledger file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The database could not be read.
    #[error("{}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// A line of a JSON-lines file is not a row, or its row was refused.
    #[error("{}:{line}: {reason}", path.display())]
    Line {
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        reason: RowError,
    },
    /// A database row was refused.
    #[error("{}: row {id}: {reason}", path.display())]
    Row {
        path: PathBuf,
        id: i64,
        reason: RowError,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The format of the file at `path`, by its first 16 bytes.
pub fn detect(path: &Path) -> Result<Format, Error> {
    let mut file = File::open(path).map_err(io_error(path))?;
    let mut head = Vec::with_capacity(SQLITE_HEADER.len());
    file.by_ref()
        .take(SQLITE_HEADER.len() as u64)
        .read_to_end(&mut head)
        .map_err(io_error(path))?;
    Ok(if head == SQLITE_HEADER {
        Format::Sqlite
    } else {
        Format::JsonLines
    })
}

/// The number of rows in the file (non-blank lines, or rows of `events`).
pub fn count_rows(path: &Path, format: Format) -> Result<u64, Error> {
    match format {
        Format::JsonLines => json_lines::count_rows(path),
        Format::Sqlite => sqlite::count_rows(path),
    }
}

/// Calls `f` with each row of the file, in line order for JSON lines and in
/// id order for SQLite, after `convert` has made it the caller's own type
/// (a conversion error is reported at the row's line or id). Stops at the
/// first error, from reading, from `convert` or from `f`.
pub fn for_each_row<T, E: From<Error>>(
    path: &Path,
    format: Format,
    convert: impl FnMut(Row) -> Result<T, RowError>,
    f: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E> {
    match format {
        Format::JsonLines => json_lines::for_each_row(path, convert, f),
        Format::Sqlite => sqlite::for_each_row(path, convert, f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("pmm-ledger-file-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    pub(super) fn collect(path: &Path) -> Vec<Row> {
        let format = detect(path).unwrap();
        let mut rows = Vec::new();
        for_each_row::<_, Error>(path, format, Ok, |r| {
            rows.push(r);
            Ok(())
        })
        .unwrap();
        rows
    }

    #[test]
    fn a_short_or_other_file_is_json_lines() {
        let dir = temp_dir("detect");
        for (name, bytes) in [
            ("empty", &b""[..]),
            ("short", b"SQLite format 3"),
            ("text", b"{\"id\": 1}\n"),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            assert_eq!(detect(&path).unwrap(), Format::JsonLines, "{name}");
        }
        let err = detect(&dir.join("missing")).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
        assert!(err.to_string().contains("missing"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn conversion_errors_name_the_place() {
        let dir = temp_dir("convert");
        let path = dir.join("events.jsonl");
        std::fs::write(
            &path,
            "\n{\"id\": 4, \"ts\": \"t\", \"kind\": \"k\", \"content\": \"\"}\n",
        )
        .unwrap();
        let err = for_each_row::<(), Error>(
            &path,
            Format::JsonLines,
            |row| Err(RowError(format!("no row {}", row.id))),
            |()| Ok(()),
        )
        .unwrap_err();
        assert!(
            err.to_string().ends_with("events.jsonl:2: no row 4"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
