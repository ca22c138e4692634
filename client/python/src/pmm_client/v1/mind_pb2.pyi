from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ContextLayout(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTEXT_LAYOUT_UNSPECIFIED: _ClassVar[ContextLayout]
    CONTEXT_LAYOUT_STANDARD: _ClassVar[ContextLayout]
    CONTEXT_LAYOUT_COMPACT: _ClassVar[ContextLayout]

class TokenEncoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TOKEN_ENCODING_UNSPECIFIED: _ClassVar[TokenEncoding]
    TOKEN_ENCODING_O200K_BASE: _ClassVar[TokenEncoding]
    TOKEN_ENCODING_CL100K_BASE: _ClassVar[TokenEncoding]

class ContextSection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTEXT_SECTION_UNSPECIFIED: _ClassVar[ContextSection]
    CONTEXT_SECTION_HEADER: _ClassVar[ContextSection]
    CONTEXT_SECTION_IDENTITY: _ClassVar[ContextSection]
    CONTEXT_SECTION_TRAITS: _ClassVar[ContextSection]
    CONTEXT_SECTION_GUIDANCE: _ClassVar[ContextSection]
    CONTEXT_SECTION_METRICS: _ClassVar[ContextSection]
    CONTEXT_SECTION_COMMITMENTS: _ClassVar[ContextSection]
    CONTEXT_SECTION_REFLECTIONS: _ClassVar[ContextSection]
    CONTEXT_SECTION_FOOTER: _ClassVar[ContextSection]
CONTEXT_LAYOUT_UNSPECIFIED: ContextLayout
CONTEXT_LAYOUT_STANDARD: ContextLayout
CONTEXT_LAYOUT_COMPACT: ContextLayout
TOKEN_ENCODING_UNSPECIFIED: TokenEncoding
TOKEN_ENCODING_O200K_BASE: TokenEncoding
TOKEN_ENCODING_CL100K_BASE: TokenEncoding
CONTEXT_SECTION_UNSPECIFIED: ContextSection
CONTEXT_SECTION_HEADER: ContextSection
CONTEXT_SECTION_IDENTITY: ContextSection
CONTEXT_SECTION_TRAITS: ContextSection
CONTEXT_SECTION_GUIDANCE: ContextSection
CONTEXT_SECTION_METRICS: ContextSection
CONTEXT_SECTION_COMMITMENTS: ContextSection
CONTEXT_SECTION_REFLECTIONS: ContextSection
CONTEXT_SECTION_FOOTER: ContextSection

class Traits(_message.Message):
    __slots__ = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
    OPENNESS_FIELD_NUMBER: _ClassVar[int]
    CONSCIENTIOUSNESS_FIELD_NUMBER: _ClassVar[int]
    EXTRAVERSION_FIELD_NUMBER: _ClassVar[int]
    AGREEABLENESS_FIELD_NUMBER: _ClassVar[int]
    NEUROTICISM_FIELD_NUMBER: _ClassVar[int]
    openness: float
    conscientiousness: float
    extraversion: float
    agreeableness: float
    neuroticism: float
    def __init__(self, openness: _Optional[float] = ..., conscientiousness: _Optional[float] = ..., extraversion: _Optional[float] = ..., agreeableness: _Optional[float] = ..., neuroticism: _Optional[float] = ...) -> None: ...

class Identity(_message.Message):
    __slots__ = ("name", "traits")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TRAITS_FIELD_NUMBER: _ClassVar[int]
    name: str
    traits: Traits
    def __init__(self, name: _Optional[str] = ..., traits: _Optional[_Union[Traits, _Mapping]] = ...) -> None: ...

class GetProjectionRequest(_message.Message):
    __slots__ = ("strict", "as_of_id", "expired_limit", "expired_skip", "warnings_limit", "warnings_skip")
    STRICT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_LIMIT_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_SKIP_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_LIMIT_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_SKIP_FIELD_NUMBER: _ClassVar[int]
    strict: bool
    as_of_id: int
    expired_limit: int
    expired_skip: int
    warnings_limit: int
    warnings_skip: int
    def __init__(self, strict: _Optional[bool] = ..., as_of_id: _Optional[int] = ..., expired_limit: _Optional[int] = ..., expired_skip: _Optional[int] = ..., warnings_limit: _Optional[int] = ..., warnings_skip: _Optional[int] = ...) -> None: ...

class SelfModel(_message.Message):
    __slots__ = ("identity", "open_json", "expired_json")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    OPEN_JSON_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_JSON_FIELD_NUMBER: _ClassVar[int]
    identity: Identity
    open_json: str
    expired_json: str
    def __init__(self, identity: _Optional[_Union[Identity, _Mapping]] = ..., open_json: _Optional[str] = ..., expired_json: _Optional[str] = ...) -> None: ...

class ProjectionWarning(_message.Message):
    __slots__ = ("kind", "content", "meta", "eid", "reason")
    KIND_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    META_FIELD_NUMBER: _ClassVar[int]
    EID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    kind: str
    content: str
    meta: str
    eid: int
    reason: str
    def __init__(self, kind: _Optional[str] = ..., content: _Optional[str] = ..., meta: _Optional[str] = ..., eid: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class GetProjectionResponse(_message.Message):
    __slots__ = ("self_model", "warnings", "strict", "strict_error", "as_of_id", "expired_total", "warnings_total")
    SELF_MODEL_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    STRICT_FIELD_NUMBER: _ClassVar[int]
    STRICT_ERROR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    self_model: SelfModel
    warnings: _containers.RepeatedCompositeFieldContainer[ProjectionWarning]
    strict: bool
    strict_error: str
    as_of_id: int
    expired_total: int
    warnings_total: int
    def __init__(self, self_model: _Optional[_Union[SelfModel, _Mapping]] = ..., warnings: _Optional[_Iterable[_Union[ProjectionWarning, _Mapping]]] = ..., strict: _Optional[bool] = ..., strict_error: _Optional[str] = ..., as_of_id: _Optional[int] = ..., expired_total: _Optional[int] = ..., warnings_total: _Optional[int] = ...) -> None: ...

class GetIdentityRequest(_message.Message):
    __slots__ = ("as_of_id",)
    AS_OF_ID_FIELD_NUMBER: _ClassVar[int]
    as_of_id: int
    def __init__(self, as_of_id: _Optional[int] = ...) -> None: ...

class GetIdentityResponse(_message.Message):
    __slots__ = ("identity", "as_of_id")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    AS_OF_ID_FIELD_NUMBER: _ClassVar[int]
    identity: Identity
    as_of_id: int
    def __init__(self, identity: _Optional[_Union[Identity, _Mapping]] = ..., as_of_id: _Optional[int] = ...) -> None: ...

class GetDirectivesRequest(_message.Message):
    __slots__ = ("active_only", "as_of_id")
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    AS_OF_ID_FIELD_NUMBER: _ClassVar[int]
    active_only: bool
    as_of_id: int
    def __init__(self, active_only: _Optional[bool] = ..., as_of_id: _Optional[int] = ...) -> None: ...

class Directive(_message.Message):
    __slots__ = ("content", "first_seen_ts", "last_seen_ts", "first_seen_id", "last_seen_id", "seen_count", "sources", "last_origin_eid")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_TS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_TS_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_ID_FIELD_NUMBER: _ClassVar[int]
    SEEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    LAST_ORIGIN_EID_FIELD_NUMBER: _ClassVar[int]
    content: str
    first_seen_ts: str
    last_seen_ts: str
    first_seen_id: int
    last_seen_id: int
    seen_count: int
    sources: _containers.RepeatedScalarFieldContainer[str]
    last_origin_eid: int
    def __init__(self, content: _Optional[str] = ..., first_seen_ts: _Optional[str] = ..., last_seen_ts: _Optional[str] = ..., first_seen_id: _Optional[int] = ..., last_seen_id: _Optional[int] = ..., seen_count: _Optional[int] = ..., sources: _Optional[_Iterable[str]] = ..., last_origin_eid: _Optional[int] = ...) -> None: ...

class ActiveDirective(_message.Message):
    __slots__ = ("content", "seen_count", "recent_hits", "score", "first_seen_id", "last_seen_id", "sources")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    SEEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    RECENT_HITS_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    content: str
    seen_count: int
    recent_hits: int
    score: float
    first_seen_id: int
    last_seen_id: int
    sources: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, content: _Optional[str] = ..., seen_count: _Optional[int] = ..., recent_hits: _Optional[int] = ..., score: _Optional[float] = ..., first_seen_id: _Optional[int] = ..., last_seen_id: _Optional[int] = ..., sources: _Optional[_Iterable[str]] = ...) -> None: ...

class GetDirectivesResponse(_message.Message):
    __slots__ = ("directives", "active", "as_of_id")
    DIRECTIVES_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    AS_OF_ID_FIELD_NUMBER: _ClassVar[int]
    directives: _containers.RepeatedCompositeFieldContainer[Directive]
    active: _containers.RepeatedCompositeFieldContainer[ActiveDirective]
    as_of_id: int
    def __init__(self, directives: _Optional[_Iterable[_Union[Directive, _Mapping]]] = ..., active: _Optional[_Iterable[_Union[ActiveDirective, _Mapping]]] = ..., as_of_id: _Optional[int] = ...) -> None: ...

class GetMetricsRequest(_message.Message):
    __slots__ = ("include_diagnosis", "as_of_id")
    INCLUDE_DIAGNOSIS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_ID_FIELD_NUMBER: _ClassVar[int]
    include_diagnosis: bool
    as_of_id: int
    def __init__(self, include_diagnosis: _Optional[bool] = ..., as_of_id: _Optional[int] = ...) -> None: ...

class StageSnapshot(_message.Message):
    __slots__ = ("ias_mean", "gas_mean", "count", "window")
    IAS_MEAN_FIELD_NUMBER: _ClassVar[int]
    GAS_MEAN_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    ias_mean: float
    gas_mean: float
    count: int
    window: int
    def __init__(self, ias_mean: _Optional[float] = ..., gas_mean: _Optional[float] = ..., count: _Optional[int] = ..., window: _Optional[int] = ...) -> None: ...

class Stage(_message.Message):
    __slots__ = ("name", "level", "snapshot")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    name: str
    level: int
    snapshot: StageSnapshot
    def __init__(self, name: _Optional[str] = ..., level: _Optional[int] = ..., snapshot: _Optional[_Union[StageSnapshot, _Mapping]] = ...) -> None: ...

class AdoptionDetail(_message.Message):
    __slots__ = ("tick", "name", "event_id", "confidence")
    TICK_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    tick: int
    name: str
    event_id: int
    confidence: float
    def __init__(self, tick: _Optional[int] = ..., name: _Optional[str] = ..., event_id: _Optional[int] = ..., confidence: _Optional[float] = ...) -> None: ...

class Diagnosis(_message.Message):
    __slots__ = ("identity_adopts", "identity_adopt_details", "identity_adopts_total", "identity_adopt_details_all", "autonomy_ticks", "invariant_violations", "identity_reflections", "ticks_since_last_adopt", "expected_stability_bonuses", "expected_flip_flop_penalties", "decay_factor", "expected_ias_before_decay")
    IDENTITY_ADOPTS_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ADOPT_DETAILS_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ADOPTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ADOPT_DETAILS_ALL_FIELD_NUMBER: _ClassVar[int]
    AUTONOMY_TICKS_FIELD_NUMBER: _ClassVar[int]
    INVARIANT_VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_REFLECTIONS_FIELD_NUMBER: _ClassVar[int]
    TICKS_SINCE_LAST_ADOPT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_STABILITY_BONUSES_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_FLIP_FLOP_PENALTIES_FIELD_NUMBER: _ClassVar[int]
    DECAY_FACTOR_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_IAS_BEFORE_DECAY_FIELD_NUMBER: _ClassVar[int]
    identity_adopts: int
    identity_adopt_details: _containers.RepeatedCompositeFieldContainer[AdoptionDetail]
    identity_adopts_total: int
    identity_adopt_details_all: _containers.RepeatedCompositeFieldContainer[AdoptionDetail]
    autonomy_ticks: int
    invariant_violations: int
    identity_reflections: int
    ticks_since_last_adopt: int
    expected_stability_bonuses: int
    expected_flip_flop_penalties: int
    decay_factor: float
    expected_ias_before_decay: float
    def __init__(self, identity_adopts: _Optional[int] = ..., identity_adopt_details: _Optional[_Iterable[_Union[AdoptionDetail, _Mapping]]] = ..., identity_adopts_total: _Optional[int] = ..., identity_adopt_details_all: _Optional[_Iterable[_Union[AdoptionDetail, _Mapping]]] = ..., autonomy_ticks: _Optional[int] = ..., invariant_violations: _Optional[int] = ..., identity_reflections: _Optional[int] = ..., ticks_since_last_adopt: _Optional[int] = ..., expected_stability_bonuses: _Optional[int] = ..., expected_flip_flop_penalties: _Optional[int] = ..., decay_factor: _Optional[float] = ..., expected_ias_before_decay: _Optional[float] = ...) -> None: ...

class GetMetricsResponse(_message.Message):
    __slots__ = ("ias", "gas", "stage", "diagnosis", "as_of_id")
    IAS_FIELD_NUMBER: _ClassVar[int]
    GAS_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    DIAGNOSIS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_ID_FIELD_NUMBER: _ClassVar[int]
    ias: float
    gas: float
    stage: Stage
    diagnosis: Diagnosis
    as_of_id: int
    def __init__(self, ias: _Optional[float] = ..., gas: _Optional[float] = ..., stage: _Optional[_Union[Stage, _Mapping]] = ..., diagnosis: _Optional[_Union[Diagnosis, _Mapping]] = ..., as_of_id: _Optional[int] = ...) -> None: ...

class GetContextRequest(_message.Message):
    __slots__ = ("layout", "n_reflections", "max_commitment_chars", "max_reflection_chars", "tail", "as_of_id", "include_breakdown", "encoding")
    LAYOUT_FIELD_NUMBER: _ClassVar[int]
    N_REFLECTIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_COMMITMENT_CHARS_FIELD_NUMBER: _ClassVar[int]
    MAX_REFLECTION_CHARS_FIELD_NUMBER: _ClassVar[int]
    TAIL_FIELD_NUMBER: _ClassVar[int]
    AS_OF_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_BREAKDOWN_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    layout: ContextLayout
    n_reflections: int
    max_commitment_chars: int
    max_reflection_chars: int
    tail: int
    as_of_id: int
    include_breakdown: bool
    encoding: TokenEncoding
    def __init__(self, layout: _Optional[_Union[ContextLayout, str]] = ..., n_reflections: _Optional[int] = ..., max_commitment_chars: _Optional[int] = ..., max_reflection_chars: _Optional[int] = ..., tail: _Optional[int] = ..., as_of_id: _Optional[int] = ..., include_breakdown: _Optional[bool] = ..., encoding: _Optional[_Union[TokenEncoding, str]] = ...) -> None: ...

class ContextSectionSize(_message.Message):
    __slots__ = ("section", "bytes", "chars", "tokens", "lines")
    SECTION_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    CHARS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    section: ContextSection
    bytes: int
    chars: int
    tokens: int
    lines: int
    def __init__(self, section: _Optional[_Union[ContextSection, str]] = ..., bytes: _Optional[int] = ..., chars: _Optional[int] = ..., tokens: _Optional[int] = ..., lines: _Optional[int] = ...) -> None: ...

class ContextBreakdown(_message.Message):
    __slots__ = ("encoding", "sections", "bytes", "chars", "tokens")
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    SECTIONS_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    CHARS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    encoding: TokenEncoding
    sections: _containers.RepeatedCompositeFieldContainer[ContextSectionSize]
    bytes: int
    chars: int
    tokens: int
    def __init__(self, encoding: _Optional[_Union[TokenEncoding, str]] = ..., sections: _Optional[_Iterable[_Union[ContextSectionSize, _Mapping]]] = ..., bytes: _Optional[int] = ..., chars: _Optional[int] = ..., tokens: _Optional[int] = ...) -> None: ...

class GetContextResponse(_message.Message):
    __slots__ = ("text", "as_of_id", "breakdown")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_ID_FIELD_NUMBER: _ClassVar[int]
    BREAKDOWN_FIELD_NUMBER: _ClassVar[int]
    text: str
    as_of_id: int
    breakdown: ContextBreakdown
    def __init__(self, text: _Optional[str] = ..., as_of_id: _Optional[int] = ..., breakdown: _Optional[_Union[ContextBreakdown, _Mapping]] = ...) -> None: ...

class GetMetricsHistoryRequest(_message.Message):
    __slots__ = ("from_id", "to_id", "points", "every")
    FROM_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ID_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    EVERY_FIELD_NUMBER: _ClassVar[int]
    from_id: int
    to_id: int
    points: int
    every: int
    def __init__(self, from_id: _Optional[int] = ..., to_id: _Optional[int] = ..., points: _Optional[int] = ..., every: _Optional[int] = ...) -> None: ...

class MetricsPoint(_message.Message):
    __slots__ = ("as_of_id", "event_count", "ias", "gas", "stage", "stage_error")
    AS_OF_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    IAS_FIELD_NUMBER: _ClassVar[int]
    GAS_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    STAGE_ERROR_FIELD_NUMBER: _ClassVar[int]
    as_of_id: int
    event_count: int
    ias: float
    gas: float
    stage: Stage
    stage_error: str
    def __init__(self, as_of_id: _Optional[int] = ..., event_count: _Optional[int] = ..., ias: _Optional[float] = ..., gas: _Optional[float] = ..., stage: _Optional[_Union[Stage, _Mapping]] = ..., stage_error: _Optional[str] = ...) -> None: ...

class GetMetricsHistoryResponse(_message.Message):
    __slots__ = ("points", "as_of_id")
    POINTS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_ID_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[MetricsPoint]
    as_of_id: int
    def __init__(self, points: _Optional[_Iterable[_Union[MetricsPoint, _Mapping]]] = ..., as_of_id: _Optional[int] = ...) -> None: ...

class EmbedRequest(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class EmbedResponse(_message.Message):
    __slots__ = ("vector", "digest")
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    vector: _containers.RepeatedScalarFieldContainer[float]
    digest: str
    def __init__(self, vector: _Optional[_Iterable[float]] = ..., digest: _Optional[str] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("query", "top_k", "kinds")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    query: str
    top_k: int
    kinds: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, query: _Optional[str] = ..., top_k: _Optional[int] = ..., kinds: _Optional[_Iterable[str]] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ("event_id", "kind", "score", "excerpt", "ts")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    EXCERPT_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    event_id: int
    kind: str
    score: float
    excerpt: str
    ts: str
    def __init__(self, event_id: _Optional[int] = ..., kind: _Optional[str] = ..., score: _Optional[float] = ..., excerpt: _Optional[str] = ..., ts: _Optional[str] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("hits", "scanned", "as_of_id")
    HITS_FIELD_NUMBER: _ClassVar[int]
    SCANNED_FIELD_NUMBER: _ClassVar[int]
    AS_OF_ID_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SearchHit]
    scanned: int
    as_of_id: int
    def __init__(self, hits: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ..., scanned: _Optional[int] = ..., as_of_id: _Optional[int] = ...) -> None: ...
