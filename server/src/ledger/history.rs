//! The metrics as the ledger grew (GetMetricsHistory): IAS, GAS and the
//! stage as of a series of ids, from ONE replay of the stored rows up to the
//! last of them, sampling the metrics and stage folds as the replay passes
//! each id. A point costs a read-out, never a rebuild.

use std::sync::Arc;

use super::cancel::Cancel;
use super::replay::{self, Check, ReplayError};
use crate::event::Event;
use crate::rules::{Fold, Metrics, Scores, Stage, StageFold, TelemetryError};
use crate::store::Store;

/// Most points one history may have.
pub const MAX_HISTORY_POINTS: usize = 10_000;
/// Points of a history that says neither `points` nor `every`.
pub const DEFAULT_HISTORY_POINTS: usize = 100;

/// Where the points go between the first id and the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spacing {
    /// This many, spaced as evenly as integers allow (1..=MAX).
    Points(usize),
    /// One every this many ids (>= 1), plus one at the last id.
    Every(u64),
}

/// A history request, its fields checked on their own (what depends on
/// the head is checked here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryQuery {
    /// First point's id; `None`: 1 (0 on an empty ledger).
    pub from: Option<i64>,
    /// Last point's id; `None`: the head.
    pub to: Option<i64>,
    pub spacing: Spacing,
}

/// The metrics as of one id.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsPoint {
    pub as_of_id: i64,
    /// Rows with id <= `as_of_id`.
    pub event_count: u64,
    pub scores: Scores,
    pub stage: Result<Stage, TelemetryError>,
}

/// A history: the points in id order, the last at `as_of_id`.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    pub points: Vec<MetricsPoint>,
    pub as_of_id: i64,
}

/// Why a history cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("to_id: {to} is beyond the ledger's last id {last_id}")]
    BeyondHead { to: i64, last_id: i64 },
    #[error("from_id: {from} is after to_id {to}")]
    FromAfterTo { from: i64, to: i64 },
    #[error("every: {every} from {from} to {to} gives {points} points, above the maximum of {MAX_HISTORY_POINTS}")]
    TooManyPoints {
        every: u64,
        from: i64,
        to: i64,
        points: u64,
    },
    #[error(transparent)]
    Replay(#[from] ReplayError),
}

/// The ids of the points from `from` to `to` (both included, from <= to).
pub fn sample_ids(from: i64, to: i64, spacing: Spacing) -> Result<Vec<i64>, HistoryError> {
    let span = (to - from) as u64;
    match spacing {
        Spacing::Points(n) if n <= 1 => Ok(vec![to]),
        Spacing::Points(n) if span < n as u64 => Ok((from..=to).collect()),
        Spacing::Points(n) => {
            // span >= n - 1, so the steps are >= 1: the ids are distinct.
            let last = (n - 1) as u128;
            Ok((0..n)
                .map(|i| from + (i as u128 * span as u128 / last) as i64)
                .collect())
        }
        Spacing::Every(every) => {
            let points = span / every + 1 + u64::from(span % every != 0);
            if points > MAX_HISTORY_POINTS as u64 {
                return Err(HistoryError::TooManyPoints {
                    every,
                    from,
                    to,
                    points,
                });
            }
            let mut ids: Vec<i64> = (0..span.div_ceil(every).max(1))
                .map(|i| from + (i * every) as i64)
                .filter(|&id| id < to)
                .collect();
            ids.push(to);
            Ok(ids)
        }
    }
}

/// The history asked for, with `last_id` the current head's; stops with
/// [`ReplayError::Cancelled`] once `cancel` is set.
pub fn metrics_history(
    store: &Store,
    query: &HistoryQuery,
    last_id: i64,
    cancel: &Cancel,
) -> Result<History, HistoryError> {
    let to = query.to.unwrap_or(last_id);
    if to > last_id {
        return Err(HistoryError::BeyondHead { to, last_id });
    }
    let from = query.from.unwrap_or(to.min(1));
    if from > to {
        return Err(HistoryError::FromAfterTo { from, to });
    }
    let ids = sample_ids(from, to, query.spacing)?;
    let mut sampler = Sampler::new(&ids);
    replay::stream_parsed(store, to, Check::Meta, cancel, |events| {
        sampler.fold(events)
    })?
    .whole()?;
    Ok(History {
        points: sampler.finish(),
        as_of_id: to,
    })
}

