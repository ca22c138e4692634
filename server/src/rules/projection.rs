//! The self-model projection (SPEC §2): identity, traits, open and expired
//! commitments, and the close-without-evidence warnings.
//!
//! State lives in persistent collections (`imbl`), so cloning a projection
//! to publish it as a snapshot costs O(1) whatever the size of the ledger.

use std::sync::{Arc, LazyLock};

use imbl::{HashMap, HashSet, OrdMap, Vector};
use pmm::py;
use pmm::py::{py_max, py_min, PY_WS_CLASS};
use regex::Regex;
use serde_json::{json, Map, Value};

use super::value::{as_text, cid_key, cid_object_key, float_or, truthy, truthy_opt};
use super::{float_value, Fold};
use crate::event::Event;

/// Big-Five trait names, in output order.
pub const TRAITS: [&str; 5] = [
    "openness",
    "conscientiousness",
    "extraversion",
    "agreeableness",
    "neuroticism",
];

/// Strict mode bounds each trait delta to ±0.05.
const STRICT_DELTA_LIMIT: f64 = 0.05;

static NAME_CHANGED: LazyLock<Regex> = LazyLock::new(|| {
    let ws = PY_WS_CLASS;
    Regex::new(&format!(r"(?i)Name{ws}+changed{ws}+to:{ws}*(?P<name>.+)")).expect("static regex")
});

/// Index of a trait from its name or one-letter alias (already lower-cased).
fn trait_index(key: &str) -> Option<usize> {
    match key {
        "o" | "openness" => Some(0),
        "c" | "conscientiousness" => Some(1),
        "e" | "extraversion" => Some(2),
        "a" | "agreeableness" => Some(3),
        "n" | "neuroticism" => Some(4),
        _ => None,
    }
}

/// An open commitment: the opening event's meta (plus `snoozed_until`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct OpenCommitment {
    /// Insertion order among open commitments (kept when re-opened in place).
    pub seq: u64,
    #[serde(with = "super::persisted::value")]
    pub cid: Value,
    #[serde(with = "super::persisted::arc_map")]
    pub entry: Arc<Map<String, Value>>,
}

/// An expired commitment: `{text, expired_at, reason}`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct ExpiredCommitment {
    #[serde(with = "super::persisted::value")]
    cid: Value,
    #[serde(with = "super::persisted::arc_value")]
    record: Arc<Value>,
}

/// Which part of the lists that only grow (expired commitments, warnings)
/// to read out: leaving out the `*_skip` most recent, the `*_limit` most
/// recent of the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProjectionPage {
    pub expired_skip: usize,
    pub expired_limit: usize,
    pub warnings_skip: usize,
    pub warnings_limit: usize,
}

/// The projection fold. `strict` bounds trait deltas and turns the
/// invariant breaches into errors (SPEC §2).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Projection {
    strict: bool,
    #[serde(with = "super::persisted::opt_value")]
    name: Option<Value>,
    traits: [f64; 5],
    open: HashMap<String, OpenCommitment>,
    open_order: OrdMap<u64, String>,
    /// Open cids ordered as the context block lists them: by `str(cid)`,
    /// ties in insertion order.
    open_by_text: OrdMap<(String, u64), String>,
    expired: HashMap<String, ExpiredCommitment>,
    expired_order: OrdMap<u64, String>,
    next_seq: u64,
    evidence_seen: HashSet<(String, String)>,
    identity_adopted: bool,
    last_eid: Option<i64>,
    #[serde(with = "super::persisted::values")]
    warnings: Vector<Value>,
    /// Strict mode only: the error that stopped the fold.
    failure: Option<String>,
}

impl Default for Projection {
    fn default() -> Self {
        Self::new(false)
    }
}

impl Projection {
    pub fn new(strict: bool) -> Self {
        Projection {
            strict,
            name: None,
            traits: [0.5; 5],
            open: HashMap::new(),
            open_order: OrdMap::new(),
            open_by_text: OrdMap::new(),
            expired: HashMap::new(),
            expired_order: OrdMap::new(),
            next_seq: 0,
            evidence_seen: HashSet::new(),
            identity_adopted: false,
            last_eid: None,
            warnings: Vector::new(),
            failure: None,
        }
    }

    pub fn strict() -> Self {
        Self::new(true)
    }

