//! Arbitrary stored rows, as a damaged or foreign `pmm.db` may hold them:
//! every column NULL, an integer, a real, text (valid UTF-8 or not) or a
//! blob; metas that are JSON (with NaN/Infinity), a fixture's meta, or
//! anything; hashes and links right or wrong. They are written into an
//! in-memory SQLite table of the reference's columns (without NOT NULL, and
//! with or without the column types), read back with `ROW_COLUMNS` through
//! `store::event_from_sql`, folded with `rules::State` and verified with
//! `chain::ChainVerifier`.
//!
//! Asserts, besides that nothing panics:
//! - every row reads back (`event_from_sql` never fails on a column's
//!   value); a row is unreadable (`Event::parsed_meta()` is Err, naming each
//!   faulty column) exactly when a text column is not UTF-8 text (or is
//!   NULL, for ts/kind/content/meta) or its meta is not JSON to Python; a
//!   readable row's texts are the stored ones;
//! - the fold's chain status equals `verify_chain` over the same rows, which
//!   stops at the first unreadable row at the latest; a chain of readable
//!   rows each linked to the previous and carrying its own hash verifies;
//! - the fold's outputs (self-model, metrics, directives, context blocks)
//!   are computed or refused with an error, never a panic.
#![no_main]

use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pmm_server::chain::{hash_of, verify_chain, ChainFaultReason};
use pmm_server::event::Event;
use pmm_server::rules::State;
use pmm_server::store::{event_from_sql, ROW_COLUMNS};
use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::Connection;

/// Most rows per input: one small table each, to keep runs fast.
const MAX_ROWS: usize = 12;

#[derive(Arbitrary, Debug)]
struct Input {
    /// Columns declared TEXT (SQLite turns numbers into text) or untyped
    /// (values kept as given).
    typed: bool,
    rows: Vec<RowSpec>,
}

#[derive(Arbitrary, Debug)]
struct RowSpec {
    id: IdSpec,
    ts: Cell,
    kind: KindCell,
    content: Cell,
    meta: MetaCell,
    prev_hash: LinkCell,
    hash: HashCell,
}

#[derive(Arbitrary, Debug)]
enum IdSpec {
    Next,
    Gap(u16),
    Raw(i64),
}

/// A column's value.
#[derive(Arbitrary, Debug, Clone)]
enum Cell {
    Text(String),
    Null,
    Integer(i64),
    Real(f64),
    /// Text whose bytes need not be UTF-8.
    RawText(Vec<u8>),
    Blob(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum KindCell {
    Known(u8),
    Any(Cell),
}

#[derive(Arbitrary, Debug)]
enum MetaCell {
    /// A meta of the fixtures (its kind's, when the kind is known).
    Sample(u8),
    Json(Json),
    Any(Cell),
}

#[derive(Arbitrary, Debug)]
enum LinkCell {
    /// The previous row's stored hash (NULL for the first row).
    Chained,
    Any(Cell),
}

#[derive(Arbitrary, Debug)]
enum HashCell {
    /// The hash of the row as read back, when it can be computed.
    Computed,
    Any(Cell),
}

/// A JSON value, written as Python's `json` would (NaN and Infinity too).
#[derive(Arbitrary, Debug)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Word),
    Array(Vec<Json>),
    Object(Vec<(Word, Json)>),
}

/// A key or string: one the rules read, or any.
#[derive(Arbitrary, Debug)]
enum Word {
    Known(u8),
    Any(String),
}

const KINDS: &[&str] = &[
    "user",
    "response",
    "reflection",
    "autonomy_tick",
    "commitment_open",
    "commitment_close",
    "commitment_expire",
    "commitment_snooze",
    "trait_update",
    "identity_adopt",
    "identity_change",
    "identity_clear",
    "identity_propose",
    "invariant_violation",
    "evidence_candidate",
    "name_updated",
    "metrics_update",
    "stage_update",
    "embedding_indexed",
];

const WORDS: &[&str] = &[
    "cid",
    "code",
    "confidence",
    "delta",
    "details",
    "evidence_type",
    "name",
    "origin_eid",
    "reason",
    "source",
    "telemetry",
    "trait",
    "until_tick",
    "IAS",
    "GAS",
    "text",
    "openness",
    "conscientiousness",
    "extraversion",
    "agreeableness",
    "neuroticism",
    "stage",
    "tick",
    "S0",
    "S4",
    "",
];

/// The fixtures' (kind, meta text) samples.
fn samples() -> &'static Vec<(String, String)> {
    static SAMPLES: OnceLock<Vec<(String, String)>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        include_str!("../samples.jsonl")
            .lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).expect("a sample");
                (
                    v["kind"].as_str().unwrap_or_default().to_string(),
                    v["meta"].to_string(),
                )
            })
            .collect()
    })
}

fn word(w: &Word) -> &str {
    match w {
        Word::Known(i) => WORDS[usize::from(*i) % WORDS.len()],
        Word::Any(s) => s,
    }
}

