//! The load generator behind `pmm-load`: drives a running pmm server over
//! loopback gRPC, scenario by scenario, with a no-op baseline (the standard
//! health Check) measured in the same run, and reports requests/s and
//! p50/p90/p99 latencies, each also as a ratio to the no-op.
//!
//! [`run`] is the library entry point: it connects to `addr`, runs the
//! scenarios of a [`LoadConfig`] in a fixed order (reads before writes, so
//! that reads see the ledger as given) and returns a [`Report`]. [`spawn`]
//! starts and stops the real server binary; [`report`] prints the table and
//! reads/writes the JSON.

pub mod conn;
pub mod idle;
pub mod minds;
pub mod payload;
pub mod report;
pub mod secure;
pub mod spawn;
pub mod stats;
pub mod subscribe;
pub mod unary;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use pmm_client::v1;

pub use conn::{Conn, Credentials};
pub use idle::{IdleConfig, IdleReport};
pub use minds::{MindHeaders, Minds};
pub use payload::Payloads;
pub use report::{Report, Row, RunMeta, ServerFigures};
pub use secure::SecureSetup;
pub use spawn::{SpawnOptions, SpawnedServer};
pub use stats::{Latencies, Summary};

/// Why a load run failed (individual failed requests are counted in the
/// report instead).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("server not ready: {0}")]
    NotServing(String),
    #[error("cannot start the server: {0}")]
    Spawn(String),
    #[error("{0}")]
    Scenario(String),
    #[error("{0}: {1}")]
    Rpc(&'static str, String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("internal: {0}")]
    Internal(String),
}

/// A scenario. The order of the variants is the order in which [`run`]
/// runs them: reads before writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum)]
pub enum Scenario {
    /// grpc.health.v1 Check: the transport's own cost (always measured).
    Noop,
    /// VerifyChain over the whole ledger (repeated `verify_repeats` times).
    VerifyChain,
    /// One subscriber replays the whole ledger from the start to caught_up.
    SubscribeCatchup,
    /// Mind.GetMetrics (defaults).
    GetMetrics,
    /// Mind.GetMetrics on the minds of `--minds N` in turn: with the
    /// server's `--max-open-minds` below N, each call finds its mind closed
    /// and opens it (the latency of a first call to a mind not open).
    OpenMind,
    /// Mind.GetProjection (lenient; the default answer: the latest 20 expired commitments and warnings).
    GetProjection,
    /// Mind.GetContext (standard layout, whole ledger).
    GetContext,
    /// Mind.GetContext with the breakdown (o200k_base; counted on the first
    /// call per head, a cache lookup after).
    GetContextBreakdown,
    /// Mind.GetMetricsHistory (100 points over the whole ledger: one replay
    /// of every row per call). The server admits `--max-concurrent-replays`
    /// at once and refuses the rest: keep the concurrency within it.
    MetricsHistory,
    /// N live subscribers (only_new); one append; time to reach each.
    SubscribeFanout,
    /// Append user, GetContext, GetMetrics, Append response: 4 round trips.
    Interaction,
    /// Append user with views {context, metrics}, Append response: 2 round trips.
    Interaction2,
    /// Append of one event.
    Append,
    /// Append of a batch of `batch` events.
    AppendBatch,
}

impl Scenario {
    /// Every scenario, in run order.
    pub const ALL: [Scenario; 14] = [
        Scenario::Noop,
        Scenario::VerifyChain,
        Scenario::SubscribeCatchup,
        Scenario::GetMetrics,
        Scenario::OpenMind,
        Scenario::GetProjection,
        Scenario::GetContext,
        Scenario::GetContextBreakdown,
        Scenario::MetricsHistory,
        Scenario::SubscribeFanout,
        Scenario::Interaction,
        Scenario::Interaction2,
        Scenario::Append,
        Scenario::AppendBatch,
    ];

