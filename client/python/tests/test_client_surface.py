"""The rest of the Client's surface against the real server: paging,
append forms, import/export, directives, embed and search, stats, connect
options, deadlines and message limits."""
from __future__ import annotations

import socket
import time

import grpc
from grpc_health.v1 import health_pb2

from harness import PmmServer, ServerTestCase
from pmm_client import (
    Client,
    ConnectOptions,
    ContextOptions,
    Event,
    ImportMode,
    NewEvent,
    PmmError,
)

KINDS = ["user", "reflection", "response", "user", "autonomy_directive"]


class PagingTest(ServerTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.pmm.append_batch([NewEvent(KINDS[i % 5], f"event {i + 1}") for i in range(23)])

    def test_pages_follow_next_start_id_to_the_end(self) -> None:
        pages = list(self.pmm.pages(page_size=10))
        self.assertEqual([len(p.events) for p in pages], [10, 10, 3])
        self.assertEqual([p.next_start_id for p in pages], [11, 21, None])
        self.assertEqual([e.id for p in pages for e in p.events], list(range(1, 24)))
        self.assertTrue(all(p.as_of_id == 23 for p in pages))

    def test_read_all_within_a_range_backward_and_filtered(self) -> None:
        self.assertEqual([e.id for e in self.pmm.read_all(5, 17, page_size=4)], list(range(5, 18)))
        users = [e.id for e in self.pmm.read_all(backward=True, kinds=["user"], page_size=3)]
        self.assertEqual(users, [i for i in range(23, 0, -1) if KINDS[(i - 1) % 5] == "user"])
        self.assertEqual([e.id for e in self.pmm.read_all(20, 8, backward=True, page_size=5)], list(range(20, 7, -1)))
        self.assertEqual(len(list(self.pmm.read_all())), 23, "server default page size")

    def test_an_empty_range_is_one_empty_page(self) -> None:
        pages = list(self.pmm.pages(kinds=["no_such_kind"], page_size=5))
        self.assertEqual([(len(p.events), p.next_start_id) for p in pages], [(0, None)])

    def test_stopping_early_reads_no_further_page(self) -> None:
        it = self.pmm.read_all(page_size=5)
        self.assertEqual([next(it).id for _ in range(7)], list(range(1, 8)))
        self.pmm.append("user", "appended while paging")
        self.assertEqual([e.id for e in it][-1], 24, "later pages see what was appended meanwhile")


class AppendFormsTest(ServerTestCase):
    def test_one_event_by_fields_or_as_new_event(self) -> None:
        a = self.pmm.append("user", "by fields", '{"b": 1,  "a": 2}', idempotency_key="k1")
        b = self.pmm.append(NewEvent("user", "as NewEvent", {"é": [1.5, None]}))
        again = self.pmm.append("user", "by fields", '{"b": 1,  "a": 2}', idempotency_key="k1")
        self.assertEqual((a.id, b.id), (1, 2))
        self.assertTrue(again.deduplicated)
        self.assertEqual((again.id, again.hash), (a.id, a.hash))
        first, second = self.pmm.read().events
        self.assertEqual(first.meta_text, '{"b": 1,  "a": 2}', "a JSON text is stored verbatim")
        self.assertEqual(list(first.meta), ["b", "a"], "key order kept")
        self.assertEqual(second.meta_text, '{"\\u00e9": [1.5, null]}', "json.dumps defaults, as the reference")
        self.assertEqual(second.meta, {"é": [1.5, None]})
        self.assertEqual(self.pmm.get_event(2), second)
        self.assertEqual(len({first, second}), 2, "events are hashable")

    def test_refused_before_any_call(self) -> None:
        with self.assertRaises(TypeError):
            self.pmm.append(NewEvent("user"), "content too")  # type: ignore[call-overload]
        with self.assertRaises(TypeError):
            self.pmm.append("user", "x", ["not", "an", "object"])  # type: ignore[call-overload]
        with self.assertRaises(ValueError):
            self.pmm.append("user", "x", {"x": float("nan")})
        with self.assertRaises(TypeError):
            self.pmm.append_batch([("user", "a tuple")])  # type: ignore[list-item]
        with self.assertRaises(TypeError):
            self.pmm.append_batch([NewEvent("user")], context={"compact": True})  # type: ignore[arg-type]
        self.assertEqual(self.pmm.head().last_id, 0)

    def test_views_as_of_the_write_with_options(self) -> None:
        out = self.pmm.append_batch(
            [NewEvent("identity_adopt", "Echo", {"confidence": 0.95})], context=ContextOptions(compact=True)
        )
        self.assertIsNotNone(out.context)
        assert out.context is not None
        self.assertTrue(out.context.text.startswith("[STATE] Echo |"), out.context.text)
        self.assertIsNone(out.metrics, "not asked for")
        self.assertEqual(out.head.last_id, 1)


class ImportExportTest(ServerTestCase):
    def test_export_then_import_gives_identical_rows(self) -> None:
        self.pmm.append_batch(
            [NewEvent("user", f"row {i}", f'{{"n": {i}.0,  "s": "x"}}') for i in range(1, 6)]
            + [NewEvent("reflection", "unicode é ✓", {"ü": 1})]
        )
        chunks = list(self.pmm.export(chunk_size=4))
        self.assertEqual([len(c) for c in chunks], [4, 2])
        rows = [row for chunk in chunks for row in chunk]
        self.assertEqual(rows, list(self.pmm.read_all()))
        self.assertEqual(rows[0].meta_text, '{"n": 1.0,  "s": "x"}')
        self.assertEqual([e.id for c in self.pmm.export(start_id=2, end_id=3) for e in c], [2, 3])

        other = PmmServer()
        self.addCleanup(other.stop)
        target = self.client(other.start())
        target.wait_until_serving(timeout=20)
        done = target.import_rows(rows[:3])
        self.assertEqual((done.imported, done.skipped, done.head.last_id), (3, 0, 3))
        done = target.import_rows([r.to_proto() for r in rows])  # wire rows too; resumable
        self.assertEqual((done.imported, done.skipped), (3, 3))
        self.assertEqual(done.head, self.pmm.head())
        self.assertEqual(list(target.read_all()), rows)
        self.assertTrue(target.verify_chain().ok)

    def test_a_conflicting_import_is_failed_precondition_with_the_head(self) -> None:
        ev = self.pmm.append("user", "stored")
        forged = Event(1, ev.ts, "user", "forged", {}, "{}", None, "0" * 64)
        with self.assertRaises(PmmError) as ctx:
            self.pmm.import_rows([forged], ImportMode.VERBATIM)
        err = self.assertStatus(ctx, grpc.StatusCode.FAILED_PRECONDITION)
        self.assertTrue(err.is_conflict)
        self.assertEqual((err.last_id, err.last_hash), (1, ev.hash))

    def test_export_errors_are_pmm_errors(self) -> None:
        with self.assertRaises(PmmError) as ctx:
            list(self.pmm.export(start_id=0))
        self.assertStatus(ctx, grpc.StatusCode.INVALID_ARGUMENT)


class OtherViewsTest(ServerTestCase):
    def test_directives_embed_search_stats(self) -> None:
        self.pmm.append_batch(
            [
                NewEvent("autonomy_directive", "Be concise."),
                NewEvent("autonomy_directive", "Be concise."),
                NewEvent("reflection", "The hash chain keeps my memory honest."),
                NewEvent("user", "What is a hash chain?"),
            ]
        )
        d = self.pmm.get_directives()
        self.assertEqual([(x.content, x.seen_count) for x in d.directives], [("Be concise.", 2)])
        self.assertEqual(d.as_of_id, 4)
        self.assertEqual(len(self.pmm.get_directives(active_only=True).directives), 0)
        self.assertEqual(len(self.pmm.get_directives(as_of_id=0).directives), 0)

        e = self.pmm.embed("hash chain")
        self.assertGreater(len(e.vector), 0)
        self.assertEqual(e.digest, self.pmm.embed("hash chain").digest, "deterministic")
        hits = self.pmm.search("hash chain", top_k=2, kinds=["reflection", "user"])
        self.assertEqual(len(hits.hits), 2)
        self.assertEqual({h.event_id for h in hits.hits}, {3, 4})

        s = self.pmm.stats()
        self.assertEqual((s.event_count, s.events_by_kind["autonomy_directive"]), (4, 2))
        self.assertGreater(s.limits.max_message_bytes, 0)
        self.assertEqual(self.pmm.health_status(), health_pb2.HealthCheckResponse.SERVING)


class ConnectTest(ServerTestCase):
    def test_connecting_to_nothing_says_where(self) -> None:
        closed = PmmServer()  # a port that was just free: start and stop a server
        address = closed.start()
        closed.stop()
        with self.assertRaises(PmmError) as ctx:
            Client.connect(address, ConnectOptions(connect_timeout=0.5))
        err = self.assertStatus(ctx, grpc.StatusCode.UNAVAILABLE, f"cannot connect to {address}")
        self.assertTrue(err.is_transient)
        lazy = Client.connect(address, ConnectOptions(lazy=True, timeout=1.0))
        with self.assertRaises(PmmError) as ctx:
            lazy.head()
        self.assertStatus(ctx, grpc.StatusCode.UNAVAILABLE)
        lazy.close()

    def test_addresses(self) -> None:
        with Client(f"http://{self.server.address}/") as c:
            self.assertEqual(c.head().last_id, 0)
        with self.assertRaises(ValueError):  # TLS options with a plaintext address
            Client("http://127.0.0.1:1", ConnectOptions(ca=b"-----BEGIN CERTIFICATE-----"))

    def test_deadlines(self) -> None:
        # A listening socket that never answers: calls wait for their deadline.
        hole = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(hole.close)
        address = "127.0.0.1:%d" % hole.getsockname()[1]
        silent = Client(address, ConnectOptions(timeout=0.3))
        self.addCleanup(silent.close)
        hasty = silent.with_timeout(0.1)
        self.assertIs(hasty.channel, silent.channel)
        self.assertEqual((silent.timeout, hasty.timeout, self.pmm.timeout), (0.3, 0.1, 10.0))
        for client, limit in ((hasty, 0.1), (silent, 0.3)):
            started = time.monotonic()
            with self.assertRaises(PmmError) as ctx:
                client.head()
            self.assertStatus(ctx, grpc.StatusCode.DEADLINE_EXCEEDED)
            self.assertGreaterEqual(time.monotonic() - started, limit * 0.9)
        with self.assertRaises(PmmError) as ctx:
            Client.connect(address, ConnectOptions(connect_timeout=0.2))
        self.assertStatus(ctx, grpc.StatusCode.UNAVAILABLE, "cannot connect to")
        self.assertEqual(self.pmm.with_timeout(None).head().last_id, 0)

    def test_max_message_bytes(self) -> None:
        small = Client(self.server.address or "", ConnectOptions(max_message_bytes=1024))
        self.addCleanup(small.close)
        with self.assertRaises(PmmError) as ctx:
            small.append("user", "x" * 2048)
        self.assertStatus(ctx, grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.pmm.append("user", "y" * 2048)
        with self.assertRaises(PmmError) as ctx:
            small.get_event(1)
        self.assertStatus(ctx, grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertEqual(small.head().last_id, 1, "small messages still pass")


class ContextOptionsTest(ServerTestCase):
    def test_each_option_reaches_the_server(self) -> None:
        self.pmm.append_batch(
            [
                NewEvent("identity_adopt", "Echo", {"confidence": 0.95}),
                NewEvent("commitment_open", "", {"cid": "c1", "text": "Write tests for the hash chain"}),
                NewEvent("commitment_open", "", {"cid": "c2", "text": "Keep answers short"}),
                NewEvent("reflection", "one"),
                NewEvent("reflection", "two"),
            ]
        )
        full = self.pmm.get_context().text
        self.assertIn("  - Keep answers short", full)
        self.assertIn(': "one"', full)
        tail = self.pmm.get_context(tail=2).text  # only the two reflections folded
        self.assertIn("Identity: Unknown", tail)
        self.assertNotIn("Open commitments:", tail)
        self.assertNotIn("Open commitments:", self.pmm.get_context(max_commitment_chars=20).text)
        for kw in ({"max_reflection_chars": 5}, {"n_reflections": 1}):
            with self.subTest(**kw):
                text = self.pmm.get_context(**kw).text  # type: ignore[arg-type]
                self.assertIn(': "two"', text)
                self.assertNotIn(': "one"', text)
