"""Poster frames: one JPEG at a chosen time, in the three sizes of the Media API's thumbnail routes."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType

import av
import av.error

from services.common.probe import open_media

# Width in pixels of each size (never wider than the video; height keeps the aspect).
SIZES: Mapping[str, int] = MappingProxyType({"small": 160, "medium": 320, "large": 640})
_LAMBDA = 118  # FF_QP2LAMBDA: JPEG quality 3 on FFmpeg's 2 (best) .. 31 scale


def poster_time(duration: float, requested: float | None) -> float:
    """The requested time within the video, else a tenth of the way in (at most 10 s)."""
    if requested is not None and requested >= 0:
        return min(requested, max(0.0, duration - 0.05))
    return min(duration / 10, 10.0)


def _frame_at(video: Path, at: float) -> av.VideoFrame:
    with open_media(video) as container:
        stream = container.streams.video[0]
        if at > 0 and stream.time_base:
            container.seek(int(at / stream.time_base), stream=stream, backward=True)
        chosen: av.VideoFrame | None = None
        for frame in container.decode(stream):
            chosen = frame
            if frame.time is None or frame.time >= at:
                break
        if chosen is None:
            raise ValueError("no frame to make a poster from")
        return chosen


def _jpeg(frame: av.VideoFrame, width: int) -> bytes:
    width = min(width, frame.width) // 2 * 2 or 2
    height = max(2, round(frame.height * width / frame.width / 2) * 2)
    picture = frame.reformat(width=width, height=height, format="yuvj420p")
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuvj420p"
    codec.time_base = Fraction(1, 25)
    codec.flags |= av.codec.context.Flags.qscale
    codec.global_quality = 3 * _LAMBDA
    return b"".join(bytes(p) for p in [*codec.encode(picture), *codec.encode(None)])


def make_thumbnails(video: Path, at: float, outputs: Mapping[str, Path]) -> None:
    """Writes one JPEG per size (outputs: size -> path) from the frame shown at `at` seconds."""
    frame = _frame_at(video, at)
    for size, path in outputs.items():
        path.write_bytes(_jpeg(frame, SIZES[size]))
