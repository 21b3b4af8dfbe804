"""Captions: narration cut into cues timed to its speech, burned in by the renderer and written as WebVTT."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

LINE = 42  # characters a caption line holds (the usual broadcast limit)
_SENTENCE = re.compile(r"(?<=[.!?;:…])\s+")


@dataclass(frozen=True)
class Cue:
    start: float  # seconds of the video
    end: float
    text: str  # one or two lines, joined by "\n"


def chunks(text: str, *, line: int = LINE) -> list[str]:
    """The text as caption pages of at most two lines of `line` characters, broken between words."""
    pages: list[str] = []
    for sentence in _SENTENCE.split(text.strip()):
        words = sentence.split()
        lines: list[str] = []
        current = ""
        for word in words:
            if current and len(current) + 1 + len(word) > line:
                lines.append(current)
                current = word
            else:
                current = f"{current} {word}".strip()
            if len(lines) == 2:
                pages.append("\n".join(lines))
                lines = []
        if current:
            lines.append(current)
        if lines:
            pages.append("\n".join(lines))
    return pages


def timed(text: str, start: float, duration: float) -> list[Cue]:
    """Cues covering [start, start + duration), each lasting in proportion to its length."""
    pages = chunks(text)
    total = sum(len(p) for p in pages)
    cues: list[Cue] = []
    at = start
    for page in pages:
        length = duration * len(page) / total
        cues.append(Cue(round(at, 3), round(at + length, 3), page))
        at += length
    return cues


def stamp(seconds: float) -> str:
    """WebVTT's hh:mm:ss.ttt."""
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


class VttWriter:
    """Writes cues as they are made (the whole list is never held): WEBVTT, then one block per cue."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: TextIO = path.open("w", encoding="utf-8", newline="\n")
        self._file.write("WEBVTT\n\n")
        self.count = 0

    def write(self, cues: list[Cue]) -> None:
        for cue in cues:
            self.count += 1
            # "-->" inside a cue's text would end its timing line early: it is never allowed.
            text = cue.text.replace("-->", "->")
            self._file.write(f"{self.count}\n{stamp(cue.start)} --> {stamp(cue.end)}\n{text}\n\n")

    def close(self) -> None:
        self._file.close()
