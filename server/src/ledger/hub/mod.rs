//! Subscriptions: catch-up, then live, without gaps or duplicates, and
//! without letting any subscriber hold more than a fixed number of bytes.
//!
//! Committed rows go into a live [`window`] shared by every subscriber and
//! bounded by rows and bytes, and a watch announces the last id pushed. A
//! subscription's task ([`producer`]) follows its own position: rows after
//! it come from the window, or, when they have already left the window,
//! from SQLite in byte-bounded batches through a small pool of reads shared
//! by all subscriptions (never a thread per subscriber). Each subscription
//! may have at most `in_flight_bytes` of rows queued for its stream; a
//! stalled client therefore stops its task, which holds nothing more, and
//! reads on from SQLite when the client resumes. Appends never wait for
//! subscribers.

mod producer;
pub mod window;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};

use self::producer::Producer;
use self::window::Window;
use super::head::Head;
use super::sequencer::RowSink;
use super::snapshot::Published;
use crate::event::Event;
use crate::store::{Store, StoreError};

/// Items queued between a subscription's task and its gRPC stream, at most
/// (their bytes are bounded separately).
const STREAM_ITEMS: usize = 64;
/// SQLite reads for subscriptions running at once, at most.
const CONCURRENT_READS: usize = 4;

/// Where a subscription starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Every row from id 1.
    FromStart,
    /// Rows with id > this (exclusive).
    After(i64),
    /// Rows committed after the subscription is registered.
    OnlyNew,
}

/// What a subscription asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    pub start: Start,
    /// Only these kinds; empty = all.
    pub kinds: Vec<String>,
    /// Idle time before a heartbeat; `None` = no heartbeats.
    pub heartbeat: Option<Duration>,
}

/// One message of a subscription.
#[derive(Clone, Debug)]
pub enum Item {
    Event(Arc<Event>),
    /// Catch-up done: every matching row with id <= position was sent.
    CaughtUp {
        position: i64,
        head: Head,
    },
    Heartbeat {
        position: i64,
        head: Head,
    },
}

/// An item on its way to the stream, holding its share of the
/// subscription's byte budget until it has been turned into a message.
#[derive(Debug)]
pub struct Delivery {
    pub item: Item,
    _budget: Option<OwnedSemaphorePermit>,
}

/// Why a subscription cannot start or had to end.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("after_id {after} is beyond the ledger's last id {last_id}")]
    BeyondHead { after: i64, last_id: i64 },
    #[error("too many subscribers (limit {0})")]
    TooMany(usize),
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("this mind was closed to make room for others (--max-open-minds, --max-open-memory); subscribe again after the last id you received: nothing was lost")]
    MindClosed,
    #[error("this mind was deleted")]
    MindDeleted,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("catch-up read failed: {0}")]
    Join(String),
}

/// How the hub bounds its memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HubLimits {
    /// Rows kept in the live window.
    pub window_rows: usize,
    /// Bytes of rows kept in the live window.
    pub window_bytes: usize,
    /// Bytes of rows one subscription may have in flight.
    pub in_flight_bytes: usize,
    pub max_subscribers: usize,
}

/// The live fan-out of committed rows.
#[derive(Debug)]
pub struct Hub {
    window: Arc<Window>,
    /// The id of the last row pushed into the window.
    committed: watch::Sender<i64>,
    reads: Arc<Semaphore>,
    subscribers: Arc<AtomicUsize>,
    limits: HubLimits,
    shutdown: watch::Sender<Option<Ending>>,
}

/// Why every subscription of a hub ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The server is shutting down.
    ShuttingDown,
    /// The mind was closed to make room (its subscribers resume later).
    Closed,
    /// The mind was deleted.
    Deleted,
}

impl Ending {
    /// The error a subscription ends with.
    pub fn error(self) -> HubError {
        match self {
            Ending::ShuttingDown => HubError::ShuttingDown,
            Ending::Closed => HubError::MindClosed,
            Ending::Deleted => HubError::MindDeleted,
        }
    }
}

/// Decrements the subscriber count when a subscription ends.
struct Registration(Arc<AtomicUsize>);

impl Drop for Registration {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Hub {
    /// A hub over a ledger whose last row is `last_id`; `subscribers`
    /// counts the subscriptions of every hub that shares it (the limit
    /// `max_subscribers` is on that count).
    pub fn new(limits: HubLimits, last_id: i64, subscribers: Arc<AtomicUsize>) -> Self {
        let (committed, _) = watch::channel(last_id);
        let (shutdown, _) = watch::channel(None);
        Hub {
            window: Arc::new(Window::new(
                limits.window_rows,
                limits.window_bytes,
                last_id,
            )),
            committed,
            reads: Arc::new(Semaphore::new(CONCURRENT_READS)),
            subscribers,
            limits,
            shutdown,
        }
    }

    /// The sequencer's sink: each commit's rows go into the live window,
    /// then subscribers are woken.
    pub fn sink(&self) -> RowSink {
        let window = Arc::clone(&self.window);
        let committed = self.committed.clone();
        Box::new(move |rows| {
            let Some(last) = rows.last() else { return };
            window.push(rows);
            committed.send_replace(last.id);
        })
    }

    /// Open subscriptions.
    pub fn subscriber_count(&self) -> usize {
        self.subscribers.load(Ordering::Acquire)
    }

    /// Rows and bytes in the live window.
    pub fn window_size(&self) -> (usize, usize) {
        self.window.size()
    }

    /// Ends every subscription, with the error `ending` gives (the first
    /// reason given stands).
    pub fn end(&self, ending: Ending) {
        self.shutdown.send_if_modified(|current| {
            let first = current.is_none();
            current.get_or_insert(ending);
            first
        });
    }

    /// Starts a subscription; its items arrive on the returned receiver.
    pub fn subscribe(
        &self,
        spec: Spec,
        store: Store,
        published: Arc<Published>,
    ) -> Result<mpsc::Receiver<Result<Delivery, HubError>>, HubError> {
        if let Some(ending) = *self.shutdown.borrow() {
            return Err(ending.error());
        }
        let count = self.subscribers.fetch_add(1, Ordering::AcqRel) + 1;
        let registration = Registration(Arc::clone(&self.subscribers));
        if count > self.limits.max_subscribers {
            return Err(HubError::TooMany(self.limits.max_subscribers));
        }
        let head = published.snapshot().head.clone();
        let cursor = match spec.start {
            Start::FromStart => 0,
            Start::OnlyNew => head.last_id,
            Start::After(after) if after > head.last_id => {
                return Err(HubError::BeyondHead {
                    after,
                    last_id: head.last_id,
                })
            }
            Start::After(after) => after,
        };
        let (tx, rx) = mpsc::channel(STREAM_ITEMS);
        let budget_bytes = self.limits.in_flight_bytes.max(1);
        let producer = Producer {
            spec,
            store,
            published,
            window: Arc::clone(&self.window),
            committed: self.committed.subscribe(),
            shutdown: self.shutdown.subscribe(),
            reads: Arc::clone(&self.reads),
            tx,
            budget: Arc::new(Semaphore::new(budget_bytes)),
            budget_bytes,
            cursor,
            _registration: registration,
        };
        tokio::spawn(producer.run());
        Ok(rx)
    }
}
