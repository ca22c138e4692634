//! IAS and GAS, and the diagnosis of IAS (SPEC §3).
//!
//! The fold keeps only bounded windows plus the lists that the diagnosis
//! reports in full (persistent vectors, so a snapshot clone is O(1)).

use imbl::{HashMap, HashSet, Vector};
use pmm::py;
use serde_json::{json, Value};

use super::projection::clamp01;
use super::value::{float_or, truthy};
use super::{float_value, Fold};
use crate::event::Event;

const STABLE_WINDOW: u64 = 5;
const STABILITY_BONUS: f64 = 0.03;
const FLIP_FLOP_PENALTY: f64 = 0.08;
const NOVEL_OPEN_GAS: f64 = 0.07;
const CLOSE_GAS: f64 = 0.12;
const IDENTITY_REFLECTION_BONUS: f64 = 0.01;
const DECAY: f64 = 0.9995;
const NOVELTY_WINDOW: u64 = 20;
const INVARIANT_PENALTY: f64 = 0.005;
const FEEDBACK_IAS_TO_GAS: f64 = 0.1;
const FEEDBACK_GAS_TO_IAS: f64 = 0.05;
/// The reference reads trait multipliers from a key the model lacks, so they
/// never move (SPEC §3: parity first).
const OPEN_TRAIT_MULTIPLIER: f64 = 1.0;
const CLOSE_TRAIT_MULTIPLIER: f64 = 1.0;

/// An `identity_adopt` as the diagnosis reports it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Adoption {
    pub tick: u64,
    pub name: String,
    pub id: i64,
    pub confidence: f64,
}

/// The IAS/GAS fold state after the last event, before the final feedback.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    ias: f64,
    gas: f64,
    tick: u64,
    /// Valid (high-confidence, named) adoptions.
    valid_adoptions: Vector<Adoption>,
    all_adoptions: Vector<Adoption>,
    last_adopt: Option<(u64, String)>,
    /// Novelty window: the last tick each open text was seen at; entries
    /// older than the window are pruned as ticks advance.
    recent_opens: HashMap<String, u64>,
    recent_open_log: Vector<(u64, String)>,
    penalised: HashSet<(String, String)>,
    identity_reflections: u64,
    /// Consecutive valid adoptions with a flip within the window (diagnosis).
    flip_flops: u64,
}

/// IAS and GAS after the final cross feedback, clamped to [0, 1].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scores {
    pub ias: f64,
    pub gas: f64,
}

