//! The `pmm` command line against a real server on 127.0.0.1:0: append,
//! read, context, tail, and import → export → import of every fixture ledger
//! with identical rows and hashes.

mod common;

use std::path::{Path, PathBuf};

use common::{fixtures_root, Server};

/// The `hash` of every row of a JSON-lines ledger.
fn hashes(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("read export")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let row: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            row["hash"].as_str().expect("hash").to_string()
        })
        .collect()
}

#[tokio::test]
async fn append_read_context_and_tail() {
    let s = Server::start().await;
    let appended = s
        .ok(&[
            "--json",
            "append",
            "identity_adopt",
            "Echo",
            "--meta",
            r#"{"confidence": 0.95}"#,
        ])
        .await;
    assert!(appended.contains("\"id\""), "{appended}");
    s.ok(&["append", "reflection", "my name is Echo, a stable identity"])
        .await;
    let read = s.ok(&["read"]).await;
    assert!(
        read.contains("identity_adopt") && read.contains("reflection"),
        "{read}"
    );
    let context = s.ok(&["context"]).await;
    assert!(context.contains("Identity: Echo"), "{context}");
    assert!(
        context.contains("my name is Echo, a stable identity"),
        "{context}"
    );
    let tail = s.ok(&["tail", "-n", "1"]).await;
    assert!(
        tail.contains("reflection") && !tail.contains("identity_adopt"),
        "{tail}"
    );
    // A conflict exits 3, bad input 2.
    let conflict = s
        .pmm(&["append", "user", "x", "--expect-last-id", "0"])
        .await;
    assert_eq!(
        conflict.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&conflict.stderr)
    );
    let bad = s.pmm(&["append", "user", "x", "--meta", "[1]"]).await;
    assert_eq!(
        bad.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    assert!(String::from_utf8_lossy(&bad.stderr).starts_with("pmm: "));
    s.stop().await;
}

#[tokio::test]
async fn import_export_import_of_every_fixture_keeps_every_hash() {
    let root = fixtures_root();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("events.jsonl").is_file())
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    let work = tempfile::tempdir().expect("temp dir");
    for case in cases {
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let expected: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(case.join("expected.json")).expect("expected"),
        )
        .expect("JSON");
        let verbatim = expected["final"]["chain_ok"] == serde_json::json!(false);
        let original = hashes(&case.join("events.jsonl"));
        for source in ["events.jsonl", "pmm.db"] {
            let path = case.join(source);
            if !path.is_file() {
                continue;
            }
            let first = Server::start().await;
            let mut import: Vec<&str> = vec!["import", path.to_str().expect("path")];
            if verbatim {
                import.push("--verbatim");
            }
            first.ok(&import).await;
            let a = work.path().join(format!("{name}-{source}-a.jsonl"));
            first.ok(&["export", a.to_str().expect("path")]).await;
            first.stop().await;

            let second = Server::start().await;
            let mut again: Vec<&str> = vec!["import", a.to_str().expect("path")];
            if verbatim {
                again.push("--verbatim");
            }
            second.ok(&again).await;
            let b = work.path().join(format!("{name}-{source}-b.jsonl"));
            second.ok(&["export", b.to_str().expect("path")]).await;
            second.stop().await;

            assert_eq!(
                hashes(&a),
                original,
                "{name} from {source}: first import keeps every hash"
            );
            assert_eq!(
                std::fs::read(&a).expect("a"),
                std::fs::read(&b).expect("b"),
                "{name} from {source}: export → import → export is byte-identical"
            );
        }
    }
}

/// Ledgers of 1 MB events read and export whole: the server cuts pages by
/// bytes and the CLI follows them (20 MB would not fit one 16 MiB message).
#[tokio::test]
async fn read_and_export_ledgers_of_large_events() {
    let s = Server::start().await;
    let client = pmm_client::Client::connect(&s.addr).await.expect("connect");
    for i in 0..20 {
        let content = format!("{i}{}", "y".repeat(1_000_000));
        client
            .append(pmm_client::NewEvent::new("user", &content))
            .await
            .expect("append 1 MB");
    }
    let read = s.ok(&["--json", "read"]).await;
    let ids: Vec<u64> = read
        .lines()
        .map(|l| {
            let row: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            row["id"].as_u64().expect("id")
        })
        .collect();
    assert_eq!(ids, (1..=20).collect::<Vec<u64>>());
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("export.jsonl");
    s.ok(&["export", file.to_str().expect("path")]).await;
    assert_eq!(hashes(&file).len(), 20);
    s.stop().await;
}
