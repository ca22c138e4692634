//! The fold snapshot file (`pmm.db-snapshot`): the published [`Snapshot`]
//! (head and every fold) saved beside the database, so that opening a
//! ledger folds only the rows written after it instead of every row.
//!
//! Layout: `MAGIC` (8 bytes), [`VERSION`] (u32 LE), the SHA-256 of the
//! payload (32 bytes), the payload: postcard of the head and the state.
//! The head names the row the snapshot covers (id and hash).
//!
//! postcard rather than bincode 2: its wire format is specified and frozen
//! since 1.0, it is plain serde (no second set of derives), and it is kept
//! up; bincode's maintainers stopped its development. Floats are written as
//! their 8 IEEE bytes, so they come back bit for bit.
//!
//! The tail window's rows are not saved: it comes back cold, refilled from
//! the ledger when a tail block is first asked for (see `TailWindow`).
//!
//! A snapshot is trusted only when its version and checksum match and the
//! stored row at its id still has its hash; anything else is
//! reported in one line and the ledger is rebuilt in full. Rows before the
//! snapshot are then not verified at open: VerifyChain and the periodic
//! background verification (`reverify.rs`) do that.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::head::Head;
use super::snapshot::Snapshot;
use crate::rules::{State, TailLimits, TailWindow};
use crate::store::{Store, StoreError};

const MAGIC: &[u8; 8] = b"pmm-fold";
/// The format's version: raise it whenever a persisted fold changes its
/// fields or their meaning (an old file is then ignored and rebuilt).
/// (2: tail windows are no longer saved, they come back cold.)
pub const VERSION: u32 = 2;
const HEADER: usize = MAGIC.len() + 4 + 32;

/// The snapshot file of the ledger at `db`.
pub fn path_for(db: &Path) -> PathBuf {
    let mut path = db.as_os_str().to_owned();
    path.push("-snapshot");
    PathBuf::from(path)
}

#[derive(Serialize)]
struct PayloadRef<'a> {
    head: &'a Head,
    state: &'a State,
}

#[derive(Deserialize)]
struct Payload {
    head: Head,
    state: State,
}

/// Why a snapshot could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("cannot encode the fold snapshot: {0}")]
    Encode(#[from] postcard::Error),
    #[error("cannot write the fold snapshot {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Why a snapshot file is not used.
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    #[error("cannot be read: {0}")]
    Unreadable(std::io::Error),
    #[error("is not a fold snapshot")]
    NotASnapshot,
    #[error("is of format version {found}, this server writes {VERSION}")]
    Version { found: u32 },
    #[error("does not match its checksum (damaged)")]
    Checksum,
    #[error("cannot be decoded: {0}")]
    Undecodable(postcard::Error),
    #[error("covers row {id}, which the ledger no longer holds (its last rows were cut off)")]
    BeyondHead { id: i64 },
    #[error("covers row {id} with hash {saved}, but that row's hash is now {stored}")]
    RowRewritten {
        id: i64,
        saved: String,
        stored: String,
    },
    #[error("cannot be checked against the ledger: {0}")]
    Store(#[from] StoreError),
}

/// The file's bytes for a snapshot.
pub fn encode(snapshot: &Snapshot) -> Result<Vec<u8>, postcard::Error> {
    let payload = postcard::to_stdvec(&PayloadRef {
        head: &snapshot.head,
        state: &snapshot.state,
    })?;
    let mut bytes = Vec::with_capacity(HEADER + payload.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes.extend_from_slice(&Sha256::digest(&payload));
    bytes.extend_from_slice(&payload);
    Ok(bytes)
}

/// A snapshot from the file's bytes, if they are whole and of this version.
pub fn decode(bytes: &[u8]) -> Result<Snapshot, Rejected> {
    if bytes.len() < HEADER || &bytes[..MAGIC.len()] != MAGIC {
        return Err(Rejected::NotASnapshot);
    }
    let (version, rest) = bytes[MAGIC.len()..].split_at(4);
    let found = u32::from_le_bytes([version[0], version[1], version[2], version[3]]);
    if found != VERSION {
        return Err(Rejected::Version { found });
    }
    let (checksum, payload) = rest.split_at(32);
    if Sha256::digest(payload).as_slice() != checksum {
        return Err(Rejected::Checksum);
    }
    let Payload { head, state } = postcard::from_bytes(payload).map_err(Rejected::Undecodable)?;
    Ok(Snapshot { head, state })
}

/// Writes the snapshot atomically: a temporary file (0600), synced, renamed
/// over the old one, so that a crash leaves the old file or the new one.
pub fn save(path: &Path, snapshot: &Snapshot) -> Result<(), SaveError> {
    let bytes = encode(snapshot)?;
    let failed = |source| SaveError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = crate::store::private::create_own_file(&tmp).map_err(failed)?;
    file.write_all(&bytes).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(failed)
}

/// The snapshot at `path` if it can be used for the ledger in `store`, its
/// tail window cold within `tail`; `Ok(None)` when there is none.
pub fn read(path: &Path, store: &Store, tail: TailLimits) -> Result<Option<Snapshot>, Rejected> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Rejected::Unreadable(e)),
    };
    let mut snapshot = decode(&bytes)?;
    // Its window holds no rows (none are saved): it is refilled from the
    // ledger on first use, within the limits in force now.
    snapshot.state.tail = TailWindow::new_cold(tail);
    let id = snapshot.head.last_id;
    let saved_hash = snapshot.head.last_hash.clone().unwrap_or_default();
    match store.get(id)? {
        None => Err(Rejected::BeyondHead { id }),
        Some(row) if row.hash.as_deref() != Some(saved_hash.as_str()) => {
            Err(Rejected::RowRewritten {
                id,
                saved: saved_hash,
                stored: row.hash.unwrap_or_else(|| "NULL".into()),
            })
        }
        Some(_) => Ok(Some(snapshot)),
    }
}

/// [`read`], a snapshot that cannot be used reported in one line.
pub fn load(path: &Path, store: &Store, tail: TailLimits) -> Option<Snapshot> {
    match read(path, store, tail) {
        Ok(snapshot) => snapshot,
        Err(why) => {
            tracing::warn!(
                "the fold snapshot {} {why}: ignored, every row is folded",
                path.display()
            );
            None
        }
    }
}

#[cfg(test)]
#[path = "persist_tests.rs"]
mod tests;
