#!/usr/bin/env python3
"""First-call and per-head costs of the context breakdown (server-side work
dominates: tokenizer load on the first call, counting on a new head)."""
import statistics, sys, time
from pmm_client import Client

addr = sys.argv[1]
c = Client.connect(addr)
def t(f):
    a = time.perf_counter(); f(); return (time.perf_counter() - a) * 1e6
plain = t(lambda: c.get_context())
first = t(lambda: c.get_context(breakdown=True))
cached = statistics.median(t(lambda: c.get_context(breakdown=True)) for _ in range(500))
cached_plain = statistics.median(t(lambda: c.get_context()) for _ in range(500))
cl_first = t(lambda: c.get_context(breakdown=True, encoding="cl100k_base"))
new_head, new_head_plain = [], []
for i in range(300):
    c.append("user", f"hello {i}")
    (new_head if i % 2 else new_head_plain).append(t(lambda: c.get_context(breakdown=bool(i % 2))))
print(f"plain first {plain:.0f} us; breakdown first call (loads o200k_base) {first:.0f} us; cl100k_base first call {cl_first:.0f} us")
print(f"cached: plain {cached_plain:.0f} us, with breakdown {cached:.0f} us (median of 500)")
print(f"new head: plain {statistics.median(new_head_plain):.0f} us, with breakdown {statistics.median(new_head):.0f} us (median of 150 each)")
