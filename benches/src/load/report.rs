//! The report of a load run: one row per scenario and concurrency, ratios
//! to the no-op baseline, the issue-5 targets checked, a Markdown table and
//! JSON (to compare runs: `pmm-load --baseline previous.json`).

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use pmm_client::v1;
use serde::{Deserialize, Serialize};

use super::stats::Latencies;
use super::{Limit, LoadConfig, Scenario};

/// Where and on what the run happened.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RunMeta {
    pub tool: String,
    pub tool_version: String,
    /// Seconds since the Unix epoch at the start of the run.
    pub started_unix: u64,
    pub git_commit: String,
    /// Uncommitted changes to tracked files.
    pub git_dirty: bool,
    /// `model name` of /proc/cpuinfo.
    pub cpu_model: String,
    /// Logical CPUs available (what `nproc` prints).
    pub nproc: usize,
    pub mem_total_kb: u64,
    pub kernel: String,
    /// /proc/loadavg (1, 5, 15 min) at the start and at the end of the run:
    /// other work on the machine skews the figures.
    pub loadavg_start: String,
    pub loadavg_end: String,
    pub addr: String,
    /// `plaintext`, `tls`, `mtls`, each `+token` when calls carry a token.
    pub security: String,
    pub server_version: String,
    /// `normal` / `full`, as the server reports it.
    pub durability: String,
    pub ledger_events_start: u64,
    pub last_id_start: u64,
    pub ledger_events_end: u64,
    pub last_id_end: u64,
    /// SQLite file size at the start.
    pub db_bytes: u64,
    /// The server's start-up rebuild of all derived state, as it reports it.
    pub rebuild_ms: f64,
    pub concurrency: Vec<usize>,
    /// E.g. `5s` or `1000 ops` per scenario and concurrency.
    pub limit: String,
    pub warmup_ms: u64,
    pub per_channel: usize,
    pub batch: usize,
    pub fanout_subscribers: usize,
    pub fanout_rounds: usize,
    /// Runs combined into this report by [`Report::median_of`] (1 = a
    /// single run).
    pub runs: usize,
    /// The minds the calls named (`pmm-mind`); empty in reports made
    /// before minds existed (the mind `default`).
    pub minds: String,
    /// Events appended to each mind before the scenarios (`--prepare`).
    pub prepared_events: u64,
}

/// Figures of a server process started by `pmm-load --spawn-server`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerFigures {
    /// From spawning the process to health SERVING (spawned servers only).
    pub cold_start_ms: Option<f64>,
    /// From spawning the process to its `listening` log line.
    pub to_listening_ms: Option<f64>,
    /// VmHWM once SERVING, in kB.
    pub peak_rss_kb_ready: Option<u64>,
    /// VmHWM at the end of the run (before SIGTERM), in kB.
    pub peak_rss_kb_end: Option<u64>,
    /// VmRSS at the end of the run, in kB.
    pub rss_kb_end: Option<u64>,
    /// Server CPU time over the whole run (start-up included), in seconds.
    pub cpu_s_end: Option<f64>,
    /// The exit status after SIGTERM.
    pub exit: String,
}

/// One scenario at one concurrency.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Row {
    pub scenario: String,
    /// In-flight operations (fan-out: subscribers).
    pub concurrency: usize,
    /// HTTP/2 channels used.
    pub channels: usize,
    /// gRPC round trips per operation (`None`: no ratio to the no-op).
    pub round_trips: Option<u32>,
    /// Successful operations (catch-up: replays; fan-out: rounds).
    pub operations: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed_s: f64,
    pub ops_per_s: f64,
    /// Events written.
    pub events_appended: u64,
    /// Events per operation (append-batch: the batch; catch-up: events
    /// replayed; verify-chain: rows checked).
    pub events_per_op: Option<u64>,
    /// Events per second (appends: written; catch-up: replayed, at the
    /// median replay; verify-chain: rows checked at the median call).
    pub events_per_s: Option<f64>,
    /// Fan-out: deliveries timed (subscribers × rounds).
    pub deliveries: Option<u64>,
    pub min_us: f64,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    /// p50 ÷ (round trips × the no-op's p50 at the same concurrency).
    pub p50_vs_noop: Option<f64>,
    /// (ops/s × round trips) ÷ the no-op's requests/s at the same concurrency.
    pub ops_per_s_vs_noop: Option<f64>,
    /// CPU time of the load generator per operation, µs.
    pub client_cpu_us_per_op: Option<f64>,
    /// CPU time of the server per operation, µs (when its pid is known).
    pub server_cpu_us_per_op: Option<f64>,
}

