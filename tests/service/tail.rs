//! Context blocks over a tail window: the window keeps the last rows in
//! memory within a byte bound, and a tail longer than what it holds is
//! folded from the older rows in SQLite — the same block either way.

use crate::common::server::TestServer;
use crate::common::{fixtures_root, read_json};
use pmm::v1;

#[tokio::test]
async fn a_tail_longer_than_the_rows_in_memory_reads_the_rest_from_sqlite() {
    let case = fixtures_root().join("directives");
    let expected = read_json(&case.join("expected.json"));
    let want = expected["final"]["context_tail"]
        .as_str()
        .expect("context_tail")
        .to_string();
    // 20 kB of rows in memory: far fewer than the 1,000 rows of the tail.
    let mut s =
        TestServer::start_on_copy_with(&case.join("pmm.db"), |c| c.max_tail_bytes = 20_000).await;
    let context = s
        .mind
        .get_context(v1::GetContextRequest {
            tail: Some(1000),
            ..Default::default()
        })
        .await
        .expect("context")
        .into_inner();
    assert_eq!(context.text, want);
    // And as of a checkpoint, from a rebuilt past state.
    let checkpoint = &expected["checkpoints"][0];
    let as_of = checkpoint["after_id"].as_u64().expect("after_id");
    let past = s
        .mind
        .get_context(v1::GetContextRequest {
            tail: Some(1000),
            as_of_id: Some(as_of),
            ..Default::default()
        })
        .await
        .expect("context as of")
        .into_inner();
    assert_eq!(
        past.text,
        checkpoint["context_tail"].as_str().expect("text")
    );
    s.stop().await;
}
