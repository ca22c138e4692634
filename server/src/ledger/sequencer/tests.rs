//! The sequencer alone, on a real SQLite file and no server: idempotent and
//! partial retries, one failing job inside a group commit, and a shutdown
//! with jobs still queued.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;

use super::job::Job;
use super::*;
use crate::chain::{verify_chain, PreparedHash};
use crate::ledger::condition::{Condition, ConditionCell};
use crate::ledger::snapshot::Published;
use crate::rules::State;
use crate::store::write::open_connection;
use crate::store::Store;

/// A sequencer over a new ledger file, and every row it hands to its sink.
struct Fixture {
    sequencer: Sequencer,
    store: Store,
    sunk: Arc<Mutex<Vec<i64>>>,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pmm.db");
    let conn = open_connection(&path, Durability::Normal).expect("open");
    let store = Store::open_pool(&path, 2).expect("pool");
    let folded = Folded {
        head: Head::default(),
        state: State::new(crate::rules::TailLimits::rows(16)),
        damage: None,
    };
    let published = Arc::new(Published::new(Snapshot {
        head: Head::default(),
        state: State::new(crate::rules::TailLimits::rows(16)),
    }));
    let sunk = Arc::new(Mutex::new(Vec::new()));
    let sink_log = Arc::clone(&sunk);
    let sequencer = Sequencer::start(
        conn,
        folded,
        published,
        Box::new(move |rows: &[Arc<Event>]| {
            sink_log
                .lock()
                .expect("sink")
                .extend(rows.iter().map(|ev| ev.id))
        }),
        SequencerOptions {
            found_fault: Default::default(),
            tail_wanted: Default::default(),
            durability: Durability::Normal,
            queue: 64,
            verify_folds_every: 0,
            store: store.clone(),
            condition: ConditionCell::new(Condition::Writable),
        },
    );
    Fixture {
        sequencer,
        store,
        sunk,
        _dir: dir,
    }
}

fn new_event(content: &str, key: Option<&str>) -> NewEvent {
    let meta: Value = serde_json::json!({"n": content.len()});
    NewEvent {
        kind: "user".into(),
        content: content.into(),
        meta_text: meta.to_string(),
        hash: PreparedHash::new("user", content, &meta).expect("hashable"),
        meta,
        idempotency_key: key.map(str::to_string),
    }
}

fn batch(events: Vec<NewEvent>) -> AppendBatch {
    AppendBatch {
        events,
        expected_last_id: None,
        want_snapshot: false,
    }
}

/// Every stored row, in id order.
fn stored(store: &Store) -> Vec<Event> {
    let mut rows = Vec::new();
    store
        .for_each(i64::MIN, i64::MAX, |ev| {
            rows.push(ev);
            Ok::<(), crate::store::StoreError>(())
        })
        .expect("read");
    rows
}

#[tokio::test]
async fn an_idempotent_retry_returns_the_originals_and_writes_nothing() {
    let f = fixture();
    let first = f
        .sequencer
        .append(batch(vec![
            new_event("a", Some("k1")),
            new_event("b", Some("k2")),
        ]))
        .await
        .expect("first");
    let retry = f
        .sequencer
        .append(batch(vec![
            new_event("a", Some("k1")),
            new_event("b", Some("k2")),
        ]))
        .await
        .expect("retry");
    let ids = |o: &AppendOutcome| o.events.iter().map(|a| a.event.id).collect::<Vec<_>>();
    assert_eq!(ids(&first), [1, 2]);
    assert_eq!(ids(&retry), [1, 2]);
    assert!(retry.events.iter().all(|a| a.deduplicated));
    assert_eq!(retry.events[1].event.hash, first.events[1].event.hash);
    assert_eq!(retry.head.last_id, 2);
    assert_eq!(stored(&f.store).len(), 2);
    assert_eq!(
        *f.sunk.lock().expect("sink"),
        [1, 2],
        "a retry wakes nobody"
    );
}

#[tokio::test]
async fn a_partial_retry_is_refused_whole() {
    let f = fixture();
    f.sequencer
        .append(batch(vec![new_event("a", Some("k1"))]))
        .await
        .expect("first");
    let err = f
        .sequencer
        .append(batch(vec![
            new_event("a", Some("k1")),
            new_event("c", Some("k3")),
        ]))
        .await
        .expect_err("partial retry");
    assert!(
        matches!(&err, WriteError::PartialRetry { key, id: 1 } if key == "k1"),
        "{err}"
    );
    assert_eq!(stored(&f.store).len(), 1, "nothing of it was written");
}

