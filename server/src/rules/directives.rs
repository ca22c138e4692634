//! Autonomy directives, deduplicated, and the active set (SPEC §2).

use std::cmp::Reverse;

use imbl::{HashMap, OrdMap, OrdSet, Vector};
use pmm::py;
use serde_json::{json, Number, Value};

use super::{float_value, Fold};
use crate::event::Event;

/// Directive events that count as recent for the active score.
pub const RECENT_WINDOW: usize = 200;
/// Size of the active set.
pub const ACTIVE_TOP: usize = 7;

/// One distinct directive (by normalised content, case-sensitive).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Directive {
    pub content: String,
    pub first_seen_ts: String,
    pub last_seen_ts: String,
    pub first_seen_id: i64,
    pub last_seen_id: i64,
    pub seen_count: u64,
    pub sources: OrdSet<String>,
    #[serde(with = "super::persisted::opt_number")]
    pub last_origin_eid: Option<Number>,
    /// Occurrences among the last [`RECENT_WINDOW`] directive events.
    pub recent_hits: u64,
}

impl Directive {
    /// seen_count + 2 × recent hits, kept as an integer for ranking.
    fn score(&self) -> u64 {
        self.seen_count + 2 * self.recent_hits
    }

    fn rank_key(&self) -> (Reverse<u64>, i64) {
        (Reverse(self.score()), self.first_seen_id)
    }

    fn sources_json(&self) -> Value {
        Value::Array(self.sources.iter().map(|s| json!(s)).collect())
    }

    /// A record of the `directives` list.
    pub fn to_json(&self) -> Value {
        json!({
            "content": self.content,
            "first_seen_ts": self.first_seen_ts,
            "last_seen_ts": self.last_seen_ts,
            "first_seen_id": self.first_seen_id,
            "last_seen_id": self.last_seen_id,
            "seen_count": self.seen_count,
            "sources": self.sources_json(),
            "last_origin_eid": self.last_origin_eid.clone().map_or(Value::Null, Value::Number),
        })
    }

    /// A record of the `directives_active` list.
    pub fn to_active_json(&self) -> Value {
        json!({
            "content": self.content,
            "seen_count": self.seen_count,
            "recent_hits": self.recent_hits,
            "score": float_value(self.score() as f64),
            "first_seen_id": self.first_seen_id,
            "last_seen_id": self.last_seen_id,
            "sources": self.sources_json(),
        })
    }
}

/// The directives fold.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Directives {
    records: HashMap<String, Directive>,
    /// Contents by (first_seen_ts as text, first_seen_id).
    by_first_seen: OrdMap<(String, i64), String>,
    /// Contents by score descending, then first_seen_id.
    by_rank: OrdMap<(Reverse<u64>, i64), String>,
    recent: Vector<String>,
}

impl Directives {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of distinct directives.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// All directives, ordered by (first_seen_ts, first_seen_id).
    pub fn all(&self) -> impl Iterator<Item = &Directive> + '_ {
        self.by_first_seen
            .values()
            .filter_map(move |c| self.records.get(c))
    }

    /// The active set: top 7 by score, then first_seen_id.
    pub fn active(&self) -> impl Iterator<Item = &Directive> + '_ {
        self.by_rank
            .values()
            .take(ACTIVE_TOP)
            .filter_map(move |c| self.records.get(c))
    }

    pub fn all_json(&self) -> Value {
        Value::Array(self.all().map(Directive::to_json).collect())
    }

    pub fn active_json(&self) -> Value {
        Value::Array(self.active().map(Directive::to_active_json).collect())
    }

    /// Applies `change` to one record, keeping the rank index in step.
    fn update(&mut self, content: &str, change: impl FnOnce(&mut Directive)) {
        if let Some(rec) = self.records.get_mut(content) {
            self.by_rank.remove(&rec.rank_key());
            change(rec);
            self.by_rank.insert(rec.rank_key(), content.to_string());
        }
    }
}

impl Fold for Directives {
    fn apply(&mut self, ev: &Event) {
        if ev.kind != "autonomy_directive" {
            return;
        }
        let text = py::collapse_ws(&ev.content);
        if !self.records.contains_key(&text) {
            self.by_first_seen
                .insert((ev.ts.clone(), ev.id), text.clone());
            let rec = Directive {
                content: text.clone(),
                first_seen_ts: ev.ts.clone(),
                last_seen_ts: ev.ts.clone(),
                first_seen_id: ev.id,
                last_seen_id: ev.id,
                seen_count: 0,
                sources: OrdSet::new(),
                last_origin_eid: None,
                recent_hits: 0,
            };
            self.by_rank.insert(rec.rank_key(), text.clone());
            self.records.insert(text.clone(), rec);
        }
        let source = ev
            .meta_get("source")
            .filter(|v| !v.is_null())
            .map(|v| py::lower(py::strip(&py::py_str(v))))
            .filter(|s| !s.is_empty());
        let origin = ev
            .meta_get("origin_eid")
            .filter(|v| !v.is_null())
            .and_then(py::coerce_int);
        self.update(&text, |rec| {
            rec.last_seen_ts = ev.ts.clone();
            rec.last_seen_id = ev.id;
            rec.seen_count += 1;
            rec.recent_hits += 1;
            if let Some(source) = source {
                rec.sources.insert(source);
            }
            if let Some(origin) = origin {
                rec.last_origin_eid = Some(origin);
            }
        });
        self.recent.push_back(text);
        if self.recent.len() > RECENT_WINDOW {
            if let Some(dropped) = self.recent.pop_front() {
                self.update(&dropped, |rec| rec.recent_hits -= 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::ev;

    #[test]
    fn dedupes_on_collapsed_content_and_ranks_recent_hits() {
        let mut d = Directives::new();
        d.apply(&ev(
            1,
            "autonomy_directive",
            "Be  kind.",
            r#"{"source": " Reflection ", "origin_eid": "7"}"#,
        ));
        d.apply(&ev(
            2,
            "autonomy_directive",
            " Be kind. ",
            r#"{"source": "user", "origin_eid": "x"}"#,
        ));
        d.apply(&ev(3, "autonomy_directive", "be kind.", "{}"));
        let all: Vec<_> = d.all().collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].seen_count, 2);
        assert_eq!(
            all[0].sources.iter().cloned().collect::<Vec<_>>(),
            ["reflection", "user"]
        );
        assert_eq!(
            all[0].last_origin_eid.as_ref().map(|n| n.to_string()),
            Some("7".into())
        );
        let active: Vec<_> = d.active().map(|r| (r.first_seen_id, r.score())).collect();
        assert_eq!(active, [(1, 6), (3, 3)]);
    }

    #[test]
    fn hits_leave_the_window_after_200_directive_events() {
        let mut d = Directives::new();
        d.apply(&ev(1, "autonomy_directive", "old", "{}"));
        for id in 2..=201 {
            d.apply(&ev(id, "autonomy_directive", "new", "{}"));
        }
        let old = d.all().next().unwrap();
        assert_eq!((old.recent_hits, old.score()), (0, 1));
        assert_eq!(d.active().next().unwrap().content, "new");
    }
}
