"""examples/append_context_tail.py runs against the real server: it appends,
prints the context block, and prints an event appended while it tails."""
from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time

from harness import PACKAGE_DIR, START_TIMEOUT, WAIT, ServerTestCase

EXAMPLE = PACKAGE_DIR / "examples" / "append_context_tail.py"


class ExampleTest(ServerTestCase):
    def test_append_context_and_tail(self) -> None:
        proc = subprocess.Popen(
            [sys.executable, str(EXAMPLE), "--addr", self.server.address or "", "--max-events", "1", "--seconds", "20"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: "queue.Queue[str]" = queue.Queue()

        def pump() -> None:
            for line in proc.stdout or ():
                lines.put(line.rstrip("\n"))

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()

        def stop() -> None:
            proc.kill()
            proc.wait(WAIT)
            reader.join(WAIT)  # until the pipe's end
            if proc.stdout is not None:
                proc.stdout.close()

        self.addCleanup(stop)

        def read_until(prefix: str, timeout: float) -> list[str]:
            got: list[str] = []
            deadline = time.monotonic() + timeout
            while not (got and got[-1].startswith(prefix)):
                try:
                    got.append(lines.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    self.fail(f"no line starting with {prefix!r}; output so far: {got}")
            return got

        before = read_until("tailing events after #4", START_TIMEOUT)
        self.assertEqual(before[0], "appended #1..#4")
        self.assertIn("Identity: Echo", before)
        self.assertIn("  - Write tests for the hash chain", before)
        self.pmm.append("user", "live from the test", {"n": 1})
        live = read_until("#5 ", WAIT)
        self.assertRegex(live[-1], r'^#5 \S+ user: live from the test \{"n": 1\}$')
        self.assertEqual(proc.wait(WAIT), 0, "the example exits after --max-events")