    /// The scenarios run when none are named: all but the two that measure
    /// opt-in features (the breakdown and the history) and `open-mind`
    /// (which needs many minds), so that the standing figures and targets
    /// stay comparable across releases.
    pub fn defaults() -> Vec<Scenario> {
        Scenario::ALL
            .into_iter()
            .filter(|s| {
                !matches!(
                    s,
                    Scenario::GetContextBreakdown | Scenario::MetricsHistory | Scenario::OpenMind
                )
            })
            .collect()
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Noop => "noop",
            Scenario::VerifyChain => "verify-chain",
            Scenario::SubscribeCatchup => "subscribe-catchup",
            Scenario::GetMetrics => "get-metrics",
            Scenario::OpenMind => "open-mind",
            Scenario::GetProjection => "get-projection",
            Scenario::GetContext => "get-context",
            Scenario::GetContextBreakdown => "get-context-breakdown",
            Scenario::MetricsHistory => "metrics-history",
            Scenario::SubscribeFanout => "subscribe-fanout",
            Scenario::Interaction => "interaction",
            Scenario::Interaction2 => "interaction2",
            Scenario::Append => "append",
            Scenario::AppendBatch => "append-batch",
        }
    }

    /// Closed-loop unary scenarios, run at each concurrency.
    pub fn is_unary(self) -> bool {
        !matches!(
            self,
            Scenario::VerifyChain | Scenario::SubscribeCatchup | Scenario::SubscribeFanout
        )
    }

    /// gRPC round trips per operation, for the ratios to the no-op
    /// (`None`: no ratio).
    pub fn round_trips(self) -> Option<u32> {
        match self {
            Scenario::Interaction => Some(4),
            Scenario::Interaction2 => Some(2),
            Scenario::VerifyChain | Scenario::SubscribeCatchup | Scenario::SubscribeFanout => None,
            _ => Some(1),
        }
    }
}

/// How long a scenario runs (per concurrency level).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// This many operations in all.
    Count(u64),
    /// Operations started until this much time has passed.
    Duration(Duration),
}

/// What to run.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// The scenarios (any order; run in [`Scenario::ALL`] order, the no-op
    /// added when missing).
    pub scenarios: Vec<Scenario>,
    /// Concurrency levels (in-flight operations) of the unary scenarios.
    pub concurrency: Vec<usize>,
    /// Per scenario and concurrency level.
    pub limit: Limit,
    /// Unrecorded warm-up before each unary measurement (zero = none).
    pub warmup: Duration,
    /// In-flight operations per HTTP/2 channel (one channel per this many).
    pub per_channel: usize,
    /// Events per `append-batch` request.
    pub batch: usize,
    /// `subscribe-fanout`: live subscribers.
    pub fanout_subscribers: usize,
    /// `subscribe-fanout`: appends timed.
    pub fanout_rounds: usize,
    /// `subscribe-catchup`: replays of the whole ledger.
    pub catchup_repeats: usize,
    /// `verify-chain`: calls.
    pub verify_repeats: usize,
    /// Seed of the session whose events are appended.
    pub seed: u64,
    /// The server's process id, for its CPU time per operation.
    pub server_pid: Option<u32>,
    /// Print a line per measurement to stderr.
    pub progress: bool,
    /// The minds the calls name (the `pmm-mind` header): none, one, or
    /// many with the unary calls spread at random over them.
    pub minds: Minds,
    /// Before the scenarios, append this many events to each mind (a
    /// server with `--create-minds-on-append` creates them).
    pub prepare: u64,
}

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            scenarios: Scenario::defaults(),
            concurrency: vec![1, 32],
            limit: Limit::Duration(Duration::from_secs(5)),
            warmup: Duration::from_millis(500),
            per_channel: 8,
            batch: 100,
            fanout_subscribers: 100,
            fanout_rounds: 50,
            catchup_repeats: 3,
            verify_repeats: 3,
            seed: 7,
            server_pid: None,
            progress: false,
            minds: Minds::Default,
            prepare: 0,
        }
    }
}

/// CPU time of this process and of the server, to charge to one
/// measurement.
struct CpuMark {
    client: Option<Duration>,
    server: Option<Duration>,
    server_pid: Option<u32>,
}

impl CpuMark {
    fn now(server_pid: Option<u32>) -> CpuMark {
        CpuMark {
            client: stats::cpu_time(None),
            server: server_pid.and_then(|pid| stats::cpu_time(Some(pid))),
            server_pid,
        }
    }

    /// (client, server) CPU µs per operation since the mark.
    fn per_op(&self, ops: u64) -> (Option<f64>, Option<f64>) {
        let later = CpuMark::now(self.server_pid);
        let per = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
            (Some(a), Some(b)) if ops > 0 => {
                Some(b.saturating_sub(a).as_secs_f64() * 1e6 / ops as f64)
            }
            _ => None,
        };
        (
            per(self.client, later.client),
            per(self.server, later.server),
        )
    }
}

fn progress(config: &LoadConfig, row: &Row) {
    if config.progress {
        eprintln!(
            "pmm-load: {:<18} c={:<3} {:>8} ops {:>3} err {:>10.0}/s p50 {:>9.1} µs p99 {:>9.1} µs",
            row.scenario,
            row.concurrency,
            row.operations,
            row.errors,
            row.ops_per_s,
            row.p50_us,
            row.p99_us
        );
    }
}

async fn head(conn: &Conn) -> Result<v1::LedgerHead, LoadError> {
    let response = conn
        .ledger
        .clone()
        .head(v1::HeadRequest {})
        .await
        .map_err(|e| LoadError::Rpc("Head", e.message().to_string()))?;
    Ok(response.into_inner())
}

