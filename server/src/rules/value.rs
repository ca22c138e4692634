//! How the rules read JSON values: with Python truthiness and coercions
//! ([`pmm::py`]), falling back to defaults, and keying commitments by value.

use pmm::py;
use serde_json::Value;

use crate::chain::canonical_json;

pub use pmm::py::truthy;

/// `Some(v)` when `v` is present and truthy.
pub fn truthy_opt(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| truthy(v))
}

/// SPEC "coerce to float", with a fallback for a coercion failure.
pub fn float_or(v: Option<&Value>, default: f64) -> f64 {
    v.and_then(py::coerce_float).unwrap_or(default)
}

/// Commitments are keyed by JSON value (cid `"5"` differs from `5`): the key
/// is the canonical JSON text of the cid.
pub fn cid_key(cid: &Value) -> String {
    // A cid read from stored JSON is finite; a non-finite one falls back to
    // its Python spelling so that it still has a stable key.
    canonical_json(cid).unwrap_or_else(|_| py::py_str(cid))
}

/// A cid as a JSON object key in the output, as Python's json module
/// spells keys (`5` → `"5"`, `true` → `"true"`); objects and lists use
/// their canonical JSON text.
pub fn cid_object_key(cid: &Value) -> String {
    match cid {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_string(),
        Value::Bool(true) => "true".to_string(),
        Value::Bool(false) => "false".to_string(),
        _ => cid_key(cid),
    }
}

/// Python `str(x)` of an optional value (`None` when absent).
pub fn as_text(v: Option<&Value>) -> String {
    v.map_or_else(|| "None".to_string(), py::py_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cid_keys_distinguish_types() {
        assert_ne!(cid_key(&json!("5")), cid_key(&json!(5)));
        assert_eq!(cid_object_key(&json!(5)), "5");
        assert_eq!(cid_object_key(&json!(true)), "true");
        assert_eq!(cid_object_key(&json!({"b": 1, "a": 2})), r#"{"a":2,"b":1}"#);
    }
}
