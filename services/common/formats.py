"""Which video codecs each output container can carry (shared by validation and the encoder)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

CONTAINER_CODECS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "mp4": frozenset({"h264", "h265", "av1"}),
        "mov": frozenset({"h264", "h265"}),
        "mkv": frozenset({"h264", "h265", "av1", "vp9"}),
        "webm": frozenset({"vp9", "av1"}),
    }
)
