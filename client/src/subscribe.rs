//! Subscriptions that survive a dropped connection.
//!
//! [`crate::Client::subscribe_resilient`] opens a `Subscribe` stream; when
//! the connection drops, the server shuts down (the stream ends with
//! `UNAVAILABLE`), the stream ends unexpectedly or a live stream stays silent
//! past three heartbeat intervals, it waits (bounded exponential backoff)
//! and subscribes again with `after_id` = the last position it delivered:
//! the last event's id, or a later `caught_up`/heartbeat position. The
//! consumer sees every matching event once, in id order: no gap, no
//! duplicate (events at or below the position already delivered are
//! dropped, should a server repeat them).

use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream};
use futures_util::{Stream, StreamExt};
use pmm::v1;
use pmm::v1::subscribe_request::Start as WireStart;
use pmm::v1::subscribe_response::Item;

use crate::error::ClientError;
use crate::types::{head_of, Event, Head};

/// Where a subscription starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Start {
    /// Replay the whole ledger, then go live.
    #[default]
    FromStart,
    /// Events with id > this (exclusive), then live.
    AfterId(u64),
    /// Only events committed after the subscription is registered.
    OnlyNew,
}

/// How a resilient subscription retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait before the first retry.
    pub initial_backoff: Duration,
    /// Longest wait between retries (the backoff doubles up to this).
    pub max_backoff: Duration,
    /// Most consecutive failed attempts (without any message received in
    /// between) before giving up; `None` = retry forever.
    pub max_attempts: Option<u32>,
}

impl Default for RetryPolicy {
    /// 100 ms doubling up to 5 s, forever.
    fn default() -> Self {
        RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_attempts: None,
        }
    }
}

impl RetryPolicy {
    /// Never retry: the first failure ends the stream with an error.
    pub fn never() -> Self {
        RetryPolicy {
            max_attempts: Some(0),
            ..Default::default()
        }
    }

    /// The wait before retry number `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        self.initial_backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff)
    }
}

/// What to subscribe to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscribeSpec {
    /// Where to start.
    pub start: Start,
    /// Only these kinds (empty = all).
    pub kinds: Vec<String>,
    /// Heartbeat interval while idle (`None` = the server's 5 s; zero = none).
    pub heartbeat: Option<Duration>,
    /// Reconnection policy (used by `subscribe_resilient`).
    pub retry: RetryPolicy,
}

impl SubscribeSpec {
    /// A subscription starting at `start`, all kinds, default heartbeat and
    /// retry policy.
    pub fn new(start: Start) -> Self {
        SubscribeSpec {
            start,
            ..Default::default()
        }
    }

    /// Only these kinds.
    pub fn with_kinds(mut self, kinds: Vec<String>) -> Self {
        self.kinds = kinds;
        self
    }

    /// Heartbeat interval.
    pub fn with_heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = Some(every);
        self
    }

    /// Reconnection policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}

/// A subscription's position with the ledger head at that moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// Every matching event with id <= position has been delivered.
    pub position: u64,
    /// The ledger head when the marker was sent.
    pub head: Head,
}

/// A reconnection about to happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconnect {
    /// Retry number since the last message received (1-based).
    pub attempt: u32,
    /// How long the subscription waits before subscribing again.
    pub delay: Duration,
    /// The `after_id` it will resume from (`None`: an `only_new`
    /// subscription that had not yet received its position).
    pub resume_after: Option<u64>,
    /// What went wrong.
    pub reason: String,
}

/// One item of a subscription.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SubItem {
    /// A ledger event, in id order.
    Event(Event),
    /// The catch-up replay is complete (sent again after each reconnection).
    CaughtUp(Position),
    /// Keep-alive while idle.
    Heartbeat(Position),
    /// The stream broke and will be resumed (resilient subscriptions only);
    /// informational: no event is lost or repeated.
    Reconnecting(Reconnect),
}

