"""Kinetic typography: titles whose words arrive one by one, a caption line, and burned-in subtitles."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import skia

from services.encoder.generate import fonts
from services.encoder.generate.art import Sprite, colour, ease, ease_out, surface
from services.encoder.generate.captions import Cue
from services.encoder.generate.request import Style
from services.encoder.generate.scenery import Stage
from services.encoder.generate.storyboard import Layout, Scene

_TITLE_WEIGHT: dict[Style, fonts.Weight] = {
    "clean": "semibold",
    "vivid": "black",
    "cinematic": "light",
    "retro": "bold",
    "minimal": "bold",
}
_UPPER = ("cinematic", "retro")  # looks whose titles are set in capitals
_STAGGER, _ARRIVE, _LEAVE = 0.09, 0.5, 0.4  # seconds: between words, for a word to land, to fade out


@dataclass(frozen=True)
class _Word:
    sprite: Sprite  # the word and its shadow, drawn once per scene
    order: int


@dataclass(frozen=True)
class TitleBlock:
    """A scene's title and caption, set once: every word's place, the fonts, the colours."""

    words: tuple[_Word, ...]
    size: float  # of the title's font
    caption: tuple[Sprite, ...]
    underline: tuple[float, float, float] | None  # x, y, width of the accent rule under the title
    accent: str


class Typesetter:
    """Sets and animates the text of every scene in one look."""

    def __init__(self, stage: Stage, style: Style) -> None:
        self.stage, self.style = stage, style
        u = stage.unit
        self.subtitle_font = fonts.font("semibold", max(20.0, 42 * u))
        self.subtitle_bottom = stage.height * (0.86 if style == "cinematic" else 0.93)
        self._subtitles: dict[Cue, Sprite | None] = {}

    def set(self, scene: Scene, *, over_image: bool) -> TitleBlock:
        """Lines broken to the layout's width and placed; words the font cannot draw are left out."""
        w, h, u = self.stage.width, self.stage.height, self.stage.unit
        weight = _TITLE_WEIGHT[self.style]
        title = fonts.printable(scene.title, weight)
        if self.style in _UPPER:
            title = title.upper()
        side = scene.layout in ("left", "right") and w > h
        width = w * (0.46 if side else 0.84)
        size = 96 * u * (1.1 if self.style == "vivid" else 1.0)
        face = fonts.font(weight, size)
        lines = fonts.wrap(title, face, width)
        while len(lines) > 3 and size > 44 * u:
            size *= 0.86
            face = fonts.font(weight, size)
            lines = fonts.wrap(title, face, width)
        caption_face = fonts.font("light" if self.style == "cinematic" else "regular", max(18.0, size * 0.42))
        caption = fonts.wrap(fonts.printable(scene.caption), caption_face, width)[:3]
        lead, caption_lead = size * 1.08, caption_face.getSize() * 1.3
        block = len(lines) * lead + (len(caption) * caption_lead + size * 0.3 if caption else 0)
        top = {
            "center": h * 0.45 - block / 2,
            "top": h * 0.13,
            "lower-third": h * 0.74 - block,
            "left": h * 0.45 - block / 2,
            "right": h * 0.45 - block / 2,
        }[scene.layout]
        align = _align(scene.layout, w)
        tone = "#ffffff" if over_image else scene.palette.text
        words: list[_Word] = []
        widest = 0.0
        for row, line in enumerate(lines):
            baseline = top + (row + 0.8) * lead
            line_width = face.measureText(line)
            widest = max(widest, line_width)
            x = align(line_width)
            for word in line.split(" "):
                words.append(_Word(_label(word, x, baseline, face, tone, 3 * u), len(words)))
                x += face.measureText(word + " ")
        captions = []
        for row, line in enumerate(caption):
            baseline = top + len(lines) * lead + size * 0.3 + (row + 0.8) * caption_lead
            captions.append(_label(line, align(caption_face.measureText(line)), baseline, caption_face, tone, 2 * u))
        rule = None
        if lines and (self.style in ("clean", "vivid") or scene.layout == "lower-third"):
            rule = (align(widest), top + len(lines) * lead + size * 0.08, widest)
        self._subtitles.clear()  # the last scene's cues are over
        return TitleBlock(tuple(words), size, tuple(captions), rule, scene.palette.accent)

    def draw(self, canvas: skia.Canvas, block: TitleBlock, t: float, length: float) -> None:
        """The title at `t` seconds into a scene `length` long: words rise in one by one, then fade out."""
        if not block.words and not block.caption:
            return
        u = self.stage.unit
        leave = min(1.0, max(0.0, (length - t) / _LEAVE))
        # Words must all have landed well before the scene ends, however long the title.
        stagger = min(_STAGGER, max(0.02, length * 0.3 / max(1, len(block.words))))
        for word in block.words:
            arrive = (t - 0.2 - word.order * stagger) / _ARRIVE
            if arrive <= 0:
                continue
            e = ease(arrive) if self.style in ("cinematic", "minimal") else ease_out(arrive)
            rise = 0.0 if self.style in ("cinematic", "minimal") else (1 - e) * 0.45 * block.size
            word.sprite.draw(canvas, t, dy=rise - (1 - leave) * 0.15 * block.size, alpha=e * leave)
        settled = (t - 0.2 - len(block.words) * stagger - 0.25) / 0.6
        if block.underline and settled > 0:
            x, y, width = block.underline
            grown = ease_out(settled) * width * (0.35 if len(block.words) > 1 else 0.6)
            paint = skia.Paint(Color=colour(block.accent, leave), AntiAlias=True)
            canvas.drawRect(skia.Rect(x, y, x + grown, y + 6 * u), paint)
        if settled > 0:
            for line in block.caption:
                line.draw(canvas, t, alpha=ease(settled) * leave * 0.92)

    def subtitle(self, canvas: skia.Canvas, cue: Cue, t: float) -> None:
        """A cue on a dark rounded box near the bottom, fading in and out with its timing."""
        fade = min(1.0, (t - cue.start) / 0.15, (cue.end - t) / 0.15)
        if fade <= 0:
            return
        if cue not in self._subtitles:
            self._subtitles[cue] = self._card(cue)
        card = self._subtitles[cue]
        if card is not None:
            card.draw(canvas, t, alpha=fade)

    def _card(self, cue: Cue) -> Sprite | None:
        """A cue's box and lines as one sprite (made once, faded as a whole)."""
        lines = [fonts.printable(line, "semibold") for line in cue.text.split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            return None
        face, u = self.subtitle_font, self.stage.unit
        lead = face.getSize() * 1.25
        widest = max(face.measureText(line) for line in lines)
        pad = 16 * u
        width, height = math.ceil(widest + 2 * pad), math.ceil(len(lines) * lead + pad * 1.4)
        target = surface(width, height)
        canvas = target.getCanvas()
        box = skia.RRect.MakeRectXY(skia.Rect(0, 0, width, height), 10 * u, 10 * u)
        canvas.drawRRect(box, skia.Paint(Color=colour("#000000", 0.55), AntiAlias=True))
        paint = skia.Paint(Color=colour("#ffffff"), AntiAlias=True)
        for row, line in enumerate(lines):
            canvas.drawString(line, (width - face.measureText(line)) / 2, pad * 0.4 + (row + 0.78) * lead, face, paint)
        return Sprite(target.makeImageSnapshot(), (self.stage.width - width) / 2, self.subtitle_bottom - height)


def _label(text: str, x: float, baseline: float, face: skia.Font, tone: str, drop: float) -> Sprite:
    """Text over a soft offset shadow (readable on any part of a gradient, cheaper than a blur), as a sprite
    placed where the text was set: blitting it each frame costs a fraction of drawing the glyphs."""
    bounds = skia.Rect()
    face.measureText(text, skia.TextEncoding.kUTF8, bounds)
    margin = 2.0
    width = math.ceil(bounds.width() + drop + 2 * margin)
    height = math.ceil(bounds.height() + drop * 1.3 + 2 * margin)
    target = surface(width, height)
    canvas = target.getCanvas()
    ox, oy = margin - bounds.left(), margin - bounds.top()
    canvas.drawString(text, ox + drop, oy + drop * 1.3, face, skia.Paint(Color=colour("#000000", 0.3), AntiAlias=True))
    canvas.drawString(text, ox, oy, face, skia.Paint(Color=colour(tone), AntiAlias=True))
    return Sprite(target.makeImageSnapshot(), x - ox, baseline - oy)


def _align(layout: Layout, width: int) -> Callable[[float], float]:
    """Where a line of a given width starts, for the layout."""
    if layout in ("lower-third", "left"):
        return lambda _line: width * 0.08
    if layout == "right":
        return lambda line: width * 0.92 - line
    return lambda line: (width - line) / 2
