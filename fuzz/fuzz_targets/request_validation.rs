//! Arbitrary bytes decoded as a request message of `proto/pmm/v1/`, then
//! validated at the server's boundary (`api::validate`).
//!
//! Input: one selector byte (which message; with its top bit set, the next
//! six bytes choose small limits instead of the defaults), then the encoded
//! message. Asserts:
//! - nothing panics, and validating the same request twice gives the same
//!   refusal;
//! - a valid request respects the limits (ids 1..=2^53-1, batch sizes, page
//!   sizes, event bytes, top_k, tail, kinds) and its prepared hash is the
//!   event's hash;
//! - a refusal becomes INVALID_ARGUMENT (or RESOURCE_EXHAUSTED for a limit)
//!   whose message starts with the refused field, and that field is a field
//!   path of the request message (e.g. `events[2].meta`).
#![no_main]

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use pmm::v1;
use pmm_server::api::error::Error;
use pmm_server::api::validate::{ContextQuery, RequestError, Validate};
use pmm_server::chain::event_hash;
use pmm_server::config::{Config, Limits};
use pmm_server::event::MAX_ID;
use pmm_server::ledger::hub::Start;
use pmm_server::ledger::sequencer::ImportMode;
use prost::Message;
use tonic::{Code, Status};

/// Most kinds in a filter, longest kind (the boundary's documented bounds).
const MAX_KINDS: usize = 64;
const MAX_KIND_BYTES: usize = 128;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (limits, body) = match selector & 0x80 {
        0 => (default_limits().clone(), rest),
        _ if rest.len() >= 6 => (small_limits(&rest[..6]), &rest[6..]),
        _ => return,
    };
    let l = &limits;
    match selector & 0x7f {
        0 => check::<v1::AppendRequest>("AppendRequest", body, l, append),
        1 => check::<v1::ReadRequest>("ReadRequest", body, l, read),
        2 => check::<v1::GetEventRequest>("GetEventRequest", body, l, |_, id, _| assert!(row_id(id))),
        3 => check::<v1::SubscribeRequest>("SubscribeRequest", body, l, subscribe),
        4 => check::<v1::ImportRequest>("ImportRequest", body, l, import),
        5 => check::<v1::ExportRequest>("ExportRequest", body, l, export),
        6 => check::<v1::GetProjectionRequest>("GetProjectionRequest", body, l, |_, q, l| {
            assert!(as_of_ok(q.as_of.0));
            assert!(q.page.expired_limit <= l.max_page_size);
            assert!(q.page.warnings_limit <= l.max_page_size);
        }),
        7 => check::<v1::GetIdentityRequest>("GetIdentityRequest", body, l, |_, q, _| assert!(as_of_ok(q.0))),
        8 => check::<v1::GetDirectivesRequest>("GetDirectivesRequest", body, l, |_, q, _| assert!(as_of_ok(q.as_of.0))),
        9 => check::<v1::GetMetricsRequest>("GetMetricsRequest", body, l, |_, q, _| assert!(as_of_ok(q.as_of.0))),
        10 => check::<v1::GetContextRequest>("GetContextRequest", body, l, |_, q, l| context(&q, l)),
        11 => check::<v1::EmbedRequest>("EmbedRequest", body, l, |_, text, l| {
            assert!(text.len() <= l.max_event_bytes)
        }),
        12 => check::<v1::SearchRequest>("SearchRequest", body, l, |_, q, l| {
            assert!(q.text.len() <= l.max_event_bytes);
            assert!(
                (1..=l.max_search_top_k).contains(&q.top_k),
                "top_k {} with max_search_top_k {}",
                q.top_k,
                l.max_search_top_k
            );
            kinds_ok(&q.kinds);
        }),
        _ => {}
    }
});

/// Decodes `body` as `M` (the protobuf message `pmm.v1.<name>`); validates
/// it; checks the answer.
fn check<M>(name: &str, body: &[u8], limits: &Limits, valid: impl FnOnce(&M, M::Valid, &Limits))
where
    M: Message + Default + Clone + Validate,
{
    let Ok(request) = M::decode(body) else {
        return;
    };
    match request.clone().validate(limits) {
        Ok(v) => valid(&request, v, limits),
        Err(e) => {
            let again = request.clone().validate(limits).err();
            assert_eq!(again.as_ref(), Some(&e), "validation is not deterministic");
            refusal(&format!(".pmm.v1.{name}"), e);
        }
    }
}

