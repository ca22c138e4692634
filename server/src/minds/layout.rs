//! Where minds live on disk. A data directory holds one folder per mind,
//! `<dir>/<name>/pmm.db` (a reference-compatible file: a mind's folder can
//! be copied, backed up or handed to the Python PMM as it is). The mind
//! `default` is `<dir>/pmm.db` when that file exists — the single-mind
//! layout, served unchanged — and `<dir>/default/pmm.db` otherwise. Deleted
//! minds go to `<dir>/.trash/` (no mind's name starts with a dot).
//!
//! With `--db FILE` the server serves that one file as `default` and holds
//! no other mind.

use std::path::{Path, PathBuf};

use pmm::mind::DEFAULT_MIND;

use crate::store::private;
use crate::store::StoreError;

/// A mind's database file name inside its folder.
pub const DB_FILE: &str = "pmm.db";
/// The folder of deleted minds inside the data directory.
pub const TRASH: &str = ".trash";

/// Where the minds are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One folder per mind under this directory.
    DataDir(PathBuf),
    /// This one file, the mind `default`; no other mind.
    SingleFile(PathBuf),
}

/// Why the layout cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("this server serves the one file {0} (--db) as the mind \"default\"; it holds no other mind (serve a --data-dir for many)")]
    SingleFile(PathBuf),
    #[error("{0} exists and is not a mind's folder")]
    Taken(PathBuf),
    #[error("cannot read the data directory {path}: {source}")]
    List {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot move {from} to {to}: {source}")]
    Move {
        from: PathBuf,
        to: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Layout {
    /// The database file of the mind `name` (which may not exist).
    pub fn db_path(&self, name: &str) -> Option<PathBuf> {
        match self {
            Layout::SingleFile(file) => (name == DEFAULT_MIND).then(|| file.clone()),
            Layout::DataDir(dir) => {
                if name == DEFAULT_MIND {
                    let legacy = dir.join(DB_FILE);
                    if legacy.is_file() {
                        return Some(legacy);
                    }
                }
                Some(dir.join(name).join(DB_FILE))
            }
        }
    }

    /// Whether the mind `name` exists (has its database file). `default`
    /// always does once the server has started.
    pub fn exists(&self, name: &str) -> bool {
        self.db_path(name).is_some_and(|path| path.is_file())
    }

    /// Makes room for a new mind: its folder (0700). `Ok(false)` when the
    /// mind already exists.
    pub fn prepare(&self, name: &str) -> Result<bool, LayoutError> {
        let Some(path) = self.db_path(name) else {
            return Err(self.single_file_error());
        };
        if path.is_file() {
            return Ok(false);
        }
        if path.exists() {
            return Err(LayoutError::Taken(path));
        }
        if let Some(folder) = path.parent() {
            if folder.exists() && !folder.is_dir() {
                return Err(LayoutError::Taken(folder.to_path_buf()));
            }
            private::create_dir_all(folder)?;
        }
        Ok(true)
    }

    /// The names of the minds in name order after `after` (exclusive), at
    /// most `limit` of them, and whether more follow. Folders that are not
    /// minds (no `pmm.db`, a name outside the set) are not listed.
    pub fn list(&self, after: &str, limit: usize) -> Result<(Vec<String>, bool), LayoutError> {
        let mut names = match self {
            Layout::SingleFile(_) => vec![DEFAULT_MIND.to_string()],
            Layout::DataDir(dir) => {
                let entries = std::fs::read_dir(dir).map_err(|source| LayoutError::List {
                    path: dir.clone(),
                    source,
                })?;
                let mut names: Vec<String> = entries
                    .filter_map(|entry| entry.ok())
                    .filter_map(|entry| entry.file_name().into_string().ok())
                    .filter(|name| pmm::mind::check_mind_name(name).is_ok())
                    .filter(|name| dir.join(name).join(DB_FILE).is_file())
                    .collect();
                if self.exists(DEFAULT_MIND) && !names.iter().any(|n| n == DEFAULT_MIND) {
                    names.push(DEFAULT_MIND.to_string());
                }
                names
            }
        };
        names.retain(|name| name.as_str() > after);
        names.sort_unstable();
        let more = names.len() > limit;
        names.truncate(limit);
        Ok((names, more))
    }

    /// Bytes of a mind's files on disk (the database and its log).
    pub fn bytes(&self, name: &str) -> u64 {
        let Some(path) = self.db_path(name) else {
            return 0;
        };
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        size(&path) + size(&sibling(&path, "-wal"))
    }

    /// Moves a (closed) mind's files to the trash; returns where they went.
    pub fn trash(&self, name: &str, stamp: &str) -> Result<PathBuf, LayoutError> {
        let Layout::DataDir(dir) = self else {
            return Err(self.single_file_error());
        };
        let trash = dir.join(TRASH);
        private::create_dir_all(&trash)?;
        let to = trash.join(format!("{name}.{stamp}"));
        let legacy = dir.join(DB_FILE);
        if name == DEFAULT_MIND && legacy.is_file() {
            // The single-mind layout: the file and its siblings.
            private::create_dir_all(&to)?;
            for suffix in ["", "-wal", "-shm", "-anchor", "-snapshot"] {
                let from = sibling(&legacy, suffix);
                if from.exists() {
                    let target = to.join(format!("{DB_FILE}{suffix}"));
                    move_path(&from, &target)?;
                }
            }
            return Ok(to);
        }
        move_path(&dir.join(name), &to)?;
        Ok(to)
    }

    fn single_file_error(&self) -> LayoutError {
        match self {
            Layout::SingleFile(file) => LayoutError::SingleFile(file.clone()),
            Layout::DataDir(dir) => LayoutError::Taken(dir.clone()),
        }
    }
}

/// `path` with `suffix` appended to its file name (`pmm.db-wal`).
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

fn move_path(from: &Path, to: &Path) -> Result<(), LayoutError> {
    std::fs::rename(from, to).map_err(|source| LayoutError::Move {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, b"").expect("write");
    }

    #[test]
    fn default_is_the_single_mind_file_when_it_exists_else_its_own_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::DataDir(dir.path().to_path_buf());
        assert_eq!(
            layout.db_path("default"),
            Some(dir.path().join("default/pmm.db"))
        );
        touch(&dir.path().join("pmm.db"));
        assert_eq!(layout.db_path("default"), Some(dir.path().join("pmm.db")));
        assert_eq!(
            layout.db_path("alice"),
            Some(dir.path().join("alice/pmm.db"))
        );
    }

    #[test]
    fn a_single_file_holds_default_only() {
        let layout = Layout::SingleFile(PathBuf::from("/x/y.db"));
        assert_eq!(layout.db_path("default"), Some(PathBuf::from("/x/y.db")));
        assert_eq!(layout.db_path("alice"), None);
        let refused = layout.prepare("alice").expect_err("no other mind");
        assert!(refused.to_string().contains("--db"), "{refused}");
    }

    #[test]
    fn listing_is_in_name_order_paged_and_skips_what_is_not_a_mind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::DataDir(dir.path().to_path_buf());
        for name in ["carol", "alice", "bob", "default"] {
            assert!(layout.prepare(name).expect("prepare"));
            touch(&layout.db_path(name).expect("path"));
        }
        std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
        std::fs::create_dir(dir.path().join("Upper")).expect("mkdir");
        touch(&dir.path().join("Upper/pmm.db"));
        touch(&dir.path().join(".trash/x.1/pmm.db"));
        let (page, more) = layout.list("", 2).expect("list");
        assert_eq!((page, more), (vec!["alice".into(), "bob".into()], true));
        let (page, more) = layout.list("bob", 2).expect("list");
        assert_eq!(
            (page, more),
            (vec!["carol".into(), "default".into()], false)
        );
        assert!(!layout.prepare("alice").expect("exists"));
    }

    #[test]
    fn a_deleted_mind_goes_to_the_trash_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::DataDir(dir.path().to_path_buf());
        layout.prepare("alice").expect("prepare");
        touch(&dir.path().join("alice/pmm.db"));
        touch(&dir.path().join("alice/pmm.db-anchor"));
        let to = layout.trash("alice", "20261130T000000Z").expect("trash");
        assert_eq!(to, dir.path().join(".trash/alice.20261130T000000Z"));
        assert!(to.join("pmm.db").is_file() && to.join("pmm.db-anchor").is_file());
        assert!(!layout.exists("alice"));
    }
}