/// A group whose second job fails in SQLite (a trigger refuses its row):
/// the group is rolled back and every job retried alone, so only that job
/// fails and the others are written, in order, as one valid chain.
#[tokio::test]
async fn one_failing_job_in_a_group_fails_alone() {
    let f = fixture();
    {
        let writer = lock(&f.sequencer.shared.writer);
        writer
            .conn()
            .execute_batch(
                "CREATE TEMP TRIGGER poison BEFORE INSERT ON events \
                 WHEN NEW.content = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;",
            )
            .expect("trigger");
    }
    let mut answers = Vec::new();
    let group: Vec<Job> = ["one", "poison", "three"]
        .into_iter()
        .map(|content| {
            let (reply, answer) = oneshot::channel();
            answers.push(answer);
            Job::Append(batch(vec![new_event(content, None)]), reply)
        })
        .collect();
    lock(&f.sequencer.shared.writer).commit(group);

    let mut results = Vec::new();
    for answer in answers {
        results.push(answer.await.expect("answered"));
    }
    let ids: Vec<Option<i64>> = results
        .iter()
        .map(|r| r.as_ref().ok().map(|o| o.events[0].event.id))
        .collect();
    assert_eq!(ids, [Some(1), None, Some(2)]);
    let err = results[1].as_ref().expect_err("the poisoned job fails");
    assert!(
        matches!(err, WriteError::Storage { during: "writing rows", reason } if reason.contains("poisoned row")),
        "{err}"
    );
    let rows = stored(&f.store);
    assert_eq!(
        rows.iter().map(|r| r.content.as_str()).collect::<Vec<_>>(),
        ["one", "three"]
    );
    assert_eq!(verify_chain(&rows), Ok(2));
    // The failed group's transaction, then two alone (the poisoned one
    // rolled back again).
    assert_eq!(
        f.sequencer
            .stats
            .commits
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );
}

/// A full disk (here SQLite's page limit) refuses the commit with the
/// ledger unchanged; once there is room, appends go on.
#[tokio::test]
async fn a_full_disk_refuses_the_append_and_writes_nothing() {
    let f = fixture();
    f.sequencer
        .append(batch(vec![new_event("before", None)]))
        .await
        .expect("room");
    let pages: i64 = {
        let writer = lock(&f.sequencer.shared.writer);
        let pages = writer
            .conn()
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .expect("page count");
        writer
            .conn()
            .execute_batch(&format!("PRAGMA max_page_count = {pages}"))
            .expect("limit");
        pages
    };
    let big = "x".repeat(64 * 1024);
    let err = f
        .sequencer
        .append(batch(vec![new_event(&big, None)]))
        .await
        .expect_err("no room");
    assert!(matches!(err, WriteError::DiskFull { .. }), "{err}");
    assert!(err.to_string().contains("disk is full"), "{err}");
    assert_eq!(stored(&f.store).len(), 1);

    lock(&f.sequencer.shared.writer)
        .conn()
        .execute_batch(&format!("PRAGMA max_page_count = {}", pages * 1000))
        .expect("room again");
    let appended = f
        .sequencer
        .append(batch(vec![new_event(&big, None)]))
        .await
        .expect("room again");
    assert_eq!(appended.events[0].event.id, 2);
    assert_eq!(verify_chain(&stored(&f.store)), Ok(2));
}

