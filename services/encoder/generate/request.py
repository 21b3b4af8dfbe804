"""What a generation is asked for (one pydantic model, the same checks at every hop) and its sizes."""

from __future__ import annotations

import functools
import secrets
from pathlib import Path
from typing import Annotated, Literal

import espeakng_loader
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Quality = Literal["480p", "720p", "1080p"]
Aspect = Literal["16:9", "9:16", "1:1"]
# The looks: clean (soft gradients, light type), vivid (saturated, bold, busy), cinematic
# (letterbox, vignette, dark, slow), retro (warm, scanlines), minimal (flat colour, text first).
Style = Literal["clean", "vivid", "cinematic", "retro", "minimal"]
QUALITIES: tuple[Quality, ...] = ("480p", "720p", "1080p")
STYLES: tuple[Style, ...] = ("clean", "vivid", "cinematic", "retro", "minimal")
FPS_CHOICES = (24, 25, 30, 60)
RENDITION: Quality = "720p"  # the extra output when the main one is larger
MAX_IMAGES = 20
SEED_MAX = 2**32 - 1
DEFAULT_VOICE = "en-us"

# 16:9 at 480p is 854 wide (the usual even rounding of 853.3).
_SHORT = {"480p": 480, "720p": 720, "1080p": 1080}
_LONG = {"480p": 854, "720p": 1280, "1080p": 1920}


def frame_size(quality: Quality, aspect: Aspect) -> tuple[int, int]:
    """(width, height) of the picture: the quality is the short side, the aspect places it."""
    short, long_ = _SHORT[quality], _LONG[quality]
    return {"16:9": (long_, short), "9:16": (short, long_), "1:1": (short, short)}[aspect]


@functools.cache
def voices() -> tuple[frozenset[str], frozenset[str]]:
    """The voice names eSpeak NG knows (its language files) and the variants it can add (+f3)."""
    data = Path(espeakng_loader.get_data_path())
    languages = frozenset(p.name.lower() for p in (data / "lang").rglob("*") if p.is_file())
    variants = frozenset(p.name.lower() for p in (data / "voices" / "!v").iterdir() if " " not in p.name)
    return languages, variants


class GenerationRequest(BaseModel):
    """A text-to-video request: the Media API's {prompt, duration, quality} plus vidkiln's fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    duration: float = Field(10.0, ge=1, le=300, description="Seconds of video.")
    quality: Quality = "720p"
    fps: Literal[24, 25, 30, 60] = 30
    aspect: Aspect = "16:9"
    style: Style = "clean"
    seed: int | None = Field(None, ge=0, le=SEED_MAX, description="Random when absent; always reported.")
    narration: bool = True
    voice: str = Field(DEFAULT_VOICE, description="An eSpeak NG voice: language[-region][+variant].")
    images: tuple[Path, ...] = Field((), max_length=MAX_IMAGES, description="Local image files, one scene each.")

    @field_validator("voice")
    @classmethod
    def _known_voice(cls, value: str) -> str:
        name = value.strip().lower()
        language, _, variant = name.partition("+")
        languages, variants = voices()
        if language not in languages:
            raise ValueError(f"unknown voice {language!r}: use an eSpeak NG language such as en-us, en-gb, fr or de")
        if variant and variant not in variants:
            raise ValueError(f"unknown voice variant {variant!r}: use one of eSpeak NG's, such as f3 or m2")
        return name

    @property
    def size(self) -> tuple[int, int]:
        return frame_size(self.quality, self.aspect)

    @property
    def frames(self) -> int:
        """The number of frames of the whole video (at least one second's worth)."""
        return max(self.fps, round(self.duration * self.fps))

    def seeded(self) -> GenerationRequest:
        """This request with its seed fixed (a random one when absent): call it once, when the job is made,
        so that a retried or redone generation gives the same video."""
        if self.seed is not None:
            return self
        return self.model_copy(update={"seed": secrets.randbelow(SEED_MAX + 1)})

    def renditions(self) -> tuple[Quality, ...]:
        """The qualities written: the requested one, then 720p when the requested one is larger."""
        if _SHORT[self.quality] > _SHORT[RENDITION]:
            return (self.quality, RENDITION)
        return (self.quality,)
