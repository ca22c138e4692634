//! Subscription scenarios: one subscriber replaying the whole ledger
//! (`subscribe-catchup`), and many live subscribers receiving one append
//! (`subscribe-fanout`).

use std::time::{Duration, Instant};

use pmm_client::v1;
use pmm_client::v1::subscribe_request::Start;
use pmm_client::v1::subscribe_response::Item;
use tokio::sync::mpsc;

use super::conn::Conn;
use super::payload::Payloads;
use super::stats::Latencies;
use super::LoadError;

/// What a subscription scenario measured.
#[derive(Debug)]
pub struct StreamOutcome {
    /// Catch-up: the duration of each replay. Fan-out: the delay of each
    /// delivery (from sending the Append to a subscriber receiving it).
    pub latencies: Latencies,
    /// Replays / rounds done.
    pub operations: u64,
    /// Events received per replay (catch-up) or in all (fan-out).
    pub events: u64,
    /// Events written (fan-out: one per round).
    pub events_appended: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
}

impl StreamOutcome {
    /// Nothing measured yet.
    fn empty() -> Result<Self, LoadError> {
        Ok(StreamOutcome {
            latencies: Latencies::new()?,
            operations: 0,
            events: 0,
            events_appended: 0,
            errors: 0,
            first_error: None,
            elapsed: Duration::ZERO,
        })
    }
}

fn status(context: &str, e: tonic::Status) -> String {
    format!("{context}: {:?}: {}", e.code(), e.message())
}

/// One replay from the start to `caught_up`: (events received, duration).
async fn replay(conn: &Conn) -> Result<(u64, Duration), String> {
    let mut ledger = conn.ledger.clone();
    let started = Instant::now();
    let request = v1::SubscribeRequest {
        start: Some(Start::FromStart(true)),
        kinds: Vec::new(),
        heartbeat_ms: Some(0),
    };
    let mut stream = ledger
        .subscribe(request)
        .await
        .map_err(|e| status("Subscribe", e))?
        .into_inner();
    let mut events = 0u64;
    let mut last_id = 0u64;
    loop {
        match stream.message().await {
            Ok(Some(v1::SubscribeResponse {
                item: Some(Item::Event(ev)),
            })) => {
                if ev.id <= last_id {
                    return Err(format!("Subscribe: id {} after {last_id}", ev.id));
                }
                last_id = ev.id;
                events += 1;
            }
            Ok(Some(v1::SubscribeResponse {
                item: Some(Item::CaughtUp(c)),
            })) => {
                let took = started.elapsed();
                if c.position < last_id {
                    return Err(format!(
                        "Subscribe: caught_up at {} before the last event {last_id}",
                        c.position
                    ));
                }
                return Ok((events, took));
            }
            Ok(Some(_)) => {}
            Ok(None) => return Err("Subscribe: stream ended before caught_up".to_string()),
            Err(e) => return Err(status("Subscribe", e)),
        }
    }
}

/// `repeats` replays of the whole ledger by one subscriber.
pub async fn catchup(conn: &Conn, repeats: usize) -> Result<StreamOutcome, LoadError> {
    let mut out = StreamOutcome::empty()?;
    let started = Instant::now();
    for _ in 0..repeats.max(1) {
        match replay(conn).await {
            Ok((events, took)) => {
                out.latencies.record(took);
                out.operations += 1;
                out.events = events;
            }
            Err(e) => {
                out.errors += 1;
                out.first_error.get_or_insert(e);
            }
        }
    }
    out.elapsed = started.elapsed();
    Ok(out)
}

