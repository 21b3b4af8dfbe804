"""Drawing helpers shared by the layers: colours, easing, and sprites blitted on skia's fast path.

Why sprites: skia's raster pipeline blends a solid or gradient fill at several nanoseconds a
pixel, while an image drawn at a whole-pixel position with nearest sampling goes through its
optimized sprite blitter, several times faster. So large shapes are drawn once per scene into
images (anti-aliased) and moved as sprites; only small things are drawn as vectors every frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import skia

NEAREST = skia.SamplingOptions(skia.FilterMode.kNearest)
LINEAR = skia.SamplingOptions(skia.FilterMode.kLinear)


def rgb(hex_colour: str) -> tuple[int, int, int]:
    value = int(hex_colour[1:], 16)
    return value >> 16, (value >> 8) & 0xFF, value & 0xFF


def colour(hex_colour: str, alpha: float = 1.0) -> int:
    """A skia colour from #rrggbb and an alpha 0..1."""
    r, g, b = rgb(hex_colour)
    return int(skia.Color(r, g, b, max(0, min(255, round(alpha * 255)))))


def mix(a: str, b: str, t: float) -> str:
    """The colour t of the way from a to b."""
    ca, cb = rgb(a), rgb(b)
    return "#{:02x}{:02x}{:02x}".format(*(round(x + (y - x) * t) for x, y in zip(ca, cb, strict=True)))


def shade(hex_colour: str, amount: float) -> str:
    """Darker (amount < 0, towards black) or lighter (> 0, towards white)."""
    return mix(hex_colour, "#000000" if amount < 0 else "#ffffff", abs(amount))


def ease(t: float) -> float:
    """Ease in and out (smoothstep), for moves that start and stop softly."""
    t = max(0.0, min(1.0, t))
    return t * t * (3 - 2 * t)


def ease_out(t: float) -> float:
    """Fast then settling (cubic), for things arriving on screen."""
    t = max(0.0, min(1.0, t))
    return 1 - (1 - t) ** 3


def surface(width: int, height: int) -> skia.Surface:
    """A transparent raster surface (premultiplied N32, the sprite blitter's format)."""
    result = skia.Surface(max(1, width), max(1, height))
    result.getCanvas().clear(skia.ColorTRANSPARENT)
    return result


@dataclass(frozen=True)
class Sprite:
    """An image at (x, y) that moves: `vx`/`vy` pixels a second, a `bob` up and down, and `depth` times the
    camera's offset (parallax). `period` > 0 tiles it horizontally: a strip that scrolls forever."""

    image: skia.Image
    x: float
    y: float
    depth: float = 1.0
    vx: float = 0.0
    vy: float = 0.0
    bob: float = 0.0
    phase: float = 0.0
    period: float = 0.0
    alpha: float = 1.0

    def draw(self, canvas: skia.Canvas, t: float, dx: float = 0.0, dy: float = 0.0, alpha: float = 1.0) -> None:
        x = self.x + self.vx * t + dx * self.depth
        y = self.y + self.vy * t + dy * self.depth + self.bob * math.sin(0.9 * t + self.phase)
        if self.period:
            x = x % self.period - self.period  # the strip starts within one period left of the frame
        opacity = self.alpha * alpha
        paint = skia.Paint(Alphaf=max(0.0, opacity)) if opacity < 0.999 else None
        # Whole pixels keep skia on its sprite blitter (and the picture crisp).
        canvas.drawImage(self.image, math.floor(x + 0.5), math.floor(y + 0.5), NEAREST, paint)


def soft_disc(radius: int, hex_colour: str, strength: float = 1.0) -> skia.Image:
    """A glow: a disc whose alpha falls off smoothly from the centre (a radial gradient, drawn once)."""
    size = radius * 2
    target = surface(size, size)
    shader = skia.GradientShader.MakeRadial(
        skia.Point(radius, radius),
        radius,
        [colour(hex_colour, strength), colour(hex_colour, strength * 0.35), colour(hex_colour, 0.0)],
        [0.0, 0.45, 1.0],
    )
    target.getCanvas().drawCircle(radius, radius, radius, skia.Paint(Shader=shader, AntiAlias=True))
    return target.makeImageSnapshot()
