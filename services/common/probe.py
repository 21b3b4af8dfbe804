"""Probing media files with PyAV: what the contract's MediaProbe reports."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO, Any, cast

import av
import av.error

from protos.common.v1 import media_pb2
from services.common.errors import PermanentError, R

_HDR_TRANSFER = {16: "hdr10", 18: "hlg"}  # AVCOL_TRC_SMPTE2084, AVCOL_TRC_ARIB_STD_B67
# Demuxers that render text files (ANSI art and its cousins) as "video": never a real source.
_TEXT_DEMUXERS = frozenset({"tty", "bin", "xbin", "idf", "adf"})


def open_media(path: Path | io.RawIOBase | IO[bytes]) -> av.container.InputContainer:
    """Opens a file (or a readable file object, seekable or a stream) for decoding;
    PermanentError(PROBE_FAILED) when FFmpeg cannot read it."""
    try:
        target: Any = str(path) if isinstance(path, Path) else path
        container = cast(av.container.InputContainer, av.open(target, "r", metadata_errors="ignore"))
    except av.error.FFmpegError as exc:
        raise PermanentError(
            f"The source is not a media file FFmpeg can read ({exc.strerror or exc}).", reason=R.PROBE_FAILED
        ) from exc
    if container.format.name in _TEXT_DEMUXERS:
        container.close()
        raise PermanentError("The source is not a media file FFmpeg can read (it is text).", reason=R.PROBE_FAILED)
    return container


def probe_file(path: Path, *, require_video: bool = True) -> media_pb2.MediaProbe:
    """Duration, container, streams, codecs, dimensions, fps and bitrates of a file."""
    with open_media(path) as container:
        return describe(container, os.path.getsize(path), require_video=require_video)


def probe_stream(stream: io.RawIOBase | IO[bytes], size: int) -> media_pb2.MediaProbe:
    """The same, from a file object: a remote file read with Range requests, a body streamed from its
    start (what FFmpeg can tell without seeking), or a scratch file."""
    with open_media(stream) as container:
        return describe(container, size)


def describe(container: av.container.InputContainer, size: int, *, require_video: bool = True) -> media_pb2.MediaProbe:
    """The probe of an open container (its headers only: nothing is decoded)."""
    probe = media_pb2.MediaProbe(container=container.format.name, bit_rate=container.bit_rate or 0, size_bytes=size)
    durations = [float(s.duration * s.time_base) for s in container.streams if s.duration and s.time_base]
    if container.duration:
        probe.duration_sec = container.duration / av.time_base
    elif durations:
        probe.duration_sec = max(durations)
    if container.streams.video:
        best = container.streams.best("video")
        video = best if isinstance(best, av.video.stream.VideoStream) else container.streams.video[0]
        ctx = video.codec_context
        rate = video.average_rate or video.guessed_rate
        probe.has_video = True
        probe.video_codec = ctx.codec.canonical_name  # the format, not the decoder (av1, not libdav1d)
        probe.width = ctx.width
        probe.height = ctx.height
        probe.fps = float(rate) if rate else 0.0
        probe.pix_fmt = ctx.format.name if ctx.format else ""
        probe.video_bit_rate = ctx.bit_rate or 0
        probe.color.kind = _HDR_TRANSFER.get(int(ctx.color_trc or 0), "sdr" if ctx.color_trc else "unknown")
    elif require_video:
        raise PermanentError("The source has no video stream.", reason=R.NO_VIDEO_STREAM)
    audio = container.streams.audio
    probe.audio_streams = len(audio)
    if audio:
        probe.audio_codec = audio[0].codec_context.codec.canonical_name
        probe.audio_channels = audio[0].codec_context.channels
        probe.audio_sample_rate = audio[0].codec_context.sample_rate
        probe.audio_bit_rate = audio[0].codec_context.bit_rate or 0
    return probe
