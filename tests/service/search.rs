//! Embed and Search: the fixtures' vectors and digests, ranking.

use crate::common::server::TestServer;
use crate::common::{fixtures_root, read_json};
use pmm::v1::{self};

#[tokio::test]
async fn embed_matches_the_fixtures_and_search_ranks_similar_events_first() {
    let mut s = TestServer::start().await;
    let expected = read_json(&fixtures_root().join("tiny/expected.json"));
    for e in expected["embeddings"]
        .as_array()
        .expect("embeddings")
        .iter()
        .take(5)
    {
        let r = s
            .mind
            .embed(v1::EmbedRequest {
                text: e["text"].as_str().expect("text").into(),
            })
            .await
            .expect("embed")
            .into_inner();
        assert_eq!(r.digest, e["digest"].as_str().expect("digest"));
        let want: Vec<f64> = e["vector"]
            .as_array()
            .expect("vector")
            .iter()
            .map(|x| x.as_f64().expect("f64"))
            .collect();
        assert_eq!(r.vector, want);
    }
    s.append("user", "the hash chain keeps the ledger honest", "{}")
        .await;
    s.append("user", "a haiku about persistence and growth", "{}")
        .await;
    s.append("user", "", "{}").await;
    s.append("response", "the hash chain verifies every row", "{}")
        .await;
    let r = s
        .mind
        .search(v1::SearchRequest {
            query: "hash chain ledger".into(),
            top_k: 2,
            kinds: vec![],
        })
        .await
        .expect("search")
        .into_inner();
    assert_eq!(r.scanned, 3, "events with empty content are not searched");
    assert_eq!(r.hits.len(), 2);
    assert_eq!(r.hits[0].event_id, 1);
    assert!(r.hits[0].score >= r.hits[1].score);
    let only = s
        .mind
        .search(v1::SearchRequest {
            query: "hash chain".into(),
            top_k: 5,
            kinds: vec!["response".into()],
        })
        .await
        .expect("search")
        .into_inner();
    assert_eq!(
        only.hits.iter().map(|h| h.event_id).collect::<Vec<_>>(),
        [4]
    );
    let err = s
        .mind
        .search(v1::SearchRequest {
            query: "x".into(),
            top_k: 1000,
            kinds: vec![],
        })
        .await
        .expect_err("top_k");
    assert!(err.message().starts_with("top_k"), "{}", err.message());
    s.stop().await;
}