    /// The identity name (`None` for null).
    pub fn name(&self) -> Option<&Value> {
        self.name.as_ref()
    }

    /// Trait values in [`TRAITS`] order.
    pub fn traits(&self) -> [f64; 5] {
        self.traits
    }

    /// Number of open commitments.
    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    /// Number of expired commitments.
    pub fn expired_count(&self) -> usize {
        self.expired.len()
    }

    /// Open commitments in the order the context block lists them
    /// (by `str(cid)` in code point order, ties in insertion order).
    pub fn open_by_text(&self) -> impl Iterator<Item = &OpenCommitment> + '_ {
        self.open_by_text
            .values()
            .filter_map(move |key| self.open.get(key))
    }

    /// Warnings raised so far (non-strict mode).
    pub fn warnings(&self) -> &Vector<Value> {
        &self.warnings
    }

    /// Part of [`Projection::warnings`]: leaving out the `skip` latest, the
    /// `limit` latest of the rest, in ledger order. O(log n + limit).
    pub fn warnings_page(&self, skip: usize, limit: usize) -> Vector<Value> {
        let end = self.warnings.len().saturating_sub(skip);
        let start = end.saturating_sub(limit);
        self.warnings.skip(start).take(end - start)
    }

    /// Strict mode: the invariant error, if the ledger breaks one.
    pub fn strict_error(&self) -> Option<String> {
        if let Some(failure) = &self.failure {
            return Some(failure.clone());
        }
        if self.strict && self.identity_adopted && self.name.is_none() {
            return Some(format!(
                "identity reverted to None without identity_clear (last_eid={})",
                self.last_eid
                    .map_or_else(|| "None".to_string(), |id| id.to_string())
            ));
        }
        None
    }

    /// `{"name", "traits"}` (SPEC §2 identity view).
    pub fn identity_json(&self) -> Value {
        let mut traits = Map::new();
        for (name, value) in TRAITS.iter().zip(self.traits) {
            traits.insert((*name).to_string(), float_value(value));
        }
        json!({"name": self.name.clone().unwrap_or(Value::Null), "traits": traits})
    }

    /// The open commitments as a JSON object, in insertion order.
    pub fn open_json(&self) -> Value {
        let mut out = Map::new();
        for key in self.open_order.values() {
            if let Some(c) = self.open.get(key) {
                out.insert(cid_object_key(&c.cid), Value::Object((*c.entry).clone()));
            }
        }
        Value::Object(out)
    }

    /// The expired commitments as a JSON object, in insertion order.
    pub fn expired_json(&self) -> Value {
        self.expired_page_json(0, usize::MAX)
    }

    /// Part of [`Projection::expired_json`]: leaving out the `skip` most
    /// recently expired, the `limit` most recent of the rest, still in
    /// insertion order. O(skip + limit).
    pub fn expired_page_json(&self, skip: usize, limit: usize) -> Value {
        let keys: Vec<&String> = self
            .expired_order
            .values()
            .rev()
            .skip(skip)
            .take(limit)
            .collect();
        let mut out = Map::new();
        for key in keys.into_iter().rev() {
            if let Some(c) = self.expired.get(key) {
                out.insert(cid_object_key(&c.cid), (*c.record).clone());
            }
        }
        Value::Object(out)
    }

    /// The `self_model` object of the outputs.
    pub fn self_model_json(&self) -> Value {
        json!({
            "identity": self.identity_json(),
            "commitments": {"open": self.open_json(), "expired": self.expired_json()},
        })
    }

    /// The warnings as a JSON list.
    pub fn warnings_json(&self) -> Value {
        Value::Array(self.warnings.iter().cloned().collect())
    }

    fn apply_trait_delta(&mut self, index: usize, raw: Option<&Value>) {
        let mut delta = float_or(raw, 0.0);
        if self.strict {
            delta = py_max(-STRICT_DELTA_LIMIT, py_min(STRICT_DELTA_LIMIT, delta));
        }
        self.traits[index] = clamp01(self.traits[index] + delta);
    }

    fn trait_update(&mut self, ev: &Event) {
        let delta = ev.meta_get("delta");
        let trait_key = match ev.meta_get("trait") {
            None | Some(Value::Null) => String::new(),
            Some(t) => py::lower(py::strip(&py::py_str(t))),
        };
        match delta {
            Some(Value::Object(entries)) if trait_key.is_empty() => {
                for (key, raw) in entries {
                    if let Some(index) = trait_index(&py::lower(key)) {
                        self.apply_trait_delta(index, Some(raw));
                    }
                }
            }
            _ => {
                if let Some(index) = trait_index(&trait_key) {
                    self.apply_trait_delta(index, delta);
                }
            }
        }
    }

    fn identity_change(&mut self, ev: &Event) {
        let name = match truthy_opt(ev.meta_get("name")) {
            Some(name) => Some(name.clone()),
            None => NAME_CHANGED
                .captures(&ev.content)
                .and_then(|m| m.name("name"))
                .map(|m| Value::String(py::strip(m.as_str()).to_string())),
        };
        if let Some(name) = name.filter(truthy) {
            self.name = Some(name);
        }
    }

    fn identity_adopt(&mut self, ev: &Event) {
        let candidate = match truthy_opt(ev.meta_get("name")) {
            Some(name) => Some(name.clone()),
            None if !ev.content.is_empty() => Some(Value::String(ev.content.clone())),
            None => None,
        };
        if let Some(Value::String(candidate)) = candidate {
            let name = py::strip(&candidate);
            if name.is_empty() {
                self.name = None;
            } else {
                self.name = Some(Value::String(name.to_string()));
                self.identity_adopted = true;
            }
        }
    }

    fn commitment_open(&mut self, ev: &Event) {
        let Some(meta) = ev.meta_object() else { return };
        let Some(cid) = truthy_opt(meta.get("cid")) else {
            return;
        };
        if matches!(meta.get("text"), None | Some(Value::Null)) {
            return;
        }
        let key = cid_key(cid);
        let entry = Arc::new(meta.clone());
        if let Some(existing) = self.open.get_mut(&key) {
            // Re-opening a cid that is still open replaces it in place.
            existing.entry = entry;
            existing.cid = cid.clone();
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.open_order.insert(seq, key.clone());
        self.open_by_text
            .insert((py::py_str(cid), seq), key.clone());
        self.open.insert(
            key,
            OpenCommitment {
                seq,
                cid: cid.clone(),
                entry,
            },
        );
    }

    fn evidence_candidate(&mut self, ev: &Event) {
        let Some(cid) = truthy_opt(ev.meta_get("cid")) else {
            return;
        };
        let etype = match truthy_opt(ev.meta_get("evidence_type")) {
            Some(t) => py::lower(py::strip(&py::py_str(t))),
            None => "done".to_string(),
        };
        self.evidence_seen.insert((cid_key(cid), etype));
    }

    /// Close or expire; returns early (and sets the strict failure) when a
    /// close lacks evidence in strict mode.
    fn commitment_end(&mut self, ev: &Event, expire: bool) {
        let Some(cid) = truthy_opt(ev.meta_get("cid")) else {
            return;
        };
        let key = cid_key(cid);
        let Some(open) = self.open.get(&key) else {
            return;
        };
        if expire {
            let record = json!({
                "text": open.entry.get("text").cloned().unwrap_or(Value::Null),
                "expired_at": ev.id,
                "reason": truthy_opt(ev.meta_get("reason")).cloned().unwrap_or_else(|| json!("timeout")),
            });
            let record = Arc::new(record);
            if let Some(existing) = self.expired.get_mut(&key) {
                existing.record = record;
                existing.cid = cid.clone();
            } else {
                let seq = self.next_seq;
                self.next_seq += 1;
                self.expired_order.insert(seq, key.clone());
                self.expired.insert(
                    key.clone(),
                    ExpiredCommitment {
                        cid: cid.clone(),
                        record,
                    },
                );
            }
        } else if !self
            .evidence_seen
            .contains(&(key.clone(), "done".to_string()))
        {
            if self.strict {
                self.failure = Some(format!(
                    "commitment_close without prior evidence_candidate (cid={}, eid={})",
                    as_text(Some(cid)),
                    ev.id
                ));
                return;
            }
            self.warnings.push_back(json!({
                "kind": "projection_warn",
                "content": "commitment_close without evidence",
                "meta": {"cid": cid.clone(), "eid": ev.id, "reason": "close_without_evidence"},
            }));
        }
        if let Some(removed) = self.open.remove(&key) {
            self.open_order.remove(&removed.seq);
            self.open_by_text
                .remove(&(py::py_str(&removed.cid), removed.seq));
        }
    }

    fn commitment_snooze(&mut self, ev: &Event) {
        let Some(cid) = truthy_opt(ev.meta_get("cid")) else {
            return;
        };
        let key = cid_key(cid);
        let until = ev.meta_get("until_tick");
        let Some(open) = self.open.get_mut(&key) else {
            return;
        };
        let snoozed_until = match truthy_opt(until).and_then(py::coerce_int) {
            Some(n) => Value::Number(n),
            None => json!(0),
        };
        Arc::make_mut(&mut open.entry).insert("snoozed_until".to_string(), snoozed_until);
    }
}

