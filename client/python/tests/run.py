"""Runs every test module of this folder (test_*.py) and prints unittest's
summary, then one plain line "python: N passed, N failed, N skipped".

    python client/python/tests/run.py [PATTERN ...]

PATTERNs select tests by substring of their names (unittest's -k), e.g.
``ViewsTest`` or ``test_resumes``. scripts/python-tests.sh runs this from a
temporary directory against the installed package.
"""
from __future__ import annotations

import os
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(patterns: list[str]) -> int:
    loader = unittest.TestLoader()
    if patterns:
        loader.testNamePatterns = [p if "*" in p else f"*{p}*" for p in patterns]
    suite = loader.discover(str(HERE), pattern="test_*.py", top_level_dir=str(HERE))
    runner = unittest.TextTestRunner(verbosity=int(os.environ.get("PMM_TEST_VERBOSITY", "2")))
    result = runner.run(suite)

    def base_id(test: unittest.TestCase) -> str:  # a failed subTest counts once, as its test
        return getattr(test, "test_case", test).id()

    failed = len(
        {base_id(t) for t, _ in result.failures + result.errors} | {base_id(t) for t in result.unexpectedSuccesses}
    )
    skipped = len({base_id(t) for t, _ in result.skipped})
    passed = max(0, result.testsRun - failed - skipped)
    print(f"python: {passed} passed, {failed} failed, {skipped} skipped")
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