/// Converts one stream message (`None` for an empty one).
fn decode(resp: v1::SubscribeResponse) -> Result<Option<SubItem>, ClientError> {
    Ok(match resp.item {
        Some(Item::Event(ev)) => Some(SubItem::Event(Event::from_row(ev)?)),
        Some(Item::CaughtUp(c)) => Some(SubItem::CaughtUp(Position {
            position: c.position,
            head: head_of(c.head),
        })),
        Some(Item::Heartbeat(h)) => Some(SubItem::Heartbeat(Position {
            position: h.position,
            head: head_of(h.head),
        })),
        None => None,
    })
}

/// The resume position: what has been delivered so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// Every matching event with id <= this was delivered; `None` for an
    /// `only_new` subscription that has not yet learnt its position.
    position: Option<u64>,
}

impl Cursor {
    pub(crate) fn new(start: Start) -> Self {
        Cursor {
            position: match start {
                Start::FromStart => Some(0),
                Start::AfterId(id) => Some(id),
                Start::OnlyNew => None,
            },
        }
    }

    pub(crate) fn position(&self) -> Option<u64> {
        self.position
    }

    /// The start of the next Subscribe call.
    pub(crate) fn wire_start(&self) -> WireStart {
        match self.position {
            Some(id) => WireStart::AfterId(id),
            None => WireStart::OnlyNew(true),
        }
    }

    /// Records an item; false when it must not be delivered (an event at or
    /// below the position already delivered).
    pub(crate) fn admit(&mut self, item: &SubItem) -> bool {
        match item {
            SubItem::Event(ev) => {
                if self.position.is_some_and(|p| ev.id <= p) {
                    return false;
                }
                self.position = Some(ev.id);
                true
            }
            SubItem::CaughtUp(p) | SubItem::Heartbeat(p) => {
                self.position = Some(self.position.map_or(p.position, |cur| cur.max(p.position)));
                true
            }
            SubItem::Reconnecting(_) => true,
        }
    }
}

/// A stream of raw subscription messages.
pub(crate) type WireStream = BoxStream<'static, Result<v1::SubscribeResponse, tonic::Status>>;

/// Opens one Subscribe stream.
pub(crate) type Opener = Box<
    dyn FnMut(v1::SubscribeRequest) -> BoxFuture<'static, Result<WireStream, tonic::Status>> + Send,
>;

struct State {
    open: Opener,
    cursor: Cursor,
    kinds: Vec<String>,
    heartbeat_ms: Option<u32>,
    retry: RetryPolicy,
    /// Longest silence tolerated once live (`None`: no heartbeats asked).
    idle_limit: Option<Duration>,
    current: Option<WireStream>,
    /// The current stream has sent its `caught_up`: heartbeats are due.
    live: bool,
    attempt: u32,
    wait: Option<Duration>,
    done: bool,
}

/// Longest wait for the server to accept a Subscribe call.
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);

/// The server's heartbeat interval when none is asked for.
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(5);

/// How long a live stream may stay silent before the connection is taken
/// for dead: three heartbeat intervals (as the server clamps them) and a
/// second. `None` when heartbeats are off.
pub(crate) fn idle_limit(heartbeat: Option<Duration>) -> Option<Duration> {
    let every = heartbeat.unwrap_or(DEFAULT_HEARTBEAT);
    if every.is_zero() {
        return None;
    }
    let every = every.clamp(Duration::from_millis(100), Duration::from_secs(3600));
    Some(every * 3 + Duration::from_secs(1))
}

/// The subscription stream described in the module documentation; with
/// `RetryPolicy::never()` a plain subscription whose first failure is its
/// last item.
pub(crate) fn resilient(
    spec: SubscribeSpec,
    open: Opener,
) -> impl Stream<Item = Result<SubItem, ClientError>> + Send + 'static {
    let state = State {
        open,
        cursor: Cursor::new(spec.start),
        kinds: spec.kinds,
        heartbeat_ms: spec
            .heartbeat
            .map(|d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX)),
        retry: spec.retry,
        idle_limit: idle_limit(spec.heartbeat),
        current: None,
        live: false,
        attempt: 0,
        wait: None,
        done: false,
    };
    stream::unfold(state, |mut st| async move {
        let item = st.next_item().await?;
        Some((item, st))
    })
}

