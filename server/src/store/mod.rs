//! SQLite, and nothing else: the schema (compatible with reference `pmm.db`
//! files), the read pool, reads by id, range, kind and tail, the writes the
//! sequencer makes ([`write`]), and WAL checkpoints on their own thread
//! ([`checkpoint`]). It knows rows, never rules, snapshots or subscribers.

pub mod checkpoint;
pub mod memory;
pub mod private;
pub mod schema;
pub mod write;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use r2d2::{Pool, PooledConnection};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{params_from_iter, Connection, OpenFlags, Row as SqlRow};
use scheduled_thread_pool::ScheduledThreadPool;

use crate::event::{Event, ParsedMeta};

/// The columns every row query selects, in [`event_from_sql`] order.
pub const ROW_COLUMNS: &str = "id, ts, kind, content, meta, prev_hash, hash";

/// A row selected as [`ROW_COLUMNS`]; its meta is parsed on first use.
///
/// A row whose columns are not what the schema says (a NULL in a NOT NULL
/// column, a number or blob where text belongs, text that is not UTF-8)
/// still comes back, as far as it can be read, marked unreadable with the
/// reason: one damaged row must not make the rest of the ledger
/// unreachable.
pub fn event_from_sql(row: &SqlRow<'_>) -> rusqlite::Result<Event> {
    let mut defects = Vec::new();
    let mut text = |i: usize, name: &str| text_column(row, i, name, &mut defects);
    let ts = text(1, "ts").unwrap_or_default();
    let kind = text(2, "kind").unwrap_or_default();
    let content = text(3, "content").unwrap_or_default();
    let meta_text = text(4, "meta").unwrap_or_default();
    let prev_hash = optional_text_column(row, 5, "prev_hash", &mut defects);
    let hash = optional_text_column(row, 6, "hash", &mut defects);
    Ok(Event {
        id: row.get(0)?,
        ts,
        kind,
        content,
        meta_text,
        prev_hash,
        hash,
        parsed: if defects.is_empty() {
            ParsedMeta::on_first_use()
        } else {
            ParsedMeta::unreadable(defects.join("; "))
        },
    })
}

/// A text column as stored; anything else is noted in `defects` and read
/// as well as it can be.
fn text_column(
    row: &SqlRow<'_>,
    i: usize,
    name: &str,
    defects: &mut Vec<String>,
) -> Option<String> {
    use rusqlite::types::ValueRef;
    match row.get_ref(i) {
        Ok(ValueRef::Text(bytes)) => match std::str::from_utf8(bytes) {
            Ok(text) => Some(text.to_string()),
            Err(_) => {
                defects.push(format!("{name} is not valid UTF-8"));
                Some(String::from_utf8_lossy(bytes).into_owned())
            }
        },
        Ok(ValueRef::Null) => {
            defects.push(format!("{name} is NULL"));
            None
        }
        Ok(ValueRef::Integer(n)) => {
            defects.push(format!("{name} is the integer {n}, not text"));
            Some(n.to_string())
        }
        Ok(ValueRef::Real(x)) => {
            defects.push(format!("{name} is the real {x}, not text"));
            Some(x.to_string())
        }
        Ok(ValueRef::Blob(bytes)) => {
            defects.push(format!(
                "{name} is a blob of {} bytes, not text",
                bytes.len()
            ));
            Some(String::from_utf8_lossy(bytes).into_owned())
        }
        Err(e) => {
            defects.push(format!("{name} cannot be read: {e}"));
            None
        }
    }
}

/// A text column that may be NULL (`prev_hash`, `hash`).
fn optional_text_column(
    row: &SqlRow<'_>,
    i: usize,
    name: &str,
    defects: &mut Vec<String>,
) -> Option<String> {
    match row.get_ref(i) {
        Ok(rusqlite::types::ValueRef::Null) => None,
        _ => text_column(row, i, name, defects),
    }
}

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("cannot create {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create {path}: {source}")]
    CreateFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{source}; the folder {} cannot be written ({reason}): SQLite keeps a \
         ledger's -wal and -shm files beside it, so the folder must be writable \
         (a read-only ledger file in it is then served read-only)",
        dir.display()
    )]
    FolderNotWritable {
        dir: PathBuf,
        reason: std::io::Error,
        source: rusqlite::Error,
    },
    #[error("cannot switch the database to WAL mode (journal_mode is {mode})")]
    NotWal { mode: String },
    #[error("table events lacks column(s) {missing}; not a pmm ledger")]
    NotALedger { missing: String },
    #[error("cannot start the {name} thread: {source}")]
    Thread {
        name: &'static str,
        source: std::io::Error,
    },
}

/// Reading direction of a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Backward,
}

