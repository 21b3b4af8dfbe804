"""Running the transcode pipeline directly in tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from services.encoder.pipeline import EncodeSpec, TranscodeResult, transcode

BASE = EncodeSpec(codec="h264", container="mp4", resolution="480p", preset="fast", frame_rate_policy="preserve")


@dataclass
class Recorder:
    """A Reporter that keeps what it is told."""

    progress_values: list[float] = field(default_factory=list)
    logs: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    beats: int = 0

    def progress(self, percent: float) -> None:
        self.progress_values.append(percent)

    def log(self, level: str, message: str, details: dict[str, Any] | None = None) -> None:
        self.logs.append((level, message, details))

    def beat(self) -> None:
        self.beats += 1


def encode(src: Path, dst: Path, recorder: Recorder | None = None, **options: Any) -> TranscodeResult:
    """Transcodes with BASE overridden by options; the container follows dst's suffix."""
    spec = replace(BASE, container=dst.suffix.lstrip(".") or "mp4", **options)
    result, _probe = transcode(
        src, dst, spec, report=recorder or Recorder(), stop=threading.Event(), workdir=dst.parent
    )
    return result