impl State {
    fn request(&self) -> v1::SubscribeRequest {
        v1::SubscribeRequest {
            start: Some(self.cursor.wire_start()),
            kinds: self.kinds.clone(),
            heartbeat_ms: self.heartbeat_ms,
        }
    }

    async fn next_item(&mut self) -> Option<Result<SubItem, ClientError>> {
        loop {
            if self.done {
                return None;
            }
            let Some(stream) = self.current.as_mut() else {
                if let Some(delay) = self.wait.take() {
                    tokio::time::sleep(delay).await;
                }
                let request = self.request();
                match tokio::time::timeout(OPEN_TIMEOUT, (self.open)(request)).await {
                    Ok(Ok(stream)) => {
                        self.current = Some(stream);
                        self.live = false;
                    }
                    Ok(Err(status)) => return Some(self.failed(status.into())),
                    Err(_) => {
                        let slow = ClientError::Status {
                            code: tonic::Code::Unavailable,
                            message: format!(
                                "Subscribe not answered within {}s",
                                OPEN_TIMEOUT.as_secs()
                            ),
                            head: None,
                            transport: true,
                        };
                        return Some(self.failed(slow));
                    }
                }
                continue;
            };
            let limit = self.idle_limit.filter(|_| self.live);
            let next = match limit {
                Some(limit) => match tokio::time::timeout(limit, stream.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        self.current = None;
                        let silent = ClientError::Status {
                            code: tonic::Code::Unavailable,
                            message: format!(
                                "no message for {:.1}s: the connection looks dead",
                                limit.as_secs_f64()
                            ),
                            head: None,
                            transport: true,
                        };
                        return Some(self.failed(silent));
                    }
                },
                None => stream.next().await,
            };
            match next {
                Some(Ok(resp)) => match decode(resp) {
                    Ok(Some(item)) => {
                        if matches!(item, SubItem::CaughtUp(_)) {
                            self.live = true;
                        }
                        if self.cursor.admit(&item) {
                            self.attempt = 0;
                            return Some(Ok(item));
                        }
                    }
                    Ok(None) => {}
                    Err(err) => {
                        self.done = true;
                        self.current = None;
                        return Some(Err(err));
                    }
                },
                Some(Err(status)) => {
                    self.current = None;
                    return Some(self.failed(status.into()));
                }
                None => {
                    self.current = None;
                    let ended = ClientError::Status {
                        code: tonic::Code::Unavailable,
                        message: "the subscription stream ended".to_string(),
                        head: None,
                        transport: true,
                    };
                    return Some(self.failed(ended));
                }
            }
        }
    }

    /// After a failure: a `Reconnecting` item when it is worth retrying,
    /// else the error (and the end of the stream).
    fn failed(&mut self, err: ClientError) -> Result<SubItem, ClientError> {
        let may_retry =
            err.is_transient() && self.retry.max_attempts.is_none_or(|max| self.attempt < max);
        if !may_retry {
            self.done = true;
            return Err(err);
        }
        self.attempt += 1;
        let delay = self.retry.delay(self.attempt);
        self.wait = Some(delay);
        Ok(SubItem::Reconnecting(Reconnect {
            attempt: self.attempt,
            delay,
            resume_after: self.cursor.position(),
            reason: err.to_string(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use super::*;
    use futures_util::FutureExt;
    use tonic::Status;

    fn ev(id: u64) -> Result<v1::SubscribeResponse, Status> {
        Ok(v1::SubscribeResponse {
            item: Some(Item::Event(v1::Event {
                id,
                kind: "k".into(),
                meta: "{}".into(),
                hash: format!("h{id}"),
                ..Default::default()
            })),
        })
    }

    fn caught_up(position: u64) -> Result<v1::SubscribeResponse, Status> {
        Ok(v1::SubscribeResponse {
            item: Some(Item::CaughtUp(v1::CaughtUp {
                position,
                head: None,
            })),
        })
    }

    fn heartbeat(position: u64) -> Result<v1::SubscribeResponse, Status> {
        Ok(v1::SubscribeResponse {
            item: Some(Item::Heartbeat(v1::Heartbeat {
                position,
                head: None,
            })),
        })
    }

    /// One scripted Subscribe call: refused, or a stream of messages (which
    /// then ends, or stays open forever when `hang`).
    enum Call {
        Refuse(Status),
        Stream(Vec<Result<v1::SubscribeResponse, Status>>, bool),
    }

    fn fake(calls: Vec<Call>) -> (Opener, Arc<Mutex<Vec<WireStart>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let mut calls: VecDeque<Call> = calls.into();
        let open: Opener = Box::new(move |req: v1::SubscribeRequest| {
            log.lock().unwrap().push(req.start.unwrap());
            let call = calls
                .pop_front()
                .unwrap_or(Call::Refuse(Status::invalid_argument("script exhausted")));
            async move {
                match call {
                    Call::Refuse(status) => Err(status),
                    Call::Stream(items, hang) => {
                        let s = stream::iter(items);
                        let s: WireStream = if hang {
                            s.chain(stream::pending()).boxed()
                        } else {
                            s.boxed()
                        };
                        Ok(s)
                    }
                }
            }
            .boxed()
        });
        (open, seen)
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
            max_attempts: None,
        }
    }

    /// Takes `n` items, rendering each as a short string.
    async fn take(spec: SubscribeSpec, open: Opener, n: usize) -> Vec<String> {
        resilient(spec, open)
            .take(n)
            .map(|item| match item {
                Ok(SubItem::Event(e)) => format!("e{}", e.id),
                Ok(SubItem::CaughtUp(p)) => format!("c{}", p.position),
                Ok(SubItem::Heartbeat(p)) => format!("h{}", p.position),
                Ok(SubItem::Reconnecting(r)) => format!("r{:?}", r.resume_after),
                Err(e) => format!("err {}", e.code().map_or("-", crate::error::code_name)),
            })
            .collect()
            .await
    }

    #[tokio::test(start_paused = true)]
    async fn resumes_after_the_last_event_without_duplicates() {
        let (open, seen) = fake(vec![
            Call::Stream(
                vec![ev(1), ev(2), Err(Status::unavailable("shutting down"))],
                false,
            ),
            // A (misbehaving) server repeating event 2 must not reach the consumer.
            Call::Stream(vec![ev(2), ev(3), caught_up(3), ev(4)], true),
        ]);
        let spec = SubscribeSpec::new(Start::FromStart).with_retry(fast());
        let got = take(spec, open, 6).await;
        assert_eq!(got, ["e1", "e2", "rSome(2)", "e3", "c3", "e4"]);
        assert_eq!(
            *seen.lock().unwrap(),
            [WireStart::AfterId(0), WireStart::AfterId(2)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn heartbeat_position_past_filtered_events_is_the_resume_point() {
        let (open, seen) = fake(vec![
            Call::Stream(vec![ev(5), caught_up(6), heartbeat(9)], false),
            Call::Refuse(Status::unavailable("connection refused")),
            Call::Stream(vec![caught_up(9), ev(12)], true),
        ]);
        let spec = SubscribeSpec::new(Start::AfterId(4)).with_retry(fast());
        let got = take(spec, open, 7).await;
        assert_eq!(got, ["e5", "c6", "h9", "rSome(9)", "rSome(9)", "c9", "e12"]);
        assert_eq!(
            *seen.lock().unwrap(),
            [
                WireStart::AfterId(4),
                WireStart::AfterId(9),
                WireStart::AfterId(9)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn only_new_keeps_asking_for_new_until_it_has_a_position() {
        let (open, seen) = fake(vec![
            Call::Stream(vec![], false),
            Call::Stream(vec![caught_up(7), ev(8)], false),
            Call::Stream(vec![caught_up(8)], true),
        ]);
        let spec = SubscribeSpec::new(Start::OnlyNew).with_retry(fast());
        let got = take(spec, open, 5).await;
        assert_eq!(got, ["rNone", "c7", "e8", "rSome(8)", "c8"]);
        assert_eq!(
            *seen.lock().unwrap(),
            [
                WireStart::OnlyNew(true),
                WireStart::OnlyNew(true),
                WireStart::AfterId(8)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_non_transient_error_ends_the_stream() {
        let (open, _) = fake(vec![Call::Refuse(Status::out_of_range(
            "after_id: 10 is past the last id 3",
        ))]);
        let spec = SubscribeSpec::new(Start::AfterId(10)).with_retry(fast());
        let got = take(spec, open, 5).await;
        assert_eq!(got, ["err OUT_OF_RANGE"]);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_max_attempts_without_progress() {
        let refuse = || Call::Refuse(Status::unavailable("down"));
        let (open, seen) = fake(vec![refuse(), refuse(), refuse(), refuse()]);
        let spec = SubscribeSpec::new(Start::FromStart).with_retry(RetryPolicy {
            max_attempts: Some(2),
            ..fast()
        });
        let got = take(spec, open, 10).await;
        assert_eq!(got, ["rSome(0)", "rSome(0)", "err UNAVAILABLE"]);
        assert_eq!(seen.lock().unwrap().len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn never_retry_surfaces_the_first_failure() {
        let (open, _) = fake(vec![Call::Stream(
            vec![ev(1), Err(Status::unavailable("bye"))],
            false,
        )]);
        let spec = SubscribeSpec::new(Start::FromStart).with_retry(RetryPolicy::never());
        let got = take(spec, open, 5).await;
        assert_eq!(got, ["e1", "err UNAVAILABLE"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_live_stream_is_taken_for_dead() {
        let (open, seen) = fake(vec![
            // Live (after caught_up), then silent past the idle limit.
            Call::Stream(vec![ev(1), caught_up(1)], true),
            Call::Stream(vec![caught_up(1), ev(2)], true),
        ]);
        let spec = SubscribeSpec::new(Start::FromStart)
            .with_heartbeat(Duration::from_secs(1))
            .with_retry(fast());
        let got = take(spec, open, 5).await;
        assert_eq!(got, ["e1", "c1", "rSome(1)", "c1", "e2"]);
        assert_eq!(seen.lock().unwrap().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_catch_up_is_not_taken_for_dead() {
        let (open, seen) = fake(vec![Call::Stream(vec![ev(1)], true)]);
        let spec = SubscribeSpec::new(Start::FromStart)
            .with_heartbeat(Duration::from_secs(1))
            .with_retry(fast());
        let two = resilient(spec, open).take(2).collect::<Vec<_>>();
        let waited = tokio::time::timeout(Duration::from_secs(100), two).await;
        assert!(waited.is_err(), "no reconnection before caught_up");
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[test]
    fn idle_limit_follows_the_heartbeat() {
        assert_eq!(idle_limit(None), Some(Duration::from_secs(16)));
        assert_eq!(idle_limit(Some(Duration::ZERO)), None);
        assert_eq!(
            idle_limit(Some(Duration::from_millis(1))),
            Some(Duration::from_millis(1300))
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_bound() {
        let p = RetryPolicy::default();
        let ms: Vec<u128> = (1..=8).map(|a| p.delay(a).as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(p.delay(u32::MAX), Duration::from_secs(5));
    }

    #[test]
    fn cursor_drops_events_at_or_below_the_position() {
        let mut c = Cursor::new(Start::AfterId(3));
        let e = |id| {
            SubItem::Event(Event {
                id,
                ts: String::new(),
                kind: String::new(),
                content: String::new(),
                meta: serde_json::Value::Null,
                prev_hash: None,
                hash: None,
            })
        };
        assert!(!c.admit(&e(3)));
        assert!(c.admit(&e(4)));
        assert!(!c.admit(&e(4)));
        let hb = |position| {
            SubItem::Heartbeat(Position {
                position,
                head: Head::default(),
            })
        };
        assert!(c.admit(&hb(2)));
        assert_eq!(c.position(), Some(4), "a position never moves back");
        assert!(c.admit(&hb(10)));
        assert_eq!(c.wire_start(), WireStart::AfterId(10));
    }
}
