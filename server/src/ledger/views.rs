//! Read-outs of a snapshot that are worth building once per head: the
//! projection (its JSON texts are the largest answer a read gives) and the
//! identity, in domain terms; the wire layer only moves them into messages.

use serde_json::Value;

use crate::rules::projection::{Projection, ProjectionPage};
use pmm::py;

use super::snapshot::Snapshot;

/// Who the agent is.
#[derive(Clone, Debug, PartialEq)]
pub struct IdentityView {
    /// The name as text (`str()` of a non-string `meta.name`).
    pub name: Option<String>,
    /// openness, conscientiousness, extraversion, agreeableness, neuroticism.
    pub traits: [f64; 5],
}

/// The self-model: identity and commitments as JSON texts.
#[derive(Clone, Debug, PartialEq)]
pub struct SelfModelView {
    pub identity: IdentityView,
    pub open_json: String,
    /// The requested page of the expired commitments.
    pub expired_json: String,
}

/// One projection warning.
#[derive(Clone, Debug, PartialEq)]
pub struct WarningView {
    pub kind: String,
    pub content: String,
    pub eid: u64,
    pub reason: String,
    pub meta_json: String,
}

/// A projection as GetProjection answers it.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectionView {
    /// `None` when strict mode failed.
    pub self_model: Option<SelfModelView>,
    /// The requested page of the warnings.
    pub warnings: Vec<WarningView>,
    pub strict: bool,
    pub strict_error: Option<String>,
    pub as_of_id: i64,
    pub expired_total: u64,
    pub warnings_total: u64,
}

pub fn identity(p: &Projection) -> IdentityView {
    let name = match p.name() {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(py::py_str(other)),
    };
    IdentityView {
        name,
        traits: p.traits(),
    }
}

/// The projection of a snapshot (strict or lenient), one page of its
/// growing lists.
pub fn projection(s: &Snapshot, strict: bool, page: &ProjectionPage) -> ProjectionView {
    let (projection, strict_error) = if strict {
        (&s.state.strict, s.state.strict.strict_error())
    } else {
        (&s.state.whole.projection, None)
    };
    let failed = strict_error.is_some();
    ProjectionView {
        self_model: (!failed).then(|| SelfModelView {
            identity: identity(projection),
            open_json: projection.open_json().to_string(),
            expired_json: projection
                .expired_page_json(page.expired_skip, page.expired_limit)
                .to_string(),
        }),
        warnings: warnings(projection, page),
        strict,
        strict_error,
        as_of_id: s.as_of_id(),
        expired_total: if failed {
            0
        } else {
            projection.expired_count() as u64
        },
        warnings_total: projection.warnings().len() as u64,
    }
}

fn warnings(p: &Projection, page: &ProjectionPage) -> Vec<WarningView> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    p.warnings_page(page.warnings_skip, page.warnings_limit)
        .iter()
        .map(|w| {
            let meta = w
                .get("meta")
                .cloned()
                .unwrap_or(Value::Object(Default::default()));
            WarningView {
                kind: text(w.get("kind")),
                content: text(w.get("content")),
                eid: meta.get("eid").and_then(Value::as_u64).unwrap_or(0),
                reason: text(meta.get("reason")),
                meta_json: meta.to_string(),
            }
        })
        .collect()
}
