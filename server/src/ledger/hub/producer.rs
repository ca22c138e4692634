//! The task feeding one subscription: rows after its position from the
//! live window, or from SQLite when they have left the window, within a
//! budget of bytes in flight; then the `caught_up` marker; then live rows
//! as they are committed, with heartbeats while idle.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};

use super::window::{Found, Window};
use super::{Delivery, Ending, HubError, Item, Registration, Spec};
use crate::event::Event;
use crate::ledger::snapshot::Published;
use crate::store::{row_bytes, Store};

/// Rows read from SQLite per batch, at most.
const READ_ROWS: usize = 1024;

/// What a row costs in memory beyond its texts: the row itself, its
/// allocations, its place in the queue.
const ROW_OVERHEAD: usize = 256;

/// What holding a row in flight costs, roughly.
fn in_memory_bytes(row: &Event) -> usize {
    row_bytes(row) + ROW_OVERHEAD
}

/// The subscriber went away: stop quietly.
pub(super) struct Gone;

/// Everything one subscription's task holds.
pub(super) struct Producer {
    pub spec: Spec,
    pub store: Store,
    pub published: Arc<Published>,
    pub window: Arc<Window>,
    /// The id of the last row pushed into the window.
    pub committed: watch::Receiver<i64>,
    pub shutdown: watch::Receiver<Option<Ending>>,
    /// The bounded pool of SQLite reads shared by every subscription.
    pub reads: Arc<Semaphore>,
    pub tx: mpsc::Sender<Result<Delivery, HubError>>,
    /// Bytes of rows this subscription may have in flight (queued for its
    /// stream and not yet turned into messages).
    pub budget: Arc<Semaphore>,
    pub budget_bytes: usize,
    /// Every matching row with id <= cursor has been sent.
    pub cursor: i64,
    pub _registration: Registration,
}

impl Producer {
    pub(super) async fn run(mut self) {
        if let Err(Gone) = self.serve().await {
            tracing::debug!(cursor = self.cursor, "subscription ended by the client");
        }
    }

    async fn serve(&mut self) -> Result<(), Gone> {
        let head = self.published.snapshot().head.clone();
        if let Err(e) = self.deliver_through(head.last_id).await? {
            return self.send(Err(e)).await;
        }
        let head = self.published.snapshot().head.clone();
        let position = self.cursor;
        self.send(Ok(Item::CaughtUp { position, head })).await?;
        loop {
            let heartbeat = self.spec.heartbeat.unwrap_or(Duration::from_secs(86_400));
            tokio::select! {
                biased;
                _ = self.shutdown.changed() => {
                    return self.end_for_shutdown();
                }
                // The client went away while nothing was sent: its slot is
                // freed now, not at the next row or heartbeat.
                _ = self.tx.closed() => return Err(Gone),
                changed = self.committed.changed() => {
                    if changed.is_err() {
                        return self.end_for_shutdown();
                    }
                    let last = *self.committed.borrow_and_update();
                    if let Err(e) = self.deliver_through(last).await? {
                        return self.send(Err(e)).await;
                    }
                }
                _ = tokio::time::sleep(heartbeat), if self.spec.heartbeat.is_some() => {
                    let head = self.published.snapshot().head.clone();
                    let position = self.cursor;
                    self.send(Ok(Item::Heartbeat { position, head })).await?;
                }
            }
        }
    }

    /// Delivers every matching row after the cursor up to `target` (all
    /// committed), from the window or, for rows that left it, from SQLite.
    async fn deliver_through(&mut self, target: i64) -> Result<Result<(), HubError>, Gone> {
        while self.cursor < target {
            match self.window.after(self.cursor, self.budget_bytes / 2) {
                Found::Rows(rows) => {
                    for row in rows {
                        self.deliver(row).await?;
                    }
                }
                Found::Gone => {
                    // Read only once the client has taken half its budget
                    // back: a stalled subscription holds no batch.
                    drop(self.take_budget(self.budget_bytes / 2).await?);
                    if let Err(e) = self.read_batch(target).await? {
                        return Ok(Err(e));
                    }
                }
                // Committed, published, not yet in the window: the sequencer
                // pushes it next and the watch wakes us.
                Found::Nothing => break,
            }
        }
        Ok(Ok(()))
    }

