#!/usr/bin/env python3
"""Generate the Python stubs of pmm.v1 from ../../proto into ./generated.

Runs grpc_tools.protoc (from grpcio-tools, no system protoc needed) on every
proto/pmm/v1/*.proto, producing the packages `pmm.v1.ledger_pb2`,
`pmm.v1.ledger_pb2_grpc`, `pmm.v1.mind_pb2`, `pmm.v1.mind_pb2_grpc` (with .pyi
type stubs) under generated/, which is git-ignored. pmm_client.py puts
generated/ on sys.path itself.

Usage: python generate.py   (from any directory)
"""
from __future__ import annotations

import shutil
import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent.parent / "proto"
OUT = HERE / "generated"


def main() -> int:
    protos = sorted(PROTO_ROOT.glob("pmm/v1/*.proto"))
    if not protos:
        print(f"generate.py: no .proto files under {PROTO_ROOT}/pmm/v1", file=sys.stderr)
        return 1
    # The well-known types (google/protobuf/*.proto) ship with grpcio-tools.
    well_known = resources.files("grpc_tools") / "_proto"
    tmp = OUT.with_name(OUT.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={tmp}",
        f"--pyi_out={tmp}",
        f"--grpc_python_out={tmp}",
        *(str(p) for p in protos),
    ]
    rc = protoc.main(args)
    if rc != 0:
        print(f"generate.py: protoc failed with exit code {rc}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
        return rc
    for pkg in (tmp / "pmm", tmp / "pmm" / "v1"):
        (pkg / "__init__.py").touch()
    shutil.rmtree(OUT, ignore_errors=True)
    tmp.rename(OUT)
    names = ", ".join(p.name for p in protos)
    print(f"generated Python stubs for {names} in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
