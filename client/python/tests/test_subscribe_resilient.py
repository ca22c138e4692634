"""Resilient subscriptions: the resume logic against scripted streams (no
server), then against the real server through a TCP proxy that drops the
connection, and across a server restart on the same ledger file."""
from __future__ import annotations

import threading
import time
import unittest
from typing import Iterator, Optional, Union

import grpc

from harness import WAIT, PmmServer, ServerTestCase, TcpProxy
from pmm_client import (
    CaughtUp,
    Client,
    ConnectOptions,
    Event,
    Heartbeat,
    NewEvent,
    PmmError,
    Reconnecting,
    RetryPolicy,
    SubItem,
    Subscription,
)
from pmm_client._subscribe import idle_limit
from pmm_client.v1 import ledger_pb2

FAST = RetryPolicy(initial_backoff=0.01, max_backoff=0.04)


class FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str = "") -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple:
        return ()


Script = list[Union[ledger_pb2.SubscribeResponse, FakeRpcError]]


class FakeCall:
    """One scripted Subscribe call: its messages (an error raises), then the
    end of the stream, or silence until cancelled when ``hang``."""

    def __init__(self, items: Script, hang: bool = False, refuse: Optional[FakeRpcError] = None) -> None:
        self.items, self.hang, self.refuse = items, hang, refuse
        self.cancelled = threading.Event()

    def initial_metadata(self) -> tuple:
        if self.refuse is not None:
            raise self.refuse
        return ()

    def __iter__(self) -> Iterator[ledger_pb2.SubscribeResponse]:
        for item in self.items:
            if isinstance(item, FakeRpcError):
                raise item
            yield item
        if self.hang:
            self.cancelled.wait(60)
            raise FakeRpcError(grpc.StatusCode.CANCELLED, "cancelled")

    def cancel(self) -> bool:
        self.cancelled.set()
        return True


def ev(i: int) -> ledger_pb2.SubscribeResponse:
    return ledger_pb2.SubscribeResponse(event=ledger_pb2.Event(id=i, kind="k", meta="{}", hash=f"h{i}"))


def caught_up(p: int) -> ledger_pb2.SubscribeResponse:
    return ledger_pb2.SubscribeResponse(caught_up=ledger_pb2.CaughtUp(position=p))


def heartbeat(p: int) -> ledger_pb2.SubscribeResponse:
    return ledger_pb2.SubscribeResponse(heartbeat=ledger_pb2.Heartbeat(position=p))


def unavailable(why: str = "down") -> FakeRpcError:
    return FakeRpcError(grpc.StatusCode.UNAVAILABLE, why)


class Opener:
    """Hands out scripted calls in order and records each request's start."""

    def __init__(self, calls: list[FakeCall]) -> None:
        self.calls = calls
        self.starts: list[str] = []

    def __call__(self, req: ledger_pb2.SubscribeRequest) -> FakeCall:
        which = req.WhichOneof("start")
        self.starts.append(f"after {req.after_id}" if which == "after_id" else str(which))
        if not self.calls:
            return FakeCall([], refuse=FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT, "script exhausted"))
        return self.calls.pop(0)


def render(item: Optional[SubItem]) -> str:
    if isinstance(item, Event):
        return f"e{item.id}"
    if isinstance(item, CaughtUp):
        return f"c{item.position}"
    if isinstance(item, Heartbeat):
        return f"h{item.position}"
    if isinstance(item, Reconnecting):
        return f"r{item.resume_after}"
    return "end"


def take(sub: Subscription, n: int, timeout: float = WAIT) -> list[str]:
    """Up to ``n`` items rendered short; a PmmError ends the list as "err CODE"."""
    got: list[str] = []
    try:
        while len(got) < n:
            item = sub.next(timeout=timeout)
            got.append(render(item))
            if item is None:
                break
    except PmmError as err:
        got.append(f"err {err.code.name}")
    finally:
        sub.cancel()
    return got


