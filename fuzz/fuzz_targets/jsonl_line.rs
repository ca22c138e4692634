//! Arbitrary text as one line of an `events.jsonl` ledger file:
//! `pmm::ledger_file::parse_line`, then the server's conversion of the row
//! (`source::event_from_row`) and its hash.
//!
//! Asserts, besides that nothing panics: a row is read exactly when the
//! line is a JSON object (to Python's `json.loads`) with an integer id >= 1;
//! its fields are the line's; the event's `meta_text` reads back to its
//! meta; the event hashes (with Python's allow_nan) and a line that carries
//! the right hash verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pmm::ledger_file::{parse_line, Meta};
use pmm_server::chain::{hash_of, verify_chain};
use pmm_server::source::event_from_row;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    let parsed = parse_line(&line);
    let value = pmm::py::json::loads(&line);
    let Ok(row) = parsed else {
        return;
    };
    let object = value
        .ok()
        .and_then(|v| v.as_object().cloned())
        .expect("a row came from a JSON object");
    assert!(row.id >= 1);
    assert_eq!(object.get("id").and_then(Value::as_i64), Some(row.id));
    assert_eq!(object.get("kind").and_then(Value::as_str), Some(row.kind.as_str()));
    assert_eq!(object.get("ts").and_then(Value::as_str), Some(row.ts.as_str()));
    assert_eq!(
        object.get("content").and_then(Value::as_str),
        Some(row.content.as_str())
    );
    assert_eq!(
        object.get("hash").and_then(Value::as_str),
        row.hash.as_deref()
    );
    let Meta::Json(meta) = &row.meta else {
        panic!("a JSON line's meta is JSON");
    };
    let meta = meta.clone();
    let ev = event_from_row(row.clone()).expect("a JSON meta converts");
    assert_eq!(ev.meta(), &meta);
    assert_eq!(
        pmm::py::json::loads(&ev.meta_text).ok().as_ref(),
        Some(&meta),
        "meta_text {:?} does not read back to the meta",
        ev.meta_text
    );
    let hash = hash_of(&ev).expect("stored rows hash with allow_nan");
    if ev.prev_hash.is_none() && ev.hash.as_deref() == Some(hash.as_str()) {
        assert_eq!(verify_chain([&ev]), Ok(1));
    }
});
