"""Fonts from a wheel: Source Sans Pro (SIL OFL), shipped by font-source-sans-pro; no system font used.

Typefaces are loaded through an empty custom font manager, so fontconfig (and whatever fonts the
machine has) never takes part: the same text renders the same on every worker.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Literal

import font_source_sans_pro
import skia

Weight = Literal["light", "regular", "semibold", "bold", "black"]
_FILES: Mapping[Weight, str] = {
    "light": "SourceSansProLight",
    "regular": "SourceSansPro",
    "semibold": "SourceSansProSemibold",
    "bold": "SourceSansProBold",
    "black": "SourceSansProBlack",
}


@functools.cache
def typeface(weight: Weight) -> skia.Typeface:
    """The typeface of a weight, loaded once per process."""
    manager = skia.FontMgr.New_Custom_Empty()
    face = manager.makeFromFile(font_source_sans_pro.font_files_ttf[_FILES[weight]], 0)
    if face is None:
        raise RuntimeError(f"the bundled font {_FILES[weight]} could not be loaded")
    return face


def font(weight: Weight, size: float) -> skia.Font:
    """An anti-aliased font with subpixel positioning (smooth motion of moving text)."""
    result = skia.Font(typeface(weight), size)
    result.setEdging(skia.Font.Edging.kAntiAlias)
    result.setSubpixel(True)
    result.setHinting(skia.FontHinting.kNone)
    return result


def printable(text: str, weight: Weight = "regular") -> str:
    """The text without the characters the font has no glyph for (they would show as empty boxes)."""
    if not text:
        return text
    glyphs = typeface(weight).unicharsToGlyphs([ord(c) for c in text])
    kept = "".join(c for c, g in zip(text, glyphs, strict=True) if g or c.isspace())
    return " ".join(kept.split())


def wrap(text: str, face: skia.Font, width: float) -> list[str]:
    """Lines no wider than `width`, broken between words (a word wider than the line stands alone)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and face.measureText(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines
