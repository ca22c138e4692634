//! Many minds through the Rust client and the `pmm` CLI, against a real
//! server with a data directory (`--data-dir`, a folder per mind) on
//! 127.0.0.1:0: `Client::mind` and `--mind`/`PMM_MIND` address one mind
//! and leave the others untouched; the `Minds` administration calls
//! (create, get, list page by page, delete with its confirmation, backup)
//! through the client and through `pmm minds …`; bad names refused with a
//! clear message.

mod common;

use std::path::{Path, PathBuf};

use common::Server;
use futures_util::{StreamExt, TryStreamExt};
use pmm_client::{
    Client, ClientError, ExportOptions, NewEvent, ReadOptions, Start, SubItem, SubscribeSpec,
};
use tonic::Code;

/// A server with a data directory and a backup directory in its temp dir.
const DATA_DIR: &[&str] = &["--data-dir", "{dir}/minds", "--backup-dir", "{dir}/backups"];

async fn data_dir_server(more: &[&str]) -> Server {
    let mut flags = DATA_DIR.to_vec();
    flags.extend_from_slice(more);
    Server::start_flags(&flags).await
}

async fn client(s: &Server) -> Client {
    Client::connect(&s.addr).await.expect("connect")
}

/// The code of a failed call, with its message in the panic otherwise.
fn code<T: std::fmt::Debug>(result: Result<T, ClientError>) -> (Code, String) {
    match result {
        Err(err) => (
            err.code()
                .unwrap_or_else(|| panic!("not a status: {err:?}")),
            err.message().unwrap_or_default().to_string(),
        ),
        Ok(v) => panic!("expected a failure, got {v:?}"),
    }
}

async fn contents(client: &Client) -> Vec<String> {
    client
        .read_all(ReadOptions::default())
        .map_ok(|e| e.content)
        .try_collect()
        .await
        .expect("read")
}

fn names(minds: &[pmm_client::v1::MindEntry]) -> Vec<String> {
    minds.iter().map(|m| m.name.clone()).collect()
}

/// Rows in a ledger file.
fn rows_in(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open backup");
    conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .expect("count rows")
}

#[tokio::test]
async fn a_mind_client_writes_and_reads_its_mind_only() {
    let s = data_dir_server(&[]).await;
    let pmm = client(&s).await;
    pmm.create_mind("alice").await.expect("create alice");
    let alice = pmm.mind("alice").expect("alice");
    assert_eq!(alice.mind_name(), "alice");
    assert_eq!(pmm.mind_name(), "default");
    let default_before = pmm.head().await.expect("default head");

    alice
        .append(NewEvent::new("identity_adopt", "Alice"))
        .await
        .expect("append to alice");
    for text in ["a2", "a3"] {
        alice
            .append(NewEvent::new("user", text))
            .await
            .expect("append to alice");
    }
    pmm.append(NewEvent::new("user", "for default"))
        .await
        .expect("append to default");

    // Each mind has its own chain.
    let head = alice.head().await.expect("alice head");
    assert_eq!((head.last_id, head.count), (3, 3));
    assert_eq!(contents(&alice).await, ["Alice", "a2", "a3"]);
    let default_head = pmm.head().await.expect("default head");
    assert_eq!(default_head.last_id, default_before.last_id + 1);
    let default_contents = contents(&pmm).await;
    assert_eq!(
        default_contents.last().map(String::as_str),
        Some("for default")
    );
    assert!(!default_contents.iter().any(|c| c == "a2"));

    // The Mind service too: alice's identity, not default's.
    let identity = alice.get_identity(None).await.expect("identity");
    assert_eq!(identity.identity.name.as_deref(), Some("Alice"));
    assert_eq!(identity.as_of_id, 3);
    let default_identity = pmm.get_identity(None).await.expect("identity");
    assert_ne!(default_identity.identity.name.as_deref(), Some("Alice"));

    // Clones and derived clients keep the mind; so do streams.
    let later = alice.clone().with_request_timeout(None);
    assert_eq!(later.mind_name(), "alice");
    assert_eq!(later.head().await.expect("head").last_id, 3);
    let mut sub = Box::pin(alice.subscribe(SubscribeSpec::new(Start::FromStart)));
    let mut streamed = Vec::new();
    loop {
        match sub.next().await.expect("item").expect("subscribe") {
            SubItem::Event(e) => streamed.push(e.content),
            SubItem::CaughtUp(p) => {
                assert_eq!(p.position, 3);
                break;
            }
            _ => {}
        }
    }
    assert_eq!(streamed, ["Alice", "a2", "a3"]);
    let exported: Vec<Vec<pmm_client::v1::Event>> = alice
        .export(ExportOptions::default())
        .await
        .expect("export")
        .try_collect()
        .await
        .expect("export");
    assert_eq!(exported.iter().map(Vec::len).sum::<usize>(), 3);

    let info = pmm.get_mind("alice").await.expect("get alice");
    assert_eq!(
        (info.name.as_str(), info.events, info.last_id),
        ("alice", 3, 3)
    );
    assert_eq!(Some(info.last_hash), head.last_hash);
    s.stop().await;
}

