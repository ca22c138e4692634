//! `pmm.v1.Mind` requests → domain requests.

use pmm::v1;

use super::{as_of, invalid, kinds, within_event_bytes, RequestError, Validate};
use crate::config::Limits;
use crate::ledger::breakdown::Encoding;
use crate::ledger::history::{HistoryQuery, Spacing, DEFAULT_HISTORY_POINTS, MAX_HISTORY_POINTS};
use crate::ledger::search::SearchQuery;
use crate::rules::projection::ProjectionPage;
use crate::rules::ContextParams;

/// What a GetProjection returns of the lists that grow with the ledger when
/// it does not say.
const DEFAULT_PROJECTION_LIMIT: u32 = 20;
/// Default number of search hits.
const DEFAULT_TOP_K: usize = 10;

/// A read of the views as of an id (`None`: the head).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsOf(pub Option<i64>);

/// A GetProjection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProjectionQuery {
    pub as_of: AsOf,
    pub strict: bool,
    pub page: ProjectionPage,
}

impl Validate for v1::GetProjectionRequest {
    type Valid = ProjectionQuery;

    fn validate(self, limits: &Limits) -> Result<ProjectionQuery, RequestError> {
        let limit = |asked: Option<u32>| {
            (asked.unwrap_or(DEFAULT_PROJECTION_LIMIT) as usize).min(limits.max_page_size)
        };
        let skip = |asked: u64| usize::try_from(asked).unwrap_or(usize::MAX);
        Ok(ProjectionQuery {
            as_of: AsOf(as_of("as_of_id", self.as_of_id)?),
            strict: self.strict,
            page: ProjectionPage {
                expired_skip: skip(self.expired_skip),
                expired_limit: limit(self.expired_limit),
                warnings_skip: skip(self.warnings_skip),
                warnings_limit: limit(self.warnings_limit),
            },
        })
    }
}

impl Validate for v1::GetIdentityRequest {
    type Valid = AsOf;

    fn validate(self, _: &Limits) -> Result<AsOf, RequestError> {
        Ok(AsOf(as_of("as_of_id", self.as_of_id)?))
    }
}

/// A GetDirectives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectivesQuery {
    pub as_of: AsOf,
    pub active_only: bool,
}

impl Validate for v1::GetDirectivesRequest {
    type Valid = DirectivesQuery;

    fn validate(self, _: &Limits) -> Result<DirectivesQuery, RequestError> {
        Ok(DirectivesQuery {
            as_of: AsOf(as_of("as_of_id", self.as_of_id)?),
            active_only: self.active_only,
        })
    }
}

/// A GetMetrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricsQuery {
    pub as_of: AsOf,
    pub include_diagnosis: bool,
}

impl Validate for v1::GetMetricsRequest {
    type Valid = MetricsQuery;

    fn validate(self, _: &Limits) -> Result<MetricsQuery, RequestError> {
        Ok(MetricsQuery {
            as_of: AsOf(as_of("as_of_id", self.as_of_id)?),
            include_diagnosis: self.include_diagnosis,
        })
    }
}

/// A GetContext: the block's parameters, and its tail window if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContextQuery {
    pub as_of: AsOf,
    pub params: ContextParams,
    /// The last this many rows only (at most `max_tail`).
    pub tail: Option<usize>,
    /// Also the block's size section by section, tokens counted with this
    /// encoding.
    pub breakdown: Option<Encoding>,
}

impl Validate for v1::GetContextRequest {
    type Valid = ContextQuery;

    fn validate(self, limits: &Limits) -> Result<ContextQuery, RequestError> {
        context_query(&self, limits)
    }
}

