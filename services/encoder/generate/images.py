"""The caller's images as scenes: decoded once, scaled to cover the frame, moved with Ken Burns pans and zooms."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import av
import av.error
import numpy as np
import skia

from services.common.errors import PermanentError, R
from services.encoder.generate.art import LINEAR, ease, surface
from services.encoder.generate.scenery import Stage
from services.encoder.generate.storyboard import Motion

MAX_PIXELS = 50_000_000  # a larger picture is refused before it is decoded (its bitmap alone is 200 MB)
_ROOM = 1.18  # the prepared picture is this much larger than the frame: the moves' room


def check(paths: Sequence[Path]) -> None:
    """PermanentError(DECODE_FAILED) for an image that cannot be shown: found before any frame is drawn,
    not when its scene comes up minutes later."""
    for index, path in enumerate(paths):
        _open(path, index)


def load(path: Path, stage: Stage, index: int) -> skia.Image:
    """The image at `path` scaled (once, with mipmaps) to cover the frame with room to move."""
    image = _open(path, index)
    scale = max(stage.width * _ROOM / image.width(), stage.height * _ROOM / image.height())
    width, height = max(1, round(image.width() * scale)), max(1, round(image.height() * scale))
    target = surface(width, height)
    sampling = skia.SamplingOptions(skia.FilterMode.kLinear, skia.MipmapMode.kLinear)
    target.getCanvas().drawImageRect(image.withDefaultMipmaps(), skia.Rect(0, 0, width, height), sampling)
    return target.makeImageSnapshot()


def _open(path: Path, index: int) -> skia.Image:
    """The image, decoded lazily by skia (its header is read now) or by FFmpeg."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PermanentError(f"Image {index + 1} could not be read.", reason=R.DECODE_FAILED) from exc
    # skia decodes lazily from the bytes it is given: it must own a copy (ours is gone on return).
    image = skia.Image.MakeFromEncoded(skia.Data.MakeWithCopy(data))
    if image is None:
        image = _with_pyav(path, index)
    if image.width() * image.height() > MAX_PIXELS:
        limit = MAX_PIXELS // 1_000_000
        raise PermanentError(f"Image {index + 1} is larger than {limit} megapixels.", reason=R.DECODE_FAILED)
    return image


def _with_pyav(path: Path, index: int) -> skia.Image:
    """Formats skia does not decode (TIFF, AVIF, ...) through FFmpeg's decoders."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            if stream.codec_context.width * stream.codec_context.height > MAX_PIXELS:
                raise PermanentError(f"Image {index + 1} is too large.", reason=R.DECODE_FAILED)
            frame = next(container.decode(stream))
            pixels = np.ascontiguousarray(frame.to_ndarray(format="rgba"))
    except (av.error.FFmpegError, IndexError, StopIteration) as exc:
        raise PermanentError(f"Image {index + 1} could not be decoded.", reason=R.DECODE_FAILED) from exc
    return skia.Image.fromarray(pixels, colorType=skia.ColorType.kRGBA_8888_ColorType)


class KenBurns:
    """A slow move over a still: the view's size and centre go from one framing to another."""

    def __init__(self, image: skia.Image, stage: Stage, motion: Motion, energy: float) -> None:
        self.image, self.stage = image, stage
        fit = min(image.width() / stage.width, image.height() / stage.height)  # the view at zoom 1
        span = 0.07 + 0.06 * energy
        wide, close = 0.98, 0.98 - span
        start, end = {
            "zoom-in": ((wide, 0.5, 0.5), (close, 0.52, 0.45)),
            "zoom-out": ((close, 0.48, 0.45), (wide, 0.5, 0.5)),
            "pan-left": ((close, 0.62, 0.5), (close, 0.38, 0.5)),
            "pan-right": ((close, 0.38, 0.5), (close, 0.62, 0.5)),
            "rise": ((close, 0.5, 0.62), (close, 0.5, 0.38)),
        }.get(motion, ((wide - span / 3, 0.5, 0.5), (close + span / 3, 0.5, 0.5)))
        self._fit, self._start, self._end = fit, start, end

    def draw(self, canvas: skia.Canvas, progress: float) -> None:
        e = ease(progress)
        size, cx, cy = (a + (b - a) * e for a, b in zip(self._start, self._end, strict=True))
        w, h = self.stage.width * self._fit * size, self.stage.height * self._fit * size
        iw, ih = self.image.width(), self.image.height()
        left = min(max(0.0, cx * iw - w / 2), iw - w)
        top = min(max(0.0, cy * ih - h / 2), ih - h)
        # Linear sampling: a still magnified a little more every frame must not shimmer.
        canvas.drawImageRect(
            self.image,
            skia.Rect(left, top, left + w, top + h),
            skia.Rect(0, 0, self.stage.width, self.stage.height),
            LINEAR,
        )
