//! Many minds on one server (a data directory, one folder per mind): each
//! mind its own ledger, created by CreateMind or (with
//! --create-minds-on-append) by an Append; the administration calls; the
//! bounded set of open minds, closed and opened again with nothing lost.

use std::time::Duration;

use crate::common::server::{for_mind, input, TestServer};
use pmm::v1::subscribe_request::Start;
use pmm::v1::subscribe_response::Item;
use pmm::v1::{self, AppendRequest, SubscribeRequest};
use tonic::Code;

/// The contents of the rows of a ledger file, in id order.
fn contents_of(path: &std::path::Path) -> Vec<String> {
    let mut contents = Vec::new();
    pmm_server::source::for_each_db_event(path, |event| {
        contents.push(event.content.clone());
        Ok::<(), pmm_server::source::SourceError>(())
    })
    .expect("a readable ledger");
    contents
}

async fn create(s: &mut TestServer, name: &str) -> v1::MindInfo {
    s.minds
        .create_mind(v1::CreateMindRequest { name: name.into() })
        .await
        .expect("create")
        .into_inner()
}

async fn append_to(s: &mut TestServer, mind: &str, content: &str) -> Result<u64, tonic::Status> {
    let response = s
        .ledger
        .append(for_mind(
            AppendRequest {
                events: vec![input("user", content, "{}")],
                ..Default::default()
            },
            mind,
        ))
        .await?;
    Ok(response.into_inner().events[0].id)
}

async fn head_of(s: &mut TestServer, mind: &str) -> Result<v1::LedgerHead, tonic::Status> {
    Ok(s.ledger
        .head(for_mind(v1::HeadRequest {}, mind))
        .await?
        .into_inner())
}

async fn stats_of(s: &mut TestServer, mind: &str) -> v1::StatsResponse {
    s.ledger
        .stats(for_mind(v1::StatsRequest::default(), mind))
        .await
        .expect("stats")
        .into_inner()
}

#[tokio::test]
async fn each_mind_is_its_own_ledger_in_its_own_folder() {
    let mut s = TestServer::start_minds(|_| {}).await;
    let alice = create(&mut s, "alice").await;
    assert_eq!(
        (alice.name.as_str(), alice.events, alice.open),
        ("alice", 0, true)
    );
    create(&mut s, "bob").await;
    for i in 0..3 {
        append_to(&mut s, "alice", &format!("alice {i}"))
            .await
            .expect("append");
    }
    append_to(&mut s, "bob", "bob 0").await.expect("append");
    assert_eq!(head_of(&mut s, "alice").await.expect("head").last_id, 3);
    assert_eq!(head_of(&mut s, "bob").await.expect("head").last_id, 1);
    assert_eq!(s.head().await.last_id, 0, "default untouched");
    // Different contents, different chains.
    let a = head_of(&mut s, "alice").await.expect("head").last_hash;
    let b = head_of(&mut s, "bob").await.expect("head").last_hash;
    assert_ne!(a, b);

    let data = s.dir().join("data");
    for mind in ["default", "alice", "bob"] {
        assert!(data.join(mind).join("pmm.db").is_file(), "{mind}'s folder");
    }
    // A mind's file is a reference ledger on its own: rows 1..3, chained.
    let rows = contents_of(&data.join("alice/pmm.db"));
    assert_eq!(rows, ["alice 0", "alice 1", "alice 2"]);

    // The views are per mind too.
    let metrics = s
        .mind
        .get_metrics(for_mind(v1::GetMetricsRequest::default(), "alice"))
        .await
        .expect("metrics")
        .into_inner();
    assert_eq!(metrics.as_of_id, 3);
    let stats = stats_of(&mut s, "bob").await;
    assert_eq!((stats.mind.as_str(), stats.event_count), ("bob", 1));
    assert_eq!(stats.open_minds, 3);
    assert_eq!(stats.max_open_minds, 1000);
}

#[tokio::test]
async fn an_unknown_mind_is_not_found_unless_appends_create_minds() {
    let mut s = TestServer::start_minds(|_| {}).await;
    let refused = append_to(&mut s, "carol", "hi").await.expect_err("unknown");
    assert_eq!(refused.code(), Code::NotFound);
    assert!(
        refused.message().contains("\"carol\"") && refused.message().contains("CreateMind"),
        "{}",
        refused.message()
    );
    assert!(!s.dir().join("data/carol").exists(), "nothing created");
    s.stop().await;

    s.reconfigure(|c| c.create_minds_on_append = true);
    s.restart().await;
    assert_eq!(append_to(&mut s, "carol", "hi").await.expect("created"), 1);
    assert!(s.dir().join("data/carol/pmm.db").is_file());
    // Only an Append creates; a read of an unknown mind stays NOT_FOUND.
    let head = head_of(&mut s, "dave").await.expect_err("unknown");
    assert_eq!(head.code(), Code::NotFound);
    // A refused Append creates nothing.
    let bad = s
        .ledger
        .append(for_mind(
            AppendRequest {
                events: vec![input("user", "x", "not json")],
                ..Default::default()
            },
            "erin",
        ))
        .await
        .expect_err("bad meta");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(!s.dir().join("data/erin").exists(), "nothing created");
}