    /// One batch of rows after the cursor read from SQLite, through the
    /// shared pool of reads; a batch that is not cut reaches `target`.
    async fn read_batch(&mut self, target: i64) -> Result<Result<(), HubError>, Gone> {
        let page = {
            let Ok(_slot) = Arc::clone(&self.reads).acquire_owned().await else {
                return Ok(Err(HubError::ShuttingDown));
            };
            let store = self.store.clone();
            let kinds = self.spec.kinds.clone();
            let (after, max_bytes) = (self.cursor, self.budget_bytes / 2);
            match tokio::task::spawn_blocking(move || {
                store.after(after, &kinds, READ_ROWS, max_bytes)
            })
            .await
            {
                Ok(Ok(page)) => page,
                Ok(Err(e)) => return Ok(Err(e.into())),
                Err(e) => return Ok(Err(HubError::Join(e.to_string()))),
            }
        };
        let cut = page.cut;
        for row in page.events {
            self.deliver(Arc::new(row)).await?;
        }
        if !cut {
            // Every matching row committed before the read was in it.
            self.cursor = self.cursor.max(target);
        }
        Ok(Ok(()))
    }

    fn wants(&self, row: &Event) -> bool {
        self.spec.kinds.is_empty() || self.spec.kinds.contains(&row.kind)
    }

    /// Sends a row if it matches, within the byte budget; moves the cursor.
    async fn deliver(&mut self, row: Arc<Event>) -> Result<(), Gone> {
        let id = row.id;
        if id <= self.cursor {
            return Ok(());
        }
        if self.wants(&row) {
            let weight = in_memory_bytes(&row).min(self.budget_bytes);
            let budget = self.take_budget(weight).await?;
            self.send_delivery(Delivery {
                item: Item::Event(row),
                _budget: Some(budget),
            })
            .await?;
        }
        self.cursor = id;
        Ok(())
    }

    /// Waits for `bytes` of this subscription's budget; a stalled stream
    /// holds no more than its budget.
    async fn take_budget(&mut self, bytes: usize) -> Result<OwnedSemaphorePermit, Gone> {
        let weight = u32::try_from(bytes).unwrap_or(u32::MAX);
        let budget = Arc::clone(&self.budget);
        tokio::select! {
            permit = budget.acquire_many_owned(weight) => permit.map_err(|_| Gone),
            _ = self.shutdown.changed() => Err(Gone),
            _ = self.tx.closed() => Err(Gone),
        }
    }

    /// Ends the stream with UNAVAILABLE, or, if its client has stalled and
    /// its queue is full, just ends it: shutdown never waits for a client.
    fn end_for_shutdown(&mut self) -> Result<(), Gone> {
        let ending = (*self.shutdown.borrow()).unwrap_or(Ending::ShuttingDown);
        let _ = self.tx.try_send(Err(ending.error()));
        Ok(())
    }

    async fn send(&mut self, item: Result<Item, HubError>) -> Result<(), Gone> {
        match item {
            Ok(item) => {
                self.send_delivery(Delivery {
                    item,
                    _budget: None,
                })
                .await
            }
            Err(e) => self.tx.send(Err(e)).await.map_err(|_| Gone),
        }
    }

    /// Sends one delivery; a stream stalled at shutdown is given up.
    async fn send_delivery(&mut self, delivery: Delivery) -> Result<(), Gone> {
        let tx = self.tx.clone();
        tokio::select! {
            sent = tx.send(Ok(delivery)) => sent.map_err(|_| Gone),
            _ = self.shutdown.changed() => Err(Gone),
        }
    }
}