fn write_json(j: &Json, out: &mut String) {
    match j {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Int(n) => out.push_str(&n.to_string()),
        Json::Float(x) if x.is_nan() => out.push_str("NaN"),
        Json::Float(x) if x.is_infinite() => {
            out.push_str(if *x > 0.0 { "Infinity" } else { "-Infinity" })
        }
        Json::Float(x) => out.push_str(&pmm::py::float_repr(*x)),
        Json::Str(w) => pmm::py::json::write_str(word(w), false, out),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Json::Object(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                pmm::py::json::write_str(word(k), false, out);
                out.push_str(": ");
                write_json(v, out);
            }
            out.push('}');
        }
    }
}

/// A value to bind, and whether it is bound as text from raw bytes.
fn bind(cell: &Cell) -> (Sql, bool) {
    match cell {
        Cell::Text(s) => (Sql::Text(s.clone()), false),
        Cell::Null => (Sql::Null, false),
        Cell::Integer(n) => (Sql::Integer(*n), false),
        Cell::Real(x) => (Sql::Real(*x), false),
        Cell::RawText(b) => (Sql::Blob(b.clone()), true),
        Cell::Blob(b) => (Sql::Blob(b.clone()), false),
    }
}

fn text(s: &str) -> (Sql, bool) {
    (Sql::Text(s.to_string()), false)
}

/// A column as stored (text as its bytes, which need not be UTF-8).
#[derive(Clone, Debug, PartialEq)]
enum Stored {
    Null,
    Integer(i64),
    Real(f64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

impl Stored {
    fn of(v: ValueRef<'_>) -> Stored {
        match v {
            ValueRef::Null => Stored::Null,
            ValueRef::Integer(n) => Stored::Integer(n),
            ValueRef::Real(x) => Stored::Real(x),
            ValueRef::Text(b) => Stored::Text(b.to_vec()),
            ValueRef::Blob(b) => Stored::Blob(b.to_vec()),
        }
    }

    /// The same value, to bind again.
    fn bind(&self) -> (Sql, bool) {
        match self {
            Stored::Null => (Sql::Null, false),
            Stored::Integer(n) => (Sql::Integer(*n), false),
            Stored::Real(x) => (Sql::Real(*x), false),
            Stored::Text(b) => (Sql::Blob(b.clone()), true),
            Stored::Blob(b) => (Sql::Blob(b.clone()), false),
        }
    }

    /// The text, if it is UTF-8 text.
    fn utf8(&self) -> Option<String> {
        match self {
            Stored::Text(b) => String::from_utf8(b.clone()).ok(),
            _ => None,
        }
    }

    /// Whether a column of this value is not what the schema says.
    fn faulty(&self, nullable: bool) -> bool {
        match self {
            Stored::Text(b) => std::str::from_utf8(b).is_err(),
            Stored::Null => !nullable,
            Stored::Integer(_) | Stored::Real(_) | Stored::Blob(_) => true,
        }
    }
}

/// Rows (all, or the one with `id`) read through `event_from_sql`, with
/// their columns as stored.
fn select(conn: &Connection, id: Option<i64>) -> Vec<(Event, [Stored; 7])> {
    let filter = if id.is_some() {
        "WHERE id = ?1"
    } else {
        "WHERE ?1 IS NULL"
    };
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {ROW_COLUMNS} FROM events {filter} ORDER BY id"
        ))
        .expect("select");
    let mut rows = stmt.query([id]).expect("query");
    let mut out = Vec::new();
    while let Some(row) = rows.next().expect("step") {
        let ev = event_from_sql(row).expect("every row reads back");
        let raw = std::array::from_fn(|i| Stored::of(row.get_ref(i).expect("column")));
        out.push((ev, raw));
    }
    out
}

