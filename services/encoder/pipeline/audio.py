"""The audio path: every audio track copied when the container takes it, else transcoded."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, cast

import av
from av.audio.stream import AudioStream
from av.container import OutputContainer

from services.encoder import profiles
from services.encoder.pipeline.spec import EncodeSpec
from services.encoder.pipeline.timeline import Timeline

# Audio codecs each container accepts as a stream copy.
COPYABLE = {
    "mp4": {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"},
    "mov": {"aac", "mp3", "ac3", "alac", "pcm_s16le"},
    "mkv": {"aac", "mp3", "ac3", "eac3", "opus", "vorbis", "flac", "pcm_s16le"},
    "webm": {"opus", "vorbis"},
}
_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)


class AudioTrack:
    """One source audio track and its output stream."""

    def __init__(self, ain: AudioStream, out: OutputContainer, spec: EncodeSpec, *, start: float) -> None:
        self.ain, self.out = ain, out
        name = ain.codec_context.codec.canonical_name
        policy = spec.audio_policy
        self.copy = policy in ("copy", "auto") and name in COPYABLE[spec.container]
        self.note: str | None = None
        if policy == "copy" and not self.copy:
            self.note = f"Audio track {ain.index} ({name}) cannot be copied into {spec.container}; it was transcoded."
        tb = ain.time_base or Fraction(1, 48000)
        self.origin = int(start / tb)
        if self.copy:
            self.stream = self.out.add_stream_from_template(ain)
            self.timeline = Timeline(origin=self.origin, step=1, max_gap=int(60 / tb))
            return
        encoder = profiles.CONTAINERS[spec.container][1]
        source_rate = ain.codec_context.sample_rate or 48000
        if encoder == "libopus":
            rate = 48000
        else:
            rate = source_rate if source_rate in _AAC_RATES and source_rate <= 48000 else 48000
        layout = "stereo" if (ain.codec_context.channels or 2) >= 2 else "mono"
        self.stream = cast(AudioStream, self.out.add_stream(encoder, rate=rate, layout=layout))
        self.stream.bit_rate = profiles.audio_bitrate(spec.bitrate_tier)
        self.samples = 0  # samples sent to the encoder, at the source's rate
        self.base: int | None = None

    def decoded(self, frame: av.AudioFrame) -> None:
        """Re-times frames as one continuous run of samples from the first one's position."""
        rate = frame.sample_rate
        if self.base is None:
            at = frame.time
            first = at - float(self.origin * (self.ain.time_base or 0)) if at is not None else 0.0
            self.base = max(0, round(first * rate))
        frame.pts = self.base + self.samples
        frame.time_base = Fraction(1, rate)
        self.samples += frame.samples
        self.out.mux(self.stream.encode(frame))

    def packet(self, packet: av.Packet[Any]) -> None:
        """A packet of a copied track, re-timed onto a monotonic line."""
        if packet.dts is None and packet.pts is None:
            return
        dts = self.timeline.fix(packet.dts if packet.dts is not None else packet.pts)
        if packet.pts is not None and packet.dts is not None:
            packet.pts = dts + (packet.pts - packet.dts)
        else:
            packet.pts = dts
        packet.dts = dts
        packet.stream = self.stream
        self.out.mux(packet)

    def finish(self) -> None:
        if not self.copy:
            self.out.mux(self.stream.encode(None))
