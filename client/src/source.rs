//! Reading the rows of a ledger file, streaming: a JSON-lines file (the
//! fixtures' `events.jsonl` format, see [`crate::jsonl`]) or a reference-made
//! SQLite `pmm.db`, read by [`pmm::ledger_file`]; here each row becomes a
//! wire row ([`v1::Event`]) with meta as JSON text.

use std::path::Path;

use pmm::ledger_file::{self, Meta, Row, RowError};
use pmm::py::json::{self, Options};
use pmm::v1;
use serde_json::Value;

pub use pmm::ledger_file::open_read_only as open_sqlite;
/// Why a ledger file could not be read (it names the file, and the line or
/// row).
pub use pmm::ledger_file::Error as SourceError;
pub use pmm::ledger_file::{count_rows, detect, Format, SQLITE_HEADER};

/// Calls `f` with each row of the file: in file order for JSON lines, in id
/// order for SQLite. Never holds the ledger in memory. Stops at the first
/// error, from reading or from `f`.
pub fn for_each_row<E: From<SourceError>>(
    path: &Path,
    format: Format,
    f: impl FnMut(v1::Event) -> Result<(), E>,
) -> Result<(), E> {
    ledger_file::for_each_row(path, format, wire_row, f)
}

/// The wire row of a file's row. A database's meta text is kept verbatim; a
/// JSON line's meta object is stored in the reference's text form
/// (`json.dumps` defaults), a string is taken as the meta text itself, and
/// null stands for `{}`.
pub fn wire_row(row: Row) -> Result<v1::Event, RowError> {
    let id = u64::try_from(row.id).map_err(|_| RowError(format!("id: {} is negative", row.id)))?;
    let meta = match row.meta {
        Meta::Text(text) | Meta::Json(Value::String(text)) => text,
        Meta::Json(Value::Object(map)) => json::dumps(&Value::Object(map), Options::DEFAULT)
            .map_err(|e| RowError(format!("meta: {e}")))?,
        Meta::Json(Value::Null) => "{}".to_string(),
        Meta::Json(other) => {
            return Err(RowError(format!(
                "meta: expected a JSON object, got {other}"
            )))
        }
    };
    Ok(v1::Event {
        id,
        ts: row.ts,
        kind: row.kind,
        content: row.content,
        meta,
        prev_hash: row.prev_hash,
        hash: row.hash.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(meta: Meta) -> Row {
        Row {
            id: 2,
            ts: "t".into(),
            kind: "user".into(),
            content: "b".into(),
            meta,
            prev_hash: Some("h1".into()),
            hash: None,
        }
    }

    #[test]
    fn rows_become_wire_rows() {
        let wire = wire_row(row(Meta::Text("{\"a\":  1}".into()))).unwrap();
        assert_eq!(wire.meta, "{\"a\":  1}", "meta text is kept verbatim");
        assert_eq!((wire.id, wire.prev_hash.as_deref()), (2, Some("h1")));
        assert_eq!(wire.hash, "");
        let meta = |m| wire_row(row(Meta::Json(m))).map(|w| w.meta);
        assert_eq!(
            meta(json!({"x": 1, "é": [true]})).unwrap(),
            r#"{"x": 1, "\u00e9": [true]}"#
        );
        assert_eq!(meta(json!("{\n\"a\": 1}")).unwrap(), "{\n\"a\": 1}");
        assert_eq!(meta(Value::Null).unwrap(), "{}");
        assert!(meta(json!([1]))
            .unwrap_err()
            .0
            .starts_with("meta: expected"));
        let negative = Row {
            id: -1,
            ..row(Meta::Text("{}".into()))
        };
        assert_eq!(wire_row(negative).unwrap_err().0, "id: -1 is negative");
    }
}
