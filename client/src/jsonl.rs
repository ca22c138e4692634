//! The JSON-lines form of ledger rows: the fixtures' `events.jsonl` format,
//! written by `pmm export` and read by `pmm import`.
//!
//! One object per line, keys in this order:
//! `{"id", "ts", "kind", "content", "meta", "prev_hash", "hash"}`, written as
//! Python's `json.dumps(row, ensure_ascii=False)` writes it, so a ledger
//! imported from a reference `pmm.db` exports byte for byte as its
//! `events.jsonl`. `meta` is the stored JSON object (key order kept, numbers
//! as Python re-prints them); `prev_hash`/`hash` are `null` when not stored.
//! A meta that is not an object, or that `json.dumps` refuses (a non-finite
//! number), is written as its text in a string instead.
//!
//! Reading, `meta` may also be a string: it is then taken as the stored meta
//! text verbatim. An object is stored in the reference's text form
//! (`json.dumps` defaults: `", "`/`": "` separators, non-ASCII escaped), the
//! form the reference's own `pmm.db` holds; hashes do not depend on it (they
//! are computed over canonical JSON).

use pmm::ledger_file;
use pmm::py::json::{self, Options};
use pmm::v1;
use serde_json::Value;

use crate::source;
use crate::types::Event;

/// Why a line is not a row.
pub use pmm::ledger_file::RowError as LineError;

/// `json.dumps(row, ensure_ascii=False)`.
const LINE_OPTIONS: Options = Options {
    ensure_ascii: false,
    ..Options::DEFAULT
};

/// The line (without newline) of a stored row.
pub fn format_row(row: &v1::Event) -> String {
    let meta = json::loads(&row.meta).ok().filter(Value::is_object);
    let mut out = line_head(row.id, &row.ts, &row.kind, &row.content);
    write_meta(&mut out, meta.as_ref(), || row.meta.clone());
    let hash = (!row.hash.is_empty()).then_some(row.hash.as_str());
    line_tail(&mut out, row.prev_hash.as_deref(), hash);
    out
}

/// The line (without newline) of an event read through the typed client.
pub fn format_event(ev: &Event) -> String {
    let mut out = line_head(ev.id, &ev.ts, &ev.kind, &ev.content);
    write_meta(&mut out, Some(&ev.meta), || ev.meta.to_string());
    line_tail(&mut out, ev.prev_hash.as_deref(), ev.hash.as_deref());
    out
}

/// Writes meta as the object it is; when it is not an object that
/// `json.dumps` can write, writes its `text` as a string instead, which
/// `parse_line` reads back verbatim.
fn write_meta(out: &mut String, meta: Option<&Value>, text: impl FnOnce() -> String) {
    match meta.and_then(|m| json::dumps(m, LINE_OPTIONS).ok()) {
        Some(written) => out.push_str(&written),
        None => json::write_str(&text(), false, out),
    }
}

fn line_head(id: u64, ts: &str, kind: &str, content: &str) -> String {
    let mut out = String::with_capacity(128 + content.len());
    out.push_str("{\"id\": ");
    out.push_str(&id.to_string());
    out.push_str(", \"ts\": ");
    json::write_str(ts, false, &mut out);
    out.push_str(", \"kind\": ");
    json::write_str(kind, false, &mut out);
    out.push_str(", \"content\": ");
    json::write_str(content, false, &mut out);
    out.push_str(", \"meta\": ");
    out
}

fn line_tail(out: &mut String, prev_hash: Option<&str>, hash: Option<&str>) {
    out.push_str(", \"prev_hash\": ");
    write_opt(out, prev_hash);
    out.push_str(", \"hash\": ");
    write_opt(out, hash);
    out.push('}');
}

fn write_opt(out: &mut String, value: Option<&str>) {
    match value {
        Some(s) => json::write_str(s, false, out),
        None => out.push_str("null"),
    }
}

/// Parses one line into a row for `Import`.
pub fn parse_line(line: &str) -> Result<v1::Event, LineError> {
    ledger_file::parse_line(line).and_then(source::wire_row)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"id": 2, "ts": "2025-09-29T12:00:07.804423+00:00", "kind": "llm_latency", "content": "Tabs\tand non-breaking spaces　\"q\"\n", "meta": {"op": "chat", "ms": 3171.796, "ok": true, "ts_ns": 1759147628791346098, "text": "é🚀"}, "prev_hash": "37688b599dfb4c7b7549a365c6c974c9c0a9588b940a35adc811d228ab5c736c", "hash": "6b09b341bb155c4a509c12c167163a9f9deee2f05ac1525018b0e0d902c991f9"}"#;

    #[test]
    fn a_line_round_trips_byte_for_byte() {
        let row = parse_line(LINE).unwrap();
        assert_eq!(row.id, 2);
        assert_eq!(row.content, "Tabs\tand non-breaking spaces\u{3000}\"q\"\n");
        assert_eq!(
            row.meta,
            r#"{"op": "chat", "ms": 3171.796, "ok": true, "ts_ns": 1759147628791346098, "text": "\u00e9\ud83d\ude80"}"#
        );
        assert_eq!(format_row(&row), LINE);
        let ev = Event::from_row(row).unwrap();
        assert_eq!(format_event(&ev), LINE);
    }

    #[test]
    fn first_row_and_missing_hash_are_null() {
        let line = r#"{"id": 1, "ts": "t", "kind": "user", "content": "", "meta": {}, "prev_hash": null, "hash": null}"#;
        let row = parse_line(line).unwrap();
        assert_eq!(row.prev_hash, None);
        assert_eq!(row.hash, "");
        assert_eq!(row.meta, "{}");
        assert_eq!(format_row(&row), line);
    }

    #[test]
    fn string_meta_is_taken_verbatim_and_written_back_as_a_string() {
        let line = r#"{"id": 3, "ts": "t", "kind": "k", "content": "", "meta": "{\n  \"a\": 1\n}", "prev_hash": null, "hash": "h"}"#;
        let row = parse_line(line).unwrap();
        assert_eq!(row.meta, "{\n  \"a\": 1\n}");
        // Valid JSON object text is exported as the object itself.
        assert!(format_row(&row).contains(r#""meta": {"a": 1}"#));
        let broken = v1::Event {
            meta: "not json".into(),
            ..row
        };
        let again = parse_line(&format_row(&broken)).unwrap();
        assert_eq!(again.meta, "not json");
    }

    #[test]
    fn non_finite_numbers_are_written_as_python_writes_them() {
        // Python's json reads 1e400 as inf and writes it as Infinity (its
        // default allow_nan=True); NaN likewise.
        let row = v1::Event {
            id: 1,
            ts: "t".into(),
            kind: "k".into(),
            content: String::new(),
            meta: r#"{"x": 1e400, "y": NaN}"#.into(),
            prev_hash: None,
            hash: "h".into(),
        };
        let line = format_row(&row);
        assert!(
            line.contains(r#""meta": {"x": Infinity, "y": NaN}"#),
            "{line}"
        );
        assert_eq!(
            parse_line(&line).unwrap().meta,
            r#"{"x": Infinity, "y": NaN}"#
        );
    }

    #[test]
    fn bad_lines_say_which_field() {
        // The row format's own checks are pmm::ledger_file's (tested there);
        // the client adds those of meta.
        let err = |l: &str| parse_line(l).unwrap_err().0;
        assert_eq!(err(r#"{"ts": "t"}"#), "id: missing");
        assert!(
            err(r#"{"id": 1, "ts": "t", "kind": "k", "content": "", "meta": [1]}"#)
                .starts_with("meta: expected")
        );
    }
}
