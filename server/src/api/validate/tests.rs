//! Every request type's validation, without a server: what is refused (and
//! with which field named), and the defaults filled in.

use std::time::Duration;

use pmm::v1;
use tonic::Code;

use super::*;
use crate::api::error::Error;
use crate::ledger::hub::Start;
use crate::ledger::sequencer::ImportMode;
use crate::store::Direction;

fn limits() -> Limits {
    Limits {
        max_event_bytes: 1000,
        max_batch_events: 3,
        max_page_size: 50,
        max_page_bytes: 4096,
        max_search_top_k: 20,
        max_tail: 100,
        max_n_reflections: 100,
        ..crate::config::Config::for_db("unused.db").limits()
    }
}

/// The status a refused request gets, and its message.
fn refused<R: Validate>(request: R) -> (Code, String)
where
    R::Valid: std::fmt::Debug,
{
    let error = request.validate(&limits()).expect_err("must be refused");
    let status = tonic::Status::from(Error::from(error));
    (status.code(), status.message().to_string())
}

/// Each request is refused INVALID_ARGUMENT with a message starting so.
fn all_invalid<R: Validate>(cases: impl IntoIterator<Item = (R, &'static str)>)
where
    R::Valid: std::fmt::Debug,
{
    for (request, message) in cases {
        let (code, got) = refused(request);
        assert_eq!(code, Code::InvalidArgument, "{got}");
        assert!(
            got.starts_with(message),
            "expected {message:?}, got {got:?}"
        );
    }
}

fn input(kind: &str, content: &str, meta: &str, key: &str) -> v1::EventInput {
    v1::EventInput {
        kind: kind.into(),
        content: content.into(),
        meta: meta.into(),
        idempotency_key: key.into(),
    }
}

fn append(events: Vec<v1::EventInput>) -> v1::AppendRequest {
    v1::AppendRequest {
        events,
        ..Default::default()
    }
}

#[test]
fn append_refuses_each_bad_field_naming_it() {
    let cases: Vec<(v1::AppendRequest, Code, &str)> = vec![
        (
            append(vec![]),
            Code::InvalidArgument,
            "events: at least one",
        ),
        (
            append(vec![input("", "x", "", "")]),
            Code::InvalidArgument,
            "events[0].kind: required",
        ),
        (
            append(vec![input("a\u{7}b", "x", "", "")]),
            Code::InvalidArgument,
            "events[0].kind: contains a control character",
        ),
        (
            append(vec![input(&"k".repeat(129), "x", "", "")]),
            Code::InvalidArgument,
            "events[0].kind: 129 bytes",
        ),
        (
            append(vec![input("u", "", "", ""), input("u", "", "{x", "")]),
            Code::InvalidArgument,
            "events[1].meta: not valid JSON",
        ),
        (
            append(vec![input("u", "", "[1]", "")]),
            Code::InvalidArgument,
            "events[0].meta: not a JSON object",
        ),
        (
            append(vec![input("u", "", r#"{"a": 1e400}"#, "")]),
            Code::InvalidArgument,
            "events[0].meta: number",
        ),
        (
            append(vec![input("u", &"x".repeat(1000), "", "")]),
            Code::ResourceExhausted,
            "events[0]: 1001 bytes exceeds max_event_bytes 1000",
        ),
        (
            append((0..4).map(|_| input("u", "", "", "")).collect()),
            Code::ResourceExhausted,
            "events: 4 given exceeds max_batch_events 3",
        ),
        (
            append(vec![input("u", "", "", "k"), input("u", "", "", "k")]),
            Code::InvalidArgument,
            "events[1].idempotency_key: repeated",
        ),
        (
            append(vec![input("u", "", "", &"k".repeat(257))]),
            Code::InvalidArgument,
            "events[0].idempotency_key: 257 bytes",
        ),
        (
            v1::AppendRequest {
                events: vec![input("u", "", "", "")],
                views: Some(v1::AppendViewsRequest {
                    context: Some(v1::GetContextRequest {
                        as_of_id: Some(1),
                        ..Default::default()
                    }),
                    metrics: None,
                }),
                ..Default::default()
            },
            Code::InvalidArgument,
            "views.context.as_of_id: must be unset",
        ),
        (
            v1::AppendRequest {
                events: vec![input("u", "", "", "")],
                views: Some(v1::AppendViewsRequest {
                    context: None,
                    metrics: Some(v1::GetMetricsRequest {
                        as_of_id: Some(1),
                        ..Default::default()
                    }),
                }),
                ..Default::default()
            },
            Code::InvalidArgument,
            "views.metrics.as_of_id: must be unset",
        ),
        // Found by fuzzing (request_validation): a refused context of the
        // views was named as if it were the request's own field ("layout:").
        (
            v1::AppendRequest {
                events: vec![input("u", "", "", "")],
                views: Some(v1::AppendViewsRequest {
                    context: Some(v1::GetContextRequest {
                        layout: 124,
                        ..Default::default()
                    }),
                    metrics: None,
                }),
                ..Default::default()
            },
            Code::InvalidArgument,
            "views.context.layout: unknown layout 124",
        ),
        (
            v1::AppendRequest {
                events: vec![input("u", "", "", "")],
                views: Some(v1::AppendViewsRequest {
                    context: Some(v1::GetContextRequest {
                        tail: Some(0),
                        ..Default::default()
                    }),
                    metrics: None,
                }),
                ..Default::default()
            },
            Code::InvalidArgument,
            "views.context.tail: must be >= 1",
        ),
        (
            v1::AppendRequest {
                events: vec![input("u", "", "", "")],
                expected_last_id: Some(u64::MAX),
                ..Default::default()
            },
            Code::InvalidArgument,
            "expected_last_id: 18446744073709551615 is above the largest id 9007199254740991",
        ),
    ];
    for (request, code, message) in cases {
        let (got_code, got) = refused(request);
        assert_eq!(got_code, code, "{message}: {got}");
        assert!(
            got.starts_with(message),
            "expected {message:?}, got {got:?}"
        );
    }
}

#[test]
fn append_keeps_the_meta_text_and_prepares_the_hash() {
    let command = v1::AppendRequest {
        events: vec![
            input("user", "hi", r#"{"b": 1, "a": 2.50}"#, "k1"),
            input("user", "", "", ""),
        ],
        expected_last_id: Some(0),
        views: Some(v1::AppendViewsRequest {
            context: Some(Default::default()),
            metrics: Some(v1::GetMetricsRequest {
                include_diagnosis: true,
                ..Default::default()
            }),
        }),
    }
    .validate(&limits())
    .expect("valid");
    let events = &command.batch.events;
    assert_eq!(events[0].meta_text, r#"{"b": 1, "a": 2.50}"#);
    assert_eq!(events[1].meta_text, "{}", "an empty meta is stored as {{}}");
    assert_eq!(events[0].idempotency_key.as_deref(), Some("k1"));
    assert_eq!(events[1].idempotency_key, None);
    assert_eq!(
        events[0].hash.finish(1, "ts", None),
        crate::chain::event_hash(1, "ts", "user", "hi", &events[0].meta, None).expect("hash")
    );
    assert_eq!(command.batch.expected_last_id, Some(0));
    assert!(command.batch.want_snapshot);
    let views = command.views.expect("views");
    assert_eq!(views.metrics, Some(true));
    assert_eq!(views.context.expect("context").params, Default::default());
}

#[test]
fn read_applies_defaults_and_refuses_bad_ranges() {
    let q = v1::ReadRequest::default()
        .validate(&limits())
        .expect("valid");
    assert_eq!(
        (q.start, q.end, q.direction, q.limit),
        (i64::MIN, None, Direction::Forward, 50)
    );
    let backward = v1::ReadRequest {
        direction: v1::ReadDirection::Backward as i32,
        limit: 7,
        ..Default::default()
    }
    .validate(&limits())
    .expect("valid");
    assert_eq!(
        (backward.start, backward.direction, backward.limit),
        (i64::MAX, Direction::Backward, 7)
    );
    // A page larger than --max-page-size is cut to it, not refused.
    let large = v1::ReadRequest {
        limit: 1000,
        ..Default::default()
    }
    .validate(&limits())
    .expect("valid");
    assert_eq!(large.limit, 50);
    let cases = [
        (
            v1::ReadRequest {
                start_id: Some(0),
                ..Default::default()
            },
            "start_id: must be >= 1",
        ),
        (
            v1::ReadRequest {
                start_id: Some(5),
                end_id: Some(4),
                ..Default::default()
            },
            "end_id: 4 is on the wrong side of start_id 5",
        ),
        (
            v1::ReadRequest {
                start_id: Some(5),
                end_id: Some(6),
                direction: v1::ReadDirection::Backward as i32,
                ..Default::default()
            },
            "end_id: 6 is on the wrong side",
        ),
        (
            v1::ReadRequest {
                direction: 7,
                ..Default::default()
            },
            "direction: unknown direction 7",
        ),
        (
            v1::ReadRequest {
                kinds: vec!["a".into(), String::new()],
                ..Default::default()
            },
            "kinds[1]: empty kind",
        ),
        (
            v1::ReadRequest {
                kinds: vec!["a".into(); 65],
                ..Default::default()
            },
            "kinds: 65 kinds given, at most 64",
        ),
    ];
    all_invalid(cases);
}

#[test]
fn subscribe_starts_and_heartbeats() {
    let spec = |start, heartbeat_ms| {
        v1::SubscribeRequest {
            start,
            heartbeat_ms,
            ..Default::default()
        }
        .validate(&limits())
        .expect("valid")
    };
    use v1::subscribe_request::Start as W;
    assert_eq!(spec(None, None).start, Start::FromStart);
    assert_eq!(spec(Some(W::AfterId(0)), None).start, Start::FromStart);
    assert_eq!(spec(Some(W::OnlyNew(false)), None).start, Start::FromStart);
    assert_eq!(spec(Some(W::OnlyNew(true)), None).start, Start::OnlyNew);
    assert_eq!(spec(Some(W::AfterId(9)), None).start, Start::After(9));
    assert_eq!(
        spec(None, None).heartbeat,
        Some(Duration::from_millis(5000))
    );
    assert_eq!(spec(None, Some(0)).heartbeat, None);
    assert_eq!(
        spec(None, Some(1)).heartbeat,
        Some(Duration::from_millis(100))
    );
    assert_eq!(
        spec(None, Some(u32::MAX)).heartbeat,
        Some(Duration::from_secs(3600))
    );
}

fn row(id: u64, prev_hash: Option<&str>, hash: &str) -> v1::Event {
    v1::Event {
        id,
        ts: "t".into(),
        kind: "user".into(),
        content: String::new(),
        meta: String::new(),
        prev_hash: prev_hash.map(str::to_string),
        hash: hash.into(),
    }
}

#[test]
fn import_checks_order_and_links_within_the_request() {
    let batch = v1::ImportRequest {
        rows: vec![row(1, None, "h1"), row(3, Some("h1"), "")],
        mode: 0,
    }
    .validate(&limits())
    .expect("valid");
    assert_eq!(batch.mode, ImportMode::Verify);
    assert_eq!(batch.rows[0].meta_text, "{}");
    assert_eq!(batch.rows[1].hash, None, "an empty hash is stored NULL");
    let cases = [
        (
            v1::ImportRequest {
                rows: vec![row(0, None, "h")],
                mode: 0,
            },
            "rows[0].id: must be >= 1",
        ),
        (
            v1::ImportRequest {
                rows: vec![row(2, None, "h2"), row(2, Some("h2"), "h3")],
                mode: 0,
            },
            "rows[1].id: 2 is not after 2",
        ),
        (
            v1::ImportRequest {
                rows: vec![row(1, None, "h1"), row(2, Some("other"), "h2")],
                mode: 0,
            },
            "rows[1].prev_hash: does not equal the previous row's hash",
        ),
        (
            v1::ImportRequest {
                rows: vec![row(1, None, "h1")],
                mode: 9,
            },
            "mode: unknown mode 9",
        ),
    ];
    all_invalid(cases);
    // Verbatim keeps links as they are.
    let verbatim = v1::ImportRequest {
        rows: vec![row(1, None, "h1"), row(2, Some("other"), "h2")],
        mode: v1::ImportMode::Verbatim as i32,
    }
    .validate(&limits())
    .expect("valid");
    assert_eq!(verbatim.mode, ImportMode::Verbatim);
}

#[test]
fn export_ranges_and_chunks() {
    let q = v1::ExportRequest::default()
        .validate(&limits())
        .expect("valid");
    assert_eq!(
        q,
        ExportQuery {
            start: i64::MIN,
            end: None,
            chunk: 50,
            max_bytes: 4096
        }
    );
    let (code, got) = refused(v1::ExportRequest {
        start_id: Some(5),
        end_id: Some(4),
        chunk_size: 0,
    });
    assert_eq!(code, Code::InvalidArgument);
    assert!(got.starts_with("end_id: 4 is before start_id 5"), "{got}");
}

#[test]
fn context_parameters_are_checked_once_here() {
    let q = v1::GetContextRequest {
        layout: v1::ContextLayout::Compact as i32,
        n_reflections: Some(100),
        tail: Some(100),
        as_of_id: Some(3),
        ..Default::default()
    }
    .validate(&limits())
    .expect("valid");
    assert!(q.params.compact);
    assert_eq!(
        (q.params.n_reflections, q.tail, q.as_of),
        (100, Some(100), AsOf(Some(3)))
    );
    let cases = [
        (
            v1::GetContextRequest {
                n_reflections: Some(101),
                ..Default::default()
            },
            "n_reflections: 101 is above the maximum of 100",
        ),
        (
            v1::GetContextRequest {
                tail: Some(0),
                ..Default::default()
            },
            "tail: must be >= 1",
        ),
        (
            v1::GetContextRequest {
                tail: Some(101),
                ..Default::default()
            },
            "tail: 101 rows is above the window of 100 rows",
        ),
        (
            v1::GetContextRequest {
                layout: 3,
                ..Default::default()
            },
            "layout: unknown layout 3",
        ),
        (
            v1::GetContextRequest {
                include_breakdown: true,
                encoding: 9,
                ..Default::default()
            },
            "encoding: unknown encoding 9",
        ),
    ];
    all_invalid(cases);
}

#[test]
fn a_breakdown_is_counted_only_when_asked_o200k_base_by_default() {
    use crate::ledger::breakdown::Encoding;
    let breakdown = |include_breakdown, encoding: v1::TokenEncoding| {
        v1::GetContextRequest {
            include_breakdown,
            encoding: encoding as i32,
            ..Default::default()
        }
        .validate(&limits())
        .expect("valid")
        .breakdown
    };
    assert_eq!(breakdown(false, v1::TokenEncoding::Cl100kBase), None);
    assert_eq!(
        breakdown(true, v1::TokenEncoding::Unspecified),
        Some(Encoding::O200kBase)
    );
    assert_eq!(
        breakdown(true, v1::TokenEncoding::Cl100kBase),
        Some(Encoding::Cl100kBase)
    );
}

#[test]
fn metrics_history_spacing_is_bounded() {
    use crate::ledger::history::Spacing;
    let q = v1::GetMetricsHistoryRequest::default()
        .validate(&limits())
        .expect("valid");
    assert_eq!(
        (q.from, q.to, q.spacing),
        (None, None, Spacing::Points(100))
    );
    let q = v1::GetMetricsHistoryRequest {
        from_id: Some(2),
        to_id: Some(9),
        every: Some(3),
        ..Default::default()
    }
    .validate(&limits())
    .expect("valid");
    assert_eq!(
        (q.from, q.to, q.spacing),
        (Some(2), Some(9), Spacing::Every(3))
    );
    let cases = [
        (
            v1::GetMetricsHistoryRequest {
                points: Some(0),
                ..Default::default()
            },
            "points: must be >= 1",
        ),
        (
            v1::GetMetricsHistoryRequest {
                points: Some(10_001),
                ..Default::default()
            },
            "points: 10001 is above the maximum of 10000",
        ),
        (
            v1::GetMetricsHistoryRequest {
                every: Some(0),
                ..Default::default()
            },
            "every: must be >= 1",
        ),
        (
            v1::GetMetricsHistoryRequest {
                points: Some(5),
                every: Some(5),
                ..Default::default()
            },
            "every: give either points or every",
        ),
        (
            v1::GetMetricsHistoryRequest {
                from_id: Some(5),
                to_id: Some(4),
                ..Default::default()
            },
            "from_id: 5 is after to_id 4",
        ),
    ];
    all_invalid(cases);
}

#[test]
fn projection_pages_default_to_the_latest_twenty_capped_at_the_page_size() {
    let q = v1::GetProjectionRequest::default()
        .validate(&limits())
        .expect("valid");
    assert_eq!((q.page.expired_limit, q.page.warnings_limit), (20, 20));
    assert_eq!((q.page.expired_skip, q.page.warnings_skip), (0, 0));
    let q = v1::GetProjectionRequest {
        expired_limit: Some(500),
        warnings_limit: Some(0),
        expired_skip: 3,
        strict: true,
        ..Default::default()
    }
    .validate(&limits())
    .expect("valid");
    assert_eq!((q.page.expired_limit, q.page.warnings_limit), (50, 0));
    assert_eq!(q.page.expired_skip, 3);
    assert!(q.strict);
}

/// One limit, one code: a text over `max_event_bytes` is RESOURCE_EXHAUSTED
/// on Embed and Search as on Append.
#[test]
fn the_event_size_limit_has_one_code_everywhere() {
    let big = "x".repeat(1001);
    let (code, got) = refused(v1::EmbedRequest { text: big.clone() });
    assert_eq!(code, Code::ResourceExhausted);
    assert_eq!(got, "text: 1001 bytes exceeds max_event_bytes 1000");
    let (code, got) = refused(v1::SearchRequest {
        query: big,
        ..Default::default()
    });
    assert_eq!(code, Code::ResourceExhausted);
    assert_eq!(got, "query: 1001 bytes exceeds max_event_bytes 1000");
    let (code, got) = refused(v1::SearchRequest {
        top_k: 21,
        ..Default::default()
    });
    assert_eq!(code, Code::InvalidArgument);
    assert!(
        got.starts_with("top_k: 21 is above the maximum of 20"),
        "{got}"
    );
    let q = v1::SearchRequest::default()
        .validate(&limits())
        .expect("valid");
    assert_eq!(q.top_k, 10);
    // Found by fuzzing: an unset top_k under a maximum below the default
    // of 10 is that maximum.
    let low = Limits {
        max_search_top_k: 3,
        ..limits()
    };
    let q = v1::SearchRequest::default().validate(&low).expect("valid");
    assert_eq!(q.top_k, 3);
}

#[test]
fn get_event_needs_a_row_id() {
    assert_eq!(v1::GetEventRequest { id: 7 }.validate(&limits()), Ok(7));
    let (code, got) = refused(v1::GetEventRequest { id: 0 });
    assert_eq!(code, Code::InvalidArgument);
    assert_eq!(got, "id: must be >= 1 (ids start at 1)");
}
