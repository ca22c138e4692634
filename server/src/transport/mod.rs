//! Connections: what tonic and hyper do not give us on their own.
//!
//! - [`incoming`]: the accept loop. It refuses connections beyond
//!   `--max-connections` (accepted and closed at once), sets TCP_NODELAY,
//!   and survives EMFILE/ENFILE and other accept errors by backing off
//!   instead of spinning.
//! - [`conn`]: the IO wrapper around each accepted socket. It closes a
//!   connection that has not completed its handshake within
//!   `--handshake-timeout`, and one with nothing in progress for
//!   `--idle-timeout`, once `sweeper` (one thread for all connections)
//!   has found the timeout expired. Its connect-info ([`ConnInfo`])
//!   carries the connection's shared state.
//! - [`layer`]: a tower layer that counts, on that shared state, the
//!   requests and response streams in progress on each connection.
//! - [`fdlimit`]: the process's open-file limit.
//!
//! HTTP/2 keep-alive (pings, and closing a peer that does not answer them)
//! is hyper's: [`Settings`] only carries its two values to the builder.
//! TCP keep-alive is set on each accepted socket.
//! This module knows neither protobuf nor the ledger.

pub mod conn;
pub mod fdlimit;
pub mod incoming;
pub mod layer;
mod state;
mod sweeper;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

pub use conn::{Conn, ConnInfo};
pub use incoming::Incoming;
pub use layer::StreamCountLayer;

/// Connection limits and timeouts: flags of `pmm-server` (flattened into
/// [`crate::config::Config`]). A duration of 0 turns its check off.
#[derive(Clone, Copy, Debug, PartialEq, clap::Args)]
pub struct Settings {
    /// Most open connections. A connection beyond it is accepted and closed
    /// at once (counted in Stats as refused).
    #[arg(long, env = "PMM_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Seconds a new connection has to send the HTTP/2 preface (with TLS:
    /// to finish the TLS handshake) before it is closed; 0 = no limit.
    #[arg(long, env = "PMM_HANDSHAKE_TIMEOUT", default_value = "10", value_parser = parse_seconds)]
    pub handshake_timeout: Duration,

    /// Seconds a connection may stay open with no call or stream in
    /// progress before it is closed; 0 = never.
    #[arg(long, env = "PMM_IDLE_TIMEOUT", default_value = "300", value_parser = parse_seconds)]
    pub idle_timeout: Duration,

    /// Seconds a connection may stay silent before the kernel starts
    /// probing its peer (TCP keep-alive: a peer that answers none of 3
    /// probes, 10 s apart, is dropped); 0 = off.
    #[arg(long, env = "PMM_TCP_KEEPALIVE", default_value = "60", value_parser = parse_seconds)]
    pub tcp_keepalive: Duration,

    /// Seconds between HTTP/2 keep-alive pings the server sends to a silent
    /// connection; 0 = none. Off by default: hyper keeps a tokio timer per
    /// connection for them, which costs about 2 µs per call (RELIABILITY.md).
    #[arg(long, env = "PMM_KEEPALIVE_INTERVAL", default_value = "0", value_parser = parse_seconds)]
    pub keepalive_interval: Duration,

    /// Seconds a peer has to answer a keep-alive ping before its connection
    /// is closed.
    #[arg(long, env = "PMM_KEEPALIVE_TIMEOUT", default_value = "20", value_parser = parse_seconds)]
    pub keepalive_timeout: Duration,
}

/// A number of seconds (decimals allowed, e.g. `0.5`).
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs).map_err(|e| format!("`{text}`: {e}"))
}

/// `None` for zero: the check is off.
fn nonzero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

impl Settings {
    pub fn handshake_timeout(&self) -> Option<Duration> {
        nonzero(self.handshake_timeout)
    }

    pub fn idle_timeout(&self) -> Option<Duration> {
        nonzero(self.idle_timeout)
    }

    pub fn tcp_keepalive(&self) -> Option<Duration> {
        nonzero(self.tcp_keepalive)
    }

    /// For `Server::http2_keepalive_interval`.
    pub fn keepalive_interval(&self) -> Option<Duration> {
        nonzero(self.keepalive_interval)
    }

    /// For `Server::http2_keepalive_timeout`.
    pub fn keepalive_timeout(&self) -> Option<Duration> {
        nonzero(self.keepalive_timeout)
    }
}

/// What happened to connections since the server started.
#[derive(Debug, Default)]
pub struct Counters {
    open: AtomicU64,
    accepted: AtomicU64,
    refused: AtomicU64,
    closed_idle: AtomicU64,
    closed_handshake: AtomicU64,
    accept_errors: AtomicU64,
}

/// A reading of [`Counters`] (the connection lines of Stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Connections open now (handshakes in progress included).
    pub open: u64,
    /// Connections taken into service.
    pub accepted: u64,
    /// Connections closed at once because `max_connections` were open.
    pub refused: u64,
    /// Connections closed by the idle timeout.
    pub closed_idle: u64,
    /// Connections closed by the handshake timeout.
    pub closed_handshake: u64,
    /// Failed accept(2) calls (EMFILE, ENFILE, ECONNABORTED, …).
    pub accept_errors: u64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub fn figures(&self) -> Figures {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Figures {
            open: read(&self.open),
            accepted: read(&self.accepted),
            refused: read(&self.refused),
            closed_idle: read(&self.closed_idle),
            closed_handshake: read(&self.closed_handshake),
            accept_errors: read(&self.accept_errors),
        }
    }
}

/// The connection lines of Stats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConnectionReport {
    pub settings: Settings,
    pub figures: Figures,
    /// The open-file limit in force.
    pub open_files_limit: Option<u64>,
}

/// The settings and counters of one server's connections: give
/// [`Connections::incoming`] to tonic, read [`Connections::figures`] for
/// Stats.
#[derive(Clone, Debug)]
pub struct Connections {
    settings: Settings,
    counters: Arc<Counters>,
}

impl Connections {
    pub fn new(settings: Settings) -> Connections {
        Connections {
            settings,
            counters: Arc::new(Counters::default()),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn figures(&self) -> Figures {
        self.counters.figures()
    }

    pub fn report(&self) -> ConnectionReport {
        ConnectionReport {
            settings: self.settings,
            figures: self.figures(),
            open_files_limit: fdlimit::current(),
        }
    }

    /// The accepted connections of `listener`, for
    /// `Server::serve_with_incoming_shutdown` (TLS, when configured on the
    /// builder, runs over them).
    pub fn incoming(&self, listener: TcpListener) -> Incoming {
        Incoming::new(listener, self.settings, Arc::clone(&self.counters))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_parse_with_decimals_and_zero_turns_a_check_off() {
        assert_eq!(parse_seconds("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_seconds("300"), Ok(Duration::from_secs(300)));
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("soon").is_err());
        let mut settings = crate::config::Config::for_db("x.db").connections;
        assert_eq!(settings.idle_timeout(), Some(Duration::from_secs(300)));
        settings.idle_timeout = Duration::ZERO;
        assert_eq!(settings.idle_timeout(), None);
    }
}
