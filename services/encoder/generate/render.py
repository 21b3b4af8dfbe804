"""The renderer: one scene's layers composed into one reused BGRA frame that PyAV encodes.

skia draws straight into the memory of a PyAV frame (no copy per frame); a scene's large layers
are prepared when it begins and dropped when the next one begins, so memory does not grow with
the video's length.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import skia

from services.encoder.generate import images, scenery
from services.encoder.generate.art import Sprite, colour, surface
from services.encoder.generate.captions import Cue
from services.encoder.generate.scenery import Stage
from services.encoder.generate.storyboard import Scene, Storyboard
from services.encoder.generate.typography import TitleBlock, Typesetter
from services.encoder.generate.vectors import Vectors

_DIP_IN, _DIP_OUT, _DIP = 0.25, 0.2, 0.8  # seconds in and out of a scene change, and how dark it gets


@dataclass
class _Art:
    """What one scene draws with: prepared layers, per-frame vectors, its title, its cues."""

    scene: Scene
    length: float
    back: list[Sprite]
    vectors: Vectors
    title: TitleBlock
    picture: images.KenBurns | None
    cues: list[Cue]
    start: float  # seconds into the video
    last: bool  # the video's last scene: it fades out to black


class Renderer:
    """Draws the frames of one storyboard at one size."""

    def __init__(
        self, storyboard: Storyboard, *, width: int, height: int, seed: int, images: Sequence[Path] = ()
    ) -> None:
        self.storyboard, self.seed, self.images = storyboard, seed, tuple(images)
        self.stage = Stage(width, height)
        self.type = Typesetter(self.stage, storyboard.style)
        self._dark = _flat(width, height, "#000000")
        self._scrim = _scrim(width, height)
        self._scanlines = _scanlines(width, height, self.stage.unit) if storyboard.style == "retro" else None
        self._art: _Art | None = None

    def begin(self, index: int, *, start: float, length: float, cues: list[Cue]) -> None:
        """Prepares scene `index` (starting `start` seconds in, `length` long); the previous one's layers go."""
        self._art = None  # release the last scene's sprites before drawing the next one's
        scene = self.storyboard.scenes[index]
        rng = np.random.default_rng([self.seed, index, 0x5CE7E])
        picture = None
        back: list[Sprite] = []
        if scene.image is not None:
            still = images.load(self.images[scene.image], self.stage, scene.image)
            picture = images.KenBurns(still, self.stage, scene.motion, scene.energy)
        else:
            back = [scenery.background(self.stage, scene, self.storyboard.style)]
            back += scenery.sky_body(self.stage, scene, rng)
            back += scenery.landscape(self.stage, scene, rng)
        title = self.type.set(scene, over_image=picture is not None)
        last = index == len(self.storyboard.scenes) - 1
        self._art = _Art(scene, length, back, Vectors(self.stage, scene, rng), title, picture, cues, start, last)

    def target(self) -> Target:
        """A frame to draw into (one per frame in flight: drawing one while another is encoded)."""
        return Target(self.stage.width, self.stage.height)

    def draw(self, t: float, target: Target) -> av.VideoFrame:
        """Draws the frame at `t` seconds into the current scene into `target`; its PyAV frame."""
        art = self._art
        assert art is not None, "begin() a scene first"
        canvas, scene, length = target.canvas, art.scene, art.length
        progress = min(1.0, t / length) if length else 0.0
        dx, dy = _camera(scene, t, progress, self.stage)
        if art.picture is not None:
            art.picture.draw(canvas, progress)
            self._scrim.draw(canvas, t)
        else:
            for sprite in art.back:
                sprite.draw(canvas, t, dx, dy)
            art.vectors.grid(canvas, t, dx)
        art.vectors.particles(canvas, t, dx, dy)
        if art.picture is None:
            art.vectors.motifs_at(canvas, t, dx, dy)
        if self._scanlines is not None:
            self._scanlines.draw(canvas, t)
        if self.storyboard.style == "cinematic":
            bar = round(self.stage.height * 0.1)
            black = skia.Paint(Color=skia.ColorBLACK)
            canvas.drawRect(skia.Rect(0, 0, self.stage.width, bar), black)
            canvas.drawRect(skia.Rect(0, self.stage.height - bar, self.stage.width, self.stage.height), black)
        self.type.draw(canvas, art.title, t, length)
        now = art.start + t
        for cue in art.cues:
            if cue.start <= now < cue.end:
                self.type.subtitle(canvas, cue, now)
        dip = _dip(t, length, first=art.start == 0, last=art.last)
        if dip > 0.01:
            self._dark.draw(canvas, t, alpha=dip)
        return target.frame