#[tokio::test]
async fn a_mind_the_server_does_not_hold_is_not_found_and_nothing_is_written() {
    let s = data_dir_server(&[]).await;
    let pmm = client(&s).await;
    let ghost = pmm.mind("ghost").expect("a valid name");
    let (c, message) = code(ghost.append(NewEvent::new("user", "lost")).await);
    assert_eq!(c, Code::NotFound, "{message}");
    assert!(message.contains("ghost"), "{message}");
    assert_eq!(code(ghost.head().await).0, Code::NotFound);
    assert_eq!(code(pmm.get_mind("ghost").await).0, Code::NotFound);
    let minds = pmm.list_all_minds(0).await.expect("list");
    assert!(!names(&minds).contains(&"ghost".to_string()), "{minds:?}");
    s.stop().await;
}

#[tokio::test]
async fn with_create_minds_on_append_a_first_append_creates_the_mind() {
    let s = data_dir_server(&["--create-minds-on-append"]).await;
    let pmm = client(&s).await;
    let bob = pmm.mind("bob").expect("bob");
    let appended = bob
        .append(NewEvent::new("user", "hello bob"))
        .await
        .expect("append creates bob");
    assert_eq!(appended.id, 1);
    let info = pmm.get_mind("bob").await.expect("bob exists");
    assert_eq!(info.events, 1);
    s.stop().await;
}

