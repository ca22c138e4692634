//! Request parameters: what to append, read, render or search, with the
//! server's defaults when left at `Default::default()`.

use pmm::py::json::{self, Options};
use pmm::v1;
use serde_json::Value;

use crate::error::ClientError;

/// One event to append. The server assigns id, ts and hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewEvent {
    /// Event kind (1 to 128 bytes).
    pub kind: String,
    /// Text content; may be empty.
    pub content: String,
    /// The meta JSON object as text; empty = `{}`. Stored exactly as given.
    pub meta: String,
    /// Idempotency key; `None` = none.
    pub idempotency_key: Option<String>,
}

impl NewEvent {
    /// An event with empty meta and no idempotency key.
    pub fn new(kind: impl Into<String>, content: impl Into<String>) -> Self {
        NewEvent {
            kind: kind.into(),
            content: content.into(),
            ..Default::default()
        }
    }

    /// Sets meta from a JSON value, which must be an object. It is written as
    /// the reference writes meta (Python `json.dumps` defaults: `", "` and
    /// `": "` separators, non-ASCII escaped, key order kept, numbers as
    /// Python re-prints them), so that the row exports and re-imports byte
    /// for byte. A non-finite number (`1e400`) is refused, as Python's
    /// `json.dumps(..., allow_nan=False)` refuses it.
    pub fn with_meta(mut self, meta: &Value) -> Result<Self, ClientError> {
        if !meta.is_object() {
            return Err(ClientError::invalid("meta", "not a JSON object"));
        }
        let refuse_nan = Options {
            allow_nan: false,
            ..Options::DEFAULT
        };
        self.meta = json::dumps(meta, refuse_nan)
            .map_err(|e| ClientError::invalid("meta", e.to_string()))?;
        Ok(self)
    }

    /// Sets the meta text as is (the server checks that it is a JSON object).
    pub fn with_meta_text(mut self, meta: impl Into<String>) -> Self {
        self.meta = meta.into();
        self
    }

    /// Sets the idempotency key.
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    pub(crate) fn into_proto(self) -> v1::EventInput {
        v1::EventInput {
            kind: self.kind,
            content: self.content,
            meta: self.meta,
            idempotency_key: self.idempotency_key.unwrap_or_default(),
        }
    }
}

/// Options of a batch append.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppendOptions {
    /// Write only if the ledger's last id equals this (0 = must be empty);
    /// otherwise the call fails with `ABORTED`.
    pub expected_last_id: Option<u64>,
    /// Render the context block as of the write (its `as_of_id` must be unset).
    pub context: Option<ContextOptions>,
    /// Compute the metrics as of the write (its `as_of_id` must be unset).
    pub metrics: Option<MetricsOptions>,
}

/// Parameters of the context block; defaults are the reference's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextOptions {
    /// The compact layout instead of the standard one.
    pub compact: bool,
    /// Number of reflections (default 3).
    pub n_reflections: Option<u32>,
    /// Budget of the commitments list, in code points (default 400).
    pub max_commitment_chars: Option<u32>,
    /// Budget of the reflections list, in code points (default 600).
    pub max_reflection_chars: Option<u32>,
    /// Fold only the last `tail` rows (default: the whole ledger).
    pub tail: Option<u64>,
    /// Historical view as of this id.
    pub as_of_id: Option<u64>,
    /// Also the block's size section by section (bytes, code points,
    /// tokens), tokens counted with this encoding (`Unspecified` =
    /// o200k_base); in `GetContextResponse.breakdown`. `None`: no breakdown.
    pub breakdown: Option<v1::TokenEncoding>,
}

impl ContextOptions {
    pub(crate) fn to_proto(&self) -> v1::GetContextRequest {
        v1::GetContextRequest {
            layout: if self.compact {
                v1::ContextLayout::Compact as i32
            } else {
                v1::ContextLayout::Unspecified as i32
            },
            n_reflections: self.n_reflections,
            max_commitment_chars: self.max_commitment_chars,
            max_reflection_chars: self.max_reflection_chars,
            tail: self.tail,
            as_of_id: self.as_of_id,
            include_breakdown: self.breakdown.is_some(),
            encoding: self.breakdown.unwrap_or_default() as i32,
        }
    }
}

/// Parameters of the projection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectionOptions {
    /// The strict-mode projection.
    pub strict: bool,
    /// Historical view as of this id.
    pub as_of_id: Option<u64>,
    /// How many expired commitments, the most recent (server default: 20).
    pub expired_limit: Option<u32>,
    /// Leave out this many of the most recently expired first.
    pub expired_skip: u64,
    /// How many warnings, the latest (server default: 20).
    pub warnings_limit: Option<u32>,
    /// Leave out this many of the latest warnings first.
    pub warnings_skip: u64,
}

