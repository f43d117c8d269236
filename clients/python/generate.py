#!/usr/bin/env python3
"""Regenerates the gRPC stubs of driftwatch-client from the daemon's own
contract, `proto/driftwatch/v1/ingest.proto` at the repository root:

    pip install 'grpcio-tools==1.85.1'
    python clients/python/generate.py          # rewrites src/driftwatch_client/_proto/
    python clients/python/generate.py --check  # exit 1 if the committed stubs are stale

The generated `ingest_pb2_grpc.py` imports its messages as
`from driftwatch.v1 import ingest_pb2`, an absolute import of a package
this client does not install; it is rewritten to a relative import so that
the stubs live privately inside `driftwatch_client._proto`.
"""
import argparse
import pathlib
import sys
import tempfile

from grpc_tools import protoc

HERE = pathlib.Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent.parent / "proto"
PROTO = "driftwatch/v1/ingest.proto"
OUT = HERE / "src" / "driftwatch_client" / "_proto"
STUBS = ("ingest_pb2.py", "ingest_pb2.pyi", "ingest_pb2_grpc.py")


def generate(into: pathlib.Path) -> dict:
    """The stubs' texts, generated under `into`."""
    include = pathlib.Path(protoc.__file__).parent / "_proto"
    code = protoc.main([
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={into}",
        f"--pyi_out={into}",
        f"--grpc_python_out={into}",
        str(PROTO_ROOT / PROTO),
    ])
    if code != 0:
        sys.exit(f"protoc failed on {PROTO_ROOT / PROTO}")
    made = into / "driftwatch" / "v1"
    texts = {name: (made / name).read_text() for name in STUBS}
    texts["ingest_pb2_grpc.py"] = texts["ingest_pb2_grpc.py"].replace(
        "from driftwatch.v1 import ingest_pb2", "from . import ingest_pb2"
    )
    return texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        texts = generate(pathlib.Path(tmp))
    if args.check:
        stale = [n for n, t in texts.items() if not (OUT / n).exists() or (OUT / n).read_text() != t]
        for name in stale:
            print(f"{OUT / name} is stale: run {pathlib.Path(__file__).name}", file=sys.stderr)
        return 1 if stale else 0
    for name, text in texts.items():
        (OUT / name).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
