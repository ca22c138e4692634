//! Every answer fits a message: Read pages and Export chunks are cut by
//! bytes as well as by count (always at least one event), so ledgers of
//! 1 MB events read and export whole, and settings where an event could
//! not fit a page are refused at start.

use crate::common::server::{input, TestServer};
use pmm::v1;
use pmm_server::config::Config;
use tokio_stream::StreamExt;

/// Content that makes an event of about 1 MB (under the 1 MiB limit).
fn big(i: usize) -> String {
    format!("{i:03}{}", "x".repeat(1_000_000))
}

async fn append_big(s: &mut TestServer, n: usize) {
    for i in 0..n {
        s.append_batch(vec![input("user", &big(i), "{}")]).await;
    }
}

/// Follows `next_start_id` to the end, returning the sizes of the pages.
async fn read_all(s: &mut TestServer) -> (Vec<usize>, Vec<v1::Event>) {
    let (mut sizes, mut events) = (Vec::new(), Vec::new());
    let mut start_id = None;
    loop {
        let page = s
            .ledger
            .read(v1::ReadRequest {
                start_id,
                ..Default::default()
            })
            .await
            .expect("read")
            .into_inner();
        sizes.push(page.events.len());
        events.extend(page.events);
        match page.next_start_id {
            Some(next) => start_id = Some(next),
            None => return (sizes, events),
        }
    }
}

#[tokio::test]
async fn pages_and_chunks_of_large_events_are_cut_by_bytes() {
    let mut s = TestServer::start().await;
    append_big(&mut s, 10).await;
    // 4 MiB pages: four 1 MB events each, however large `limit` is.
    let (sizes, events) = read_all(&mut s).await;
    assert_eq!(sizes, [4, 4, 2]);
    let ids: Vec<u64> = events.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=10).collect::<Vec<u64>>());
    assert_eq!(events[9].content, big(9));

    let mut chunks = s
        .ledger
        .export(v1::ExportRequest::default())
        .await
        .expect("export")
        .into_inner();
    let mut sizes = Vec::new();
    while let Some(chunk) = chunks.next().await {
        sizes.push(chunk.expect("chunk").rows.len());
    }
    assert_eq!(sizes, [4, 4, 2]);
    s.stop().await;
}

#[tokio::test]
async fn a_page_holds_at_least_one_event() {
    let mut s = TestServer::start_with(|c| c.max_page_bytes = c.max_event_bytes + 1024).await;
    append_big(&mut s, 3).await;
    let (sizes, events) = read_all(&mut s).await;
    assert_eq!(sizes, [1, 1, 1]);
    assert_eq!(events.len(), 3);
    s.stop().await;
}

#[tokio::test]
async fn settings_where_an_event_cannot_fit_a_page_are_refused() {
    let mut config = Config::for_db(std::env::temp_dir().join("never-created.db"));
    config.addr = "127.0.0.1:0".parse().expect("addr");
    config.max_page_bytes = config.max_event_bytes;
    let err = pmm_server::server::bind_and_start(config.clone())
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains("--max-page-bytes 1048576 must be at least --max-event-bytes 1048576 + 1024"),
        "{err}"
    );
    config.max_page_bytes = config.max_message_bytes + 1;
    let err = pmm_server::server::bind_and_start(config)
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains("must be at most --max-message-bytes"),
        "{err}"
    );
}
