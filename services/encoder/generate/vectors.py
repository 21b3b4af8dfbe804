"""Small moving things drawn as vectors every frame: particles, the perspective grid, counted motifs.

Each is a pure function of the scene's seeded starting state and the time, so a frame can be
drawn without the frames before it and the same inputs always give the same picture.
"""

from __future__ import annotations

import math

import numpy as np
import skia

from services.encoder.generate.art import colour, mix, shade
from services.encoder.generate.scenery import Stage
from services.encoder.generate.storyboard import Scene

_COUNTS = {"stars": 160, "rain": 140, "snow": 130, "bubbles": 36, "confetti": 96, "dust": 60, "fireflies": 44}
_Points = list[skia.Point]


class Vectors:
    """The per-frame layers of one scene."""

    def __init__(self, stage: Stage, scene: Scene, rng: np.random.Generator) -> None:
        self.stage, self.scene = stage, scene
        count = _COUNTS.get(scene.particles, 0)
        self.base = rng.random((count, 2))
        self.speed = rng.uniform(0.6, 1.4, count)
        self.group = rng.integers(0, 3, count)
        self.phase = rng.uniform(0, 2 * np.pi, count)
        self.pace = 0.5 + scene.energy  # lively scenes move faster
        subject = scene.subject
        n = subject.count if subject else 0
        # Motifs spread evenly across the frame, so their number can be counted at a glance.
        self.motifs = [
            ((i + 0.5 + rng.uniform(-0.2, 0.2)) / n, rng.uniform(0, 1), rng.uniform(0, 6.28)) for i in range(n)
        ]

    def particles(self, canvas: skia.Canvas, t: float, dx: float, dy: float) -> None:
        kind = self.scene.particles
        if not len(self.base):
            return
        w, h, u = self.stage.width, self.stage.height, self.stage.unit
        p = self.scene.palette
        bx, by = self.base[:, 0], self.base[:, 1]
        move = t * self.pace * self.speed
        if kind == "stars":
            xs, ys = bx * w + dx * 0.1, by * h * 0.7 + dy * 0.1
            for g in range(3):
                twinkle = 0.55 + 0.45 * math.sin(t * (1.3 + g) + g * 2.1)
                paint = _dots(colour("#ffffff", 0.35 + 0.6 * twinkle), (1.6 + 1.3 * g) * u)
                self._points(canvas, xs, ys, self.group == g, paint)
        elif kind == "rain":
            xs = (bx * (w + 200 * u) + move * 120 * u) % (w + 200 * u) - 100 * u
            ys = (by * h + move * 900 * u) % (h + 80 * u) - 40 * u
            pts: _Points = []
            for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
                pts += [skia.Point(x, y), skia.Point(x - 8 * u, y - 38 * u)]
            paint = skia.Paint(Color=colour(mix(p.text, p.sky, 0.3), 0.45), StrokeWidth=2 * u, AntiAlias=True)
            canvas.drawPoints(skia.Canvas.kLines_PointMode, pts, paint)
        elif kind in ("snow", "dust", "confetti"):
            fall = {"snow": 80, "dust": 8, "confetti": 160}[kind] * u
            xs = (bx * w + 30 * u * np.sin(t * 0.8 + self.phase) + dx * 0.5) % w
            ys = (by * h + move * fall + dy * 0.5) % (h + 20 * u) - 10 * u
            tones = [p.accent, p.text, mix(p.accent, p.sky, 0.5)] if kind == "confetti" else ["#ffffff"] * 3
            alpha = {"snow": 0.85, "dust": 0.3, "confetti": 0.95}[kind]
            for g in range(3):
                size = {"snow": (3 + 2.5 * g), "dust": 2 + g, "confetti": 12}[kind] * u
                cap = skia.Paint.kSquare_Cap if kind == "confetti" else skia.Paint.kRound_Cap
                self._points(canvas, xs, ys, self.group == g, _dots(colour(tones[g], alpha), size, cap))
        elif kind == "bubbles":
            xs = bx * w + 20 * u * np.sin(t * 1.5 + self.phase)
            ys = h - (by * h + move * 110 * u) % (h + 60 * u) + 30 * u
            ring = skia.Paint(
                Color=colour("#ffffff", 0.55), AntiAlias=True, Style=skia.Paint.kStroke_Style, StrokeWidth=2.5 * u
            )
            for x, y, g in zip(xs.tolist(), ys.tolist(), self.group.tolist(), strict=True):
                canvas.drawCircle(x, y, (8 + 7 * g) * u, ring)
        elif kind == "fireflies":
            xs = bx * w + 40 * u * np.sin(t * 0.7 + self.phase) + dx * 0.6
            ys = by * h * 0.9 + 30 * u * np.cos(t * 0.9 + self.phase * 1.3) + dy * 0.6
            for g in range(3):
                blink = 0.5 + 0.5 * math.sin(t * (2.1 + 0.7 * g) + g)
                glow = mix(p.accent, "#fff7b0", 0.5)
                self._points(canvas, xs, ys, self.group == g, _dots(colour(glow, 0.18 * blink), 16 * u))
                self._points(canvas, xs, ys, self.group == g, _dots(colour(glow, 0.9 * blink), 5 * u))

    def grid(self, canvas: skia.Canvas, t: float, dx: float) -> None:
        """A perspective floor of lines scrolling towards the viewer (the "digital" scenery)."""
        if self.scene.scenery != "grid":
            return
        w, h, u = self.stage.width, self.stage.height, self.stage.unit
        horizon, vx = h * 0.6, w / 2 + dx * 0.3
        pts: _Points = []
        for k in range(-12, 13):
            pts += [skia.Point(vx + k * w * 0.02, horizon), skia.Point(vx + k * w * 0.16, h)]
        scroll = (t * 0.35 * self.pace) % 1.0
        for k in range(12):
            z = ((k + scroll) / 12) ** 2
            y = horizon + (h - horizon) * z
            pts += [skia.Point(0, y), skia.Point(w, y)]
        paint = skia.Paint(Color=colour(self.scene.palette.accent, 0.55), StrokeWidth=2 * u, AntiAlias=True)
        canvas.drawPoints(skia.Canvas.kLines_PointMode, pts, paint)

    def motifs_at(self, canvas: skia.Canvas, t: float, dx: float, dy: float) -> None:
        subject = self.scene.subject
        if subject is None:
            return
        w, h, u = self.stage.width, self.stage.height, self.stage.unit
        p = self.scene.palette
        for i, (fx, fy, phase) in enumerate(self.motifs):
            size = (60 + 16 * math.sin(phase)) * u
            x = fx * w + dx * 0.8
            kind = subject.kind
            if kind == "birds":
                x = (x + t * 70 * u * self.pace) % (w + 2 * size) - size
                _bird(
                    canvas,
                    x,
                    h * (0.18 + 0.3 * fy) + dy * 0.8 + 10 * u * math.sin(t * 2 + phase),
                    size,
                    t * 7 + phase,
                    shade(p.sky, -0.7),
                )
            elif kind == "balloons":
                y = h * 1.1 - ((fy * h + t * 60 * u * self.pace) % (h * 1.3)) + dy * 0.8
                tone = [p.accent, mix(p.accent, "#ff4f6d", 0.5), mix(p.accent, "#4fb4ff", 0.5)][i % 3]
                _balloon(canvas, x + 18 * u * math.sin(t * 1.2 + phase), y, size, tone)
            elif kind == "boats":
                bob = 6 * u * math.sin(t * 1.6 + phase)
                _boat(canvas, x + t * 12 * u, h * 0.78 + bob + dy * 0.9, size * 1.3, shade(p.ground, -0.5), p.text)
            elif kind == "fish":
                x = (x + t * 90 * u * (0.7 + fy * 0.6) * self.pace) % (w + 2 * size) - size
                _fish(
                    canvas, x, h * (0.45 + 0.4 * fy) + 12 * u * math.sin(t * 3 + phase), size, p.accent, t * 8 + phase
                )
            elif kind == "flowers":
                _flower(
                    canvas,
                    x,
                    h * 0.92 + dy,
                    size,
                    p.accent,
                    mix(p.ground, "#2f7d32", 0.5),
                    0.12 * math.sin(t * 1.4 + phase),
                )
            elif kind == "hearts":
                y = h * 1.05 - ((fy * h + t * 50 * u * self.pace) % (h * 1.2)) + dy * 0.8
                _heart(
                    canvas, x + 14 * u * math.sin(t + phase), y, size * (1 + 0.08 * math.sin(t * 5 + phase)), p.accent
                )

    @staticmethod
    def _points(canvas: skia.Canvas, xs: np.ndarray, ys: np.ndarray, mask: np.ndarray, paint: skia.Paint) -> None:
        pts = [skia.Point(x, y) for x, y in zip(xs[mask].tolist(), ys[mask].tolist(), strict=True)]
        if pts:
            canvas.drawPoints(skia.Canvas.kPoints_PointMode, pts, paint)


