"""The video path: decoded frames -> one reused filter graph -> encoder -> muxer."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import cast

import av
import av.error
import av.filter
from av.container import OutputContainer
from av.video.frame import PictureType
from av.video.stream import VideoStream

from services.encoder import profiles
from services.encoder.pipeline.plan import Plan
from services.encoder.pipeline.spec import EncodeSpec
from services.encoder.pipeline.timeline import Timeline

_MAX_GAP = 60.0  # seconds: a longer leap forward is a timestamp jump, not a pause in the picture


class VideoPipe:
    """Owns the filter graph (rebuilt only if the source's frame format changes) and the encoder."""

    def __init__(
        self,
        vin: VideoStream,
        out: OutputContainer,
        spec: EncodeSpec,
        plan: Plan,
        options: dict[str, str],
        on_time: Callable[[float], None],
        *,
        start: float,
        tick: Callable[[], None] = lambda: None,
    ) -> None:
        self.vin, self.out, self.plan, self.on_time, self.tick = vin, out, plan, on_time, tick
        profile = profiles.VIDEO[spec.codec]
        self.time_base = Fraction(1, 1) / plan.rate if plan.rate else (vin.time_base or Fraction(1, 90000))
        rate = plan.rate or plan.source_rate
        self.stream = cast(VideoStream, out.add_stream(profile.encoder, rate=rate, options=options))
        self.stream.width, self.stream.height, self.stream.pix_fmt = plan.width, plan.height, "yuv420p"
        self.stream.codec_context.time_base = self.time_base
        self.stream.codec_context.thread_type = "AUTO"
        if profile.codec_tag and spec.container in ("mp4", "mov"):
            self.stream.codec_tag = profile.codec_tag
        in_tb = vin.time_base or Fraction(1, 90000)
        step = max(1, int(1 / (plan.source_rate * in_tb))) if plan.source_rate else 1
        # One origin for every stream (the container's start) keeps audio and video in sync.
        self.timeline = Timeline(origin=int(start / in_tb), step=step, max_gap=int(_MAX_GAP / in_tb))
        self.graph: av.filter.Graph | None = None
        self._shape: tuple[int, int, str] | None = None
        self.frames_in = 0
        self.frames_out = 0

    def _build(self, frame: av.VideoFrame) -> av.filter.Graph:
        graph = av.filter.Graph()
        source = graph.add_buffer(
            width=frame.width, height=frame.height, format=frame.format, time_base=self.vin.time_base
        )
        node = source
        for name, args in self.plan.filters:
            nxt = graph.add(name, args) if args else graph.add(name)
            node.link_to(nxt)
            node = nxt
        sink = graph.add("buffersink")
        node.link_to(sink)
        graph.configure()
        return graph

    def push(self, frame: av.VideoFrame) -> None:
        shape = (frame.width, frame.height, frame.format.name)
        if self.graph is None or shape != self._shape:
            if self.graph is not None:
                self._drain(flush=True)  # the source changed size or format mid-stream
            self.graph, self._shape = self._build(frame), shape
        frame.pts = self.timeline.fix(frame.pts)
        self.frames_in += 1
        self.graph.push(frame)
        self._drain()

    def _drain(self, flush: bool = False) -> None:
        assert self.graph is not None
        if flush:
            self.graph.push(None)
        while True:
            try:
                frame = self.graph.vpull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            # Let the encoder choose frame types: the decoder's would be copied otherwise.
            frame.pict_type = PictureType.NONE
            frame.time_base = self.time_base
            self.out.mux(self.stream.encode(frame))
            self.frames_out += 1
            if frame.pts is not None:
                self.on_time(float(frame.pts * self.time_base))

    def finish(self) -> None:
        if self.graph is not None:
            self._drain(flush=True)
        # Packet by packet: flushing an encoder's look-ahead (dozens of frames at a slow preset) can take
        # long, and each packet tells the watchdog the encode still moves.
        for packet in self.stream.codec_context.encode_lazy(None):
            packet.stream = self.stream
            self.out.mux(packet)
            self.tick()
