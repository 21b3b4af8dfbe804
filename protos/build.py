"""Regenerates the committed Python code beside every .proto under protos/.

Usage: python protos/build.py [OUTPUT_ROOT]   (default: the repository root)
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent


def _plugin(name: str) -> str:
    """Path of a protoc plugin installed beside this interpreter (mypy-protobuf)."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: install the dev extras (pip install -e '.[dev]')")
    return found


def proto_files(root: Path = ROOT) -> list[Path]:
    """Every contract, relative to the repository root."""
    return sorted(p.relative_to(root) for p in (root / "protos").rglob("*.proto"))


def build(out: Path = ROOT) -> None:
    """Runs protoc over every .proto, writing *_pb2.py, *_pb2_grpc.py and their .pyi under out."""
    well_known = str(resources.files("grpc_tools") / "_proto")
    args = [
        "grpc_tools.protoc",
        "-I.",
        f"-I{well_known}",
        f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
        f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_out={out}",
        f"--mypy_grpc_out={out}",
        *(str(p) for p in proto_files()),
    ]
    out.mkdir(parents=True, exist_ok=True)
    # From the repository root, so generated import paths follow the file layout.
    with contextlib.chdir(ROOT):
        code = protoc.main(args)
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")


if __name__ == "__main__":
    build(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT)
