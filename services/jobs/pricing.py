"""What an encode costs, in NEU (the credit unit): the documented estimate.

| output  | NEU a minute | | codec | factor | | passes | factor |
| ------- | ------------ |-| ----- | ------ |-| ------ | ------ |
| 480p    | 1            | | h264  | 1.0    | | 1      | 1.0    |
| 720p    | 2            | | h265  | 1.5    | | 2      | 1.5    |
| 1080p   | 3            | | vp9   | 1.5    |
| 1440p   | 5            | | av1   | 2.0    |
| 2160p   | 8            |
| 4320p   | 20           |

total = max(1, ceil(per-minute x codec x passes x minutes x multiplier)); the multiplier is 1.5
for on-demand jobs (queued at once) and 1.0 for the classic flow. A source whose duration is not
known yet is estimated at one minute; the job is charged for its real duration when it succeeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType

PER_MINUTE = MappingProxyType({"480p": 1, "720p": 2, "1080p": 3, "1440p": 5, "2160p": 8, "4320p": 20})
CODEC_FACTOR = MappingProxyType({"h264": 1.0, "h265": 1.5, "vp9": 1.5, "av1": 2.0})
TWO_PASS_CODECS = frozenset({"h264", "h265"})  # the others encode in one pass, and are billed so
ON_DEMAND_MULTIPLIER = 1.5
_UNKNOWN_DURATION = 60.0


@dataclass(frozen=True)
class Estimate:
    base_per_minute: float
    on_demand_per_minute: float
    multiplier: float
    total: int
    requested_passes: int
    effective_passes: int
    duration_sec: float | None


def estimate(*, codec: str, resolution: str, passes: int, duration_sec: float | None, on_demand: bool) -> Estimate:
    effective = 2 if passes == 2 and codec in TWO_PASS_CODECS else 1
    base = PER_MINUTE[resolution] * CODEC_FACTOR[codec] * (1.5 if effective == 2 else 1.0)
    multiplier = ON_DEMAND_MULTIPLIER if on_demand else 1.0
    minutes = (duration_sec if duration_sec and duration_sec > 0 else _UNKNOWN_DURATION) / 60
    total = max(1, math.ceil(round(base * multiplier * minutes, 6)))
    return Estimate(base, base * ON_DEMAND_MULTIPLIER, multiplier, total, passes, effective, duration_sec)


def pricing(value: Estimate, reserved: int) -> dict[str, float | int]:
    """The `pricing` object of the Encode API."""
    return {
        "basePerMinute": value.base_per_minute,
        "onDemandPerMinute": value.on_demand_per_minute,
        "multiplier": value.multiplier,
        "totalNeu": value.total,
        "reserved": reserved,
        "requestedPasses": value.requested_passes,
        "effectivePasses": value.effective_passes,
    }
