"""A scene's large layers, drawn once when the scene starts: sky gradient, sun or moon, landscape."""

from __future__ import annotations

import math

import numpy as np
import skia

from services.encoder.generate.art import Sprite, colour, mix, shade, soft_disc, surface
from services.encoder.generate.request import Style
from services.encoder.generate.storyboard import Scene

MARGIN = 0.08  # of each side: room for the camera's moves beyond the frame


class Stage:
    """The frame's geometry: size, unit (1 at 1080 lines, so every look scales with the picture), margins."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.unit = min(width, height) / 1080
        self.mx, self.my = round(width * MARGIN), round(height * MARGIN)


def background(stage: Stage, scene: Scene, style: Style) -> Sprite:
    """The sky: a vertical gradient, a glow where the light comes from, a vignette for some looks."""
    w, h = stage.width + 2 * stage.mx, stage.height + 2 * stage.my
    target = surface(w, h)
    canvas = target.getCanvas()
    p = scene.palette
    if style == "minimal":
        canvas.clear(colour(mix(p.sky, p.ground, 0.5)))
    else:
        stops = [colour(p.sky), colour(mix(p.sky, p.ground, 0.55)), colour(p.ground)]
        shader = skia.GradientShader.MakeLinear([skia.Point(0, 0), skia.Point(0, h)], stops, [0.0, 0.6, 1.0])
        canvas.drawPaint(skia.Paint(Shader=shader))
        glow = soft_disc(round(0.7 * h), mix(p.accent, "#ffffff", 0.3), 0.28)
        canvas.drawImage(glow, w * 0.62 - glow.width() / 2, h * 0.3 - glow.height() / 2)
    if style in ("cinematic", "retro", "vivid"):
        edge = {"cinematic": 0.55, "retro": 0.4, "vivid": 0.25}[style]
        shader = skia.GradientShader.MakeRadial(
            skia.Point(w / 2, h / 2),
            math.hypot(w, h) / 2,
            [colour("#000000", 0.0), colour("#000000", 0.0), colour("#000000", edge)],
            [0.0, 0.55, 1.0],
        )
        canvas.drawPaint(skia.Paint(Shader=shader))
    return Sprite(target.makeImageSnapshot(), -stage.mx, -stage.my, depth=0.25)


def sky_body(stage: Stage, scene: Scene, rng: np.random.Generator) -> list[Sprite]:
    """The sun (a warm disc that sinks at sunset) or the moon (pale, slowly rising), each with a glow."""
    if scene.sky_body == "none":
        return []
    u, p = stage.unit, scene.palette
    sun = scene.sky_body == "sun"
    radius = round((95 if sun else 70) * u)
    tone = mix(p.accent, "#fff3c4", 0.35) if sun else mix(p.text, "#e8ecff", 0.6)
    glow = round(radius * 3.2)
    target = surface(glow * 2, glow * 2)
    canvas = target.getCanvas()
    canvas.drawImage(soft_disc(glow, tone, 0.55 if sun else 0.3), 0, 0)
    canvas.drawCircle(glow, glow, radius, skia.Paint(Color=colour(tone), AntiAlias=True))
    if not sun:  # a darker crescent bite makes it read as a moon, not another sun
        canvas.drawCircle(
            glow + radius * 0.45,
            glow - radius * 0.2,
            radius * 0.85,
            skia.Paint(Color=colour(p.sky, 0.55), AntiAlias=True),
        )
    low = sun and rng.random() < 0.5  # low over the horizon, or high in the sky
    x = stage.width * rng.uniform(0.58, 0.82) - glow
    y = stage.height * (0.42 if low else rng.uniform(0.14, 0.26)) - glow
    drift = (10 if sun else -6) * u  # pixels a second: the sun sets, the moon climbs
    return [Sprite(target.makeImageSnapshot(), x, y, depth=0.15, vy=drift)]


def landscape(stage: Stage, scene: Scene, rng: np.random.Generator) -> list[Sprite]:
    """The scenery's layers, far to near (far ones paler and slower: aerial perspective and parallax)."""
    kind = scene.scenery
    if kind in ("none", "grid"):
        return []  # the grid is drawn every frame, as lines
    if kind == "orbs":
        return _orbs(stage, scene, rng)
    p = scene.palette
    far, near = mix(p.ground, p.sky, 0.45), shade(p.ground, -0.25)
    layers = [(far, 0.45, 0.62), (mix(far, near, 0.55), 0.7, 0.7), (near, 1.0, 0.8)]
    if kind in ("skyline", "trees"):
        layers = layers[1:]
    sprites = []
    for tone, depth, top in layers:
        sprites.append(_layer(stage, kind, tone, p.accent, depth, top, rng))
    return sprites