fn same_name(a: &str, b: &str) -> bool {
    py::lower(py::strip(a)) == py::lower(py::strip(b))
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of `autonomy_tick` events so far.
    pub fn ticks(&self) -> u64 {
        self.tick
    }

    /// SPEC §3 end of the fold: feedback from the pre-feedback values, clamp.
    pub fn scores(&self) -> Scores {
        let f_ias = (self.ias - 0.5) * FEEDBACK_IAS_TO_GAS;
        let f_gas = (self.gas - 0.5) * FEEDBACK_GAS_TO_IAS;
        Scores {
            ias: clamp01(self.ias + f_gas),
            gas: clamp01(self.gas + f_ias),
        }
    }

    /// `{"ias", "gas"}`.
    pub fn scores_json(&self) -> Value {
        let s = self.scores();
        json!({"ias": float_value(s.ias), "gas": float_value(s.gas)})
    }

    /// The diagnosis record, fields in the fixtures' order.
    pub fn diagnosis(&self) -> Diagnosis {
        let since = self
            .valid_adoptions
            .last()
            .map_or(0, |a| self.tick - a.tick);
        let bonuses = since / STABLE_WINDOW;
        let violations = self.penalised.len() as u64;
        let mut expected = 0.0;
        expected += bonuses as f64 * STABILITY_BONUS;
        expected += self.identity_reflections as f64 * IDENTITY_REFLECTION_BONUS;
        expected -= self.flip_flops as f64 * FLIP_FLOP_PENALTY;
        expected -= violations as f64 * INVARIANT_PENALTY;
        Diagnosis {
            valid_adoptions: self.valid_adoptions.clone(),
            all_adoptions: self.all_adoptions.clone(),
            autonomy_ticks: self.tick,
            invariant_violations: violations,
            identity_reflections: self.identity_reflections,
            expected_stability_bonuses: bonuses,
            expected_flip_flop_penalties: self.flip_flops,
            decay_factor: DECAY.powf(self.tick as f64),
            ticks_since_last_adopt: since,
            expected_ias_before_decay: expected,
        }
    }

    fn identity_adopt(&mut self, ev: &Event) {
        let meta = ev.meta_object();
        let named = [
            meta.and_then(|m| m.get("sanitized")),
            meta.and_then(|m| m.get("name")),
        ]
        .into_iter()
        .flatten()
        .find(|v| truthy(v))
        .map(py::py_str);
        let nm = match named {
            Some(text) => py::strip(&text).to_string(),
            None => py::strip(&ev.content).to_string(),
        };
        let confidence = float_or(ev.meta_get("confidence"), 0.0);
        let adoption = Adoption {
            tick: self.tick,
            name: nm.clone(),
            id: ev.id,
            confidence,
        };
        self.all_adoptions.push_back(adoption.clone());
        if !nm.is_empty() && confidence >= 0.9 {
            if let Some(prev) = self.valid_adoptions.last() {
                if adoption.tick - prev.tick <= STABLE_WINDOW && !same_name(&prev.name, &nm) {
                    self.flip_flops += 1;
                }
            }
            self.valid_adoptions.push_back(adoption);
        }
        if let Some((last_tick, last_name)) = &self.last_adopt {
            let dt = self.tick - last_tick;
            if !last_name.is_empty()
                && !nm.is_empty()
                && dt <= STABLE_WINDOW
                && !same_name(last_name, &nm)
            {
                self.ias -= FLIP_FLOP_PENALTY;
            }
            if dt >= STABLE_WINDOW {
                self.ias += (dt / STABLE_WINDOW) as f64 * STABILITY_BONUS;
            }
        }
        self.last_adopt = Some((self.tick, nm));
    }

    fn commitment_open(&mut self, ev: &Event) {
        let text = py::lower(py::strip(&ev.content));
        if text.is_empty() {
            return;
        }
        let tick = self.tick;
        let novel = self
            .recent_opens
            .get(&text)
            .is_none_or(|&at| tick - at > NOVELTY_WINDOW);
        if novel {
            self.gas += NOVEL_OPEN_GAS * OPEN_TRAIT_MULTIPLIER;
        }
        self.recent_opens.insert(text.clone(), tick);
        self.recent_open_log.push_back((tick, text));
        self.prune_recent_opens();
    }

    /// Drops open texts last seen more than the novelty window ago.
    fn prune_recent_opens(&mut self) {
        while let Some((at, _)) = self.recent_open_log.front() {
            if self.tick - at <= NOVELTY_WINDOW {
                break;
            }
            if let Some((at, text)) = self.recent_open_log.pop_front() {
                if self.recent_opens.get(&text) == Some(&at) {
                    self.recent_opens.remove(&text);
                }
            }
        }
    }

    fn reflection(&mut self, ev: &Event) {
        let text = py::lower(py::strip(&ev.content));
        if (text.contains("identity") && text.chars().count() > 20) || text.contains("my name") {
            self.ias += IDENTITY_REFLECTION_BONUS;
            self.identity_reflections += 1;
        }
    }

    fn invariant_violation(&mut self, ev: &Event) {
        let text_or_empty = |v: Option<&Value>| match v {
            None | Some(Value::Null) => String::new(),
            Some(v) => py::py_str(v),
        };
        let code = text_or_empty(ev.meta_get("code"));
        let cid = text_or_empty(
            ev.meta_get("details")
                .and_then(Value::as_object)
                .and_then(|d| d.get("commitment_id")),
        );
        if self.penalised.insert((code, cid)).is_none() {
            self.ias -= INVARIANT_PENALTY;
            self.gas -= INVARIANT_PENALTY;
        }
    }

    fn autonomy_tick(&mut self) {
        self.tick += 1;
        self.ias *= DECAY;
        self.gas *= DECAY;
        if let Some(last) = self.valid_adoptions.last() {
            let dt = self.tick - last.tick;
            if dt > 0 && dt % STABLE_WINDOW == 0 {
                self.ias += STABILITY_BONUS;
            }
        }
    }
}