/// Jobs queued behind a busy writer when `stop` is called are still written
/// and answered; a job arriving after is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_writes_what_is_queued_then_refuses() {
    let f = fixture();
    // Hold the writer so that the first job's flush waits and the others
    // queue behind it.
    let writer_held = {
        let shared = Arc::clone(&f.sequencer.shared);
        let (held, hold) = std::sync::mpsc::channel::<()>();
        let (release, released) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            let _writer = lock(&shared.writer);
            let _ = held.send(());
            let _ = released.recv();
        });
        hold.recv().expect("writer held");
        release
    };
    let mut appends = Vec::new();
    for i in 0..5 {
        let sequencer = f.sequencer.clone();
        appends.push(tokio::spawn(async move {
            sequencer
                .append(batch(vec![new_event(&format!("queued {i}"), None)]))
                .await
        }));
    }
    // Every append holds its slot (it is queued, or flushing) before stop
    // begins.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while f.sequencer.shared.slots.available_permits() > 64 - 5 {
        assert!(std::time::Instant::now() < deadline, "appends never queued");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!lock(&f.sequencer.shared.queue).jobs.is_empty());
    let stopping = {
        let sequencer = f.sequencer.clone();
        tokio::spawn(async move { sequencer.stop(super::StopReason::ShuttingDown).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!stopping.is_finished(), "stop waits for the queue");
    drop(writer_held);
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("stop returns")
        .expect("stop task");
    for append in appends {
        let outcome = append.await.expect("task").expect("queued append written");
        assert_eq!(outcome.events.len(), 1);
    }
    assert_eq!(stored(&f.store).len(), 5);
    let late = f
        .sequencer
        .append(batch(vec![new_event("late", None)]))
        .await;
    assert!(matches!(late, Err(WriteError::ShuttingDown)), "{late:?}");
}

/// A row imported at the largest id leaves no id for an append: the append
/// is refused and nothing is written (never a wrapped or negative id).
#[tokio::test]
async fn an_append_after_the_largest_id_is_refused_with_the_ledger_unchanged() {
    let f = fixture();
    let meta = serde_json::json!({});
    let ts = "2025-09-29T12:00:00+00:00".to_string();
    let hash = crate::chain::event_hash(crate::event::MAX_ID, &ts, "user", "last", &meta, None)
        .expect("hash");
    let imported = f
        .sequencer
        .import(ImportBatch {
            rows: vec![Event {
                id: crate::event::MAX_ID,
                ts,
                kind: "user".into(),
                content: "last".into(),
                meta_text: "{}".into(),
                prev_hash: None,
                hash: Some(hash),
                parsed: crate::event::ParsedMeta::given(meta),
            }],
            mode: ImportMode::Verify,
        })
        .await
        .expect("import at the largest id");
    assert_eq!(imported.head.last_id, crate::event::MAX_ID);
    let err = f
        .sequencer
        .append(batch(vec![new_event("one more", None)]))
        .await
        .expect_err("no id left");
    assert!(
        matches!(err, WriteError::IdsExhausted { last_id } if last_id == crate::event::MAX_ID),
        "{err}"
    );
    let rows = stored(&f.store);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, crate::event::MAX_ID);
}

/// A row for a VERBATIM import: hash and link made up (a broken chain).
fn forged_row(id: i64) -> Event {
    Event {
        id,
        ts: "2025-01-01T00:00:00Z".into(),
        kind: "user".into(),
        content: format!("row {id}"),
        meta_text: "{}".into(),
        prev_hash: None,
        hash: Some("0".repeat(64)),
        parsed: crate::event::ParsedMeta::on_first_use(),
    }
}

fn verbatim(ids: std::ops::RangeInclusive<i64>) -> ImportBatch {
    ImportBatch {
        rows: ids.map(forged_row).collect(),
        mode: ImportMode::Verbatim,
    }
}

#[tokio::test]
async fn verbatim_copies_into_an_empty_ledger_in_several_calls_but_never_extends_one() {
    let f = fixture();
    let first = f.sequencer.import(verbatim(1..=3)).await.expect("empty");
    assert_eq!(first.imported, 3);
    // The next batch of the same copy, and a resumed one (1..=3 skipped).
    f.sequencer.import(verbatim(4..=5)).await.expect("continue");
    let resumed = f.sequencer.import(verbatim(1..=6)).await.expect("resume");
    assert_eq!((resumed.skipped, resumed.imported), (5, 1));

    // A VERIFY import adding nothing leaves the copy open...
    let same = ImportBatch {
        rows: vec![forged_row(6)],
        mode: ImportMode::Verify,
    };
    assert_eq!(f.sequencer.import(same).await.expect("skip").skipped, 1);
    f.sequencer
        .import(verbatim(7..=7))
        .await
        .expect("still a copy");
    assert_eq!(stored(&f.store).len(), 7);
}

#[tokio::test]
async fn verbatim_is_refused_once_an_append_wrote_a_row() {
    let f = fixture();
    f.sequencer
        .append(batch(vec![new_event("a", None)]))
        .await
        .expect("append");
    let err = f.sequencer.import(verbatim(2..=2)).await.unwrap_err();
    assert!(matches!(err, WriteError::VerbatimNotEmpty { ref head } if head.last_id == 1));
    assert_eq!(stored(&f.store).len(), 1, "nothing written");
}

/// A write after the sequencer stopped says why it stopped: a deleted
/// mind, a mind closed to make room, the server shutting down; nothing of
/// it is written.
#[tokio::test]
async fn a_write_after_stop_says_why_it_stopped() {
    for (reason, expected) in [
        (super::StopReason::MindDeleted, "deleted"),
        (super::StopReason::MindClosed, "closed to make room"),
        (super::StopReason::ShuttingDown, "shutting down"),
    ] {
        let f = fixture();
        f.sequencer.stop(reason).await;
        // A second stop keeps the first reason.
        f.sequencer.stop(super::StopReason::ShuttingDown).await;
        let late = f
            .sequencer
            .append(batch(vec![new_event("late", None)]))
            .await;
        let message = late.expect_err("refused").to_string();
        assert!(message.contains(expected), "{reason:?}: {message}");
        assert!(stored(&f.store).is_empty());
    }
}
