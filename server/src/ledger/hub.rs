//! Subscriptions: catch-up from SQLite, then live from the writer, without
//! gaps or duplicates.
//!
//! A subscriber registers on the live broadcast *before* reading SQLite, so
//! every row committed after its catch-up query is in its live buffer; rows
//! it already sent are skipped by id. A subscriber that falls further behind
//! than the live buffer holds is told it lagged and quietly goes back to
//! SQLite from its position: appends never wait for subscribers, and memory
//! stays bounded by the buffer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch};

use super::head::Head;
use super::snapshot::Published;
use crate::event::Event;
use crate::store::{Store, StoreError};

/// Rows read from SQLite per catch-up query, at most.
const CATCH_UP_PAGE: usize = 1024;
/// Bytes of rows read from SQLite per catch-up query, at most.
const CATCH_UP_BYTES: usize = 256 << 10;
/// Items buffered between a subscription's producer and its gRPC stream.
const STREAM_BUFFER: usize = 256;

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
#[derive(Clone, Debug)]
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

/// Why a subscription cannot start or had to end.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("after_id {after} is beyond the ledger's last id {last_id}")]
    BeyondHead { after: i64, last_id: i64 },
    #[error("too many subscribers (limit {0})")]
    TooMany(usize),
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("catch-up read failed: {0}")]
    Join(String),
}

/// The live fan-out of committed rows.
#[derive(Debug)]
pub struct Hub {
    live: broadcast::Sender<Arc<Event>>,
    subscribers: Arc<AtomicUsize>,
    max_subscribers: usize,
    shutdown: watch::Sender<bool>,
}

/// Decrements the subscriber count when a subscription ends.
struct Registration(Arc<AtomicUsize>);

impl Drop for Registration {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Hub {
    /// `buffer` live rows are kept for subscribers that fall behind.
    pub fn new(buffer: usize, max_subscribers: usize) -> Self {
        let (live, _) = broadcast::channel(buffer.max(16));
        let (shutdown, _) = watch::channel(false);
        Hub {
            live,
            subscribers: Arc::new(AtomicUsize::new(0)),
            max_subscribers,
            shutdown,
        }
    }

    /// The sequencer's sink: each committed row goes to every live
    /// subscriber.
    pub fn sink(&self) -> Box<dyn Fn(Arc<Event>) + Send + 'static> {
        let live = self.live.clone();
        Box::new(move |row| {
            // No receivers is fine: nobody is subscribed.
            let _ = live.send(row);
        })
    }

    /// Open subscriptions.
    pub fn subscriber_count(&self) -> usize {
        self.subscribers.load(Ordering::Acquire)
    }

    /// Ends every subscription with [`HubError::ShuttingDown`].
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// Starts a subscription; its items arrive on the returned receiver.
    pub fn subscribe(
        &self,
        spec: Spec,
        store: Store,
        published: Arc<Published>,
    ) -> Result<mpsc::Receiver<Result<Item, HubError>>, HubError> {
        if *self.shutdown.borrow() {
            return Err(HubError::ShuttingDown);
        }
        let count = self.subscribers.fetch_add(1, Ordering::AcqRel) + 1;
        let registration = Registration(Arc::clone(&self.subscribers));
        if count > self.max_subscribers {
            return Err(HubError::TooMany(self.max_subscribers));
        }
        // Live first, then the head: nothing committed after this point can
        // be missed.
        let live = self.live.subscribe();
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
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let producer = Producer {
            spec,
            store,
            published,
            live,
            shutdown: self.shutdown.subscribe(),
            tx,
            cursor,
            _registration: registration,
        };
        tokio::spawn(producer.run());
        Ok(rx)
    }
}

/// The task feeding one subscription.
struct Producer {
    spec: Spec,
    store: Store,
    published: Arc<Published>,
    live: broadcast::Receiver<Arc<Event>>,
    shutdown: watch::Receiver<bool>,
    tx: mpsc::Sender<Result<Item, HubError>>,
    /// Every matching row with id <= cursor has been sent.
    cursor: i64,
    _registration: Registration,
}

/// The subscriber went away: stop quietly.
struct Gone;

impl Producer {
    async fn run(mut self) {
        if let Err(Gone) = self.serve().await {
            tracing::debug!("subscription ended by the client");
        }
    }

    async fn send(&self, item: Result<Item, HubError>) -> Result<(), Gone> {
        self.tx.send(item).await.map_err(|_| Gone)
    }

    fn wants(&self, row: &Event) -> bool {
        self.spec.kinds.is_empty() || self.spec.kinds.contains(&row.kind)
    }

    async fn serve(&mut self) -> Result<(), Gone> {
        if let Err(e) = self.catch_up().await {
            return self.send(Err(e)).await;
        }
        let head = self.published.snapshot().head.clone();
        self.send(Ok(Item::CaughtUp {
            position: self.cursor,
            head,
        }))
        .await?;
        loop {
            let heartbeat = self
                .spec
                .heartbeat
                .unwrap_or(Duration::from_secs(3600 * 24));
            tokio::select! {
                biased;
                _ = self.shutdown.changed() => {
                    return self.send(Err(HubError::ShuttingDown)).await;
                }
                received = self.live.recv() => match received {
                    Ok(row) => {
                        if row.id <= self.cursor {
                            continue;
                        }
                        self.cursor = row.id;
                        if self.wants(&row) {
                            self.send(Ok(Item::Event(row))).await?;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, cursor = self.cursor, "subscriber lagged; catching up from SQLite");
                        if let Err(e) = self.catch_up().await {
                            return self.send(Err(e)).await;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        return self.send(Err(HubError::ShuttingDown)).await;
                    }
                },
                _ = tokio::time::sleep(heartbeat), if self.spec.heartbeat.is_some() => {
                    let head = self.published.snapshot().head.clone();
                    let position = self.cursor;
                    self.send(Ok(Item::Heartbeat { position, head })).await?;
                }
            }
        }
    }

    /// Sends every matching stored row after the cursor, page by page, until
    /// a page comes back short; then every row up to the head read before
    /// that last query has been seen.
    async fn catch_up(&mut self) -> Result<(), HubError> {
        loop {
            if *self.shutdown.borrow() {
                return Err(HubError::ShuttingDown);
            }
            let head_before = self.published.snapshot().head.last_id;
            let store = self.store.clone();
            let kinds = self.spec.kinds.clone();
            let after = self.cursor;
            let page = tokio::task::spawn_blocking(move || {
                store.after(after, &kinds, CATCH_UP_PAGE, CATCH_UP_BYTES)
            })
            .await
            .map_err(|e| HubError::Join(e.to_string()))??;
            let short = !page.cut;
            for row in page.events {
                self.cursor = row.id;
                if self.send(Ok(Item::Event(Arc::new(row)))).await.is_err() {
                    // The client left; the producer ends on its next send.
                    return Ok(());
                }
            }
            if short {
                self.cursor = self.cursor.max(head_before);
                return Ok(());
            }
        }
    }
}
