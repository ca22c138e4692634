//! The state of one ledger as readers see it: an immutable snapshot of every
//! fold plus the head, swapped in whole after each commit. Readers take the
//! current `Arc` without waiting for the writer.

use std::sync::Arc;

use arc_swap::ArcSwap;

use super::head::Head;
use crate::rules::State;

/// Derived state as of one head.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub head: Head,
    pub state: State,
}

impl Snapshot {
    /// The id every view of this snapshot reflects.
    pub fn as_of_id(&self) -> i64 {
        self.head.last_id
    }
}

/// The published snapshot of a ledger.
#[derive(Debug)]
pub struct Published {
    current: ArcSwap<Snapshot>,
}

impl Published {
    pub fn new(initial: Snapshot) -> Self {
        Published {
            current: ArcSwap::from_pointee(initial),
        }
    }

    /// The current snapshot (lock-free).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Publishes a new snapshot (the sequencer only).
    pub(crate) fn publish(&self, snapshot: Arc<Snapshot>) {
        self.current.store(snapshot);
    }
}
