//! The `pmm` command line against a real server on 127.0.0.1:0: append,
//! read, context, tail, and import → export → import of every fixture ledger
//! with identical rows and hashes.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

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
}

/// TLS certificates made for a test: the CA, the server's, a client's.
fn pki(dir: &Path) -> pmm_server::test_certs::TestPkiFiles {
    pmm_server::test_certs::TestCa::new("cli test CA")
        .expect("CA")
        .write(dir)
        .expect("certificates")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

#[tokio::test]
async fn tls_and_mutual_tls_through_the_cli() {
    use pmm_server::tls::Pem;
    let certs = tempfile::tempdir().expect("dir");
    let files = pki(certs.path());
    let mut s = Server::start_with(|c| {
        c.tls_cert = Some(Pem::File(files.server_cert.clone()));
        c.tls_key = Some(Pem::File(files.server_key.clone()));
        c.tls_client_ca = Some(Pem::File(files.ca.clone()));
    })
    .await;
    s.flags = ["--ca", path(&files.ca), "--cert", path(&files.client_cert)]
        .map(str::to_string)
        .to_vec();
    s.flags
        .extend(["--key".to_string(), path(&files.client_key).to_string()]);
    s.ok(&["append", "user", "over mutual TLS"]).await;
    let read = s.ok(&["read"]).await;
    assert!(read.contains("over mutual TLS"), "{read}");

    // Without a client certificate, or trusting another CA: a clean failure.
    s.flags.truncate(2);
    let refused = s.pmm(&["head"]).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).starts_with("pmm: "));
    let other = tempfile::tempdir().expect("dir");
    let stranger = pki(other.path());
    s.flags = vec!["--ca".to_string(), path(&stranger.ca).to_string()];
    let untrusted = s.pmm(&["head"]).await;
    assert_eq!(untrusted.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&untrusted.stderr);
    assert!(stderr.contains("certificate"), "{stderr}");
    s.stop().await;
}

#[tokio::test]
async fn tokens_through_the_cli_never_echoed() {
    let dir = tempfile::tempdir().expect("dir");
    let tokens = dir.path().join("tokens");
    let new = |name: &str, role: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_pmm"))
            .args(["--json", "token", "new", name, "--role", role])
            .output()
            .expect("pmm token new");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let token = v["token"].as_str().expect("token").to_string();
        assert!(token.len() >= 32, "at least 128 bits: {token}");
        let line = v["line"].as_str().expect("line").to_string();
        assert_eq!(
            line,
            pmm::token::file_line(name, role.parse().expect("role"), &token)
        );
        assert!(
            !line.contains(&token),
            "the file holds the digest, not the token"
        );
        (token, line)
    };
    let (writer, writer_line) = new("ci", "writer");
    let (reader, reader_line) = new("dashboard", "reader");
    std::fs::write(&tokens, format!("{writer_line}\n{reader_line}\n")).expect("tokens");
    let s = Server::start_with(|c| c.tokens = Some(tokens.clone())).await;

    let missing = s.pmm(&["head"]).await;
    assert_eq!(missing.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("UNAUTHENTICATED: missing authorization: Bearer token"),
        "{stderr}"
    );
    assert!(
        stderr.contains("PMM_TOKEN"),
        "says where a token goes: {stderr}"
    );

    let env = [("PMM_TOKEN", writer.as_str())];
    let out = s.pmm_env(&["append", "user", "with a token"], &env).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let denied = s
        .pmm(&["--token", &reader, "append", "user", "a reader may not"])
        .await;
    let stderr = String::from_utf8_lossy(&denied.stderr);
    assert!(
        stderr.contains(
            "PERMISSION_DENIED: this call needs role writer; token 'dashboard' has role reader"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains(&reader), "the token is never echoed");
    let read = s.ok(&["--token", &reader, "read"]).await;
    assert!(read.contains("with a token"), "{read}");
    let bad = s
        .pmm(&["token", "new", "two words", "--role", "admin"])
        .await;
    assert_eq!(bad.status.code(), Some(2));
    s.stop().await;
}
