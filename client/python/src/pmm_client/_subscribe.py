"""Subscriptions, plain or resilient.

A ``Subscription`` reads one ``Subscribe`` stream at a time on a background
thread, so that ``next(timeout=...)`` never blocks for ever. A resilient one
(``Client.subscribe_resilient``), when the connection drops, the server shuts
down (the stream ends with UNAVAILABLE), the stream ends unexpectedly or a
live stream stays silent past three heartbeat intervals, waits (bounded
exponential backoff) and subscribes again with ``after_id`` = the last
position it delivered: the last event's id, or a later ``caught_up`` or
heartbeat position. The consumer sees every matching event once, in id
order: no gap, no duplicate (events at or below the position already
delivered are dropped, should a server repeat them). The reconnection runs
in the consumer's ``next`` call, as the Rust client's stream does in its
``poll``: nothing happens behind the caller's back but reading.
"""
from __future__ import annotations

import queue
import threading
import time
from typing import Any, Callable, Iterator, Optional, Protocol, Sequence, Union

import grpc

from ._errors import PmmError
from ._options import RetryPolicy
from ._types import CaughtUp, Event, Head, Heartbeat, Reconnecting, SubItem
from .v1 import ledger_pb2

__all__ = ["Subscription", "idle_limit"]

#: Longest wait for the server to answer a Subscribe call (its headers).
OPEN_TIMEOUT = 30.0
#: The server's heartbeat interval when none is asked for (seconds).
DEFAULT_HEARTBEAT = 5.0
#: Messages read ahead of the consumer; beyond, the reader waits (and the
#: server, further behind, reads from SQLite).
_READ_AHEAD = 1024


def idle_limit(heartbeat: Optional[float]) -> Optional[float]:
    """How long a live stream may stay silent before its connection is taken
    for dead: three heartbeat intervals (as the server clamps them) and a
    second; None when heartbeats are off."""
    every = DEFAULT_HEARTBEAT if heartbeat is None else heartbeat
    if every <= 0:
        return None
    return min(max(every, 0.1), 3600.0) * 3 + 1.0


class StreamCall(Protocol):
    """What ``ledger.Subscribe`` returns (a grpc call), as used here."""

    def __iter__(self) -> Iterator[ledger_pb2.SubscribeResponse]: ...

    def cancel(self) -> bool: ...

    def initial_metadata(self) -> Any: ...


#: Opens one Subscribe stream.
Opener = Callable[[ledger_pb2.SubscribeRequest], StreamCall]


class Cursor:
    """The resume position: every matching event up to it was delivered."""

    def __init__(self, after_id: Optional[int], only_new: bool) -> None:
        #: None for an ``only_new`` subscription that has not learnt it yet.
        self.position: Optional[int] = None if only_new else (after_id or 0)

    def request(self, kinds: Sequence[str], heartbeat_ms: Optional[int]) -> ledger_pb2.SubscribeRequest:
        req = ledger_pb2.SubscribeRequest(kinds=list(kinds))
        if self.position is None:
            req.only_new = True
        else:
            req.after_id = self.position
        if heartbeat_ms is not None:
            req.heartbeat_ms = heartbeat_ms
        return req

    def admit(self, item: SubItem) -> bool:
        """Records an item; False when it must not be delivered (an event at
        or below the position already delivered). A position never moves back."""
        if isinstance(item, Event):
            if self.position is not None and item.id <= self.position:
                return False
            self.position = item.id
        elif isinstance(item, (CaughtUp, Heartbeat)):
            self.position = item.position if self.position is None else max(self.position, item.position)
        return True


def decode(resp: ledger_pb2.SubscribeResponse) -> Optional[SubItem]:
    """One stream message as an item; None for an empty one."""
    which = resp.WhichOneof("item")
    if which == "event":
        return Event.from_proto(resp.event)
    if which == "caught_up":
        return CaughtUp(resp.caught_up.position, Head.from_proto(resp.caught_up.head))
    if which == "heartbeat":
        return Heartbeat(resp.heartbeat.position, Head.from_proto(resp.heartbeat.head))
    return None


class _Opened:
    """Reader marker: the server answered the call (its headers came)."""


class _Ended:
    """Reader marker: the stream ended without an error status."""


_Read = Union[ledger_pb2.SubscribeResponse, _Opened, _Ended, PmmError, BaseException]


