//! The `idle-connections` scenario: N gRPC connections that never send a
//! request, held open while a new client is served; the server's memory
//! with them, and its own count of open connections (Stats).

use std::time::{Duration, Instant};

use pmm_client::v1;
use serde::{Deserialize, Serialize};
use tonic::transport::Channel;

use super::conn::Conn;
use super::stats::status_kb;
use super::LoadError;
use pmm_client::connect::endpoint;
use pmm_client::ConnectOptions;

/// What to run.
#[derive(Clone, Debug)]
pub struct IdleConfig {
    /// Idle connections to hold.
    pub connections: usize,
    /// How long to hold them before measuring.
    pub hold: Duration,
    /// The server's process id, for its memory.
    pub server_pid: Option<u32>,
}

/// What happened.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IdleReport {
    /// Idle connections asked for.
    pub connections: usize,
    /// Idle connections established (HTTP/2 handshake done).
    pub opened: usize,
    /// The first connection error, if any failed.
    pub first_error: Option<String>,
    /// Time to open them all, one after the other.
    pub open_s: f64,
    /// Connections open on the server after the hold (Stats, the measuring
    /// connection included).
    pub server_open: u64,
    /// Connections the server closed or refused meanwhile (Stats).
    pub server_closed_idle: u64,
    pub server_refused: u64,
    /// The server's resident memory before opening them and after the hold.
    pub rss_kb_before: Option<u64>,
    pub rss_kb_with: Option<u64>,
    /// Its peak resident memory at the end.
    pub peak_rss_kb: Option<u64>,
    /// Whether a new client was served while they were held, and how long
    /// it took (connect, health Check, Head).
    pub new_client_served: bool,
    pub new_client_ms: f64,
}

impl IdleReport {
    /// Memory per idle connection, in kB.
    pub fn kb_per_connection(&self) -> Option<f64> {
        match (self.rss_kb_before, self.rss_kb_with) {
            (Some(before), Some(with)) if self.opened > 0 => {
                Some(with.saturating_sub(before) as f64 / self.opened as f64)
            }
            _ => None,
        }
    }

    /// A Markdown table.
    pub fn markdown(&self) -> String {
        let mb = |kb: Option<u64>| {
            kb.map_or("–".to_string(), |kb| {
                format!("{:.1} MB", kb as f64 / 1024.0)
            })
        };
        let mut out = String::from("| idle connections | opened | open on the server | closed idle | refused | opened in | server RSS before | server RSS with them | per connection | peak RSS | new client served |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.2} s | {} | {} | {} | {} | {} |\n",
            self.connections,
            self.opened,
            self.server_open,
            self.server_closed_idle,
            self.server_refused,
            self.open_s,
            mb(self.rss_kb_before),
            mb(self.rss_kb_with),
            self.kb_per_connection()
                .map_or("–".to_string(), |kb| format!("{kb:.1} kB")),
            mb(self.peak_rss_kb),
            if self.new_client_served {
                format!("yes, in {:.1} ms", self.new_client_ms)
            } else {
                "NO".to_string()
            },
        ));
        if let Some(e) = &self.first_error {
            out.push_str(&format!("\nfirst connection error: {e}\n"));
        }
        out
    }
}

/// One idle connection: the HTTP/2 handshake done, no request sent.
async fn idle_connection(addr: &str) -> Result<Channel, String> {
    endpoint(addr, &ConnectOptions::default())
        .map_err(|e| format!("{addr}: {e}"))?
        .connect()
        .await
        .map_err(|e| format!("{addr}: {e}"))
}

/// A new client: connect, health Check, Head.
async fn new_client(addr: &str) -> Result<Duration, LoadError> {
    let started = Instant::now();
    let conn = Conn::open(addr).await?;
    if !conn
        .serving()
        .await
        .map_err(|e| LoadError::Rpc("Check", e.message().to_string()))?
    {
        return Err(LoadError::NotServing(addr.to_string()));
    }
    conn.ledger
        .clone()
        .head(v1::HeadRequest {})
        .await
        .map_err(|e| LoadError::Rpc("Head", e.message().to_string()))?;
    Ok(started.elapsed())
}

/// Opens `config.connections` idle connections to `addr`, holds them for
/// `config.hold`, checks that a new client is served, and reads the
/// server's memory and Stats.
pub async fn run(addr: &str, config: &IdleConfig) -> Result<IdleReport, LoadError> {
    let rss = |name| config.server_pid.and_then(|pid| status_kb(pid, name));
    let control = Conn::open(addr).await?;
    let mut report = IdleReport {
        connections: config.connections,
        rss_kb_before: rss("VmRSS"),
        ..IdleReport::default()
    };
    let started = Instant::now();
    let mut held = Vec::with_capacity(config.connections);
    for _ in 0..config.connections {
        match idle_connection(addr).await {
            Ok(channel) => held.push(channel),
            Err(e) => {
                report.first_error.get_or_insert(e);
            }
        }
    }
    report.opened = held.len();
    report.open_s = started.elapsed().as_secs_f64();
    tokio::time::sleep(config.hold).await;

    match new_client(addr).await {
        Ok(took) => {
            report.new_client_served = true;
            report.new_client_ms = took.as_secs_f64() * 1e3;
        }
        Err(e) => {
            report.first_error.get_or_insert(format!("new client: {e}"));
        }
    }
    report.rss_kb_with = rss("VmRSS");
    report.peak_rss_kb = rss("VmHWM");
    let stats = control.stats().await?;
    report.server_open = stats.connections_open;
    report.server_closed_idle = stats.connections_closed_idle;
    report.server_refused = stats.connections_refused;
    drop(held);
    Ok(report)
}
