//! Subscribers cannot exhaust the server: streams whose clients stop
//! reading hold a bounded number of bytes each, so the server's memory
//! stays bounded while appends go on, and is given back when they leave.

mod support;

use std::time::Duration;

use pmm::v1::ledger_client::LedgerClient;
use pmm::v1::{self, AppendRequest, EventInput, SubscribeRequest};
use support::Server;

/// Stalled subscriptions, each on its own connection (so that HTTP/2 flow
/// control stops the server sending to it), never read.
async fn stall(
    server: &Server,
    n: usize,
) -> Vec<(
    LedgerClient<tonic::transport::Channel>,
    tonic::Streaming<v1::SubscribeResponse>,
)> {
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        let mut ledger = server.ledger().await;
        let stream = ledger
            .subscribe(SubscribeRequest {
                start: Some(v1::subscribe_request::Start::FromStart(true)),
                heartbeat_ms: Some(0),
                ..Default::default()
            })
            .await
            .expect("subscribe")
            .into_inner();
        streams.push((ledger, stream));
    }
    streams
}

/// Subscribes from the start and reads until `caught_up`.
async fn read_all(server: &Server) {
    let mut ledger = server.ledger().await;
    let mut stream = ledger
        .subscribe(SubscribeRequest {
            heartbeat_ms: Some(0),
            ..Default::default()
        })
        .await
        .expect("subscribe")
        .into_inner();
    while let Some(message) = stream.message().await.expect("message") {
        if matches!(
            message.item,
            Some(v1::subscribe_response::Item::CaughtUp(_))
        ) {
            return;
        }
    }
}

/// `writers` tasks appending batches of 10 events of about `bytes` each,
/// `total` events in all.
async fn append(server: &Server, writers: usize, total: usize, bytes: usize) {
    let per_writer = total / writers / 10;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let mut ledger = server.ledger().await;
        tasks.push(tokio::spawn(async move {
            for b in 0..per_writer {
                let events = (0..10)
                    .map(|i| EventInput {
                        kind: "user".into(),
                        content: format!("{w}-{b}-{i} {}", "x".repeat(bytes)),
                        meta: "{}".into(),
                        idempotency_key: String::new(),
                    })
                    .collect();
                ledger
                    .append(AppendRequest {
                        events,
                        ..Default::default()
                    })
                    .await
                    .expect("append");
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
}

/// Waits (at most 30 s) until the server is nearly idle: under 30 ms of
/// CPU in 300 ms.
async fn settle(server: &Server) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if server.cpu_during(Duration::from_millis(300)).await < Duration::from_millis(30) {
            return;
        }
    }
}

/// A size of the run: the suite's default, or larger for RELIABILITY.md's
/// figures (e.g. `PMM_STALLED=200 PMM_STALLED_APPENDS=50000`).
fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_subscribers_hold_bounded_memory() {
    let subscribers = setting("PMM_STALLED", 100);
    let appends = setting("PMM_STALLED_APPENDS", 20_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::spawn(&dir.path().join("pmm.db"), &[]).await;
    // The baseline: after the same appends and a subscriber reading them
    // all (SQLite's page caches and the live and tail windows filled).
    let started = std::time::Instant::now();
    append(&server, 8, appends, 200).await;
    let alone = appends as f64 / started.elapsed().as_secs_f64();
    read_all(&server).await;
    let baseline = server.status_kb("VmRSS");
    let streams = stall(&server, subscribers).await;
    // Each stream first takes what HTTP/2 flow control lets through (its
    // window, megabytes) before it stalls: let that catch-up finish, so
    // that the appends below are timed against stalled streams only.
    settle(&server).await;
    let started = std::time::Instant::now();
    append(&server, 8, appends, 200).await;
    let stalled = appends as f64 / started.elapsed().as_secs_f64();
    // Printed, not asserted: a rate is a benchmark's to judge.
    eprintln!(
        "appends: {alone:.0}/s alone, {stalled:.0}/s with {subscribers} stalled subscribers ({:.0}%)",
        100.0 * stalled / alone
    );
    let peak = server.status_kb("VmHWM");
    let grown_mb = (peak.saturating_sub(baseline)) / 1024;
    eprintln!(
        "{subscribers} stalled, {appends} appends: baseline {baseline} kB, peak {peak} kB, grown {grown_mb} MB, now {} kB",
        server.status_kb("VmRSS")
    );
    // Each subscriber's 64 KiB in flight and its stream's buffers (about
    // 0.5 MB each in all), and SQLite's page caches filled by their
    // catch-up reads.
    let bound_mb = 50 + subscribers as u64 / 2;
    assert!(grown_mb < bound_mb, "the server grew by {grown_mb} MB");

    drop(streams);
    // Given back within seconds (about 4 s here), not held.
    let left = std::time::Instant::now();
    let deadline = left + Duration::from_secs(10);
    let mut seen = Vec::new();
    loop {
        let rss = server.status_kb("VmRSS");
        seen.push(rss);
        if rss.saturating_sub(baseline) < 20 * 1024 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "memory not given back: {seen:?} kB against {baseline} kB"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "within 20 MB of the baseline {:.1} s after the subscribers left: {seen:?} kB",
        left.elapsed().as_secs_f64()
    );
}

/// Large events through stalled subscribers: each holds at most its budget,
/// whatever the size of the rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_subscribers_on_large_events_hold_bounded_memory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::spawn(&dir.path().join("pmm.db"), &[]).await;
    let baseline = server.status_kb("VmRSS");
    let streams = stall(&server, 6).await;
    append(&server, 2, 120, 1_000_000).await;
    let peak = server.status_kb("VmHWM");
    let grown_mb = (peak.saturating_sub(baseline)) / 1024;
    eprintln!("large: baseline {baseline} kB, peak {peak} kB, grown {grown_mb} MB");
    // The tail window (32 MiB), the live window (16 MiB), the 10 MB
    // requests being decoded, and about 5 MB per stalled subscriber (its
    // budget lets one 1 MB row through at a time).
    assert!(grown_mb < 160, "the server grew by {grown_mb} MB");
    drop(streams);
}
