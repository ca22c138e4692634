//! Domain types returned by the client: protobuf messages with `meta` and
//! the `*_json` texts parsed into `serde_json` values (key order and number
//! spelling preserved), and optional fields made `Option`s.

use pmm::py::json::{self, Options};
use pmm::v1;
use serde_json::{Map, Value};

use crate::error::ClientError;

/// One stored ledger row.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Row id, >= 1.
    pub id: u64,
    /// Timestamp text exactly as stored.
    pub ts: String,
    /// Event kind.
    pub kind: String,
    /// Text content (may be empty).
    pub content: String,
    /// The meta JSON object (as stored: key order and number spelling kept).
    pub meta: Value,
    /// The previous row's hash; `None` for the first row.
    pub prev_hash: Option<String>,
    /// This row's hash; `None` only for a foreign row stored without one.
    pub hash: Option<String>,
}

impl Event {
    /// Converts a wire row, parsing its meta text.
    pub fn from_row(row: v1::Event) -> Result<Self, ClientError> {
        let meta = parse_json(&row.meta, || format!("event {} meta", row.id))?;
        Ok(Event {
            id: row.id,
            ts: row.ts,
            kind: row.kind,
            content: row.content,
            meta,
            prev_hash: row.prev_hash,
            hash: non_empty(row.hash),
        })
    }

    /// The wire row, with meta written as the reference writes it
    /// (`json.dumps` defaults, see [`pmm::py::json`]); a meta holding a
    /// non-finite number (`1e400`) cannot be written.
    pub fn to_row(&self) -> Result<v1::Event, ClientError> {
        let meta = json::dumps(&self.meta, Options::DEFAULT)
            .map_err(|e| ClientError::invalid(format!("event {} meta", self.id), e.to_string()))?;
        Ok(v1::Event {
            id: self.id,
            ts: self.ts.clone(),
            kind: self.kind.clone(),
            content: self.content.clone(),
            meta,
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone().unwrap_or_default(),
        })
    }
}

/// The head of the ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    /// Id of the last row; 0 when the ledger is empty.
    pub last_id: u64,
    /// Hash of the last row; `None` when the ledger is empty.
    pub last_hash: Option<String>,
    /// Number of rows.
    pub count: u64,
    /// `ts` of the last row; `None` when the ledger is empty.
    pub last_ts: Option<String>,
}

impl From<v1::LedgerHead> for Head {
    fn from(h: v1::LedgerHead) -> Self {
        Head {
            last_id: h.last_id,
            last_hash: h.last_hash,
            count: h.count,
            last_ts: h.last_ts,
        }
    }
}

/// Converts an optional wire head (absent = empty ledger).
pub(crate) fn head_of(h: Option<v1::LedgerHead>) -> Head {
    h.map(Head::from).unwrap_or_default()
}

/// Where one appended event landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The event's id.
    pub id: u64,
    /// The event's ts as stored.
    pub ts: String,
    /// The event's hash.
    pub hash: String,
    /// The previous row's hash; `None` for the ledger's first row.
    pub prev_hash: Option<String>,
    /// true when an idempotency key matched an existing event (nothing was
    /// written; the fields are the original row's).
    pub deduplicated: bool,
}

impl From<v1::AppendedEvent> for Appended {
    fn from(e: v1::AppendedEvent) -> Self {
        Appended {
            id: e.id,
            ts: e.ts,
            hash: e.hash,
            prev_hash: e.prev_hash,
            deduplicated: e.deduplicated,
        }
    }
}

/// The result of an append.
#[derive(Debug, Clone, PartialEq)]
pub struct AppendOutcome {
    /// One entry per request event, in request order.
    pub events: Vec<Appended>,
    /// The ledger head once the write was committed.
    pub head: Head,
    /// The context block as of the write, when requested.
    pub context: Option<v1::GetContextResponse>,
    /// The metrics as of the write, when requested.
    pub metrics: Option<v1::GetMetricsResponse>,
}

impl From<v1::AppendResponse> for AppendOutcome {
    fn from(r: v1::AppendResponse) -> Self {
        let (context, metrics) = match r.views {
            Some(v) => (v.context, v.metrics),
            None => (None, None),
        };
        AppendOutcome {
            events: r.events.into_iter().map(Appended::from).collect(),
            head: head_of(r.head),
            context,
            metrics,
        }
    }
}

/// A page of events from `Read`.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The events, in the requested direction.
    pub events: Vec<Event>,
    /// The `start_id` of the next page; `None` when the range is exhausted.
    pub next_start_id: Option<u64>,
    /// The ledger's last id when the page was read.
    pub as_of_id: u64,
}

impl Page {
    pub(crate) fn from_proto(r: v1::ReadResponse) -> Result<Self, ClientError> {
        Ok(Page {
            events: r
                .events
                .into_iter()
                .map(Event::from_row)
                .collect::<Result<_, _>>()?,
            next_start_id: r.next_start_id,
            as_of_id: r.as_of_id,
        })
    }
}

/// Who the agent is.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// The agent's name; `None` when it has none.
    pub name: Option<String>,
    /// The Big-Five trait values.
    pub traits: v1::Traits,
}

