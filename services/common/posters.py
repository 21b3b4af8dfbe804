"""Poster frames as JPEGs in the Media API's three widths: the encoder's thumbnails and stored files'."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType

import av

from services.common.probe import open_media

# Width in pixels of each size (never wider than the video; height keeps the aspect).
SIZES: Mapping[str, int] = MappingProxyType({"small": 160, "medium": 320, "large": 640})
_LAMBDA = 118  # FF_QP2LAMBDA: JPEG quality 3 on FFmpeg's 2 (best) .. 31 scale


def default_time(duration: float) -> float:
    """A tenth of the way in, at most 10 s."""
    return min(duration / 10, 10.0)


def frame_at(video: Path, at: float | None = None) -> av.VideoFrame:
    """The frame shown at `at` seconds (default: default_time of the container's duration); for an
    image, its only frame. ValueError when nothing decodes."""
    with open_media(video) as container:
        if not container.streams.video:
            raise ValueError("no video stream")
        stream = container.streams.video[0]
        if at is None:
            at = default_time(float(container.duration / av.time_base) if container.duration else 0.0)
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


def jpeg(frame: av.VideoFrame, width: int) -> bytes:
    """The frame as a JPEG `width` pixels wide at most (even dimensions, aspect kept)."""
    width = min(width, frame.width) // 2 * 2 or 2
    height = max(2, round(frame.height * width / frame.width / 2) * 2)
    picture = frame.reformat(width=width, height=height, format="yuvj420p")
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuvj420p"
    codec.time_base = Fraction(1, 25)
    codec.flags |= av.codec.context.Flags.qscale
    codec.global_quality = 3 * _LAMBDA
    return b"".join(bytes(p) for p in [*codec.encode(picture), *codec.encode(None)])
