//! SQLite ledgers: the `events` table of a `pmm.db`, read without writing
//! anything beside the file.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{Error, Meta, Row, RowError};

/// Opens a database read-only without creating anything beside it.
///
/// A WAL-mode database normally gets `-wal`/`-shm` files created next to it
/// even by a reader; when no `-wal` file exists there is nothing outside the
/// main file, so it is opened `immutable` and the folder is left as it was.
/// Otherwise it is opened read-only, so that the log's committed rows are
/// seen.
pub fn open_read_only(path: &Path) -> Result<Connection, rusqlite::Error> {
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

fn sqlite_error(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |source| Error::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

pub(super) fn count_rows(path: &Path) -> Result<u64, Error> {
    let err = sqlite_error(path);
    let conn = open_read_only(path).map_err(&err)?;
    let n: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .map_err(&err)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(super) fn for_each_row<T, E: From<Error>>(
    path: &Path,
    mut convert: impl FnMut(Row) -> Result<T, RowError>,
    mut f: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E> {
    let err = sqlite_error(path);
    let conn = open_read_only(path).map_err(&err)?;
    let mut stmt = conn
        .prepare("SELECT id, ts, kind, content, meta, prev_hash, hash FROM events ORDER BY id")
        .map_err(&err)?;
    let mut rows = stmt.query([]).map_err(&err)?;
    while let Some(row) = rows.next().map_err(&err)? {
        let row = read_row(row).map_err(&err)?;
        let id = row.id;
        let item = convert(row).map_err(|reason| Error::Row {
            path: path.to_path_buf(),
            id,
            reason,
        })?;
        f(item)?;
    }
    Ok(())
}

/// A row selected as `id, ts, kind, content, meta, prev_hash, hash`.
fn read_row(row: &rusqlite::Row<'_>) -> Result<Row, rusqlite::Error> {
    Ok(Row {
        id: row.get(0)?,
        ts: row.get(1)?,
        kind: row.get(2)?,
        content: row.get(3)?,
        meta: Meta::Text(row.get(4)?),
        prev_hash: row.get(5)?,
        hash: row.get(6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{collect, temp_dir};
    use super::super::{count_rows, detect, Format};
    use super::*;

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
                 INSERT INTO events VALUES (2, 't2', 'user', 'yo', '{}', 'h1', NULL);
                 INSERT INTO events VALUES (1, 't1', 'user', 'hi', '{\"a\":  1}', NULL, 'h1');",
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
        assert_eq!(rows[0].id, 1, "rows come in id order");
        assert_eq!(
            rows[0].meta,
            Meta::Text("{\"a\":  1}".into()),
            "meta text is kept verbatim"
        );
        assert_eq!(rows[0].prev_hash, None);
        assert_eq!(rows[1].hash, None);
        let after: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(after, before, "no -wal/-shm files were created");

        let err = super::super::for_each_row::<(), Error>(
            &path,
            Format::Sqlite,
            |_| Err(RowError("refused".into())),
            |()| Ok(()),
        )
        .unwrap_err();
        assert!(err.to_string().ends_with("pmm.db: row 1: refused"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn uri_special_characters_are_escaped() {
        assert_eq!(uri_escape("/a?b#c%d"), "/a%3Fb%23c%25d");
    }

    #[test]
    fn a_database_with_special_characters_in_its_path_opens() {
        let dir = temp_dir("uri");
        let path = dir.join("a?b#c%d.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE events (id INTEGER PRIMARY KEY)")
            .unwrap();
        let n: i64 = open_read_only(&path)
            .unwrap()
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
