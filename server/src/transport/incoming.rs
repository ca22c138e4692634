//! The accept loop: a stream of [`Conn`]s for tonic's
//! `serve_with_incoming*`.
//!
//! - Beyond `max_connections` open, a new connection is accepted and closed
//!   at once: the client learns at once that it must retry later, where a
//!   connection left in the kernel's backlog would hang until its deadline.
//! - A failed accept(2) never reaches tonic (which would poll again at
//!   once: a full core spun at EMFILE). Errors that concern one connection
//!   only (ECONNABORTED, …) are skipped; any other (EMFILE, ENFILE, ENOBUFS,
//!   …) pauses accepting, 5 ms doubling up to 1 s, until an accept succeeds.
//! - Both are counted and logged at warn at most once per
//!   [`WARN_EVERY`], with how many happened since the last line.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use socket2::{SockRef, TcpKeepalive};
use tokio::net::TcpListener;
use tokio::time::{Instant, Sleep};
use tokio_stream::Stream;

use super::conn::Conn;
use super::sweeper::Sweeper;
use super::{bump, Counters, Settings};

/// The shortest and longest pause after a failed accept.
const BACKOFF_MIN: Duration = Duration::from_millis(5);
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// At most one warning per kind of trouble per this long.
pub const WARN_EVERY: Duration = Duration::from_secs(10);
/// Connections refused or skipped in one poll before yielding to other tasks.
const BURST: usize = 64;
/// TCP keep-alive probes, and the time between two.
const TCP_PROBES: u32 = 3;
const TCP_PROBE_INTERVAL: Duration = Duration::from_secs(10);

/// Accepted connections, with the limit and the back-off applied.
pub struct Incoming {
    listener: TcpListener,
    settings: Settings,
    counters: Arc<Counters>,
    /// The handshake and idle timeouts (`None`: both off).
    sweeper: Option<Sweeper>,
    /// Set while accepting is paused after an error.
    pause: Option<Pin<Box<Sleep>>>,
    backoff: Duration,
    /// Failed accepts since the last success.
    failing: u64,
    errors_log: Throttle,
    refused_log: Throttle,
}

impl Incoming {
    pub(super) fn new(listener: TcpListener, settings: Settings, counters: Arc<Counters>) -> Self {
        Incoming {
            listener,
            sweeper: Sweeper::start(settings),
            settings,
            counters,
            pause: None,
            backoff: BACKOFF_MIN,
            failing: 0,
            errors_log: Throttle::default(),
            refused_log: Throttle::default(),
        }
    }

    fn refuse(&mut self) {
        bump(&self.counters.refused);
        if let Some(count) = self.refused_log.hit() {
            tracing::warn!(
                max_connections = self.settings.max_connections,
                refused = count,
                "connection limit reached: closing new connections at once"
            );
        }
    }

    /// Counts a failed accept; `true` when accepting must pause.
    fn failed(&mut self, error: &io::Error) -> bool {
        bump(&self.counters.accept_errors);
        if one_connection_only(error) {
            tracing::debug!(%error, "accept failed for one connection");
            return false;
        }
        self.failing += 1;
        if let Some(count) = self.errors_log.hit() {
            tracing::warn!(
                %error,
                failed = count,
                retry_in_ms = self.backoff.as_millis() as u64,
                "cannot accept connections; backing off"
            );
        }
        true
    }

    fn accepted(&mut self) {
        self.backoff = BACKOFF_MIN;
        if self.failing > 0 {
            tracing::info!(failed = self.failing, "accepting connections again");
            self.failing = 0;
        }
    }
}

/// Dead peers are dropped by the kernel: probes after `idle` of silence,
/// [`TCP_PROBES`] of them [`TCP_PROBE_INTERVAL`] apart.
fn tcp_keepalive(stream: &tokio::net::TcpStream, idle: Duration) -> io::Result<()> {
    let params = TcpKeepalive::new()
        .with_time(idle)
        .with_interval(TCP_PROBE_INTERVAL)
        .with_retries(TCP_PROBES);
    SockRef::from(stream).set_tcp_keepalive(&params)
}

/// Errors of accept(2) that concern one connection only: accept the next
/// one at once.
fn one_connection_only(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

impl Stream for Incoming {
    type Item = Result<Conn, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        for _ in 0..BURST {
            if let Some(pause) = this.pause.as_mut() {
                if pause.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.pause = None;
            }
            match this.listener.poll_accept(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok((stream, remote))) => {
                    this.accepted();
                    if this.counters.open.load(Ordering::Relaxed)
                        >= this.settings.max_connections as u64
                    {
                        // Dropped: closed before reading a byte.
                        this.refuse();
                        continue;
                    }
                    // Small responses must not wait for Nagle's algorithm.
                    if let Err(error) = stream.set_nodelay(true) {
                        tracing::debug!(%error, "TCP_NODELAY");
                    }
                    if let Some(idle) = this.settings.tcp_keepalive() {
                        if let Err(error) = tcp_keepalive(&stream, idle) {
                            tracing::debug!(%error, "TCP keep-alive");
                        }
                    }
                    let conn = Conn::new(
                        stream,
                        remote,
                        this.sweeper.as_ref(),
                        Arc::clone(&this.counters),
                    );
                    return Poll::Ready(Some(Ok(conn)));
                }
                Poll::Ready(Err(error)) => {
                    if this.failed(&error) {
                        let wait = this.backoff;
                        this.backoff = (wait * 2).min(BACKOFF_MAX);
                        this.pause = Some(Box::pin(tokio::time::sleep(wait)));
                    }
                }
            }
        }
        // Many refused or failed in a row: let other tasks run.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Lets one warning through per [`WARN_EVERY`], counting the others.
#[derive(Debug, Default)]
struct Throttle {
    last: Option<Instant>,
    since: u64,
}

impl Throttle {
    /// `Some(occurrences since the last warning, this one included)` when
    /// a warning is due.
    fn hit(&mut self) -> Option<u64> {
        self.hit_at(Instant::now())
    }

    fn hit_at(&mut self, now: Instant) -> Option<u64> {
        self.since += 1;
        if self.last.is_some_and(|last| now < last + WARN_EVERY) {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.since))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_per_interval_counting_the_others() {
        let start = Instant::now();
        let mut throttle = Throttle::default();
        assert_eq!(throttle.hit_at(start), Some(1));
        assert_eq!(throttle.hit_at(start + Duration::from_secs(1)), None);
        assert_eq!(throttle.hit_at(start + WARN_EVERY / 2), None);
        assert_eq!(throttle.hit_at(start + WARN_EVERY), Some(3));
        assert_eq!(throttle.hit_at(start + WARN_EVERY), None);
    }

    #[tokio::test]
    async fn accepted_sockets_get_nodelay_and_tcp_keepalive() {
        use tokio_stream::StreamExt;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let settings = crate::config::Config::for_db("x.db").connections;
        let mut incoming = Incoming::new(listener, settings, Arc::new(Counters::default()));
        let _client = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let conn = match incoming.next().await {
            Some(Ok(conn)) => conn,
            _ => panic!("a connection"),
        };
        let socket = SockRef::from(conn.socket());
        assert!(socket.tcp_nodelay().expect("nodelay"));
        assert!(socket.keepalive().expect("keepalive"));
        assert_eq!(
            socket.tcp_keepalive_time().expect("idle"),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn only_per_connection_errors_are_skipped_without_a_pause() {
        let aborted = io::Error::from(io::ErrorKind::ConnectionAborted);
        assert!(one_connection_only(&aborted));
        let emfile = io::Error::from_raw_os_error(24);
        assert!(!one_connection_only(&emfile));
    }
}
