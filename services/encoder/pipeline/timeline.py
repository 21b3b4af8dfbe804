"""Timestamps that always increase, whatever the source does (jumps, restarts, missing values)."""

from __future__ import annotations


class Timeline:
    """Maps a stream's timestamps onto a monotonic line in the same time base.

    A timestamp that goes backwards (a restart, a splice) or leaps further than `max_gap` ahead
    continues one step after the previous one instead; later timestamps keep their spacing
    relative to the new origin. Missing timestamps advance by one step.
    """

    def __init__(self, *, origin: int, step: int, max_gap: int) -> None:
        self._offset = -origin
        self._step = max(1, step)
        self._max_gap = max_gap
        self._last: int | None = None
        self.discontinuities = 0

    def fix(self, pts: int | None) -> int:
        if pts is None:
            value = (self._last + self._step) if self._last is not None else 0
        else:
            value = pts + self._offset
            if self._last is not None and (value <= self._last or value > self._last + self._max_gap):
                self.discontinuities += 1
                wanted = self._last + self._step
                self._offset += wanted - value
                value = wanted
            elif self._last is None and value < 0:
                self._offset -= value
                value = 0
        self._last = value
        return value