def _dots(tone: int, size: float, cap: skia.Paint.Cap = skia.Paint.kRound_Cap) -> skia.Paint:
    return skia.Paint(Color=tone, StrokeWidth=size, StrokeCap=cap, AntiAlias=True)


def _bird(canvas: skia.Canvas, x: float, y: float, size: float, beat: float, tone: str) -> None:
    lift = math.sin(beat) * size * 0.28
    path = skia.Path()
    path.moveTo(x - size * 0.5, y - lift)
    path.quadTo(x - size * 0.22, y - size * 0.18 - lift * 0.5, x, y)
    path.quadTo(x + size * 0.22, y - size * 0.18 - lift * 0.5, x + size * 0.5, y - lift)
    stroke = skia.Paint(Color=colour(tone), AntiAlias=True, Style=skia.Paint.kStroke_Style, StrokeWidth=size * 0.07)
    stroke.setStrokeCap(skia.Paint.kRound_Cap)
    canvas.drawPath(path, stroke)


def _balloon(canvas: skia.Canvas, x: float, y: float, size: float, tone: str) -> None:
    string = skia.Paint(Color=colour("#ffffff", 0.6), AntiAlias=True, StrokeWidth=max(1.0, size * 0.03))
    canvas.drawLine(x, y + size * 0.6, x + size * 0.05, y + size * 1.5, string)
    canvas.drawOval(
        skia.Rect(x - size * 0.45, y - size * 0.6, x + size * 0.45, y + size * 0.6),
        skia.Paint(Color=colour(tone), AntiAlias=True),
    )
    canvas.drawCircle(
        x - size * 0.16, y - size * 0.25, size * 0.11, skia.Paint(Color=colour("#ffffff", 0.45), AntiAlias=True)
    )