/// A refusal: its status code, its message, and the field it names.
fn refusal(message: &str, e: RequestError) {
    let (field, code) = match &e {
        RequestError::Invalid { field, .. } => (field.clone(), Code::InvalidArgument),
        RequestError::OverLimit { field, .. } => (field.clone(), Code::ResourceExhausted),
    };
    let status = Status::from(Error::from(e));
    assert_eq!(status.code(), code, "{}", status.message());
    assert!(
        status.message().starts_with(&format!("{field}: ")),
        "{:?} does not start with the field {field:?}",
        status.message()
    );
    assert!(
        field_path_exists(message, &field),
        "{message} refused with field {field:?}, which is no field path of it ({:?})",
        status.message()
    );
}

/// Fields of every message of `pmm.v1`: full name → field → its message
/// type (for a message field).
fn messages() -> &'static HashMap<String, HashMap<String, Option<String>>> {
    static MESSAGES: OnceLock<HashMap<String, HashMap<String, Option<String>>>> = OnceLock::new();
    MESSAGES.get_or_init(|| {
        let set = prost_types::FileDescriptorSet::decode(v1::FILE_DESCRIPTOR_SET)
            .expect("the descriptor set decodes");
        let mut out = HashMap::new();
        for file in set.file {
            let package = file.package.unwrap_or_default();
            for m in file.message_type {
                let fields = m
                    .field
                    .iter()
                    .map(|f| {
                        let message_type = (f.r#type
                            == Some(prost_types::field_descriptor_proto::Type::Message as i32))
                        .then(|| f.type_name.clone().unwrap_or_default());
                        (f.name.clone().unwrap_or_default(), message_type)
                    })
                    .collect();
                out.insert(
                    format!(".{package}.{}", m.name.unwrap_or_default()),
                    fields,
                );
            }
        }
        out
    })
}

/// Whether `path` (`events[2].meta`, `views.context.tail`, `after_id`)
/// names a field of `message`, following message fields.
fn field_path_exists(message: &str, path: &str) -> bool {
    let all = messages();
    let mut current = message.to_string();
    let mut segments = path.split('.').peekable();
    while let Some(segment) = segments.next() {
        let name = match segment.find('[') {
            Some(i) => {
                let index = &segment[i..];
                let ok = index.len() > 2
                    && index.ends_with(']')
                    && index[1..index.len() - 1].bytes().all(|b| b.is_ascii_digit());
                if !ok {
                    return false;
                }
                &segment[..i]
            }
            None => segment,
        };
        let Some(fields) = all.get(&current) else {
            return false;
        };
        match fields.get(name) {
            None => return false,
            Some(Some(next)) => current = next.clone(),
            Some(None) if segments.peek().is_some() => return false,
            Some(None) => {}
        }
    }
    true
}

fn default_limits() -> &'static Limits {
    static LIMITS: OnceLock<Limits> = OnceLock::new();
    LIMITS.get_or_init(|| Config::for_db("unused.db").limits())
}

/// Small limits (each at least 1), so that inputs of a few bytes reach
/// every limit.
fn small_limits(b: &[u8]) -> Limits {
    let mut l = default_limits().clone();
    l.max_event_bytes = 1 + usize::from(b[0]);
    l.max_batch_events = 1 + usize::from(b[1] % 8);
    l.max_page_size = 1 + usize::from(b[2] % 32);
    l.max_search_top_k = 1 + usize::from(b[3] % 32);
    l.max_tail = 1 + usize::from(b[4] % 32);
    l.max_n_reflections = usize::from(b[5] % 16);
    l
}

fn id_ok(id: i64) -> bool {
    (0..=MAX_ID).contains(&id)
}

fn row_id(id: i64) -> bool {
    (1..=MAX_ID).contains(&id)
}

fn as_of_ok(as_of: Option<i64>) -> bool {
    as_of.is_none_or(id_ok)
}

fn kinds_ok(kinds: &[String]) {
    assert!(kinds.len() <= MAX_KINDS);
    assert!(kinds.iter().all(|k| !k.is_empty()));
}

