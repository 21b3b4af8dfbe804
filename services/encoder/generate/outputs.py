"""The MP4s of a generation: H.264 + AAC, fast start, the main size and a 720p rendition in one pass.

Each rendered frame is converted to YUV once; the rendition is scaled from that same frame. The
audio is encoded once and its packets muxed into every file. Encoder settings are the encode
pipeline's own (profiles: preset "fast", quality "better", bitrate tier "medium").
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.reformatter import ColorRange, Colorspace, Interpolation, VideoReformatter
from av.video.stream import VideoStream

from services.encoder import profiles
from services.encoder.generate.soundtrack import RATE

_BT709 = 1  # AVCOL_PRI_BT709 / AVCOL_TRC_BT709 / AVCOL_SPC_BT709: HD pictures, tagged so players agree
_LIMITED = 1  # AVCOL_RANGE_MPEG
PRESET, QUALITY, TIER = "fast", "better", "medium"


@dataclass(frozen=True)
class Output:
    """One written file."""

    quality: str  # "1080p", "720p", "480p"
    path: Path
    width: int
    height: int


class _File:
    def __init__(self, output: Output, fps: int, *, encodes_audio: bool) -> None:
        self.output = output
        self.container: OutputContainer = av.open(
            str(output.path), "w", format="mp4", options={"movflags": "+faststart"}
        )
        options = profiles.video_options("h264", PRESET, QUALITY, TIER, min(output.width, output.height))
        self.video: VideoStream = self.container.add_stream("libx264", rate=fps, options=options)
        self.video.width, self.video.height, self.video.pix_fmt = output.width, output.height, "yuv420p"
        context = self.video.codec_context
        context.time_base = Fraction(1, fps)
        context.thread_type = "AUTO"
        context.color_primaries, context.color_trc, context.colorspace = _BT709, _BT709, _BT709
        context.color_range = _LIMITED
        # FFmpeg's fast AAC coder: a fraction of the default's time, transparent for voice and a pad. Only
        # the first file's encoder runs; the others' streams take copies of its packets.
        coder = {"aac_coder": "fast"} if encodes_audio else {}
        self.audio: AudioStream = self.container.add_stream("aac", rate=RATE, layout="stereo", options=coder)
        self.audio.bit_rate = profiles.audio_bitrate(TIER)


class Outputs:
    """The open files; `video` and `audio` feed them, `close` flushes and finishes them."""

    def __init__(self, outputs: list[Output], fps: int) -> None:
        self.fps = fps
        self._files: list[_File] = []
        try:
            for number, output in enumerate(outputs):
                self._files.append(_File(output, fps, encodes_audio=number == 0))
        except BaseException:
            self.abort()
            raise
        self._to_yuv = VideoReformatter()
        self._scalers = [VideoReformatter() for _ in self._files[1:]]
        self.last: av.VideoFrame | None = None  # the main size's latest YUV frame (posters are made from it)

    def video(self, picture: av.VideoFrame, index: int) -> None:
        """Frame `index` (BGRA, reused by the caller afterwards) into every file."""
        yuv = self._to_yuv.reformat(
            picture, format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG
        )
        self.encode_yuv(yuv, index)

    def encode_yuv(self, yuv: av.VideoFrame, index: int) -> None:
        """A YUV 4:2:0 frame of the main size into the main file, and scaled into the others."""
        self._encode(self._files[0], yuv, index)
        for file, scaler in zip(self._files[1:], self._scalers, strict=True):
            small = scaler.reformat(
                yuv, width=file.output.width, height=file.output.height, interpolation=Interpolation.AREA
            )
            self._encode(file, small, index)
        self.last = yuv

    def _encode(self, file: _File, frame: av.VideoFrame, index: int) -> None:
        frame.pts = index
        frame.time_base = Fraction(1, self.fps)
        file.container.mux(file.video.encode(frame))

    def audio(self, frames: list[av.AudioFrame]) -> None:
        """Audio frames, encoded once; every file gets a copy of each packet."""
        main = self._files[0]
        for frame in frames:
            for packet in main.audio.encode(frame):
                self._everywhere(packet)

    def _everywhere(self, packet: av.Packet[Any]) -> None:
        for file in self._files[1:]:
            copy = av.Packet(bytes(packet))
            copy.pts, copy.dts, copy.duration = packet.pts, packet.dts, packet.duration
            copy.time_base = packet.time_base
            copy.is_keyframe = packet.is_keyframe
            copy.stream = file.audio
            file.container.mux(copy)
        packet.stream = self._files[0].audio
        self._files[0].container.mux(packet)

    def close(self) -> list[Output]:
        """Flushes the encoders and finishes the files (the moov atom moves to the front here)."""
        for packet in self._files[0].audio.encode(None):
            self._everywhere(packet)
        for file in self._files:
            file.container.mux(file.video.encode(None))
        for file in self._files:
            file.container.close()
        return [f.output for f in self._files]

    def abort(self) -> None:
        """Closes whatever is open and deletes the partial files."""
        for file in self._files:
            try:
                file.container.close()
            except Exception:  # noqa: BLE001 - the files are deleted next: a failed close changes nothing
                pass
            file.output.path.unlink(missing_ok=True)
