//! The handshake timeout: a connection that has not sent the HTTP/2
//! preface in time is closed; one that has stays.

use std::time::{Duration, Instant};

use crate::support::{closed_within, raw, stats, Server, PREFACE};

const HANDSHAKE: Duration = Duration::from_millis(500);

#[tokio::test]
async fn a_connection_that_never_sends_the_preface_is_closed_after_the_handshake_timeout() {
    let server = Server::start(|s| {
        s.handshake_timeout = HANDSHAKE;
        s.idle_timeout = Duration::ZERO;
    })
    .await;
    let opened = Instant::now();
    let mut silent = raw(server.addr, b"").await;
    let mut partial = raw(server.addr, &PREFACE[..10]).await;
    let mut complete = raw(server.addr, PREFACE).await;
    for stream in [&mut silent, &mut partial] {
        closed_within(stream, Duration::from_secs(5))
            .await
            .expect("closed by the server");
        let closed = opened.elapsed();
        assert!(
            closed >= HANDSHAKE - Duration::from_millis(100) && closed < Duration::from_secs(3),
            "closed after {closed:?}"
        );
    }
    assert_eq!(
        closed_within(&mut complete, HANDSHAKE * 3).await,
        None,
        "a connection past its handshake stays (no idle timeout here)"
    );
    let stats = stats(server.addr).await;
    assert_eq!(stats.connections_closed_handshake, 2, "{stats:?}");
    assert_eq!(stats.connections_closed_idle, 0, "{stats:?}");
    drop(complete);
    server.stop().await;
}