fn kind_ok(kind: &str) {
    assert!(!kind.is_empty() && kind.len() <= MAX_KIND_BYTES, "{kind:?}");
    assert!(!kind.chars().any(char::is_control), "{kind:?}");
}

fn context(q: &ContextQuery, l: &Limits) {
    assert!(as_of_ok(q.as_of.0));
    assert!(q.params.n_reflections <= l.max_n_reflections);
    if let Some(tail) = q.tail {
        assert!((1..=l.max_tail).contains(&tail));
    }
}

fn append(
    req: &v1::AppendRequest,
    cmd: pmm_server::api::validate::AppendCommand,
    l: &Limits,
) {
    let events = &cmd.batch.events;
    assert!((1..=l.max_batch_events).contains(&events.len()));
    assert_eq!(events.len(), req.events.len());
    assert!(cmd.batch.expected_last_id.is_none_or(id_ok));
    let mut keys = HashSet::new();
    for (ev, input) in events.iter().zip(&req.events) {
        kind_ok(&ev.kind);
        assert!(input.kind.len() + input.content.len() + input.meta.len() <= l.max_event_bytes);
        assert!(ev.meta.is_object());
        assert_eq!(
            pmm::py::json::loads(&ev.meta_text).ok().as_ref(),
            Some(&ev.meta),
            "the meta is its text, parsed"
        );
        if let Some(key) = &ev.idempotency_key {
            assert!(!key.is_empty() && key.len() <= 256);
            assert!(keys.insert(key.clone()), "a repeated key passed");
        }
        let (id, ts) = (MAX_ID, "2025-09-29T12:00:00+00:00");
        let expected = event_hash(id, ts, &ev.kind, &ev.content, &ev.meta, None)
            .expect("a valid meta is finite");
        assert_eq!(ev.hash.finish(id, ts, None), expected);
    }
    assert_eq!(cmd.batch.want_snapshot, cmd.views.is_some());
    if let Some(views) = &cmd.views {
        if let Some(c) = &views.context {
            assert_eq!(c.as_of.0, None);
            context(c, l);
        }
    }
}

fn read(req: &v1::ReadRequest, q: pmm_server::store::PageQuery, l: &Limits) {
    assert!((1..=l.max_page_size).contains(&q.limit));
    assert_eq!(q.max_bytes, l.max_page_bytes);
    if req.start_id.is_some() {
        assert!(row_id(q.start));
    }
    assert!(q.end.is_none_or(id_ok));
    kinds_ok(&q.kinds);
}

fn subscribe(_: &v1::SubscribeRequest, spec: pmm_server::ledger::hub::Spec, _: &Limits) {
    if let Start::After(id) = spec.start {
        assert!(row_id(id));
    }
    if let Some(h) = spec.heartbeat {
        assert!(h >= Duration::from_millis(100) && h <= Duration::from_secs(3600));
    }
    kinds_ok(&spec.kinds);
}

fn import(
    _: &v1::ImportRequest,
    batch: pmm_server::ledger::sequencer::ImportBatch,
    l: &Limits,
) {
    assert!((1..=l.max_batch_events).contains(&batch.rows.len()));
    for (i, row) in batch.rows.iter().enumerate() {
        assert!(row_id(row.id));
        kind_ok(&row.kind);
        assert!(row.ts.len() <= 256);
        assert!(row.hash.as_ref().is_none_or(|h| !h.is_empty() && h.len() <= 128));
        assert!(row.prev_hash.as_ref().is_none_or(|h| h.len() <= 128));
        assert!(row.parsed_meta().is_ok_and(|m| m.is_object()));
        if i > 0 {
            let prev = &batch.rows[i - 1];
            assert!(row.id > prev.id);
            if batch.mode == ImportMode::Verify {
                assert_eq!(row.prev_hash, prev.hash);
            }
        }
    }
}

fn export(_: &v1::ExportRequest, q: pmm_server::api::validate::ExportQuery, l: &Limits) {
    assert!((1..=l.max_page_size).contains(&q.chunk));
    assert_eq!(q.max_bytes, l.max_page_bytes);
    assert!(q.start == i64::MIN || row_id(q.start));
    if let Some(end) = q.end {
        assert!(id_ok(end) && end >= q.start);
    }
}
