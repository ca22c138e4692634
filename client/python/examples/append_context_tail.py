#!/usr/bin/env python3
"""Append a few events, print the context block a language model would read,
then tail the live events (resuming by itself if the server restarts).

    pip install ./client/python
    python client/python/examples/append_context_tail.py [--addr 127.0.0.1:50051]

Stop it with Ctrl-C, or give --max-events / --seconds.
"""
from __future__ import annotations

import argparse
import sys
import time
import uuid

from pmm_client import DEFAULT_ADDRESS, Client, Event, NewEvent, PmmError, Reconnecting


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addr", default=DEFAULT_ADDRESS, help=f"server address (default {DEFAULT_ADDRESS})")
    parser.add_argument("--max-events", type=int, default=0, help="stop after this many live events (0 = never)")
    parser.add_argument("--seconds", type=float, default=0.0, help="stop tailing after this long (0 = never)")
    args = parser.parse_args()

    try:
        with Client.connect(args.addr) as pmm:
            pmm.wait_until_serving()
            cid = f"c-{uuid.uuid4().hex[:8]}"
            outcome = pmm.append_batch(
                [
                    NewEvent("user", "Hello, who are you?", {"source": "example"}),
                    NewEvent("identity_adopt", "Echo", {"confidence": 0.95}),
                    NewEvent("commitment_open", "", {"cid": cid, "text": "Write tests for the hash chain"}),
                    NewEvent("reflection", "Reflecting on my identity: my name is Echo and I keep it stable."),
                ]
            )
            print(f"appended #{outcome.events[0].id}..#{outcome.events[-1].id}")
            print(pmm.get_context().text)
            tail(pmm, outcome.head.last_id, args.max_events, args.seconds)
    except PmmError as err:
        print(f"example: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def tail(pmm: Client, after_id: int, max_events: int, seconds: float) -> None:
    """Prints each event appended after ``after_id`` as it is committed."""
    print(f"tailing events after #{after_id}", flush=True)
    deadline = time.monotonic() + seconds if seconds > 0 else None
    seen = 0
    with pmm.subscribe_resilient(after_id=after_id) as sub:
        while max_events <= 0 or seen < max_events:
            try:
                item = sub.next(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                return
            if isinstance(item, Event):
                seen += 1
                print(f"#{item.id} {item.ts} {item.kind}: {item.content} {item.meta_text}", flush=True)
            elif isinstance(item, Reconnecting):
                print(f"(connection lost: {item.reason}; resuming after #{item.resume_after})", file=sys.stderr)
            elif item is None:
                return


if __name__ == "__main__":
    sys.exit(main())
