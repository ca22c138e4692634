//! Whether a ledger can be written, and if not why: its file is read-only,
//! SQLite found it damaged, or it no longer holds what its head anchor
//! recorded (truncated or rewritten behind the server's back). Reads are
//! served in every condition; appends are refused with the reason, and
//! health says so. (A broken hash chain is the other reason appends are
//! refused: it lives with the chain, see `rules::ChainStatus`.)

use std::sync::Arc;

use tokio::sync::watch;

/// What a ledger can do now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    Writable,
    /// The file cannot be written (permissions, a read-only mount).
    ReadOnly {
        reason: String,
    },
    /// SQLite reported the file damaged; `pmm-server --check` repairs what
    /// it can.
    Damaged {
        reason: String,
    },
    /// The file is shorter than its anchor, or its row at the anchor's id
    /// has another hash: rows were removed or rewritten outside the server.
    AnchorMismatch {
        reason: String,
    },
}

impl Condition {
    pub fn is_writable(&self) -> bool {
        matches!(self, Condition::Writable)
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Condition::Writable => write!(f, "writable"),
            Condition::ReadOnly { reason } => write!(f, "the ledger file is read-only: {reason}"),
            Condition::Damaged { reason } => write!(
                f,
                "the ledger file is damaged ({reason}); run `pmm-server --check` on it"
            ),
            Condition::AnchorMismatch { reason } => write!(
                f,
                "{reason}; after checking the file, restart with --accept-anchor to write on"
            ),
        }
    }
}

/// The condition of one ledger, shared by whoever may find it changed (the
/// sequencer, reads) and whoever reports it (health).
#[derive(Clone, Debug)]
pub struct ConditionCell(Arc<watch::Sender<Condition>>);

impl ConditionCell {
    pub fn new(initial: Condition) -> Self {
        ConditionCell(Arc::new(watch::Sender::new(initial)))
    }

    pub fn get(&self) -> Condition {
        self.0.borrow().clone()
    }

    /// Whether appends may proceed (cheap: no clone).
    pub fn is_writable(&self) -> bool {
        self.0.borrow().is_writable()
    }

    /// Records a worse condition (a writable ledger becoming read-only or
    /// damaged); logged once.
    pub fn degrade(&self, to: Condition) {
        let changed = self.0.send_if_modified(|now| {
            if now.is_writable() && !to.is_writable() {
                *now = to.clone();
                true
            } else {
                false
            }
        });
        if changed {
            tracing::error!("{to}: reads are served, appends are refused");
        }
    }

    /// Follows changes (health reporting).
    pub fn watch(&self) -> watch::Receiver<Condition> {
        self.0.subscribe()
    }

    /// What a SQLite error says about the file, if anything: a write to a
    /// read-only file, or a damaged file.
    pub fn observe(&self, error: &rusqlite::Error) {
        use rusqlite::ErrorCode;
        match error.sqlite_error_code() {
            Some(ErrorCode::ReadOnly) => self.degrade(Condition::ReadOnly {
                reason: error.to_string(),
            }),
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                self.degrade(Condition::Damaged {
                    reason: error.to_string(),
                })
            }
            _ => {}
        }
    }
}
