"""The committed generated code matches the .proto files."""

from __future__ import annotations

import filecmp
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_build() -> object:
    spec = importlib.util.spec_from_file_location("protos_build", ROOT / "protos" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_code_is_fresh(tmp_path: Path) -> None:
    build = _load_build()
    build.build(tmp_path)  # type: ignore[attr-defined]
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*_pb2*"))
    committed = sorted(p.relative_to(ROOT) for p in (ROOT / "protos").rglob("*_pb2*"))
    assert generated, "protoc produced nothing"
    assert generated == committed, "run `python protos/build.py` (generated files differ)"
    stale = [str(p) for p in generated if not filecmp.cmp(tmp_path / p, ROOT / p, shallow=False)]
    if stale:
        pytest.fail(f"stale generated code, run `python protos/build.py`: {stale}")
