//! How the rules read JSON values: Python truthiness and the few coercions
//! that the SPEC states in Python terms.

use serde_json::Value;

use crate::chain::canonical_json;
use crate::pyfmt;

/// Python-truthy: not null, false, 0/0.0, "", [] or {}.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => pyfmt::number_to_f64(n) != 0.0,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `Some(v)` when `v` is present and truthy.
pub fn truthy_opt(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| truthy(v))
}

/// SPEC "coerce to float", with a fallback for a coercion failure.
pub fn float_or(v: Option<&Value>, default: f64) -> f64 {
    v.and_then(pyfmt::coerce_float).unwrap_or(default)
}

/// Commitments are keyed by JSON value (cid `"5"` differs from `5`): the key
/// is the canonical JSON text of the cid.
pub fn cid_key(cid: &Value) -> String {
    // A cid read from stored JSON is finite; a non-finite one falls back to
    // its Python spelling so that it still has a stable key.
    canonical_json(cid).unwrap_or_else(|_| pyfmt::py_str(cid))
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
    v.map_or_else(|| "None".to_string(), pyfmt::py_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truthiness_follows_python() {
        for v in [
            json!(null),
            json!(false),
            json!(0),
            json!(0.0),
            json!(""),
            json!([]),
            json!({}),
        ] {
            assert!(!truthy(&v), "{v} should be falsy");
        }
        for v in [
            json!(true),
            json!(1),
            json!(-0.5),
            json!(" "),
            json!([0]),
            json!({"a": null}),
        ] {
            assert!(truthy(&v), "{v} should be truthy");
        }
    }

    #[test]
    fn cid_keys_distinguish_types() {
        assert_ne!(cid_key(&json!("5")), cid_key(&json!(5)));
        assert_eq!(cid_object_key(&json!(5)), "5");
        assert_eq!(cid_object_key(&json!(true)), "true");
        assert_eq!(cid_object_key(&json!({"b": 1, "a": 2})), r#"{"a":2,"b":1}"#);
    }
}