class ResumeLogicTest(unittest.TestCase):
    """The Rust client's subscribe tests, in Python: same scripts, same items."""

    def test_resumes_after_the_last_event_without_duplicates(self) -> None:
        opener = Opener(
            [
                FakeCall([ev(1), ev(2), unavailable("shutting down")]),
                # A (misbehaving) server repeating event 2 must not reach the consumer.
                FakeCall([ev(2), ev(3), caught_up(3), ev(4)], hang=True),
            ]
        )
        got = take(Subscription(opener, retry=FAST), 6)
        self.assertEqual(got, ["e1", "e2", "r2", "e3", "c3", "e4"])
        self.assertEqual(opener.starts, ["after 0", "after 2"])

    def test_heartbeat_position_past_filtered_events_is_the_resume_point(self) -> None:
        opener = Opener(
            [
                FakeCall([ev(5), caught_up(6), heartbeat(9)]),
                FakeCall([], refuse=unavailable("connection refused")),
                FakeCall([caught_up(9), ev(12)], hang=True),
            ]
        )
        got = take(Subscription(opener, after_id=4, retry=FAST), 7)
        self.assertEqual(got, ["e5", "c6", "h9", "r9", "r9", "c9", "e12"])
        self.assertEqual(opener.starts, ["after 4", "after 9", "after 9"])

    def test_only_new_keeps_asking_for_new_until_it_has_a_position(self) -> None:
        opener = Opener(
            [FakeCall([]), FakeCall([caught_up(7), ev(8)]), FakeCall([caught_up(8)], hang=True)]
        )
        got = take(Subscription(opener, only_new=True, retry=FAST), 5)
        self.assertEqual(got, ["rNone", "c7", "e8", "r8", "c8"])
        self.assertEqual(opener.starts, ["only_new", "only_new", "after 8"])

    def test_a_non_transient_error_ends_the_subscription(self) -> None:
        refused = FakeRpcError(grpc.StatusCode.OUT_OF_RANGE, "after_id: 10 is past the last id 3")
        got = take(Subscription(Opener([FakeCall([], refuse=refused)]), after_id=10, retry=FAST), 5)
        self.assertEqual(got, ["err OUT_OF_RANGE"])

    def test_gives_up_after_max_attempts_without_progress(self) -> None:
        opener = Opener([FakeCall([], refuse=unavailable()) for _ in range(4)])
        retry = RetryPolicy(initial_backoff=0.01, max_backoff=0.04, max_attempts=2)
        got = take(Subscription(opener, retry=retry), 10)
        self.assertEqual(got, ["r0", "r0", "err UNAVAILABLE"])
        self.assertEqual(len(opener.starts), 3)

    def test_never_retry_raises_the_first_failure_then_ends(self) -> None:
        sub = Subscription(Opener([FakeCall([ev(1), unavailable("bye")])]))
        self.assertEqual(render(sub.next(timeout=WAIT)), "e1")
        with self.assertRaises(PmmError) as ctx:
            sub.next(timeout=WAIT)
        self.assertEqual(ctx.exception.code, grpc.StatusCode.UNAVAILABLE)
        self.assertIsNone(sub.next(timeout=WAIT), "over after its error")

    def test_a_silent_live_stream_is_taken_for_dead(self) -> None:
        opener = Opener([FakeCall([ev(1), caught_up(1)], hang=True), FakeCall([caught_up(1), ev(2)], hang=True)])
        sub = Subscription(opener, heartbeat=0.1, retry=FAST)  # silent for 1.3 s = dead
        started = time.monotonic()
        self.assertEqual(take(sub, 5), ["e1", "c1", "r1", "c1", "e2"])
        self.assertGreaterEqual(time.monotonic() - started, 1.3)
        self.assertEqual(len(opener.starts), 2)

    def test_a_slow_catch_up_is_not_taken_for_dead(self) -> None:
        opener = Opener([FakeCall([ev(1)], hang=True)])
        sub = Subscription(opener, heartbeat=0.1, retry=FAST)
        self.assertEqual(render(sub.next(timeout=WAIT)), "e1")
        with self.assertRaises(TimeoutError):
            sub.next(timeout=1.6)  # past the idle limit, but not caught up yet
        self.assertEqual(len(opener.starts), 1)
        sub.cancel()
        self.assertIsNone(sub.next(timeout=WAIT))

    def test_cancel_from_another_thread_wakes_a_blocked_next(self) -> None:
        sub = Subscription(Opener([FakeCall([caught_up(0)], hang=True)]))
        self.assertEqual(render(sub.next(timeout=WAIT)), "c0")
        threading.Timer(0.2, sub.cancel).start()
        started = time.monotonic()
        self.assertIsNone(sub.next())  # no timeout: only the cancel ends the wait
        self.assertLess(time.monotonic() - started, WAIT)

    def test_idle_limit_follows_the_heartbeat(self) -> None:
        self.assertEqual(idle_limit(None), 16.0)
        self.assertIsNone(idle_limit(0))
        self.assertAlmostEqual(idle_limit(0.001) or 0, 1.3)

    def test_backoff_doubles_up_to_the_bound(self) -> None:
        policy = RetryPolicy()
        self.assertEqual([round(policy.delay(a) * 1000) for a in range(1, 9)], [100, 200, 400, 800, 1600, 3200, 5000, 5000])
        self.assertEqual(policy.delay(10**9), 5.0)
        self.assertEqual(RetryPolicy.never().max_attempts, 0)

    def test_after_id_and_only_new_exclude_each_other(self) -> None:
        with self.assertRaises(ValueError):
            Subscription(Opener([]), after_id=3, only_new=True)