/// One live subscriber: signals `ready` at `caught_up`, then reports each
/// event id with the instant it arrived.
async fn subscriber(
    conn: Conn,
    ready: mpsc::Sender<Result<(), String>>,
    arrivals: mpsc::UnboundedSender<(u64, Instant)>,
) {
    let mut ledger = conn.ledger;
    let request = v1::SubscribeRequest {
        start: Some(Start::OnlyNew(true)),
        kinds: Vec::new(),
        heartbeat_ms: Some(0),
    };
    let mut stream = match ledger.subscribe(request).await {
        Ok(s) => s.into_inner(),
        Err(e) => {
            let _ = ready.send(Err(status("Subscribe", e))).await;
            return;
        }
    };
    loop {
        match stream.message().await {
            Ok(Some(v1::SubscribeResponse {
                item: Some(Item::Event(ev)),
            })) => {
                if arrivals.send((ev.id, Instant::now())).is_err() {
                    return;
                }
            }
            Ok(Some(v1::SubscribeResponse {
                item: Some(Item::CaughtUp(_)),
            })) => {
                let _ = ready.send(Ok(())).await;
            }
            Ok(Some(_)) => {}
            Ok(None) => {
                let _ = ready.send(Err("Subscribe: stream ended".to_string())).await;
                return;
            }
            Err(e) => {
                let _ = ready.send(Err(status("Subscribe", e))).await;
                return;
            }
        }
    }
}

/// Longest wait for subscribers to be ready, and for one append to reach
/// every subscriber.
const FANOUT_TIMEOUT: Duration = Duration::from_secs(30);

/// `subscribers` live subscribers (spread over `conns`); `rounds` times,
/// one append through `writer`, timing its arrival at each subscriber.
pub async fn fanout(
    conns: &[Conn],
    writer: &Conn,
    payloads: &Payloads,
    subscribers: usize,
    rounds: usize,
) -> Result<StreamOutcome, LoadError> {
    if conns.is_empty() {
        return Err(LoadError::Internal("no connection".to_string()));
    }
    let subscribers = subscribers.max(1);
    let (ready_tx, mut ready_rx) = mpsc::channel(subscribers);
    let (arrive_tx, mut arrive_rx) = mpsc::unbounded_channel();
    let mut tasks = Vec::with_capacity(subscribers);
    for i in 0..subscribers {
        let conn = conns[i % conns.len()].clone();
        tasks.push(tokio::spawn(subscriber(
            conn,
            ready_tx.clone(),
            arrive_tx.clone(),
        )));
    }
    drop(ready_tx);
    drop(arrive_tx);
    let abort = |tasks: &[tokio::task::JoinHandle<()>]| tasks.iter().for_each(|t| t.abort());

    let mut out = StreamOutcome::empty()?;
    for _ in 0..subscribers {
        match tokio::time::timeout(FANOUT_TIMEOUT, ready_rx.recv()).await {
            Ok(Some(Ok(()))) => {}
            Ok(Some(Err(e))) => {
                abort(&tasks);
                return Err(LoadError::Scenario(format!("subscribe-fanout: {e}")));
            }
            Ok(None) | Err(_) => {
                abort(&tasks);
                return Err(LoadError::Scenario(
                    "subscribe-fanout: subscribers not caught up in time".to_string(),
                ));
            }
        }
    }

    let started = Instant::now();
    let mut ledger = writer.ledger.clone();
    for round in 0..rounds.max(1) {
        let request = v1::AppendRequest {
            events: vec![payloads.user(round as u64)],
            ..Default::default()
        };
        let t0 = Instant::now();
        let id = match ledger.append(request).await {
            Ok(r) => match r.into_inner().events.first() {
                Some(e) => e.id,
                None => {
                    out.errors += 1;
                    out.first_error
                        .get_or_insert_with(|| "Append: no event acknowledged".to_string());
                    continue;
                }
            },
            Err(e) => {
                out.errors += 1;
                out.first_error.get_or_insert(status("Append", e));
                continue;
            }
        };
        out.events_appended += 1;
        let mut received = 0usize;
        while received < subscribers {
            match tokio::time::timeout(FANOUT_TIMEOUT, arrive_rx.recv()).await {
                Ok(Some((got, at))) if got == id => {
                    out.latencies.record(at.saturating_duration_since(t0));
                    received += 1;
                }
                // An event appended by someone else: not ours to time.
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        out.events += received as u64;
        if received < subscribers {
            out.errors += 1;
            out.first_error.get_or_insert_with(|| {
                format!("event {id} reached {received} of {subscribers} subscribers")
            });
            break;
        }
        out.operations += 1;
    }
    out.elapsed = started.elapsed();
    abort(&tasks);
    for t in tasks {
        let _ = t.await;
    }
    Ok(out)
}
