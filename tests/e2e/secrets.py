"""Where a customer secret must never be: what tests search after running jobs that carried one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import nats
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@asynccontextmanager
async def bus_recorder(nats_url: str) -> AsyncIterator[list[bytes]]:
    """Every message on the bus while the context lasts (core and JetStream), headers included."""
    seen: list[bytes] = []
    watcher = await nats.connect(nats_url)

    async def record(msg: Any) -> None:
        seen.append(msg.data + repr(msg.headers).encode())

    await watcher.subscribe(">", cb=record)
    try:
        yield seen
    finally:
        await watcher.drain()


def haystacks(
    *, logs: str, spans: InMemorySpanExporter, bus: Iterable[bytes], answers: Iterable[str], data_dir: Path
) -> dict[str, str]:
    """The logs, every span, every bus message, the responses and every file of the data directory."""
    found = {
        "logs": logs,
        "spans": "\n".join(repr((s.name, dict(s.attributes or {}), s.events)) for s in spans.get_finished_spans()),
        "NATS": b"\n".join(bus).decode("latin-1"),
        "responses": "\n".join(answers),
        "files": b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file()).decode("latin-1"),
    }
    assert found["NATS"] and found["spans"], "nothing was recorded to search"
    return found


def assert_nowhere(secrets: Iterable[str], places: dict[str, str], what: str = "a customer secret") -> None:
    for secret in secrets:
        assert secret, "an empty secret proves nothing"
        for where, text in places.items():
            assert secret not in text, f"{what} appears in the {where}"
