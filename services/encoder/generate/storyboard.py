"""The storyboard: what every planner produces and the renderer draws, validated by one model."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.encoder.generate.request import Style

Hex = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
Layout = Literal["center", "lower-third", "top", "left", "right"]
Motion = Literal["drift", "zoom-in", "zoom-out", "pan-left", "pan-right", "rise", "sway"]
Scenery = Literal["none", "mountains", "hills", "waves", "skyline", "trees", "grid", "orbs"]
Particles = Literal["none", "stars", "rain", "snow", "bubbles", "confetti", "dust", "fireflies"]
SkyBody = Literal["none", "sun", "moon"]
Motif = Literal["birds", "balloons", "boats", "fish", "flowers", "hearts"]

LAYOUTS: tuple[Layout, ...] = ("center", "lower-third", "top", "left", "right")
MOTIONS: tuple[Motion, ...] = ("drift", "zoom-in", "zoom-out", "pan-left", "pan-right", "rise", "sway")
SCENERIES: tuple[Scenery, ...] = ("none", "mountains", "hills", "waves", "skyline", "trees", "grid", "orbs")
PARTICLES: tuple[Particles, ...] = ("none", "stars", "rain", "snow", "bubbles", "confetti", "dust", "fireflies")
MOTIFS: tuple[Motif, ...] = ("birds", "balloons", "boats", "fish", "flowers", "hearts")
MAX_SCENES = 60
MAX_SCENE_SECONDS = 60.0
_SPLITS = 5  # at most this many extra scenes come from splitting: 300 s / 60 s
MIN_SCENE = 1.0  # seconds: shorter scenes flicker past before their title can be read
WORDS_PER_SECOND = 2.6  # narration a scene can speak at eSpeak's calm rate (about 160 words a minute)
FASTEST_WORDS_PER_SECOND = 3.3  # about 200 words a minute: brisk, still easy to follow


class Palette(BaseModel):
    """Sky (top of the gradient), ground (bottom), accent (shapes, highlights), text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sky: Hex
    ground: Hex
    accent: Hex
    text: Hex


class Subject(BaseModel):
    """Countable things drawn in the scene ("three birds")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Motif
    count: int = Field(ge=1, le=12)


class Scene(BaseModel):
    """One shot: how long, what it says on screen and aloud, and how it looks and moves."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    duration: float = Field(gt=0, le=60)
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)]
    caption: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    narration: Annotated[str, StringConstraints(strip_whitespace=True, max_length=600)] = ""
    palette: Palette
    layout: Layout = "center"
    motion: Motion = "drift"
    scenery: Scenery = "none"
    particles: Particles = "none"
    sky_body: SkyBody = "none"
    subject: Subject | None = None
    image: int | None = Field(None, ge=0, description="Index into the request's images: a Ken Burns shot.")
    energy: float = Field(0.5, ge=0, le=1, description="How lively the motion is.")


class Storyboard(BaseModel):
    """The whole plan of a video; scene durations add up to the video's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]
    style: Style
    scenes: tuple[Scene, ...] = Field(min_length=1, max_length=MAX_SCENES)

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.scenes)

    def fitted(self, duration: float, images: int) -> Storyboard:
        """The same plan with durations scaled to add up to `duration` (a planner's sum is a wish, the
        request's length is the contract), image indexes in range, and scenes longer than a minute split
        (what a scene holds in memory, its speech, stays bounded whatever the video's length)."""
        most = max(1, min(MAX_SCENES - _SPLITS, int(duration // MIN_SCENE)))
        scenes = [
            s if s.image is None or s.image < images else s.model_copy(update={"image": None}) for s in self.scenes
        ]
        scenes = scenes[:most]
        total = sum(s.duration for s in scenes)
        fitted: list[dict[str, object]] = []
        for scene in scenes:
            length = scene.duration * duration / total
            parts = math.ceil(length / MAX_SCENE_SECONDS)
            for part in range(parts):
                data = scene.model_dump()
                data["duration"] = length / parts
                if part:  # a continuation shows the same picture without saying it all again
                    data.update(title="", narration="")
                fitted.append(data)
        return Storyboard.model_validate({**self.model_dump(), "scenes": fitted})


def trim_narration(storyboard: Storyboard) -> Storyboard:
    """Narration cut to what each scene can say, spoken briskly (a planner may write more than fits;
    the narrator speeds up to this pace before it cuts). Whole clauses go first, then words."""
    scenes = []
    for scene in storyboard.scenes:
        budget = max(3, int((scene.duration - 0.6) * FASTEST_WORDS_PER_SECOND))
        words = scene.narration.split()
        text = scene.narration
        if len(words) > budget:
            kept = words[:budget]
            ends = [i for i, w in enumerate(kept) if w[-1] in ",;:.!?"]
            if ends and ends[-1] + 1 >= budget // 2:  # a clause boundary keeps most of it: end there
                text = " ".join(kept[: ends[-1] + 1]).rstrip(",;:") + ("" if kept[ends[-1]][-1] in ".!?" else "…")
            else:
                text = " ".join(kept).rstrip(",;:") + "…"
        scenes.append(scene.model_copy(update={"narration": text}))
    return storyboard.model_copy(update={"scenes": tuple(scenes)})


def scene_frames(storyboard: Storyboard, frames: int) -> list[tuple[int, int]]:
    """[start, end) frame of each scene: cumulative rounding, so no frame is lost or doubled."""
    bounds: list[tuple[int, int]] = []
    elapsed, start = 0.0, 0
    total = storyboard.duration
    last = len(storyboard.scenes) - 1
    for index, scene in enumerate(storyboard.scenes):
        elapsed += scene.duration
        end = frames if index == last else min(frames, round(elapsed / total * frames))
        bounds.append((start, max(start, end)))
        start = bounds[-1][1]
    return bounds


def metadata(storyboard: Storyboard) -> list[dict[str, object]]:
    """The scenes as GET /videos/{id}/metadata shows them (JSON-ready)."""
    return [s.model_dump(mode="json") for s in storyboard.scenes]