/// Folds rows in id order and reads the folds out just before the first
/// row past each sample id.
struct Sampler<'a> {
    ids: &'a [i64],
    next: usize,
    metrics: Metrics,
    stage: StageFold,
    count: u64,
    points: Vec<MetricsPoint>,
}

impl<'a> Sampler<'a> {
    fn new(ids: &'a [i64]) -> Self {
        Sampler {
            ids,
            next: 0,
            metrics: Metrics::new(),
            stage: StageFold::new(),
            count: 0,
            points: Vec::with_capacity(ids.len()),
        }
    }

    fn fold(&mut self, events: Vec<Arc<Event>>) {
        for ev in events {
            self.sample_before(ev.id);
            self.metrics.apply(&ev);
            self.stage.apply(&ev);
            self.count += 1;
        }
    }

    /// Reads out every sample id below `id`: the folds hold exactly the
    /// rows with smaller ids.
    fn sample_before(&mut self, id: i64) {
        while let Some(&at) = self.ids.get(self.next) {
            if at >= id {
                break;
            }
            self.points.push(MetricsPoint {
                as_of_id: at,
                event_count: self.count,
                scores: self.metrics.scores(),
                stage: self.stage.stage(),
            });
            self.next += 1;
        }
    }

    fn finish(mut self) -> Vec<MetricsPoint> {
        self.sample_before(i64::MAX);
        self.points
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::ev;

    #[test]
    fn points_are_spread_evenly_and_end_at_to() {
        assert_eq!(sample_ids(1, 100, Spacing::Points(1)).unwrap(), [100]);
        assert_eq!(
            sample_ids(1, 100, Spacing::Points(5)).unwrap(),
            [1, 25, 50, 75, 100]
        );
        assert_eq!(sample_ids(3, 6, Spacing::Points(10)).unwrap(), [3, 4, 5, 6]);
        assert_eq!(sample_ids(0, 0, Spacing::Points(100)).unwrap(), [0]);
        assert_eq!(
            sample_ids(0, 4, Spacing::Points(5)).unwrap(),
            [0, 1, 2, 3, 4]
        );
    }

    #[test]
    fn every_kth_id_and_always_the_last() {
        assert_eq!(sample_ids(1, 10, Spacing::Every(3)).unwrap(), [1, 4, 7, 10]);
        assert_eq!(
            sample_ids(1, 11, Spacing::Every(3)).unwrap(),
            [1, 4, 7, 10, 11]
        );
        assert_eq!(sample_ids(5, 5, Spacing::Every(3)).unwrap(), [5]);
        assert_eq!(sample_ids(1, 2, Spacing::Every(100)).unwrap(), [1, 2]);
        let err = sample_ids(1, 1_000_000, Spacing::Every(1)).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("every: 1 from 1 to 1000000 gives 1000000 points"));
    }

    /// Sampling during one pass equals folding each prefix from scratch,
    /// ids with no row (gaps, before the first row) included.
    #[test]
    fn each_sample_equals_a_fold_of_its_prefix() {
        let events: Vec<Arc<Event>> = [
            (2, "identity_adopt", "Echo", r#"{"confidence": 0.95}"#),
            (3, "commitment_open", "write tests", r#"{"cid": "c1"}"#),
            (
                4,
                "autonomy_tick",
                "",
                r#"{"telemetry": {"IAS": 0.6, "GAS": 0.4}}"#,
            ),
            (7, "commitment_close", "", r#"{"cid": "c1"}"#),
            (8, "reflection", "my name is Echo", "{}"),
        ]
        .into_iter()
        .map(|(id, kind, content, meta)| Arc::new(ev(id, kind, content, meta)))
        .collect();
        let ids = [0, 1, 2, 5, 7, 8, 9];
        let mut sampler = Sampler::new(&ids);
        sampler.fold(events.clone());
        let points = sampler.finish();
        assert_eq!(points.len(), ids.len());
        for (point, &id) in points.iter().zip(&ids) {
            let (mut metrics, mut stage) = (Metrics::new(), StageFold::new());
            let prefix: Vec<_> = events.iter().filter(|e| e.id <= id).collect();
            for e in &prefix {
                metrics.apply(e);
                stage.apply(e);
            }
            assert_eq!(point.as_of_id, id);
            assert_eq!(point.event_count, prefix.len() as u64);
            assert_eq!(point.scores, metrics.scores());
            assert_eq!(point.stage, stage.stage());
        }
    }
}