#[tokio::test]
async fn administration_creates_lists_shows_backs_up_and_deletes() {
    let mut s = TestServer::start_minds(|_| {}).await;
    for name in ["m3", "m1", "m4", "m2"] {
        create(&mut s, name).await;
    }
    let again = s
        .minds
        .create_mind(v1::CreateMindRequest { name: "m1".into() })
        .await
        .expect_err("exists");
    assert_eq!(again.code(), Code::AlreadyExists);
    let bad = s
        .minds
        .create_mind(v1::CreateMindRequest { name: "M/1".into() })
        .await
        .expect_err("bad name");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().starts_with("name: "), "{}", bad.message());

    // Pages of two, in name order, default included.
    let mut names = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = s
            .minds
            .list_minds(v1::ListMindsRequest {
                page_size: 2,
                page_token: token.clone(),
            })
            .await
            .expect("list")
            .into_inner();
        pages += 1;
        names.extend(page.minds.into_iter().map(|m| m.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(names, ["default", "m1", "m2", "m3", "m4"]);
    assert_eq!(pages, 3);

    for i in 0..5 {
        append_to(&mut s, "m2", &format!("event {i}"))
            .await
            .expect("append");
    }
    let shown = s
        .minds
        .get_mind(v1::GetMindRequest { name: "m2".into() })
        .await
        .expect("get")
        .into_inner();
    let head = head_of(&mut s, "m2").await.expect("head");
    assert_eq!(
        (
            shown.events,
            shown.last_id,
            shown.last_hash.as_str(),
            shown.open
        ),
        (5, 5, head.last_hash.as_deref().unwrap_or(""), true)
    );
    assert!(shown.bytes > 0 && shown.memory_bytes > 0);
    let missing = s
        .minds
        .get_mind(v1::GetMindRequest { name: "zz".into() })
        .await
        .expect_err("unknown");
    assert_eq!(missing.code(), Code::NotFound);

    // A backup while serving: the same rows, a file of its own.
    let backup = s
        .minds
        .backup_mind(v1::BackupMindRequest {
            name: "m2".into(),
            path: "moves/m2.db".into(),
        })
        .await
        .expect("backup")
        .into_inner();
    assert_eq!((backup.events, backup.last_id), (5, 5));
    assert_eq!(Some(backup.last_hash), head.last_hash);
    let copy = s.dir().join("backups/moves/m2.db");
    assert_eq!(std::path::Path::new(&backup.path), copy);
    assert_eq!(contents_of(&copy).len(), 5);
    let twice = s
        .minds
        .backup_mind(v1::BackupMindRequest {
            name: "m2".into(),
            path: "moves/m2.db".into(),
        })
        .await
        .expect_err("exists");
    assert_eq!(twice.code(), Code::AlreadyExists);
    let outside = s
        .minds
        .backup_mind(v1::BackupMindRequest {
            name: "m2".into(),
            path: "../escape.db".into(),
        })
        .await
        .expect_err("outside");
    assert_eq!(outside.code(), Code::InvalidArgument);
    assert!(
        outside.message().starts_with("path: "),
        "{}",
        outside.message()
    );

    // Deleting needs the name twice; default stays.
    let unconfirmed = s
        .minds
        .delete_mind(v1::DeleteMindRequest {
            name: "m2".into(),
            confirm: "m3".into(),
        })
        .await
        .expect_err("unconfirmed");
    assert_eq!(unconfirmed.code(), Code::FailedPrecondition);
    assert!(head_of(&mut s, "m2").await.is_ok(), "still there");
    let default = s
        .minds
        .delete_mind(v1::DeleteMindRequest {
            name: "default".into(),
            confirm: "default".into(),
        })
        .await
        .expect_err("default stays");
    assert_eq!(default.code(), Code::FailedPrecondition);
    let deleted = s
        .minds
        .delete_mind(v1::DeleteMindRequest {
            name: "m2".into(),
            confirm: "m2".into(),
        })
        .await
        .expect("delete")
        .into_inner();
    let trash = std::path::PathBuf::from(&deleted.trash_path);
    assert!(trash.starts_with(s.dir().join("data/.trash")), "{trash:?}");
    assert_eq!(
        contents_of(&trash.join("pmm.db")).len(),
        5,
        "kept in the trash"
    );
    assert_eq!(
        head_of(&mut s, "m2").await.expect_err("gone").code(),
        Code::NotFound
    );
    // The name can be used again, for a new empty mind.
    assert_eq!(create(&mut s, "m2").await.events, 0);
}

async fn is_open(s: &mut TestServer, mind: &str) -> bool {
    s.minds
        .get_mind(v1::GetMindRequest { name: mind.into() })
        .await
        .expect("get")
        .into_inner()
        .open
}

#[tokio::test]
async fn the_open_set_is_bounded_and_a_closed_mind_loses_nothing() {
    // default (always open) and two more.
    let mut s = TestServer::start_minds(|c| c.max_open_minds = 3).await;
    let names: Vec<String> = (0..6).map(|i| format!("mind-{i}")).collect();
    for name in &names {
        create(&mut s, name).await;
    }
    // A subscriber on the first mind, which will be closed to make room.
    let mut stream = s
        .ledger
        .subscribe(for_mind(
            SubscribeRequest {
                start: Some(Start::FromStart(true)),
                ..Default::default()
            },
            &names[0],
        ))
        .await
        .expect("subscribe")
        .into_inner();
    for i in 0..2 {
        append_to(&mut s, &names[0], &format!("first {i}"))
            .await
            .expect("append");
    }
    // Calls to the others until the first is closed (the cache's policy
    // is close to least-recently-used, not exactly it).
    let mut rounds = 0;
    while is_open(&mut s, &names[0]).await {
        rounds += 1;
        assert!(rounds <= 20, "mind-0 still open after 20 rounds");
        for name in &names[1..] {
            append_to(&mut s, name, &format!("{name} round {rounds}"))
                .await
                .expect("append");
        }
    }
    let stats = stats_of(&mut s, "default").await;
    assert!(stats.open_minds <= 3, "open: {}", stats.open_minds);
    assert!(stats.minds_closed >= 3, "closed: {}", stats.minds_closed);
    for name in &names[1..] {
        let head = head_of(&mut s, name).await.expect("head");
        assert_eq!(head.last_id, rounds, "{name}: every append kept");
    }
    let events = s
        .ledger
        .read(for_mind(
            v1::ReadRequest {
                start_id: Some(1),
                ..Default::default()
            },
            &names[3],
        ))
        .await
        .expect("read")
        .into_inner()
        .events;
    let contents: Vec<&str> = events.iter().map(|e| e.content.as_str()).collect();
    assert_eq!(
        contents,
        (1..=rounds)
            .map(|r| format!("mind-3 round {r}"))
            .collect::<Vec<_>>()
    );

    // The subscriber was told to resume; the mind opens again for the next
    // appends, and resuming after the last id received gets them: no gap,
    // no duplicate.
    let mut seen = Vec::new();
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.message()).await {
            Ok(Ok(Some(message))) => {
                if let Some(Item::Event(e)) = message.item {
                    seen.push(e.id);
                }
            }
            Ok(Err(status)) => break status,
            Ok(Ok(None)) => panic!("the stream ended without a status"),
            Err(_) => panic!("no end within 10 s"),
        }
    };
    assert_eq!(ended.code(), Code::Unavailable);
    assert!(
        ended.message().contains("subscribe again"),
        "{}",
        ended.message()
    );
    for i in 2..4 {
        append_to(&mut s, &names[0], &format!("first {i}"))
            .await
            .expect("append");
    }
    let last = seen.last().copied().unwrap_or(0);
    let mut resumed = s
        .ledger
        .subscribe(for_mind(
            SubscribeRequest {
                start: Some(Start::AfterId(last)),
                ..Default::default()
            },
            &names[0],
        ))
        .await
        .expect("resume")
        .into_inner();
    while seen.len() < 4 {
        let message = tokio::time::timeout(Duration::from_secs(10), resumed.message())
            .await
            .expect("in time")
            .expect("status")
            .expect("item");
        if let Some(Item::Event(e)) = message.item {
            seen.push(e.id);
        }
    }
    assert_eq!(seen, [1, 2, 3, 4]);
}

