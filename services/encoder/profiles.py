"""Encode API options -> FFmpeg encoders and their settings, per codec (the documented mapping).

| codec | encoder    | preset fast/standard/slow | quality good/better/best | two-pass |
| ----- | ---------- | ------------------------- | ------------------------ | -------- |
| h264  | libx264    | veryfast / medium / slow  | CRF 26 / 23 / 20         | yes      |
| h265  | libx265    | veryfast / medium / slow  | CRF 30 / 28 / 24         | yes      |
| av1   | libsvtav1  | 8 / 6 / 5                 | CRF 38 / 32 / 27         | no       |
| vp9   | libvpx-vp9 | cpu-used 5 / 3 / 1        | CRF 36 / 32 / 28         | no       |

`bitrateTier` sets a target bitrate per output height (below, for H.264; H.265, AV1 and VP9 get
60 %, 50 % and 65 % of it). One pass is constant quality (the CRF) capped at 1.5x the target
(VBV maxrate, buffer 3x the target; VP9's constrained quality uses the cap as its b:v). Two passes
encode at the target as an average bitrate, peaks capped at 1.5x. Audio: AAC (Opus in WebM) at
96 / 128 / 192 kb/s per tier.

| height | low    | medium | high   |
| ------ | ------ | ------ | ------ |
| 480    | 1.0 M  | 1.8 M  | 3.0 M  |
| 720    | 2.0 M  | 3.5 M  | 5.5 M  |
| 1080   | 4.0 M  | 6.0 M  | 9.0 M  |
| 1440   | 8.0 M  | 12 M   | 16 M   |
| 2160   | 15 M   | 24 M   | 35 M   |
| 4320   | 40 M   | 60 M   | 90 M   |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from services.common.encode_options import choices

# The tables below are indexed by each option's choices in their documented order (the one definition).
_QUALITY = choices("quality")
_PRESETS = choices("preset")
_TIERS = choices("bitrate_tier")


@dataclass(frozen=True)
class VideoProfile:
    encoder: str
    crf: tuple[int, int, int]
    presets: tuple[str, str, str]
    bitrate_share: float  # of the H.264 tier bitrate
    extra: Mapping[str, str] = field(default_factory=dict)
    preset_option: str = "preset"
    codec_tag: str | None = None
    two_pass_params: str | None = None  # the AVOption carrying "pass=N:stats=FILE"


VIDEO: Mapping[str, VideoProfile] = MappingProxyType(
    {
        "h264": VideoProfile(
            "libx264", (26, 23, 20), ("veryfast", "medium", "slow"), 1.0, two_pass_params="x264-params"
        ),
        "h265": VideoProfile(
            "libx265",
            (30, 28, 24),
            ("veryfast", "medium", "slow"),
            0.6,
            MappingProxyType({"x265-params": "log-level=error"}),
            codec_tag="hvc1",
            two_pass_params="x265-params",
        ),
        # SVT-AV1 presets above 8 are for automated tooling (it warns of visual artifacts).
        "av1": VideoProfile("libsvtav1", (38, 32, 27), ("8", "6", "5"), 0.5),
        "vp9": VideoProfile(
            "libvpx-vp9",
            (36, 32, 28),
            ("5", "3", "1"),
            0.65,
            MappingProxyType({"row-mt": "1", "deadline": "good"}),
            preset_option="cpu-used",
        ),
    }
)

# Container -> (FFmpeg muxer, audio encoder, fast start applies, content type).
CONTAINERS: Mapping[str, tuple[str, str, bool, str]] = MappingProxyType(
    {
        "mp4": ("mp4", "aac", True, "video/mp4"),
        "mov": ("mov", "aac", True, "video/quicktime"),
        "mkv": ("matroska", "aac", False, "video/x-matroska"),
        "webm": ("webm", "libopus", False, "video/webm"),
    }
)

RESOLUTIONS: Mapping[str, int] = MappingProxyType(
    {"480p": 480, "720p": 720, "1080p": 1080, "1440p": 1440, "2160p": 2160, "4320p": 4320}
)

# H.264 target bitrates (kb/s) per output height and tier.
_TIER_KBPS: Mapping[int, tuple[int, int, int]] = MappingProxyType(
    {
        480: (1000, 1800, 3000),
        720: (2000, 3500, 5500),
        1080: (4000, 6000, 9000),
        1440: (8000, 12000, 16000),
        2160: (15000, 24000, 35000),
        4320: (40000, 60000, 90000),
    }
)
_AUDIO_KBPS = (96, 128, 192)


def supports_two_pass(codec: str) -> bool:
    return VIDEO[codec].two_pass_params is not None


def target_kbps(codec: str, tier: str, height: int) -> int:
    """The tier's target video bitrate for an output of this (short-side) height."""
    rows = sorted(_TIER_KBPS)
    row = next((h for h in rows if height <= h), rows[-1])
    return int(_TIER_KBPS[row][_TIERS.index(tier)] * VIDEO[codec].bitrate_share)


def audio_bitrate(tier: str) -> int:
    return _AUDIO_KBPS[_TIERS.index(tier)] * 1000


def video_options(
    codec: str, preset: str, quality: str, tier: str, short_side: int, *, pass_no: int = 0, stats: Path | None = None
) -> dict[str, str]:
    """The encoder's AVOptions: constant quality capped by the tier, or pass 1/2 of an ABR encode."""
    profile = VIDEO[codec]
    target = target_kbps(codec, tier, short_side)
    options = dict(profile.extra)
    options[profile.preset_option] = profile.presets[_PRESETS.index(preset)]
    if pass_no:
        assert profile.two_pass_params is not None and stats is not None
        params = f"pass={pass_no}:stats={stats}"
        previous = options.get(profile.two_pass_params)
        options[profile.two_pass_params] = f"{previous}:{params}" if previous else params
        options.update(b=f"{target}k", maxrate=f"{target * 3 // 2}k", bufsize=f"{target * 3}k")
        return options
    options["crf"] = str(profile.crf[_QUALITY.index(quality)])
    if codec == "vp9":
        options["b"] = f"{target * 3 // 2}k"  # constrained quality: the CRF, capped
    else:
        options.update(maxrate=f"{target * 3 // 2}k", bufsize=f"{target * 3}k")
    return options


def target_size(width: int, height: int, resolution: str, scale_policy: str) -> tuple[int, int]:
    """Output size: the short side becomes the target (aspect kept, both even).

    Landscape sources get the target height, portrait ones the target width. `no-upscale` and
    `downscale-only` keep a source that is already smaller than the target at its own size
    (rounded down to even numbers, so never a pixel larger).
    """
    short, long_ = min(width, height), max(width, height)
    target = RESOLUTIONS[resolution]
    upscale = scale_policy == "allow-upscale"
    if target > short and not upscale:
        target = short
    new_short, new_long = _even(target), _even(long_ * target / short)
    if not upscale:
        new_short, new_long = min(new_short, _even_floor(short)), min(new_long, _even_floor(long_))
    return (new_long, new_short) if width >= height else (new_short, new_long)


def output_rate(source: float, fps: int, policy: str) -> float | None:
    """The output frame rate: None keeps the source's timing (preserve, or a cap it is under)."""
    if policy == "preserve":
        return None
    if policy == "cap":
        return float(fps) if source <= 0 or source > fps + 0.01 else None
    return float(fps)


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def _even_floor(value: int) -> int:
    return max(2, value - value % 2)
