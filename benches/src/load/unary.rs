//! Closed-loop unary scenarios: `concurrency` tasks, each sending its next
//! request as soon as the previous one is answered, spread over the
//! channels.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pmm_client::v1;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::HealthCheckRequest;

use super::conn::Conn;
use super::minds::{request, MindHeaders};
use super::payload::Payloads;
use super::stats::Latencies;
use super::{Limit, LoadError, Scenario};

/// What a unary run measured.
#[derive(Debug)]
pub struct UnaryOutcome {
    /// Latency of each successful operation.
    pub latencies: Latencies,
    /// Operations that failed (RPC error or a wrong answer).
    pub errors: u64,
    /// The first failure, for the report.
    pub first_error: Option<String>,
    /// Events written by the successful operations.
    pub events_appended: u64,
    /// Wall time from the first request to the last answer.
    pub elapsed: Duration,
}

/// One task's stubs and inputs.
struct Worker {
    conn: Conn,
    payloads: Arc<Payloads>,
    batch: usize,
    /// The minds the calls name (none: no header).
    minds: Arc<MindHeaders>,
    seed: u64,
}

/// What a unary run is given besides the connections and the scenario.
#[derive(Clone, Debug)]
pub struct Inputs {
    pub payloads: Arc<Payloads>,
    /// Events per `append-batch` request.
    pub batch: usize,
    /// Source of payload indexes (and mind picks), across runs.
    pub seq: Arc<AtomicU64>,
    /// The minds the calls name.
    pub minds: Arc<MindHeaders>,
    /// Seed of the random mind picks.
    pub seed: u64,
}

fn status(context: &str, e: tonic::Status) -> String {
    format!("{context}: {:?}: {}", e.code(), e.message())
}

fn appended(
    context: &str,
    response: tonic::Response<v1::AppendResponse>,
    want: usize,
) -> Result<v1::AppendResponse, String> {
    let response = response.into_inner();
    if response.events.len() != want || response.events.iter().any(|e| e.id == 0) {
        return Err(format!(
            "{context}: {} events acknowledged, expected {want}",
            response.events.len()
        ));
    }
    Ok(response)
}

impl Worker {
    /// One operation of `scenario`; the number of events it wrote.
    async fn once(&mut self, scenario: Scenario, seq: u64) -> Result<u64, String> {
        // One mind per operation (all the calls of an interaction name it).
        let mind = match scenario {
            Scenario::OpenMind => self.minds.nth(seq),
            _ => self.minds.random(seq, self.seed),
        };
        match scenario {
            Scenario::Noop => {
                let response = self
                    .conn
                    .health
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await
                    .map_err(|e| status("Check", e))?;
                if response.into_inner().status != ServingStatus::Serving as i32 {
                    return Err("Check: not SERVING".to_string());
                }
                Ok(0)
            }
            Scenario::Append => {
                let message = v1::AppendRequest {
                    events: vec![self.payloads.mixed(seq)],
                    ..Default::default()
                };
                let response = self.conn.ledger.append(request(message, mind)).await;
                appended("Append", response.map_err(|e| status("Append", e))?, 1)?;
                Ok(1)
            }
            Scenario::AppendBatch => {
                let message = v1::AppendRequest {
                    events: self
                        .payloads
                        .batch(seq.wrapping_mul(self.batch as u64), self.batch),
                    ..Default::default()
                };
                let response = self.conn.ledger.append(request(message, mind)).await;
                appended(
                    "Append",
                    response.map_err(|e| status("Append", e))?,
                    self.batch,
                )?;
                Ok(self.batch as u64)
            }
            Scenario::GetMetrics | Scenario::OpenMind => {
                self.conn
                    .mind
                    .get_metrics(request(v1::GetMetricsRequest::default(), mind))
                    .await
                    .map_err(|e| status("GetMetrics", e))?;
                Ok(0)
            }
            Scenario::GetProjection => {
                let response = self
                    .conn
                    .mind
                    .get_projection(request(v1::GetProjectionRequest::default(), mind))
                    .await
                    .map_err(|e| status("GetProjection", e))?;
                if response.into_inner().self_model.is_none() {
                    return Err("GetProjection: no self_model".to_string());
                }
                Ok(0)
            }
            Scenario::GetContext => {
                let response = self
                    .conn
                    .mind
                    .get_context(request(v1::GetContextRequest::default(), mind))
                    .await
                    .map_err(|e| status("GetContext", e))?;
                if response.into_inner().text.is_empty() {
                    return Err("GetContext: empty text".to_string());
                }
                Ok(0)
            }
            Scenario::GetContextBreakdown => {
                let message = v1::GetContextRequest {
                    include_breakdown: true,
                    ..Default::default()
                };
                let response = self
                    .conn
                    .mind
                    .get_context(request(message, mind))
                    .await
                    .map_err(|e| status("GetContext", e))?;
                if response.into_inner().breakdown.is_none() {
                    return Err("GetContext: no breakdown".to_string());
                }
                Ok(0)
            }
            Scenario::MetricsHistory => {
                let response = self
                    .conn
                    .mind
                    .get_metrics_history(request(v1::GetMetricsHistoryRequest::default(), mind))
                    .await
                    .map_err(|e| status("GetMetricsHistory", e))?;
                if response.into_inner().points.is_empty() {
                    return Err("GetMetricsHistory: no points".to_string());
                }
                Ok(0)
            }
            Scenario::Interaction => {
                let user = v1::AppendRequest {
                    events: vec![self.payloads.user(seq)],
                    ..Default::default()
                };
                let response = self.conn.ledger.append(request(user, mind)).await;
                appended("Append user", response.map_err(|e| status("Append", e))?, 1)?;
                let context = self
                    .conn
                    .mind
                    .get_context(request(v1::GetContextRequest::default(), mind))
                    .await
                    .map_err(|e| status("GetContext", e))?;
                if context.into_inner().text.is_empty() {
                    return Err("GetContext: empty text".to_string());
                }
                self.conn
                    .mind
                    .get_metrics(request(v1::GetMetricsRequest::default(), mind))
                    .await
                    .map_err(|e| status("GetMetrics", e))?;
                let reply = v1::AppendRequest {
                    events: vec![self.payloads.response(seq)],
                    ..Default::default()
                };
                let response = self.conn.ledger.append(request(reply, mind)).await;
                appended(
                    "Append response",
                    response.map_err(|e| status("Append", e))?,
                    1,
                )?;
                Ok(2)
            }
            Scenario::Interaction2 => {
                let user = v1::AppendRequest {
                    events: vec![self.payloads.user(seq)],
                    views: Some(v1::AppendViewsRequest {
                        context: Some(v1::GetContextRequest::default()),
                        metrics: Some(v1::GetMetricsRequest::default()),
                    }),
                    ..Default::default()
                };
                let response = self.conn.ledger.append(request(user, mind)).await;
                let response =
                    appended("Append user", response.map_err(|e| status("Append", e))?, 1)?;
                let views = response.views.unwrap_or_default();
                let context_ok = views.context.is_some_and(|c| !c.text.is_empty());
                if !context_ok || views.metrics.is_none() {
                    return Err("Append with views: context or metrics missing".to_string());
                }
                let reply = v1::AppendRequest {
                    events: vec![self.payloads.response(seq)],
                    ..Default::default()
                };
                let response = self.conn.ledger.append(request(reply, mind)).await;
                appended(
                    "Append response",
                    response.map_err(|e| status("Append", e))?,
                    1,
                )?;
                Ok(2)
            }
            Scenario::VerifyChain | Scenario::SubscribeCatchup | Scenario::SubscribeFanout => Err(
                format!("{} is not a closed-loop unary scenario", scenario.name()),
            ),
        }
    }
}