impl Row {
    pub fn new(scenario: Scenario, concurrency: usize, lat: &Latencies, elapsed: Duration) -> Row {
        let s = lat.summary();
        let elapsed_s = elapsed.as_secs_f64();
        Row {
            scenario: scenario.name().to_string(),
            concurrency,
            channels: 1,
            round_trips: scenario.round_trips(),
            operations: s.count,
            elapsed_s,
            ops_per_s: if elapsed_s > 0.0 {
                s.count as f64 / elapsed_s
            } else {
                0.0
            },
            min_us: s.min_us,
            mean_us: s.mean_us,
            p50_us: s.p50_us,
            p90_us: s.p90_us,
            p99_us: s.p99_us,
            max_us: s.max_us,
            ..Row::default()
        }
    }

    fn is_stream(&self) -> bool {
        self.round_trips.is_none()
    }
}

/// One issue-5 target, checked.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TargetCheck {
    pub name: String,
    pub target: String,
    pub measured: String,
    /// `None` when this run did not measure it.
    pub met: Option<bool>,
}

/// A whole run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Report {
    pub meta: RunMeta,
    pub server: Option<ServerFigures>,
    pub rows: Vec<Row>,
    pub targets: Vec<TargetCheck>,
}

fn first_line(path: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The three load averages of /proc/loadavg.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn durability_name(d: i32) -> String {
    match v1::Durability::try_from(d) {
        Ok(v1::Durability::Normal) => "normal".to_string(),
        Ok(v1::Durability::Full) => "full".to_string(),
        _ => "unspecified".to_string(),
    }
}

impl RunMeta {
    /// Machine, repository, ledger and settings.
    pub fn collect(
        addr: &str,
        config: &LoadConfig,
        head: &v1::LedgerHead,
        stats: &v1::StatsResponse,
    ) -> RunMeta {
        let started_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mem_total_kb = first_line("/proc/meminfo", "MemTotal")
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        RunMeta {
            tool: "pmm-load".to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            started_unix,
            // scripts/bench.sh records the commit the binaries were built
            // from; without it, the work tree's at run time.
            git_commit: std::env::var("PMM_BENCH_COMMIT")
                .ok()
                .or_else(|| git(&["rev-parse", "HEAD"]))
                .unwrap_or_else(|| "unknown".to_string()),
            git_dirty: match std::env::var("PMM_BENCH_DIRTY") {
                Ok(v) => v == "1",
                Err(_) => git(&["status", "--porcelain", "--untracked-files=no"])
                    .is_some_and(|s| !s.is_empty()),
            },
            cpu_model: first_line("/proc/cpuinfo", "model name")
                .unwrap_or_else(|| "unknown".to_string()),
            nproc: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(0),
            mem_total_kb,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            loadavg_start: loadavg(),
            loadavg_end: String::new(),
            addr: addr.to_string(),
            security: String::new(),
            server_version: stats.server_version.clone(),
            durability: durability_name(stats.durability),
            ledger_events_start: head.count,
            last_id_start: head.last_id,
            ledger_events_end: head.count,
            last_id_end: head.last_id,
            db_bytes: stats.db_bytes,
            rebuild_ms: stats.rebuild_micros as f64 / 1000.0,
            concurrency: config.concurrency.clone(),
            limit: match config.limit {
                Limit::Count(n) => format!("{n} ops"),
                Limit::Duration(d) => format!("{}s", d.as_secs_f64()),
            },
            warmup_ms: u64::try_from(config.warmup.as_millis()).unwrap_or(u64::MAX),
            per_channel: config.per_channel,
            batch: config.batch,
            fanout_subscribers: config.fanout_subscribers,
            fanout_rounds: config.fanout_rounds,
            runs: 1,
            minds: config.minds.describe(),
            prepared_events: config.prepare,
        }
    }
}

/// A duration given in µs, in the unit that reads best.
pub fn fmt_us(us: f64) -> String {
    if us <= 0.0 {
        "–".to_string()
    } else if us < 1_000.0 {
        format!("{us:.0} µs")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// A rate, with thousands separators.
pub fn fmt_rate(x: f64) -> String {
    let n = x.round() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.2}×"))
        .unwrap_or_else(|| "–".to_string())
}

fn fmt_opt_us(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.0}"))
        .unwrap_or_else(|| "–".to_string())
}

fn mb(kb: Option<u64>) -> String {
    kb.map(|kb| format!("{:.1} MB", kb as f64 / 1024.0))
        .unwrap_or_else(|| "?".to_string())
}

/// The median of some values (the mean of the middle two for an even
/// count); `None` when there are none.
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn median_row(rows: &[&Row]) -> Row {
    let Some(first) = rows.first() else {
        return Row::default();
    };
    let m = |f: &dyn Fn(&Row) -> f64| median(rows.iter().map(|r| f(r))).unwrap_or(0.0);
    let mo = |f: &dyn Fn(&Row) -> Option<f64>| median(rows.iter().filter_map(|r| f(r)));
    Row {
        scenario: first.scenario.clone(),
        concurrency: first.concurrency,
        channels: first.channels,
        round_trips: first.round_trips,
        operations: rows.iter().map(|r| r.operations).sum(),
        errors: rows.iter().map(|r| r.errors).sum(),
        first_error: rows.iter().find_map(|r| r.first_error.clone()),
        elapsed_s: rows.iter().map(|r| r.elapsed_s).sum(),
        ops_per_s: m(&|r| r.ops_per_s),
        events_appended: rows.iter().map(|r| r.events_appended).sum(),
        events_per_op: first.events_per_op,
        events_per_s: mo(&|r| r.events_per_s),
        deliveries: rows.iter().map(|r| r.deliveries).sum(),
        min_us: m(&|r| r.min_us),
        mean_us: m(&|r| r.mean_us),
        p50_us: m(&|r| r.p50_us),
        p90_us: m(&|r| r.p90_us),
        p99_us: m(&|r| r.p99_us),
        max_us: rows.iter().map(|r| r.max_us).fold(0.0, f64::max),
        p50_vs_noop: None,
        ops_per_s_vs_noop: None,
        client_cpu_us_per_op: mo(&|r| r.client_cpu_us_per_op),
        server_cpu_us_per_op: mo(&|r| r.server_cpu_us_per_op),
    }
}

impl Report {
    /// Several runs of the same settings as one report: per scenario and
    /// concurrency, the median of each run's ops/s, events/s, percentiles
    /// and CPU figures (max: the largest), counts summed; ratios to the
    /// no-op recomputed from the medians. Server figures: median cold
    /// start, largest peak RSS.
    pub fn median_of(runs: &[Report]) -> Option<Report> {
        let first = runs.first()?;
        let mut meta = first.meta.clone();
        meta.runs = runs.iter().map(|r| r.meta.runs.max(1)).sum();
        meta.ledger_events_end = runs.iter().map(|r| r.meta.ledger_events_end).max()?;
        meta.last_id_end = runs.iter().map(|r| r.meta.last_id_end).max()?;
        meta.rebuild_ms = median(runs.iter().map(|r| r.meta.rebuild_ms))?;
        meta.loadavg_end = runs.last()?.meta.loadavg_end.clone();
        let mut keys: Vec<(String, usize)> = Vec::new();
        for r in runs.iter().flat_map(|run| &run.rows) {
            let key = (r.scenario.clone(), r.concurrency);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        let rows = keys
            .iter()
            .map(|(scenario, c)| {
                let same: Vec<&Row> = runs
                    .iter()
                    .flat_map(|run| &run.rows)
                    .filter(|r| &r.scenario == scenario && r.concurrency == *c)
                    .collect();
                median_row(&same)
            })
            .collect();
        let servers: Vec<&ServerFigures> = runs.iter().filter_map(|r| r.server.as_ref()).collect();
        let server = (!servers.is_empty()).then(|| {
            let peak = |f: &dyn Fn(&ServerFigures) -> Option<u64>| {
                servers.iter().filter_map(|s| f(s)).max()
            };
            let mut exits: Vec<String> = servers.iter().map(|s| s.exit.clone()).collect();
            exits.dedup();
            ServerFigures {
                cold_start_ms: median(servers.iter().filter_map(|s| s.cold_start_ms)),
                to_listening_ms: median(servers.iter().filter_map(|s| s.to_listening_ms)),
                peak_rss_kb_ready: peak(&|s| s.peak_rss_kb_ready),
                peak_rss_kb_end: peak(&|s| s.peak_rss_kb_end),
                rss_kb_end: peak(&|s| s.rss_kb_end),
                cpu_s_end: median(servers.iter().filter_map(|s| s.cpu_s_end)),
                exit: exits.join(", "),
            }
        });
        let mut report = Report {
            meta,
            server,
            rows,
            targets: Vec::new(),
        };
        report.compute_ratios();
        report.targets = targets(&report);
        Some(report)
    }

    /// Fills the ratios to the no-op row of the same concurrency.
    pub fn compute_ratios(&mut self) {
        let noops: Vec<(usize, f64, f64)> = self
            .rows
            .iter()
            .filter(|r| r.scenario == Scenario::Noop.name())
            .map(|r| (r.concurrency, r.p50_us, r.ops_per_s))
            .collect();
        for row in &mut self.rows {
            let (Some(rt), Some(&(_, p50, rps))) = (
                row.round_trips,
                noops.iter().find(|(c, _, _)| *c == row.concurrency),
            ) else {
                continue;
            };
            let rt = f64::from(rt);
            if p50 > 0.0 && row.p50_us > 0.0 {
                row.p50_vs_noop = Some(row.p50_us / (rt * p50));
            }
            if rps > 0.0 && row.operations > 0 {
                row.ops_per_s_vs_noop = Some(row.ops_per_s * rt / rps);
            }
        }
    }

    /// Records the spawned server's figures and re-checks the targets.
    pub fn set_server(&mut self, figures: ServerFigures) {
        self.server = Some(figures);
        self.targets = targets(self);
    }

    /// The row of `scenario` at `concurrency`.
    pub fn row(&self, scenario: Scenario, concurrency: usize) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.scenario == scenario.name() && r.concurrency == concurrency)
    }

    /// Rows of `scenario`, any concurrency.
    pub fn rows_of(&self, scenario: Scenario) -> impl Iterator<Item = &Row> {
        self.rows
            .iter()
            .filter(move |r| r.scenario == scenario.name())
    }

    /// The Markdown report: settings, server figures, the table, and the
    /// targets. With `baseline`, each row is also compared with the same
    /// row of that earlier run.
    pub fn markdown(&self, baseline: Option<&Report>) -> String {
        let m = &self.meta;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "pmm-load: {} events ({} MB) at start, {} at end · server {} durability={} · \
             {} {} · {} × {} logical CPUs · commit {}{}",
            m.ledger_events_start,
            m.db_bytes / (1 << 20),
            m.ledger_events_end,
            m.server_version,
            m.durability,
            m.addr,
            if m.security.is_empty() {
                "plaintext"
            } else {
                &m.security
            },
            m.cpu_model,
            m.nproc,
            m.git_commit.get(..12).unwrap_or(&m.git_commit),
            if m.git_dirty { " (dirty)" } else { "" }
        );
        if m.runs > 1 {
            let _ = writeln!(
                s,
                "median of {} runs (each row: the median of the runs' figures; ops and errors summed)",
                m.runs
            );
        }
        let _ = writeln!(
            s,
            "per scenario and concurrency: {} after {} ms warm-up; one channel per {} in flight; \
             server's own rebuild {:.0} ms; load average {} at start, {} at end",
            m.limit, m.warmup_ms, m.per_channel, m.rebuild_ms, m.loadavg_start, m.loadavg_end
        );
        if !m.minds.is_empty() && !m.minds.starts_with("default") {
            let _ = writeln!(
                s,
                "minds (pmm-mind): {}{}; Head, Stats, VerifyChain and the Subscribe scenarios \
                 name the first",
                m.minds,
                if m.prepared_events > 0 {
                    format!(", each prepared with {} events", m.prepared_events)
                } else {
                    String::new()
                }
            );
        }
        if let Some(srv) = &self.server {
            let ms = |v: Option<f64>| {
                v.map(|v| format!("{v:.0} ms"))
                    .unwrap_or_else(|| "?".into())
            };
            let _ = writeln!(
                s,
                "server process: cold start (spawn → SERVING) {} (listening after {}); \
                 peak RSS {} once serving, {} at the end (RSS {}); exit {}",
                ms(srv.cold_start_ms),
                ms(srv.to_listening_ms),
                mb(srv.peak_rss_kb_ready),
                mb(srv.peak_rss_kb_end),
                mb(srv.rss_kb_end),
                srv.exit
            );
        }
        s.push('\n');
        let mut header = "| scenario | conc | ops | err | ops/s | events/s | p50 | p90 | p99 \
                          | p50 ÷ noop | ops/s ÷ noop | CPU µs/op client | CPU µs/op server |"
            .to_string();
        let mut rule =
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|".to_string();
        if baseline.is_some() {
            header.push_str(" p50 ÷ prev | ops/s ÷ prev |");
            rule.push_str("---:|---:|");
        }
        let _ = writeln!(s, "{header}\n{rule}");
        for r in &self.rows {
            let ops_per_s = if r.is_stream() {
                "–".to_string()
            } else {
                fmt_rate(r.ops_per_s)
            };
            let _ = write!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.scenario,
                r.concurrency,
                r.operations,
                r.errors,
                ops_per_s,
                r.events_per_s
                    .map(fmt_rate)
                    .unwrap_or_else(|| "–".to_string()),
                fmt_us(r.p50_us),
                fmt_us(r.p90_us),
                fmt_us(r.p99_us),
                fmt_ratio(r.p50_vs_noop),
                fmt_ratio(r.ops_per_s_vs_noop),
                fmt_opt_us(r.client_cpu_us_per_op),
                fmt_opt_us(r.server_cpu_us_per_op),
            );
            if let Some(base) = baseline {
                let prev = base
                    .rows
                    .iter()
                    .find(|b| b.scenario == r.scenario && b.concurrency == r.concurrency);
                let p50 = prev
                    .filter(|b| b.p50_us > 0.0 && r.p50_us > 0.0)
                    .map(|b| r.p50_us / b.p50_us);
                let rate = prev.and_then(|b| {
                    if r.is_stream() {
                        let (Some(now), Some(then)) = (r.events_per_s, b.events_per_s) else {
                            return None;
                        };
                        (then > 0.0).then(|| now / then)
                    } else {
                        (b.ops_per_s > 0.0).then(|| r.ops_per_s / b.ops_per_s)
                    }
                });
                let _ = write!(s, " {} | {} |", fmt_ratio(p50), fmt_ratio(rate));
            }
            s.push('\n');
        }
        let failures: Vec<&Row> = self.rows.iter().filter(|r| r.errors > 0).collect();
        if !failures.is_empty() {
            s.push('\n');
            for r in failures {
                let _ = writeln!(
                    s,
                    "errors in {} (c={}): {} — first: {}",
                    r.scenario,
                    r.concurrency,
                    r.errors,
                    r.first_error.as_deref().unwrap_or("?")
                );
            }
        }
        if self.targets.iter().any(|t| t.met.is_some()) {
            let _ = writeln!(
                s,
                "\nissue-5 targets (as stated for 100k and 1M events; this ledger: {} events)\n",
                m.ledger_events_start
            );
            let _ = writeln!(s, "| target | wanted | measured | met |\n|---|---|---|---|");
            for t in self.targets.iter().filter(|t| t.met.is_some()) {
                let met = match t.met {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "not measured",
                };
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} |",
                    t.name, t.target, t.measured, met
                );
            }
        }
        s
    }
}

