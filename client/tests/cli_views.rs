//! The `pmm` views and tools through the real binary: identity,
//! directives, embed, `--as-of` on every view, `--json` on every command,
//! `context --breakdown`, `metrics --history` (chart, images, JSON equal to
//! `metrics --as-of` at each point) and shell completions.

mod common;

use common::{fixtures_root, Server};
use serde_json::Value;

async fn seed(s: &Server) {
    s.ok(&[
        "append",
        "identity_adopt",
        "Echo",
        "--meta",
        r#"{"confidence": 0.95}"#,
    ])
    .await;
    s.ok(&[
        "append",
        "reflection",
        "My name is Echo and I keep it stable.",
    ])
    .await;
    s.ok(&["append", "autonomy_directive", "Keep replies concise."])
        .await;
}

#[tokio::test]
async fn every_view_takes_as_of_and_every_command_json() {
    let s = Server::start().await;
    seed(&s).await;
    let identity = s.ok(&["identity"]).await;
    assert!(identity.starts_with("name    Echo\n"), "{identity}");
    assert_eq!(s.json(&["identity"]).await["identity"]["name"], "Echo");
    assert_eq!(
        s.json(&["identity", "--as-of", "0"]).await["identity"]["name"],
        Value::Null
    );
    let directives = s.ok(&["directives"]).await;
    assert!(directives.contains("Keep replies concise."), "{directives}");
    let d = s.json(&["directives", "--active"]).await;
    assert_eq!(d["active"][0]["content"], "Keep replies concise.");
    assert_eq!(d["directives"].as_array().map(Vec::len), Some(0));

    let embed = s.json(&["embed", "hello world"]).await;
    assert_eq!(embed["vector"].as_array().map(Vec::len), Some(32));
    let digest = embed["digest"].as_str().expect("digest");
    assert!(s
        .ok(&["embed", "hello world"])
        .await
        .starts_with(&format!("digest  {digest}\n")));

    // --as-of on every view.
    for view in [
        vec!["context"],
        vec!["metrics"],
        vec!["projection"],
        vec!["identity"],
        vec!["directives"],
        vec!["metrics", "--history"],
    ] {
        let mut args = view.clone();
        args.extend(["--as-of", "1"]);
        assert_eq!(s.json(&args).await["as_of_id"], 1, "{view:?}");
    }
    // --json on every command: one JSON value per line.
    for args in [
        vec!["head"],
        vec!["get", "1"],
        vec!["read"],
        vec!["tail", "-n", "2"],
        vec!["stats"],
        vec!["verify"],
        vec!["search", "Echo"],
        vec!["context", "--compact"],
        vec!["context", "--breakdown"],
        vec!["metrics", "--diagnosis"],
        vec!["metrics", "--history", "--points", "3"],
        vec!["projection"],
        vec!["identity"],
        vec!["directives"],
        vec!["embed", "x"],
        vec!["append", "user", "json too"],
        vec!["completions", "bash"],
    ] {
        let mut with = vec!["--json"];
        with.extend(&args);
        let out = s.ok(&with).await;
        assert!(!out.is_empty(), "{args:?}");
        for line in out.lines() {
            let parsed: Result<Value, _> = serde_json::from_str(line);
            assert!(parsed.is_ok(), "pmm --json {args:?}: {line}");
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn context_breakdown_is_a_table_with_a_bar_per_section() {
    let s = Server::start().await;
    seed(&s).await;
    let table = s.ok(&["context", "--breakdown"]).await;
    let lines: Vec<&str> = table.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["SECTION", "LINES", "BYTES", "CHARS", "TOKENS", "SHARE"],
        "{table}"
    );
    for (line, section) in lines[1..].iter().zip([
        "header",
        "identity",
        "traits",
        "guidance",
        "metrics",
        "reflections",
        "footer",
        "total",
    ]) {
        assert!(line.starts_with(section), "{table}");
    }
    assert!(
        lines[6].contains('█'),
        "the longest section has a bar: {table}"
    );
    assert!(table.contains("tokens: o200k_base"), "{table}");
    let cl = s
        .ok(&["context", "--breakdown", "--encoding", "cl100k_base"])
        .await;
    assert!(cl.contains("tokens: cl100k_base"), "{cl}");

    let v = s.json(&["context", "--breakdown"]).await;
    let text = v["text"].as_str().expect("text");
    let b = &v["breakdown"];
    let sum = |field: &str| -> u64 {
        b["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .map(|s| s[field].as_u64().expect("n"))
            .sum()
    };
    assert_eq!(sum("bytes"), text.len() as u64);
    assert_eq!(sum("bytes"), b["bytes"].as_u64().expect("bytes"));
    assert_eq!(sum("chars"), b["chars"].as_u64().expect("chars"));
    assert_eq!(sum("tokens"), b["tokens"].as_u64().expect("tokens"));
    assert_eq!(b["encoding"], "o200k_base");
    // The block itself is unchanged.
    assert_eq!(s.ok(&["context"]).await, format!("{text}\n"));
    s.stop().await;
}

#[tokio::test]
async fn metrics_history_charts_writes_images_and_equals_metrics_as_of() {
    let db = fixtures_root().join("medium/pmm.db");
    let s = Server::start_on_copy(&db).await;
    let chart = s.ok(&["metrics", "--history", "--size", "80x10"]).await;
    let lines: Vec<&str> = chart.lines().collect();
    assert_eq!(lines.len(), 14, "{chart}");
    assert!(
        lines[0].starts_with(" 1.0 ┤") && lines[9].starts_with(" 0.0 ┤"),
        "{chart}"
    );
    assert!(lines[11].contains("#2000"), "{chart}");
    assert!(
        lines[12].starts_with("stage ━") && lines[12].contains("S3"),
        "{chart}"
    );
    assert!(!chart.contains('\x1b'), "no colours into a pipe");

    let h = s.json(&["metrics", "--history", "--points", "6"]).await;
    let points = h["points"].as_array().expect("points");
    assert_eq!(points.len(), 6);
    assert_eq!(points[5]["as_of_id"], 2000, "the last point is at the head");
    for p in points {
        let id = p["as_of_id"].to_string();
        let m = s.json(&["metrics", "--as-of", &id]).await;
        assert_eq!(
            (&p["ias"], &p["gas"], &p["stage"]),
            (&m["ias"], &m["gas"], &m["stage"]),
            "#{id}"
        );
    }
    let every = s
        .json(&[
            "metrics",
            "--history",
            "--from",
            "100",
            "--to",
            "1000",
            "--every",
            "300",
        ])
        .await;
    let ids: Vec<u64> = every["points"]
        .as_array()
        .expect("points")
        .iter()
        .filter_map(|p| p["as_of_id"].as_u64())
        .collect();
    assert_eq!(ids, [100, 400, 700, 1000]);

    let dir = tempfile::tempdir().expect("temp dir");
    let (svg, png) = (dir.path().join("h.svg"), dir.path().join("h.png"));
    let wrote = s
        .ok(&[
            "metrics",
            "--svg",
            svg.to_str().expect("path"),
            "--png",
            png.to_str().expect("path"),
        ])
        .await;
    assert!(
        wrote.starts_with("wrote ") && !wrote.contains('┤'),
        "images only: {wrote}"
    );
    assert!(std::fs::read_to_string(&svg)
        .expect("svg")
        .starts_with("<svg"));
    assert!(std::fs::read(&png)
        .expect("png")
        .starts_with(b"\x89PNG\r\n\x1a\n"));
    let bad = s
        .fails(&["metrics", "--history", "--to", "999999"], 1)
        .await;
    assert!(bad.contains("to_id: 999999 is beyond"), "{bad}");
    s.stop().await;
}

#[tokio::test]
async fn completions_need_no_server() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef pmm"),
        ("fish", "complete -c pmm"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_pmm"))
            .args(["--addr", "127.0.0.1:9", "completions", shell])
            .output()
            .expect("run pmm");
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let script = String::from_utf8(out.stdout).expect("UTF-8");
        assert!(
            script.contains(marker),
            "{shell}: {}",
            &script[..script.len().min(300)]
        );
        for command in ["watch", "identity", "completions"] {
            assert!(script.contains(command), "{shell} completes {command}");
        }
    }
}
