"""No module attaches listeners to every Session (or to a table's mapper or columns) when it is imported:
side effects of a change are staged explicitly by the use case, in the transaction that causes them.

Each check runs in a fresh interpreter that imports every module of services/ and gateway/, so what it
sees is exactly what importing them registers (the test process itself has imported all sorts).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]

# Prints {"<where> <event>": ["<listener>", ...]} for every listener found after the imports.
_SCRIPT = """
import importlib, json, pkgutil, sys
import sqlalchemy.orm, sqlmodel
from sqlalchemy import inspect
from sqlalchemy.orm import AttributeEvents, MapperEvents, SessionEvents

for package in ("services", "gateway"):
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if ".migrations" not in info.name:  # Alembic scripts, run by Alembic only
            importlib.import_module(info.name)
if sys.argv[1:] == ["plant"]:  # the check's own check: one listener it must find
    sqlalchemy.event.listen(sqlmodel.Session, "before_flush", lambda *_: None)

def names(events):
    return [n for n in dir(events) if not n.startswith("_") and n != "dispatch"]

def found(where, dispatch, events):
    for name in names(events):
        listeners = list(getattr(dispatch, name))
        if listeners:
            out[f"{where} {name}"] = [getattr(fn, "__qualname__", repr(fn)) for fn in listeners]

out = {}
for cls in (sqlalchemy.orm.Session, sqlmodel.Session):
    found(f"{cls.__module__}.Session", cls().dispatch, SessionEvents)
mappers = {m for registry in sqlalchemy.orm.mapperlib._all_registries() for m in registry.mappers}
for mapper in sorted(mappers, key=lambda m: m.class_.__qualname__):
    name = f"{mapper.class_.__module__}.{mapper.class_.__qualname__}"
    found(name, mapper.dispatch, MapperEvents)
    for key, attr in mapper.class_manager.items():
        found(f"{name}.{key}", attr.dispatch, AttributeEvents)
print(json.dumps({"mappers": len(mappers), "listeners": out}))
"""


def _listeners(*args: str) -> tuple[int, dict[str, list[str]]]:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *args], cwd=_ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return int(answer["mappers"]), answer["listeners"]


def test_importing_the_services_attaches_no_listener_to_sessions_or_tables() -> None:
    mappers, listeners = _listeners()
    assert mappers >= 15  # every service's tables were seen (jobs alone has 8)
    assert listeners == {}


def test_the_check_finds_a_listener() -> None:
    _, listeners = _listeners("plant")
    assert "<lambda>" in listeners["sqlmodel.orm.session.Session before_flush"]
