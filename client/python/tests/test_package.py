"""The tests run against the installed package (scripts/python-tests.sh
installs it, not editable, and runs them from a temporary directory): a file
missing from the wheel, or metadata out of step, fails here."""
from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
import tomllib
import unittest
from pathlib import Path

import pmm_client
from harness import PACKAGE_DIR

INSTALLED = Path(pmm_client.__file__).resolve().parent
SOURCE = PACKAGE_DIR / "src" / "pmm_client"


class PackageTest(unittest.TestCase):
    def test_imported_from_the_installed_package_not_the_source_tree(self) -> None:
        self.assertNotEqual(INSTALLED, SOURCE.resolve(), "the source tree is importable: this run proves nothing")
        self.assertTrue(INSTALLED.is_relative_to(Path(sys.prefix).resolve()), f"{INSTALLED} is not in {sys.prefix}")

    def test_every_source_file_is_installed_identically(self) -> None:
        wanted = sorted(
            p.relative_to(SOURCE) for p in SOURCE.rglob("*") if p.is_file() and "__pycache__" not in p.parts
        )
        self.assertIn(Path("py.typed"), wanted)
        self.assertIn(Path("v1/ledger_pb2.pyi"), wanted)
        for rel in wanted:
            with self.subTest(file=str(rel)):
                installed = INSTALLED / rel
                self.assertTrue(installed.is_file(), f"{rel} is not in the installed package")
                self.assertEqual(installed.read_bytes(), (SOURCE / rel).read_bytes(), f"{rel} differs: reinstall")

    def test_metadata(self) -> None:
        project = tomllib.loads((PACKAGE_DIR / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        self.assertEqual(importlib.metadata.version("pmm-client"), project["version"])
        self.assertEqual(pmm_client.__version__, project["version"])
        requires = importlib.metadata.requires("pmm-client") or []
        self.assertEqual(sorted(requires), sorted(project["dependencies"]))

    def test_public_names_and_no_top_level_pmm(self) -> None:
        for name in pmm_client.__all__:
            self.assertTrue(hasattr(pmm_client, name), name)
        from pmm_client.v1 import ledger_pb2, ledger_pb2_grpc, mind_pb2, mind_pb2_grpc  # noqa: F401

        self.assertEqual(ledger_pb2.DESCRIPTOR.name, "pmm/v1/ledger.proto")
        self.assertIsNone(importlib.util.find_spec("pmm"), "the stubs must not need or ship a top-level `pmm`")
