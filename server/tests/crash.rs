//! Crash safety: the real binary under concurrent appends, killed with
//! SIGKILL at a varying moment, round after round on one ledger file, for
//! each durability. After every kill, the restarted server must hold every
//! acknowledged event exactly as acknowledged (id, ts, kind, content, meta,
//! prev_hash, hash) at contiguous ids 1..=head, each request cut off by the
//! kill wholly or not at all, a chain that verifies, and derived state equal
//! to a full rebuild: its views after more appends (folded incrementally on
//! top of its start-up rebuild) equal those of a fresh server on a copy of
//! the file, and the check mode (`--verify-folds-every`) running during the
//! load never found the incremental state differing from a rebuild.

mod support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pmm::v1;
use pmm::v1::ledger_client::LedgerClient;
use support::Server;
use tonic::transport::Channel;

/// Kill-and-restart rounds per durability.
const ROUNDS: u64 = 20;
/// Concurrent appending tasks, each on its own connection.
const APPENDERS: u64 = 12;
/// Check mode: the server rebuilds and compares every this many events.
const VERIFY_FOLDS_EVERY: &str = "50";

/// One event as sent.
#[derive(Clone, Debug)]
struct Sent {
    kind: String,
    content: String,
    meta: String,
}

/// An event whose Append was acknowledged, with where it landed.
#[derive(Clone, Debug)]
struct Acked {
    id: u64,
    ts: String,
    hash: String,
    prev_hash: Option<String>,
    sent: Sent,
}

/// An Append that failed (the kill cut it off): its events may or may not
/// be stored, but all together or none.
#[derive(Debug)]
struct Failed {
    events: Vec<Sent>,
    at: Instant,
    error: String,
}

