"""A small Python client for pmm, the hash-chained event ledger (pmm.v1 over gRPC).

The messages and stubs are generated from ../../proto by generate.py into
./generated (run it once after installing requirements.txt); this module adds
what makes them pleasant from Python:

- ``PmmClient``: one channel with the Ledger, Mind and Health stubs, a default
  deadline on every unary call, keyword arguments instead of request messages,
  ``meta`` accepted as a dict (sent as compact JSON text), and ``PmmError``
  instead of a bare ``grpc.RpcError``.
- ``Subscription``: a live Subscribe stream read on a background thread, so
  that ``next(timeout=...)`` never blocks forever; usable as an iterator and a
  context manager (which cancels the stream).

Example::

    from pmm_client import PmmClient, event

    with PmmClient("127.0.0.1:50051") as pmm:
        pmm.wait_until_serving()
        pmm.append([event("identity_adopt", "Echo", {"confidence": 0.95})])
        print(pmm.context().text)
        with pmm.subscribe(only_new=True) as sub:
            for msg in sub:
                if msg.HasField("event"):
                    print(msg.event.id, msg.event.kind, msg.event.content)

Responses are the generated protobuf messages (``pmm.v1.*``); the proto files
document every field. JSON-valued fields (``meta``, ``open_json``,
``expired_json``) are strings: decode them with ``meta_of`` / ``json.loads``.
"""
from __future__ import annotations

import json
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence, Union

_GENERATED = Path(__file__).resolve().parent / "generated"
if _GENERATED.is_dir() and str(_GENERATED) not in sys.path:
    sys.path.insert(0, str(_GENERATED))

import grpc  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402

try:
    from pmm.v1 import ledger_pb2, ledger_pb2_grpc, mind_pb2, mind_pb2_grpc  # noqa: E402
except ModuleNotFoundError as exc:  # pragma: no cover - set-up error
    raise ImportError(
        "pmm.v1 stubs not found: run `python client/python/generate.py` first"
    ) from exc

__all__ = [
    "PmmClient",
    "PmmError",
    "Subscription",
    "event",
    "meta_of",
    "ledger_pb2",
    "mind_pb2",
]

DEFAULT_TARGET = "127.0.0.1:50051"

Meta = Union[None, str, Mapping[str, Any]]
EventLike = Union[ledger_pb2.EventInput, Mapping[str, Any], Sequence[Any]]


class PmmError(Exception):
    """A failed pmm call: the gRPC status code, its message and trailers.

    ``details`` is the server's message, e.g. ``events[0].meta: not a JSON
    object``; for ABORTED (``expected_last_id`` mismatch) and
    FAILED_PRECONDITION (import conflict) ``last_id``/``last_hash`` give the
    current head from the ``pmm-last-id``/``pmm-last-hash`` trailers.
    """

    def __init__(self, code: grpc.StatusCode, details: str, trailers: Optional[Mapping[str, str]] = None):
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details
        self.trailers = dict(trailers or {})

    @classmethod
    def from_rpc_error(cls, err: grpc.RpcError) -> "PmmError":
        code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
        details = (err.details() if hasattr(err, "details") else None) or ""
        trailers: dict[str, str] = {}
        md = err.trailing_metadata() if hasattr(err, "trailing_metadata") else None
        for key, value in md or ():
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            trailers[key] = value
        return cls(code or grpc.StatusCode.UNKNOWN, details, trailers)

    @property
    def last_id(self) -> Optional[int]:
        value = self.trailers.get("pmm-last-id")
        return int(value) if value not in (None, "") else None

    @property
    def last_hash(self) -> Optional[str]:
        return self.trailers.get("pmm-last-hash") or None


