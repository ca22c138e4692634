"""Many minds from Python against the real server: the ``pmm-mind`` header
(``mind=``, ``ConnectOptions.mind``, ``with_mind``) on every call, names
checked before any call, and, on a server of many minds (``--data-dir``),
appends landing in their mind only and the Minds administration calls:
create, get, list page by page, delete with its confirmation, backup."""
from __future__ import annotations

import os
import sqlite3

import grpc

from harness import ServerTestCase
from pmm_client import (
    DEFAULT_MIND,
    MIND_HEADER,
    CaughtUp,
    Client,
    ConnectOptions,
    Event,
    PmmError,
    check_mind_name,
)


def rows_in(path: str) -> int:
    with sqlite3.connect(path) as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM events").fetchone()
    return int(count)


class MindHeaderTest(ServerTestCase):
    """A server on one file (``--db``) holds only ``default``: a call naming
    another mind is NOT_FOUND, so each one proves the header went with it."""

    def test_names_are_checked_before_any_call(self) -> None:
        self.assertEqual(check_mind_name("agent-7.prod_v2"), "agent-7.prod_v2")
        for bad, why in [
            ("Alice", "must start with a-z or 0-9"),
            ("", "is empty"),
            ("a/b", "has '/'; a name is a-z, 0-9, '.', '_' and '-' only"),
            ("x" * 65, "is 65 bytes long, above the maximum of 64"),
        ]:
            with self.subTest(name=bad):
                with self.assertRaises(ValueError) as ctx:
                    self.pmm.with_mind(bad)
                self.assertEqual(str(ctx.exception), f"mind name {bad!r}: {why}")
        with self.assertRaises(ValueError):
            Client(self.server.address or "", mind="Alice")
        with self.assertRaises(ValueError):
            Client(self.server.address or "", ConnectOptions(mind="al ice"))

    def test_the_header_goes_with_every_call(self) -> None:
        self.pmm.append("user", "for default")
        alice = self.pmm.with_mind("alice")
        self.assertEqual(alice.mind_name, "alice")
        self.assertEqual(self.pmm.mind_name, DEFAULT_MIND)
        self.assertIn((MIND_HEADER, "alice"), alice.metadata)
        self.assertNotIn(MIND_HEADER, [k for k, _ in self.pmm.metadata])
        calls = {
            "Append": lambda: alice.append("user", "lost"),
            "Head": alice.head,
            "Read": alice.read,
            "GetEvent": lambda: alice.get_event(1),
            "Stats": alice.stats,
            "GetMetrics": alice.get_metrics,
            "GetContext": alice.get_context,
            "GetProjection": alice.get_projection,
            "Embed": lambda: alice.embed("text"),
            "Export": lambda: list(alice.export()),
            "Subscribe": lambda: alice.subscribe().next(timeout=5.0),
            "with_timeout": lambda: alice.with_timeout(3.0).head(),
        }
        for name, call in calls.items():
            with self.subTest(call=name):
                with self.assertRaises(PmmError) as ctx:
                    call()
                err = self.assertStatus(ctx, grpc.StatusCode.NOT_FOUND)
                self.assertIn("alice", err.message)
        self.assertEqual(self.pmm.head().count, 1, "nothing was written")
        # default, named or not; the options' mind; with_mind(None).
        self.assertEqual(self.pmm.with_mind("default").head().last_id, 1)
        self.assertEqual(alice.with_mind(None).head().last_id, 1)
        via_options = Client(self.server.address or "", ConnectOptions(timeout=10.0, mind="alice"))
        self.addCleanup(via_options.close)
        self.assertEqual(via_options.mind_name, "alice")
        with self.assertRaises(PmmError) as ctx:
            via_options.head()
        self.assertStatus(ctx, grpc.StatusCode.NOT_FOUND)
        self.assertEqual(via_options.with_mind("default").head().last_id, 1)

    def test_a_server_on_one_file_refuses_to_create_minds(self) -> None:
        with self.assertRaises(PmmError) as ctx:
            self.pmm.create_mind("alice")
        self.assertStatus(ctx, grpc.StatusCode.FAILED_PRECONDITION)