fn check(name: &str, target: &str, measured: Option<(String, bool)>) -> TargetCheck {
    match measured {
        Some((measured, met)) => TargetCheck {
            name: name.to_string(),
            target: target.to_string(),
            measured,
            met: Some(met),
        },
        None => TargetCheck {
            name: name.to_string(),
            target: target.to_string(),
            measured: "–".to_string(),
            met: None,
        },
    }
}

/// The issue-5 targets that this report can check.
pub fn targets(report: &Report) -> Vec<TargetCheck> {
    let mut out = Vec::new();
    let reads = [
        (Scenario::GetMetrics, "GetMetrics"),
        (Scenario::GetProjection, "GetProjection"),
        (Scenario::GetContext, "GetContext"),
    ];
    for (scenario, name) in reads {
        let c1 = report.row(scenario, 1).and_then(|r| {
            let ratio = r.p50_vs_noop?;
            Some((format!("{} ({ratio:.2}×)", fmt_us(r.p50_us)), ratio <= 1.3))
        });
        out.push(check(&format!("{name} p50 at c=1"), "≤ 1.3× no-op p50", c1));
    }
    for (scenario, name) in reads {
        let c32 = report.row(scenario, 32).and_then(|r| {
            let ratio = r.ops_per_s_vs_noop?;
            Some((
                format!("{}/s ({:.0}%)", fmt_rate(r.ops_per_s), ratio * 100.0),
                ratio >= 0.7,
            ))
        });
        out.push(check(
            &format!("{name} throughput at c=32"),
            "≥ 70% of no-op",
            c32,
        ));
    }
    let inter = report.row(Scenario::Interaction, 1).and_then(|r| {
        let ratio = r.p50_vs_noop?;
        Some((
            format!("{} ({ratio:.2}× four no-ops)", fmt_us(r.p50_us)),
            ratio <= 1.3,
        ))
    });
    out.push(check(
        "interaction, 4 RPCs, p50 at c=1",
        "≤ 1.3× four no-op RPCs (≈ 0.8 ms)",
        inter,
    ));
    let inter2 = report
        .row(Scenario::Interaction2, 1)
        .map(|r| (fmt_us(r.p50_us), r.p50_us > 0.0 && r.p50_us <= 450.0));
    out.push(check(
        "interaction, 2 round trips, p50 at c=1",
        "≤ 0.45 ms",
        inter2,
    ));
    let full = report.meta.durability == "full";
    let (append_target, append_min) = if full {
        ("≥ 10,000/s (FULL)", 10_000.0)
    } else {
        ("≥ 25,000/s (NORMAL)", 25_000.0)
    };
    let append = report.row(Scenario::Append, 32).map(|r| {
        (
            format!("{}/s", fmt_rate(r.ops_per_s)),
            r.ops_per_s >= append_min,
        )
    });
    out.push(check(
        &format!("single-event appends at c=32, {}", report.meta.durability),
        append_target,
        append,
    ));
    let batch = report
        .rows_of(Scenario::AppendBatch)
        .filter_map(|r| Some((r.concurrency, r.events_per_s?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, eps)| {
            (
                format!("{} events/s (c={c})", fmt_rate(eps)),
                eps >= 120_000.0,
            )
        });
    out.push(check(
        "appends in batches of 100",
        "≥ 120,000 events/s",
        batch,
    ));
    let catchup = report
        .rows_of(Scenario::SubscribeCatchup)
        .next()
        .and_then(|r| r.events_per_s)
        .map(|eps| (format!("{} events/s", fmt_rate(eps)), eps >= 300_000.0));
    out.push(check(
        "Subscribe catch-up to one subscriber",
        "≥ 300,000 events/s",
        catchup,
    ));
    let fanout = report
        .rows_of(Scenario::SubscribeFanout)
        .next()
        .filter(|r| r.operations > 0)
        .map(|r| {
            (
                format!(
                    "p99 {} (p50 {}) to {} subscribers",
                    fmt_us(r.p99_us),
                    fmt_us(r.p50_us),
                    r.concurrency
                ),
                r.p99_us <= 10_000.0,
            )
        });
    out.push(check(
        "one append reaches 100 live subscribers",
        "p99 ≤ 10 ms",
        fanout,
    ));
    let events = report.meta.ledger_events_start;
    let cold = report
        .server
        .as_ref()
        .and_then(|s| s.cold_start_ms)
        .map(|ms| (format!("{ms:.0} ms at {events} events"), ms <= 3_000.0));
    out.push(check(
        "cold start (spawn → SERVING)",
        "≤ 3 s at 1M events",
        cold,
    ));
    let verify = report
        .rows_of(Scenario::VerifyChain)
        .next()
        .filter(|r| r.operations > 0)
        .map(|r| {
            (
                format!("{} at {events} events", fmt_us(r.p50_us)),
                r.p50_us <= 2e6,
            )
        });
    out.push(check("VerifyChain", "≤ 2 s at 1M events", verify));
    let rss = report
        .server
        .as_ref()
        .and_then(|s| s.peak_rss_kb_end)
        .map(|kb| {
            (
                format!("{} at {events} events", mb(Some(kb))),
                kb as f64 / 1024.0 <= 150.0,
            )
        });
    out.push(check("peak RSS (VmHWM)", "≤ 150 MB at 1M events", rss));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(fmt_rate(1234567.4), "1,234,567");
        assert_eq!(fmt_rate(999.0), "999");
        assert_eq!(fmt_us(153.2), "153 µs");
        assert_eq!(fmt_us(1530.0), "1.53 ms");
        assert_eq!(fmt_us(2_500_000.0), "2.50 s");
    }

    #[test]
    fn median_of_runs() {
        assert_eq!(median([3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median([4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median([]), None);
        let run = |p50: f64, rps: f64, cold: f64| Report {
            meta: RunMeta {
                runs: 1,
                ..RunMeta::default()
            },
            server: Some(ServerFigures {
                cold_start_ms: Some(cold),
                peak_rss_kb_end: Some(cold as u64),
                ..ServerFigures::default()
            }),
            rows: vec![
                Row {
                    scenario: "noop".to_string(),
                    concurrency: 1,
                    round_trips: Some(1),
                    operations: 10,
                    p50_us: 100.0,
                    ops_per_s: 1000.0,
                    ..Row::default()
                },
                Row {
                    scenario: "get-metrics".to_string(),
                    concurrency: 1,
                    round_trips: Some(1),
                    operations: 10,
                    p50_us: p50,
                    ops_per_s: rps,
                    ..Row::default()
                },
            ],
            targets: Vec::new(),
        };
        let runs = [
            run(120.0, 900.0, 500.0),
            run(200.0, 500.0, 700.0),
            run(110.0, 950.0, 600.0),
        ];
        let m = Report::median_of(&runs).expect("median");
        assert_eq!(m.meta.runs, 3);
        let row = m.row(Scenario::GetMetrics, 1).expect("row");
        assert_eq!(
            (row.p50_us, row.ops_per_s, row.operations),
            (120.0, 900.0, 30)
        );
        assert_eq!(row.p50_vs_noop, Some(1.2));
        let server = m.server.expect("server");
        assert_eq!(server.cold_start_ms, Some(600.0));
        assert_eq!(server.peak_rss_kb_end, Some(700));
    }

    #[test]
    fn ratios_use_the_noop_of_the_same_concurrency() {
        let row = |scenario: Scenario, c: usize, p50: f64, rps: f64| Row {
            scenario: scenario.name().to_string(),
            concurrency: c,
            round_trips: scenario.round_trips(),
            operations: 10,
            p50_us: p50,
            ops_per_s: rps,
            ..Row::default()
        };
        let mut report = Report {
            rows: vec![
                row(Scenario::Noop, 1, 100.0, 5000.0),
                row(Scenario::Noop, 32, 500.0, 50_000.0),
                row(Scenario::GetMetrics, 1, 120.0, 4000.0),
                row(Scenario::GetMetrics, 32, 600.0, 40_000.0),
                row(Scenario::Interaction, 1, 480.0, 1000.0),
            ],
            ..Report::default()
        };
        report.compute_ratios();
        let r = |s, c| report.row(s, c).cloned().unwrap_or_default();
        assert_eq!(r(Scenario::GetMetrics, 1).p50_vs_noop, Some(1.2));
        assert_eq!(r(Scenario::GetMetrics, 32).ops_per_s_vs_noop, Some(0.8));
        assert_eq!(r(Scenario::Interaction, 1).p50_vs_noop, Some(1.2));
        let t = targets(&report);
        assert_eq!(t[0].met, Some(true));
        assert_eq!(t[3].met, Some(true));
        let md = report.markdown(Some(&report.clone()));
        assert!(md.contains("| get-metrics | 32 |"), "{md}");
    }
}