def _meta_text(meta: Meta) -> str:
    if meta is None:
        return ""
    if isinstance(meta, str):
        return meta  # sent exactly as given: the server stores the text verbatim
    return json.dumps(meta, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def event(kind: str, content: str = "", meta: Meta = None, idempotency_key: str = "") -> ledger_pb2.EventInput:
    """An event to append. ``meta`` is a dict (sent as compact JSON), a JSON
    text (sent verbatim, key order and spelling kept), or None for ``{}``."""
    return ledger_pb2.EventInput(
        kind=kind, content=content, meta=_meta_text(meta), idempotency_key=idempotency_key
    )


def _as_event(value: EventLike) -> ledger_pb2.EventInput:
    if isinstance(value, ledger_pb2.EventInput):
        return value
    if isinstance(value, Mapping):
        return event(**value)
    return event(*value)


def meta_of(ev: Any) -> dict:
    """The meta object of an Event (or anything with a ``meta`` JSON text)."""
    return json.loads(ev.meta or "{}")


def _view_request(value: Any, cls: type) -> Any:
    if value is None or value is False:
        return None
    if value is True:
        return cls()
    if isinstance(value, Mapping):
        return cls(**value)
    return value


class Subscription:
    """A live Subscribe stream, read on a background thread.

    Each item is a ``SubscribeResponse`` with exactly one of ``event``,
    ``caught_up`` or ``heartbeat`` set. ``next(timeout)`` waits at most
    ``timeout`` seconds (TimeoutError), returns None once the stream has ended
    or was cancelled, and raises PmmError if the server ended it with an error
    (e.g. UNAVAILABLE on shutdown: resume with ``after_id`` = ``position``).
    ``position`` is the last event id, caught_up or heartbeat position seen.
    """

    _END = object()

    def __init__(self, call: Any):
        self._call = call
        self._queue: "queue.Queue[Any]" = queue.Queue()
        self._cancelled = False
        self._done = False
        self.position: Optional[int] = None
        self._thread = threading.Thread(target=self._pump, name="pmm-subscription", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            for item in self._call:
                self._queue.put(item)
            self._queue.put(self._END)
        except grpc.RpcError as err:
            if self._cancelled and err.code() == grpc.StatusCode.CANCELLED:
                self._queue.put(self._END)
            else:
                self._queue.put(PmmError.from_rpc_error(err))

    def next(self, timeout: Optional[float] = None) -> Optional[ledger_pb2.SubscribeResponse]:
        if self._done:
            return None
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no subscription message within {timeout} s") from None
        if item is self._END:
            self._done = True
            return None
        if isinstance(item, PmmError):
            self._done = True
            raise item
        which = item.WhichOneof("item")
        if which == "event":
            self.position = item.event.id
        elif which == "caught_up":
            self.position = item.caught_up.position
        elif which == "heartbeat":
            self.position = item.heartbeat.position
        return item

    def __iter__(self) -> Iterator[ledger_pb2.SubscribeResponse]:
        while True:
            item = self.next()
            if item is None:
                return
            yield item

    def cancel(self, join_timeout: float = 5.0) -> None:
        """Cancel the stream (idempotent) and wait for the reader thread."""
        self._cancelled = True
        self._call.cancel()
        self._thread.join(join_timeout)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cancel()


class PmmClient:
    """A pmm client over one plaintext gRPC channel.

    ``timeout`` is the default deadline, in seconds, of every unary call
    (override per call with ``timeout=``). Use as a context manager or call
    ``close()``.
    """

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        timeout: float = 10.0,
        options: Optional[Sequence[tuple]] = None,
        channel: Optional[grpc.Channel] = None,
    ):
        self.target = target
        self.timeout = timeout
        self.channel = channel if channel is not None else grpc.insecure_channel(target, options=options)
        self.ledger = ledger_pb2_grpc.LedgerStub(self.channel)
        self.mind = mind_pb2_grpc.MindStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    # -- plumbing ---------------------------------------------------------

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "PmmClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _unary(self, method: Any, request: Any, timeout: Optional[float], **kw: Any) -> Any:
        try:
            return method(request, timeout=self.timeout if timeout is None else timeout, **kw)
        except grpc.RpcError as err:
            raise PmmError.from_rpc_error(err) from None

    # -- health -----------------------------------------------------------

    def health_status(self, service: str = "", timeout: Optional[float] = None) -> int:
        """The grpc.health.v1 status (``health_pb2.HealthCheckResponse.SERVING``, …)."""
        resp = self._unary(self.health.Check, health_pb2.HealthCheckRequest(service=service), timeout)
        return resp.status

    def wait_until_serving(self, timeout: float = 10.0, interval: float = 0.05) -> None:
        """Wait until the server reports SERVING (its start-up rebuild is done).

        Raises TimeoutError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.target} not SERVING after {timeout} s (last: {last})")
            try:
                status = self._unary(
                    self.health.Check,
                    health_pb2.HealthCheckRequest(),
                    min(1.0, remaining),
                    wait_for_ready=True,
                ).status
                if status == health_pb2.HealthCheckResponse.SERVING:
                    return
                last = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
            except PmmError as err:
                last = err
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))

    # -- Ledger -----------------------------------------------------------

    def append(
        self,
        events: Iterable[EventLike],
        *,
        expected_last_id: Optional[int] = None,
        context: Any = None,
        metrics: Any = None,
        timeout: Optional[float] = None,
    ) -> ledger_pb2.AppendResponse:
        """Append events atomically (``event(...)``, dicts of its arguments or
        (kind, content, meta) tuples). ``context``/``metrics``: True, a dict of
        request fields or a request message to get those views as of the
        write in ``response.views``."""
        req = ledger_pb2.AppendRequest(events=[_as_event(e) for e in events])
        if expected_last_id is not None:
            req.expected_last_id = expected_last_id
        ctx = _view_request(context, mind_pb2.GetContextRequest)
        met = _view_request(metrics, mind_pb2.GetMetricsRequest)
        if ctx is not None:
            req.views.context.CopyFrom(ctx)
        if met is not None:
            req.views.metrics.CopyFrom(met)
        return self._unary(self.ledger.Append, req, timeout)

    def append_one(
        self, kind: str, content: str = "", meta: Meta = None, idempotency_key: str = "", **kw: Any
    ) -> ledger_pb2.AppendedEvent:
        """Append one event; returns where it landed (id, ts, hash, …)."""
        return self.append([event(kind, content, meta, idempotency_key)], **kw).events[0]

    def read(
        self,
        start_id: Optional[int] = None,
        end_id: Optional[int] = None,
        *,
        backward: bool = False,
        kinds: Sequence[str] = (),
        limit: int = 0,
        timeout: Optional[float] = None,
    ) -> ledger_pb2.ReadResponse:
        """One page of events; both ids inclusive; ``limit`` 0 = server default (100)."""
        req = ledger_pb2.ReadRequest(
            direction=ledger_pb2.READ_DIRECTION_BACKWARD if backward else ledger_pb2.READ_DIRECTION_FORWARD,
            kinds=list(kinds),
            limit=limit,
        )
        if start_id is not None:
            req.start_id = start_id
        if end_id is not None:
            req.end_id = end_id
        return self._unary(self.ledger.Read, req, timeout)

    def iter_events(
        self,
        start_id: Optional[int] = None,
        end_id: Optional[int] = None,
        *,
        backward: bool = False,
        kinds: Sequence[str] = (),
        page_size: int = 1000,
    ) -> Iterator[ledger_pb2.Event]:
        """Every matching event in the range, paging with ``next_start_id``."""
        while True:
            page = self.read(start_id, end_id, backward=backward, kinds=kinds, limit=page_size)
            yield from page.events
            if not page.HasField("next_start_id"):
                return
            start_id = page.next_start_id

    def get_event(self, event_id: int, *, timeout: Optional[float] = None) -> ledger_pb2.Event:
        return self._unary(self.ledger.GetEvent, ledger_pb2.GetEventRequest(id=event_id), timeout).event

    def head(self, *, timeout: Optional[float] = None) -> ledger_pb2.LedgerHead:
        return self._unary(self.ledger.Head, ledger_pb2.HeadRequest(), timeout)

    def subscribe(
        self,
        *,
        after_id: Optional[int] = None,
        only_new: bool = False,
        kinds: Sequence[str] = (),
        heartbeat_ms: Optional[int] = None,
        timeout: Optional[float] = None,
    ) -> Subscription:
        """A live subscription: from the start (default), after ``after_id``
        (exclusive) or ``only_new``. ``timeout`` (seconds) is a deadline for
        the whole stream; None = no deadline (cancel it yourself)."""
        req = ledger_pb2.SubscribeRequest(kinds=list(kinds))
        if after_id is not None and only_new:
            raise ValueError("give after_id or only_new, not both")
        if after_id is not None:
            req.after_id = after_id
        elif only_new:
            req.only_new = True
        else:
            req.from_start = True
        if heartbeat_ms is not None:
            req.heartbeat_ms = heartbeat_ms
        return Subscription(self.ledger.Subscribe(req, timeout=timeout))

    def verify_chain(self, *, timeout: Optional[float] = None) -> ledger_pb2.VerifyChainResponse:
        return self._unary(self.ledger.VerifyChain, ledger_pb2.VerifyChainRequest(), timeout)

    def stats(self, *, timeout: Optional[float] = None) -> ledger_pb2.StatsResponse:
        return self._unary(self.ledger.Stats, ledger_pb2.StatsRequest(), timeout)

    # -- Mind -------------------------------------------------------------

    def projection(
        self,
        *,
        strict: bool = False,
        as_of_id: Optional[int] = None,
        expired_limit: Optional[int] = None,
        expired_skip: int = 0,
        warnings_limit: Optional[int] = None,
        warnings_skip: int = 0,
        timeout: Optional[float] = None,
    ) -> mind_pb2.GetProjectionResponse:
        """The self-model. Expired commitments and warnings: the latest
        `*_limit` (server default 20) after leaving out the latest `*_skip`;
        `expired_total` / `warnings_total` count them all."""
        req = mind_pb2.GetProjectionRequest(
            strict=strict, expired_skip=expired_skip, warnings_skip=warnings_skip
        )
        if as_of_id is not None:
            req.as_of_id = as_of_id
        if expired_limit is not None:
            req.expired_limit = expired_limit
        if warnings_limit is not None:
            req.warnings_limit = warnings_limit
        return self._unary(self.mind.GetProjection, req, timeout)

    def identity(
        self, *, as_of_id: Optional[int] = None, timeout: Optional[float] = None
    ) -> mind_pb2.GetIdentityResponse:
        req = mind_pb2.GetIdentityRequest()
        if as_of_id is not None:
            req.as_of_id = as_of_id
        return self._unary(self.mind.GetIdentity, req, timeout)

    def directives(
        self, *, active_only: bool = False, as_of_id: Optional[int] = None, timeout: Optional[float] = None
    ) -> mind_pb2.GetDirectivesResponse:
        req = mind_pb2.GetDirectivesRequest(active_only=active_only)
        if as_of_id is not None:
            req.as_of_id = as_of_id
        return self._unary(self.mind.GetDirectives, req, timeout)

    def metrics(
        self, *, include_diagnosis: bool = False, as_of_id: Optional[int] = None, timeout: Optional[float] = None
    ) -> mind_pb2.GetMetricsResponse:
        req = mind_pb2.GetMetricsRequest(include_diagnosis=include_diagnosis)
        if as_of_id is not None:
            req.as_of_id = as_of_id
        return self._unary(self.mind.GetMetrics, req, timeout)

    def context(
        self,
        *,
        compact: bool = False,
        n_reflections: Optional[int] = None,
        max_commitment_chars: Optional[int] = None,
        max_reflection_chars: Optional[int] = None,
        tail: Optional[int] = None,
        as_of_id: Optional[int] = None,
        timeout: Optional[float] = None,
    ) -> mind_pb2.GetContextResponse:
        """The context block (``.text``); unset parameters take the server's defaults."""
        req = mind_pb2.GetContextRequest(
            layout=mind_pb2.CONTEXT_LAYOUT_COMPACT if compact else mind_pb2.CONTEXT_LAYOUT_STANDARD
        )
        for name, value in (
            ("n_reflections", n_reflections),
            ("max_commitment_chars", max_commitment_chars),
            ("max_reflection_chars", max_reflection_chars),
            ("tail", tail),
            ("as_of_id", as_of_id),
        ):
            if value is not None:
                setattr(req, name, value)
        return self._unary(self.mind.GetContext, req, timeout)

    def embed(self, text: str, *, timeout: Optional[float] = None) -> mind_pb2.EmbedResponse:
        return self._unary(self.mind.Embed, mind_pb2.EmbedRequest(text=text), timeout)

    def search(
        self, query: str, *, top_k: int = 0, kinds: Sequence[str] = (), timeout: Optional[float] = None
    ) -> mind_pb2.SearchResponse:
        req = mind_pb2.SearchRequest(query=query, top_k=top_k, kinds=list(kinds))
        return self._unary(self.mind.Search, req, timeout)