fn build(input: &Input) -> Option<Connection> {
    let conn = Connection::open_in_memory().ok()?;
    let columns = if input.typed {
        "id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT, kind TEXT, content TEXT, meta TEXT, prev_hash TEXT, hash TEXT"
    } else {
        "id INTEGER PRIMARY KEY, ts, kind, content, meta, prev_hash, hash"
    };
    conn.execute_batch(&format!("CREATE TABLE events ({columns})"))
        .expect("create");
    // Ids first, then the rows in id order, so that links follow the chain.
    let mut last = 0i64;
    let mut specs: Vec<(i64, &RowSpec)> = Vec::new();
    for spec in input.rows.iter().take(MAX_ROWS) {
        let id = match spec.id {
            IdSpec::Next => last.checked_add(1)?,
            IdSpec::Gap(g) => last.checked_add(1 + i64::from(g))?,
            IdSpec::Raw(id) => id,
        };
        if specs.iter().all(|(other, _)| *other != id) {
            specs.push((id, spec));
        }
        last = id;
    }
    specs.sort_by_key(|(id, _)| *id);
    let mut prev_stored = Stored::Null;
    for (id, spec) in specs {
        let kind = match &spec.kind {
            KindCell::Known(i) => text(KINDS[usize::from(*i) % KINDS.len()]),
            KindCell::Any(c) => bind(c),
        };
        let meta = match &spec.meta {
            MetaCell::Sample(i) => {
                let all = samples();
                let own: Vec<&(String, String)> = match &kind.0 {
                    Sql::Text(k) => all.iter().filter(|(sk, _)| sk == k).collect(),
                    _ => Vec::new(),
                };
                let pick = if own.is_empty() {
                    &all[usize::from(*i) % all.len()]
                } else {
                    own[usize::from(*i) % own.len()]
                };
                text(&pick.1)
            }
            MetaCell::Json(j) => {
                let mut out = String::new();
                write_json(j, &mut out);
                (Sql::Text(out), false)
            }
            MetaCell::Any(c) => bind(c),
        };
        let prev = match &spec.prev_hash {
            LinkCell::Chained => prev_stored.bind(),
            LinkCell::Any(c) => bind(c),
        };
        let hash = match &spec.hash {
            HashCell::Computed => (Sql::Null, false),
            HashCell::Any(c) => bind(c),
        };
        let values = [(Sql::Integer(id), false), bind(&spec.ts), kind, bind(&spec.content), meta, prev, hash];
        let placeholders: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, (_, raw))| match raw {
                true => format!("CAST(?{} AS TEXT)", i + 1),
                false => format!("?{}", i + 1),
            })
            .collect();
        let params: Vec<Sql> = values.into_iter().map(|(v, _)| v).collect();
        conn.execute(
            &format!("INSERT INTO events VALUES ({})", placeholders.join(", ")),
            rusqlite::params_from_iter(params),
        )
        .expect("insert");
        if matches!(spec.hash, HashCell::Computed) {
            let (ev, _) = select(&conn, Some(id)).pop().expect("the row just written");
            if ev.parsed_meta().is_ok() {
                if let Ok(h) = hash_of(&ev) {
                    conn.execute("UPDATE events SET hash = ?1 WHERE id = ?2", rusqlite::params![h, id])
                        .expect("update");
                }
            }
        }
        prev_stored = conn
            .query_row("SELECT hash FROM events WHERE id = ?1", [id], |r| {
                Ok(Stored::of(r.get_ref(0)?))
            })
            .expect("the row's hash");
    }
    Some(conn)
}

fuzz_target!(|input: Input| {
    let Some(conn) = build(&input) else {
        return;
    };
    const NAMES: [&str; 7] = ["id", "ts", "kind", "content", "meta", "prev_hash", "hash"];
    let mut events = Vec::new();
    for (ev, raw) in select(&conn, None) {
        let faulty: Vec<&str> = (1..7)
            .filter(|&i| raw[i].faulty(i >= 5))
            .map(|i| NAMES[i])
            .collect();
        match ev.parsed_meta() {
            Ok(_) => {
                assert!(
                    faulty.is_empty(),
                    "row {} read although {faulty:?} are faulty",
                    ev.id
                );
                assert_eq!(Some(&ev.ts), raw[1].utf8().as_ref());
                assert_eq!(Some(&ev.kind), raw[2].utf8().as_ref());
                assert_eq!(Some(&ev.content), raw[3].utf8().as_ref());
                assert_eq!(Some(&ev.meta_text), raw[4].utf8().as_ref());
                assert_eq!(ev.prev_hash, raw[5].utf8());
                assert_eq!(ev.hash, raw[6].utf8());
                assert!(pmm::py::json::loads(&ev.meta_text).is_ok());
            }
            Err(why) => {
                if faulty.is_empty() {
                    assert!(
                        pmm::py::json::loads(&ev.meta_text).is_err(),
                        "row {} unreadable ({why}) though every column is fine",
                        ev.id
                    );
                }
                for name in &faulty {
                    assert!(why.0.contains(name), "{why} does not name {name}");
                }
            }
        }
        events.push(Arc::new(ev));
    }

    let mut state = State::default();
    for ev in &events {
        state.apply_shared(Arc::clone(ev));
    }
    let verified = verify_chain(events.iter().map(|e| &**e));
    assert_eq!(state.chain.fault(), verified.as_ref().err());
    match &verified {
        Ok(n) => {
            assert_eq!(*n as usize, events.len());
            assert!(events.iter().all(|e| e.parsed_meta().is_ok()));
        }
        Err(fault) => {
            let at = events.iter().position(|e| e.id == fault.id).expect("a row");
            if let Some(first_bad) = events.iter().position(|e| e.parsed_meta().is_err()) {
                assert!(at <= first_bad, "verification passed the unreadable row");
                if at == first_bad {
                    assert!(matches!(fault.reason, ChainFaultReason::Unreadable(_)));
                }
            }
            let well_formed = input.rows.len() <= MAX_ROWS
                && input.rows.iter().all(|r| {
                    matches!(r.prev_hash, LinkCell::Chained) && matches!(r.hash, HashCell::Computed)
                })
                && events.iter().all(|e| e.parsed_meta().is_ok() && e.hash.is_some());
            assert!(!well_formed, "a chain built right does not verify: {fault}");
        }
    }
    assert_eq!(state.event_count() as usize, events.len());
    let _ = state.outputs();
});
