"""The pmm.v1 stubs checked in under src/pmm_client/v1 are what generate.py
makes from proto/ with the pinned grpcio-tools."""
from __future__ import annotations

import difflib
import importlib.util
import tempfile
import unittest
from pathlib import Path
from types import ModuleType

from harness import PACKAGE_DIR

CHECKED_IN = PACKAGE_DIR / "src" / "pmm_client" / "v1"
HOW = "regenerate them: `python client/python/generate.py` (with client/python/requirements.txt installed)"


def load_generate() -> ModuleType:
    """generate.py by path: it is a tool of the repository, not of the package."""
    spec = importlib.util.spec_from_file_location("pmm_generate", PACKAGE_DIR / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class StubsTest(unittest.TestCase):
    def test_checked_in_stubs_are_up_to_date(self) -> None:
        generate = load_generate()
        with tempfile.TemporaryDirectory(prefix="pmm-stubs-") as tmp:
            fresh = Path(tmp)
            generate.generate(fresh)
            names = sorted(p.name for p in fresh.iterdir() if p.is_file())
            stored = sorted(p.name for p in CHECKED_IN.iterdir() if p.is_file())
            self.assertEqual(stored, names, f"{CHECKED_IN} holds other files than generate.py makes: {HOW}")
            stale = []
            for name in names:
                new = (fresh / name).read_text(encoding="utf-8")
                old = (CHECKED_IN / name).read_text(encoding="utf-8")
                if new != old:
                    diff = difflib.unified_diff(
                        old.splitlines(), new.splitlines(), f"checked-in/{name}", f"generated/{name}", lineterm="", n=1
                    )
                    stale.append("\n".join(list(diff)[:12]))
            if stale:
                self.fail(f"the pmm.v1 stubs are out of date with proto/: {HOW}\n\n" + "\n\n".join(stale))

    def test_generated_imports_stay_inside_the_package(self) -> None:
        for path in CHECKED_IN.glob("*.py*"):
            text = path.read_text(encoding="utf-8")
            self.assertNotRegex(text, r"(?m)^\s*(from|import) pmm\b", f"{path.name} imports a top-level `pmm`")
