//! Shared helpers for the conformance tests: where the fixtures are, how
//! ledgers are read, and how JSON values are compared the fixtures' way.
#![allow(dead_code)]

pub mod security;
pub mod server;
pub mod snapshot;

use std::path::{Path, PathBuf};

use pmm::py;
use pmm_server::event::Event;
use pmm_server::source::{self, SourceError};
use serde_json::Value;

/// The fixture root: `PMM_FIXTURES`, else `../shared/fixtures`.
pub fn fixtures_root() -> PathBuf {
    match std::env::var_os("PMM_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"),
    }
}

/// Every case folder (one holding `expected.json`), sorted by name.
pub fn fixture_cases() -> Vec<PathBuf> {
    let root = fixtures_root();
    let entries = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot read fixture root {}: {e}", root.display()));
    let mut cases: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    cases.sort();
    assert!(
        !cases.is_empty(),
        "no fixture cases under {}",
        root.display()
    );
    cases
}

/// All rows of a ledger file, in id order.
pub fn load_events(path: &Path) -> Vec<Event> {
    let mut events = Vec::new();
    source::for_each_event(path, |ev| {
        events.push(ev);
        Ok::<(), SourceError>(())
    })
    .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    events.sort_by_key(|ev| ev.id);
    events
}

/// The ledger sources of a case: `events.jsonl`, and `pmm.db` when present.
pub fn case_sources(case: &Path) -> Vec<PathBuf> {
    ["events.jsonl", "pmm.db"]
        .iter()
        .map(|name| case.join(name))
        .filter(|p| p.is_file())
        .collect()
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn is_float(n: &serde_json::Number) -> bool {
    !py::number_is_int(n)
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 160 {
        format!("{}...", s.chars().take(157).collect::<String>())
    } else {
        s
    }
}

/// `None` if the two values are equal the fixtures' way (strings exact,
/// floats bit for bit, `1` ≠ `1.0`, objects as unordered maps), else where
/// they first differ.
pub fn first_difference(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    let mismatch = || {
        Some(format!(
            "{path}: expected {}, got {}",
            show(expected),
            show(actual)
        ))
    };
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let missing: Vec<_> = e.keys().filter(|k| !a.contains_key(*k)).collect();
            let extra: Vec<_> = a.keys().filter(|k| !e.contains_key(*k)).collect();
            if !missing.is_empty() || !extra.is_empty() {
                return Some(format!(
                    "{path}: keys differ (missing {missing:?}, unexpected {extra:?})"
                ));
            }
            e.iter()
                .find_map(|(k, ev)| first_difference(ev, &a[k], &format!("{path}.{k}")))
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Some(format!(
                    "{path}: length {} expected, got {}",
                    e.len(),
                    a.len()
                ));
            }
            e.iter()
                .zip(a)
                .enumerate()
                .find_map(|(i, (ev, av))| first_difference(ev, av, &format!("{path}[{i}]")))
        }
        (Value::Number(e), Value::Number(a)) => {
            if is_float(e) != is_float(a) {
                return mismatch();
            }
            let same = if is_float(e) {
                py::number_to_f64(e).to_bits() == py::number_to_f64(a).to_bits()
            } else {
                e.to_string() == a.to_string()
            };
            if same {
                None
            } else {
                mismatch()
            }
        }
        _ if expected == actual => None,
        _ => mismatch(),
    }
}

/// Compares every field of an expected outputs object, returning all
/// differences (one per differing field).
pub fn diff_outputs(expected: &Value, actual: &Value, label: &str) -> Vec<String> {
    let (Some(e), Some(a)) = (expected.as_object(), actual.as_object()) else {
        return vec![format!("{label}: outputs are not objects")];
    };
    let mut diffs: Vec<String> = e
        .iter()
        .filter_map(|(k, ev)| match a.get(k) {
            Some(av) => first_difference(ev, av, k),
            None => Some(format!("{k}: missing")),
        })
        .map(|d| format!("{label}: {d}"))
        .collect();
    let extra: Vec<_> = a.keys().filter(|k| !e.contains_key(*k)).collect();
    if !extra.is_empty() {
        diffs.push(format!("{label}: unexpected keys {extra:?}"));
    }
    diffs
}
