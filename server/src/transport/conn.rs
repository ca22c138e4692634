//! One accepted connection: the socket, wrapped to close it when its
//! handshake takes too long or when it has stayed idle too long.
//!
//! Every byte goes through this wrapper, so it stays thin: a read that
//! returns data costs one branch once the handshake is over, and a read
//! that finds nothing registers the task's waker and looks at one flag,
//! set by [`super::sweeper`] when a timeout has expired.
//!
//! The handshake is over once tonic has taken the connection's info (at
//! once for plain TCP, only after the TLS handshake with TLS) and the
//! connection has read at least the length of the HTTP/2 preface.
//! "Idle" means no request or response stream in progress, counted by
//! [`super::layer`] on the shared [`ConnState`]; bytes alone (keep-alive
//! pings, say) do not keep a connection open.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tonic::transport::server::Connected;

use super::state::{ConnState, HANDSHAKE_EXPIRED, IDLE_EXPIRED, KEEP};
use super::sweeper::{Sweeper, Watched};
use super::{bump, Counters};

/// The HTTP/2 client preface, `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`.
const PREFACE_LEN: usize = 24;

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
            state: Arc::new(ConnState::new(None, Some(remote))),
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
        // The time first: the sweeper, once it sees the count fall to
        // zero, must not see the end of an earlier idle spell with it.
        self.0.mark_idle();
        self.0.active.fetch_sub(1, Ordering::Release);
    }
}

/// An accepted TCP connection, counted open until dropped.
pub struct Conn {
    io: TcpStream,
    state: Arc<ConnState>,
    counters: Arc<Counters>,
    /// Bytes read so far while the handshake lasts.
    handshake: Option<usize>,
    /// `None`: no timeout applies.
    watched: Option<Watched>,
    /// A timeout closed it: only end of stream from now on.
    closed: bool,
}

impl Conn {
    pub(super) fn new(
        io: TcpStream,
        remote: SocketAddr,
        sweeper: Option<&Sweeper>,
        counters: Arc<Counters>,
    ) -> Conn {
        counters.open.fetch_add(1, Ordering::Relaxed);
        bump(&counters.accepted);
        let state = Arc::new(ConnState::new(io.local_addr().ok(), Some(remote)));
        Conn {
            io,
            watched: sweeper.map(|s| s.watch(Arc::clone(&state))),
            state,
            counters,
            handshake: Some(0),
            closed: false,
        }
    }

    #[cfg(test)]
    pub(super) fn socket(&self) -> &TcpStream {
        &self.io
    }

    /// Counts the bytes of the handshake, and ends it once it is over.
    fn note_read(&mut self, read: usize) {
        let Some(so_far) = self.handshake.as_mut() else {
            return;
        };
        *so_far += read;
        if *so_far >= PREFACE_LEN && self.state.handed_over.load(Ordering::Relaxed) {
            self.handshake = None;
            self.state.mark_idle();
            self.state.handshake_done.store(true, Ordering::Release);
        }
    }

    /// After a read that found nothing: ready (end of stream or an error)
    /// when the sweeper has found a timeout expired, and it still holds.
    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.note_read(0);
        if self.closed {
            return Poll::Ready(Ok(()));
        }
        self.state.reader.register(cx.waker());
        let remote = self.state.remote;
        match self.state.close.load(Ordering::Acquire) {
            KEEP => Poll::Pending,
            HANDSHAKE_EXPIRED if self.handshake.is_some() => {
                self.closed = true;
                bump(&self.counters.closed_handshake);
                tracing::debug!(?remote, "closing a connection: no handshake in time");
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "handshake timeout",
                )))
            }
            IDLE_EXPIRED if self.state.active.load(Ordering::Relaxed) == 0 => {
                self.closed = true;
                bump(&self.counters.closed_idle);
                tracing::debug!(?remote, "closing an idle connection");
                // End of stream: the connection ends as if the peer had
                // closed it.
                Poll::Ready(Ok(()))
            }
            _ => {
                // Overtaken: the handshake ended or a call began meanwhile.
                self.state.close.store(KEEP, Ordering::Release);
                Poll::Pending
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
        if this.watched.is_none() {
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
