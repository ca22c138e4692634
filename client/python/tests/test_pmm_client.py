"""The Python client's calls against the real pmm server: append, read,
subscribe, the views, errors, and the ghz configs of benches/ghz/.

Each test starts its own `pmm-server` on 127.0.0.1:0 with a fresh temporary
ledger (see harness.py). Run: scripts/python-tests.sh.
"""
from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory

from harness import REPO, WAIT, ServerTestCase
from pmm_client import Appended, CaughtUp, Event, Heartbeat, MetricsOptions, NewEvent, PmmError

GHZ_DIR = REPO / "benches" / "ghz"

GUIDANCE = (
    "You may suggest personality adjustments when context supports it "
    "(e.g., 'I should increase openness by 0.02'). Suggestions should be precise and justified."
)


class AppendReadTest(ServerTestCase):
    def test_append_single_event(self) -> None:
        ev = self.pmm.append("user", "hi")
        self.assertEqual(ev.id, 1)
        self.assertRegex(ev.hash, r"^[0-9a-f]{64}$")
        self.assertIsNone(ev.prev_hash, "the first row has no prev_hash")
        self.assertFalse(ev.deduplicated)
        stored = self.pmm.get_event(1)
        self.assertEqual((stored.kind, stored.content, stored.meta_text, stored.meta), ("user", "hi", "{}", {}))
        self.assertEqual((stored.ts, stored.hash), (ev.ts, ev.hash))

    def test_append_batch_with_meta_and_idempotency(self) -> None:
        first = self.pmm.append("user", "hi")
        meta_text = '{"cid": "c1",  "text": "Write tests", "n": 1.0}'  # stored verbatim
        resp = self.pmm.append_batch(
            [
                NewEvent("commitment_open", "Write tests", meta_text, idempotency_key="open-c1"),
                NewEvent("reflection", "I keep my name stable.", {"source": "test", "tags": ["a", "b"]}),
            ],
            expected_last_id=1,
        )
        self.assertEqual([e.id for e in resp.events], [2, 3])
        self.assertEqual(resp.events[0].prev_hash, first.hash)
        self.assertEqual(resp.events[1].prev_hash, resp.events[0].hash)
        self.assertEqual(resp.head.last_id, 3)
        self.assertEqual(resp.head.last_hash, resp.events[1].hash)

        page = self.pmm.read(2, 3)
        self.assertEqual(page.events[0].meta_text, meta_text)
        self.assertEqual(page.events[1].meta, {"source": "test", "tags": ["a", "b"]})
        # a dict is written as json.dumps writes it by default (as the reference
        # and the Rust client write meta)
        self.assertEqual(page.events[1].meta_text, '{"source": "test", "tags": ["a", "b"]}')

        # a retry with the same key is deduplicated: same row, nothing written
        retry = self.pmm.append_batch(
            [NewEvent("commitment_open", "Write tests", meta_text, idempotency_key="open-c1")], expected_last_id=0
        )
        self.assertTrue(retry.events[0].deduplicated)
        self.assertEqual((retry.events[0].id, retry.events[0].hash), (2, resp.events[0].hash))
        self.assertEqual(self.pmm.head().last_id, 3)

    def test_read_pages_filters_and_head(self) -> None:
        kinds = ["user", "reflection", "user", "response", "reflection"]
        resp = self.pmm.append_batch([NewEvent(k, f"{k} {i}") for i, k in enumerate(kinds, 1)])
        self.assertEqual([e.id for e in resp.events], [1, 2, 3, 4, 5])

        page = self.pmm.read(page_size=2)
        self.assertEqual([e.id for e in page.events], [1, 2])
        self.assertEqual(page.next_start_id, 3)
        self.assertEqual(page.as_of_id, 5)
        rest = self.pmm.read(page.next_start_id)
        self.assertEqual([e.id for e in rest.events], [3, 4, 5])
        self.assertIsNone(rest.next_start_id)

        back = self.pmm.read(backward=True, kinds=["reflection"])
        self.assertEqual([(e.id, e.content) for e in back.events], [(5, "reflection 5"), (2, "reflection 2")])
        self.assertEqual([e.id for e in self.pmm.read_all(page_size=2)], [1, 2, 3, 4, 5])

        head = self.pmm.head()
        self.assertEqual((head.last_id, head.count), (5, 5))
        self.assertEqual(head.last_hash, resp.events[-1].hash)
        self.assertEqual(head.last_ts, resp.events[-1].ts)

        chain = self.pmm.verify_chain()
        self.assertTrue(chain.ok, chain.reason)
        self.assertEqual((chain.checked, chain.as_of_id), (5, 5))

        with self.assertRaises(PmmError) as ctx:
            self.pmm.get_event(99)
        self.assertStatus(ctx, grpc.StatusCode.NOT_FOUND)

    def test_empty_ledger_head(self) -> None:
        head = self.pmm.head()
        self.assertEqual((head.last_id, head.count), (0, 0))
        self.assertIsNone(head.last_hash)
        self.assertEqual(len(self.pmm.read().events), 0)