async fn verify_chain(conn: &Conn, repeats: usize, config: &LoadConfig) -> Result<Row, LoadError> {
    let mut latencies = Latencies::new()?;
    let mut errors = 0u64;
    let mut first_error = None;
    let mut checked = 0u64;
    let mark = CpuMark::now(config.server_pid);
    let started = Instant::now();
    for _ in 0..repeats.max(1) {
        let t0 = Instant::now();
        match conn
            .ledger
            .clone()
            .verify_chain(v1::VerifyChainRequest {})
            .await
        {
            Ok(r) => {
                let took = t0.elapsed();
                let r = r.into_inner();
                if r.ok {
                    latencies.record(took);
                    checked = r.checked;
                } else {
                    errors += 1;
                    first_error.get_or_insert(format!("VerifyChain: not ok: {}", r.reason));
                }
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(format!("VerifyChain: {}", e.message()));
            }
        }
    }
    let elapsed = started.elapsed();
    let ops = latencies.len();
    let (client_cpu, server_cpu) = mark.per_op(ops);
    let mut row = Row::new(Scenario::VerifyChain, 1, &latencies, elapsed);
    row.errors = errors;
    row.first_error = first_error;
    row.events_per_op = Some(checked);
    row.events_per_s = (row.p50_us > 0.0).then(|| checked as f64 / (row.p50_us / 1e6));
    row.client_cpu_us_per_op = client_cpu;
    row.server_cpu_us_per_op = server_cpu;
    Ok(row)
}

fn stream_row(
    scenario: Scenario,
    concurrency: usize,
    out: subscribe::StreamOutcome,
    mark: &CpuMark,
) -> Row {
    let (client_cpu, server_cpu) = mark.per_op(out.operations);
    let mut row = Row::new(scenario, concurrency, &out.latencies, out.elapsed);
    row.operations = out.operations;
    row.errors = out.errors;
    row.first_error = out.first_error;
    row.events_appended = out.events_appended;
    row.client_cpu_us_per_op = client_cpu;
    row.server_cpu_us_per_op = server_cpu;
    match scenario {
        Scenario::SubscribeCatchup => {
            row.events_per_op = Some(out.events);
            row.events_per_s = (row.p50_us > 0.0).then(|| out.events as f64 / (row.p50_us / 1e6));
        }
        _ => {
            row.deliveries = Some(out.events);
        }
    }
    row
}