/// A context request's fields, defaults filled in (shared with the views of
/// an Append).
pub(super) fn context_query(
    req: &v1::GetContextRequest,
    limits: &Limits,
) -> Result<ContextQuery, RequestError> {
    let defaults = ContextParams::default();
    let compact = match v1::ContextLayout::try_from(req.layout) {
        Ok(v1::ContextLayout::Unspecified | v1::ContextLayout::Standard) => false,
        Ok(v1::ContextLayout::Compact) => true,
        Err(_) => return Err(invalid("layout", format!("unknown layout {}", req.layout))),
    };
    let n_reflections = req
        .n_reflections
        .map_or(defaults.n_reflections, |n| n as usize);
    if n_reflections > limits.max_n_reflections {
        return Err(invalid(
            "n_reflections",
            format!(
                "{n_reflections} is above the maximum of {}",
                limits.max_n_reflections
            ),
        ));
    }
    let tail = match req.tail {
        None => None,
        Some(0) => return Err(invalid("tail", "must be >= 1 (unset = the whole ledger)")),
        Some(n) => {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if n > limits.max_tail {
                return Err(invalid(
                    "tail",
                    format!(
                        "{n} rows is above the window of {} rows kept (--max-tail)",
                        limits.max_tail
                    ),
                ));
            }
            Some(n)
        }
    };
    let encoding = match v1::TokenEncoding::try_from(req.encoding) {
        Ok(v1::TokenEncoding::Unspecified | v1::TokenEncoding::O200kBase) => Encoding::O200kBase,
        Ok(v1::TokenEncoding::Cl100kBase) => Encoding::Cl100kBase,
        Err(_) => {
            return Err(invalid(
                "encoding",
                format!("unknown encoding {}", req.encoding),
            ))
        }
    };
    Ok(ContextQuery {
        breakdown: req.include_breakdown.then_some(encoding),
        as_of: AsOf(as_of("as_of_id", req.as_of_id)?),
        params: ContextParams {
            n_reflections,
            max_commitment_chars: req
                .max_commitment_chars
                .map_or(defaults.max_commitment_chars, |n| n as usize),
            max_reflection_chars: req
                .max_reflection_chars
                .map_or(defaults.max_reflection_chars, |n| n as usize),
            compact,
        },
        tail,
    })
}

impl Validate for v1::GetMetricsHistoryRequest {
    type Valid = HistoryQuery;

    fn validate(self, _: &Limits) -> Result<HistoryQuery, RequestError> {
        let from = as_of("from_id", self.from_id)?;
        let to = as_of("to_id", self.to_id)?;
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(invalid("from_id", format!("{from} is after to_id {to}")));
            }
        }
        let spacing = match (self.points, self.every) {
            (Some(_), Some(_)) => {
                return Err(invalid("every", "give either points or every, not both"))
            }
            (None, None) => Spacing::Points(DEFAULT_HISTORY_POINTS),
            (Some(0), None) => return Err(invalid("points", "must be >= 1")),
            (Some(n), None) if n as usize > MAX_HISTORY_POINTS => {
                return Err(invalid(
                    "points",
                    format!("{n} is above the maximum of {MAX_HISTORY_POINTS}"),
                ))
            }
            (Some(n), None) => Spacing::Points(n as usize),
            (None, Some(0)) => return Err(invalid("every", "must be >= 1")),
            (None, Some(k)) => Spacing::Every(k),
        };
        Ok(HistoryQuery { from, to, spacing })
    }
}

impl Validate for v1::EmbedRequest {
    type Valid = String;

    fn validate(self, limits: &Limits) -> Result<String, RequestError> {
        within_event_bytes("text", self.text.len(), limits)?;
        Ok(self.text)
    }
}

impl Validate for v1::SearchRequest {
    type Valid = SearchQuery;

    fn validate(self, limits: &Limits) -> Result<SearchQuery, RequestError> {
        within_event_bytes("query", self.query.len(), limits)?;
        let top_k = match self.top_k as usize {
            // The default, within a lower maximum if one is set.
            0 => DEFAULT_TOP_K.min(limits.max_search_top_k),
            k if k > limits.max_search_top_k => {
                return Err(invalid(
                    "top_k",
                    format!("{k} is above the maximum of {}", limits.max_search_top_k),
                ))
            }
            k => k,
        };
        Ok(SearchQuery {
            text: self.query,
            top_k,
            kinds: kinds("kinds", self.kinds)?,
        })
    }
}