class ResilientServerTest(ServerTestCase):
    """Through a TCP proxy on 127.0.0.1:0, so the connection can be cut and the
    client moved to a restarted server on another port."""

    RETRY = RetryPolicy(initial_backoff=0.05, max_backoff=0.5)

    def via_proxy(self, target: Optional[str]) -> tuple[TcpProxy, Client]:
        proxy = TcpProxy(target)
        self.addCleanup(proxy.close)
        return proxy, self.client(proxy.address)

    def collect_until(self, sub: Subscription, last_id: int, timeout: float = 20.0) -> list[SubItem]:
        """Items up to the event ``last_id`` (included), within ``timeout``."""
        items: list[SubItem] = []
        deadline = time.monotonic() + timeout
        while True:
            item = sub.next(timeout=max(0.0, deadline - time.monotonic()))
            self.assertIsNotNone(item, "the subscription ended")
            assert item is not None
            items.append(item)
            if isinstance(item, Event) and item.id >= last_id:
                return items

    def test_resumes_after_a_dropped_connection(self) -> None:
        self.pmm.append_batch([NewEvent("user", f"before {i}") for i in (1, 2, 3)])
        proxy, via = self.via_proxy(self.server.address)
        with via.subscribe_resilient(heartbeat=0.2, retry=self.RETRY) as sub:
            items = self.collect_until(sub, 3)
            self.assertEqual([i.id for i in items if isinstance(i, Event)], [1, 2, 3])
            self.assertEqual(self.next_of(sub, CaughtUp, skip=(Heartbeat,)).position, 3)

            proxy.drop()  # as a network failure would
            self.pmm.append_batch([NewEvent("user", "while cut 4"), NewEvent("reflection", "while cut 5")])
            after = self.collect_until(sub, 5)
            reconnects = [i for i in after if isinstance(i, Reconnecting)]
            self.assertTrue(reconnects, f"no Reconnecting item in {after}")
            self.assertEqual(reconnects[0].resume_after, 3)
            self.assertEqual([i.id for i in after if isinstance(i, Event)], [4, 5], "no gap, no duplicate")

            live = self.pmm.append("user", "live 6")
            got = self.next_of(sub, Event, skip=(Heartbeat, CaughtUp, Reconnecting))
            self.assertEqual((got.id, got.hash), (6, live.hash))
            self.assertEqual(sub.position, 6)

    def test_resumes_across_a_server_restart_on_the_same_ledger(self) -> None:
        first = self.pmm.append_batch([NewEvent("user", "one"), NewEvent("user", "two")])
        proxy, via = self.via_proxy(self.server.address)
        with via.subscribe_resilient(kinds=["user"], retry=self.RETRY) as sub:
            self.assertEqual([i.id for i in self.collect_until(sub, 2) if isinstance(i, Event)], [1, 2])
            self.assertEqual(self.next_item(sub, CaughtUp).position, 2)

            proxy.retarget(None)  # while no server runs, connections are closed at once
            self._stopped = True
            self.assertEqual(self.server.stop(keep_files=True), 0, self.server.log())
            self.addCleanup(self.server.stop)  # removes the ledger folder at the end
            self.assertIsInstance(self.next_of(sub, Reconnecting, skip=(Heartbeat,)), Reconnecting)

            second = PmmServer(db=self.server.db)  # same ledger file, a new port
            self.addCleanup(lambda: self.assertEqual(second.stop(), 0, second.log()))
            second.start()
            proxy.retarget(second.address)
            writer = self.client(second.address)
            writer.wait_until_serving(timeout=20)
            self.assertEqual(writer.head().last_id, 2, "the restarted server has the ledger")
            later = writer.append_batch(
                [NewEvent("user", "three"), NewEvent("reflection", "filtered out"), NewEvent("user", "five")]
            )

            after = self.collect_until(sub, 5)
            events = [i for i in after if isinstance(i, Event)]
            self.assertEqual([e.id for e in events], [3, 5], "no gap, no duplicate, only the kinds asked for")
            self.assertEqual(events[0].prev_hash, first.events[1].hash, "the chain goes on across the restart")
            self.assertEqual(events[1].hash, later.events[2].hash)
            self.assertTrue(all(i.resume_after == 2 for i in after if isinstance(i, Reconnecting)))
            self.assertEqual(sub.position, 5)
