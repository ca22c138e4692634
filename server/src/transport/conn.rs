//! One accepted connection: the socket, wrapped to close it when its
//! handshake takes too long or when it has stayed idle too long.
//!
//! Every byte goes through this wrapper, so it stays thin: a read that
//! returns data costs one branch once the handshake is over; the timer is
//! looked at only when the socket has nothing to read.
//!
//! The handshake is over once tonic has taken the connection's info (at
//! once for plain TCP, only after the TLS handshake with TLS) and the
//! connection has read at least the length of the HTTP/2 preface.
//! "Idle" means no request or response stream in progress, counted by
//! [`super::layer`] on the shared [`ConnState`]; bytes alone (keep-alive
//! pings, say) do not keep a connection open.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use tonic::transport::server::Connected;

use super::{bump, Counters, Settings};

/// The HTTP/2 client preface, `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`.
const PREFACE_LEN: usize = 24;

/// What a connection shares with the requests it carries.
#[derive(Debug)]
pub struct ConnState {
    opened: Instant,
    /// Requests and response streams in progress.
    active: AtomicU32,
    /// When `active` last fell to zero, in ms since `opened`.
    idle_since_ms: AtomicU64,
    /// tonic has taken the connect-info: the TLS handshake, if any, is done.
    handed_over: AtomicBool,
    local: Option<SocketAddr>,
    remote: Option<SocketAddr>,
}

impl ConnState {
    fn idle_since(&self) -> Instant {
        self.opened + Duration::from_millis(self.idle_since_ms.load(Ordering::Relaxed))
    }

    fn mark_idle(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.idle_since_ms.store(ms, Ordering::Relaxed);
    }
}

/// The connect-info of a [`Conn`]: tonic puts it in every request's
/// extensions (with TLS too), which is how [`super::layer`] finds the
/// connection a request runs on. tonic's `Request::remote_addr` looks for
/// its own `TcpConnectInfo` instead: read the peer with
/// `request.extensions().get::<ConnInfo>()` (inserting a `TcpConnectInfo`
/// into every request would cost an allocation per call).
#[derive(Clone, Debug)]
pub struct ConnInfo {
    state: Arc<ConnState>,
}

impl ConnInfo {
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.state.remote
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.state.local
    }

    /// Requests and response streams in progress on the connection.
    pub fn active(&self) -> u32 {
        self.state.active.load(Ordering::Relaxed)
    }

    /// The info of a connection that is not a [`Conn`] (unit tests).
    #[cfg(test)]
    pub(crate) fn detached(remote: SocketAddr) -> ConnInfo {
        ConnInfo {
            state: Arc::new(ConnState {
                opened: Instant::now(),
                active: AtomicU32::new(0),
                idle_since_ms: AtomicU64::new(0),
                handed_over: AtomicBool::new(true),
                local: None,
                remote: Some(remote),
            }),
        }
    }

    /// Counts one request (or stream) in progress until the guard drops.
    pub fn begin(&self) -> Active {
        self.state.active.fetch_add(1, Ordering::Relaxed);
        Active(Arc::clone(&self.state))
    }
}

/// One request or stream in progress on a connection.
#[derive(Debug)]
pub struct Active(Arc<ConnState>);

impl Drop for Active {
    fn drop(&mut self) {
        if self.0.active.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.0.mark_idle();
        }
    }
}

/// Why the watchdog closes a connection.
enum Expired {
    Handshake,
    Idle,
}

enum Phase {
    /// Bytes read so far.
    Handshake(usize),
    Open,
    Closed,
}

/// The timer of a connection that has a handshake or idle timeout.
struct Watch {
    phase: Phase,
    idle: Option<Duration>,
    timer: Pin<Box<Sleep>>,
    /// The timer has this task's waker since it was last set: until it
    /// fires, a glance at its state is enough (the connection is read from
    /// one task once the handshake is over).
    armed: bool,
}

impl Watch {
    fn new(settings: &Settings, opened: Instant) -> Option<Watch> {
        let idle = settings.idle_timeout();
        let (phase, deadline) = match (settings.handshake_timeout(), idle) {
            (Some(handshake), _) => (Phase::Handshake(0), opened + handshake),
            (None, Some(idle)) => (Phase::Open, opened + idle),
            (None, None) => return None,
        };
        Some(Watch {
            phase,
            idle,
            timer: Box::pin(tokio::time::sleep_until(deadline)),
            armed: false,
        })
    }

