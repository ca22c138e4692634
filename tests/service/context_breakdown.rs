//! GetContext's breakdown through a real server on each fixture's `pmm.db`:
//! the text is the same with and without it, the sections add up to the
//! totals and make up the text, the tokens are tiktoken's; asked again, it
//! comes from the cache; and it works in an Append's views.

use crate::common::fixture_cases;
use crate::common::server::TestServer;
use pmm::v1;

fn request(layout: v1::ContextLayout, encoding: v1::TokenEncoding) -> v1::GetContextRequest {
    v1::GetContextRequest {
        layout: layout as i32,
        include_breakdown: true,
        encoding: encoding as i32,
        ..Default::default()
    }
}

/// Checks a breakdown against its text; the token counts must equal what
/// tiktoken counts for each section's text and for the whole.
fn check(text: &str, b: &v1::ContextBreakdown, bpe: &tiktoken_rs::CoreBPE, what: &str) {
    let mut start = 0usize;
    let (mut bytes, mut chars, mut tokens) = (0, 0, 0);
    for s in &b.sections {
        let end = start + s.bytes as usize;
        let section = &text[start..end];
        assert_eq!(s.chars, section.chars().count() as u64, "{what}");
        assert_eq!(
            s.tokens,
            bpe.encode_ordinary(section).len() as u64,
            "{what}: section {} {section:?}",
            s.section
        );
        if end < text.len() {
            assert!(section.ends_with('\n'), "{what}: a section ends its line");
        }
        (bytes, chars, tokens) = (bytes + s.bytes, chars + s.chars, tokens + s.tokens);
        start = end;
    }
    assert_eq!(start, text.len(), "{what}: the sections cover the text");
    assert_eq!(
        (bytes, chars, tokens),
        (b.bytes, b.chars, b.tokens),
        "{what}"
    );
    assert_eq!(b.bytes, text.len() as u64, "{what}");
    assert_eq!(b.tokens, bpe.encode_ordinary(text).len() as u64, "{what}");
}

#[tokio::test]
async fn the_breakdown_adds_up_to_the_text_on_every_fixture() {
    let o200k = tiktoken_rs::o200k_base().expect("o200k_base");
    let cl100k = tiktoken_rs::cl100k_base().expect("cl100k_base");
    for case in fixture_cases() {
        let db = case.join("pmm.db");
        if !db.is_file() {
            continue;
        }
        let mut s = TestServer::start_on_copy(&db).await;
        for layout in [v1::ContextLayout::Standard, v1::ContextLayout::Compact] {
            let plain = s
                .mind
                .get_context(v1::GetContextRequest {
                    layout: layout as i32,
                    ..Default::default()
                })
                .await
                .expect("context")
                .into_inner();
            assert!(plain.breakdown.is_none());
            for (encoding, bpe) in [
                (v1::TokenEncoding::Unspecified, &o200k),
                (v1::TokenEncoding::O200kBase, &o200k),
                (v1::TokenEncoding::Cl100kBase, &cl100k),
            ] {
                let r = s
                    .mind
                    .get_context(request(layout, encoding))
                    .await
                    .expect("context with breakdown")
                    .into_inner();
                assert_eq!(r.text, plain.text, "the text does not change");
                let b = r.breakdown.expect("breakdown");
                let used = match encoding {
                    v1::TokenEncoding::Unspecified => v1::TokenEncoding::O200kBase,
                    e => e,
                };
                assert_eq!(b.encoding, used as i32);
                check(
                    &r.text,
                    &b,
                    bpe,
                    &format!("{} {layout:?} {encoding:?}", case.display()),
                );
            }
        }
        s.stop().await;
    }
}

/// Hits and misses of the server's context cache.
async fn contexts_cache(s: &mut TestServer) -> (u64, u64) {
    let stats = s.stats().await;
    stats
        .caches
        .iter()
        .find(|c| c.name == "contexts")
        .map(|c| (c.hits, c.misses))
        .expect("contexts cache")
}

#[tokio::test]
async fn asked_twice_the_breakdown_is_a_cache_hit() {
    let mut s = TestServer::start().await;
    s.append("reflection", "My name is Echo and I keep it stable.", "{}")
        .await;
    let req = request(v1::ContextLayout::Standard, v1::TokenEncoding::O200kBase);
    let first = s.mind.get_context(req).await.expect("first").into_inner();
    let before = contexts_cache(&mut s).await;
    let again = s.mind.get_context(req).await.expect("again").into_inner();
    let after = contexts_cache(&mut s).await;
    assert_eq!(first, again);
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 0));
    let names: Vec<i32> = first
        .breakdown
        .expect("breakdown")
        .sections
        .iter()
        .map(|s| s.section)
        .collect();
    use v1::ContextSection as S;
    assert_eq!(
        names,
        [
            S::Header,
            S::Identity,
            S::Traits,
            S::Guidance,
            S::Metrics,
            S::Reflections,
            S::Footer
        ]
        .map(|s| s as i32)
    );
    s.stop().await;
}

#[tokio::test]
async fn an_append_can_ask_for_the_breakdown_and_a_bad_encoding_is_refused() {
    let mut s = TestServer::start().await;
    let r = s
        .ledger
        .append(v1::AppendRequest {
            events: vec![crate::common::server::input("user", "hello", "{}")],
            views: Some(v1::AppendViewsRequest {
                context: Some(request(
                    v1::ContextLayout::Compact,
                    v1::TokenEncoding::Cl100kBase,
                )),
                metrics: None,
            }),
            ..Default::default()
        })
        .await
        .expect("append")
        .into_inner();
    let context = r.views.and_then(|v| v.context).expect("context view");
    let b = context.breakdown.expect("breakdown");
    assert_eq!(b.bytes, context.text.len() as u64);
    assert_eq!(b.encoding, v1::TokenEncoding::Cl100kBase as i32);
    let bad = s
        .mind
        .get_context(v1::GetContextRequest {
            include_breakdown: true,
            encoding: 42,
            ..Default::default()
        })
        .await
        .expect_err("unknown encoding");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    assert!(
        bad.message().starts_with("encoding: unknown encoding 42"),
        "{}",
        bad.message()
    );
    s.stop().await;
}
