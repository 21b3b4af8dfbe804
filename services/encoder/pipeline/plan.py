"""Planning an encode from the source's first video frame: orientation, size, rate, filters."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av
from av.container import InputContainer
from av.video.stream import VideoStream

from services.common.errors import PermanentError, R
from services.encoder import profiles
from services.encoder.pipeline.spec import EncodeSpec


@dataclass(frozen=True)
class Plan:
    stream_index: int
    rotation: int  # clockwise degrees applied to make the picture upright: 0, 90, 180, 270
    width: int  # output
    height: int
    rate: Fraction | None  # output frame rate; None keeps the source's timing
    source_rate: Fraction
    filters: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]


def video_stream(container: InputContainer) -> VideoStream:
    """The source's main video stream (not necessarily the first stream)."""
    if not container.streams.video:
        raise PermanentError("The source has no video stream.", reason=R.NO_VIDEO_STREAM)
    best = container.streams.best("video")
    return best if isinstance(best, VideoStream) else container.streams.video[0]


def make_plan(first: av.VideoFrame, stream: VideoStream, spec: EncodeSpec) -> Plan:
    """Decides the output from the source's first decoded frame (its real size and orientation)."""
    source_rate = stream.average_rate or stream.guessed_rate or Fraction(30)
    sar = stream.codec_context.sample_aspect_ratio or Fraction(1)
    rotation = (-int(round(first.rotation or 0))) % 360
    rotation = min((0, 90, 180, 270, 360), key=lambda r: abs(r - rotation)) % 360
    width = first.width * (sar if sar > 0 else 1)
    height = first.height
    if rotation in (90, 270):
        width, height = height, width
    out_w, out_h = profiles.target_size(max(1, round(width)), max(1, height), spec.resolution, spec.scale_policy)
    wanted = profiles.output_rate(float(source_rate), spec.fps, spec.frame_rate_policy)
    rate = Fraction(wanted).limit_denominator(1001) if wanted else None
    filters: list[tuple[str, str]] = []
    filters += {90: [("transpose", "clock")], 180: [("hflip", ""), ("vflip", "")], 270: [("transpose", "cclock")]}.get(
        rotation, []
    )
    if rate is not None:
        filters.append(("fps", f"fps={rate}"))
    filters += [("scale", f"{out_w}:{out_h}:flags=bicubic"), ("setsar", "1"), ("format", "pix_fmts=yuv420p")]
    warnings = []
    if spec.passes == 2 and not profiles.supports_two_pass(spec.codec):
        warnings.append(f"Two-pass encoding is not available for {spec.codec}; encoded in one pass.")
    return Plan(stream.index, rotation, out_w, out_h, rate, source_rate, tuple(filters), tuple(warnings))
