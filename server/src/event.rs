//! One ledger row, as stored and as the rules see it.

use serde_json::{Map, Value};

/// A row of the `events` table (SPEC §1).
///
/// `meta` is kept as parsed JSON with its key order as written: a multi-delta
/// `trait_update` applies its entries in that order (SPEC §7).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub id: i64,
    pub ts: String,
    pub kind: String,
    pub content: String,
    pub meta: Value,
    /// The previous row's hash; `None` on the first row.
    pub prev_hash: Option<String>,
    /// The stored hash (`None` only for rows not yet chained).
    pub hash: Option<String>,
}

/// Why a JSON line could not be read as an event.
#[derive(Debug, thiserror::Error)]
pub enum EventParseError {
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("field `{field}` {problem}")]
    Field {
        field: &'static str,
        problem: &'static str,
    },
}

impl Event {
    /// `meta.<key>`, or `None` when absent or when meta is not an object
    /// (the rules treat a non-object meta as `{}`).
    pub fn meta_get(&self, key: &str) -> Option<&Value> {
        self.meta.as_object().and_then(|m| m.get(key))
    }

    /// The meta object, if meta is one.
    pub fn meta_object(&self) -> Option<&Map<String, Value>> {
        self.meta.as_object()
    }

    /// Parses one line of an `events.jsonl` ledger (fixtures format).
    pub fn from_json_line(line: &str) -> Result<Event, EventParseError> {
        let value: Value = serde_json::from_str(line)?;
        Self::from_json_value(value)
    }

    /// Builds an event from a parsed `{"id", "ts", "kind", "content", "meta",
    /// "prev_hash", "hash"}` object.
    pub fn from_json_value(value: Value) -> Result<Event, EventParseError> {
        let Value::Object(mut obj) = value else {
            return Err(EventParseError::Field {
                field: "event",
                problem: "must be a JSON object",
            });
        };
        let id = obj
            .get("id")
            .and_then(Value::as_i64)
            .ok_or(EventParseError::Field {
                field: "id",
                problem: "must be an integer",
            })?;
        let text = |obj: &mut Map<String, Value>, field: &'static str| match obj.remove(field) {
            Some(Value::String(s)) => Ok(s),
            _ => Err(EventParseError::Field {
                field,
                problem: "must be a string",
            }),
        };
        let optional_text =
            |obj: &mut Map<String, Value>, field: &'static str| match obj.remove(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(EventParseError::Field {
                    field,
                    problem: "must be a string or null",
                }),
            };
        let ts = text(&mut obj, "ts")?;
        let kind = text(&mut obj, "kind")?;
        let content = text(&mut obj, "content")?;
        let meta = obj.remove("meta").unwrap_or(Value::Object(Map::new()));
        let prev_hash = optional_text(&mut obj, "prev_hash")?;
        let hash = optional_text(&mut obj, "hash")?;
        Ok(Event {
            id,
            ts,
            kind,
            content,
            meta,
            prev_hash,
            hash,
        })
    }
}