#[tokio::test]
async fn concurrent_calls_for_a_closed_mind_share_one_opening() {
    let mut s = TestServer::start_minds(|c| c.max_open_minds = 2).await;
    create(&mut s, "a").await;
    append_to(&mut s, "a", "x").await.expect("append");
    create(&mut s, "b").await; // closes a: default stays, room for one
    let before = stats_of(&mut s, "default").await.minds_opened;
    let mut calls = Vec::new();
    for _ in 0..16 {
        let mut mind = s.mind.clone();
        calls.push(tokio::spawn(async move {
            mind.get_metrics(for_mind(v1::GetMetricsRequest::default(), "a"))
                .await
                .map(|r| r.into_inner().as_of_id)
        }));
    }
    for call in calls {
        assert_eq!(call.await.expect("join").expect("metrics"), 1);
    }
    let after = stats_of(&mut s, "default").await.minds_opened;
    assert_eq!(after - before, 1, "one opening for sixteen calls");
}

#[tokio::test]
async fn a_single_mind_data_directory_is_served_as_default() {
    // A ledger made by a single-mind server: ./data/pmm.db.
    let mut s = TestServer::start().await;
    s.append("user", "from the old layout", "{}").await;
    s.stop().await;
    let data = s.db.parent().expect("data").to_path_buf();
    s.reconfigure(|c| {
        c.db = None;
        c.data_dir = data.clone();
    });
    s.restart().await;
    assert_eq!(s.head().await.last_id, 1, "served as default, unchanged");
    create(&mut s, "alice").await;
    assert!(data.join("alice/pmm.db").is_file());
    assert!(!data.join("default").exists(), "default stays where it was");
}
