//! Reading the rows of a ledger file, streaming: a JSON-lines file (the
//! fixtures' `events.jsonl` format, see [`crate::jsonl`]) or a reference-made
//! SQLite `pmm.db`, told apart by the SQLite header.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use pmm::v1;
use rusqlite::{Connection, OpenFlags};

use crate::jsonl;

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

/// Why a ledger file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is not a row.
    #[error("{}:{line}: {reason}", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The database could not be read.
    #[error("{}: {reason}", path.display())]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> SourceError + '_ {
    move |source| SourceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn sqlite_error(path: &Path) -> impl Fn(rusqlite::Error) -> SourceError + '_ {
    move |e| SourceError::Sqlite {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// The format of the file at `path`, by its first 16 bytes.
pub fn detect(path: &Path) -> Result<Format, SourceError> {
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
pub fn count_rows(path: &Path, format: Format) -> Result<u64, SourceError> {
    match format {
        Format::JsonLines => {
            let reader = BufReader::new(File::open(path).map_err(io_error(path))?);
            let mut n = 0;
            for line in reader.split(b'\n') {
                let line = line.map_err(io_error(path))?;
                if !line.iter().all(u8::is_ascii_whitespace) {
                    n += 1;
                }
            }
            Ok(n)
        }
        Format::Sqlite => {
            let conn = open_sqlite(path).map_err(sqlite_error(path))?;
            let n: i64 = conn
                .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
                .map_err(sqlite_error(path))?;
            Ok(u64::try_from(n).unwrap_or(0))
        }
    }
}

/// Calls `f` with each row of the file: in file order for JSON lines, in id
/// order for SQLite. Never holds the ledger in memory. Stops at the first
/// error, from reading or from `f`.
pub fn for_each_row<E: From<SourceError>>(
    path: &Path,
    format: Format,
    mut f: impl FnMut(v1::Event) -> Result<(), E>,
) -> Result<(), E> {
    match format {
        Format::JsonLines => {
            let reader = BufReader::new(File::open(path).map_err(io_error(path))?);
            for (index, line) in reader.lines().enumerate() {
                let line = line.map_err(io_error(path))?;
                if line.trim().is_empty() {
                    continue;
                }
                let row = jsonl::parse_line(&line).map_err(|e| SourceError::Line {
                    path: path.to_path_buf(),
                    line: index as u64 + 1,
                    reason: e.0,
                })?;
                f(row)?;
            }
            Ok(())
        }
        Format::Sqlite => {
            let err = sqlite_error(path);
            let conn = open_sqlite(path).map_err(&err)?;
            let mut stmt = conn
                .prepare(
                    "SELECT id, ts, kind, content, meta, prev_hash, hash FROM events ORDER BY id",
                )
                .map_err(&err)?;
            let mut rows = stmt.query([]).map_err(&err)?;
            while let Some(row) = rows.next().map_err(&err)? {
                let row = row_to_event(row).map_err(&err)?;
                f(row)?;
            }
            Ok(())
        }
    }
}

fn row_to_event(row: &rusqlite::Row<'_>) -> Result<v1::Event, rusqlite::Error> {
    let id: i64 = row.get(0)?;
    let id = u64::try_from(id).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, id))?;
    Ok(v1::Event {
        id,
        ts: row.get(1)?,
        kind: row.get(2)?,
        content: row.get(3)?,
        meta: row.get(4)?,
        prev_hash: row.get(5)?,
        hash: row.get::<_, Option<String>>(6)?.unwrap_or_default(),
    })
}

/// Opens a database read-only without creating anything beside it: when no
/// `-wal` file exists, as `immutable` (no `-wal`/`-shm` files are made);
/// otherwise read-only, so that the log's committed rows are seen.
pub fn open_sqlite(path: &Path) -> Result<Connection, rusqlite::Error> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if Path::new(&wal).exists() {
        return Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY);
    }
    let uri = format!("file:{}?immutable=1", uri_escape(&path.to_string_lossy()));
    Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("pmm-client-source-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn collect(path: &Path) -> Vec<v1::Event> {
        let format = detect(path).unwrap();
        let mut rows = Vec::new();
        for_each_row::<SourceError>(path, format, |r| {
            rows.push(r);
            Ok(())
        })
        .unwrap();
        rows
    }

    #[test]
    fn reads_json_lines_skipping_blank_lines() {
        let dir = temp_dir("jsonl");
        let path = dir.join("events.jsonl");
        std::fs::write(
            &path,
            "{\"id\": 1, \"ts\": \"t\", \"kind\": \"user\", \"content\": \"a\", \"meta\": {}, \"prev_hash\": null, \"hash\": \"h1\"}\n\n\
             {\"id\": 2, \"ts\": \"t\", \"kind\": \"user\", \"content\": \"b\", \"meta\": {\"x\": 1}, \"prev_hash\": \"h1\", \"hash\": \"h2\"}\n",
        )
        .unwrap();
        assert_eq!(detect(&path).unwrap(), Format::JsonLines);
        assert_eq!(count_rows(&path, Format::JsonLines).unwrap(), 2);
        let rows = collect(&path);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].meta, "{\"x\": 1}");
        std::fs::write(&path, "{\"id\": 1}\nnope\n").unwrap();
        let err = for_each_row::<SourceError>(&path, Format::JsonLines, |_| Ok(())).unwrap_err();
        assert!(
            err.to_string().contains("events.jsonl:1: ts: missing"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reads_a_database_without_touching_its_folder() {
        let dir = temp_dir("db");
        let path = dir.join("pmm.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "PRAGMA journal_mode=WAL;
                 CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL,
                   kind TEXT NOT NULL, content TEXT NOT NULL, meta TEXT NOT NULL,
                   prev_hash TEXT, hash TEXT);
                 INSERT INTO events VALUES (1, 't1', 'user', 'hi', '{\"a\":  1}', NULL, 'h1');
                 INSERT INTO events VALUES (2, 't2', 'user', 'yo', '{}', 'h1', NULL);",
            )
            .unwrap();
        }
        let before: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(before.len(), 1, "{before:?}");
        assert_eq!(detect(&path).unwrap(), Format::Sqlite);
        assert_eq!(count_rows(&path, Format::Sqlite).unwrap(), 2);
        let rows = collect(&path);
        assert_eq!(rows[0].meta, "{\"a\":  1}", "meta text is kept verbatim");
        assert_eq!(rows[0].prev_hash, None);
        assert_eq!(rows[1].hash, "");
        let after: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(after, before, "no -wal/-shm files were created");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn uri_special_characters_are_escaped() {
        assert_eq!(uri_escape("/a?b#c%d"), "/a%3Fb%23c%25d");
    }
}
