#!/usr/bin/env python3
"""Generate the pmm.v1 stubs shipped in the package, from ../../proto.

Runs grpc_tools.protoc (from the pinned grpcio-tools in requirements.txt; no
system protoc) on every proto/pmm/v1/*.proto and writes ledger_pb2,
ledger_pb2_grpc, mind_pb2, mind_pb2_grpc, minds_pb2, minds_pb2_grpc (with
.pyi type stubs) into src/pmm_client/v1/, which is checked in: `pip
install` needs no protoc.

protoc writes absolute imports (`from pmm.v1 import mind_pb2`), which would
need a top-level `pmm` package; they are rewritten to relative ones
(`from . import mind_pb2`) so that the stubs live inside `pmm_client` only
(the README says why).

The test suite (tests/test_stubs.py) regenerates into a temporary folder and
fails if the result differs from the checked-in files.

Usage: python client/python/generate.py [--out DIR]   (from any directory)
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent.parent / "proto"
PACKAGE_V1 = HERE / "src" / "pmm_client" / "v1"

INIT = '''\
"""The pmm.v1 messages and gRPC stubs, generated from proto/pmm/v1 by
client/python/generate.py. Do not edit: regenerate."""
'''

_ABSOLUTE = re.compile(r"^from pmm\.v1 import ", re.MULTILINE)
_LEFT_OVER = re.compile(r"^\s*(from|import) pmm\b", re.MULTILINE)


def generate(out: Path) -> list[Path]:
    """Writes the stubs into ``out`` (created, existing stubs replaced);
    returns the files written, sorted."""
    from grpc_tools import protoc  # only generating needs grpcio-tools

    protos = sorted(PROTO_ROOT.glob("pmm/v1/*.proto"))
    if not protos:
        raise RuntimeError(f"no .proto files under {PROTO_ROOT}/pmm/v1")
    # The well-known types (google/protobuf/*.proto) ship with grpcio-tools.
    well_known = resources.files("grpc_tools") / "_proto"
    with tempfile.TemporaryDirectory(prefix="pmm-protoc-") as tmp:
        rc = protoc.main(
            [
                "grpc_tools.protoc",
                f"-I{PROTO_ROOT}",
                f"-I{well_known}",
                f"--python_out={tmp}",
                f"--pyi_out={tmp}",
                f"--grpc_python_out={tmp}",
                *(str(p) for p in protos),
            ]
        )
        if rc != 0:
            raise RuntimeError(f"protoc failed with exit code {rc}")
        produced = sorted((Path(tmp) / "pmm" / "v1").iterdir())
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("*_pb2*.py*"):  # stubs of a proto file since removed
            old.unlink()
        written = [out / "__init__.py"]
        written[0].write_text(INIT, encoding="utf-8")
        for src in produced:
            text = _ABSOLUTE.sub("from . import ", src.read_text(encoding="utf-8"))
            if _LEFT_OVER.search(text):
                raise RuntimeError(f"{src.name}: an import of `pmm` is left after the rewrite")
            dest = out / src.name
            dest.write_text(text, encoding="utf-8")
            written.append(dest)
    shutil.rmtree(out / "__pycache__", ignore_errors=True)
    return sorted(written)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=PACKAGE_V1, help=f"default: {PACKAGE_V1}")
    args = parser.parse_args(argv)
    try:
        written = generate(args.out)
    except (RuntimeError, ImportError) as exc:
        print(f"generate.py: {exc}", file=sys.stderr)
        return 1
    print(f"generated {', '.join(p.name for p in written)} in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