class Target:
    """A BGRA PyAV frame with a skia canvas drawing straight into its memory (no copy per frame)."""

    def __init__(self, width: int, height: int) -> None:
        self.frame = av.VideoFrame(width, height, "bgra")
        plane = self.frame.planes[0]
        info = skia.ImageInfo.Make(width, height, skia.ColorType.kBGRA_8888_ColorType, skia.AlphaType.kPremul_AlphaType)
        self.surface = skia.Surface.MakeRasterDirect(info, plane, plane.line_size)
        self.canvas = self.surface.getCanvas()


def _camera(scene: Scene, t: float, progress: float, stage: Stage) -> tuple[float, float]:
    """The camera's offset (pixels, for layers of depth 1) for the motion: pushing in and pulling out are
    parallax moves (near layers sink or rise more than far ones), not scaling, which would leave skia's fast
    sprite path."""
    mx, my = stage.mx * (0.6 + 0.5 * scene.energy), stage.my * (0.6 + 0.5 * scene.energy)
    p = progress * progress * (3 - 2 * progress)
    motion = scene.motion
    if motion == "pan-left":
        return -0.9 * mx + 1.8 * mx * p, 0.0
    if motion == "pan-right":
        return 0.9 * mx - 1.8 * mx * p, 0.0
    if motion == "zoom-in":  # pushing in: the foreground sinks away under the camera
        return 0.0, -0.5 * my + 1.4 * my * p
    if motion == "zoom-out":
        return 0.0, 0.9 * my - 1.4 * my * p
    if motion == "rise":
        return 0.0, -0.8 * my + 1.7 * my * p
    if motion == "sway":
        return 0.6 * mx * math.sin(t * 2 * math.pi / 4.5), 0.2 * my * math.sin(t * 2 * math.pi / 6)
    return 0.5 * mx * math.sin(t * 2 * math.pi / 14), 0.15 * my * math.sin(t * 2 * math.pi / 9)


def _dip(t: float, length: float, *, first: bool, last: bool) -> float:
    """How dark the frame is at a scene change: out of black at the start, into it at the very end."""
    into = 0.4 if first else _DIP_IN
    fade_in = max(0.0, 1 - t / into) * (1.0 if first else _DIP)
    out = 0.5 if last else _DIP_OUT
    fade_out = max(0.0, 1 - (length - t) / out) * (1.0 if last else _DIP)
    return min(1.0, max(fade_in, fade_out))


def _flat(width: int, height: int, hex_colour: str) -> Sprite:
    target = surface(width, height)
    target.getCanvas().clear(colour(hex_colour))
    return Sprite(target.makeImageSnapshot(), 0, 0, depth=0)


def _scrim(width: int, height: int) -> Sprite:
    """A darkening towards the bottom over photos, where titles and subtitles sit."""
    top = round(height * 0.4)
    target = surface(width, height - top)
    shader = skia.GradientShader.MakeLinear(
        [skia.Point(0, 0), skia.Point(0, height - top)], [colour("#000000", 0.0), colour("#000000", 0.6)]
    )
    target.getCanvas().drawPaint(skia.Paint(Shader=shader))
    return Sprite(target.makeImageSnapshot(), 0, top, depth=0)


def _scanlines(width: int, height: int, unit: float) -> Sprite:
    target = surface(width, height)
    canvas = target.getCanvas()
    paint = skia.Paint(Color=colour("#000000", 0.14))
    step = max(2, round(3 * unit))
    for y in range(0, height, step):
        canvas.drawRect(skia.Rect(0, y, width, y + max(1, step // 2)), paint)
    return Sprite(target.makeImageSnapshot(), 0, 0, depth=0)