impl ProjectionOptions {
    pub(crate) fn to_proto(&self) -> v1::GetProjectionRequest {
        v1::GetProjectionRequest {
            strict: self.strict,
            as_of_id: self.as_of_id,
            expired_limit: self.expired_limit,
            expired_skip: self.expired_skip,
            warnings_limit: self.warnings_limit,
            warnings_skip: self.warnings_skip,
        }
    }
}

/// Parameters of the metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsOptions {
    /// Also compute the IAS diagnosis.
    pub include_diagnosis: bool,
    /// Historical view as of this id.
    pub as_of_id: Option<u64>,
}

impl MetricsOptions {
    pub(crate) fn to_proto(&self) -> v1::GetMetricsRequest {
        v1::GetMetricsRequest {
            include_diagnosis: self.include_diagnosis,
            as_of_id: self.as_of_id,
        }
    }
}

/// Which points of the metrics history: from `from_id` to `to_id`, either
/// `points` evenly spaced ids or one every `every` ids (server default:
/// 100 points from id 1 to the head; at most 10,000 points).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryOptions {
    /// The first point's id (default 1).
    pub from_id: Option<u64>,
    /// The last point's id (default: the head).
    pub to_id: Option<u64>,
    /// Number of points, evenly spaced (default 100).
    pub points: Option<u32>,
    /// Instead of `points`: a point every this many ids, plus one at `to_id`.
    pub every: Option<u64>,
}

impl HistoryOptions {
    pub(crate) fn to_proto(&self) -> v1::GetMetricsHistoryRequest {
        v1::GetMetricsHistoryRequest {
            from_id: self.from_id,
            to_id: self.to_id,
            points: self.points,
            every: self.every,
        }
    }
}

/// What to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// First id, inclusive (default: the first row, or the last backward).
    pub start_id: Option<u64>,
    /// Last id, inclusive (default: no bound).
    pub end_id: Option<u64>,
    /// Newest first.
    pub backward: bool,
    /// Only these kinds (empty = all).
    pub kinds: Vec<String>,
    /// Page size (0 = the server's default, 100).
    pub page_size: u32,
}

impl ReadOptions {
    pub(crate) fn to_proto(&self) -> v1::ReadRequest {
        v1::ReadRequest {
            start_id: self.start_id,
            end_id: self.end_id,
            direction: if self.backward {
                v1::ReadDirection::Backward as i32
            } else {
                v1::ReadDirection::Forward as i32
            },
            kinds: self.kinds.clone(),
            limit: self.page_size,
        }
    }
}

/// Parameters of a similarity search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchOptions {
    /// Number of hits (0 = 10).
    pub top_k: u32,
    /// Only these kinds (empty = all).
    pub kinds: Vec<String>,
}

/// What to export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportOptions {
    /// First id, inclusive (default 1).
    pub start_id: Option<u64>,
    /// Last id, inclusive (default: the head at the start of the call).
    pub end_id: Option<u64>,
    /// Rows per stream message (0 = 1000).
    pub chunk_size: u32,
}

/// How `Import` checks rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ImportMode {
    /// Every new row must verify against the chain (the default).
    #[default]
    Verify,
    /// Rows are stored as given, hashes unchecked (for broken chains).
    Verbatim,
}

impl ImportMode {
    pub(crate) fn to_proto(self) -> v1::ImportMode {
        match self {
            ImportMode::Verify => v1::ImportMode::Verify,
            ImportMode::Verbatim => v1::ImportMode::Verbatim,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_is_written_in_the_reference_form() {
        let meta: Value = serde_json::from_str(r#"{"b":1.0,"a":"é"}"#).unwrap();
        let ev = NewEvent::new("user", "hi")
            .with_meta(&meta)
            .unwrap()
            .with_key("k1");
        let p = ev.into_proto();
        assert_eq!(p.meta, r#"{"b": 1.0, "a": "\u00e9"}"#);
        assert_eq!(p.idempotency_key, "k1");
        assert!(NewEvent::new("user", "")
            .with_meta(&Value::Array(vec![]))
            .is_err());
    }

    #[test]
    fn read_direction_and_layout_map_to_the_enums() {
        let r = ReadOptions {
            backward: true,
            ..Default::default()
        }
        .to_proto();
        assert_eq!(r.direction, v1::ReadDirection::Backward as i32);
        let c = ContextOptions {
            compact: true,
            ..Default::default()
        }
        .to_proto();
        assert_eq!(c.layout, v1::ContextLayout::Compact as i32);
        assert!(!c.include_breakdown);
        let b = ContextOptions {
            breakdown: Some(v1::TokenEncoding::Cl100kBase),
            ..Default::default()
        }
        .to_proto();
        assert!(b.include_breakdown);
        assert_eq!(b.encoding, v1::TokenEncoding::Cl100kBase as i32);
    }
}
