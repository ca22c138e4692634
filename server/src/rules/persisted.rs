//! How fold state is written into the fold snapshot file
//! (`ledger/persist.rs`): serde shapes for what serde cannot derive in a
//! format that is not self-describing (postcard), namely JSON values. Rows
//! are not saved: a tail window comes back cold (see `TailWindow`). Pure: no
//! I/O here.
//!
//! A JSON value is written as a tagged tree whose numbers keep their text
//! (serde_json's `arbitrary_precision`), so a value read back is the value
//! written, digit for digit, `NaN` and `Infinity` included.

use std::sync::Arc;

use imbl::Vector;
use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

/// A JSON value as read back (the owned side of [`JsonRef`]).
#[derive(Deserialize)]
enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl From<Json> for Value {
    fn from(json: Json) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::Number(text) => Value::Number(number(text)),
            Json::String(s) => Value::String(s),
            Json::Array(items) => Value::Array(items.into_iter().map(Value::from).collect()),
            Json::Object(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, Value::from(v)))
                    .collect(),
            ),
        }
    }
}

/// A number from its text, kept as written (the file is checksummed: the
/// text is one this server wrote).
fn number(text: String) -> Number {
    Number::from_string_unchecked(text)
}

/// A JSON value written without copying it, in the encoding `Json` reads.
struct JsonRef<'a>(&'a Value);

impl Serialize for JsonRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => s.serialize_unit_variant("Json", 0, "Null"),
            Value::Bool(b) => s.serialize_newtype_variant("Json", 1, "Bool", b),
            Value::Number(n) => s.serialize_newtype_variant("Json", 2, "Number", n.as_str()),
            Value::String(t) => s.serialize_newtype_variant("Json", 3, "String", t),
            Value::Array(items) => s.serialize_newtype_variant("Json", 4, "Array", &Items(items)),
            Value::Object(map) => s.serialize_newtype_variant("Json", 5, "Object", &Entries(map)),
        }
    }
}

struct Items<'a>(&'a [Value]);

impl Serialize for Items<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(JsonRef))
    }
}

struct Entries<'a>(&'a Map<String, Value>);

impl Serialize for Entries<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|(k, v)| (k, JsonRef(v))))
    }
}

/// `#[serde(with = "value")]` for a `Value`.
pub mod value {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Value, s: S) -> Result<S::Ok, S::Error> {
        JsonRef(v).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        Json::deserialize(d).map(Value::from)
    }
}

/// `#[serde(with = "opt_value")]` for an `Option<Value>`.
pub mod opt_value {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<Value>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref().map(JsonRef).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
        Ok(Option::<Json>::deserialize(d)?.map(Value::from))
    }
}

/// `#[serde(with = "arc_value")]` for an `Arc<Value>`.
pub mod arc_value {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Arc<Value>, s: S) -> Result<S::Ok, S::Error> {
        JsonRef(v).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<Value>, D::Error> {
        value::deserialize(d).map(Arc::new)
    }
}

/// `#[serde(with = "arc_map")]` for an `Arc<Map<String, Value>>`.
pub mod arc_map {
    use super::*;

    pub fn serialize<S: Serializer>(m: &Arc<Map<String, Value>>, s: S) -> Result<S::Ok, S::Error> {
        Entries(m).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Arc<Map<String, Value>>, D::Error> {
        let entries = Vec::<(String, Json)>::deserialize(d)?;
        Ok(Arc::new(
            entries
                .into_iter()
                .map(|(k, v)| (k, Value::from(v)))
                .collect(),
        ))
    }
}

/// `#[serde(with = "values")]` for a `Vector<Value>`.
pub mod values {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Vector<Value>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(JsonRef))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vector<Value>, D::Error> {
        let items = Vec::<Json>::deserialize(d)?;
        Ok(items.into_iter().map(Value::from).collect())
    }
}

/// `#[serde(with = "opt_number")]` for an `Option<Number>`.
pub mod opt_number {
    use super::*;

    pub fn serialize<S: Serializer>(n: &Option<Number>, s: S) -> Result<S::Ok, S::Error> {
        n.as_ref().map(Number::as_str).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Number>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Holder {
        #[serde(with = "value")]
        v: Value,
        #[serde(with = "opt_number")]
        n: Option<Number>,
    }

    /// Values come back equal, key order and number texts included
    /// (`2.50` stays `2.50`, `NaN` stays a number).
    #[test]
    fn json_values_round_trip_exactly() {
        let v = pmm::py::json::loads(
            r#"{"b": [1, 2.50, -0.0, 1e400, NaN, -Infinity, 123456789012345678901234567890], "a": {"z": null, "y": true, "x": "é\u0000"}}"#,
        )
        .expect("Python's json reads it");
        let h = Holder {
            v: v.clone(),
            n: Some("7.000".parse().expect("number")),
        };
        let bytes = postcard::to_stdvec(&h).expect("writes");
        let back: Holder = postcard::from_bytes(&bytes).expect("reads");
        assert_eq!(back, h);
        let keys: Vec<&String> = back.v.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["b", "a"]);
        assert_eq!(back.v["b"][1].to_string(), "2.50");
        assert_eq!(back.v["b"][4].as_number().map(Number::as_str), Some("NaN"));
        assert_eq!(json!(back.n), json!(h.n));
    }
}