/// A page request: ids within `[start, end]` (in reading order), kinds, at
/// most `limit` rows and `max_bytes` bytes of rows (but at least one row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageQuery {
    pub start: i64,
    /// Inclusive bound in the reading direction, if any.
    pub end: Option<i64>,
    pub direction: Direction,
    pub kinds: Vec<String>,
    pub limit: usize,
    pub max_bytes: usize,
}

/// A page of rows, and whether it was cut (by count or by bytes) before
/// the end of the range: more matching rows may follow its last one.
#[derive(Debug, Default)]
pub struct Page {
    pub events: Vec<Event>,
    pub cut: bool,
}

/// Bytes a row takes in a message at most: its texts, plus the id and the
/// field tags and lengths (generous).
pub fn row_bytes(ev: &Event) -> usize {
    const FRAMING: usize = 64;
    ev.text_bytes() + FRAMING
}

/// The read side: a pool of read-only connections.
#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    pool: Pool<SqliteConnectionManager>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// `kind IN (?, ?, …)` for a kinds filter, or `1` for none.
fn kinds_clause(kinds: &[String]) -> String {
    if kinds.is_empty() {
        "1".to_string()
    } else {
        format!("kind IN ({})", vec!["?"; kinds.len()].join(", "))
    }
}

/// How long a read connection beyond the first stays open unused.
const POOL_IDLE: Duration = Duration::from_secs(60);

/// The threads that open and reap read connections, shared by every open
/// ledger's pool (r2d2 would start 3 per pool).
fn pool_workers() -> Arc<ScheduledThreadPool> {
    static WORKERS: OnceLock<Arc<ScheduledThreadPool>> = OnceLock::new();
    Arc::clone(WORKERS.get_or_init(|| {
        Arc::new(
            ScheduledThreadPool::builder()
                .num_threads(2)
                .thread_name_pattern("pmm-pool-{}")
                .build(),
        )
    }))
}

/// The rows of a ledger file and its last row, read without serving it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileHead {
    pub count: u64,
    pub last_id: i64,
    pub last_hash: Option<String>,
}

/// The [`FileHead`] of the ledger file at `path` (read-only, one short read
/// transaction). Blocking.
pub fn head_of_file(path: &Path) -> Result<FileHead, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let (count, last_id): (i64, Option<i64>) =
        conn.query_row("SELECT COUNT(*), MAX(id) FROM events", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let last_hash = match last_id {
        Some(id) => conn.query_row("SELECT hash FROM events WHERE id = ?1", [id], |r| r.get(0))?,
        None => None,
    };
    Ok(FileHead {
        count: count.max(0) as u64,
        last_id: last_id.unwrap_or(0),
        last_hash,
    })
}