impl Fold for Metrics {
    fn apply(&mut self, ev: &Event) {
        match ev.kind.as_str() {
            "identity_adopt" => self.identity_adopt(ev),
            "commitment_open" => self.commitment_open(ev),
            "commitment_close" => self.gas += CLOSE_GAS * CLOSE_TRAIT_MULTIPLIER,
            "reflection" => self.reflection(ev),
            "invariant_violation" => self.invariant_violation(ev),
            "autonomy_tick" => self.autonomy_tick(),
            _ => {}
        }
    }
}

/// Why IAS is what it is (SPEC §3 diagnosis).
#[derive(Clone, Debug)]
pub struct Diagnosis {
    pub valid_adoptions: Vector<Adoption>,
    pub all_adoptions: Vector<Adoption>,
    pub autonomy_ticks: u64,
    pub invariant_violations: u64,
    pub identity_reflections: u64,
    pub expected_stability_bonuses: u64,
    pub expected_flip_flop_penalties: u64,
    pub decay_factor: f64,
    pub ticks_since_last_adopt: u64,
    pub expected_ias_before_decay: f64,
}

impl Diagnosis {
    /// The `diagnose` object of the outputs, keys in the fixtures' order.
    pub fn to_json(&self) -> Value {
        json!({
            "identity_adopts": self.valid_adoptions.len(),
            "identity_adopt_details": self.valid_adoptions.iter()
                .map(|a| json!([a.tick, a.name, a.id])).collect::<Vec<_>>(),
            "identity_adopts_total": self.all_adoptions.len(),
            "identity_adopt_details_all": self.all_adoptions.iter()
                .map(|a| json!([a.tick, a.name, a.id, float_value(a.confidence)]))
                .collect::<Vec<_>>(),
            "autonomy_ticks": self.autonomy_ticks,
            "invariant_violations": self.invariant_violations,
            "identity_reflections": self.identity_reflections,
            "expected_stability_bonuses": self.expected_stability_bonuses,
            "expected_flip_flop_penalties": self.expected_flip_flop_penalties,
            "decay_factor": float_value(self.decay_factor),
            "ticks_since_last_adopt": self.ticks_since_last_adopt,
            "expected_ias_before_decay": float_value(self.expected_ias_before_decay),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::ev;

    #[test]
    fn novel_opens_count_once_per_window() {
        let mut m = Metrics::new();
        m.apply(&ev(1, "commitment_open", " Ship IT ", "{}"));
        m.apply(&ev(2, "commitment_open", "ship it", "{}"));
        assert_eq!(m.gas, 0.07);
        for id in 3..24 {
            m.apply(&ev(id, "autonomy_tick", "", "{}"));
        }
        m.apply(&ev(24, "commitment_open", "ship it", "{}"));
        assert_eq!(m.gas, 0.07 * DECAY.powi(21) + 0.07);
    }

    #[test]
    fn flip_flop_within_window_is_penalised() {
        let mut m = Metrics::new();
        m.apply(&ev(1, "identity_adopt", "Echo", r#"{"confidence": 0.95}"#));
        m.apply(&ev(
            2,
            "identity_adopt",
            "Nova",
            r#"{"confidence": "0.95"}"#,
        ));
        assert_eq!(m.ias, -0.08);
        assert_eq!(m.diagnosis().expected_flip_flop_penalties, 1);
    }

    #[test]
    fn violations_are_penalised_once_per_key() {
        let mut m = Metrics::new();
        let meta = r#"{"code": "X", "details": {"commitment_id": 5}}"#;
        m.apply(&ev(1, "invariant_violation", "", meta));
        m.apply(&ev(2, "invariant_violation", "", meta));
        assert_eq!((m.ias, m.gas), (-0.005, -0.005));
    }
}