/// Appends `events` events to each of `minds` (in batches of up to 500,
/// spread over the channels), so that the scenarios read minds of that
/// size; a server with `--create-minds-on-append` creates them.
pub async fn prepare(
    conns: &[Conn],
    minds: &Minds,
    events: u64,
    config: &LoadConfig,
) -> Result<(), LoadError> {
    let names = match minds {
        Minds::Default => vec![None],
        _ => minds.names().into_iter().map(Some).collect(),
    };
    let payloads = Arc::new(Payloads::new(config.seed));
    let started = Instant::now();
    let total = names.len();
    let lanes = conns.len().max(1);
    let mut tasks = Vec::with_capacity(lanes);
    for lane in 0..lanes {
        let conn = conns[lane % conns.len()].clone();
        let mine: Vec<Option<String>> = names.iter().skip(lane).step_by(lanes).cloned().collect();
        let payloads = Arc::clone(&payloads);
        tasks.push(tokio::spawn(async move {
            for name in mine {
                let header = match &name {
                    Some(name) => Some(minds::header_value(name)?),
                    None => None,
                };
                let mut done = 0u64;
                while done < events {
                    let n = (events - done).min(500) as usize;
                    let message = v1::AppendRequest {
                        events: payloads.batch(done, n),
                        ..Default::default()
                    };
                    conn.ledger
                        .clone()
                        .append(minds::request(message, header.as_ref()))
                        .await
                        .map_err(|e| {
                            LoadError::Rpc(
                                "Append (prepare)",
                                format!(
                                    "{}: {:?}: {}",
                                    name.as_deref().unwrap_or("default"),
                                    e.code(),
                                    e.message()
                                ),
                            )
                        })?;
                    done += n as u64;
                }
            }
            Ok::<(), LoadError>(())
        }));
    }
    for task in tasks {
        task.await
            .map_err(|e| LoadError::Internal(format!("prepare task: {e}")))??;
    }
    if config.progress {
        eprintln!(
            "pmm-load: prepared {total} mind(s) with {events} events each in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Runs the scenarios of `config` against the server at `addr`
/// (`host:port` or a URI) and returns the report (machine, ledger and
/// server details included; [`Report::server`] is left for the caller).
pub async fn run(addr: &str, config: &LoadConfig) -> Result<Report, LoadError> {
    run_with(addr, &Credentials::default(), config).await
}

/// [`run`] over TLS or with a token, as `credentials` say.
pub async fn run_with(
    addr: &str,
    credentials: &Credentials,
    config: &LoadConfig,
) -> Result<Report, LoadError> {
    let mut scenarios = config.scenarios.clone();
    scenarios.push(Scenario::Noop);
    scenarios.sort();
    scenarios.dedup();
    let mut levels: Vec<usize> = config.concurrency.iter().map(|&c| c.max(1)).collect();
    if levels.is_empty() {
        levels.push(1);
    }
    let per_channel = config.per_channel.max(1);
    let max_level = levels.iter().copied().max().unwrap_or(1);
    let channels_needed = max_level
        .div_ceil(per_channel)
        .max(config.fanout_subscribers.div_ceil(per_channel))
        .max(1);
    // The calls outside the spread (Head, Stats, VerifyChain, Subscribe)
    // name the one mind, or the first of many.
    let credentials = Credentials {
        mind: config.minds.control(),
        ..credentials.clone()
    };
    let credentials = &credentials;
    let headers = Arc::new(config.minds.headers()?);
    if scenarios.contains(&Scenario::OpenMind) && !matches!(config.minds, Minds::Spread(_)) {
        return Err(LoadError::Scenario(
            "open-mind needs --minds N (more minds than the server's --max-open-minds)".to_string(),
        ));
    }
    let conns = conn::open_many(addr, credentials, channels_needed).await?;
    let control = Conn::open_with(addr, credentials).await?;
    if config.prepare > 0 {
        prepare(&conns, &config.minds, config.prepare, config).await?;
    }

    let started_head = head(&control).await?;
    let stats = control.stats().await?;
    let mut meta = RunMeta::collect(addr, config, &started_head, &stats);
    meta.security = credentials.describe(addr);

    let payloads = Arc::new(Payloads::new(config.seed));
    let seq = Arc::new(AtomicU64::new(0));
    let inputs = unary::Inputs {
        payloads: Arc::clone(&payloads),
        batch: config.batch,
        seq: Arc::clone(&seq),
        minds: headers,
        seed: config.seed,
    };
    let mut rows = Vec::new();
    for &scenario in &scenarios {
        match scenario {
            Scenario::VerifyChain => {
                let row = verify_chain(&control, config.verify_repeats, config).await?;
                progress(config, &row);
                rows.push(row);
            }
            Scenario::SubscribeCatchup => {
                let mark = CpuMark::now(config.server_pid);
                let out = subscribe::catchup(&control, config.catchup_repeats).await?;
                let row = stream_row(scenario, 1, out, &mark);
                progress(config, &row);
                rows.push(row);
            }
            Scenario::SubscribeFanout => {
                let mark = CpuMark::now(config.server_pid);
                let out = subscribe::fanout(
                    &conns,
                    &control,
                    &payloads,
                    config.fanout_subscribers,
                    config.fanout_rounds,
                )
                .await?;
                let row = stream_row(scenario, config.fanout_subscribers, out, &mark);
                progress(config, &row);
                rows.push(row);
            }
            _ => {
                for &level in &levels {
                    let used = &conns[..level.div_ceil(per_channel).clamp(1, conns.len())];
                    if !config.warmup.is_zero() {
                        unary::run(
                            used,
                            scenario,
                            level,
                            Limit::Duration(config.warmup),
                            &inputs,
                        )
                        .await?;
                    }
                    let mark = CpuMark::now(config.server_pid);
                    let out = unary::run(used, scenario, level, config.limit, &inputs).await?;
                    let ops = out.latencies.len();
                    let (client_cpu, server_cpu) = mark.per_op(ops + out.errors);
                    let mut row = Row::new(scenario, level, &out.latencies, out.elapsed);
                    row.errors = out.errors;
                    row.first_error = out.first_error;
                    row.events_appended = out.events_appended;
                    if out.events_appended > 0 && ops > 0 {
                        row.events_per_op = Some(out.events_appended / ops);
                        row.events_per_s = Some(out.events_appended as f64 / row.elapsed_s);
                    }
                    row.channels = used.len();
                    row.client_cpu_us_per_op = client_cpu;
                    row.server_cpu_us_per_op = server_cpu;
                    progress(config, &row);
                    rows.push(row);
                }
            }
        }
    }

    let ended_head = head(&control).await?;
    meta.ledger_events_end = ended_head.count;
    meta.last_id_end = ended_head.last_id;
    meta.loadavg_end = report::loadavg();
    let mut report = Report {
        meta,
        server: None,
        rows,
        targets: Vec::new(),
    };
    report.compute_ratios();
    report.targets = report::targets(&report);
    Ok(report)
}