class ManyMindsTest(ServerTestCase):
    """A server of many minds (``--data-dir``, ``--backup-dir``)."""

    DATA_DIR = True

    def test_appends_land_in_their_mind_only(self) -> None:
        self.pmm.create_mind("alice")
        default_before = self.pmm.head().last_id
        with Client.connect(self.server.address or "", ConnectOptions(timeout=10.0), mind="alice") as alice:
            self.assertEqual(alice.mind_name, "alice")
            alice.append("identity_adopt", "Alice")
            alice.append("user", "a2")
            self.pmm.append("user", "for default")
            self.assertEqual([e.content for e in alice.read_all()], ["Alice", "a2"])
            self.assertEqual(alice.head().last_id, 2)
            self.assertEqual(alice.get_identity().identity.name, "Alice")
            with alice.subscribe() as sub:
                seen = []
                while True:
                    item = sub.next(timeout=5.0)
                    if isinstance(item, Event):
                        seen.append(item.content)
                    elif isinstance(item, CaughtUp):
                        break
            self.assertEqual(seen, ["Alice", "a2"])
        self.assertEqual(self.pmm.head().last_id, default_before + 1)
        self.assertNotIn("a2", [e.content for e in self.pmm.read_all()])
        info = self.pmm.get_mind("alice")
        self.assertEqual((info.name, info.events, info.last_id), ("alice", 2, 2))

    def test_an_unknown_mind_is_not_found(self) -> None:
        with self.assertRaises(PmmError) as ctx:
            self.pmm.with_mind("ghost").append("user", "lost")
        self.assertStatus(ctx, grpc.StatusCode.NOT_FOUND)
        with self.assertRaises(PmmError) as ctx:
            self.pmm.get_mind("ghost")
        self.assertStatus(ctx, grpc.StatusCode.NOT_FOUND)
        self.assertNotIn("ghost", [m.name for m in self.pmm.list_all_minds()])

    def test_create_list_pages_get_and_delete_with_a_confirmation(self) -> None:
        created = ["m3", "m1", "m5", "m2", "m4"]
        for name in created:
            info = self.pmm.create_mind(name)
            self.assertEqual((info.name, info.events, info.last_id, info.last_hash), (name, 0, 0, ""))
        with self.assertRaises(PmmError) as ctx:
            self.pmm.create_mind("m3")
        self.assertStatus(ctx, grpc.StatusCode.ALREADY_EXISTS)
        with self.assertRaises(PmmError) as ctx:
            self.pmm.create_mind("Bad")
        self.assertStatus(ctx, grpc.StatusCode.INVALID_ARGUMENT, "name: ")

        pages = list(self.pmm.minds_pages(page_size=2))
        self.assertGreaterEqual(len(pages), 3)
        for i, page in enumerate(pages):
            self.assertTrue(1 <= len(page.minds) <= 2, page)
            self.assertEqual(page.next_page_token == "", i == len(pages) - 1)
        names = [m.name for p in pages for m in p.minds]
        self.assertEqual(names, sorted(names))
        for name in created:
            self.assertIn(name, names)
        self.assertEqual([m.name for m in self.pmm.list_all_minds()], names)
        first = self.pmm.list_minds(page_size=2)
        self.assertEqual([m.name for m in first.minds], names[:2])

        with self.assertRaises(PmmError) as ctx:
            self.pmm.delete_mind("m2", confirm="m3")
        self.assertStatus(ctx, grpc.StatusCode.FAILED_PRECONDITION)
        self.assertEqual(self.pmm.get_mind("m2").name, "m2")
        deleted = self.pmm.delete_mind("m2", confirm="m2")
        self.assertTrue(deleted.trash_path)
        with self.assertRaises(PmmError) as ctx:
            self.pmm.get_mind("m2")
        self.assertStatus(ctx, grpc.StatusCode.NOT_FOUND)
        self.assertNotIn("m2", [m.name for m in self.pmm.list_all_minds(page_size=1)])
        with self.assertRaises(PmmError) as ctx:
            self.pmm.delete_mind("default", confirm="default")
        self.assertStatus(ctx, grpc.StatusCode.FAILED_PRECONDITION)

    def test_backup_under_the_backup_dir(self) -> None:
        self.pmm.create_mind("alice")
        alice = self.pmm.with_mind("alice")
        alice.append("user", "one")
        alice.append("user", "two")
        head = alice.head()
        backup = self.pmm.backup_mind("alice", "nightly/alice.db")
        self.assertEqual((backup.events, backup.last_id, backup.last_hash), (2, 2, head.last_hash))
        assert self.server.backup_dir is not None
        path = backup.path if os.path.isabs(backup.path) else os.path.join(self.server.backup_dir, backup.path)
        self.assertEqual(os.path.realpath(path), os.path.realpath(os.path.join(self.server.backup_dir, "nightly/alice.db")))
        self.assertEqual(rows_in(path), 2)
        with self.assertRaises(PmmError) as ctx:
            self.pmm.backup_mind("alice", "nightly/alice.db")
        self.assertStatus(ctx, grpc.StatusCode.ALREADY_EXISTS)
        with self.assertRaises(PmmError) as ctx:
            self.pmm.backup_mind("alice", "../out.db")
        self.assertStatus(ctx, grpc.StatusCode.INVALID_ARGUMENT)
        default = self.pmm.backup_mind("alice")
        path = default.path if os.path.isabs(default.path) else os.path.join(self.server.backup_dir, default.path)
        self.assertTrue(
            os.path.realpath(path).startswith(os.path.realpath(os.path.join(self.server.backup_dir, "alice")) + os.sep),
            path,
        )
        self.assertEqual(rows_in(path), 2)


class CreateOnAppendTest(ServerTestCase):
    DATA_DIR = True
    SERVER_ARGS = ("--create-minds-on-append",)

    def test_a_first_append_creates_the_mind(self) -> None:
        appended = self.pmm.with_mind("bob").append("user", "hello bob")
        self.assertEqual(appended.id, 1)
        self.assertEqual(self.pmm.get_mind("bob").events, 1)