/// The event `seq` of appender `task` in `round`: mostly `user` events with
/// meta `{}`, with kinds the folds read mixed in (telemetry for the stage,
/// commitments opened and closed, reflections) so that the derived state
/// compared after each crash is not empty. Contents are unique.
fn event(round: u64, task: u64, seq: u64) -> Sent {
    let tag = format!("r{round} t{task} s{seq}");
    let (kind, content, meta) = match seq % 8 {
        3 => (
            "autonomy_tick",
            tag,
            format!(
                r#"{{"telemetry": {{"IAS": 0.{}, "GAS": 0.{}}}}}"#,
                (task + seq) % 10,
                seq % 7
            ),
        ),
        5 => (
            "commitment_open",
            tag,
            format!(
                r#"{{"cid": "c{round}-{task}-{seq}", "text": "Finish item {seq} of task {task}."}}"#
            ),
        ),
        6 => (
            "reflection",
            format!("{tag}: I keep my name; identity holds"),
            "{}".to_string(),
        ),
        7 if seq > 8 => (
            "commitment_close",
            tag,
            format!(r#"{{"cid": "c{round}-{task}-{}"}}"#, seq - 2),
        ),
        _ => ("user", tag, "{}".to_string()),
    };
    Sent {
        kind: kind.to_string(),
        content,
        meta,
    }
}

fn input(sent: &Sent) -> v1::EventInput {
    v1::EventInput {
        kind: sent.kind.clone(),
        content: sent.content.clone(),
        meta: sent.meta.clone(),
        idempotency_key: String::new(),
    }
}

/// Appends batches of 1 to 3 events (by task) until `stop` or the first
/// failure; returns what was acknowledged and the request that failed.
async fn appender(
    mut client: LedgerClient<Channel>,
    round: u64,
    task: u64,
    stop: Arc<AtomicBool>,
) -> (Vec<Acked>, Option<Failed>) {
    let batch = 1 + task % 3;
    let mut acked = Vec::new();
    let mut seq = 0;
    while !stop.load(Ordering::Relaxed) {
        let events: Vec<Sent> = (0..batch)
            .map(|_| {
                seq += 1;
                event(round, task, seq)
            })
            .collect();
        let request = v1::AppendRequest {
            events: events.iter().map(input).collect(),
            ..Default::default()
        };
        let answer = tokio::time::timeout(Duration::from_secs(10), client.append(request)).await;
        let error = match answer {
            Ok(Ok(response)) => {
                let response = response.into_inner();
                assert_eq!(response.events.len(), events.len(), "{response:?}");
                for (placed, sent) in response.events.into_iter().zip(events) {
                    assert!(!placed.deduplicated);
                    acked.push(Acked {
                        id: placed.id,
                        ts: placed.ts,
                        hash: placed.hash,
                        prev_hash: placed.prev_hash,
                        sent,
                    });
                }
                continue;
            }
            Ok(Err(status)) => format!("{:?}: {}", status.code(), status.message()),
            Err(_) => "no answer in 10 s".to_string(),
        };
        let failed = Failed {
            events,
            at: Instant::now(),
            error,
        };
        return (acked, Some(failed));
    }
    (acked, None)
}

/// Every row, by Read pages.
async fn read_all(ledger: &mut LedgerClient<Channel>) -> Vec<v1::Event> {
    let mut rows = Vec::new();
    let mut start = 1;
    loop {
        let page = ledger
            .read(v1::ReadRequest {
                start_id: Some(start),
                limit: 10_000,
                ..Default::default()
            })
            .await
            .expect("read")
            .into_inner();
        rows.extend(page.events);
        match page.next_start_id {
            Some(next) => start = next,
            None => return rows,
        }
    }
}

/// The derived views compared between the restarted server and a rebuild.
#[derive(Debug, PartialEq)]
struct Views {
    projection: v1::GetProjectionResponse,
    strict: v1::GetProjectionResponse,
    metrics: v1::GetMetricsResponse,
    context: v1::GetContextResponse,
    compact: v1::GetContextResponse,
    tail: v1::GetContextResponse,
    directives: v1::GetDirectivesResponse,
    identity: v1::GetIdentityResponse,
}

async fn views(server: &Server) -> Views {
    let mut mind = server.mind().await;
    Views {
        projection: mind
            .get_projection(v1::GetProjectionRequest {
                expired_limit: Some(1000),
                warnings_limit: Some(1000),
                ..Default::default()
            })
            .await
            .expect("projection")
            .into_inner(),
        strict: mind
            .get_projection(v1::GetProjectionRequest {
                strict: true,
                ..Default::default()
            })
            .await
            .expect("strict projection")
            .into_inner(),
        metrics: mind
            .get_metrics(v1::GetMetricsRequest {
                include_diagnosis: true,
                as_of_id: None,
            })
            .await
            .expect("metrics")
            .into_inner(),
        context: mind
            .get_context(v1::GetContextRequest::default())
            .await
            .expect("context")
            .into_inner(),
        compact: mind
            .get_context(v1::GetContextRequest {
                layout: v1::ContextLayout::Compact as i32,
                ..Default::default()
            })
            .await
            .expect("compact context")
            .into_inner(),
        tail: mind
            .get_context(v1::GetContextRequest {
                tail: Some(40),
                ..Default::default()
            })
            .await
            .expect("tail context")
            .into_inner(),
        directives: mind
            .get_directives(v1::GetDirectivesRequest::default())
            .await
            .expect("directives")
            .into_inner(),
        identity: mind
            .get_identity(v1::GetIdentityRequest::default())
            .await
            .expect("identity")
            .into_inner(),
    }
}

/// Every line the (stopped) server logged.
fn drain_log(server: &Server) -> Vec<String> {
    let mut lines = Vec::new();
    while let Ok(line) = server.log.recv_timeout(Duration::from_secs(5)) {
        lines.push(line);
    }
    lines
}

/// Copies the ledger (database, WAL if any, anchor) to `to`'s `pmm.db`.
fn copy_ledger(db: &Path, to: &Path) -> std::path::PathBuf {
    let copy = to.join("pmm.db");
    for suffix in ["", "-wal", "-anchor"] {
        let mut from = db.as_os_str().to_owned();
        from.push(suffix);
        let mut into = copy.as_os_str().to_owned();
        into.push(suffix);
        if Path::new(&from).exists() {
            std::fs::copy(&from, &into).expect("copy the ledger");
        }
    }
    copy
}

/// What the rounds of one durability exercised.
#[derive(Default)]
struct Totals {
    acknowledged: usize,
    cut_off: usize,
    cut_off_stored: usize,
    fold_checks: usize,
}

async fn kill_rounds(durability: &str, salt: u64) {
    let started = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix(&format!("crash-{durability}-"))
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");
    let db = dir.path().join("pmm.db");
    let args = [
        "--durability",
        durability,
        "--verify-folds-every",
        VERIFY_FOLDS_EVERY,
        "--log",
        "info,pmm_server::ledger::sequencer::publish=debug",
    ];
    // Every event ever acknowledged, by id.
    let mut acked: HashMap<u64, Acked> = HashMap::new();
    let mut totals = Totals::default();

    for round in 0..ROUNDS {
        // Load, then SIGKILL at a moment that varies by round.
        let mut server = Server::spawn(&db, &args).await;
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for task in 0..APPENDERS {
            let client = server.ledger().await;
            tasks.push(tokio::spawn(appender(
                client,
                round,
                task,
                Arc::clone(&stop),
            )));
        }
        let kill_after = Duration::from_millis(150 + (round * 7919 + salt * 104_729) % 251);
        tokio::time::sleep(kill_after).await;
        let killed_at = Instant::now();
        server.kill();
        stop.store(true, Ordering::Relaxed);
        let mut round_acked = 0;
        let mut failures = Vec::new();
        for task in tasks {
            let (done, failed) = task.await.expect("appender");
            round_acked += done.len();
            for a in done {
                let id = a.id;
                assert!(
                    acked.insert(id, a).is_none(),
                    "id {id} was acknowledged twice"
                );
            }
            if let Some(failed) = failed {
                assert!(
                    failed.at >= killed_at,
                    "an append failed before the kill: {}",
                    failed.error
                );
                failures.push(failed);
            }
        }
        assert!(
            round_acked > 0,
            "round {round}: nothing was acknowledged before the kill"
        );
        let log = drain_log(&server);
        assert!(
            !log.iter().any(|l| l.contains("differs from a rebuild")),
            "the check mode found the incremental state wrong:\n{}",
            log.join("\n")
        );
        totals.fold_checks += log
            .iter()
            .filter(|l| l.contains("fold check: incremental state equals a rebuild"))
            .count();
        drop(server);

        // Restart: the ledger is writable and holds every acknowledged event.
        let mut server = Server::spawn_unchecked(&db, &args).await;
        let mut ledger = server.ledger().await;
        let stats = ledger
            .stats(v1::StatsRequest {})
            .await
            .expect("stats")
            .into_inner();
        assert_eq!(stats.condition, "writable", "{stats:?}");
        assert_eq!(stats.chain_fault, None);
        let head = ledger
            .head(v1::HeadRequest {})
            .await
            .expect("head")
            .into_inner();
        assert_eq!(head.count, head.last_id, "ids have a gap: {head:?}");
        let rows = read_all(&mut ledger).await;
        let ids: Vec<u64> = rows.iter().map(|r| r.id).collect();
        assert!(
            ids.iter().copied().eq(1..=head.last_id),
            "the ids are not 1..={}",
            head.last_id
        );
        for a in acked.values() {
            let row = &rows.get(a.id as usize - 1).unwrap_or_else(|| {
                panic!(
                    "acknowledged event {} is lost (head {})",
                    a.id, head.last_id
                )
            });
            let stored = (
                &row.ts,
                &row.kind,
                &row.content,
                &row.meta,
                &row.prev_hash,
                &row.hash,
            );
            let expected = (
                &a.ts,
                &a.sent.kind,
                &a.sent.content,
                &a.sent.meta,
                &a.prev_hash,
                &a.hash,
            );
            assert_eq!(stored, expected, "acknowledged event {} differs", a.id);
        }
        let mut by_content: HashMap<&str, u64> = HashMap::new();
        for row in &rows {
            if let Some(other) = by_content.insert(&row.content, row.id) {
                panic!("rows {other} and {} hold the same event", row.id);
            }
        }
        // A request cut off by the kill is stored whole (at consecutive
        // ids) or not at all.
        let mut cut_off_stored = 0;
        for failed in &failures {
            let found: Vec<Option<u64>> = failed
                .events
                .iter()
                .map(|e| by_content.get(e.content.as_str()).copied())
                .collect();
            if found.iter().all(Option::is_none) {
                continue;
            }
            let first =
                found[0].unwrap_or_else(|| panic!("part of a request is stored: {found:?}"));
            for (i, id) in found.iter().enumerate() {
                assert_eq!(
                    *id,
                    Some(first + i as u64),
                    "part of a request is stored: {found:?}"
                );
                let row = &rows[first as usize - 1 + i];
                let sent = &failed.events[i];
                assert_eq!((&row.kind, &row.meta), (&sent.kind, &sent.meta));
            }
            cut_off_stored += found.len();
        }
        let verified = ledger
            .verify_chain(v1::VerifyChainRequest {})
            .await
            .expect("verify")
            .into_inner();
        assert!(verified.ok, "{verified:?}");
        assert_eq!(
            (verified.checked, verified.as_of_id),
            (head.last_id, head.last_id)
        );

        // Appends go on at head + 1, folded on top of the start-up rebuild.
        let next = event(round, APPENDERS, 1);
        let placed = ledger
            .append(v1::AppendRequest {
                events: vec![input(&next)],
                ..Default::default()
            })
            .await
            .expect("append after restart")
            .into_inner();
        assert_eq!(placed.events[0].id, head.last_id + 1);
        assert_eq!(placed.events[0].prev_hash, head.last_hash);
        let more: Vec<Sent> = (2..=17).map(|seq| event(round, APPENDERS, seq)).collect();
        let placed_more = ledger
            .append(v1::AppendRequest {
                events: more.iter().map(input).collect(),
                ..Default::default()
            })
            .await
            .expect("append a batch after restart")
            .into_inner();
        assert_eq!(placed_more.events[0].id, head.last_id + 2);
        for (p, sent) in placed
            .events
            .into_iter()
            .chain(placed_more.events)
            .zip(std::iter::once(next).chain(more))
        {
            acked.insert(
                p.id,
                Acked {
                    id: p.id,
                    ts: p.ts,
                    hash: p.hash,
                    prev_hash: p.prev_hash,
                    sent,
                },
            );
        }
        let restarted = views(&server).await;
        drop(ledger);
        assert!(
            server.terminate().success(),
            "the server did not stop cleanly"
        );

        // A fresh server on a copy rebuilds everything from the file.
        let copy_dir = tempfile::Builder::new()
            .prefix("copy-")
            .tempdir_in(dir.path())
            .expect("copy dir");
        let copy = copy_ledger(&db, copy_dir.path());
        let mut fresh = Server::spawn(&copy, &[]).await;
        let rebuilt = views(&fresh).await;
        assert_eq!(
            restarted, rebuilt,
            "round {round}: the restarted server's views differ from a rebuild"
        );
        assert_eq!(rebuilt.metrics.as_of_id, head.last_id + 17);
        assert!(
            fresh.terminate().success(),
            "the fresh server did not stop cleanly"
        );

        totals.acknowledged += round_acked;
        totals.cut_off += failures.len();
        totals.cut_off_stored += cut_off_stored;
        eprintln!(
            "crash ({durability}) round {round}: SIGKILL after {} ms of load; {round_acked} events \
             acknowledged, {} requests cut off ({cut_off_stored} of their events stored anyway); \
             head {} after the restart",
            kill_after.as_millis(),
            failures.len(),
            head.last_id,
        );
    }
    assert!(
        totals.fold_checks > 0,
        "the check mode never ran: no fold check was logged"
    );
    assert!(
        totals.cut_off > 0,
        "no kill ever cut off a request in flight"
    );
    eprintln!(
        "crash ({durability}): {ROUNDS} rounds, {} events acknowledged under load ({} in the \
         ledger), {} requests cut off by SIGKILL ({} of their events stored), {} fold checks in \
         check mode, {:.1} s",
        totals.acknowledged,
        acked.len(),
        totals.cut_off,
        totals.cut_off_stored,
        totals.fold_checks,
        started.elapsed().as_secs_f64(),
    );
    let unique: HashSet<&str> = acked.values().map(|a| a.sent.content.as_str()).collect();
    assert_eq!(unique.len(), acked.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_appends_survive_sigkill_with_durability_normal() {
    kill_rounds("normal", 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_appends_survive_sigkill_with_durability_full() {
    kill_rounds("full", 1).await;
}
