//! The boundary: every request message becomes a validated domain request
//! here, through one [`Validate`] implementation per request type, or is
//! refused with a [`RequestError`] that names the field and says why.
//! Nothing past this point checks a request field again.
//!
//! Defaults that the proto documents (page sizes, heartbeat interval, …)
//! are applied here too, so the domain never sees an unset field.

mod ledger;
mod mind;
#[cfg(test)]
mod tests;

pub use self::ledger::{AppendCommand, ExportQuery, ViewsWanted};
pub use self::mind::{AsOf, ContextQuery, DirectivesQuery, MetricsQuery, ProjectionQuery};

use serde_json::Value;

use crate::config::Limits;
use crate::event::MAX_ID;

/// A request refused at the boundary. Nothing was done.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// A field is malformed or out of its documented range.
    #[error("{field}: {why}")]
    Invalid { field: String, why: String },
    /// A field exceeds a configured limit (RESOURCE_EXHAUSTED).
    #[error("{field}: {actual} exceeds {limit} {value}")]
    OverLimit {
        field: String,
        /// What was given, e.g. `2000000 bytes`.
        actual: String,
        /// The limit's name as Stats shows it, e.g. `max_event_bytes`.
        limit: &'static str,
        value: usize,
    },
}

impl RequestError {
    /// The same refusal of a field of a message nested at `path` (e.g.
    /// `views.context`): the field is named from the request's top.
    pub(crate) fn within(self, path: &str) -> RequestError {
        match self {
            RequestError::Invalid { field, why } => RequestError::Invalid {
                field: format!("{path}.{field}"),
                why,
            },
            RequestError::OverLimit {
                field,
                actual,
                limit,
                value,
            } => RequestError::OverLimit {
                field: format!("{path}.{field}"),
                actual,
                limit,
                value,
            },
        }
    }
}

/// A request message that can be turned into a domain request.
pub trait Validate: Sized {
    /// The validated request.
    type Valid;

    /// Checks every field against the limits in force.
    fn validate(self, limits: &Limits) -> Result<Self::Valid, RequestError>;
}

/// Longest kind, in bytes.
const MAX_KIND_BYTES: usize = 128;
/// Most entries in a kinds filter.
const MAX_KINDS: usize = 64;

pub(crate) fn invalid(field: impl Into<String>, why: impl std::fmt::Display) -> RequestError {
    RequestError::Invalid {
        field: field.into(),
        why: why.to_string(),
    }
}

/// An id from the wire (u64), at most [`MAX_ID`].
fn id(field: &str, value: u64) -> Result<i64, RequestError> {
    i64::try_from(value)
        .ok()
        .filter(|id| *id <= MAX_ID)
        .ok_or_else(|| {
            invalid(
                field,
                format!("{value} is above the largest id {MAX_ID} (2^53 - 1)"),
            )
        })
}

/// An id that names a row: at least 1.
fn row_id(field: &str, value: u64) -> Result<i64, RequestError> {
    if value == 0 {
        return Err(invalid(field, "must be >= 1 (ids start at 1)"));
    }
    id(field, value)
}

/// An optional `as_of_id`.
fn as_of(field: &str, value: Option<u64>) -> Result<Option<i64>, RequestError> {
    value.map(|v| id(field, v)).transpose()
}

/// A kinds filter: at most [`MAX_KINDS`] non-empty kinds.
fn kinds(field: &str, kinds: Vec<String>) -> Result<Vec<String>, RequestError> {
    if kinds.len() > MAX_KINDS {
        return Err(invalid(
            field,
            format!("{} kinds given, at most {MAX_KINDS}", kinds.len()),
        ));
    }
    if let Some(i) = kinds.iter().position(String::is_empty) {
        return Err(invalid(format!("{field}[{i}]"), "empty kind"));
    }
    Ok(kinds)
}

/// An event kind: 1 to [`MAX_KIND_BYTES`] bytes, no control characters.
fn kind(field: &str, kind: &str) -> Result<(), RequestError> {
    if kind.is_empty() {
        return Err(invalid(field, "required (e.g. \"user\")"));
    }
    if kind.len() > MAX_KIND_BYTES {
        return Err(invalid(
            field,
            format!("{} bytes, at most {MAX_KIND_BYTES}", kind.len()),
        ));
    }
    if kind.chars().any(char::is_control) {
        return Err(invalid(field, "contains a control character"));
    }
    Ok(())
}

/// A meta text: empty means `{}`; it must be a JSON object.
fn meta(field: &str, text: String) -> Result<(String, Value), RequestError> {
    let text = if text.is_empty() {
        "{}".to_string()
    } else {
        text
    };
    let value: Value =
        serde_json::from_str(&text).map_err(|e| invalid(field, format!("not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(invalid(field, "not a JSON object"));
    }
    Ok((text, value))
}

/// The meta text of a stored row (Import): read as Python's `json.loads`
/// reads it, `NaN` and `Infinity` included; it must be a JSON object.
fn stored_meta(field: &str, text: String) -> Result<(String, Value), RequestError> {
    let text = if text.is_empty() {
        "{}".to_string()
    } else {
        text
    };
    let value =
        pmm::py::json::loads(&text).map_err(|e| invalid(field, format!("not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(invalid(field, "not a JSON object"));
    }
    Ok((text, value))
}

/// A text within `max_event_bytes` (an event's kind + content + meta, or an
/// Embed/Search text).
fn within_event_bytes(field: &str, bytes: usize, limits: &Limits) -> Result<(), RequestError> {
    if bytes > limits.max_event_bytes {
        return Err(RequestError::OverLimit {
            field: field.to_string(),
            actual: format!("{bytes} bytes"),
            limit: "max_event_bytes",
            value: limits.max_event_bytes,
        });
    }
    Ok(())
}

/// A batch of 1 to `max_batch_events` events or rows.
fn batch_len(field: &str, n: usize, limits: &Limits) -> Result<(), RequestError> {
    if n == 0 {
        return Err(invalid(field, "at least one is required"));
    }
    if n > limits.max_batch_events {
        return Err(RequestError::OverLimit {
            field: field.to_string(),
            actual: format!("{n} given"),
            limit: "max_batch_events",
            value: limits.max_batch_events,
        });
    }
    Ok(())
}

/// A page size: 0 means `default`; either, when larger than
/// `max_page_size`, is reduced to it.
fn page_size(asked: u32, default: usize, limits: &Limits) -> usize {
    match asked as usize {
        0 => default,
        n => n,
    }
    .min(limits.max_page_size)
}