class SubscribeTest(ServerTestCase):
    def test_catch_up_then_caught_up_then_live(self) -> None:
        appended = self.pmm.append_batch([NewEvent("user", "one"), NewEvent("reflection", "two", {"k": 1}), NewEvent("user", "three")])
        with self.pmm.subscribe() as sub:
            got = [self.next_item(sub, Event) for _ in range(3)]
            self.assertEqual([(e.id, e.content) for e in got], [(1, "one"), (2, "two"), (3, "three")])
            self.assertEqual([e.hash for e in got], [e.hash for e in appended.events])
            self.assertEqual((got[1].meta, got[1].meta_text), ({"k": 1}, '{"k": 1}'))
            caught_up = self.next_item(sub, CaughtUp)
            self.assertEqual(caught_up.position, 3)
            self.assertEqual(caught_up.head.last_id, 3)

            # live: appended from another connection, on another thread
            writer = self.client()
            result: dict = {}

            def write() -> None:
                try:
                    result["ev"] = writer.append("response", "live one", {"source": "thread"})
                except Exception as exc:  # reported below
                    result["error"] = exc

            t = threading.Thread(target=write)
            t.start()
            t.join(WAIT)
            self.assertFalse(t.is_alive(), "append from the writer thread did not return")
            self.assertNotIn("error", result)
            live = self.next_of(sub, Event, skip=(Heartbeat,))
            self.assertEqual((live.id, live.kind, live.content), (4, "response", "live one"))
            self.assertEqual(live.hash, result["ev"].hash)
            self.assertEqual(live.prev_hash, appended.events[-1].hash)
            self.assertEqual(sub.position, 4)

    def test_only_new_resume_and_kinds_filter(self) -> None:
        self.pmm.append_batch([NewEvent("user", "old 1"), NewEvent("user", "old 2")])
        with self.pmm.subscribe(only_new=True, kinds=["reflection"]) as sub:
            self.assertEqual(self.next_item(sub, CaughtUp).position, 2)
            self.pmm.append_batch([NewEvent("user", "skipped"), NewEvent("reflection", "kept")])
            live = self.next_of(sub, Event, skip=(Heartbeat,))
            self.assertEqual((live.id, live.content), (4, "kept"))

        # resuming after id 1 replays 2.. with no gap or duplicate
        with self.pmm.subscribe(after_id=1) as sub:
            ids = [self.next_item(sub, Event).id for _ in range(3)]
            self.assertEqual(ids, [2, 3, 4])
            self.assertEqual(self.next_item(sub, CaughtUp).position, 4)

        sub = self.pmm.subscribe(after_id=99)
        with self.assertRaises(PmmError) as ctx:
            sub.next(timeout=WAIT)
        self.assertStatus(ctx, grpc.StatusCode.OUT_OF_RANGE)
        sub.cancel()

    def test_heartbeat_while_idle(self) -> None:
        self.pmm.append("user", "x")
        with self.pmm.subscribe(heartbeat=0.1) as sub:
            self.next_item(sub, Event)
            self.next_item(sub, CaughtUp)
            beat = self.next_item(sub, Heartbeat)
            self.assertEqual(beat.position, 1)
            self.assertEqual(beat.head.last_id, 1)

    def test_shutdown_ends_stream_with_unavailable(self) -> None:
        self.pmm.append("user", "x")
        sub = self.pmm.subscribe()
        self.next_item(sub, Event)
        self.next_item(sub, CaughtUp)
        self._stopped = True
        code = self.server.stop()
        with self.assertRaises(PmmError) as ctx:
            while sub.next(timeout=WAIT) is not None:
                pass
        self.assertStatus(ctx, grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(code, 0, self.server.log())
        sub.cancel()


class ViewsTest(ServerTestCase):
    """Projection, metrics and context computed from a small known ledger."""

    EVENTS = [
        NewEvent("identity_adopt", "Echo", {"confidence": 0.95}),
        NewEvent("trait_update", "", {"trait": "openness", "delta": 0.1}),
        NewEvent("commitment_open", "Write tests", {"cid": "c1", "text": "Write tests"}),
        NewEvent("reflection", "My name is Echo and I keep it stable."),
    ]

    def setUp(self) -> None:
        super().setUp()
        self.appended = self.pmm.append_batch(self.EVENTS)
        self.reflection_ts = self.appended.events[3].ts

    def test_projection_and_identity(self) -> None:
        proj = self.pmm.get_projection()
        self.assertEqual(proj.as_of_id, 4)
        assert proj.self_model is not None
        ident = proj.self_model.identity
        self.assertEqual(ident.name, "Echo")
        self.assertEqual(ident.traits.openness, 0.5 + 0.1)
        self.assertEqual(
            (ident.traits.conscientiousness, ident.traits.extraversion, ident.traits.agreeableness, ident.traits.neuroticism),
            (0.5, 0.5, 0.5, 0.5),
        )
        self.assertEqual(proj.self_model.open, {"c1": {"cid": "c1", "text": "Write tests"}})
        self.assertEqual(proj.self_model.expired, {})
        self.assertEqual(len(proj.warnings), 0)
        self.assertEqual((proj.expired_total, proj.warnings_total), (0, 0))
        self.assertIsNone(self.pmm.get_projection(strict=True).strict_error)
        paged = self.pmm.get_projection(expired_limit=0, warnings_limit=5, warnings_skip=1)
        assert paged.self_model is not None
        self.assertEqual(paged.self_model.open, {"c1": {"cid": "c1", "text": "Write tests"}})

        self.assertEqual(self.pmm.get_identity().identity.name, "Echo")
        before = self.pmm.get_identity(as_of_id=0)
        self.assertIsNone(before.identity.name, "no name before the adoption")
        self.assertEqual(before.as_of_id, 0)

    def test_metrics(self) -> None:
        m = self.pmm.get_metrics(include_diagnosis=True)
        self.assertEqual(m.as_of_id, 4)
        # SPEC §3 folded by hand: gas += 0.07 (novel open), ias += 0.01 ("my name"
        # reflection); then the feedback step and the clamp.
        ias, gas = 0.0 + 0.01, 0.0 + 0.07
        f_ias, f_gas = (ias - 0.5) * 0.1, (gas - 0.5) * 0.05
        gas, ias = gas + f_ias, ias + f_gas
        self.assertEqual(m.gas, max(0.0, min(1.0, gas)))
        self.assertEqual(m.ias, max(0.0, min(1.0, ias)))
        self.assertEqual(m.ias, 0.0)
        self.assertEqual((m.stage.name, m.stage.level), ("S0", 0))
        self.assertEqual((m.stage.snapshot.count, m.stage.snapshot.window), (0, 10))
        d = m.diagnosis
        self.assertEqual((d.identity_adopts, d.identity_adopts_total, d.identity_reflections), (1, 1, 1))
        self.assertEqual([(a.name, a.event_id) for a in d.identity_adopt_details], [("Echo", 1)])
        self.assertEqual(d.identity_adopt_details_all[0].confidence, 0.95)
        self.assertEqual((d.autonomy_ticks, d.decay_factor, d.expected_ias_before_decay), (0, 1.0, 0.01))
        self.assertFalse(self.pmm.get_metrics().HasField("diagnosis"))

    def test_context_standard_and_compact(self) -> None:
        ctx = self.pmm.get_context()
        self.assertEqual(ctx.as_of_id, 4)
        self.assertIn("Identity: Echo", ctx.text)
        stamp = self.reflection_ts[:19] + "Z"  # the ts's own wall-clock time, no zone conversion
        self.assertEqual(
            ctx.text,
            "\n".join(
                [
                    "[SYSTEM STATE — from ledger]",
                    "Identity: Echo",
                    "Traits: O=0.60, C=0.50, E=0.50, A=0.50, N=0.50",
                    GUIDANCE,
                    "IAS=0.00, GAS=0.02, Stage=S0",
                    "Open commitments:",
                    "  - Write tests",
                    "Recent reflections:",
                    f'  - {stamp}: "My name is Echo and I keep it stable."',
                    "---",
                ]
            ),
        )
        compact = self.pmm.get_context(compact=True)
        self.assertEqual(
            compact.text,
            "\n".join(
                [
                    "[STATE] Echo | O=0.60, C=0.50, E=0.50, A=0.50, N=0.50",
                    "IAS=0.00 GAS=0.02 S0",
                    "Commitments:",
                    "  - Write tests",
                    "Reflections:",
                    '  - "My name is Echo and I keep it stable."',
                ]
            ),
        )
        no_refl = self.pmm.get_context(n_reflections=0).text
        self.assertNotIn("Recent reflections:", no_refl)
        self.assertIn("Identity: Unknown", self.pmm.get_context(as_of_id=0).text)

        with self.assertRaises(PmmError) as err:
            self.pmm.get_context(as_of_id=99)
        self.assertStatus(err, grpc.StatusCode.OUT_OF_RANGE)

    def test_append_returns_views_as_of_the_write(self) -> None:
        resp = self.pmm.append_batch(
            [NewEvent("identity_adopt", "Nova", {"confidence": 0.95})], context=True, metrics=MetricsOptions(include_diagnosis=True)
        )
        self.assertEqual(resp.events[0].id, 5)
        assert resp.context is not None and resp.metrics is not None
        self.assertGreaterEqual(resp.context.as_of_id, 5)
        self.assertIn("Identity: Nova", resp.context.text)
        self.assertEqual(resp.metrics.diagnosis.identity_adopts_total, 2)
        # a live subscriber sees the new name too (read-your-writes for views)
        self.assertEqual(self.pmm.get_identity().identity.name, "Nova")


class ErrorTest(ServerTestCase):
    def test_bad_meta_is_invalid_argument_naming_the_field(self) -> None:
        for meta in ("[1, 2]", '"text"', "{not json", '{"x": NaN}'):
            with self.subTest(meta=meta):
                with self.assertRaises(PmmError) as ctx:
                    self.pmm.append_batch([NewEvent("user", "hi", meta)])
                self.assertStatus(ctx, grpc.StatusCode.INVALID_ARGUMENT, "events[0].meta")
        with self.assertRaises(PmmError) as ctx:
            self.pmm.append_batch([NewEvent("user", "ok"), NewEvent("user", "bad", "[]")])
        self.assertStatus(ctx, grpc.StatusCode.INVALID_ARGUMENT, "events[1].meta")
        self.assertEqual(self.pmm.head().last_id, 0, "nothing was written")

    def test_other_invalid_requests(self) -> None:
        with self.assertRaises(PmmError) as ctx:
            self.pmm.append_batch([])
        self.assertStatus(ctx, grpc.StatusCode.INVALID_ARGUMENT)
        with self.assertRaises(PmmError) as ctx:
            self.pmm.append_batch([NewEvent("", "no kind")])
        self.assertStatus(ctx, grpc.StatusCode.INVALID_ARGUMENT, "events[0].kind")
        with self.assertRaises(PmmError) as ctx:
            self.pmm.read(0)
        self.assertStatus(ctx, grpc.StatusCode.INVALID_ARGUMENT, "start_id")
        self.assertEqual(self.pmm.head().last_id, 0)

    def test_expected_last_id_mismatch_is_aborted_with_head_trailers(self) -> None:
        ev = self.pmm.append("user", "one")
        with self.assertRaises(PmmError) as ctx:
            self.pmm.append_batch([NewEvent("user", "two")], expected_last_id=0)
        err = self.assertStatus(ctx, grpc.StatusCode.ABORTED)
        self.assertEqual(err.last_id, 1)
        self.assertEqual(err.last_hash, ev.hash)
        self.assertEqual(self.pmm.head().last_id, 1)


class GhzConfigTest(ServerTestCase):
    """benches/ghz/*.json: valid ghz configs whose data the server accepts."""

    CONFIGS = (
        "append.json",
        "get_metrics.json",
        "get_context.json",
        "subscribe.json",
        "append_mind.json",
        "get_metrics_mind.json",
    )
    _MIND_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
    _TEMPLATE = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")
    _SAMPLE = {"RequestNumber": "7", "WorkerID": "w1", "UUID": "5f0c1b8e-0000-4000-8000-000000000000",
               "TimestampUnix": "1700000000", "TimestampUnixMilli": "1700000000000"}

    def render(self, data):
        """ghz renders Go template actions like {{.RequestNumber}} in the data."""
        text = self._TEMPLATE.sub(lambda m: self._SAMPLE.get(m.group(1), "x"), json.dumps(data))
        return json.loads(text)

    def test_configs(self) -> None:
        pool = descriptor_pool.Default()
        for name in self.CONFIGS:
            with self.subTest(config=name):
                cfg = json.loads((GHZ_DIR / name).read_text(encoding="utf-8"))
                self.assertIs(cfg.get("insecure"), True)
                self.assertRegex(cfg["host"], r"^127\.0\.0\.1:\d+$")
                self.assertGreaterEqual(cfg["total"], cfg["concurrency"])
                self.assertTrue((REPO / cfg["proto"]).is_file(), cfg["proto"])
                for path in cfg.get("import-paths", []):
                    self.assertTrue((REPO / path).is_dir(), path)
                service_name, method_name = cfg["call"].split("/")
                method = pool.FindServiceByName(service_name).methods_by_name[method_name]
                self.assertTrue(cfg["proto"].endswith(Path(method.containing_service.file.name).name))
                req_cls = message_factory.GetMessageClass(method.input_type)
                resp_cls = message_factory.GetMessageClass(method.output_type)
                req = json_format.ParseDict(self.render(cfg["data"]), req_cls())  # strict: unknown fields fail
                path = f"/{service_name}/{method_name}"
                metadata = self.metadata(cfg)
                if method.server_streaming:
                    self.check_stream(cfg, path, req, resp_cls)
                else:
                    call = self.pmm.channel.unary_unary(
                        path, request_serializer=req_cls.SerializeToString, response_deserializer=resp_cls.FromString
                    )
                    mind = dict(metadata).get("pmm-mind")
                    if mind in (None, "default"):
                        call(req, timeout=10, metadata=metadata)
                    else:
                        # This server serves one file, the mind `default`: another
                        # mind is NOT_FOUND, named, which shows the header arrived.
                        with self.assertRaises(grpc.RpcError) as caught:
                            call(req, timeout=10, metadata=metadata)
                        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)
                        self.assertIn(mind, caught.exception.details())

    def metadata(self, cfg):
        """ghz's `metadata` (`-m`): string values; `pmm-mind` a valid mind name."""
        metadata = cfg.get("metadata", {})
        self.assertIsInstance(metadata, dict)
        for key, value in metadata.items():
            self.assertEqual(key, key.lower(), "gRPC metadata keys are lower case")
            self.assertIsInstance(value, str)
        if "pmm-mind" in metadata:
            self.assertRegex(metadata["pmm-mind"], self._MIND_NAME)
        return tuple(metadata.items())

    def check_stream(self, cfg, path, req, resp_cls) -> None:
        count = cfg.get("stream-call-count")
        duration = cfg.get("stream-call-duration")
        self.assertTrue(count or duration, "a Subscribe run needs stream-call-count or stream-call-duration")
        if duration:
            self.assertRegex(duration, r"^\d+(ms|s)$")
        stream = self.pmm.channel.unary_stream(
            path, request_serializer=type(req).SerializeToString, response_deserializer=resp_cls.FromString
        )(req, timeout=10)
        try:
            first = next(stream)
            self.assertEqual(first.WhichOneof("item"), "caught_up", "only_new: the caught_up marker comes first")
        finally:
            stream.cancel()
