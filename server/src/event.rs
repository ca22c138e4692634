//! One ledger row: the one representation of a row from insert to
//! subscriber. The writer builds it from the request (moving the request's
//! texts, never copying them), stores it, folds it and hands the same
//! `Arc<Event>` to the tail window, the subscription hub and the replies.

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The largest row id: 2^53 − 1, the largest integer every language's JSON
/// numbers hold exactly. Ids are 1 to `MAX_ID`; nothing larger is stored.
pub const MAX_ID: i64 = (1 << 53) - 1;

/// A row of the `events` table (SPEC §1).
///
/// `meta_text` is the meta JSON text exactly as stored; the rules read it
/// parsed, with its key order as written (a multi-delta `trait_update`
/// applies its entries in that order, SPEC §7). Rows appended through the
/// server arrive already parsed (validation parsed them); rows read back
/// from storage are parsed on first use, so reads that only pass rows on
/// (Read, Export, subscriptions) never parse them.
#[derive(Clone, Debug)]
pub struct Event {
    pub id: i64,
    pub ts: String,
    pub kind: String,
    pub content: String,
    pub meta_text: String,
    /// The previous row's hash; `None` on the first row.
    pub prev_hash: Option<String>,
    /// The stored hash (`None` only for a foreign row stored without one).
    pub hash: Option<String>,
    pub parsed: ParsedMeta,
}

/// `meta_text` parsed, once.
#[derive(Clone, Debug, Default)]
pub struct ParsedMeta(OnceLock<Result<Value, MetaError>>);

impl ParsedMeta {
    /// Meta already parsed from the same text.
    pub fn given(meta: Value) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(Ok(meta));
        ParsedMeta(cell)
    }

    /// Meta to be parsed from the row's text on first use.
    pub fn on_first_use() -> Self {
        ParsedMeta::default()
    }
}

/// A stored meta text that is not JSON.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("stored meta is not valid JSON: {0}")]
pub struct MetaError(pub String);

/// What a row with an unreadable meta shows the rules: not an object, so
/// read as `{}` (SPEC: a non-object meta is treated as empty).
static UNREADABLE: Value = Value::Null;

/// Rows are equal when every stored column is.
impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.ts == other.ts
            && self.kind == other.kind
            && self.content == other.content
            && self.meta_text == other.meta_text
            && self.prev_hash == other.prev_hash
            && self.hash == other.hash
    }
}

impl Event {
    /// The bytes of its texts: what holding it in memory costs, roughly.
    pub fn text_bytes(&self) -> usize {
        self.ts.len()
            + self.kind.len()
            + self.content.len()
            + self.meta_text.len()
            + self.prev_hash.as_ref().map_or(0, String::len)
            + self.hash.as_ref().map_or(0, String::len)
    }

    /// The parsed meta, or why the stored text cannot be parsed.
    pub fn parsed_meta(&self) -> Result<&Value, &MetaError> {
        self.parsed
            .0
            .get_or_init(|| {
                serde_json::from_str(&self.meta_text).map_err(|e| MetaError(e.to_string()))
            })
            .as_ref()
    }

    /// The parsed meta as the rules read it (an unreadable one as `null`,
    /// which they treat as `{}`).
    pub fn meta(&self) -> &Value {
        self.parsed_meta().unwrap_or(&UNREADABLE)
    }

    /// `meta.<key>`, or `None` when absent or when meta is not an object
    /// (the rules treat a non-object meta as `{}`).
    pub fn meta_get(&self, key: &str) -> Option<&Value> {
        self.meta_object().and_then(|m| m.get(key))
    }

    /// The meta object, if meta is one.
    pub fn meta_object(&self) -> Option<&Map<String, Value>> {
        self.meta().as_object()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(meta_text: &str) -> Event {
        Event {
            id: 1,
            ts: "2025-09-29T12:00:00+00:00".into(),
            kind: "user".into(),
            content: "hi".into(),
            meta_text: meta_text.into(),
            prev_hash: None,
            hash: None,
            parsed: ParsedMeta::on_first_use(),
        }
    }

    #[test]
    fn stored_meta_is_parsed_on_first_use_keeping_key_order() {
        let ev = stored(r#"{"b": 1, "a": 2.50}"#);
        let keys: Vec<&String> = ev.meta_object().expect("object").keys().collect();
        assert_eq!(keys, ["b", "a"]);
        assert_eq!(
            ev.meta_get("a").map(ToString::to_string),
            Some("2.50".into())
        );
    }

    #[test]
    fn an_unreadable_meta_reads_as_empty_and_says_why() {
        let ev = stored("{not json");
        assert!(ev.parsed_meta().is_err());
        assert_eq!(ev.meta_get("a"), None);
        assert!(ev.meta_object().is_none());
    }

    #[test]
    fn equality_is_over_the_stored_columns() {
        let a = stored(r#"{"a":1}"#);
        let mut b = stored(r#"{"a":1}"#);
        b.parsed = ParsedMeta::given(serde_json::json!({"other": true}));
        assert_eq!(a, b);
        b.meta_text = r#"{"a": 1}"#.into();
        assert_ne!(a, b);
    }
}
