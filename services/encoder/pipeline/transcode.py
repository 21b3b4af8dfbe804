"""A whole transcode: one or two passes of demux -> decode -> video/audio paths -> mux.

Runs in a worker process (never on an event loop). Memory stays flat: frames stream from the
demuxer through the encoders to the muxer, which writes to disk. The source is opened once per
pass: its probe comes from the open container, and the plan from the first decoded frame (the
packets demuxed before it are held until the output exists).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import av.error
from av.video.stream import VideoStream

from protos.common.v1 import media_pb2
from services.common.errors import PermanentError, R
from services.common.probe import describe, open_media
from services.encoder import profiles
from services.encoder.pipeline.audio import AudioTrack
from services.encoder.pipeline.plan import Plan, make_plan, video_stream
from services.encoder.pipeline.spec import EncodeSpec, Interrupted, Reporter, StopFlag, TranscodeResult
from services.encoder.pipeline.video import VideoPipe

_MAX_BAD_PACKETS = 100
_LOGGED_BAD_PACKETS = 5
_PROGRESS_EVERY = 0.5  # seconds
_BEAT_EVERY = 1.0  # seconds: the parent's watchdog hears from a working child at least this often

# A packet read ahead, and the frames it decoded to (None: not decoded yet).
Item = tuple["av.Packet[Any]", list[Any] | None]


class _Progress:
    """Output time as a share of the duration, mapped into this pass's window, throttled."""

    def __init__(self, report: Reporter, duration: float, window: tuple[float, float]) -> None:
        self._report, self._duration, self._window = report, duration, window
        self._last = 0.0  # the first output frame reports at once
        self._spoke = time.monotonic()

    def at(self, seconds: float) -> None:
        now = time.monotonic()
        if self._duration > 0 and now - self._last >= _PROGRESS_EVERY:
            self._last = self._spoke = now
            low, high = self._window
            share = max(0.0, min(1.0, seconds / self._duration))
            self._report.progress(min(99.9, low + (high - low) * share))

    def tick(self) -> None:
        """Called per packet: a heartbeat when nothing else was said for a while."""
        now = time.monotonic()
        if now - self._spoke >= _BEAT_EVERY:
            self._spoke = now
            self._report.beat()


@dataclass
class _Pass:
    """One pass's settings and what it found."""

    number: int  # 0: the only pass; 1 or 2 of a two-pass encode
    window: tuple[float, float]
    stats: Path | None = None
    plan: Plan | None = None
    probe: media_pb2.MediaProbe | None = None
    bad: int = 0
    notes: list[str] = field(default_factory=list)


def transcode(
    src: Path, dst: Path, spec: EncodeSpec, *, report: Reporter, stop: StopFlag, workdir: Path
) -> tuple[TranscodeResult, media_pb2.MediaProbe]:
    """Encodes src into dst; the result and the source's probe. PermanentError for media that
    cannot be encoded, Interrupted when `stop` is set."""
    passes = [_Pass(0, (0, 100))]
    if spec.passes == 2 and profiles.supports_two_pass(spec.codec):
        stats = workdir / "passlog"
        passes = [_Pass(1, (0, 50), stats), _Pass(2, (50, 100), stats)]
    plan: Plan | None = None
    try:
        for current in passes:
            current.plan = plan
            _run(src, Path(os.devnull) if current.number == 1 else dst, spec, current, report, stop)
            plan = current.plan
    except av.error.FFmpegError as exc:
        raise PermanentError(f"Encoding failed: {exc.strerror or exc}.", reason=R.ENCODE_FAILED) from exc
    last, first = passes[-1], passes[0]
    assert plan is not None and first.probe is not None
    first.probe.rotation = plan.rotation
    result = TranscodeResult(
        encoder=profiles.VIDEO[spec.codec].encoder,
        passes=len(passes),
        width=plan.width,
        height=plan.height,
        skipped_packets=last.bad,
        warnings=plan.warnings + tuple(last.notes),
    )
    return result, first.probe


