"""What calls return: protobuf messages with ``meta`` and the ``*_json`` texts
parsed into dicts, and optional fields made ``None`` when unset. Views that
need no parsing (metrics, context, directives, ...) stay protobuf messages;
``pmm_client.v1`` has their type stubs."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import grpc

from ._errors import PmmError
from ._options import encoding_name, section_name
from .v1 import ledger_pb2, mind_pb2

__all__ = [
    "AppendOutcome",
    "Appended",
    "CaughtUp",
    "ContextBreakdown",
    "Event",
    "Head",
    "Heartbeat",
    "Identity",
    "IdentityView",
    "ImportOutcome",
    "Page",
    "Projection",
    "ProjectionWarning",
    "Reconnecting",
    "SectionSize",
    "SelfModel",
    "SubItem",
]


def protocol_error(what: str) -> PmmError:
    """The server sent something this client cannot interpret."""
    return PmmError(grpc.StatusCode.INTERNAL, f"unexpected response: {what}")


def parse_object(text: str, what: Callable[[], str]) -> dict[str, Any]:
    """Parses a JSON object sent as text; an empty text is ``{}``."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise protocol_error(f"{what()}: not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise protocol_error(f"{what()}: not a JSON object")
    return value


def _opt(msg: Any, name: str) -> Any:
    """An optional proto3 field, None when unset."""
    return getattr(msg, name) if msg.HasField(name) else None


@dataclass(frozen=True)
class Event:
    """One stored ledger row."""

    id: int
    #: Timestamp text exactly as stored.
    ts: str
    kind: str
    content: str
    #: The meta object (key order kept). Left out of ==/hash: ``meta_text``
    #: says the same, and keeps an Event hashable.
    meta: dict[str, Any] = field(compare=False)
    #: The meta text exactly as stored: what export/import carry.
    meta_text: str
    #: The previous row's hash; None for the first row.
    prev_hash: Optional[str]
    #: This row's hash; None only for a foreign row stored without one.
    hash: Optional[str]

    @classmethod
    def from_proto(cls, row: ledger_pb2.Event) -> "Event":
        return cls(
            id=row.id,
            ts=row.ts,
            kind=row.kind,
            content=row.content,
            meta=parse_object(row.meta, lambda: f"event {row.id} meta"),
            meta_text=row.meta,
            prev_hash=_opt(row, "prev_hash"),
            hash=row.hash or None,
        )

    def to_proto(self) -> ledger_pb2.Event:
        """The wire row, byte for byte as it was read (for ``import_rows``)."""
        row = ledger_pb2.Event(
            id=self.id, ts=self.ts, kind=self.kind, content=self.content, meta=self.meta_text, hash=self.hash or ""
        )
        if self.prev_hash is not None:
            row.prev_hash = self.prev_hash
        return row


@dataclass(frozen=True)
class Head:
    """The head of the ledger."""

    #: Id of the last row; 0 when the ledger is empty.
    last_id: int = 0
    #: Hash of the last row; None when the ledger is empty.
    last_hash: Optional[str] = None
    #: Number of rows.
    count: int = 0
    #: ``ts`` of the last row; None when the ledger is empty.
    last_ts: Optional[str] = None

    @classmethod
    def from_proto(cls, head: Optional[ledger_pb2.LedgerHead]) -> "Head":
        if head is None:
            return cls()
        return cls(head.last_id, _opt(head, "last_hash"), head.count, _opt(head, "last_ts"))


@dataclass(frozen=True)
class Appended:
    """Where one appended event landed."""

    id: int
    ts: str
    hash: str
    #: None for the ledger's first row.
    prev_hash: Optional[str]
    #: An idempotency key matched an existing event: nothing was written and
    #: the fields are the original row's.
    deduplicated: bool

    @classmethod
    def from_proto(cls, ev: ledger_pb2.AppendedEvent) -> "Appended":
        return cls(ev.id, ev.ts, ev.hash, _opt(ev, "prev_hash"), ev.deduplicated)


@dataclass(frozen=True)
class AppendOutcome:
    """The result of an append."""

    #: One entry per event sent, in order.
    events: list[Appended]
    #: The ledger head once the write was committed.
    head: Head
    #: The context block as of the write, when asked for.
    context: Optional[mind_pb2.GetContextResponse] = None
    #: The metrics as of the write, when asked for.
    metrics: Optional[mind_pb2.GetMetricsResponse] = None

    @classmethod
    def from_proto(cls, resp: ledger_pb2.AppendResponse) -> "AppendOutcome":
        views = resp.views
        return cls(
            events=[Appended.from_proto(e) for e in resp.events],
            head=Head.from_proto(resp.head),
            context=views.context if views.HasField("context") else None,
            metrics=views.metrics if views.HasField("metrics") else None,
        )


@dataclass(frozen=True)
class Page:
    """One page of ``read``."""

    #: The events, in the direction asked for.
    events: list[Event]
    #: The ``start_id`` of the next page; None when the range is exhausted.
    next_start_id: Optional[int]
    #: The ledger's last id when the page was read.
    as_of_id: int

    @classmethod
    def from_proto(cls, resp: ledger_pb2.ReadResponse) -> "Page":
        return cls([Event.from_proto(e) for e in resp.events], _opt(resp, "next_start_id"), resp.as_of_id)


