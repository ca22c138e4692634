//! The handshake and idle timeouts, checked for every connection by one
//! thread a few times per timeout.
//!
//! Why not a tokio timer per connection: while any tokio timer is pending,
//! an idle runtime worker parks with a timeout, arming a kernel timer on
//! every park; on this VM that alone added about 1.5 µs to each no-op
//! call. A thread of its own keeps the request path free of timers: a
//! connection's read only registers its waker and looks at one flag.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::state::ConnState;
use super::Settings;
use crate::sync::lock;

/// The shortest and longest pause between two sweeps.
const TICK_MIN: Duration = Duration::from_millis(10);
const TICK_MAX: Duration = Duration::from_secs(1);

/// The connections being watched, shared by the thread and the
/// connections (each removes itself when it closes).
#[derive(Default)]
struct Registry {
    conns: Mutex<HashMap<u64, Arc<ConnState>>>,
    next_id: AtomicU64,
    /// Set (and notified) when the sweeper is dropped.
    stop: Mutex<bool>,
    wake: Condvar,
}

/// The sweeping thread; it stops when this is dropped.
pub struct Sweeper {
    registry: Arc<Registry>,
}

/// One connection's place in the registry, left when dropped.
pub struct Watched {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Watched {
    fn drop(&mut self) {
        lock(&self.registry.conns).remove(&self.id);
    }
}

impl Sweeper {
    /// Starts the thread when a timeout is set (`None`: nothing to watch,
    /// or the thread could not start, which is logged).
    pub fn start(settings: Settings) -> Option<Sweeper> {
        let shortest = [settings.handshake_timeout(), settings.idle_timeout()]
            .into_iter()
            .flatten()
            .min()?;
        let tick = (shortest / 4).clamp(TICK_MIN, TICK_MAX);
        let registry = Arc::new(Registry::default());
        let shared = Arc::clone(&registry);
        let spawned = std::thread::Builder::new()
            .name("pmm-conn-timeouts".to_string())
            .spawn(move || run(&shared, &settings, tick));
        match spawned {
            Ok(_) => Some(Sweeper { registry }),
            Err(error) => {
                tracing::warn!(%error, "no connection timeouts: cannot start their thread");
                None
            }
        }
    }

    /// Watches `state` until the returned guard drops.
    pub fn watch(&self, state: Arc<ConnState>) -> Watched {
        let id = self.registry.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.registry.conns).insert(id, state);
        Watched {
            registry: Arc::clone(&self.registry),
            id,
        }
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        *lock(&self.registry.stop) = true;
        self.registry.wake.notify_all();
    }
}

fn run(registry: &Registry, settings: &Settings, tick: Duration) {
    let mut stopped = lock(&registry.stop);
    loop {
        stopped = registry
            .wake
            .wait_timeout(stopped, tick)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        if *stopped {
            return;
        }
        let now = Instant::now();
        for state in lock(&registry.conns).values() {
            state.check(now, settings);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_thread_without_a_timeout_and_a_short_tick_for_short_ones() {
        let mut settings = crate::config::Config::for_db("x.db").connections;
        settings.handshake_timeout = Duration::ZERO;
        settings.idle_timeout = Duration::ZERO;
        assert!(Sweeper::start(settings).is_none());
        settings.idle_timeout = Duration::from_millis(200);
        let sweeper = Sweeper::start(settings).expect("a sweeper");
        assert!(
            Arc::strong_count(&sweeper.registry) == 2,
            "the thread holds it"
        );
        drop(sweeper);
    }
}
