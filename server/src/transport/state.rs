//! What a connection shares with the requests it carries
//! ([`super::layer`]) and with the sweeper ([`super::sweeper`]): calls in
//! progress, when it fell idle, whether its handshake is over, and the flag
//! the sweeper sets when a timeout has expired.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use atomic_waker::AtomicWaker;

use super::Settings;

/// Values of [`ConnState::close`].
pub(super) const KEEP: u8 = 0;
pub(super) const HANDSHAKE_EXPIRED: u8 = 1;
pub(super) const IDLE_EXPIRED: u8 = 2;

/// What a connection shares with the requests it carries and with the
/// sweeper.
#[derive(Debug)]
pub struct ConnState {
    pub(super) opened: Instant,
    /// Requests and response streams in progress.
    pub(super) active: AtomicU32,
    /// When `active` last fell to zero (or the handshake ended), in ms
    /// since `opened`.
    pub(super) idle_since_ms: AtomicU64,
    /// tonic has taken the connect-info: the TLS handshake, if any, is done.
    pub(super) handed_over: AtomicBool,
    pub(super) handshake_done: AtomicBool,
    /// Set by the sweeper: why the connection should close.
    pub(super) close: AtomicU8,
    /// The task reading the connection, woken when `close` is set.
    pub(super) reader: AtomicWaker,
    pub(super) local: Option<SocketAddr>,
    pub(super) remote: Option<SocketAddr>,
}

impl ConnState {
    pub(super) fn new(local: Option<SocketAddr>, remote: Option<SocketAddr>) -> ConnState {
        ConnState {
            opened: Instant::now(),
            active: AtomicU32::new(0),
            idle_since_ms: AtomicU64::new(0),
            handed_over: AtomicBool::new(false),
            handshake_done: AtomicBool::new(false),
            close: AtomicU8::new(KEEP),
            reader: AtomicWaker::new(),
            local,
            remote,
        }
    }

    pub(super) fn mark_idle(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.idle_since_ms.store(ms, Ordering::Relaxed);
    }

    /// The sweeper's check: flags the connection and wakes its reader
    /// when a timeout has expired at `now`.
    pub(super) fn check(&self, now: Instant, settings: &Settings) {
        let handshake_over = self.handshake_done.load(Ordering::Acquire);
        let expired = match (handshake_over, settings.handshake_timeout()) {
            (false, Some(limit)) if now >= self.opened + limit => HANDSHAKE_EXPIRED,
            _ => match settings.idle_timeout() {
                Some(limit) if self.active.load(Ordering::Acquire) == 0 => {
                    let since = Duration::from_millis(self.idle_since_ms.load(Ordering::Relaxed));
                    if now >= self.opened + since + limit {
                        IDLE_EXPIRED
                    } else {
                        KEEP
                    }
                }
                _ => KEEP,
            },
        };
        if expired != KEEP && self.close.swap(expired, Ordering::AcqRel) != expired {
            self.reader.wake();
        }
    }
}