class _Wire:
    """One Subscribe call, read on its own daemon thread into a bounded queue.
    Each call has its own queue, so nothing of a dropped call can leak into
    the next one."""

    def __init__(self, call: StreamCall) -> None:
        self.call = call
        self.queue: "queue.Queue[_Read]" = queue.Queue(_READ_AHEAD)
        self._stopped = threading.Event()
        self.opened_at = time.monotonic()
        self.thread = threading.Thread(target=self._read, name="pmm-subscribe", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            self.call.initial_metadata()
            self._put(_Opened())
            for message in self.call:
                if not self._put(message):
                    return
            self._put(_Ended())
        except grpc.RpcError as err:
            self._put(PmmError.from_rpc_error(err))
        except BaseException as err:  # handed to the consumer, never lost on this thread
            self._put(err)

    def _put(self, item: _Read) -> bool:
        while not self._stopped.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def stop(self, join_timeout: float = 5.0) -> None:
        self._stopped.set()
        self.call.cancel()
        try:  # wakes a consumer blocked on this queue
            self.queue.put_nowait(_Ended())
        except queue.Full:
            pass
        if threading.current_thread() is not self.thread:
            self.thread.join(join_timeout)


class Subscription:
    """A live subscription: ``Event`` items in id order, a ``CaughtUp`` when the
    replay is done, ``Heartbeat`` while idle and, if resilient,
    ``Reconnecting`` before each resumption.

    ``next(timeout)`` waits at most ``timeout`` seconds (then TimeoutError,
    and the subscription stays usable), returns None once it is cancelled or
    over, and raises ``PmmError`` for the failure that ended it. Iterating
    blocks without a limit. ``position`` is the resume point. Use it as a
    context manager, or call ``cancel()``.
    """

    def __init__(
        self,
        open_call: Opener,
        *,
        after_id: Optional[int] = None,
        only_new: bool = False,
        kinds: Sequence[str] = (),
        heartbeat: Optional[float] = None,
        retry: RetryPolicy = RetryPolicy.never(),
    ) -> None:
        if after_id is not None and only_new:
            raise ValueError("give after_id or only_new, not both")
        if after_id is not None and after_id < 0:
            raise ValueError("after_id: must be >= 0")
        self._open = open_call
        self._cursor = Cursor(after_id, only_new)
        self._kinds = list(kinds)
        self._heartbeat_ms = None if heartbeat is None else min(max(round(heartbeat * 1000), 0), 2**32 - 1)
        self._idle_limit = idle_limit(heartbeat)
        self.retry = retry
        self._lock = threading.Lock()
        self._wire: Optional[_Wire] = None
        self._opened = False
        self._live = False
        self._last_message = 0.0
        self._attempt = 0
        self._resume_at: Optional[float] = None
        self._cancelled = threading.Event()
        self._done = False

    @property
    def position(self) -> Optional[int]:
        """Every matching event with id <= position was delivered; None for an
        ``only_new`` subscription before its ``CaughtUp``."""
        return self._cursor.position

    def next(self, timeout: Optional[float] = None) -> Optional[SubItem]:
        """The next item; see the class documentation."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._done or self._cancelled.is_set():
                self._done = True
                return None
            wire = self._wire
            if wire is None:
                if not self._wait_backoff(deadline):
                    raise TimeoutError(f"no subscription item within {timeout} s")
                self._connect()
                continue
            now = time.monotonic()
            if not self._opened:
                limit: Optional[float] = wire.opened_at + OPEN_TIMEOUT
            elif self._live and self._idle_limit is not None:
                limit = self._last_message + self._idle_limit
            else:
                limit = None
            until = limit if deadline is None else (deadline if limit is None else min(limit, deadline))
            try:
                read = wire.queue.get(timeout=None if until is None else max(0.0, until - now))
            except queue.Empty:
                if limit is not None and time.monotonic() >= limit:
                    if self._opened:
                        why = f"no message for {self._idle_limit:.1f} s: the connection looks dead"
                    else:
                        why = f"Subscribe not answered within {OPEN_TIMEOUT:.0f} s"
                    return self._failed(PmmError(grpc.StatusCode.UNAVAILABLE, why))
                raise TimeoutError(f"no subscription item within {timeout} s") from None
            if self._cancelled.is_set():
                continue
            self._last_message = time.monotonic()
            if isinstance(read, _Opened):
                self._opened = True
                continue
            if isinstance(read, _Ended):
                return self._failed(PmmError(grpc.StatusCode.UNAVAILABLE, "the subscription stream ended"))
            if isinstance(read, PmmError):
                return self._failed(read)
            if isinstance(read, BaseException):
                self._finish()
                raise read
            try:
                item = decode(read)
            except PmmError:
                self._finish()
                raise
            if item is None:
                continue
            if isinstance(item, CaughtUp):
                self._live = True
            if self._cursor.admit(item):
                self._attempt = 0
                return item

    def __iter__(self) -> Iterator[SubItem]:
        while True:
            item = self.next()
            if item is None:
                return
            yield item

    def cancel(self) -> None:
        """Ends the subscription (idempotent, from any thread): the server
        stream is cancelled and ``next`` returns None."""
        self._cancelled.set()
        self._finish()

    close = cancel

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()

    # -- the state machine ------------------------------------------------

    def _wait_backoff(self, deadline: Optional[float]) -> bool:
        """Waits out the backoff before a retry; False if ``deadline`` comes
        first (the wait resumes at the next ``next``)."""
        if self._resume_at is None:
            return True
        wait = self._resume_at - time.monotonic()
        if deadline is not None and deadline < self._resume_at:
            self._cancelled.wait(max(0.0, deadline - time.monotonic()))
            return False
        if wait > 0:
            self._cancelled.wait(wait)
        self._resume_at = None
        return True

    def _connect(self) -> None:
        request = self._cursor.request(self._kinds, self._heartbeat_ms)
        with self._lock:
            if self._cancelled.is_set():
                return
            self._wire = _Wire(self._open(request))
        self._opened = False
        self._live = False

    def _drop_wire(self) -> None:
        with self._lock:
            wire, self._wire = self._wire, None
        if wire is not None:
            wire.stop()

    def _finish(self) -> None:
        self._done = True
        self._drop_wire()

    def _failed(self, err: PmmError) -> Optional[SubItem]:
        """After a failure: a ``Reconnecting`` item when it is worth retrying,
        else the error (and the end of the subscription)."""
        self._drop_wire()
        if self._cancelled.is_set():
            self._done = True
            return None
        max_attempts = self.retry.max_attempts
        if not err.is_transient or (max_attempts is not None and self._attempt >= max_attempts):
            self._done = True
            raise err
        self._attempt += 1
        delay = self.retry.delay(self._attempt)
        self._resume_at = time.monotonic() + delay
        return Reconnecting(self._attempt, delay, self._cursor.position, str(err))
