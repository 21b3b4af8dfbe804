"""Encode options: defaults, allowed values and combinations (the Encode API's spellings)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from services.common.errors import FieldViolation, InvalidArgument, R
from services.common.formats import CONTAINER_CODECS

Options = dict[str, str | int | float]

ALLOWED: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "codec": ("h264", "h265", "av1", "vp9"),
        "resolution": ("480p", "720p", "1080p", "1440p", "2160p", "4320p"),
        "container": ("mp4", "mkv", "webm", "mov"),
        "preset": ("fast", "standard", "slow"),
        "quality": ("good", "better", "best"),
        "audio_policy": ("auto", "copy", "transcode-aac", "strip"),
        "scale_policy": ("no-upscale", "allow-upscale", "downscale-only"),
        "frame_rate_policy": ("preserve", "cap", "force"),
        "bitrate_tier": ("low", "medium", "high"),
    }
)

# What an option left out means to the jobs service (the Encode API applies its own documented
# defaults before it calls: there, fps 30 and frameRatePolicy force).
DEFAULTS: Mapping[str, str] = MappingProxyType(
    {
        "codec": "h264",
        "resolution": "1080p",
        "container": "mp4",
        "preset": "fast",
        "quality": "better",
        "audio_policy": "transcode-aac",
        "scale_policy": "no-upscale",
        "frame_rate_policy": "preserve",
        "bitrate_tier": "medium",
    }
)
RANGES: Mapping[str, tuple[int, int, int]] = MappingProxyType({"fps": (1, 240, 30), "passes": (1, 2, 1)})

PRIORITIES = ("normal", "high")
_CAMEL = {
    "audio_policy": "audioPolicy",
    "scale_policy": "scalePolicy",
    "frame_rate_policy": "frameRatePolicy",
    "bitrate_tier": "bitrateTier",
    "poster_at_sec": "posterAtSec",
}


def public_name(option: str) -> str:
    return _CAMEL.get(option, option)


def normalize(given: Mapping[str, object]) -> Options:
    """Every option with defaults filled in; InvalidArgument naming each bad field."""
    options: Options = {}
    violations: list[FieldViolation] = []
    for name, default in DEFAULTS.items():
        value = given.get(name) or default
        if value not in ALLOWED[name]:
            violations.append(FieldViolation(public_name(name), f"must be one of {', '.join(ALLOWED[name])}"))
        options[name] = str(value)
    for name, (low, high, fallback) in RANGES.items():
        number = given.get(name) or fallback
        if not isinstance(number, int) or not low <= number <= high:
            violations.append(FieldViolation(public_name(name), f"must be an integer from {low} to {high}"))
        options[name] = number if isinstance(number, int) else fallback
    poster = given.get("poster_at_sec")
    if poster is not None:
        if not isinstance(poster, int | float) or poster < 0:
            violations.append(FieldViolation("posterAtSec", "must be a number of seconds, 0 or more"))
        else:
            options["poster_at_sec"] = float(poster)
    if violations:
        raise InvalidArgument("The encode options are not valid.", reason=R.BODY_INVALID, violations=violations)
    container, codec = str(options["container"]), str(options["codec"])
    if codec not in CONTAINER_CODECS[container]:
        allowed = ", ".join(sorted(CONTAINER_CODECS[container]))
        raise InvalidArgument(
            f"A {container} file cannot carry {codec}; use one of {allowed}.",
            reason=R.OPTIONS_INCOMPATIBLE,
            violations=[FieldViolation("codec", f"not playable in {container}")],
        )
    return options
