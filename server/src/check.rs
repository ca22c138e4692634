//! `pmm-server --check`: examines a ledger file without serving it — SQLite's
//! integrity check (rebuilding a damaged index, the one thing that can be
//! repaired without losing rows), the schema, the hash chain, and the head
//! anchor — and says what it found in plain words.

use std::fmt::Write as _;
use std::path::Path;

use rusqlite::Connection;

use crate::ledger::anchor::{self, Anchor};
use crate::ledger::cancel::Cancel;
use crate::ledger::head::Head;
use crate::ledger::replay::{self, VerifyFault};
use crate::store::{schema, Store};

/// What a check found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// One line per finding.
    pub lines: Vec<String>,
    /// Nothing is wrong (any more): the ledger can be served and appended to.
    pub healthy: bool,
}

impl CheckReport {
    fn note(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            let _ = writeln!(out, "  {line}");
        }
        let _ = writeln!(
            out,
            "  verdict: {}",
            if self.healthy {
                "healthy"
            } else {
                "NOT healthy (see above)"
            }
        );
        out
    }
}

/// Checks (and where possible repairs) the ledger file at `path`.
pub fn check(path: &Path) -> CheckReport {
    let mut report = CheckReport::default();
    if !path.is_file() {
        report.note(format!("{}: no such file", path.display()));
        return report;
    }
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    report.note(format!(
        "file: {} ({} bytes, write-ahead log {} bytes)",
        path.display(),
        size(path),
        size(Path::new(&wal))
    ));
    let conn = match Connection::open(path) {
        Ok(conn) => conn,
        Err(e) => {
            report.note(format!("SQLite cannot open it: {e}"));
            return report;
        }
    };
    let integrity_ok = integrity(path, &conn, &mut report);
    let schema_ok = match schema::check_columns(&conn) {
        Ok(()) => {
            report.note("schema: the events table has the reference's columns");
            true
        }
        Err(e) => {
            report.note(format!("schema: {e}"));
            false
        }
    };
    drop(conn);
    if !schema_ok {
        return report;
    }
    let (chain_ok, head) = chain(path, &mut report);
    let anchor_ok = anchored(path, &head, &mut report);
    report.healthy = integrity_ok && chain_ok && anchor_ok;
    report
}

/// SQLite's integrity check; damage confined to indexes (which hold
/// nothing the rows do not) is repaired by rebuilding them, and checked
/// again.
fn integrity(path: &Path, conn: &Connection, report: &mut CheckReport) -> bool {
    let problems = integrity_problems(conn);
    match &problems {
        Ok(problems) if problems.is_empty() => {
            report.note("SQLite integrity: ok");
            return true;
        }
        Ok(problems) => {
            for p in problems.iter().take(10) {
                report.note(format!("SQLite integrity: {p}"));
            }
            if problems.len() > 10 {
                report.note(format!(
                    "SQLite integrity: … and {} more",
                    problems.len() - 10
                ));
            }
        }
        Err(e) => report.note(format!("SQLite integrity: the check itself fails: {e}")),
    }
    match keep_a_copy(path) {
        Ok(copy) => report.note(format!(
            "repair: the file as it was is kept in {}",
            copy.display()
        )),
        Err(e) => {
            report.note(format!(
                "repair: not attempted, the file could not be copied first: {e}"
            ));
            return false;
        }
    }
    for (how, repair) in [
        (
            "rebuilt the indexes (REINDEX)",
            reindex as fn(&Connection) -> rusqlite::Result<()>,
        ),
        (
            "dropped the damaged indexes, compacted the file (VACUUM) and built them again",
            rebuild_indexes,
        ),
    ] {
        if repair(conn).is_ok() {
            if let Ok(after) = integrity_problems(conn) {
                if after.is_empty() {
                    report.note(format!("SQLite integrity: {how}; ok now"));
                    return true;
                }
            }
        }
    }
    report.note("SQLite integrity: still damaged after rebuilding the indexes: the rows themselves are damaged; restore the file from a backup, or start a server on a copy and export what it reads");
    false
}

fn reindex(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("REINDEX")
}

