//! The caches of derived values of one ledger, by key. Each new head is a
//! new key: nothing cached is ever stale, old entries just age out.

use std::sync::Arc;

use quick_cache::sync::Cache;

use super::breakdown::CachedContext;
use super::snapshot::Snapshot;
use super::views::ProjectionView;
use crate::rules::embedding::EMBED_DIM;
use crate::rules::projection::ProjectionPage;
use crate::rules::ContextParams;

/// An embedding vector.
pub type Vector = Arc<[f64; EMBED_DIM]>;

/// Key of a cached context block: (as of id, parameters, tail rows if any).
pub type ContextKey = (i64, ContextParams, Option<usize>);

/// Key of a cached projection view: (as of id, strict, page).
pub type ProjectionKey = (i64, bool, ProjectionPage);

/// Counters of one cache, for Stats.
#[derive(Clone, Debug)]
pub struct CacheFigures {
    pub name: &'static str,
    pub hits: u64,
    pub misses: u64,
    pub entries: u64,
    pub capacity: u64,
}

pub struct Caches {
    /// Embeddings of texts (Embed, Search queries).
    pub embeddings: Cache<String, Vector>,
    /// Embeddings of stored events, by id (Search).
    pub event_vectors: Cache<i64, Vector>,
    /// Snapshots as of a past id (reads with `as_of_id`).
    pub history: Cache<i64, Arc<Snapshot>>,
    /// Context blocks by head and parameters, each with its breakdowns
    /// once asked for.
    pub contexts: Cache<ContextKey, Arc<CachedContext>>,
    /// Projection views by head, mode and page, each built once per head.
    pub projections: Cache<ProjectionKey, Arc<ProjectionView>>,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches").finish_non_exhaustive()
    }
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            embeddings: Cache::new(16_384),
            event_vectors: Cache::new(262_144),
            history: Cache::new(16),
            contexts: Cache::new(256),
            projections: Cache::new(16),
        }
    }
}

/// Rough bytes of one cached context block or projection view (a few
/// kilobytes of text and small vectors).
const VIEW_BYTES: u64 = 8 << 10;
/// Rough bytes of one cached past snapshot of a small ledger.
const SNAPSHOT_BYTES: u64 = 64 << 10;

impl Caches {
    /// An estimate of the memory the caches hold, in bytes.
    pub fn bytes(&self) -> u64 {
        let vector = (EMBED_DIM * std::mem::size_of::<f64>()) as u64 + 64;
        (self.embeddings.len() + self.event_vectors.len()) as u64 * vector
            + (self.contexts.len() + self.projections.len()) as u64 * VIEW_BYTES
            + self.history.len() as u64 * SNAPSHOT_BYTES
    }

    /// Every cache's counters.
    pub fn figures(&self) -> Vec<CacheFigures> {
        vec![
            figures("embeddings", &self.embeddings),
            figures("event_vectors", &self.event_vectors),
            figures("history", &self.history),
            figures("contexts", &self.contexts),
            figures("projections", &self.projections),
        ]
    }
}

fn figures<K, V>(name: &'static str, cache: &Cache<K, V>) -> CacheFigures
where
    K: Eq + std::hash::Hash + Clone,
    V: Clone,
{
    CacheFigures {
        name,
        hits: cache.hits(),
        misses: cache.misses(),
        entries: cache.len() as u64,
        capacity: cache.capacity(),
    }
}
