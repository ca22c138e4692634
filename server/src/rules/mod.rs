//! The PMM rules as pure, incremental folds (SPEC §2–§6).
//!
//! Each fold has `apply(&mut self, &Event)` and read-outs; a full rebuild is
//! applying every event to a fresh fold. No I/O in here. Fold state lives in
//! persistent collections, so cloning a [`State`] to publish it as a
//! snapshot is cheap whatever the size of the ledger.

pub mod context;
pub mod directives;
pub mod embedding;
pub mod metrics;
pub mod persisted;
pub mod projection;
pub mod stage;
pub mod value;

use std::sync::Arc;

use pmm::py;
use serde_json::{json, Number, Value};

use crate::chain::{ChainFault, ChainVerifier};
use crate::event::Event;

pub use context::{
    ContextBlock, ContextError, ContextFolds, ContextParams, Section, TailLimits, TailWindow,
};
pub use directives::Directives;
pub use metrics::{Diagnosis, Metrics, Scores};
pub use projection::Projection;
pub use stage::{Stage, StageFold, TelemetryError};

/// A fold over the ledger, one event at a time in id order.
pub trait Fold {
    fn apply(&mut self, ev: &Event);
}

/// A float as a JSON number spelled as Python's `repr` spells it.
pub fn float_value(x: f64) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    py::float_repr(x)
        .parse::<Number>()
        .map_or(Value::Null, Value::Number)
}

/// Rows in the context tail window of the reference outputs.
pub const CONTEXT_TAIL_ROWS: usize = 1000;

const STANDARD: ContextParams = ContextParams::STANDARD;

/// The four context blocks of the reference outputs: name, parameters,
/// tail window.
pub const OUTPUT_BLOCKS: [(&str, ContextParams, Option<usize>); 4] = [
    ("context", STANDARD, None),
    (
        "context_compact",
        ContextParams {
            compact: true,
            ..STANDARD
        },
        None,
    ),
    ("context_tail", STANDARD, Some(CONTEXT_TAIL_ROWS)),
    (
        "context_budget",
        ContextParams {
            n_reflections: 5,
            max_commitment_chars: 100,
            max_reflection_chars: 150,
            compact: false,
        },
        None,
    ),
];

/// Whether the hash chain verifies so far, and where it first failed.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ChainStatus {
    verifier: ChainVerifier,
    /// Not persisted: a fold snapshot is only saved of a chain that
    /// verifies (`ledger/persist.rs`).
    #[serde(skip)]
    fault: Option<ChainFault>,
}

impl ChainStatus {
    pub fn fault(&self) -> Option<&ChainFault> {
        self.fault.as_ref()
    }

    pub fn ok(&self) -> bool {
        self.fault.is_none()
    }

    /// The stored hash of the last row (whether or not the chain verifies).
    pub fn last_hash(&self) -> Option<&str> {
        self.verifier.last_hash()
    }
}

impl ChainStatus {
    /// Folds a row whose hash was just computed from its own fields (by the
    /// writer): its links are checked, its hash is not computed again.
    pub fn apply_hashed(&mut self, ev: &Event) {
        if self.fault.is_none() {
            let known = || Ok(ev.hash.clone().unwrap_or_default());
            if let Err(fault) =
                self.verifier
                    .check_link(ev.id, ev.prev_hash.as_deref(), ev.hash.as_deref(), known)
            {
                self.fault = Some(fault);
            }
        }
    }
}

impl Fold for ChainStatus {
    fn apply(&mut self, ev: &Event) {
        if self.fault.is_none() {
            if let Err(fault) = self.verifier.check(ev) {
                self.fault = Some(fault);
            }
        }
    }
}

/// Every fold of one ledger, kept current event by event.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct State {
    /// Projection, metrics, stage and reflections of the whole ledger.
    pub whole: ContextFolds,
    /// The strict-mode projection.
    pub strict: Projection,
    pub directives: Directives,
    pub chain: ChainStatus,
    pub tail: TailWindow,
    event_count: u64,
    last_id: i64,
}

impl Default for State {
    fn default() -> Self {
        Self::new(TailLimits::rows(CONTEXT_TAIL_ROWS))
    }
}