impl Store {
    /// Opens the read pool on a database the writer has already set up.
    pub fn open_pool(path: &Path, size: u32) -> Result<Store, StoreError> {
        let manager = SqliteConnectionManager::file(path)
            .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(|conn| {
                memory::limit(conn, memory::READER_CACHE_KIB)?;
                conn.busy_timeout(Duration::from_secs(5))?;
                conn.pragma_update(None, "query_only", true)?;
                Ok(())
            });
        let pool = Pool::builder()
            .max_size(size.max(1))
            // One connection kept; more opened under load and closed
            // after a minute idle: an idle open mind holds few files.
            .min_idle(Some(1))
            .idle_timeout(Some(POOL_IDLE))
            .thread_pool(pool_workers())
            .connection_timeout(Duration::from_secs(10))
            .build(manager)?;
        Ok(Store {
            path: path.to_path_buf(),
            pool,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn conn(&self) -> Result<PooledConnection<SqliteConnectionManager>, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Hands back the page cache of the idle read connection (after a
    /// rebuild read every row through it).
    pub fn release_memory(&self) -> Result<(), StoreError> {
        Ok(self.conn()?.release_memory()?)
    }

    /// Number of rows.
    pub fn count(&self) -> Result<u64, StoreError> {
        let conn = self.conn()?;
        // SQLite counts on its smallest index (a tenth of the time of the
        // rows on a large ledger); should that index be damaged, on the
        // rows: a damaged index must not stop a ledger from opening.
        let n: i64 = match conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0)) {
            Ok(n) => n,
            Err(_) => {
                conn.query_row("SELECT COUNT(*) FROM events NOT INDEXED", [], |r| r.get(0))?
            }
        };
        Ok(n.max(0) as u64)
    }

    /// One row by id.
    pub fn get(&self, id: i64) -> Result<Option<Event>, StoreError> {
        let conn = self.conn()?;
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM events WHERE id = ?1"))?;
        let mut rows = stmt.query([id])?;
        Ok(match rows.next()? {
            Some(row) => Some(event_from_sql(row)?),
            None => None,
        })
    }

    /// A page of rows in the requested direction, read row by row and cut
    /// as soon as the next row would pass `max_bytes` (so a page of large
    /// rows is never held beyond its budget).
    pub fn page(&self, q: &PageQuery) -> Result<Page, StoreError> {
        let conn = self.conn()?;
        let (cmp_start, cmp_end, order) = match q.direction {
            Direction::Forward => (">=", "<=", "ASC"),
            Direction::Backward => ("<=", ">=", "DESC"),
        };
        let end_clause = if q.end.is_some() {
            format!("AND id {cmp_end} ?")
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM events WHERE id {cmp_start} ? {end_clause} AND {} ORDER BY id {order} LIMIT ?",
            kinds_clause(&q.kinds)
        );
        let mut params: Vec<rusqlite::types::Value> = vec![q.start.into()];
        if let Some(end) = q.end {
            params.push(end.into());
        }
        params.extend(q.kinds.iter().map(|k| k.clone().into()));
        params.push((q.limit as i64).into());
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(params))?;
        let mut page = Page::default();
        let mut bytes = 0;
        while let Some(row) = rows.next()? {
            let event = event_from_sql(row)?;
            bytes += row_bytes(&event);
            if bytes > q.max_bytes && !page.events.is_empty() {
                page.cut = true;
                return Ok(page);
            }
            page.events.push(event);
        }
        page.cut = page.events.len() == q.limit;
        Ok(page)
    }

    /// Rows with id > `after`, of the given kinds, ascending: at most
    /// `limit` rows and `max_bytes` bytes.
    pub fn after(
        &self,
        after: i64,
        kinds: &[String],
        limit: usize,
        max_bytes: usize,
    ) -> Result<Page, StoreError> {
        self.page(&PageQuery {
            start: after.saturating_add(1),
            end: None,
            direction: Direction::Forward,
            kinds: kinds.to_vec(),
            limit,
            max_bytes,
        })
    }

    /// Calls `f` on every row with id in `[from, to]` in id order, streaming
    /// (one read transaction, nothing held beyond the current row).
    pub fn for_each<E: From<StoreError>>(
        &self,
        from: i64,
        to: i64,
        mut f: impl FnMut(Event) -> Result<(), E>,
    ) -> Result<(), E> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {ROW_COLUMNS} FROM events WHERE id >= ?1 AND id <= ?2 ORDER BY id"
            ))
            .map_err(StoreError::from)?;
        let mut rows = stmt.query([from, to]).map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            f(event_from_sql(row).map_err(StoreError::from)?)?;
        }
        Ok(())
    }

    /// The last rows up to id `up_to`, oldest first: as many as fit in
    /// `rows` rows and `bytes` bytes of text (the rows a tail window keeps),
    /// and whether they are every row there is up to `up_to`.
    pub fn last_rows(
        &self,
        up_to: i64,
        rows: usize,
        bytes: usize,
    ) -> Result<(Vec<Event>, bool), StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM events WHERE id <= ?1 ORDER BY id DESC"
        ))?;
        let mut cursor = stmt.query([up_to])?;
        let (mut last, mut held, mut all) = (Vec::new(), 0usize, true);
        while let Some(row) = cursor.next()? {
            let ev = event_from_sql(row)?;
            held = held.saturating_add(ev.text_bytes());
            if last.len() == rows || held > bytes {
                all = false;
                break;
            }
            last.push(ev);
        }
        last.reverse();
        Ok((last, all))
    }

    /// The id of the `n`-th row (n >= 1) counting back from the row before
    /// `before`; `None` when fewer rows precede it.
    pub fn nth_id_before(&self, before: i64, n: usize) -> Result<Option<i64>, StoreError> {
        let offset = i64::try_from(n.saturating_sub(1)).unwrap_or(i64::MAX);
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT id FROM events WHERE id < ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2",
        )?;
        let mut rows = stmt.query(rusqlite::params![before, offset])?;
        Ok(match rows.next()? {
            Some(row) => Some(row.get(0)?),
            None => None,
        })
    }

    /// Number of rows per kind.
    pub fn counts_by_kind(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let conn = self.conn()?;
        let mut stmt =
            conn.prepare_cached("SELECT kind, COUNT(*) FROM events GROUP BY kind ORDER BY kind")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Sizes of the database file and its WAL, in bytes.
    pub fn file_sizes(&self) -> (u64, u64) {
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let mut wal = self.path.as_os_str().to_owned();
        wal.push("-wal");
        (size(&self.path), size(Path::new(&wal)))
    }
}