/// What every task shares.
struct Shared {
    limit: Limit,
    deadline: Instant,
    /// Tickets handed out (count mode) / operations started.
    tickets: AtomicU64,
    /// Source of payload indexes, across runs.
    seq: Arc<AtomicU64>,
}

impl Shared {
    fn next(&self) -> Option<u64> {
        match self.limit {
            Limit::Count(n) => {
                let t = self.tickets.fetch_add(1, Ordering::Relaxed);
                (t < n).then(|| self.seq.fetch_add(1, Ordering::Relaxed))
            }
            Limit::Duration(_) => {
                (Instant::now() < self.deadline).then(|| self.seq.fetch_add(1, Ordering::Relaxed))
            }
        }
    }
}

struct TaskOutcome {
    latencies: Latencies,
    errors: u64,
    first_error: Option<String>,
    events: u64,
}

/// Runs `scenario` closed-loop at `concurrency` over `conns` until `limit`.
pub async fn run(
    conns: &[Conn],
    scenario: Scenario,
    concurrency: usize,
    limit: Limit,
    inputs: &Inputs,
) -> Result<UnaryOutcome, LoadError> {
    if conns.is_empty() {
        return Err(LoadError::Internal("no connection".to_string()));
    }
    let started = Instant::now();
    let deadline = match limit {
        Limit::Duration(d) => started + d,
        Limit::Count(_) => started,
    };
    let shared = Arc::new(Shared {
        limit,
        deadline,
        tickets: AtomicU64::new(0),
        seq: Arc::clone(&inputs.seq),
    });
    let mut tasks = Vec::with_capacity(concurrency);
    for i in 0..concurrency.max(1) {
        let mut worker = Worker {
            conn: conns[i % conns.len()].clone(),
            payloads: Arc::clone(&inputs.payloads),
            batch: inputs.batch,
            minds: Arc::clone(&inputs.minds),
            seed: inputs.seed,
        };
        let shared = Arc::clone(&shared);
        let mut out = TaskOutcome {
            latencies: Latencies::new()?,
            errors: 0,
            first_error: None,
            events: 0,
        };
        tasks.push(tokio::spawn(async move {
            while let Some(seq) = shared.next() {
                let t0 = Instant::now();
                match worker.once(scenario, seq).await {
                    Ok(events) => {
                        out.latencies.record(t0.elapsed());
                        out.events += events;
                    }
                    Err(e) => {
                        out.errors += 1;
                        out.first_error.get_or_insert(e);
                    }
                }
            }
            out
        }));
    }
    let mut total = UnaryOutcome {
        latencies: Latencies::new()?,
        errors: 0,
        first_error: None,
        events_appended: 0,
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        let out = task
            .await
            .map_err(|e| LoadError::Internal(format!("load task: {e}")))?;
        total.latencies.merge(&out.latencies)?;
        total.errors += out.errors;
        total.events_appended += out.events;
        if total.first_error.is_none() {
            total.first_error = out.first_error;
        }
    }
    total.elapsed = started.elapsed();
    Ok(total)
}
