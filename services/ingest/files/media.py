"""What a stored file holds, read with PyAV (blocking: callers run these in threads).

Thumbnails are JPEGs in the Media API's three widths: a video's poster frame (a tenth of the way
in, at most 10 s), or the image itself, scaled, never wider than the source.
"""

from __future__ import annotations

from pathlib import Path

import av
import av.error

from protos.common.v1 import media_pb2
from services.common.errors import FailedPrecondition, PermanentError, R
from services.common.posters import SIZES, frame_at, jpeg
from services.common.probe import probe_file

_PROBED = ("video", "audio", "image")


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
        frame = frame_at(path)
    except (PermanentError, av.error.FFmpegError, ValueError) as exc:
        raise FailedPrecondition("No picture could be read from this file.", reason=R.OUTPUT_NOT_AVAILABLE) from exc
    return jpeg(frame, SIZES[size])
