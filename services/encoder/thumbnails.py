"""Poster frames: one JPEG at a chosen time, in the three sizes of the Media API's thumbnail routes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from services.common.posters import SIZES, default_time, frame_at, jpeg


def poster_time(duration: float, requested: float | None) -> float:
    """The requested time within the video, else a tenth of the way in (at most 10 s)."""
    if requested is not None and requested >= 0:
        return min(requested, max(0.0, duration - 0.05))
    return default_time(duration)


def make_thumbnails(video: Path, at: float, outputs: Mapping[str, Path]) -> None:
    """Writes one JPEG per size (outputs: size -> path) from the frame shown at `at` seconds."""
    frame = frame_at(video, at)
    for size, path in outputs.items():
        path.write_bytes(jpeg(frame, SIZES[size]))
