"""What a transcode is asked to do, what it reports while running, and what it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class EncodeSpec:
    codec: str
    container: str
    resolution: str
    preset: str = "fast"
    quality: str = "better"
    audio_policy: str = "transcode-aac"
    scale_policy: str = "no-upscale"
    fps: int = 30
    frame_rate_policy: str = "preserve"
    bitrate_tier: str = "medium"
    passes: int = 1


@dataclass(frozen=True)
class TranscodeResult:
    encoder: str
    passes: int
    width: int
    height: int
    skipped_packets: int
    warnings: tuple[str, ...]


class Interrupted(Exception):
    """The encode was told to stop (shutdown or cancel) before it finished."""


class Reporter(Protocol):
    """Where a running transcode reports; called from the encoding thread or process."""

    def progress(self, percent: float) -> None: ...

    def log(self, level: str, message: str, details: dict[str, Any] | None = None) -> None: ...

    def beat(self) -> None:
        """Still working (when there is no progress to report: the watchdog listens for this)."""


class StopFlag(Protocol):
    """threading.Event or multiprocessing.Event: checked between frames."""

    def is_set(self) -> bool: ...