#[tokio::test]
async fn a_bad_mind_name_is_refused_before_any_call() {
    let s = Server::start().await;
    let pmm = client(&s).await;
    for (bad, why) in [
        ("Alice", "must start with a-z or 0-9"),
        ("", "is empty"),
        ("a/b", "has '/'"),
    ] {
        let err = pmm.mind(bad).expect_err(bad);
        assert!(matches!(err, ClientError::InvalidInput { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("mind name {bad:?}: {why}")
                + if why.starts_with("has") {
                    "; a name is a-z, 0-9, '.', '_' and '-' only"
                } else {
                    ""
                }
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn minds_are_created_listed_page_by_page_shown_and_deleted_with_a_confirmation() {
    let s = data_dir_server(&[]).await;
    let pmm = client(&s).await;
    let created = ["m3", "m1", "m5", "m2", "m4"];
    for name in created {
        let info = pmm.create_mind(name).await.expect("create");
        assert_eq!(
            (info.name.as_str(), info.events, info.last_id),
            (name, 0, 0)
        );
        assert_eq!(info.last_hash, "");
    }
    let (c, message) = code(pmm.create_mind("m3").await);
    assert_eq!(c, Code::AlreadyExists, "{message}");
    // The server checks the names in Minds requests (there is no header).
    let (c, message) = code(pmm.create_mind("Alice").await);
    assert_eq!(c, Code::InvalidArgument);
    assert!(message.starts_with("name: "), "{message}");

    // Pages of two, in name order, every page but the last with a token.
    let pages: Vec<_> = pmm.minds_pages(2).try_collect().await.expect("pages");
    assert!(pages.len() >= 3, "{pages:?}");
    for (i, page) in pages.iter().enumerate() {
        assert!(!page.minds.is_empty() && page.minds.len() <= 2, "{page:?}");
        assert_eq!(page.next_page_token.is_empty(), i + 1 == pages.len());
    }
    let paged: Vec<String> = pages.iter().flat_map(|p| names(&p.minds)).collect();
    let mut sorted = paged.clone();
    sorted.sort();
    assert_eq!(paged, sorted, "name order");
    for name in created {
        assert!(paged.contains(&name.to_string()), "{paged:?}");
    }
    let all = names(&pmm.list_all_minds(0).await.expect("list"));
    assert_eq!(all, paged);
    assert!(all.contains(&"default".to_string()), "{all:?}");

    // Delete: the confirmation must repeat the name.
    let (c, message) = code(pmm.delete_mind("m2", "m3").await);
    assert_eq!(c, Code::FailedPrecondition, "{message}");
    assert_eq!(pmm.get_mind("m2").await.expect("m2 kept").name, "m2");
    let deleted = pmm.delete_mind("m2", "m2").await.expect("delete m2");
    assert!(!deleted.trash_path.is_empty());
    // Moved, not erased: the folder, its ledger included, is in the trash.
    let trash = Path::new(&deleted.trash_path);
    assert!(trash.starts_with(s.dir.join("minds/.trash")), "{deleted:?}");
    assert!(trash.join("pmm.db").is_file(), "{deleted:?}");
    assert!(!s.dir.join("minds/m2").exists());
    assert_eq!(code(pmm.get_mind("m2").await).0, Code::NotFound);
    assert_eq!(
        code(pmm.mind("m2").expect("m2").head().await).0,
        Code::NotFound
    );
    let all = names(&pmm.list_all_minds(2).await.expect("list"));
    assert!(!all.contains(&"m2".to_string()), "{all:?}");
    assert!(all.contains(&"m3".to_string()), "{all:?}");
    // default stays.
    let (c, message) = code(pmm.delete_mind("default", "default").await);
    assert_eq!(c, Code::FailedPrecondition, "{message}");
    s.stop().await;
}

/// Where a backup went, on this (local) server.
fn backup_file(s: &Server, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        s.dir.join("backups").join(path)
    }
}

#[tokio::test]
async fn a_backup_is_a_consistent_copy_under_the_backup_dir() {
    let s = data_dir_server(&[]).await;
    let pmm = client(&s).await;
    pmm.create_mind("alice").await.expect("create");
    let alice = pmm.mind("alice").expect("alice");
    for text in ["one", "two"] {
        alice
            .append(NewEvent::new("user", text))
            .await
            .expect("append");
    }
    let head = alice.head().await.expect("head");

    let backup = pmm
        .backup_mind("alice", Some("nightly/alice.db".into()))
        .await
        .expect("backup");
    assert_eq!((backup.events, backup.last_id), (2, 2));
    assert_eq!(Some(backup.last_hash.clone()), head.last_hash);
    let file = backup_file(&s, &backup.path);
    assert_eq!(file, s.dir.join("backups/nightly/alice.db"));
    assert_eq!(rows_in(&file), 2);
    assert_eq!(
        std::fs::metadata(&file).expect("backup file").len(),
        backup.bytes
    );

    let (c, message) = code(
        pmm.backup_mind("alice", Some("nightly/alice.db".into()))
            .await,
    );
    assert_eq!(c, Code::AlreadyExists, "{message}");
    let (c, message) = code(pmm.backup_mind("alice", Some("../out.db".into())).await);
    assert_eq!(c, Code::InvalidArgument, "{message}");
    assert_eq!(code(pmm.backup_mind("ghost", None).await).0, Code::NotFound);

    // Default path: alice/<UTC time>.db.
    let default = pmm.backup_mind("alice", None).await.expect("backup");
    let file = backup_file(&s, &default.path);
    assert!(file.starts_with(s.dir.join("backups/alice")), "{file:?}");
    assert_eq!(rows_in(&file), 2);
    s.stop().await;
}

#[tokio::test]
async fn every_call_of_a_mind_client_carries_its_mind() {
    // A server on one file holds only `default`: a call naming another
    // mind is NOT_FOUND, so each call below proves the header went with it.
    let s = Server::start().await;
    let pmm = client(&s).await;
    let default = pmm.mind("default").expect("default");
    default
        .append(NewEvent::new("user", "x"))
        .await
        .expect("append to default, named");
    assert_eq!(pmm.head().await.expect("head").last_id, 1);
    assert_eq!(contents(&default).await, ["x"]);

    let alice = pmm.mind("alice").expect("alice");
    let not_found = |what: &str, result: Result<(), ClientError>| {
        let (c, message) = code(result);
        assert_eq!(c, Code::NotFound, "{what}: {message}");
        assert!(message.contains("alice"), "{what}: {message}");
    };
    not_found(
        "Append",
        alice.append(NewEvent::new("user", "y")).await.map(drop),
    );
    not_found("Head", alice.head().await.map(drop));
    not_found("Read", alice.read(&ReadOptions::default()).await.map(drop));
    not_found("GetEvent", alice.get_event(1).await.map(drop));
    not_found("Stats", alice.stats().await.map(drop));
    not_found(
        "GetMetrics",
        alice.get_metrics(&Default::default()).await.map(drop),
    );
    not_found(
        "GetContext",
        alice.get_context(&Default::default()).await.map(drop),
    );
    not_found("Embed", alice.embed("text").await.map(drop));
    let mut sub = Box::pin(alice.subscribe(SubscribeSpec::new(Start::FromStart)));
    not_found("Subscribe", sub.next().await.expect("an item").map(drop));
    let export = match alice.export(ExportOptions::default()).await {
        Ok(stream) => stream.try_collect::<Vec<_>>().await.map(drop),
        Err(err) => Err(err),
    };
    not_found("Export", export);
    // A derived client keeps the mind; the first one is unchanged.
    not_found(
        "Head after with_request_timeout",
        alice.with_request_timeout(None).head().await.map(drop),
    );
    assert_eq!(pmm.head().await.expect("head").count, 1, "nothing written");

    // The CLI's --mind too.
    let err = s
        .fails(&["--mind", "alice", "append", "user", "z"], 1)
        .await;
    assert!(
        err.starts_with("pmm: NOT_FOUND: ") && err.contains("alice"),
        "{err}"
    );
    assert_eq!(s.json(&["--mind", "default", "head"]).await["last_id"], 1);
    s.stop().await;
}

#[tokio::test]
async fn a_server_on_one_file_refuses_to_create_minds() {
    let s = Server::start().await;
    let pmm = client(&s).await;
    let (c, message) = code(pmm.create_mind("alice").await);
    assert_eq!(c, Code::FailedPrecondition, "{message}");
    let (c, message) = code(pmm.delete_mind("default", "default").await);
    assert_eq!(c, Code::FailedPrecondition, "{message}");
    s.stop().await;
}

// ----- the CLI -------------------------------------------------------------

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[tokio::test]
async fn cli_mind_flag_and_pmm_mind_address_one_mind() {
    let s = data_dir_server(&[]).await;
    s.ok(&["minds", "create", "alice"]).await;
    let before = s.json(&["head"]).await["last_id"].as_u64().expect("id");
    s.ok(&["--mind", "alice", "append", "user", "via the flag"])
        .await;
    let out = s
        .pmm_env(
            &["append", "user", "via PMM_MIND"],
            &[("PMM_MIND", "alice")],
        )
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    // The flag wins over the environment.
    let out = s
        .pmm_env(
            &["--mind", "default", "--json", "head"],
            &[("PMM_MIND", "alice")],
        )
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let head: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(head["last_id"].as_u64(), Some(before));

    let alice_head = s.json(&["--mind", "alice", "head"]).await;
    assert_eq!(alice_head["last_id"], 2);
    // Stats says which mind its figures are about, and the open minds.
    let stats = s.json(&["--mind", "alice", "stats"]).await;
    assert_eq!(stats["mind"], "alice");
    assert_eq!(stats["event_count"], 2);
    assert!(stats["minds"]["open"].as_u64() >= Some(2), "{stats}");
    let text = s.ok(&["stats"]).await;
    assert!(
        text.lines()
            .any(|l| l.starts_with("mind") && l.ends_with("default")),
        "{text}"
    );
    assert!(text.contains("open minds"), "{text}");
    let read = s.ok(&["read", "--mind", "alice"]).await;
    assert!(
        read.contains("via the flag") && read.contains("via PMM_MIND"),
        "{read}"
    );
    assert_eq!(s.json(&["head"]).await["last_id"].as_u64(), Some(before));

    // A mind the server does not hold: the server's NOT_FOUND, exit 1.
    let err = s.fails(&["--mind", "ghost", "head"], 1).await;
    assert!(
        err.starts_with("pmm: NOT_FOUND: ") && err.contains("ghost"),
        "{err}"
    );
    // A bad name: refused before connecting, exit 2, saying why.
    let err = s.fails(&["--mind", "Alice", "head"], 2).await;
    assert!(err.contains("must start with a-z or 0-9"), "{err}");
    let out = s.pmm_env(&["head"], &[("PMM_MIND", "al ice")]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("has ' '"), "{}", stderr(&out));
    s.stop().await;
}

#[tokio::test]
async fn cli_minds_create_list_show_delete_and_backup() {
    let s = data_dir_server(&[]).await;
    for name in ["carol", "alice", "bob"] {
        let out = s.ok(&["minds", "create", name]).await;
        assert!(out.starts_with(&format!("Created mind {name}.")), "{out}");
    }
    let err = s.fails(&["minds", "create", "bob"], 3).await;
    assert!(err.starts_with("pmm: ALREADY_EXISTS: "), "{err}");
    let err = s.fails(&["minds", "create", "Bob"], 1).await;
    assert!(err.starts_with("pmm: INVALID_ARGUMENT: name: "), "{err}");

    // The listing follows every page.
    let listed = s.json(&["minds", "list", "--page-size", "1"]).await;
    let listed: Vec<&str> = listed["minds"]
        .as_array()
        .expect("minds")
        .iter()
        .map(|m| m["name"].as_str().expect("name"))
        .collect();
    for name in ["alice", "bob", "carol"] {
        assert!(listed.contains(&name), "{listed:?}");
    }
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted);
    let table = s.ok(&["minds", "list", "--page-size", "2"]).await;
    assert!(table.starts_with("NAME"), "{table}");
    for name in &listed {
        assert!(table.lines().any(|l| l.starts_with(name)), "{table}");
    }
    assert!(
        table.ends_with(&format!("{} minds\n", listed.len())),
        "{table}"
    );

    s.ok(&["--mind", "alice", "append", "user", "hello"]).await;
    let shown = s.json(&["minds", "show", "alice"]).await;
    assert_eq!(shown["name"], "alice");
    assert_eq!(shown["events"], 1);
    assert_eq!(shown["last_id"], 1);
    let text = s.ok(&["minds", "show", "alice"]).await;
    assert!(text.contains("events") && text.contains("#1 "), "{text}");
    let err = s.fails(&["minds", "show", "ghost"], 1).await;
    assert!(
        err.starts_with("pmm: NOT_FOUND: ") && err.contains("ghost"),
        "{err}"
    );

    // Backup, under the server's backup directory.
    let backup = s
        .json(&["minds", "backup", "alice", "--path", "cli/alice.db"])
        .await;
    assert_eq!(backup["events"], 1);
    let file = backup_file(&s, backup["path"].as_str().expect("path"));
    assert_eq!(rows_in(&file), 1);
    let err = s
        .fails(&["minds", "backup", "alice", "--path", "cli/alice.db"], 3)
        .await;
    assert!(err.starts_with("pmm: ALREADY_EXISTS: "), "{err}");

    // Delete: no confirmation is a usage error; a wrong one deletes nothing.
    let err = s.fails(&["minds", "delete", "bob"], 2).await;
    assert!(err.contains("--confirm") || err.contains("--yes"), "{err}");
    let err = s
        .fails(&["minds", "delete", "bob", "--confirm", "carol"], 3)
        .await;
    assert!(err.starts_with("pmm: FAILED_PRECONDITION: "), "{err}");
    assert_eq!(s.json(&["minds", "show", "bob"]).await["name"], "bob");
    let out = s.ok(&["minds", "delete", "bob", "--confirm", "bob"]).await;
    assert!(out.starts_with("Deleted mind bob"), "{out}");
    let out = s.json(&["minds", "delete", "carol", "--yes"]).await;
    assert_eq!(out["name"], "carol");
    assert!(out["trash_path"].as_str().is_some_and(|p| !p.is_empty()));
    let listed = s.json(&["minds", "list"]).await;
    let listed: Vec<&str> = listed["minds"]
        .as_array()
        .expect("minds")
        .iter()
        .map(|m| m["name"].as_str().expect("name"))
        .collect();
    assert!(listed.contains(&"alice") && !listed.contains(&"bob") && !listed.contains(&"carol"));
    s.stop().await;
}

#[tokio::test]
async fn cli_completions_know_the_minds_commands_and_the_mind_flag() {
    let s = Server::start().await;
    let bash = s.ok(&["completions", "bash"]).await;
    assert!(bash.contains("minds") && bash.contains("--mind"), "bash");
    for sub in [
        "create",
        "list",
        "show",
        "delete",
        "backup",
        "--confirm",
        "--yes",
    ] {
        assert!(bash.contains(sub), "{sub}");
    }
    let zsh = s.ok(&["completions", "zsh"]).await;
    assert!(zsh.contains("--mind") && zsh.contains("minds"), "zsh");
    let help = s.ok(&["minds", "delete", "--help"]).await;
    assert!(
        help.contains("--confirm") && help.contains("--yes"),
        "{help}"
    );
    assert!(help.contains("There is no prompt"), "{help}");
    s.stop().await;
}
