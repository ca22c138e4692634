//! A consistent copy of a mind's `pmm.db` while it is served, through
//! SQLite's online backup: one step copying every page inside one read
//! transaction, so that appends go on meanwhile (WAL: readers do not block
//! the writer) and the copy is the ledger as of one commit. The copy is
//! written beside its target and renamed into place, so a target that
//! exists is always whole.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::store::{self, private, StoreError};

/// Why a backup was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("path: {0:?} must be relative to the backup directory, without \"..\"")]
    BadPath(String),
    #[error("path: {0} exists already")]
    Exists(PathBuf),
    #[error("backup of {from} to {to} failed: {reason}")]
    Failed {
        from: PathBuf,
        to: PathBuf,
        reason: String,
    },
}

/// What a backup holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupReport {
    pub path: PathBuf,
    pub events: u64,
    pub last_id: u64,
    pub last_hash: String,
    pub bytes: u64,
}

/// The target of a backup: `relative` (when given) under `dir`, checked to
/// stay inside it; otherwise `<dir>/<mind>/<stamp>.db`.
pub fn target(dir: &Path, relative: &str, mind: &str, stamp: &str) -> Result<PathBuf, BackupError> {
    if relative.is_empty() {
        return Ok(dir.join(mind).join(format!("{stamp}.db")));
    }
    let path = Path::new(relative);
    let inside = path
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !inside || path.file_name().is_none() {
        return Err(BackupError::BadPath(relative.to_string()));
    }
    Ok(dir.join(path))
}

/// Copies the SQLite file `from` to `to` (which must not exist), its
/// folders created 0700 and the file 0600. Blocking.
pub fn backup(from: &Path, to: &Path) -> Result<BackupReport, BackupError> {
    if to.exists() {
        return Err(BackupError::Exists(to.to_path_buf()));
    }
    let failed = |reason: String| BackupError::Failed {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
        reason,
    };
    if let Some(folder) = to.parent() {
        private::create_dir_all(folder).map_err(|e| failed(e.to_string()))?;
    }
    let partial = crate::minds::layout::sibling(to, ".partial");
    let copied = copy(from, &partial)
        .map_err(|e| e.to_string())
        .and_then(|()| report(&partial).map_err(|e| e.to_string()));
    let mut report = match copied {
        Ok(report) => report,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(failed(e));
        }
    };
    // A hard link fails when `to` appeared meanwhile, where a rename would
    // replace it.
    let placed = std::fs::hard_link(&partial, to);
    let _ = std::fs::remove_file(&partial);
    match placed {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(BackupError::Exists(to.to_path_buf()))
        }
        Err(e) => return Err(failed(e.to_string())),
    }
    report.path = to.to_path_buf();
    Ok(report)
}

fn copy(from: &Path, to: &Path) -> Result<(), rusqlite::Error> {
    let source = Connection::open_with_flags(
        from,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    source.busy_timeout(Duration::from_secs(5))?;
    if let Err(e) = private::create_file(to) {
        return Err(rusqlite::Error::ToSqlConversionFailure(Box::new(e)));
    }
    let mut target = Connection::open(to)?;
    let backup = Backup::new(&source, &mut target)?;
    // Every page in one step: one read transaction, one commit's state.
    loop {
        match backup.step(-1)? {
            StepResult::Done => break,
            // Busy or locked: the writer holds a lock for a moment.
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    drop(backup);
    // The copy stands alone: its log folded into it.
    target.pragma_update(None, "journal_mode", "DELETE")?;
    Ok(())
}

/// The rows of a copied file and its last row.
fn report(path: &Path) -> Result<BackupReport, StoreError> {
    let head = store::head_of_file(path)?;
    Ok(BackupReport {
        path: path.to_path_buf(),
        events: head.count,
        last_id: head.last_id.max(0) as u64,
        last_hash: head.last_hash.unwrap_or_default(),
        bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_stays_inside_the_backup_directory() {
        let dir = Path::new("/b");
        assert_eq!(
            target(dir, "", "alice", "T").expect("default"),
            PathBuf::from("/b/alice/T.db")
        );
        assert_eq!(
            target(dir, "x/y.db", "alice", "T").expect("relative"),
            PathBuf::from("/b/x/y.db")
        );
        for bad in ["/etc/passwd", "../x.db", "a/../../x.db", "a/..", "."] {
            let refused = target(dir, bad, "alice", "T").expect_err(bad);
            assert!(refused.to_string().starts_with("path: "), "{refused}");
        }
    }

    #[test]
    fn a_backup_is_a_whole_copy_and_never_replaces_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let from = dir.path().join("pmm.db");
        let conn = Connection::open(&from).expect("open");
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT, kind TEXT,
               content TEXT, meta TEXT, prev_hash TEXT, hash TEXT);
             INSERT INTO events (ts, kind, content, meta, prev_hash, hash)
               VALUES ('t', 'k', 'c', '{}', NULL, 'h1'), ('t', 'k', 'c', '{}', 'h1', 'h2');",
        )
        .expect("fill");
        let to = dir.path().join("b/alice.db");
        let report = backup(&from, &to).expect("backup");
        assert_eq!(
            (report.events, report.last_id, report.last_hash.as_str()),
            (2, 2, "h2")
        );
        assert!(report.bytes > 0 && to.is_file());
        assert!(!crate::minds::layout::sibling(&to, ".partial").exists());
        let again = backup(&from, &to).expect_err("exists");
        assert!(matches!(again, BackupError::Exists(_)), "{again}");
    }
}