impl Fold for Projection {
    fn apply(&mut self, ev: &Event) {
        if self.failure.is_some() {
            return;
        }
        self.last_eid = Some(ev.id);
        match ev.kind.as_str() {
            "identity_change" => self.identity_change(ev),
            "identity_adopt" => self.identity_adopt(ev),
            "identity_clear" => {
                self.name = None;
                self.identity_adopted = false;
            }
            "trait_update" => self.trait_update(ev),
            "commitment_open" => self.commitment_open(ev),
            "evidence_candidate" => self.evidence_candidate(ev),
            "commitment_close" => self.commitment_end(ev, false),
            "commitment_expire" => self.commitment_end(ev, true),
            "commitment_snooze" => self.commitment_snooze(ev),
            _ => {}
        }
    }
}

/// `max(0.0, min(1.0, v))` the Python way: a NaN becomes 1.0.
pub fn clamp01(v: f64) -> f64 {
    py_max(0.0, py_min(1.0, v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::ev;

    #[test]
    fn multi_delta_applies_in_key_order_with_clamping() {
        let mut p = Projection::default();
        p.apply(&ev(
            1,
            "trait_update",
            "",
            r#"{"delta": {"o": 0.6, "openness": -0.3}}"#,
        ));
        // 0.5 + 0.6 clamps to 1.0, then 1.0 - 0.3.
        assert_eq!(p.traits()[0], 0.7);
        let mut q = Projection::default();
        q.apply(&ev(
            1,
            "trait_update",
            "",
            r#"{"delta": {"openness": -0.3, "o": 0.6}}"#,
        ));
        assert_eq!(q.traits()[0], 0.8);
    }

    #[test]
    fn strict_bounds_deltas_and_nan_sums_become_one() {
        let mut p = Projection::strict();
        p.apply(&ev(
            1,
            "trait_update",
            "",
            r#"{"trait": " C ", "delta": "0.3"}"#,
        ));
        assert_eq!(p.traits()[1], 0.55);
        let mut q = Projection::default();
        q.apply(&ev(
            1,
            "trait_update",
            "",
            r#"{"trait": "n", "delta": "nan"}"#,
        ));
        assert_eq!(q.traits()[4], 1.0);
    }

    #[test]
    fn close_without_evidence_warns_or_fails_strict() {
        let events = [
            ev(
                1,
                "commitment_open",
                "",
                r#"{"cid": "c1", "text": "do it"}"#,
            ),
            ev(2, "commitment_close", "", r#"{"cid": "c1"}"#),
        ];
        let mut p = Projection::default();
        let mut s = Projection::strict();
        for e in &events {
            p.apply(e);
            s.apply(e);
        }
        assert_eq!(p.open_count(), 0);
        assert_eq!(p.warnings().len(), 1);
        assert_eq!(
            s.strict_error().as_deref(),
            Some("commitment_close without prior evidence_candidate (cid=c1, eid=2)")
        );
    }

    #[test]
    fn identity_change_reads_name_from_content() {
        let mut p = Projection::default();
        p.apply(&ev(
            1,
            "identity_change",
            "Note.\nname   CHANGED to:  Nova \r\nrest",
            "{}",
        ));
        assert_eq!(p.name(), Some(&json!("Nova")));
    }

    #[test]
    fn adopted_identity_reverting_to_none_fails_strict() {
        let mut s = Projection::strict();
        s.apply(&ev(1, "identity_adopt", "Echo", "{}"));
        s.apply(&ev(2, "identity_adopt", "", r#"{"name": "  "}"#));
        assert_eq!(
            s.strict_error().as_deref(),
            Some("identity reverted to None without identity_clear (last_eid=2)")
        );
        s.apply(&ev(3, "identity_clear", "", "{}"));
        assert_eq!(s.strict_error(), None);
    }
}