@dataclass(frozen=True)
class Identity:
    """Who the agent is."""

    #: None while the agent has no name.
    name: Optional[str]
    #: The Big-Five trait values.
    traits: mind_pb2.Traits

    @classmethod
    def from_proto(cls, ident: Optional[mind_pb2.Identity]) -> "Identity":
        if ident is None:
            ident = mind_pb2.Identity()
        return cls(_opt(ident, "name"), ident.traits)


@dataclass(frozen=True)
class IdentityView:
    identity: Identity
    #: The last row the view reflects.
    as_of_id: int


@dataclass(frozen=True)
class SelfModel:
    identity: Identity
    #: Open commitments: cid -> the opening event's meta, in insertion order.
    open: dict[str, Any]
    #: Expired commitments: cid -> ``{text, expired_at, reason}``.
    expired: dict[str, Any]


@dataclass(frozen=True)
class ProjectionWarning:
    """A warning raised by the lenient projection."""

    kind: str
    content: str
    #: ``{"cid", "eid", "reason"}``.
    meta: dict[str, Any]
    #: The id of the event that raised it.
    eid: int
    #: Machine-readable, e.g. ``close_without_evidence``.
    reason: str


@dataclass(frozen=True)
class Projection:
    """The self-model projection."""

    #: None only when the strict mode failed.
    self_model: Optional[SelfModel]
    #: The latest warnings asked for, in ledger order.
    warnings: list[ProjectionWarning]
    strict: bool
    #: Why the strict mode failed, when it did.
    strict_error: Optional[str]
    #: The last row the projection reflects.
    as_of_id: int
    #: Expired commitments in all (``self_model.expired`` holds those asked for).
    expired_total: int
    #: Warnings in all.
    warnings_total: int

    @classmethod
    def from_proto(cls, resp: mind_pb2.GetProjectionResponse) -> "Projection":
        model = None
        if resp.HasField("self_model"):
            m = resp.self_model
            model = SelfModel(
                identity=Identity.from_proto(m.identity if m.HasField("identity") else None),
                open=parse_object(m.open_json, lambda: "self_model.open_json"),
                expired=parse_object(m.expired_json, lambda: "self_model.expired_json"),
            )
        warnings = [
            ProjectionWarning(
                w.kind, w.content, parse_object(w.meta, lambda: "warnings[].meta"), w.eid, w.reason
            )
            for w in resp.warnings
        ]
        return cls(
            self_model=model,
            warnings=warnings,
            strict=resp.strict,
            strict_error=_opt(resp, "strict_error"),
            as_of_id=resp.as_of_id,
            expired_total=resp.expired_total,
            warnings_total=resp.warnings_total,
        )


@dataclass(frozen=True)
class ImportOutcome:
    """The result of one ``import_rows`` call."""

    #: Rows written.
    imported: int
    #: Rows already stored identically, skipped.
    skipped: int
    #: The ledger head after the call.
    head: Head

    @classmethod
    def from_proto(cls, resp: ledger_pb2.ImportResponse) -> "ImportOutcome":
        return cls(resp.imported, resp.skipped, Head.from_proto(resp.head))


@dataclass(frozen=True)
class CaughtUp:
    """The catch-up replay is complete: live events follow (sent again after
    each reconnection)."""

    #: Every matching event with id <= position has been delivered.
    position: int
    #: The ledger head when the marker was sent.
    head: Head


@dataclass(frozen=True)
class Heartbeat:
    """Keep-alive while idle; its position counts as delivered too."""

    position: int
    head: Head


@dataclass(frozen=True)
class Reconnecting:
    """The stream broke and is about to be resumed (resilient subscriptions
    only). Informational: no event is lost or repeated."""

    #: Retry number since the last message received (1-based).
    attempt: int
    #: Seconds waited before subscribing again.
    delay: float
    #: The ``after_id`` it resumes from (None: an ``only_new`` subscription
    #: that had not yet received its position).
    resume_after: Optional[int]
    #: What went wrong.
    reason: str


#: One item of a subscription.
SubItem = Union[Event, CaughtUp, Heartbeat, Reconnecting]


@dataclass(frozen=True)
class SectionSize:
    """One section of a context block and its size; the newline that ends
    it counts with it."""

    #: ``header``, ``identity``, ``traits``, ``guidance``, ``metrics``,
    #: ``commitments``, ``reflections`` or ``footer``.
    section: str
    #: The section's own text (a slice of the block).
    text: str
    lines: int
    bytes: int
    chars: int
    tokens: int


@dataclass(frozen=True)
class ContextBreakdown:
    """A context block with its size section by section; the sections make
    up the text and add up to the totals."""

    text: str
    #: ``o200k_base`` or ``cl100k_base``.
    encoding: str
    sections: list[SectionSize]
    bytes: int
    chars: int
    tokens: int
    as_of_id: int

    @classmethod
    def from_proto(cls, resp: mind_pb2.GetContextResponse) -> "ContextBreakdown":
        if not resp.HasField("breakdown"):
            raise protocol_error("GetContext returned no breakdown")
        b = resp.breakdown
        data = resp.text.encode("utf-8")
        sections, start = [], 0
        for s in b.sections:
            end = start + s.bytes
            text = data[start:end].decode("utf-8")
            sections.append(SectionSize(section_name(s.section), text, s.lines, s.bytes, s.chars, s.tokens))
            start = end
        if start != len(data):
            raise protocol_error(f"breakdown covers {start} of {len(data)} bytes")
        return cls(resp.text, encoding_name(b.encoding), sections, b.bytes, b.chars, b.tokens, resp.as_of_id)