def _run(src: Path, dst: Path, spec: EncodeSpec, current: _Pass, report: Reporter, stop: StopFlag) -> None:
    """One pass. Pass 1 of two writes only the encoder's statistics (video, to the null muxer)."""
    muxer, _audio, faststart, _type = profiles.CONTAINERS[spec.container]
    options = {"movflags": "+faststart"} if faststart and current.number != 1 else {}
    with open_media(src) as inp:
        current.probe = describe(inp, src.stat().st_size)
        vin = video_stream(inp)
        vin.thread_type = "AUTO"
        ains = [] if spec.audio_policy == "strip" or current.number == 1 else list(inp.streams.audio)
        packets = inp.demux([vin, *ains])
        held: list[Item] = []
        progress = _Progress(report, current.probe.duration_sec, current.window)
        if current.plan is None:
            first, held, current.bad = _first_frame(packets, vin, stop, progress.tick)
            current.plan = make_plan(first, vin, spec)
            for warning in current.plan.warnings:
                report.log("WARNING", warning)
        plan = current.plan
        video_options = profiles.video_options(
            spec.codec,
            spec.preset,
            spec.quality,
            spec.bitrate_tier,
            min(plan.width, plan.height),
            pass_no=current.number,
            stats=current.stats,
        )
        start = (inp.start_time or 0) / av.time_base
        with av.open(str(dst), "w", format="null" if current.number == 1 else muxer, options=options) as out:
            video = VideoPipe(vin, out, spec, plan, video_options, progress.at, start=start, tick=progress.tick)
            tracks = {a.index: AudioTrack(a, out, spec, start=start) for a in ains}
            route = _Router(vin, video, tracks, report, progress, current.bad)
            for packet, frames in held:
                if frames is None:
                    route.packet(packet)  # audio read while looking for the first picture
                else:
                    route.decoded(packet, frames)
            for packet in packets:
                if stop.is_set():
                    raise Interrupted()
                route.packet(packet)
            video.finish()
            for track in tracks.values():
                track.finish()
            current.bad = route.bad
    if video.frames_out == 0:
        raise PermanentError("No frame of the video could be decoded.", reason=R.DECODE_FAILED)
    current.notes = [t.note for t in tracks.values() if t.note]
    if video.timeline.discontinuities:
        current.notes.append(
            f"The source's timestamps jumped {video.timeline.discontinuities} times; the output is continuous."
        )


def _first_frame(
    packets: Iterator[av.Packet[Any]], vin: VideoStream, stop: StopFlag, tick: Callable[[], None]
) -> tuple[av.VideoFrame, list[Item], int]:
    """Demuxes until a video frame decodes; everything read on the way is held, in order."""
    held: list[Item] = []
    bad = 0
    for packet in packets:
        if stop.is_set():
            raise Interrupted()
        tick()  # a long run of audio, or of damage, before the first picture is still progress
        if packet.stream is not vin:
            held.append((packet, None))
            continue
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            bad += 1  # damage before the first picture: skipped, like any damaged packet
            if bad > _MAX_BAD_PACKETS:
                break
            continue
        held.append((packet, frames))
        if frames:
            return frames[0], held, bad
    raise PermanentError("No frame of the video could be decoded.", reason=R.DECODE_FAILED)


class _Router:
    """Sends each packet (or its decoded frames) to the video path or its audio track."""

    def __init__(
        self,
        vin: VideoStream,
        video: VideoPipe,
        tracks: dict[int, AudioTrack],
        report: Reporter,
        progress: _Progress,
        bad: int,
    ) -> None:
        self.vin, self.video, self.tracks, self.report, self.progress = vin, video, tracks, report, progress
        self.bad = bad

    def packet(self, packet: av.Packet[Any]) -> None:
        self.progress.tick()
        track = self.tracks.get(packet.stream.index)
        if track is not None and track.copy:
            track.packet(packet)
            return
        try:
            frames = packet.decode()
        except av.error.FFmpegError as exc:
            self._damaged(packet, exc)
            return
        self.decoded(packet, frames)

    def decoded(self, packet: av.Packet[Any], frames: list[Any]) -> None:
        if packet.stream is self.vin:
            for frame in frames:
                self.video.push(frame)
            return
        track = self.tracks.get(packet.stream.index)
        if track is not None:
            for frame in frames:
                track.decoded(frame)

    def _damaged(self, packet: av.Packet[Any], exc: av.error.FFmpegError) -> None:
        """A damaged packet is skipped, as players do; too many mean the file is broken."""
        self.bad += 1
        if self.bad <= _LOGGED_BAD_PACKETS:
            at = float(packet.pts * packet.time_base) if packet.pts is not None else None
            details = {"stream": packet.stream.index, "time": at, "error": str(exc.strerror)}
            self.report.log("WARNING", "Skipped a damaged packet of the source.", details)
        if self.bad > _MAX_BAD_PACKETS:
            raise PermanentError(
                f"The source is damaged: more than {_MAX_BAD_PACKETS} packets could not be decoded.",
                reason=R.DECODE_FAILED,
            ) from exc