def _layer(
    stage: Stage, kind: str, tone: str, accent: str, depth: float, top: float, rng: np.random.Generator
) -> Sprite:
    w = stage.width + 4 * stage.mx
    period = 0.0
    if kind == "waves":
        period = round(stage.width * rng.uniform(0.35, 0.6))
        w = stage.width + round(period) + 2 * stage.mx
    h = round(stage.height * (1 - top)) + 2 * stage.my
    target = surface(w, h)
    canvas = target.getCanvas()
    fill = skia.Paint(Color=colour(tone), AntiAlias=True)
    u = stage.unit
    if kind == "mountains":
        _ridge(canvas, w, h, rng, fill, jagged=True)
    elif kind == "hills":
        _ridge(canvas, w, h, rng, fill, jagged=False)
    elif kind == "waves":
        path = skia.Path()
        amp, phase = h * 0.08 * depth + 6 * u, rng.uniform(0, 2 * math.pi)
        path.moveTo(0, h)
        for x in range(0, w + 8, 8):
            a = 2 * math.pi * x / period
            path.lineTo(x, amp + amp * math.sin(a + phase) * 0.8 + amp * 0.25 * math.sin(2 * a))
        path.lineTo(w, h)
        path.close()
        canvas.drawPath(path, fill)
        crest = skia.Paint(
            Color=colour("#ffffff", 0.18), AntiAlias=True, Style=skia.Paint.kStroke_Style, StrokeWidth=3 * u
        )
        canvas.drawPath(path, crest)
    elif kind == "skyline":
        _buildings(canvas, w, h, rng, fill, accent, u * depth)
    elif kind == "trees":
        _trees(canvas, w, h, rng, fill, u * (0.6 + 0.6 * depth))
    speed = {"waves": -40.0, "hills": 0.0}.get(kind, 0.0) * depth * u
    y = stage.height * top - stage.my * 0.5
    return Sprite(target.makeImageSnapshot(), -2 * stage.mx, y, depth=depth, vx=speed, period=period)


def _ridge(canvas: skia.Canvas, w: int, h: int, rng: np.random.Generator, fill: skia.Paint, *, jagged: bool) -> None:
    """A skyline of peaks (midpoint displacement) or of rolling hills (a few smooth waves)."""
    count = 64
    xs = np.linspace(0, w, count + 1)
    if jagged:
        heights = np.zeros(count + 1)
        heights[0], heights[-1] = rng.uniform(0.3, 0.7, 2)
        step, spread = count, 0.45
        while step > 1:
            half = step // 2
            for i in range(half, count, step):
                heights[i] = (heights[i - half] + heights[i + half]) / 2 + rng.uniform(-spread, spread)
            step, spread = half, spread * 0.55
    else:
        phases = rng.uniform(0, 2 * np.pi, 3)
        t = xs / w * 2 * np.pi
        heights = (
            0.5
            + 0.22 * np.sin(t * 1.3 + phases[0])
            + 0.12 * np.sin(t * 2.9 + phases[1])
            + 0.06 * np.sin(t * 5.1 + phases[2])
        )
    heights = np.clip(heights, 0.05, 1.0)
    path = skia.Path()
    path.moveTo(0, h)
    for x, top in zip(xs, heights, strict=True):
        path.lineTo(float(x), float(h * 0.62 * (1 - top)))
    path.lineTo(w, h)
    path.close()
    canvas.drawPath(path, fill)


def _buildings(
    canvas: skia.Canvas, w: int, h: int, rng: np.random.Generator, fill: skia.Paint, accent: str, u: float
) -> None:
    x = 0.0
    lit = skia.Paint(Color=colour(mix(accent, "#fff6d5", 0.5), 0.75))
    while x < w:
        bw = rng.uniform(60, 150) * u + 20
        top = rng.uniform(0.05, 0.55) * h
        canvas.drawRect(skia.Rect(x, top, x + bw, h), fill)
        size, gap = 7 * u + 2, 16 * u + 4
        for wy in np.arange(top + gap, h - gap, gap):
            for wx in np.arange(x + gap * 0.6, x + bw - size - 2, gap):
                if rng.random() < 0.35:
                    canvas.drawRect(skia.Rect(float(wx), float(wy), float(wx + size), float(wy + size)), lit)
        x += bw + rng.uniform(2, 12) * u


def _trees(canvas: skia.Canvas, w: int, h: int, rng: np.random.Generator, fill: skia.Paint, u: float) -> None:
    ground = h * 0.55
    canvas.drawRect(skia.Rect(0, ground, w, h), fill)
    x = 0.0
    while x < w:
        size = rng.uniform(50, 110) * u
        if rng.random() < 0.6:  # a conifer: three stacked triangles
            for k in range(3):
                top = ground - size * (1.6 - 0.45 * k)
                half = size * (0.35 + 0.12 * k)
                path = skia.Path()
                path.moveTo(x, top)
                path.lineTo(x - half, top + size * 0.8)
                path.lineTo(x + half, top + size * 0.8)
                path.close()
                canvas.drawPath(path, fill)
        else:  # a round tree on its trunk
            canvas.drawRect(skia.Rect(x - size * 0.06, ground - size * 0.8, x + size * 0.06, ground), fill)
            canvas.drawCircle(x, ground - size, size * 0.45, fill)
        x += size * rng.uniform(0.45, 0.9)


def _orbs(stage: Stage, scene: Scene, rng: np.random.Generator) -> list[Sprite]:
    """Soft floating discs of the palette's colours: an abstract backdrop that still moves."""
    p = scene.palette
    sprites = []
    for _ in range(7):
        radius = round(stage.height * rng.uniform(0.08, 0.22))
        tone = mix(p.accent, p.sky, float(rng.uniform(0, 0.6)))
        image = soft_disc(radius, tone, float(rng.uniform(0.35, 0.7)))
        x = rng.uniform(-0.1, 1.0) * stage.width
        y = rng.uniform(0.05, 0.85) * stage.height - radius
        depth = float(rng.uniform(0.3, 1.0))
        sprites.append(
            Sprite(
                image,
                x,
                y,
                depth=depth,
                vx=float(rng.uniform(-12, 12)) * stage.unit,
                bob=30 * stage.unit * depth,
                phase=float(rng.uniform(0, 6.3)),
            )
        )
    return sprites
