"""The soundtrack: narration clips on a quiet generated music bed, mixed in 1024-sample frames.

Everything is a function of the sample position, so audio is made as the video advances and
never held whole: only the current scene's speech is in memory.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt

from services.encoder.generate import captions
from services.encoder.generate.speech import CALM_WPM, FASTEST_WPM, Speaker

RATE = 44100
FRAME = 1024  # AAC's frame size
_LEAD, _TAIL = 0.3, 0.25  # seconds of quiet before a scene's narration and after it
_FADE = int(0.08 * RATE)
_MUSIC_LEVEL, _DUCKED = 0.06, 0.025  # the bed's level alone and under speech (about -24 / -32 dBFS)
_VOICE_LEVEL = 1.15  # eSpeak peaks near 0.6 of full scale: this brings speech to about -3 dBFS
_MAJOR, _MINOR = (0, 4, 7), (0, 3, 7)
# Progressions in scale degrees (semitones from the key's root) and whether each chord is minor.
_PROGRESSIONS = (
    ((0, False), (7, False), (9, True), (5, False)),  # I V vi IV
    ((0, False), (5, False), (9, True), (7, False)),  # I IV vi V
    ((9, True), (5, False), (0, False), (7, False)),  # vi IV I V
    ((0, True), (8, False), (3, False), (10, False)),  # i VI III VII
)
Samples = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Clip:
    start: int  # first sample on the video's timeline
    samples: Samples  # mono, at RATE


@dataclass(frozen=True)
class Voiced:
    clip: Clip | None
    cues: list[captions.Cue]
    cut: bool  # the narration was longer than its scene, even spoken fast, and was cut


class Music:
    """A slow pad and a soft pluck in a key and tempo chosen by the seed and the video's energy."""

    def __init__(self, seed: int, energy: float, dark: bool) -> None:
        rng = random.Random(f"music:{seed}")
        self.root = 110.0 * 2 ** (rng.randrange(12) / 12)  # A2 .. G#3
        chords = _PROGRESSIONS[3] if dark else rng.choice(_PROGRESSIONS[:3])
        self.chords = [
            [self.root * 2 ** ((degree + step) / 12) for step in (_MINOR if minor else _MAJOR)]
            for degree, minor in chords
        ]
        self._table = np.array(self.chords)
        self.bar = 4.0 if energy < 0.6 else 2.0  # seconds a chord lasts
        self.pluck = 0.5 if energy < 0.6 else 0.25  # seconds between plucked notes

    def render(self, start: int, count: int) -> Samples:
        """Stereo samples [start, start + count) as a (2, count) array."""
        t = (start + np.arange(count)) / RATE
        bar = np.floor(t / self.bar).astype(np.int64)
        into = t - bar * self.bar
        # Each chord swells in over its first 0.8 s while the previous one fades: no clicks at changes.
        fade = 0.5 - 0.5 * np.cos(np.pi * np.clip(into / 0.8, 0.0, 1.0))
        pad = self._pad(bar, t)
        if fade[0] < 1.0:  # only the start of a bar still hears the chord before
            pad = pad * fade + self._pad(bar - 1, t) * (1 - fade)
        step = np.floor(t / self.pluck).astype(np.int64)
        since = t - step * self.pluck
        pitch = self._table[bar % len(self._table), step % 3] * 2
        pluck = np.sin(2 * np.pi * pitch * t) * np.exp(-since * 7.0) * 0.35
        pan = 0.4 * np.sin(step * 1.7)
        return np.stack([pad * 0.85 + pluck * (0.6 + pan), pad * 0.85 + pluck * (0.6 - pan)]).astype(np.float32)

    def _pad(self, bar: npt.NDArray[np.int64], t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        table = self._table[bar % len(self._table)]  # (count, 3) frequencies
        phase = 2 * np.pi * table * t[:, None]
        tones = np.sin(phase) + 0.5 * np.sin(phase * 1.003)  # a slightly detuned double: a warmer pad
        bass = 0.8 * np.sin(phase[:, 0] / 2)
        return np.asarray((tones.sum(axis=1) + bass) / 4.5)


class Narrator:
    """Speaks each scene's narration so that it fits the scene, and times its captions."""

    def __init__(self, voice: str, speaker: Speaker | None = None) -> None:
        self.voice = voice
        self._speaker = speaker or Speaker.shared()

    def voice_scene(self, text: str, start: float, length: float) -> Voiced:
        """The clip and cues of narration for a scene starting at `start` seconds, `length` long."""
        room = length - _LEAD - _TAIL
        if not text.strip() or room < 0.5:
            return Voiced(None, [], False)
        speaker = self._speaker
        raw = speaker.say(text, voice=self.voice)
        spoken = len(raw) / speaker.sample_rate
        if spoken > room:  # faster, up to a pace still easy to follow
            wpm = min(FASTEST_WPM, math.ceil(CALM_WPM * spoken / room * 1.03))
            raw = speaker.say(text, voice=self.voice, wpm=wpm)
        samples = _resampled(raw, speaker.sample_rate)
        cut = len(samples) > room * RATE
        if cut:
            samples = samples[: int(room * RATE)].copy()
            samples[-_FADE:] *= np.linspace(1, 0, _FADE, dtype=np.float32)
        begin = start + _LEAD
        cues = captions.timed(text, begin, len(samples) / RATE)
        return Voiced(Clip(round(begin * RATE), samples * _VOICE_LEVEL), cues, cut)


class Mixer:
    """Music plus the current clips, ducked under speech, in AAC-sized stereo frames."""

    def __init__(self, music: Music) -> None:
        self.music = music
        self.position = 0
        self._clips: list[Clip] = []

    def add(self, clip: Clip) -> None:
        self._clips.append(clip)

    def frames_until(self, end: int) -> list[av.AudioFrame]:
        """Every whole frame that ends at or before sample `end` (the rest waits for more video)."""
        frames = []
        while self.position + FRAME <= end:
            frames.append(self._frame(FRAME))
        return frames

    def finish(self, end: int) -> list[av.AudioFrame]:
        """The frames up to exactly `end`, the last one short."""
        frames = self.frames_until(end)
        if end > self.position:
            frames.append(self._frame(end - self.position))
        return frames

    def _frame(self, count: int) -> av.AudioFrame:
        start = self.position
        music = self.music.render(start, count)
        voice = np.zeros(count, np.float32)
        gain = np.full(count, _MUSIC_LEVEL, np.float32)
        for clip in self._clips:
            lo, hi = max(start, clip.start), min(start + count, clip.start + len(clip.samples))
            if lo < hi:
                voice[lo - start : hi - start] += clip.samples[lo - clip.start : hi - clip.start]
            # Duck from a little before the clip to a little after it, with ramps either side.
            pos = start + np.arange(count)
            ramp = RATE // 4
            near = np.clip(1 - np.maximum(clip.start - pos, pos - clip.start - len(clip.samples)) / ramp, 0, 1)
            gain = np.minimum(gain, _MUSIC_LEVEL - (_MUSIC_LEVEL - _DUCKED) * near.astype(np.float32))
        self._clips = [c for c in self._clips if c.start + len(c.samples) + RATE > start + count]
        mixed = np.clip(music * gain + voice, -0.98, 0.98).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(mixed), format="fltp", layout="stereo")
        frame.sample_rate = RATE
        frame.pts = start
        self.position += count
        return frame


def _resampled(samples: npt.NDArray[np.int16], rate: int) -> Samples:
    """eSpeak's 16-bit mono at its rate as float mono at RATE (FFmpeg's resampler, flushed)."""
    if not len(samples):
        return np.zeros(0, np.float32)
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    parts = [f.to_ndarray().reshape(-1) for f in [*resampler.resample(frame), *resampler.resample(None)]]
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
