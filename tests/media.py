"""Clips synthesized with PyAV for tests and benchmarks: moving gradients, noise, a tone."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import av
import numpy as np
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

_RATE = 48000


def synthesize(
    path: Path,
    *,
    width: int = 1920,
    height: int = 1080,
    fps: int = 30,
    seconds: float = 2.0,
    audio: bool = True,
    noise: int = 32,
    preset: str = "ultrafast",
) -> Path:
    """Writes an H.264 (+ AAC stereo 48 kHz) MP4 with motion and noise in every frame."""
    rng = np.random.default_rng(7)
    ys, xs = np.mgrid[0:height, 0:width]
    frames = int(round(seconds * fps))
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps, options={"preset": preset, "crf": "20"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        tone = _Tone(out.add_stream("aac", rate=_RATE, layout="stereo")) if audio else None
        for i in range(frames):
            rgb = np.empty((height, width, 3), np.uint8)
            rgb[..., 0] = (xs + 8 * i) % 256
            rgb[..., 1] = (ys + 4 * i) % 256
            rgb[..., 2] = 96 + rng.integers(0, noise, (height, width), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            out.mux(video.encode(frame))
            if tone is not None:
                out.mux(tone.until(int((i + 1) * _RATE / fps)))
        out.mux(video.encode(None))
        if tone is not None:
            out.mux(tone.until(int(frames * _RATE / fps)) + tone.stream.encode(None))
    return path


class _Tone:
    """A 440 Hz sine, encoded in 1024-sample frames up to a given sample."""

    def __init__(self, stream: AudioStream) -> None:
        self.stream = stream
        self.sample = 0

    def until(self, end: int) -> list[av.Packet[Any]]:
        packets: list[av.Packet[Any]] = []
        while self.sample < end:
            count = min(1024, end - self.sample)
            t = np.arange(self.sample, self.sample + count) / _RATE
            wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
            frame.sample_rate = _RATE
            frame.pts = self.sample
            packets.extend(self.stream.encode(frame))
            self.sample += count
        return packets


def audio_only(path: Path, seconds: float = 1.0) -> Path:
    """An M4A with a tone and no video stream."""
    with av.open(str(path), "w", format="mp4") as out:
        tone = _Tone(out.add_stream("aac", rate=_RATE, layout="stereo"))
        out.mux(tone.until(int(seconds * _RATE)) + tone.stream.encode(None))
    return path


def clip(
    path: Path,
    *,
    width: int = 320,
    height: int = 180,
    seconds: float = 1.0,
    fps: int = 30,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    audio_tracks: int = 1,
    audio_first: bool = False,
    rotation: int | None = None,
    pts_of: Callable[[int], int] | None = None,
    time_base: Fraction | None = None,
) -> Path:
    """A small clip for input cases: a gradient with a white marker in the top-left corner.

    The container follows the file suffix. `pts_of(i)` gives frame i's timestamp in `time_base`
    (default 1/fps), for variable rates and jumping or restarting timestamps. `rotation` is the
    display-matrix rotation a phone writes (-90 for a portrait video shot on its side).
    """
    tb = time_base or Fraction(1, fps)
    frames = int(round(seconds * fps))
    ys, xs = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as out:
        tones = [
            _Tone(out.add_stream("aac", rate=_RATE, layout="stereo")) for _ in range(audio_tracks if audio_first else 0)
        ]
        options = {"preset": "ultrafast"} if codec == "libx264" else {}
        video = cast(VideoStream, out.add_stream(codec, rate=fps, options=options))
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        video.codec_context.time_base = tb
        if rotation is not None:
            video.set_display_rotation(rotation)
        tones += [
            _Tone(out.add_stream("aac", rate=_RATE, layout="stereo")) for _ in range(0 if audio_first else audio_tracks)
        ]
        for i in range(frames):
            rgb = np.empty((height, width, 3), np.uint8)
            rgb[..., 0] = (xs * 255 // max(1, width - 1) + 4 * i) % 256
            rgb[..., 1] = ys * 255 // max(1, height - 1)
            rgb[..., 2] = 64
            rgb[: max(1, height // 5), : max(1, width // 5)] = 255
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=pix_fmt)
            frame.pts = pts_of(i) if pts_of else i * int(1 / (tb * fps)) if tb * fps < 1 else i
            frame.time_base = tb
            out.mux(video.encode(frame))
            for tone in tones:
                out.mux(tone.until(int((i + 1) * _RATE / fps)))
        out.mux(video.encode(None))
        for tone in tones:
            out.mux(tone.stream.encode(None))
    return path


def concatenated(parts: list[Path], dest: Path) -> Path:
    """MPEG-TS files joined byte for byte: the timestamps restart where each part begins."""
    dest.write_bytes(b"".join(p.read_bytes() for p in parts))
    return dest


def damage(path: Path, dest: Path, *, flips: int = 200, start: float = 0.3, end: float = 0.8) -> Path:
    """A copy with bytes inverted in the middle of the file (its header stays readable)."""
    import random

    data = bytearray(path.read_bytes())
    rnd = random.Random(1)
    for _ in range(flips):
        i = rnd.randrange(int(len(data) * start), int(len(data) * end))
        data[i] ^= 0xFF
    dest.write_bytes(bytes(data))
    return dest