/// Forgets the indexes of the events table (their pages may be too damaged
/// to drop), rewrites the file without them, then creates them again from
/// the rows.
fn rebuild_indexes(conn: &Connection) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL",
    )?;
    let indexes: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    drop(stmt);
    conn.execute_batch("PRAGMA writable_schema = ON")?;
    for (name, _) in &indexes {
        conn.execute(
            "DELETE FROM sqlite_master WHERE type = 'index' AND name = ?1",
            [name],
        )?;
    }
    conn.execute_batch("PRAGMA writable_schema = OFF; VACUUM;")?;
    for (_, sql) in &indexes {
        conn.execute_batch(sql)?;
    }
    Ok(())
}

/// Copies the database (and its WAL) beside it before a repair.
fn keep_a_copy(path: &Path) -> std::io::Result<std::path::PathBuf> {
    let copy_of = |suffix: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        std::path::PathBuf::from(p)
    };
    let copy = copy_of(".before-check");
    std::fs::copy(path, &copy)?;
    if copy_of("-wal").exists() {
        std::fs::copy(copy_of("-wal"), copy_of(".before-check-wal"))?;
    }
    Ok(copy)
}

fn integrity_problems(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let problems: Vec<String> = rows.collect::<Result<_, _>>()?;
    Ok(problems.into_iter().filter(|p| p != "ok").collect())
}

/// The hash chain, verified row by row; and the head found.
fn chain(path: &Path, report: &mut CheckReport) -> (bool, Head) {
    let store = match Store::open_pool(path, 1) {
        Ok(store) => store,
        Err(e) => {
            report.note(format!("hash chain: cannot read the rows: {e}"));
            return (false, Head::default());
        }
    };
    let head = match last_row(&store) {
        Ok(head) => head,
        Err(e) => {
            report.note(format!("rows: cannot count them: {e}"));
            return (false, Head::default());
        }
    };
    report.note(format!("rows: {} (last id {})", head.count, head.last_id));
    match replay::verify_stored_chain(&store, i64::MAX, &Cancel::never()) {
        Ok(v) => match v.fault {
            None => {
                report.note(format!("hash chain: verified, {} rows", v.checked));
                (true, head)
            }
            Some((id, fault)) => {
                let why = match fault {
                    VerifyFault::HashMissing => "its stored hash is NULL".to_string(),
                    VerifyFault::Unreadable(reason) => reason,
                    VerifyFault::Chain(reason) => reason.to_string(),
                };
                report.note(format!(
                    "hash chain: broken at row {id} ({why}); the rows before it verify. A server reads this ledger but refuses to append to it"
                ));
                (false, head)
            }
        },
        Err(e) => {
            report.note(format!("hash chain: cannot verify: {e}"));
            (false, head)
        }
    }
}

/// The last row and the number of rows.
fn last_row(store: &Store) -> Result<Head, crate::store::StoreError> {
    let count = store.count()?;
    let conn = store.conn()?;
    let last: Option<(i64, Option<String>)> = conn
        .query_row(
            "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok();
    Ok(match last {
        Some((last_id, last_hash)) => Head {
            last_id,
            last_hash,
            last_ts: None,
            count,
        },
        None => Head::default(),
    })
}

/// The head anchor against the rows.
fn anchored(path: &Path, head: &Head, report: &mut CheckReport) -> bool {
    let anchor_path = anchor::path_for(path);
    let anchor = match Anchor::read(&anchor_path) {
        Ok(Some(anchor)) => anchor,
        Ok(None) => {
            report.note("head anchor: none (a ledger copied without its anchor, or never served)");
            return true;
        }
        Err(e) => {
            report.note(format!("head anchor: {e}"));
            return false;
        }
    };
    let store = match Store::open_pool(path, 1) {
        Ok(store) => store,
        Err(e) => {
            report.note(format!("head anchor: cannot read the rows: {e}"));
            return false;
        }
    };
    match anchor.check(&store, head) {
        Ok(None) => {
            report.note(format!(
                "head anchor: matches (row {} has the recorded hash)",
                anchor.last_id
            ));
            true
        }
        Ok(Some(reason)) => {
            report.note(format!(
                "head anchor: {reason}. If that is expected (a restored backup), start the server once with --accept-anchor"
            ));
            false
        }
        Err(e) => {
            report.note(format!("head anchor: cannot check it: {e}"));
            false
        }
    }
}
