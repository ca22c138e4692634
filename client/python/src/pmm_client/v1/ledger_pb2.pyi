from . import mind_pb2 as _mind_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReadDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    READ_DIRECTION_UNSPECIFIED: _ClassVar[ReadDirection]
    READ_DIRECTION_FORWARD: _ClassVar[ReadDirection]
    READ_DIRECTION_BACKWARD: _ClassVar[ReadDirection]

class ChainFault(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHAIN_FAULT_UNSPECIFIED: _ClassVar[ChainFault]
    CHAIN_FAULT_FIRST_PREV_HASH_NOT_NULL: _ClassVar[ChainFault]
    CHAIN_FAULT_PREV_HASH_MISMATCH: _ClassVar[ChainFault]
    CHAIN_FAULT_HASH_MISMATCH: _ClassVar[ChainFault]
    CHAIN_FAULT_HASH_MISSING: _ClassVar[ChainFault]
    CHAIN_FAULT_UNREADABLE_ROW: _ClassVar[ChainFault]

class Durability(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DURABILITY_UNSPECIFIED: _ClassVar[Durability]
    DURABILITY_NORMAL: _ClassVar[Durability]
    DURABILITY_FULL: _ClassVar[Durability]

class ImportMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMPORT_MODE_UNSPECIFIED: _ClassVar[ImportMode]
    IMPORT_MODE_VERIFY: _ClassVar[ImportMode]
    IMPORT_MODE_VERBATIM: _ClassVar[ImportMode]
READ_DIRECTION_UNSPECIFIED: ReadDirection
READ_DIRECTION_FORWARD: ReadDirection
READ_DIRECTION_BACKWARD: ReadDirection
CHAIN_FAULT_UNSPECIFIED: ChainFault
CHAIN_FAULT_FIRST_PREV_HASH_NOT_NULL: ChainFault
CHAIN_FAULT_PREV_HASH_MISMATCH: ChainFault
CHAIN_FAULT_HASH_MISMATCH: ChainFault
CHAIN_FAULT_HASH_MISSING: ChainFault
CHAIN_FAULT_UNREADABLE_ROW: ChainFault
DURABILITY_UNSPECIFIED: Durability
DURABILITY_NORMAL: Durability
DURABILITY_FULL: Durability
IMPORT_MODE_UNSPECIFIED: ImportMode
IMPORT_MODE_VERIFY: ImportMode
IMPORT_MODE_VERBATIM: ImportMode

class Event(_message.Message):
    __slots__ = ("id", "ts", "kind", "content", "meta", "prev_hash", "hash")
    ID_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    META_FIELD_NUMBER: _ClassVar[int]
    PREV_HASH_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    id: int
    ts: str
    kind: str
    content: str
    meta: str
    prev_hash: str
    hash: str
    def __init__(self, id: _Optional[int] = ..., ts: _Optional[str] = ..., kind: _Optional[str] = ..., content: _Optional[str] = ..., meta: _Optional[str] = ..., prev_hash: _Optional[str] = ..., hash: _Optional[str] = ...) -> None: ...

class LedgerHead(_message.Message):
    __slots__ = ("last_id", "last_hash", "count", "last_ts")
    LAST_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_HASH_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_TS_FIELD_NUMBER: _ClassVar[int]
    last_id: int
    last_hash: str
    count: int
    last_ts: str
    def __init__(self, last_id: _Optional[int] = ..., last_hash: _Optional[str] = ..., count: _Optional[int] = ..., last_ts: _Optional[str] = ...) -> None: ...

class EventInput(_message.Message):
    __slots__ = ("kind", "content", "meta", "idempotency_key")
    KIND_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    META_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    kind: str
    content: str
    meta: str
    idempotency_key: str
    def __init__(self, kind: _Optional[str] = ..., content: _Optional[str] = ..., meta: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class AppendViewsRequest(_message.Message):
    __slots__ = ("context", "metrics")
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    context: _mind_pb2.GetContextRequest
    metrics: _mind_pb2.GetMetricsRequest
    def __init__(self, context: _Optional[_Union[_mind_pb2.GetContextRequest, _Mapping]] = ..., metrics: _Optional[_Union[_mind_pb2.GetMetricsRequest, _Mapping]] = ...) -> None: ...

class AppendRequest(_message.Message):
    __slots__ = ("events", "expected_last_id", "views")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_LAST_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[EventInput]
    expected_last_id: int
    views: AppendViewsRequest
    def __init__(self, events: _Optional[_Iterable[_Union[EventInput, _Mapping]]] = ..., expected_last_id: _Optional[int] = ..., views: _Optional[_Union[AppendViewsRequest, _Mapping]] = ...) -> None: ...

class AppendedEvent(_message.Message):
    __slots__ = ("id", "ts", "hash", "prev_hash", "deduplicated")
    ID_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    PREV_HASH_FIELD_NUMBER: _ClassVar[int]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    id: int
    ts: str
    hash: str
    prev_hash: str
    deduplicated: bool
    def __init__(self, id: _Optional[int] = ..., ts: _Optional[str] = ..., hash: _Optional[str] = ..., prev_hash: _Optional[str] = ..., deduplicated: _Optional[bool] = ...) -> None: ...

class AppendViews(_message.Message):
    __slots__ = ("context", "metrics")
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    context: _mind_pb2.GetContextResponse
    metrics: _mind_pb2.GetMetricsResponse
    def __init__(self, context: _Optional[_Union[_mind_pb2.GetContextResponse, _Mapping]] = ..., metrics: _Optional[_Union[_mind_pb2.GetMetricsResponse, _Mapping]] = ...) -> None: ...

class AppendResponse(_message.Message):
    __slots__ = ("events", "head", "views")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    HEAD_FIELD_NUMBER: _ClassVar[int]
    VIEWS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[AppendedEvent]
    head: LedgerHead
    views: AppendViews
    def __init__(self, events: _Optional[_Iterable[_Union[AppendedEvent, _Mapping]]] = ..., head: _Optional[_Union[LedgerHead, _Mapping]] = ..., views: _Optional[_Union[AppendViews, _Mapping]] = ...) -> None: ...

class ReadRequest(_message.Message):
    __slots__ = ("start_id", "end_id", "direction", "kinds", "limit")
    START_ID_FIELD_NUMBER: _ClassVar[int]
    END_ID_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    start_id: int
    end_id: int
    direction: ReadDirection
    kinds: _containers.RepeatedScalarFieldContainer[str]
    limit: int
    def __init__(self, start_id: _Optional[int] = ..., end_id: _Optional[int] = ..., direction: _Optional[_Union[ReadDirection, str]] = ..., kinds: _Optional[_Iterable[str]] = ..., limit: _Optional[int] = ...) -> None: ...

class ReadResponse(_message.Message):
    __slots__ = ("events", "next_start_id", "as_of_id")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_START_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_ID_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    next_start_id: int
    as_of_id: int
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ..., next_start_id: _Optional[int] = ..., as_of_id: _Optional[int] = ...) -> None: ...

class GetEventRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class GetEventResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: Event
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...

class HeadRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("after_id", "from_start", "only_new", "kinds", "heartbeat_ms")
    AFTER_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_START_FIELD_NUMBER: _ClassVar[int]
    ONLY_NEW_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_MS_FIELD_NUMBER: _ClassVar[int]
    after_id: int
    from_start: bool
    only_new: bool
    kinds: _containers.RepeatedScalarFieldContainer[str]
    heartbeat_ms: int
    def __init__(self, after_id: _Optional[int] = ..., from_start: _Optional[bool] = ..., only_new: _Optional[bool] = ..., kinds: _Optional[_Iterable[str]] = ..., heartbeat_ms: _Optional[int] = ...) -> None: ...

class CaughtUp(_message.Message):
    __slots__ = ("position", "head")
    POSITION_FIELD_NUMBER: _ClassVar[int]
    HEAD_FIELD_NUMBER: _ClassVar[int]
    position: int
    head: LedgerHead
    def __init__(self, position: _Optional[int] = ..., head: _Optional[_Union[LedgerHead, _Mapping]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("position", "head")
    POSITION_FIELD_NUMBER: _ClassVar[int]
    HEAD_FIELD_NUMBER: _ClassVar[int]
    position: int
    head: LedgerHead
    def __init__(self, position: _Optional[int] = ..., head: _Optional[_Union[LedgerHead, _Mapping]] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ("event", "caught_up", "heartbeat")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    CAUGHT_UP_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    event: Event
    caught_up: CaughtUp
    heartbeat: Heartbeat
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ..., caught_up: _Optional[_Union[CaughtUp, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ...) -> None: ...

class VerifyChainRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class VerifyChainResponse(_message.Message):
    __slots__ = ("ok", "first_bad_id", "fault", "reason", "checked", "as_of_id")
    OK_FIELD_NUMBER: _ClassVar[int]
    FIRST_BAD_ID_FIELD_NUMBER: _ClassVar[int]
    FAULT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    AS_OF_ID_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    first_bad_id: int
    fault: ChainFault
    reason: str
    checked: int
    as_of_id: int
    def __init__(self, ok: _Optional[bool] = ..., first_bad_id: _Optional[int] = ..., fault: _Optional[_Union[ChainFault, str]] = ..., reason: _Optional[str] = ..., checked: _Optional[int] = ..., as_of_id: _Optional[int] = ...) -> None: ...

class StatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CacheStats(_message.Message):
    __slots__ = ("name", "hits", "misses", "hit_rate", "entries", "capacity")
    NAME_FIELD_NUMBER: _ClassVar[int]
    HITS_FIELD_NUMBER: _ClassVar[int]
    MISSES_FIELD_NUMBER: _ClassVar[int]
    HIT_RATE_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    name: str
    hits: int
    misses: int
    hit_rate: float
    entries: int
    capacity: int
    def __init__(self, name: _Optional[str] = ..., hits: _Optional[int] = ..., misses: _Optional[int] = ..., hit_rate: _Optional[float] = ..., entries: _Optional[int] = ..., capacity: _Optional[int] = ...) -> None: ...

class Limits(_message.Message):
    __slots__ = ("max_event_bytes", "max_batch_events", "max_message_bytes", "max_page_size", "max_subscribers", "max_search_top_k", "max_n_reflections", "max_concurrent_streams", "max_connections", "handshake_timeout_ms", "idle_timeout_ms", "keepalive_interval_ms", "keepalive_timeout_ms", "tcp_keepalive_ms", "max_page_bytes", "max_concurrent_verify", "max_concurrent_search", "max_concurrent_replays", "max_concurrent_tail_contexts", "max_concurrent_exports", "subscriber_buffer", "subscriber_buffer_bytes", "subscriber_in_flight_bytes", "max_tail", "max_tail_bytes")
    MAX_EVENT_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_EVENTS_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_SUBSCRIBERS_FIELD_NUMBER: _ClassVar[int]
    MAX_SEARCH_TOP_K_FIELD_NUMBER: _ClassVar[int]
    MAX_N_REFLECTIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_STREAMS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    HANDSHAKE_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    KEEPALIVE_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    KEEPALIVE_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    TCP_KEEPALIVE_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_PAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_VERIFY_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_SEARCH_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_REPLAYS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_TAIL_CONTEXTS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_EXPORTS_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBER_BUFFER_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBER_BUFFER_BYTES_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBER_IN_FLIGHT_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_TAIL_FIELD_NUMBER: _ClassVar[int]
    MAX_TAIL_BYTES_FIELD_NUMBER: _ClassVar[int]
    max_event_bytes: int
    max_batch_events: int
    max_message_bytes: int
    max_page_size: int
    max_subscribers: int
    max_search_top_k: int
    max_n_reflections: int
    max_concurrent_streams: int
    max_connections: int
    handshake_timeout_ms: int
    idle_timeout_ms: int
    keepalive_interval_ms: int
    keepalive_timeout_ms: int
    tcp_keepalive_ms: int
    max_page_bytes: int
    max_concurrent_verify: int
    max_concurrent_search: int
    max_concurrent_replays: int
    max_concurrent_tail_contexts: int
    max_concurrent_exports: int
    subscriber_buffer: int
    subscriber_buffer_bytes: int
    subscriber_in_flight_bytes: int
    max_tail: int
    max_tail_bytes: int
    def __init__(self, max_event_bytes: _Optional[int] = ..., max_batch_events: _Optional[int] = ..., max_message_bytes: _Optional[int] = ..., max_page_size: _Optional[int] = ..., max_subscribers: _Optional[int] = ..., max_search_top_k: _Optional[int] = ..., max_n_reflections: _Optional[int] = ..., max_concurrent_streams: _Optional[int] = ..., max_connections: _Optional[int] = ..., handshake_timeout_ms: _Optional[int] = ..., idle_timeout_ms: _Optional[int] = ..., keepalive_interval_ms: _Optional[int] = ..., keepalive_timeout_ms: _Optional[int] = ..., tcp_keepalive_ms: _Optional[int] = ..., max_page_bytes: _Optional[int] = ..., max_concurrent_verify: _Optional[int] = ..., max_concurrent_search: _Optional[int] = ..., max_concurrent_replays: _Optional[int] = ..., max_concurrent_tail_contexts: _Optional[int] = ..., max_concurrent_exports: _Optional[int] = ..., subscriber_buffer: _Optional[int] = ..., subscriber_buffer_bytes: _Optional[int] = ..., subscriber_in_flight_bytes: _Optional[int] = ..., max_tail: _Optional[int] = ..., max_tail_bytes: _Optional[int] = ...) -> None: ...

class ChainFaultInfo(_message.Message):
    __slots__ = ("id", "fault", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    FAULT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: int
    fault: ChainFault
    reason: str
    def __init__(self, id: _Optional[int] = ..., fault: _Optional[_Union[ChainFault, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class WorkStats(_message.Message):
    __slots__ = ("name", "limit", "running", "admitted", "refused", "cancelled")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    ADMITTED_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    name: str
    limit: int
    running: int
    admitted: int
    refused: int
    cancelled: int
    def __init__(self, name: _Optional[str] = ..., limit: _Optional[int] = ..., running: _Optional[int] = ..., admitted: _Optional[int] = ..., refused: _Optional[int] = ..., cancelled: _Optional[int] = ...) -> None: ...

class StatsResponse(_message.Message):
    __slots__ = ("as_of_id", "event_count", "events_by_kind", "caches", "rebuild_micros", "rebuild_events", "subscribers", "db_bytes", "wal_bytes", "uptime_seconds", "appended_events", "commits", "durability", "limits", "server_version", "work", "live_window_rows", "live_window_bytes", "chain_fault", "condition", "connections_open", "connections_accepted", "connections_refused", "connections_closed_idle", "connections_closed_handshake", "accept_errors", "open_files_limit", "mind", "open_minds", "max_open_minds", "open_minds_memory_bytes", "max_open_minds_memory_bytes", "minds_opened", "minds_closed")
    class EventsByKindEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    AS_OF_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_BY_KIND_FIELD_NUMBER: _ClassVar[int]
    CACHES_FIELD_NUMBER: _ClassVar[int]
    REBUILD_MICROS_FIELD_NUMBER: _ClassVar[int]
    REBUILD_EVENTS_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBERS_FIELD_NUMBER: _ClassVar[int]
    DB_BYTES_FIELD_NUMBER: _ClassVar[int]
    WAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    APPENDED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    COMMITS_FIELD_NUMBER: _ClassVar[int]
    DURABILITY_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    WORK_FIELD_NUMBER: _ClassVar[int]
    LIVE_WINDOW_ROWS_FIELD_NUMBER: _ClassVar[int]
    LIVE_WINDOW_BYTES_FIELD_NUMBER: _ClassVar[int]
    CHAIN_FAULT_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_OPEN_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_REFUSED_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_CLOSED_IDLE_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_CLOSED_HANDSHAKE_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_ERRORS_FIELD_NUMBER: _ClassVar[int]
    OPEN_FILES_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MIND_FIELD_NUMBER: _ClassVar[int]
    OPEN_MINDS_FIELD_NUMBER: _ClassVar[int]
    MAX_OPEN_MINDS_FIELD_NUMBER: _ClassVar[int]
    OPEN_MINDS_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_OPEN_MINDS_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    MINDS_OPENED_FIELD_NUMBER: _ClassVar[int]
    MINDS_CLOSED_FIELD_NUMBER: _ClassVar[int]
    as_of_id: int
    event_count: int
    events_by_kind: _containers.ScalarMap[str, int]
    caches: _containers.RepeatedCompositeFieldContainer[CacheStats]
    rebuild_micros: int
    rebuild_events: int
    subscribers: int
    db_bytes: int
    wal_bytes: int
    uptime_seconds: int
    appended_events: int
    commits: int
    durability: Durability
    limits: Limits
    server_version: str
    work: _containers.RepeatedCompositeFieldContainer[WorkStats]
    live_window_rows: int
    live_window_bytes: int
    chain_fault: ChainFaultInfo
    condition: str
    connections_open: int
    connections_accepted: int
    connections_refused: int
    connections_closed_idle: int
    connections_closed_handshake: int
    accept_errors: int
    open_files_limit: int
    mind: str
    open_minds: int
    max_open_minds: int
    open_minds_memory_bytes: int
    max_open_minds_memory_bytes: int
    minds_opened: int
    minds_closed: int
    def __init__(self, as_of_id: _Optional[int] = ..., event_count: _Optional[int] = ..., events_by_kind: _Optional[_Mapping[str, int]] = ..., caches: _Optional[_Iterable[_Union[CacheStats, _Mapping]]] = ..., rebuild_micros: _Optional[int] = ..., rebuild_events: _Optional[int] = ..., subscribers: _Optional[int] = ..., db_bytes: _Optional[int] = ..., wal_bytes: _Optional[int] = ..., uptime_seconds: _Optional[int] = ..., appended_events: _Optional[int] = ..., commits: _Optional[int] = ..., durability: _Optional[_Union[Durability, str]] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., server_version: _Optional[str] = ..., work: _Optional[_Iterable[_Union[WorkStats, _Mapping]]] = ..., live_window_rows: _Optional[int] = ..., live_window_bytes: _Optional[int] = ..., chain_fault: _Optional[_Union[ChainFaultInfo, _Mapping]] = ..., condition: _Optional[str] = ..., connections_open: _Optional[int] = ..., connections_accepted: _Optional[int] = ..., connections_refused: _Optional[int] = ..., connections_closed_idle: _Optional[int] = ..., connections_closed_handshake: _Optional[int] = ..., accept_errors: _Optional[int] = ..., open_files_limit: _Optional[int] = ..., mind: _Optional[str] = ..., open_minds: _Optional[int] = ..., max_open_minds: _Optional[int] = ..., open_minds_memory_bytes: _Optional[int] = ..., max_open_minds_memory_bytes: _Optional[int] = ..., minds_opened: _Optional[int] = ..., minds_closed: _Optional[int] = ...) -> None: ...

class ImportRequest(_message.Message):
    __slots__ = ("rows", "mode")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[Event]
    mode: ImportMode
    def __init__(self, rows: _Optional[_Iterable[_Union[Event, _Mapping]]] = ..., mode: _Optional[_Union[ImportMode, str]] = ...) -> None: ...

class ImportResponse(_message.Message):
    __slots__ = ("imported", "skipped", "head")
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    HEAD_FIELD_NUMBER: _ClassVar[int]
    imported: int
    skipped: int
    head: LedgerHead
    def __init__(self, imported: _Optional[int] = ..., skipped: _Optional[int] = ..., head: _Optional[_Union[LedgerHead, _Mapping]] = ...) -> None: ...

class ExportRequest(_message.Message):
    __slots__ = ("start_id", "end_id", "chunk_size")
    START_ID_FIELD_NUMBER: _ClassVar[int]
    END_ID_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    start_id: int
    end_id: int
    chunk_size: int
    def __init__(self, start_id: _Optional[int] = ..., end_id: _Optional[int] = ..., chunk_size: _Optional[int] = ...) -> None: ...

class ExportResponse(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, rows: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...
