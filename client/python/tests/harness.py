"""What the tests share: the real server binary on 127.0.0.1:0, a TCP proxy
to drop connections and to move a client to a restarted server, and a
TestCase with a fresh server and client per test. Every wait is bounded.

The server binary is $PMM_SERVER_BIN, else <repo>/target/debug/pmm-server
(scripts/python-tests.sh builds it)."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path
from typing import Any, Optional, TypeVar

import grpc

from pmm_client import Client, ConnectOptions, PmmError, Subscription

T = TypeVar("T")

HERE = Path(__file__).resolve().parent
PACKAGE_DIR = HERE.parent  # client/python
REPO = PACKAGE_DIR.parent.parent
SERVER_BIN = Path(os.environ.get("PMM_SERVER_BIN") or REPO / "target" / "debug" / "pmm-server")

START_TIMEOUT = 20.0  # seconds for the server to log its address and turn SERVING
STOP_TIMEOUT = 10.0  # seconds for the server to exit after SIGTERM
WAIT = 5.0  # seconds for any one expected stream item

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_LISTENING = re.compile(r"\blistening\b.*?\baddr=(\S+:\d+)")


class PmmServer:
    """The real server binary on 127.0.0.1:0 over a ledger file: a fresh one
    in a temporary folder it removes, or ``db`` (kept) to restart on it.
    With ``data_dir``, a server of many minds instead: ``--data-dir
    <tmp>/minds --backup-dir <tmp>/backups``."""

    def __init__(
        self,
        db: Optional[str] = None,
        binary: Path = SERVER_BIN,
        args: tuple[str, ...] = (),
        data_dir: bool = False,
    ):
        self.binary = binary
        self.args = args  # more flags (TLS, tokens)
        self.dir = None if db else tempfile.mkdtemp(prefix="pmm-pytest-")
        self.db = db or os.path.join(self.dir or "", "pmm.db")
        self.data_dir = os.path.join(self.dir or "", "minds") if data_dir else None
        self.backup_dir = os.path.join(self.dir or "", "backups") if data_dir else None
        self.address: Optional[str] = None
        self.lines: list[str] = []
        self._found = threading.Event()
        self.proc: Optional[subprocess.Popen[str]] = None

    def start(self, timeout: float = START_TIMEOUT) -> str:
        if not self.binary.exists():
            raise RuntimeError(f"{self.binary} not found: run `cargo build -p pmm-server` first")
        env = dict(os.environ, NO_COLOR="1")
        for var in (
            "PMM_ADDR",
            "PMM_DB",
            "PMM_DATA_DIR",
            "PMM_BACKUP_DIR",
            "PMM_TOKENS",
            "PMM_TLS_CERT",
            "PMM_TLS_KEY",
            "PMM_TLS_CLIENT_CA",
        ):
            env.pop(var, None)
        if self.data_dir is not None and self.backup_dir is not None:
            ledger = ["--data-dir", self.data_dir, "--backup-dir", self.backup_dir]
        else:
            ledger = ["--db", self.db]
        self.proc = subprocess.Popen(
            [str(self.binary), "--addr", "127.0.0.1:0", *ledger, "--log", "info", *self.args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        threading.Thread(target=self._read_log, name="pmm-server-log", daemon=True).start()
        deadline = time.monotonic() + timeout
        while not self._found.wait(0.05):
            if self.proc.poll() is not None:
                raise RuntimeError(f"pmm-server exited with {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"pmm-server did not log its address within {timeout} s:\n{self.log()}")
        assert self.address is not None
        return self.address

    def _read_log(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in self.proc.stdout:  # drains the pipe until the server exits
            line = _ANSI.sub("", raw.rstrip("\n"))
            self.lines.append(line)
            if self.address is None:
                m = _LISTENING.search(line)
                if m:
                    self.address = m.group(1)
                    self._found.set()

    def log(self) -> str:
        return "\n".join(self.lines[-40:])

    def stop(self, timeout: float = STOP_TIMEOUT, keep_files: bool = False) -> int:
        """SIGTERM, then wait (SIGKILL after ``timeout``); returns the exit
        code. Removes the temporary folder it made, unless ``keep_files``
        (to restart a server on the same ledger)."""
        code = -1
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout)
            code = self.proc.returncode
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        if self.dir is not None and not keep_files:
            shutil.rmtree(self.dir, ignore_errors=True)
        return code


class TcpProxy:
    """A TCP relay on 127.0.0.1:0 to ``target`` (or to nothing: connections
    are then closed at once). ``drop()`` cuts every open connection, as a
    network failure would; ``retarget()`` points it at a restarted server."""

    def __init__(self, target: Optional[str]):
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.address = "127.0.0.1:%d" % self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            target = self.target
            if target is None:
                conn.close()
                continue
            host, port = target.rsplit(":", 1)
            try:
                upstream = socket.create_connection((host, int(port)), timeout=2.0)
                upstream.settimeout(None)
            except OSError:
                conn.close()
                continue
            with self._lock:
                self._sockets += [conn, upstream]
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pipe, args=(a, b), name="proxy-pipe", daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def drop(self) -> None:
        """Cuts every open connection (new ones are still relayed)."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def retarget(self, target: Optional[str]) -> None:
        self.target = target

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        self._thread.join(2.0)
        self.drop()


class ServerTestCase(unittest.TestCase):
    """A fresh server and client per test (a server of many minds when
    ``DATA_DIR``)."""

    DATA_DIR = False
    SERVER_ARGS: tuple[str, ...] = ()

    def setUp(self) -> None:
        self.server = PmmServer(data_dir=self.DATA_DIR, args=self.SERVER_ARGS)
        address = self.server.start()
        self.pmm = Client.connect(address, ConnectOptions(timeout=10.0))
        self.pmm.wait_until_serving(timeout=START_TIMEOUT)
        self._stopped = False

    def tearDown(self) -> None:
        self.pmm.close()
        if not self._stopped:
            code = self.server.stop()
            self.assertEqual(code, 0, f"pmm-server did not stop cleanly on SIGTERM:\n{self.server.log()}")

    def client(self, address: Optional[str] = None) -> Client:
        """Another client on its own channel (a separate HTTP/2 connection),
        closed at the end of the test."""
        client = Client(address or self.server.address or "", ConnectOptions(timeout=10.0))
        self.addCleanup(client.close)
        return client

    def next_item(self, sub: Subscription, cls: type[T], timeout: float = WAIT) -> T:
        """The next item, which must be a ``cls``."""
        item = sub.next(timeout=timeout)
        self.assertIsNotNone(item, "the subscription ended")
        assert isinstance(item, cls), item
        return item

    def next_of(self, sub: Subscription, cls: type[T], timeout: float = WAIT, skip: tuple[type, ...] = ()) -> T:
        """The next item that is not a ``skip`` one, within ``timeout`` overall;
        it must be a ``cls``."""
        deadline = time.monotonic() + timeout
        while True:
            item = sub.next(timeout=max(0.0, deadline - time.monotonic()))
            self.assertIsNotNone(item, "the subscription ended")
            if not isinstance(item, skip):
                assert isinstance(item, cls), item
                return item

    def assertStatus(self, ctx: Any, code: grpc.StatusCode, prefix: Optional[str] = None) -> PmmError:
        """The PmmError caught by ``ctx`` (an assertRaises context) has this
        code and its message starts with ``prefix``."""
        err = ctx.exception
        self.assertIsInstance(err, PmmError)
        self.assertEqual(err.code, code, str(err))
        if prefix is not None:
            self.assertTrue(err.message.startswith(prefix), f"{err.message!r} does not start with {prefix!r}")
        return err
