"""What a stored file holds, read with PyAV (blocking: callers run these in threads).

Thumbnails are JPEGs in the Media API's three widths: a video's poster frame (a tenth of the way
in, at most 10 s), or the image itself, scaled, never wider than the source.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType

import av
import av.error

from protos.common.v1 import media_pb2
from services.common.errors import FailedPrecondition, PermanentError, R
from services.common.probe import open_media, probe_file

SIZES: Mapping[str, int] = MappingProxyType({"small": 160, "medium": 320, "large": 640})
_PROBED = ("video", "audio", "image")
_LAMBDA = 118  # FF_QP2LAMBDA: JPEG quality 3 on FFmpeg's 2 (best) .. 31 scale


def probe(path: Path, file_type: str) -> tuple[media_pb2.MediaProbe | None, str]:
    """The probe of a video, audio or image file, or why there is none ("" and None for other types).

    Kept per content, whatever a record calls it: so a video stream is never required."""
    if file_type not in _PROBED:
        return None, ""
    try:
        return probe_file(path, require_video=False), ""
    except PermanentError as exc:
        return None, exc.message


def thumbnail(path: Path, file_type: str, size: str) -> bytes:
    """A JPEG `SIZES[size]` pixels wide (at most the source's width) from a video or an image."""
    if file_type not in ("video", "image"):
        raise FailedPrecondition("Thumbnails are made of videos and images only.", reason=R.OUTPUT_NOT_AVAILABLE)
    try:
        frame = _frame(path)
    except (PermanentError, av.error.FFmpegError, ValueError) as exc:
        raise FailedPrecondition("No picture could be read from this file.", reason=R.OUTPUT_NOT_AVAILABLE) from exc
    return _jpeg(frame, SIZES[size])


def _frame(path: Path) -> av.VideoFrame:
    """A tenth of the way into a video (at most 10 s), or an image's only frame."""
    with open_media(path) as container:
        if not container.streams.video:
            raise ValueError("no video stream")
        stream = container.streams.video[0]
        duration = float(container.duration / av.time_base) if container.duration else 0.0
        at = min(duration / 10, 10.0)
        if at > 0 and stream.time_base:
            container.seek(int(at / stream.time_base), stream=stream, backward=True)
        chosen: av.VideoFrame | None = None
        for frame in container.decode(stream):
            chosen = frame
            if frame.time is None or frame.time >= at:
                break
        if chosen is None:
            raise ValueError("no frame decodes")
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
