//! Reading whole ledgers from files, one row at a time: an `events.jsonl`
//! (the fixtures' format) or a reference-made `pmm.db`, read by
//! [`pmm::ledger_file`]; here each row becomes an [`Event`] with its meta
//! parsed.

use std::path::Path;

use pmm::ledger_file::{self, Format, Meta, Row, RowError};

use crate::event::{Event, ParsedMeta};

pub use pmm::ledger_file::open_read_only;
/// Why a ledger file could not be read (it names the file, and the line or
/// row).
pub use pmm::ledger_file::Error as SourceError;

/// True when the file starts with the SQLite header.
pub fn is_sqlite(path: &Path) -> Result<bool, SourceError> {
    Ok(ledger_file::detect(path)? == Format::Sqlite)
}

/// Calls `f` with each row of a ledger file (JSON lines or SQLite), in file
/// order for JSON lines and id order for SQLite. Stops at the first error,
/// whether from reading or from `f`.
pub fn for_each_event<E: From<SourceError>>(
    path: &Path,
    f: impl FnMut(Event) -> Result<(), E>,
) -> Result<(), E> {
    let format = ledger_file::detect(path)?;
    ledger_file::for_each_row(path, format, event_from_row, f)
}

/// Calls `f` with each row of a SQLite ledger (SPEC §1 schema) in id order,
/// streaming (the ledger is never held in memory).
pub fn for_each_db_event<E: From<SourceError>>(
    path: &Path,
    f: impl FnMut(Event) -> Result<(), E>,
) -> Result<(), E> {
    ledger_file::for_each_row(path, Format::Sqlite, event_from_row, f)
}

/// The event of a row, its meta parsed (a database holds it as text).
pub fn event_from_row(row: Row) -> Result<Event, RowError> {
    let (meta_text, meta) = match row.meta {
        Meta::Json(value) => (value.to_string(), value),
        Meta::Text(text) => {
            let value = pmm::py::json::loads(&text)
                .map_err(|e| RowError(format!("meta is not valid JSON: {e}")))?;
            (text, value)
        }
    };
    Ok(Event {
        id: row.id,
        ts: row.ts,
        kind: row.kind,
        content: row.content,
        meta_text,
        prev_hash: row.prev_hash,
        hash: row.hash,
        parsed: ParsedMeta::given(meta),
    })
}