impl State {
    /// A fresh state keeping a tail window within `tail`.
    pub fn new(tail: TailLimits) -> Self {
        State {
            whole: ContextFolds::default(),
            strict: Projection::strict(),
            directives: Directives::new(),
            chain: ChainStatus::default(),
            tail: TailWindow::new(tail),
            event_count: 0,
            last_id: 0,
        }
    }

    /// Folds one event (shared, so the tail window can keep it cheaply).
    pub fn apply_shared(&mut self, ev: Arc<Event>) {
        self.chain.apply(&ev);
        self.apply_except_chain(ev);
    }

    /// Folds one event whose hash was just computed from it (see
    /// [`ChainStatus::apply_hashed`]).
    pub fn apply_hashed(&mut self, ev: Arc<Event>) {
        self.chain.apply_hashed(&ev);
        self.apply_except_chain(ev);
    }

    /// Folds one event into everything but the chain status, for a rebuild
    /// that verifies the chain elsewhere (see [`State::set_chain`]).
    pub fn apply_except_chain(&mut self, ev: Arc<Event>) {
        self.whole.apply(&ev);
        self.strict.apply(&ev);
        self.directives.apply(&ev);
        self.event_count += 1;
        self.last_id = ev.id;
        self.tail.push(ev);
    }

    /// The chain status of the same events, verified elsewhere.
    pub fn set_chain(&mut self, chain: ChainStatus) {
        self.chain = chain;
    }

    /// Number of events folded.
    pub fn event_count(&self) -> u64 {
        self.event_count
    }

    /// Id of the last event folded (0 when none).
    pub fn last_id(&self) -> i64 {
        self.last_id
    }

    /// The strict-mode self-model, or the invariant error.
    pub fn strict_self_model(&self) -> Result<Value, String> {
        match self.strict.strict_error() {
            Some(err) => Err(err),
            None => Ok(self.strict.self_model_json()),
        }
    }

    /// A context block over the whole ledger, or over its last `tail` rows
    /// as far as the tail window holds them (see [`TailWindow::holds`]).
    pub fn context(
        &self,
        params: &ContextParams,
        tail: Option<usize>,
    ) -> Result<String, ContextError> {
        self.context_block(params, tail)
            .map(ContextBlock::into_text)
    }

    /// The same block with its sections.
    pub fn context_block(
        &self,
        params: &ContextParams,
        tail: Option<usize>,
    ) -> Result<ContextBlock, ContextError> {
        match tail {
            None => self.whole.render(params),
            Some(n) => self.tail.fold_last(n).render(params),
        }
    }

    /// The `outputs` object of the fixtures' `expected.json`.
    pub fn outputs(&self) -> Result<Value, ContextError> {
        let projection = &self.whole.projection;
        let (strict_model, strict_error) = match self.strict_self_model() {
            Ok(model) => (model, Value::Null),
            Err(err) => (Value::Null, json!(err)),
        };
        let mut out = json!({
            "after_id": self.last_id,
            "event_count": self.event_count,
            "self_model": projection.self_model_json(),
            "projection_warnings": projection.warnings_json(),
            "self_model_strict": strict_model,
            "strict_error": strict_error,
            "identity": projection.identity_json(),
            "directives": self.directives.all_json(),
            "directives_active": self.directives.active_json(),
            "metrics": self.whole.metrics.scores_json(),
            "diagnose": self.whole.metrics.diagnosis().to_json(),
            "stage": self.whole.stage.stage()?.to_json(),
        });
        for (name, params, tail) in OUTPUT_BLOCKS {
            out[name] = json!(self.context(&params, tail)?);
        }
        out["chain_ok"] = json!(self.chain.ok());
        Ok(out)
    }
}

impl Fold for State {
    fn apply(&mut self, ev: &Event) {
        self.apply_shared(Arc::new(ev.clone()));
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::event::Event;

    /// An event with the given id, kind, content and meta JSON.
    pub fn ev(id: i64, kind: &str, content: &str, meta: &str) -> Event {
        Event {
            id,
            ts: format!("2025-09-29T12:00:{:02}+00:00", id % 60),
            kind: kind.to_string(),
            content: content.to_string(),
            meta_text: meta.to_string(),
            prev_hash: None,
            hash: None,
            parsed: crate::event::ParsedMeta::given(
                serde_json::from_str(meta).expect("test meta JSON"),
            ),
        }
    }
}
