"""``Client``: one gRPC channel carrying the Ledger, Mind, Minds and Health
services, with a typed method per call (the surface of the Rust crate
``pmm-client``). A client addresses one mind (``mind=``, ``with_mind``)."""
from __future__ import annotations

import copy
import time
from typing import Any, Iterable, Iterator, Optional, Sequence, TypeVar, Union, overload

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ._channel import DEFAULT_ADDRESS, DEFAULT_MIND, MIND_HEADER, Metadata, call_metadata, create_channel
from ._errors import PmmError
from ._options import ConnectOptions, ContextOptions, ImportMode, Meta, MetricsOptions, NewEvent, RetryPolicy
from ._subscribe import StreamCall, Subscription
from ._types import (
    AppendOutcome,
    Appended,
    ContextBreakdown,
    Event,
    Head,
    Identity,
    IdentityView,
    ImportOutcome,
    Page,
    Projection,
)
from .v1 import ledger_pb2, ledger_pb2_grpc, mind_pb2, mind_pb2_grpc, minds_pb2, minds_pb2_grpc

__all__ = ["Client"]

_V = TypeVar("_V", ContextOptions, MetricsOptions)

class Client:
    """A pmm client over one channel.

    ``Client(address, options)`` never blocks (the channel connects on first
    use); ``Client.connect`` waits for the connection. Unary calls have the
    default deadline ``options.timeout``; ``with_timeout`` gives a client
    with another one on the same channel. Every failed call raises
    ``PmmError``; arguments refused before any call raise ValueError or
    TypeError. Use it as a context manager, or call ``close()``.

    A client addresses one mind: ``mind`` (else ``options.mind``) is sent
    as the ``pmm-mind`` header with every Ledger and Mind call,
    subscriptions and exports included; None sends none (the server's mind
    ``default``). ``with_mind(name)`` gives a client of another mind on the
    same channel. A name outside the allowed set raises ValueError before
    any call. The Minds administration calls (``create_mind``,
    ``list_minds``, ...) name their mind in the request instead.
    """

    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        options: Optional[ConnectOptions] = None,
        *,
        channel: Optional[grpc.Channel] = None,
        mind: Optional[str] = None,
    ) -> None:
        self.address = address
        self.options = options if options is not None else ConnectOptions()
        # Checked before a channel is made.
        metadata = call_metadata(self.options, mind)
        #: The channel: shared by clients made with ``with_timeout`` and
        #: ``with_mind``.
        self.channel: grpc.Channel = channel if channel is not None else create_channel(address, self.options)
        #: The generated stubs, for calls not wrapped here (pass
        #: ``metadata=client.metadata``; for ``minds``,
        #: ``client.admin_metadata``).
        # grpcio-tools writes no type stubs for the service stubs.
        self.ledger = ledger_pb2_grpc.LedgerStub(self.channel)  # type: ignore[no-untyped-call]
        self.mind = mind_pb2_grpc.MindStub(self.channel)  # type: ignore[no-untyped-call]
        self.minds = minds_pb2_grpc.MindsStub(self.channel)  # type: ignore[no-untyped-call]
        self.health = health_pb2_grpc.HealthStub(self.channel)
        self._timeout = self.options.timeout
        self._metadata = metadata
        # Minds calls ignore the header: only the token.
        self._admin_metadata = tuple((k, v) for k, v in metadata if k != MIND_HEADER)

    @classmethod
    def connect(
        cls, address: str = DEFAULT_ADDRESS, options: Optional[ConnectOptions] = None, *, mind: Optional[str] = None
    ) -> "Client":
        """A client whose connection is up (unless ``options.lazy``); PmmError
        UNAVAILABLE after ``options.connect_timeout`` seconds."""
        client = cls(address, options, mind=mind)
        if client.options.lazy:
            return client
        try:
            grpc.channel_ready_future(client.channel).result(timeout=client.options.connect_timeout)
        except grpc.FutureTimeoutError:
            client.close()
            raise PmmError(
                grpc.StatusCode.UNAVAILABLE,
                f"cannot connect to {address} within {client.options.connect_timeout} s",
            ) from None
        return client

    def with_timeout(self, timeout: Optional[float]) -> "Client":
        """This client with another default deadline (None = none), sharing the
        channel (closing either closes it)."""
        other = copy.copy(self)
        other._timeout = timeout
        return other

    def with_mind(self, mind: Optional[str]) -> "Client":
        """This client addressing ``mind`` (None: no header, the server's
        ``default``), sharing the channel (closing either closes it). A name
        outside the allowed set raises ValueError."""
        other = copy.copy(self)
        other._metadata = call_metadata(self.options, mind) if mind is not None else self._admin_metadata
        return other

    @property
    def timeout(self) -> Optional[float]:
        """The default deadline of unary calls, in seconds."""
        return self._timeout

    @property
    def mind_name(self) -> str:
        """The mind this client addresses (``default`` without the header)."""
        for key, value in self._metadata:
            if key == MIND_HEADER:
                return value
        return DEFAULT_MIND

    @property
    def metadata(self) -> Metadata:
        """The metadata every Ledger and Mind call carries (the token and
        the ``pmm-mind`` header, if any)."""
        return self._metadata

    @property
    def admin_metadata(self) -> Metadata:
        """The metadata every Minds call carries (the token, if any)."""
        return self._admin_metadata

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.address!r}, mind={self.mind_name!r}, timeout={self._timeout})"

    def _unary(
        self,
        method: Any,
        request: Any,
        *,
        timeout: Optional[float] = None,
        metadata: Optional[Metadata] = None,
        **kw: Any,
    ) -> Any:
        """Every unary call goes through here: deadline, metadata, PmmError."""
        try:
            return method(
                request,
                timeout=self._timeout if timeout is None else timeout,
                metadata=self._metadata if metadata is None else metadata,
                **kw,
            )
        except grpc.RpcError as err:
            raise PmmError.from_rpc_error(err) from None

    # ----- health ---------------------------------------------------------

    def health_status(self, service: str = "") -> int:
        """The grpc.health.v1 status (``health_pb2.HealthCheckResponse.SERVING``, ...)."""
        resp = self._unary(self.health.Check, health_pb2.HealthCheckRequest(service=service))
        return int(resp.status)

    def wait_until_serving(self, timeout: float = 10.0, interval: float = 0.05) -> None:
        """Waits until the server reports SERVING (its start-up rebuild is
        done); TimeoutError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        last: object = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.address} not SERVING after {timeout} s (last: {last})")
            try:
                status = self._unary(
                    self.health.Check,
                    health_pb2.HealthCheckRequest(),
                    timeout=min(1.0, remaining),
                    wait_for_ready=True,
                ).status
                if status == health_pb2.HealthCheckResponse.SERVING:
                    return
                last = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
            except PmmError as err:
                last = err
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))

    # ----- Ledger ---------------------------------------------------------

    @overload
    def append(self, event: NewEvent) -> Appended: ...

    @overload
    def append(
        self, event: str, content: str = "", meta: Meta = None, *, idempotency_key: Optional[str] = None
    ) -> Appended: ...

    def append(
        self,
        event: Union[NewEvent, str],
        content: str = "",
        meta: Meta = None,
        *,
        idempotency_key: Optional[str] = None,
    ) -> Appended:
        """Appends one event, given as a ``NewEvent`` or as its kind, content,
        meta and key; returns where it landed."""
        if isinstance(event, NewEvent):
            if content or meta is not None or idempotency_key is not None:
                raise TypeError("append: give a NewEvent or its fields, not both")
            new = event
        else:
            new = NewEvent(event, content, meta, idempotency_key)
        outcome = self.append_batch([new])
        if not outcome.events:
            raise PmmError(grpc.StatusCode.INTERNAL, "unexpected response: Append returned no event")
        return outcome.events[0]

    def append_batch(
        self,
        events: Iterable[NewEvent],
        *,
        expected_last_id: Optional[int] = None,
        context: Union[ContextOptions, bool, None] = None,
        metrics: Union[MetricsOptions, bool, None] = None,
    ) -> AppendOutcome:
        """Appends an atomic batch. ``expected_last_id``: write only if the
        ledger's last id is this (0 = empty), else PmmError ABORTED with the
        head in ``last_id``/``last_hash``. ``context``/``metrics`` (True or
        options): those views as of the write, in the outcome, saving a
        round trip."""
        inputs = []
        for ev in events:
            if not isinstance(ev, NewEvent):
                raise TypeError(f"append_batch: expected NewEvent items, not {type(ev).__name__}")
            inputs.append(ev.to_proto())
        req = ledger_pb2.AppendRequest(events=inputs)
        if expected_last_id is not None:
            req.expected_last_id = expected_last_id
        ctx = _view(context, ContextOptions)
        if ctx is not None:
            req.views.context.CopyFrom(ctx.to_proto())
        met = _view(metrics, MetricsOptions)
        if met is not None:
            req.views.metrics.CopyFrom(met.to_proto())
        return AppendOutcome.from_proto(self._unary(self.ledger.Append, req))

    def read(
        self,
        start_id: Optional[int] = None,
        end_id: Optional[int] = None,
        *,
        backward: bool = False,
        kinds: Sequence[str] = (),
        page_size: int = 0,
    ) -> Page:
        """One page of events. Both ids are inclusive (defaults: the first row,
        or the last one backward; no bound); ``page_size`` 0 = the server's
        default (100)."""
        req = _read_request(start_id, end_id, backward, kinds, page_size)
        return Page.from_proto(self._unary(self.ledger.Read, req))

    def pages(
        self,
        start_id: Optional[int] = None,
        end_id: Optional[int] = None,
        *,
        backward: bool = False,
        kinds: Sequence[str] = (),
        page_size: int = 0,
    ) -> Iterator[Page]:
        """The pages of a range, one ``read`` each, following ``next_start_id``
        until the range is exhausted (as of the last page read)."""
        while True:
            page = self.read(start_id, end_id, backward=backward, kinds=kinds, page_size=page_size)
            yield page
            nxt = page.next_start_id
            # An empty page with a next position, or one pointing at itself,
            # would loop for ever.
            if nxt is None or not page.events or nxt == start_id:
                return
            start_id = nxt

    def read_all(
        self,
        start_id: Optional[int] = None,
        end_id: Optional[int] = None,
        *,
        backward: bool = False,
        kinds: Sequence[str] = (),
        page_size: int = 0,
    ) -> Iterator[Event]:
        """Every event of a range, page after page (see ``pages``)."""
        for page in self.pages(start_id, end_id, backward=backward, kinds=kinds, page_size=page_size):
            yield from page.events

    def get_event(self, event_id: int) -> Event:
        """One event by id (PmmError NOT_FOUND if there is none)."""
        resp = self._unary(self.ledger.GetEvent, ledger_pb2.GetEventRequest(id=event_id))
        if not resp.HasField("event"):
            raise PmmError(grpc.StatusCode.INTERNAL, "unexpected response: GetEvent returned no event")
        return Event.from_proto(resp.event)

    def head(self) -> Head:
        return Head.from_proto(self._unary(self.ledger.Head, ledger_pb2.HeadRequest()))

    def subscribe(
        self,
        *,
        after_id: Optional[int] = None,
        only_new: bool = False,
        kinds: Sequence[str] = (),
        heartbeat: Optional[float] = None,
    ) -> Subscription:
        """A subscription without reconnection: its first failure is raised by
        ``next``. Starts from the first event (default), after ``after_id``
        (exclusive) or with ``only_new`` events; ``heartbeat``: seconds
        between heartbeats while idle (None = the server's 5 s, 0 = none)."""
        return self.subscribe_resilient(
            after_id=after_id, only_new=only_new, kinds=kinds, heartbeat=heartbeat, retry=RetryPolicy.never()
        )

    def subscribe_resilient(
        self,
        *,
        after_id: Optional[int] = None,
        only_new: bool = False,
        kinds: Sequence[str] = (),
        heartbeat: Optional[float] = None,
        retry: RetryPolicy = RetryPolicy(),
    ) -> Subscription:
        """A subscription that resumes after a dropped connection or a server
        restart from the last position delivered, with no gap and no
        duplicate; each resumption is announced by a ``Reconnecting`` item.
        Errors that are not transient, or ``retry.max_attempts`` failures in
        a row, end it (raised by ``next``)."""
        return Subscription(
            self._open_subscribe,
            after_id=after_id,
            only_new=only_new,
            kinds=kinds,
            heartbeat=heartbeat,
            retry=retry,
        )

    def _open_subscribe(self, request: ledger_pb2.SubscribeRequest) -> StreamCall:
        call: StreamCall = self.ledger.Subscribe(request, metadata=self._metadata)
        return call

    def verify_chain(self) -> ledger_pb2.VerifyChainResponse:
        """Walks the hash chain; O(ledger size): consider ``with_timeout(None)``."""
        resp: ledger_pb2.VerifyChainResponse = self._unary(self.ledger.VerifyChain, ledger_pb2.VerifyChainRequest())
        return resp

    def stats(self) -> ledger_pb2.StatsResponse:
        """Server and ledger statistics, with the limits in force."""
        resp: ledger_pb2.StatsResponse = self._unary(self.ledger.Stats, ledger_pb2.StatsRequest())
        return resp

    def import_rows(
        self, rows: Iterable[Union[Event, ledger_pb2.Event]], mode: ImportMode = ImportMode.VERIFY
    ) -> ImportOutcome:
        """Imports one batch of complete rows (atomic; rows already stored
        identically are skipped, so an interrupted import can be re-run)."""
        wire = [row.to_proto() if isinstance(row, Event) else row for row in rows]
        req = ledger_pb2.ImportRequest(rows=wire, mode=mode.value)
        return ImportOutcome.from_proto(self._unary(self.ledger.Import, req))

    def export(
        self, *, start_id: Optional[int] = None, end_id: Optional[int] = None, chunk_size: int = 0
    ) -> Iterator[list[Event]]:
        """Stored rows exactly as stored, in id order, a chunk (``chunk_size``
        rows, 0 = 1000) at a time; the range defaults to the whole ledger as
        of the call. No deadline; leaving the loop early cancels the stream."""
        req = ledger_pb2.ExportRequest(chunk_size=chunk_size)
        if start_id is not None:
            req.start_id = start_id
        if end_id is not None:
            req.end_id = end_id
        call = self.ledger.Export(req, metadata=self._metadata)
        try:
            for chunk in call:
                yield [Event.from_proto(row) for row in chunk.rows]
        except grpc.RpcError as err:
            raise PmmError.from_rpc_error(err) from None
        finally:
            call.cancel()

    # ----- Mind -----------------------------------------------------------

    def get_projection(
        self,
        *,
        strict: bool = False,
        as_of_id: Optional[int] = None,
        expired_limit: Optional[int] = None,
        expired_skip: int = 0,
        warnings_limit: Optional[int] = None,
        warnings_skip: int = 0,
    ) -> Projection:
        """The self-model. Expired commitments and warnings: the latest
        ``*_limit`` (server default 20) after leaving out the latest
        ``*_skip``; ``expired_total``/``warnings_total`` count them all."""
        req = mind_pb2.GetProjectionRequest(strict=strict, expired_skip=expired_skip, warnings_skip=warnings_skip)
        if as_of_id is not None:
            req.as_of_id = as_of_id
        if expired_limit is not None:
            req.expired_limit = expired_limit
        if warnings_limit is not None:
            req.warnings_limit = warnings_limit
        return Projection.from_proto(self._unary(self.mind.GetProjection, req))

    def get_identity(self, *, as_of_id: Optional[int] = None) -> IdentityView:
        """Name and traits."""
        req = mind_pb2.GetIdentityRequest()
        if as_of_id is not None:
            req.as_of_id = as_of_id
        resp = self._unary(self.mind.GetIdentity, req)
        return IdentityView(Identity.from_proto(resp.identity if resp.HasField("identity") else None), resp.as_of_id)

    def get_directives(
        self, *, active_only: bool = False, as_of_id: Optional[int] = None
    ) -> mind_pb2.GetDirectivesResponse:
        """The directives and the active set (only the latter if ``active_only``)."""
        req = mind_pb2.GetDirectivesRequest(active_only=active_only)
        if as_of_id is not None:
            req.as_of_id = as_of_id
        resp: mind_pb2.GetDirectivesResponse = self._unary(self.mind.GetDirectives, req)
        return resp

    def get_metrics(
        self, *, include_diagnosis: bool = False, as_of_id: Optional[int] = None
    ) -> mind_pb2.GetMetricsResponse:
        """IAS, GAS, the stage and, when asked, the diagnosis."""
        req = MetricsOptions(include_diagnosis, as_of_id).to_proto()
        resp: mind_pb2.GetMetricsResponse = self._unary(self.mind.GetMetrics, req)
        return resp

    def get_context(
        self,
        *,
        compact: bool = False,
        n_reflections: Optional[int] = None,
        max_commitment_chars: Optional[int] = None,
        max_reflection_chars: Optional[int] = None,
        tail: Optional[int] = None,
        as_of_id: Optional[int] = None,
        breakdown: bool = False,
        encoding: Optional[str] = None,
    ) -> mind_pb2.GetContextResponse:
        """The context block (``.text``) and, with ``breakdown``, its size
        section by section (``.breakdown``: bytes, code points and tokens of
        ``encoding``, default o200k_base); see ``ContextOptions`` and
        ``context_breakdown``."""
        req = ContextOptions(
            compact, n_reflections, max_commitment_chars, max_reflection_chars, tail, as_of_id, breakdown, encoding
        ).to_proto()
        resp: mind_pb2.GetContextResponse = self._unary(self.mind.GetContext, req)
        return resp

    def context_breakdown(
        self, *, encoding: Optional[str] = None, compact: bool = False, as_of_id: Optional[int] = None
    ) -> ContextBreakdown:
        """The context block's size section by section, as plain values."""
        resp = self.get_context(compact=compact, as_of_id=as_of_id, breakdown=True, encoding=encoding)
        return ContextBreakdown.from_proto(resp)

    def get_metrics_history(
        self,
        *,
        from_id: Optional[int] = None,
        to_id: Optional[int] = None,
        points: Optional[int] = None,
        every: Optional[int] = None,
    ) -> mind_pb2.GetMetricsHistoryResponse:
        """IAS, GAS and the stage as the ledger grew: ``points`` evenly spaced
        ids (server default 100) or one every ``every`` ids, from ``from_id``
        (default 1) to ``to_id`` (default the head; the last point is there).
        Each point equals ``get_metrics(as_of_id=point.as_of_id)``. One replay
        on the server, O(to_id)."""
        if points is not None and every is not None:
            raise ValueError("get_metrics_history: give points or every, not both")
        req = mind_pb2.GetMetricsHistoryRequest()
        for name, value in (("from_id", from_id), ("to_id", to_id), ("points", points), ("every", every)):
            if value is not None:
                setattr(req, name, value)
        resp: mind_pb2.GetMetricsHistoryResponse = self._unary(self.mind.GetMetricsHistory, req)
        return resp

    def embed(self, text: str) -> mind_pb2.EmbedResponse:
        """The deterministic embedding of a text."""
        resp: mind_pb2.EmbedResponse = self._unary(self.mind.Embed, mind_pb2.EmbedRequest(text=text))
        return resp

    def search(self, query: str, *, top_k: int = 0, kinds: Sequence[str] = ()) -> mind_pb2.SearchResponse:
        """The events most similar to ``query`` (``top_k`` 0 = 10)."""
        req = mind_pb2.SearchRequest(query=query, top_k=top_k, kinds=list(kinds))
        resp: mind_pb2.SearchResponse = self._unary(self.mind.Search, req)
        return resp

    # ----- Minds (administration; the admin role) -------------------------

    def _admin(self, method: Any, request: Any, timeout: Optional[float] = None) -> Any:
        return self._unary(method, request, timeout=timeout, metadata=self._admin_metadata)

    def create_mind(self, name: str) -> minds_pb2.MindInfo:
        """Creates the empty mind ``name`` (PmmError ALREADY_EXISTS if it
        exists; FAILED_PRECONDITION from a server serving one file)."""
        resp: minds_pb2.MindInfo = self._admin(self.minds.CreateMind, minds_pb2.CreateMindRequest(name=name))
        return resp

    def get_mind(self, name: str) -> minds_pb2.MindInfo:
        """What the mind ``name`` holds: events, last id and hash, bytes on
        disk, whether it is open and its memory (PmmError NOT_FOUND if the
        server has no such mind)."""
        resp: minds_pb2.MindInfo = self._admin(self.minds.GetMind, minds_pb2.GetMindRequest(name=name))
        return resp

    def list_minds(self, *, page_size: int = 0, page_token: str = "") -> minds_pb2.ListMindsResponse:
        """One page of the minds, in name order: ``page_size`` names (0 = the
        server's default, 100; at most 1000) after the page whose
        ``next_page_token`` is ``page_token`` (empty: the first page)."""
        req = minds_pb2.ListMindsRequest(page_size=page_size, page_token=page_token)
        resp: minds_pb2.ListMindsResponse = self._admin(self.minds.ListMinds, req)
        return resp

    def minds_pages(self, *, page_size: int = 0) -> Iterator[minds_pb2.ListMindsResponse]:
        """The pages of the minds listing, one ``list_minds`` call each,
        following ``next_page_token`` until a page has none (a token handed
        back twice raises PmmError INTERNAL rather than looping)."""
        token = ""
        seen: set[str] = set()
        while True:
            page = self.list_minds(page_size=page_size, page_token=token)
            yield page
            if not page.next_page_token:
                return
            seen.add(token)
            if page.next_page_token in seen:
                raise PmmError(
                    grpc.StatusCode.INTERNAL,
                    f"unexpected response: ListMinds gave the page token {page.next_page_token!r} twice",
                )
            token = page.next_page_token

    def list_all_minds(self, *, page_size: int = 0) -> list[minds_pb2.MindEntry]:
        """Every mind on the server (name, bytes, open), in name order, from
        all the pages."""
        return [entry for page in self.minds_pages(page_size=page_size) for entry in page.minds]

    def delete_mind(self, name: str, *, confirm: str) -> minds_pb2.DeleteMindResponse:
        """Deletes the mind ``name``: the server closes it (its
        subscriptions end UNAVAILABLE, queued appends are written first) and
        moves its folder to the data directory's trash; ``.trash_path`` says
        where. ``confirm`` must repeat the name (PmmError
        FAILED_PRECONDITION otherwise, nothing deleted); ``default`` cannot
        be deleted."""
        req = minds_pb2.DeleteMindRequest(name=name, confirm=confirm)
        resp: minds_pb2.DeleteMindResponse = self._admin(self.minds.DeleteMind, req)
        return resp

    def backup_mind(
        self, name: str, path: Optional[str] = None, *, timeout: Optional[float] = None
    ) -> minds_pb2.BackupMindResponse:
        """A consistent copy of the mind ``name``'s ledger while it is served
        (SQLite's online backup), written on the server under its
        ``--backup-dir``: at ``path`` relative to it (no "..", not absolute),
        by default ``<name>/<UTC time>.db``. PmmError ALREADY_EXISTS if the
        file exists. ``timeout`` overrides the default deadline (a big mind
        takes as long as copying its file)."""
        req = minds_pb2.BackupMindRequest(name=name, path=path or "")
        resp: minds_pb2.BackupMindResponse = self._admin(self.minds.BackupMind, req, timeout)
        return resp



def _view(value: Union[_V, bool, None], cls: type[_V]) -> Optional[_V]:
    """An append view option: True = the defaults, options as given."""
    if value is None or value is False:
        return None
    if value is True:
        return cls()
    if isinstance(value, cls):
        return value
    raise TypeError(f"expected {cls.__name__} or a bool, not {type(value).__name__}")


def _read_request(
    start_id: Optional[int], end_id: Optional[int], backward: bool, kinds: Sequence[str], page_size: int
) -> ledger_pb2.ReadRequest:
    req = ledger_pb2.ReadRequest(
        direction=ledger_pb2.READ_DIRECTION_BACKWARD if backward else ledger_pb2.READ_DIRECTION_FORWARD,
        kinds=list(kinds),
        limit=page_size,
    )
    if start_id is not None:
        req.start_id = start_id
    if end_id is not None:
        req.end_id = end_id
    return req
