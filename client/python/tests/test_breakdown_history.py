"""The context breakdown and the metrics history through the installed
package against the real server: the sections make up the text and add up
to the totals, the encoding is selectable, and every history point equals
``get_metrics`` as of its id."""
from __future__ import annotations

import grpc

from harness import ServerTestCase
from pmm_client import ENCODINGS, ContextBreakdown, ContextOptions, NewEvent, PmmError


class BreakdownTest(ServerTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.pmm.append_batch(
            [
                NewEvent("identity_adopt", "Echo", {"confidence": 0.95}),
                NewEvent("commitment_open", "", {"cid": "c1", "text": "Write tests for the hash chain"}),
                NewEvent("reflection", "My name is Echo — I keep it stable. 日本語も少し。"),
            ]
        )

    def test_sections_make_up_the_text_and_add_up(self) -> None:
        for encoding in (None, *ENCODINGS):
            with self.subTest(encoding=encoding):
                b = self.pmm.context_breakdown(encoding=encoding)
                self.assertIsInstance(b, ContextBreakdown)
                self.assertEqual(b.encoding, encoding or "o200k_base")
                self.assertEqual(b.text, self.pmm.get_context().text, "the block does not change")
                self.assertEqual("".join(s.text for s in b.sections), b.text)
                self.assertEqual(
                    [s.section for s in b.sections],
                    ["header", "identity", "traits", "guidance", "metrics", "commitments", "reflections", "footer"],
                )
                self.assertEqual(sum(s.bytes for s in b.sections), b.bytes)
                self.assertEqual(b.bytes, len(b.text.encode("utf-8")))
                self.assertEqual(sum(s.chars for s in b.sections), b.chars)
                self.assertEqual(b.chars, len(b.text))
                self.assertEqual(sum(s.tokens for s in b.sections), b.tokens)
                self.assertTrue(all(s.tokens > 0 for s in b.sections))
                self.assertEqual(sum(s.lines for s in b.sections), len(b.text.split("\n")))
                for s in b.sections[:-1]:
                    self.assertTrue(s.text.endswith("\n"), "the newline that ends a section is its own")

    def test_raw_response_and_compact_layout(self) -> None:
        plain = self.pmm.get_context()
        self.assertFalse(plain.HasField("breakdown"), "nothing counted unless asked")
        resp = self.pmm.get_context(compact=True, breakdown=True, encoding="cl100k_base")
        self.assertTrue(resp.HasField("breakdown"))
        compact = ContextBreakdown.from_proto(resp)
        self.assertEqual([s.section for s in compact.sections], ["identity", "metrics", "commitments", "reflections"])
        with self.assertRaises(ValueError):
            self.pmm.get_context(breakdown=True, encoding="gpt2")

    def test_in_append_views(self) -> None:
        out = self.pmm.append_batch([NewEvent("user", "hello")], context=ContextOptions(breakdown=True))
        assert out.context is not None
        self.assertEqual(out.context.breakdown.bytes, len(out.context.text.encode("utf-8")))


class HistoryTest(ServerTestCase):
    def setUp(self) -> None:
        super().setUp()
        events = []
        for i in range(40):
            events.append(NewEvent("autonomy_tick", "", {"telemetry": {"IAS": 0.4 + i / 100, "GAS": 0.25 + i / 100}}))
            if i % 7 == 0:
                events.append(NewEvent("commitment_open", f"task {i}", {"cid": f"c{i}", "text": f"task {i}"}))
            if i % 9 == 0:
                events.append(NewEvent("identity_adopt", "Echo", {"confidence": 0.95}))
        self.pmm.append_batch(events)
        self.last_id = self.pmm.head().last_id

    def test_every_point_equals_metrics_as_of_its_id(self) -> None:
        h = self.pmm.get_metrics_history(points=9)
        self.assertEqual(h.as_of_id, self.last_id)
        self.assertEqual(len(h.points), 9)
        self.assertEqual(h.points[-1].as_of_id, self.last_id, "the last point is at the head")
        for p in h.points:
            m = self.pmm.get_metrics(as_of_id=p.as_of_id)
            self.assertEqual((p.ias, p.gas), (m.ias, m.gas), p.as_of_id)
            self.assertEqual(p.stage, m.stage, p.as_of_id)
            self.assertEqual(p.event_count, p.as_of_id)
        stages = {p.stage.name for p in h.points}
        self.assertGreater(len(stages), 1, "the stage moves over this ledger")

    def test_every_k_ids_and_bounds(self) -> None:
        h = self.pmm.get_metrics_history(from_id=5, to_id=20, every=5)
        self.assertEqual([p.as_of_id for p in h.points], [5, 10, 15, 20])
        self.assertEqual(len(self.pmm.get_metrics_history().points), min(100, self.last_id))
        with self.assertRaises(PmmError) as err:
            self.pmm.get_metrics_history(to_id=self.last_id + 1)
        self.assertStatus(err, grpc.StatusCode.OUT_OF_RANGE)
        with self.assertRaises(PmmError) as err:
            self.pmm.get_metrics_history(points=10_001)
        self.assertStatus(err, grpc.StatusCode.INVALID_ARGUMENT)
        with self.assertRaises(ValueError):
            self.pmm.get_metrics_history(points=3, every=2)
