//! The JSON-lines format against the fixtures: every reference `pmm.db`
//! exports byte for byte as its `events.jsonl`, and every `events.jsonl`
//! line reads back as the row the reference stored (meta text included,
//! except where `chain_meta_reformatted` rewrote it).
//!
//! Fixture root: `PMM_FIXTURES`, default `../shared/fixtures` from the
//! workspace root.

use std::fs;
use std::path::{Path, PathBuf};

use pmm_client::jsonl;
use pmm_client::source::{self, Format, SourceError};
use pmm_client::v1;

fn fixture_root() -> PathBuf {
    match std::env::var_os("PMM_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
    }
}

/// Case directories holding both files; fails when there are none.
fn cases() -> Vec<PathBuf> {
    let root = fixture_root();
    let entries = fs::read_dir(&root).unwrap_or_else(|e| {
        panic!(
            "cannot read fixture root {}: {e} (fixtures are expected in $PMM_FIXTURES, \
             else in ../shared/fixtures from the workspace root)",
            root.display()
        )
    });
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("pmm.db").exists() && p.join("events.jsonl").exists())
        .collect();
    dirs.sort();
    assert!(
        !dirs.is_empty(),
        "no fixture case with pmm.db and events.jsonl under {} (fixtures are expected in \
         $PMM_FIXTURES, else in ../shared/fixtures from the workspace root)",
        root.display()
    );
    dirs
}

fn rows(path: &Path) -> Vec<v1::Event> {
    let format = source::detect(path).unwrap();
    let mut out = Vec::new();
    source::for_each_row::<SourceError>(path, format, |r| {
        out.push(r);
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn databases_export_as_their_events_jsonl() {
    for case in cases() {
        let db = case.join("pmm.db");
        assert_eq!(source::detect(&db).unwrap(), Format::Sqlite);
        let mut exported = String::new();
        for row in rows(&db) {
            exported.push_str(&jsonl::format_row(&row));
            exported.push('\n');
        }
        let expected = fs::read_to_string(case.join("events.jsonl")).unwrap();
        assert!(
            exported == expected,
            "{}: export differs from events.jsonl",
            case.display()
        );
    }
}

#[test]
fn events_jsonl_reads_back_as_the_stored_rows() {
    for case in cases() {
        let from_db = rows(&case.join("pmm.db"));
        let jsonl_path = case.join("events.jsonl");
        let from_jsonl = rows(&jsonl_path);
        assert_eq!(
            source::count_rows(&jsonl_path, Format::JsonLines).unwrap(),
            from_jsonl.len() as u64
        );
        assert_eq!(from_db.len(), from_jsonl.len(), "{}", case.display());
        let reformatted = case.ends_with("chain_meta_reformatted");
        for (a, b) in from_db.iter().zip(&from_jsonl) {
            if reformatted {
                let a_meta: serde_json::Value = serde_json::from_str(&a.meta).unwrap();
                let b_meta: serde_json::Value = serde_json::from_str(&b.meta).unwrap();
                assert_eq!(a_meta, b_meta);
                let a = v1::Event {
                    meta: String::new(),
                    ..a.clone()
                };
                let b = v1::Event {
                    meta: String::new(),
                    ..b.clone()
                };
                assert_eq!(a, b);
            } else {
                assert_eq!(a, b, "{} row {}", case.display(), a.id);
            }
        }
    }
}