def _boat(canvas: skia.Canvas, x: float, y: float, size: float, hull: str, sail: str) -> None:
    path = skia.Path()
    path.moveTo(x - size * 0.5, y)
    path.lineTo(x + size * 0.5, y)
    path.lineTo(x + size * 0.35, y + size * 0.2)
    path.lineTo(x - size * 0.35, y + size * 0.2)
    path.close()
    canvas.drawPath(path, skia.Paint(Color=colour(hull), AntiAlias=True))
    sheet = skia.Path()
    sheet.moveTo(x, y - size * 0.8)
    sheet.lineTo(x + size * 0.38, y - size * 0.05)
    sheet.lineTo(x, y - size * 0.05)
    sheet.close()
    canvas.drawPath(sheet, skia.Paint(Color=colour(sail, 0.92), AntiAlias=True))


def _fish(canvas: skia.Canvas, x: float, y: float, size: float, tone: str, beat: float) -> None:
    paint = skia.Paint(Color=colour(tone), AntiAlias=True)
    canvas.drawOval(skia.Rect(x - size * 0.45, y - size * 0.2, x + size * 0.3, y + size * 0.2), paint)
    wag = math.sin(beat) * size * 0.08
    tail = skia.Path()
    tail.moveTo(x - size * 0.38, y)
    tail.lineTo(x - size * 0.7, y - size * 0.22 + wag)
    tail.lineTo(x - size * 0.7, y + size * 0.22 + wag)
    tail.close()
    canvas.drawPath(tail, paint)


def _flower(canvas: skia.Canvas, x: float, y: float, size: float, tone: str, stem: str, lean: float) -> None:
    top_x, top_y = x + math.sin(lean) * size * 2, y - math.cos(lean) * size * 2
    canvas.drawLine(x, y, top_x, top_y, skia.Paint(Color=colour(stem), AntiAlias=True, StrokeWidth=size * 0.1))
    petal = skia.Paint(Color=colour(tone), AntiAlias=True)
    for k in range(5):
        a = k * 2 * math.pi / 5 + lean
        canvas.drawCircle(top_x + math.cos(a) * size * 0.3, top_y + math.sin(a) * size * 0.3, size * 0.24, petal)
    canvas.drawCircle(top_x, top_y, size * 0.17, skia.Paint(Color=colour("#ffe27a"), AntiAlias=True))


def _heart(canvas: skia.Canvas, x: float, y: float, size: float, tone: str) -> None:
    s = size * 0.5
    path = skia.Path()
    path.moveTo(x, y + s * 0.9)
    path.cubicTo(x - s * 1.4, y - s * 0.1, x - s * 0.6, y - s * 1.1, x, y - s * 0.35)
    path.cubicTo(x + s * 0.6, y - s * 1.1, x + s * 1.4, y - s * 0.1, x, y + s * 0.9)
    canvas.drawPath(path, skia.Paint(Color=colour(tone, 0.9), AntiAlias=True))
