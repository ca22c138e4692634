//! Arbitrary text as an event's meta: read as Python's `json.loads` reads
//! it (`pmm::py::json::loads`, NaN/Infinity included) and as `serde_json`
//! does, written back with `json.dumps` (`pmm::py::json::dumps`), hashed.
//!
//! Asserts, besides that nothing panics:
//! - what `serde_json` reads, `loads` reads to the same value;
//! - `dumps` with CANONICAL, CANONICAL_STORED, DEFAULT (and DEFAULT without
//!   ensure_ascii) is idempotent: its output loads back to a value that
//!   dumps to the same bytes; CANONICAL_STORED and DEFAULT never fail,
//!   CANONICAL fails exactly on a non-finite number and otherwise equals
//!   CANONICAL_STORED; DEFAULT's output re-canonicalises to the canonical
//!   text;
//! - canonical output is printable ASCII with keys sorted (strictly) at
//!   every depth and no whitespace outside strings;
//! - the hash: `PreparedHash::new(..).finish(..)` equals `event_hash(..)`
//!   (for finite values; `PreparedHash::stored` for all) and the SHA-256 of
//!   `canonical_payload(..)`, whose `meta` is the canonical meta.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pmm::py::json::{dumps, loads, Options};
use pmm_server::chain::{canonical_payload, event_hash, PreparedHash};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `json.dumps(value, ensure_ascii=False)`, as the fixtures' lines are written.
const KEEP: Options = Options {
    ensure_ascii: false,
    ..Options::DEFAULT
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let py = loads(text);
    if let Ok(standard) = serde_json::from_str::<Value>(text) {
        assert_eq!(py.as_ref().ok(), Some(&standard), "loads differs from serde_json");
    }
    let Ok(value) = py else {
        return;
    };

    for options in [Options::CANONICAL, Options::CANONICAL_STORED, Options::DEFAULT, KEEP] {
        if let Ok(out) = dumps(&value, options) {
            let again = loads(&out).unwrap_or_else(|e| panic!("dumps wrote {out:?}, loads: {e}"));
            assert_eq!(
                dumps(&again, options).as_deref(),
                Ok(out.as_str()),
                "not idempotent with {options:?}"
            );
        }
    }
    let stored = dumps(&value, Options::CANONICAL_STORED).expect("allow_nan never fails");
    let default = dumps(&value, Options::DEFAULT).expect("allow_nan never fails");
    let finite = !has_non_finite(&value);
    match dumps(&value, Options::CANONICAL) {
        Ok(canonical) => {
            assert!(finite);
            assert_eq!(canonical, stored);
        }
        Err(_) => assert!(!finite, "CANONICAL refused a finite value"),
    }
    let recanonical = loads(&default).expect("DEFAULT output loads");
    assert_eq!(
        dumps(&recanonical, Options::CANONICAL_STORED).as_deref(),
        Ok(stored.as_str())
    );
    assert!(
        stored.bytes().all(|b| (b' '..=b'~').contains(&b)),
        "canonical output is not printable ASCII: {stored:?}"
    );
    no_whitespace_outside_strings(&stored);
    keys_sorted(&loads(&stored).expect("canonical output loads"));

    // The hash of a row with this meta; its other fields taken from the
    // meta when it has them, so that the fuzzer reaches them too.
    let field = |key: &str| value.get(key).and_then(Value::as_str);
    let kind = field("kind").unwrap_or("user");
    let ts = field("ts").unwrap_or("2025-09-29T12:00:00+00:00");
    let content = field("content").unwrap_or(text);
    let prev_hash = field("prev_hash");
    let id = value
        .get("id")
        .and_then(Value::as_i64)
        .unwrap_or(text.len() as i64);
    let expected = event_hash(id, ts, kind, content, &value, prev_hash).expect("allow_nan");
    let payload = canonical_payload(id, ts, kind, content, &value, prev_hash).expect("allow_nan");
    assert_eq!(expected, hex::encode(Sha256::digest(payload.as_bytes())));
    let parsed = loads(&payload).expect("the payload is JSON");
    assert_eq!(parsed["content"].as_str(), Some(content));
    assert_eq!(parsed["kind"].as_str(), Some(kind));
    assert_eq!(parsed["ts"].as_str(), Some(ts));
    assert_eq!(parsed["prev_hash"].as_str(), prev_hash);
    assert_eq!(parsed["id"].as_i64(), Some(id));
    assert_eq!(
        dumps(&parsed["meta"], Options::CANONICAL_STORED).as_deref(),
        Ok(stored.as_str())
    );
    keys_sorted(&parsed);
    let stored_hash = PreparedHash::stored(kind, content, &value).expect("allow_nan");
    assert_eq!(stored_hash.finish(id, ts, prev_hash), expected);
    match PreparedHash::new(kind, content, &value) {
        Ok(prepared) => {
            assert!(finite);
            assert_eq!(prepared.finish(id, ts, prev_hash), expected);
        }
        Err(_) => assert!(!finite, "PreparedHash::new refused a finite meta"),
    }
});

fn has_non_finite(value: &Value) -> bool {
    match value {
        Value::Number(n) => {
            !pmm::py::number_is_int(n) && !pmm::py::number_to_f64(n).is_finite()
        }
        Value::Array(items) => items.iter().any(has_non_finite),
        Value::Object(map) => map.values().any(has_non_finite),
        Value::Null | Value::Bool(_) | Value::String(_) => false,
    }
}

fn keys_sorted(value: &Value) {
    match value {
        Value::Array(items) => items.iter().for_each(keys_sorted),
        Value::Object(map) => {
            let keys: Vec<&String> = map.keys().collect();
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "keys not sorted: {keys:?}");
            map.values().for_each(keys_sorted);
        }
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}

fn no_whitespace_outside_strings(text: &str) {
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else {
            assert!(!c.is_whitespace(), "whitespace in canonical {text:?}");
            in_string = c == '"';
        }
    }
}
