//! JSON-lines ledgers: one `{"id", "ts", "kind", "content", "meta",
//! "prev_hash", "hash"}` object per line; blank lines are skipped.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::{Map, Value};

use super::{io_error, Error, Meta, Row, RowError};

/// Parses one line into a row: `id` an integer >= 1; `ts`, `kind` and
/// `content` strings; `prev_hash` and `hash` strings, null or absent; `meta`
/// any JSON value, `{}` when absent.
pub fn parse_line(line: &str) -> Result<Row, RowError> {
    let value: Value =
        crate::py::json::loads(line).map_err(|e| RowError(format!("not JSON: {e}")))?;
    let Value::Object(mut obj) = value else {
        return Err(RowError("not a JSON object".to_string()));
    };
    let id = match obj.get("id") {
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|&id| id >= 1)
            .ok_or_else(|| RowError(format!("id: {n} is not an integer >= 1")))?,
        Some(other) => return Err(RowError(format!("id: {other} is not an integer"))),
        None => return Err(RowError("id: missing".to_string())),
    };
    Ok(Row {
        id,
        ts: string_field(&mut obj, "ts", true)?.unwrap_or_default(),
        kind: string_field(&mut obj, "kind", true)?.unwrap_or_default(),
        content: string_field(&mut obj, "content", true)?.unwrap_or_default(),
        meta: Meta::Json(
            obj.remove("meta")
                .unwrap_or_else(|| Value::Object(Map::new())),
        ),
        prev_hash: string_field(&mut obj, "prev_hash", false)?,
        hash: string_field(&mut obj, "hash", false)?,
    })
}

/// A string field; `required` ones must be present and not null.
fn string_field(
    obj: &mut Map<String, Value>,
    key: &str,
    required: bool,
) -> Result<Option<String>, RowError> {
    match obj.remove(key) {
        Some(Value::String(s)) => Ok(Some(s)),
        None | Some(Value::Null) if !required => Ok(None),
        None => Err(RowError(format!("{key}: missing"))),
        Some(other) => Err(RowError(format!("{key}: expected a string, got {other}"))),
    }
}

pub(super) fn count_rows(path: &Path) -> Result<u64, Error> {
    let reader = BufReader::new(File::open(path).map_err(io_error(path))?);
    let mut n = 0;
    for line in reader.split(b'\n') {
        let line = line.map_err(io_error(path))?;
        if !line.iter().all(u8::is_ascii_whitespace) {
            n += 1;
        }
    }
    Ok(n)
}

pub(super) fn for_each_row<T, E: From<Error>>(
    path: &Path,
    mut convert: impl FnMut(Row) -> Result<T, RowError>,
    mut f: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E> {
    let reader = BufReader::new(File::open(path).map_err(io_error(path))?);
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(io_error(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let row = parse_line(&line)
            .and_then(&mut convert)
            .map_err(|reason| Error::Line {
                path: path.to_path_buf(),
                line: index as u64 + 1,
                reason,
            })?;
        f(row)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{collect, temp_dir};
    use super::super::{count_rows, detect, Format};
    use super::*;

    #[test]
    fn reads_json_lines_skipping_blank_lines() {
        let dir = temp_dir("jsonl");
        let path = dir.join("events.jsonl");
        std::fs::write(
            &path,
            "{\"id\": 1, \"ts\": \"t\", \"kind\": \"user\", \"content\": \"a\", \"meta\": {}, \"prev_hash\": null, \"hash\": \"h1\"}\n\n\
             {\"id\": 2, \"ts\": \"t\", \"kind\": \"user\", \"content\": \"b\", \"meta\": {\"x\": 1}, \"prev_hash\": \"h1\", \"hash\": \"h2\"}\n",
        )
        .unwrap();
        assert_eq!(detect(&path).unwrap(), Format::JsonLines);
        assert_eq!(count_rows(&path, Format::JsonLines).unwrap(), 2);
        let rows = collect(&path);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].meta, Meta::Json(serde_json::json!({"x": 1})));
        assert_eq!(rows[1].prev_hash.as_deref(), Some("h1"));
        std::fs::write(&path, "{\"id\": 1}\nnope\n").unwrap();
        let err = super::super::for_each_row::<_, Error>(&path, Format::JsonLines, Ok, |_| Ok(()))
            .unwrap_err();
        assert!(
            err.to_string().contains("events.jsonl:1: ts: missing"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fields_and_defaults() {
        let row = parse_line(r#"{"id": 3, "ts": "t", "kind": "k", "content": "", "hash": null}"#)
            .unwrap();
        assert_eq!(row.meta, Meta::Json(serde_json::json!({})));
        assert_eq!((row.prev_hash, row.hash), (None, None));
        let row = parse_line(r#"{"id": 3, "ts": "t", "kind": "k", "content": "", "meta": null}"#)
            .unwrap();
        assert_eq!(row.meta, Meta::Json(Value::Null), "null is kept");
    }

    #[test]
    fn bad_lines_say_which_field() {
        let err = |l: &str| parse_line(l).unwrap_err().0;
        assert!(err("[1]").contains("not a JSON object"));
        assert!(err("{oops").starts_with("not JSON"));
        assert_eq!(err(r#"{"ts": "t"}"#), "id: missing");
        assert!(err(r#"{"id": 0}"#).starts_with("id: 0"));
        assert!(err(r#"{"id": 1.5}"#).starts_with("id: 1.5"));
        assert!(err(r#"{"id": "1"}"#).starts_with(r#"id: "1" is not an integer"#));
        assert_eq!(
            err(r#"{"id": 1, "ts": "t", "kind": "k", "meta": {}}"#),
            "content: missing"
        );
        assert!(err(r#"{"id": 1, "ts": 5, "kind": "k", "content": ""}"#)
            .starts_with("ts: expected a string"));
        assert!(err(r#"{"id": 1, "ts": "t", "kind": null, "content": ""}"#)
            .starts_with("kind: expected a string, got null"));
        assert!(
            err(r#"{"id": 1, "ts": "t", "kind": "k", "content": "", "hash": 7}"#)
                .starts_with("hash: expected a string")
        );
    }
}