    /// The handshake is over: idle time counts from now. `false`: nothing
    /// is left to watch.
    fn open(&mut self, state: &ConnState) -> bool {
        self.phase = Phase::Open;
        match self.idle {
            Some(idle) => {
                state.mark_idle();
                self.rearm(Instant::now() + idle);
                true
            }
            None => false,
        }
    }

    fn rearm(&mut self, deadline: Instant) {
        self.timer.as_mut().reset(deadline);
        self.armed = false;
    }

    /// Ready when the connection must be closed.
    fn poll_expired(&mut self, cx: &mut Context<'_>, state: &ConnState) -> Poll<Expired> {
        loop {
            if self.armed && !self.timer.is_elapsed() {
                return Poll::Pending;
            }
            if self.timer.as_mut().poll(cx).is_pending() {
                self.armed = true;
                return Poll::Pending;
            }
            let idle = match self.phase {
                Phase::Handshake(_) => return Poll::Ready(Expired::Handshake),
                Phase::Open => match self.idle {
                    Some(idle) => idle,
                    None => return Poll::Pending,
                },
                Phase::Closed => return Poll::Pending,
            };
            let now = Instant::now();
            let deadline = if state.active.load(Ordering::Relaxed) > 0 {
                now + idle
            } else {
                state.idle_since() + idle
            };
            if deadline <= now {
                return Poll::Ready(Expired::Idle);
            }
            self.rearm(deadline);
        }
    }
}

/// An accepted TCP connection, counted open until dropped.
pub struct Conn {
    io: TcpStream,
    state: Arc<ConnState>,
    counters: Arc<Counters>,
    /// `None`: no timeout applies (any more).
    watch: Option<Watch>,
}

impl Conn {
    pub(super) fn new(
        io: TcpStream,
        remote: SocketAddr,
        settings: &Settings,
        counters: Arc<Counters>,
    ) -> Conn {
        counters.open.fetch_add(1, Ordering::Relaxed);
        bump(&counters.accepted);
        let opened = Instant::now();
        let state = Arc::new(ConnState {
            opened,
            active: AtomicU32::new(0),
            idle_since_ms: AtomicU64::new(0),
            handed_over: AtomicBool::new(false),
            local: io.local_addr().ok(),
            remote: Some(remote),
        });
        Conn {
            io,
            state,
            counters,
            watch: Watch::new(settings, opened),
        }
    }

    /// Counts the bytes of the handshake, and ends it once it is over.
    fn note_read(&mut self, read: usize) {
        let Some(watch) = self.watch.as_mut() else {
            return;
        };
        let Phase::Handshake(so_far) = &mut watch.phase else {
            return;
        };
        *so_far += read;
        let done = *so_far >= PREFACE_LEN && self.state.handed_over.load(Ordering::Relaxed);
        if done && !watch.open(&self.state) {
            self.watch = None;
        }
    }

    /// After a read that found nothing: ready (end of stream or an error)
    /// when a timeout has expired.
    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.note_read(0);
        let Some(watch) = self.watch.as_mut() else {
            return Poll::Pending;
        };
        if matches!(watch.phase, Phase::Closed) {
            return Poll::Ready(Ok(()));
        }
        let expired = ready!(watch.poll_expired(cx, &self.state));
        watch.phase = Phase::Closed;
        let remote = self.state.remote;
        match expired {
            Expired::Handshake => {
                bump(&self.counters.closed_handshake);
                tracing::debug!(?remote, "closing a connection: no handshake in time");
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "handshake timeout",
                )))
            }
            Expired::Idle => {
                bump(&self.counters.closed_idle);
                tracing::debug!(?remote, "closing an idle connection");
                // End of stream: the connection ends as if the peer had
                // closed it.
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.counters.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Connected for Conn {
    type ConnectInfo = ConnInfo;

    fn connect_info(&self) -> ConnInfo {
        self.state.handed_over.store(true, Ordering::Relaxed);
        ConnInfo {
            state: Arc::clone(&self.state),
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if this.watch.is_none() {
            return polled;
        }
        match polled {
            Poll::Ready(result) => {
                this.note_read(buf.filled().len() - before);
                Poll::Ready(result)
            }
            Poll::Pending => this.poll_close(cx),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