impl From<v1::Identity> for Identity {
    fn from(i: v1::Identity) -> Self {
        Identity {
            name: i.name,
            traits: i.traits.unwrap_or_default(),
        }
    }
}

/// The identity view with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityView {
    /// Name and traits.
    pub identity: Identity,
    /// The last row the view reflects.
    pub as_of_id: u64,
}

/// The projected self-model.
#[derive(Debug, Clone, PartialEq)]
pub struct SelfModel {
    /// Name and traits.
    pub identity: Identity,
    /// Open commitments: cid → the opening event's meta (plus
    /// `snoozed_until`), in insertion order.
    pub open: Map<String, Value>,
    /// Expired commitments: cid → `{text, expired_at, reason}`.
    pub expired: Map<String, Value>,
}

/// A warning raised by the lenient projection.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionWarning {
    /// Always `projection_warn`.
    pub kind: String,
    /// Human-readable text.
    pub content: String,
    /// `{"cid", "eid", "reason"}`.
    pub meta: Value,
    /// The id of the event that raised it.
    pub eid: u64,
    /// Machine-readable reason, e.g. `close_without_evidence`.
    pub reason: String,
}

/// The self-model projection.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// The self-model; `None` only when strict mode failed.
    pub self_model: Option<SelfModel>,
    /// Warnings of the lenient projection, in ledger order.
    pub warnings: Vec<ProjectionWarning>,
    /// Whether this is the strict-mode projection.
    pub strict: bool,
    /// The strict-mode failure, when it failed.
    pub strict_error: Option<String>,
    /// The last row the projection reflects.
    pub as_of_id: u64,
    /// How many expired commitments there are in all (the self-model holds
    /// the ones asked for).
    pub expired_total: u64,
    /// How many warnings there are in all.
    pub warnings_total: u64,
}

impl Projection {
    pub(crate) fn from_proto(r: v1::GetProjectionResponse) -> Result<Self, ClientError> {
        let self_model = match r.self_model {
            Some(m) => Some(SelfModel {
                identity: m.identity.map(Identity::from).unwrap_or_else(|| Identity {
                    name: None,
                    traits: v1::Traits::default(),
                }),
                open: parse_object(&m.open_json, "self_model.open_json")?,
                expired: parse_object(&m.expired_json, "self_model.expired_json")?,
            }),
            None => None,
        };
        let warnings = r
            .warnings
            .into_iter()
            .map(|w| {
                Ok(ProjectionWarning {
                    meta: parse_json(&w.meta, || "warnings[].meta".to_string())?,
                    kind: w.kind,
                    content: w.content,
                    eid: w.eid,
                    reason: w.reason,
                })
            })
            .collect::<Result<_, ClientError>>()?;
        Ok(Projection {
            self_model,
            warnings,
            strict: r.strict,
            strict_error: r.strict_error,
            as_of_id: r.as_of_id,
            expired_total: r.expired_total,
            warnings_total: r.warnings_total,
        })
    }
}

/// The result of one `Import` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    /// Rows written.
    pub imported: u64,
    /// Rows skipped because they were already stored identically.
    pub skipped: u64,
    /// The ledger head after the call.
    pub head: Head,
}

impl From<v1::ImportResponse> for ImportOutcome {
    fn from(r: v1::ImportResponse) -> Self {
        ImportOutcome {
            imported: r.imported,
            skipped: r.skipped,
            head: head_of(r.head),
        }
    }
}

fn non_empty(s: String) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

/// Parses JSON text sent by the server; an empty text is `{}`.
fn parse_json(text: &str, what: impl FnOnce() -> String) -> Result<Value, ClientError> {
    if text.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    pmm::py::json::loads(text)
        .map_err(|e| ClientError::Protocol(format!("{}: not JSON: {e}", what())))
}

fn parse_object(text: &str, what: &str) -> Result<Map<String, Value>, ClientError> {
    match parse_json(text, || what.to_string())? {
        Value::Object(map) => Ok(map),
        other => Err(ClientError::Protocol(format!(
            "{what}: expected a JSON object, got {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_round_trips_through_the_wire_row() {
        let row = v1::Event {
            id: 3,
            ts: "2025-09-29T12:00:09+00:00".into(),
            kind: "response".into(),
            content: "hé".into(),
            meta: r#"{"z": 1.0, "a": "é"}"#.into(),
            prev_hash: Some("p".into()),
            hash: "h".into(),
        };
        let ev = Event::from_row(row.clone()).unwrap();
        let keys: Vec<_> = ev.meta.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["z", "a"]);
        let mut expected = row;
        expected.meta = r#"{"z": 1.0, "a": "\u00e9"}"#.into();
        assert_eq!(ev.to_row().unwrap(), expected);
    }

    #[test]
    fn empty_hash_is_none_and_bad_meta_is_a_protocol_error() {
        let row = v1::Event {
            id: 1,
            meta: "{}".into(),
            ..Default::default()
        };
        assert_eq!(Event::from_row(row).unwrap().hash, None);
        let bad = v1::Event {
            id: 2,
            meta: "{oops".into(),
            ..Default::default()
        };
        assert!(matches!(
            Event::from_row(bad),
            Err(ClientError::Protocol(_))
        ));
    }
}
