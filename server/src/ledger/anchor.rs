//! The head anchor: the last (id, hash) known to be in the database file,
//! kept in a small file beside it (`pmm.db-anchor`), rewritten after each
//! complete checkpoint (when the rows it names are synced into the file)
//! and at shutdown.
//!
//! A hash chain shows where a row was changed, but not that rows were cut
//! off its end, or that the whole file was swapped for an older copy or
//! truncated to nothing: the anchor does. At start-up, a ledger shorter
//! than its anchor, or whose row at the anchor's id has another hash, is
//! reported (see [`super::condition`]) and appends are refused until an
//! operator acknowledges it (`--accept-anchor`). Without an anchor (a new
//! ledger, or one copied without it) nothing is checked.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::head::Head;
use crate::store::{Store, StoreError};

/// What the anchor file records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub last_id: i64,
    pub last_hash: String,
}

/// Why the anchor file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("cannot read the anchor file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the anchor file {path} is not an anchor ({reason})")]
    Malformed { path: PathBuf, reason: String },
    #[error("cannot write the anchor file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The anchor file of the ledger at `db`.
pub fn path_for(db: &Path) -> PathBuf {
    let mut path = db.as_os_str().to_owned();
    path.push("-anchor");
    PathBuf::from(path)
}

impl Anchor {
    /// The anchor of a head (`None` for an empty ledger: nothing to anchor).
    pub fn of(head: &Head) -> Option<Anchor> {
        Some(Anchor {
            last_id: head.last_id,
            last_hash: head.last_hash.clone()?,
        })
        .filter(|a| a.last_id > 0)
    }

    /// Reads the anchor file, if there is one.
    pub fn read(path: &Path) -> Result<Option<Anchor>, AnchorError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(AnchorError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let malformed = |reason: &str| AnchorError::Malformed {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| malformed(&e.to_string()))?;
        let last_id = value["last_id"]
            .as_i64()
            .ok_or_else(|| malformed("no last_id"))?;
        let last_hash = value["last_hash"]
            .as_str()
            .ok_or_else(|| malformed("no last_hash"))?
            .to_string();
        Ok(Some(Anchor { last_id, last_hash }))
    }

    /// Writes the anchor file atomically (a new file renamed over the old
    /// one), synced to disk when `sync`.
    pub fn write(&self, path: &Path, sync: bool) -> Result<(), AnchorError> {
        let failed = |source| AnchorError::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let text = json!({"last_id": self.last_id, "last_hash": self.last_hash}).to_string();
        let mut file = crate::store::private::create_own_file(&tmp).map_err(failed)?;
        file.write_all(text.as_bytes()).map_err(failed)?;
        if sync {
            file.sync_all().map_err(failed)?;
        }
        drop(file);
        std::fs::rename(&tmp, path).map_err(failed)
    }

    /// Whether the stored ledger still holds the anchored row: `Ok(None)`
    /// when it does, else what is wrong, in words.
    pub fn check(&self, store: &Store, head: &Head) -> Result<Option<String>, StoreError> {
        match store.get(self.last_id)? {
            None => Ok(Some(format!(
                "the ledger was truncated: its anchor ({}) names row {} with hash {}, but the file's last id is {} and it has no row {}",
                "pmm.db-anchor", self.last_id, self.last_hash, head.last_id, self.last_id
            ))),
            Some(row) if row.hash.as_deref() != Some(self.last_hash.as_str()) => Ok(Some(format!(
                "the ledger was rewritten: its anchor names row {} with hash {}, but that row's hash is now {}",
                self.last_id,
                self.last_hash,
                row.hash.as_deref().unwrap_or("NULL")
            ))),
            Some(_) => Ok(None),
        }
    }
}

/// Keeps the anchor file with the checkpoints: before each, the head just
/// committed; after a complete one, that head is in the database file and
/// becomes the anchor. While the ledger does not match its anchor, the file
/// is left as it is (it is the evidence) until an operator accepts it.
pub struct AnchorKeeper {
    path: PathBuf,
    published: std::sync::Arc<super::snapshot::Published>,
    condition: super::condition::ConditionCell,
    sync: bool,
    candidate: Option<Anchor>,
    written: Option<Anchor>,
    warned: bool,
    /// The head (`None`: empty) as a checkpoint started, and as the last
    /// complete one started: what the database file holds (`None`: no
    /// checkpoint completed yet).
    started: Option<Anchor>,
    checkpointed: Option<Option<Anchor>>,
}

impl AnchorKeeper {
    pub fn new(
        path: PathBuf,
        published: std::sync::Arc<super::snapshot::Published>,
        condition: super::condition::ConditionCell,
        sync: bool,
        written: Option<Anchor>,
    ) -> Self {
        AnchorKeeper {
            path,
            published,
            condition,
            sync,
            candidate: None,
            written,
            warned: false,
            started: None,
            checkpointed: None,
        }
    }
}

impl crate::store::checkpoint::CheckpointHook for AnchorKeeper {
    /// Written since the last complete checkpoint: the head moved (every
    /// commit that writes a row moves it). Before the first, always.
    fn pending(&self) -> bool {
        self.checkpointed.as_ref() != Some(&Anchor::of(&self.published.snapshot().head))
    }

    fn before(&mut self) {
        self.started = Anchor::of(&self.published.snapshot().head);
        self.candidate = self
            .started
            .clone()
            .filter(|anchor| Some(anchor) != self.written.as_ref());
    }

    fn after(&mut self, complete: bool) {
        if complete {
            self.checkpointed = Some(self.started.take());
        }
        let Some(anchor) = self.candidate.take() else {
            return;
        };
        if !complete
            || matches!(
                self.condition.get(),
                super::condition::Condition::AnchorMismatch { .. }
            )
        {
            return;
        }
        match anchor.write(&self.path, self.sync) {
            Ok(()) => self.written = Some(anchor),
            Err(e) if !self.warned => {
                self.warned = true;
                tracing::warn!("{e}; the head anchor is not kept up to date");
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_anchor_is_written_and_read_back() {
        let dir = tempfile::tempdir().expect("dir");
        let path = path_for(&dir.path().join("pmm.db"));
        assert_eq!(Anchor::read(&path).expect("none yet"), None);
        let anchor = Anchor {
            last_id: 42,
            last_hash: "ab".repeat(32),
        };
        anchor.write(&path, true).expect("write");
        assert_eq!(Anchor::read(&path).expect("read"), Some(anchor));
        std::fs::write(&path, "{").expect("garble");
        assert!(matches!(
            Anchor::read(&path),
            Err(AnchorError::Malformed { .. })
        ));
    }

    #[test]
    fn an_empty_ledger_has_no_anchor() {
        assert_eq!(Anchor::of(&Head::default()), None);
    }
}
