//! Search: every stored row's embedding against the query's, the `top_k`
//! most similar kept in a heap. O(ledger) by design (SPEC §6 embeddings are
//! cheap); the vectors of stored rows are cached by id.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use super::caches::{Caches, Vector};
use super::cancel::Cancel;
use super::replay::ReplayError;
use crate::event::Event;
use crate::rules::embedding::{cosine, embed};
use crate::store::Store;

/// Rows read between two looks at the cancellation flag.
const CANCEL_CHECK_EVERY: u64 = 1024;
/// Code points of content shown in a search hit.
const EXCERPT_CHARS: usize = 200;

/// A search, validated.
#[derive(Clone, Debug)]
pub struct SearchQuery {
    pub text: String,
    pub top_k: usize,
    /// Only these kinds; empty = all.
    pub kinds: Vec<String>,
}

/// One hit: a row and its similarity to the query.
#[derive(Debug)]
pub struct SearchHit {
    pub score: f64,
    pub event: Event,
}

impl SearchHit {
    /// The hit's content, cut to [`EXCERPT_CHARS`] code points.
    pub fn excerpt(&self) -> String {
        let content = &self.event.content;
        match content.char_indices().nth(EXCERPT_CHARS) {
            Some((i, _)) => format!("{}…", &content[..i]),
            None => content.clone(),
        }
    }
}

/// The hits, best first, and how many rows were compared.
#[derive(Debug)]
pub struct SearchResult {
    pub hits: Vec<SearchHit>,
    pub scanned: u64,
}

/// Ordered by score then by id (newer wins ties); reversed, so that the
/// heap's top is the weakest hit kept.
struct Ranked(SearchHit);

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .0
            .score
            .total_cmp(&self.0.score)
            .then_with(|| other.0.event.id.cmp(&self.0.event.id))
    }
}

/// Scans every row up to `last_id` and keeps the `top_k` most similar to
/// `query_vector`.
pub fn search(
    store: &Store,
    caches: &Caches,
    query: &SearchQuery,
    query_vector: &Vector,
    last_id: i64,
    cancel: &Cancel,
) -> Result<SearchResult, ReplayError> {
    let mut heap: BinaryHeap<Ranked> = BinaryHeap::with_capacity(query.top_k + 1);
    let mut scanned = 0u64;
    let mut read = 0u64;
    store.for_each(i64::MIN, last_id, |event: Event| {
        read += 1;
        if read % CANCEL_CHECK_EVERY == 0 && cancel.is_cancelled() {
            return Err(ReplayError::Cancelled);
        }
        if event.content.is_empty()
            || !(query.kinds.is_empty() || query.kinds.contains(&event.kind))
        {
            return Ok(());
        }
        scanned += 1;
        let vector = match caches.event_vectors.get(&event.id) {
            Some(v) => v,
            None => {
                let v: Vector = Arc::new(embed(&event.content));
                caches.event_vectors.insert(event.id, Arc::clone(&v));
                v
            }
        };
        heap.push(Ranked(SearchHit {
            score: cosine(&query_vector[..], &vector[..]),
            event,
        }));
        if heap.len() > query.top_k {
            heap.pop();
        }
        Ok(())
    })?;
    let mut ranked = heap.into_vec();
    ranked.sort();
    Ok(SearchResult {
        hits: ranked.into_iter().map(|r| r.0).collect(),
        scanned,
    })
}
