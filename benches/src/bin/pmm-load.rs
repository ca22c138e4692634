//! pmm-load: drives a pmm server over loopback gRPC and prints a Markdown
//! table of requests/s and p50/p90/p99 latencies, with ratios to a no-op
//! RPC (the health Check) measured in the same run.
//!
//! ```text
//! pmm-load --addr 127.0.0.1:50051
//! pmm-load --spawn-server --db target/bench/run.db --json out.json
//! pmm-load --spawn-server --db run.db --durability full --scenarios append,append-batch -c 32
//! pmm-load --combine run1.json run2.json run3.json --json median.json
//! pmm-load --spawn-server --secure --db run.db -s noop,get-metrics,append   # TLS + token
//! pmm-load --spawn-server --db run.db --idle-connections 2000
//! pmm-load --addr https://127.0.0.1:50051 --tls-ca ca.pem --token "$PMM_TOKEN"
//! pmm-load --mind alice -s get-metrics,append                  # pmm-mind: alice on every call
//! pmm-load --minds 1000 --prepare 100 -s get-metrics,append    # spread at random over m00000..m00999
//! pmm-load --minds 2000 -s open-mind -c 1,32                   # server: --max-open-minds 500
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use pmm_bench::load::{
    self, Credentials, Limit, LoadConfig, LoadError, Minds, Report, Scenario, ServerFigures,
};
use pmm_client::{TlsOptions, Token};

#[derive(Parser, Debug)]
#[command(
    name = "pmm-load",
    about = "Load generator for the pmm server: requests/s and p50/p90/p99, with ratios to a no-op RPC"
)]
struct Args {
    /// Address of a running server (`host:port`). Loopback only.
    #[arg(
        long,
        default_value = "127.0.0.1:50051",
        conflicts_with = "spawn_server"
    )]
    addr: String,

    /// Start the real pmm-server on 127.0.0.1:0 over `--db`, time its cold
    /// start, and stop it (SIGTERM) at the end.
    #[arg(long, requires = "db")]
    spawn_server: bool,

    /// The ledger for `--spawn-server` (it is written to by the append
    /// scenarios: use a copy).
    #[arg(long)]
    db: Option<PathBuf>,

    /// The server binary for `--spawn-server`.
    #[arg(long, default_value = "target/release/pmm-server")]
    server_bin: PathBuf,

    /// `--durability` for the spawned server (normal / full).
    #[arg(long)]
    durability: Option<String>,

    /// Where to write the spawned server's log.
    #[arg(long)]
    server_log: Option<PathBuf>,

    /// `--spawn-server` with TLS and a tokens file: a CA, a server
    /// certificate and a writer token are made for the run (in a temporary
    /// folder, removed at the end), and every call goes over TLS with the
    /// token.
    #[arg(long, requires = "spawn_server")]
    secure: bool,

    /// CA certificate (PEM) of a TLS server not spawned (turns TLS on).
    #[arg(long, value_name = "FILE", conflicts_with = "spawn_server")]
    tls_ca: Option<PathBuf>,

    /// Client certificate (PEM) for mutual TLS, with --tls-key.
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        conflicts_with = "spawn_server"
    )]
    tls_cert: Option<PathBuf>,

    /// Client private key (PEM) for mutual TLS, with --tls-cert.
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_cert",
        conflicts_with = "spawn_server"
    )]
    tls_key: Option<PathBuf>,

    /// Bearer token sent with every pmm call.
    #[arg(
        long,
        env = "PMM_TOKEN",
        hide_env_values = true,
        conflicts_with = "spawn_server"
    )]
    token: Option<String>,

    /// The server's pid when not spawned, for its CPU time and peak RSS.
    #[arg(long)]
    server_pid: Option<u32>,

    /// Scenarios to run (comma-separated; the no-op baseline is always run).
    #[arg(long, short, value_enum, value_delimiter = ',', default_values_t = Scenario::defaults())]
    scenarios: Vec<Scenario>,

    /// Concurrency levels (operations in flight) for the unary scenarios.
    #[arg(long, short, value_delimiter = ',', default_values_t = vec![1, 32])]
    concurrency: Vec<usize>,

    /// Operations per scenario and concurrency (instead of --duration).
    #[arg(long, short = 'n', conflicts_with = "duration")]
    requests: Option<u64>,

    /// Seconds per scenario and concurrency.
    #[arg(long, short, default_value_t = 5.0)]
    duration: f64,

    /// Unrecorded warm-up before each measurement, seconds.
    #[arg(long, default_value_t = 0.5)]
    warmup: f64,

    /// Operations in flight per HTTP/2 channel.
    #[arg(long, default_value_t = 8)]
    per_channel: usize,

    /// Events per append-batch request.
    #[arg(long, default_value_t = 100)]
    batch: usize,

    /// subscribe-fanout: live subscribers.
    #[arg(long, default_value_t = 100)]
    subscribers: usize,

    /// subscribe-fanout: appends timed.
    #[arg(long, default_value_t = 50)]
    rounds: usize,

    /// subscribe-catchup: replays of the whole ledger.
    #[arg(long, default_value_t = 3)]
    catchup_repeats: usize,

    /// verify-chain: calls.
    #[arg(long, default_value_t = 3)]
    verify_repeats: usize,

    /// Seed of the session whose events are appended.
    #[arg(long, default_value_t = 7)]
    seed: u64,

    /// Write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,

    /// Combine the JSON reports of earlier runs (same settings) into one,
    /// row by row the median of the runs; no server is driven.
    #[arg(long, num_args = 1.., value_name = "JSON", conflicts_with = "spawn_server")]
    combine: Vec<PathBuf>,

    /// An earlier run's JSON: add columns comparing with it.
    #[arg(long)]
    baseline: Option<PathBuf>,

    /// Instead of the scenarios, the idle-connections scenario: hold this
    /// many idle gRPC connections, check that a new client is served, and
    /// report the server's memory and connection counts.
    #[arg(long, value_name = "N")]
    idle_connections: Option<usize>,

    /// idle-connections: seconds to hold them before measuring.
    #[arg(long, default_value_t = 2.0)]
    idle_hold: f64,

    /// Name this mind (the `pmm-mind` header) on every pmm call.
    #[arg(long, value_name = "NAME", conflicts_with = "minds")]
    mind: Option<String>,

    /// Spread the unary calls uniformly at random over N minds named
    /// m00000, m00001, … (each operation names one; an interaction's calls
    /// the same). Head, Stats, VerifyChain and the Subscribe scenarios name
    /// m00000. The minds must exist, or the server must create them on
    /// Append (`--create-minds-on-append`; see --prepare).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    minds: Option<u64>,

    /// Before the scenarios, append K events to each mind (of --minds or
    /// --mind; the mind `default` without either), in batches of up to
    /// 500: with `--create-minds-on-append` on the server this creates the
    /// minds.
    #[arg(long, value_name = "K", default_value_t = 0)]
    prepare: u64,

    /// No progress lines on stderr.
    #[arg(long, short)]
    quiet: bool,
}

fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::ZERO)
}

fn is_loopback(addr: &str) -> bool {
    let host = addr.trim();
    let host = host.split("://").nth(1).unwrap_or(host);
    let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

async fn run(args: Args) -> Result<(), LoadError> {
    let baseline: Option<Report> = match &args.baseline {
        Some(path) => Some(read_report(path)?),
        None => None,
    };

    if !args.combine.is_empty() {
        let runs = args
            .combine
            .iter()
            .map(|p| read_report(p))
            .collect::<Result<Vec<_>, _>>()?;
        let report = Report::median_of(&runs)
            .ok_or_else(|| LoadError::Scenario("nothing to combine".to_string()))?;
        return output(&args, &report, baseline.as_ref());
    }
    if let Some(connections) = args.idle_connections {
        return idle(&args, connections).await;
    }
    let mut config = LoadConfig {
        scenarios: args.scenarios.clone(),
        concurrency: args.concurrency.clone(),
        limit: match args.requests {
            Some(n) => Limit::Count(n),
            None => Limit::Duration(seconds(args.duration)),
        },
        warmup: seconds(args.warmup),
        per_channel: args.per_channel,
        batch: args.batch,
        fanout_subscribers: args.subscribers,
        fanout_rounds: args.rounds,
        catchup_repeats: args.catchup_repeats,
        verify_repeats: args.verify_repeats,
        seed: args.seed,
        server_pid: args.server_pid,
        progress: !args.quiet,
        minds: match (&args.mind, args.minds) {
            (Some(name), _) => Minds::One(name.clone()),
            (None, Some(n)) => Minds::Spread(n as usize),
            (None, None) => Minds::Default,
        },
        prepare: args.prepare,
    };

    let report = if args.spawn_server {
        let db = args
            .db
            .clone()
            .ok_or_else(|| LoadError::Spawn("--spawn-server needs --db".to_string()))?;
        let mut options = load::SpawnOptions::new(&args.server_bin, db);
        options.durability = args.durability.clone();
        options.log = args.server_log.clone();
        let secure = match args.secure {
            true => Some(load::SecureSetup::create()?),
            false => None,
        };
        if let Some(secure) = &secure {
            options.extra_args.extend(secure.server_args());
            options.credentials = secure.credentials()?;
        }
        let server = load::SpawnedServer::start(&options).await?;
        if !args.quiet {
            eprintln!(
                "pmm-load: server pid {} on {} SERVING after {:.0} ms",
                server.pid,
                server.addr,
                server.cold_start.as_secs_f64() * 1e3
            );
        }
        let peak_ready = server.vm_hwm_kb();
        config.server_pid = Some(server.pid);
        let result = load::run_with(&server.addr, &options.credentials, &config).await;
        let peak_end = server.vm_hwm_kb();
        let rss_end = server.vm_rss_kb();
        let cpu_end = load::stats::cpu_time(Some(server.pid)).map(|d| d.as_secs_f64());
        let cold_start = server.cold_start;
        let to_listening = server.to_listening;
        let exit = server.stop(Duration::from_secs(60)).await;
        let mut report = result?;
        report.set_server(ServerFigures {
            cold_start_ms: Some(cold_start.as_secs_f64() * 1e3),
            to_listening_ms: Some(to_listening.as_secs_f64() * 1e3),
            peak_rss_kb_ready: peak_ready,
            peak_rss_kb_end: peak_end,
            rss_kb_end: rss_end,
            cpu_s_end: cpu_end,
            exit: match exit {
                Ok(status) => status.to_string(),
                Err(e) => e.to_string(),
            },
        });
        report
    } else {
        if !is_loopback(&args.addr) {
            return Err(LoadError::Connect(format!(
                "{}: pmm-load drives loopback addresses only",
                args.addr
            )));
        }
        let credentials = Credentials {
            tls: TlsOptions {
                ca_file: args.tls_ca.clone(),
                cert_file: args.tls_cert.clone(),
                key_file: args.tls_key.clone(),
                domain: None,
            },
            token: match &args.token {
                Some(text) => {
                    Some(Token::new(text).map_err(|e| LoadError::Connect(e.to_string()))?)
                }
                None => None,
            },
            mind: None,
        };
        let mut report = load::run_with(&args.addr, &credentials, &config).await?;
        if let Some(pid) = args.server_pid {
            report.set_server(ServerFigures {
                peak_rss_kb_end: load::stats::status_kb(pid, "VmHWM"),
                rss_kb_end: load::stats::status_kb(pid, "VmRSS"),
                cpu_s_end: load::stats::cpu_time(Some(pid)).map(|d| d.as_secs_f64()),
                exit: "still running".to_string(),
                ..ServerFigures::default()
            });
        }
        report
    };

    output(&args, &report, baseline.as_ref())
}

fn check_loopback(addr: &str) -> Result<(), LoadError> {
    if is_loopback(addr) {
        Ok(())
    } else {
        Err(LoadError::Connect(format!(
            "{addr}: pmm-load drives loopback addresses only"
        )))
    }
}

/// Starts a plaintext server for `--idle-connections`.
async fn spawn(args: &Args) -> Result<load::SpawnedServer, LoadError> {
    let db = args
        .db
        .clone()
        .ok_or_else(|| LoadError::Spawn("--spawn-server needs --db".to_string()))?;
    let mut options = load::SpawnOptions::new(&args.server_bin, db);
    options.durability = args.durability.clone();
    options.log = args.server_log.clone();
    let server = load::SpawnedServer::start(&options).await?;
    if !args.quiet {
        eprintln!(
            "pmm-load: server pid {} on {} SERVING after {:.0} ms",
            server.pid,
            server.addr,
            server.cold_start.as_secs_f64() * 1e3
        );
    }
    Ok(server)
}

async fn idle(args: &Args, connections: usize) -> Result<(), LoadError> {
    let mut config = load::IdleConfig {
        connections,
        hold: seconds(args.idle_hold),
        server_pid: args.server_pid,
    };
    let report = if args.spawn_server {
        let server = spawn(args).await?;
        config.server_pid = Some(server.pid);
        let result = load::idle::run(&server.addr, &config).await;
        let _ = server.stop(Duration::from_secs(60)).await;
        result?
    } else {
        check_loopback(&args.addr)?;
        load::idle::run(&args.addr, &config).await?
    };
    print!("{}", report.markdown());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)?;
    }
    if report.new_client_served {
        Ok(())
    } else {
        Err(LoadError::Scenario(
            "no new client was served while the idle connections were held".to_string(),
        ))
    }
}

fn read_report(path: &Path) -> Result<Report, LoadError> {
    let bytes =
        std::fs::read(path).map_err(|e| LoadError::Scenario(format!("{}: {e}", path.display())))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| LoadError::Scenario(format!("{}: {e}", path.display())))
}

/// Prints the table; writes the JSON when asked.
fn output(args: &Args, report: &Report, baseline: Option<&Report>) -> Result<(), LoadError> {
    print!("{}", report.markdown(baseline));
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(report)?)?;
        if !args.quiet {
            eprintln!("pmm-load: JSON report in {}", path.display());
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pmm-load: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pmm-load: {e}");
            ExitCode::FAILURE
        }
    }
}
