"""The built-in planner and the request and storyboard models: determinism, variety, validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import pytest

from services.encoder.generate import BuiltinPlanner, GenerationRequest, Storyboard
from services.encoder.generate.builtin import headline, split_prompt
from services.encoder.generate.request import frame_size
from services.encoder.generate.storyboard import (
    FASTEST_WORDS_PER_SECOND,
    Subject,
    scene_frames,
    trim_narration,
)

SUNSET = "A beautiful sunset over the mountains with three birds. As night falls, the stars come out."


def board(prompt: str = SUNSET, **fields: Any) -> Storyboard:
    return BuiltinPlanner().plan(GenerationRequest(prompt=prompt, **{"seed": 1, "duration": 12, **fields}))


def test_the_same_seed_gives_the_same_storyboard() -> None:
    assert board(seed=42).model_dump() == board(seed=42).model_dump()


def test_another_seed_varies_an_abstract_prompt() -> None:
    first, second = board("Quarterly results and plans", seed=1), board("Quarterly results and plans", seed=2)
    assert first.scenes[0].palette != second.scenes[0].palette


def test_different_prompts_look_different() -> None:
    prompts = [
        "A beautiful sunset over the mountains",
        "A calm ocean in the morning with two boats",
        "A busy city at night in the rain",
        "A snowy forest in winter",
        "A birthday party with red balloons",
    ]
    boards = [board(p) for p in prompts]
    looks = {(b.scenes[0].palette.sky, b.scenes[0].scenery, b.scenes[0].particles) for b in boards}
    assert len(looks) == len(prompts)
    assert [b.scenes[0].scenery for b in boards] == ["mountains", "waves", "skyline", "trees", "orbs"]
    assert [b.scenes[0].particles for b in boards] == ["dust", "dust", "rain", "snow", "confetti"]
    skies = [b.scenes[0].palette.sky for b in boards]
    assert len(set(skies)) == len(skies)


def test_words_choose_time_of_day_colours_objects_and_numbers() -> None:
    night = board("A quiet lake at midnight under the moon").scenes[0]
    assert night.sky_body == "moon" and night.particles == "stars" and night.scenery == "waves"
    assert _lightness(night.palette.sky) < 0.25
    noon = board("A sunny beach at noon").scenes[0]
    assert noon.sky_body == "sun" and _lightness(noon.palette.sky) > 0.4
    red = board("A red kite against a blue sky").scenes[0]
    assert red.palette.accent.startswith("#e") or red.palette.accent.startswith("#f")
    assert board("Three birds fly over the hills").scenes[0].subject == Subject(kind="birds", count=3)
    assert board("7 balloons rise").scenes[0].subject == Subject(kind="balloons", count=7)
    assert board("Three birds fly over the hills").scenes[0].motion == "rise"


def test_scenes_split_the_prompt_and_fill_the_duration() -> None:
    story = board(SUNSET, duration=30)
    assert abs(story.duration - 30) < 1e-6
    assert story.scenes[0].narration.startswith("A beautiful sunset")
    said = " ".join(s.narration for s in story.scenes)
    assert "stars come out" in said
    assert story.title == "Beautiful Sunset over the Mountains"
    for scene in story.scenes:
        assert len(scene.narration.split()) <= max(3, int((scene.duration - 0.6) * FASTEST_WORDS_PER_SECOND))


def test_long_videos_have_many_scenes_none_longer_than_a_minute() -> None:
    story = board("Mountains.", duration=300)
    assert len(story.scenes) >= 20 and all(s.duration <= 60 for s in story.scenes)
    assert abs(story.duration - 300) < 1e-6


def test_without_narration_the_text_is_an_on_screen_caption() -> None:
    scene = board(narration=False).scenes[0]
    assert scene.narration == "" and scene.caption.startswith("A beautiful sunset")


def test_images_become_their_own_scenes(tmp_path: Path) -> None:
    images = (tmp_path / "a.png", tmp_path / "b.png")
    story = board(SUNSET, duration=20, images=images)
    assert sorted(s.image for s in story.scenes if s.image is not None) == [0, 1]
    assert story.scenes[0].image is None  # the title card stays a drawing


def test_vertical_videos_keep_titles_off_the_sides() -> None:
    story = board(SUNSET, duration=60, aspect="9:16")
    assert {s.layout for s in story.scenes} <= {"center", "top", "lower-third"}


def test_headlines_and_splitting() -> None:
    assert headline("A beautiful sunset over mountains with three birds") == "Beautiful Sunset over Mountains"
    assert headline("Then it starts to rain, and people run home") == "Starts to Rain"
    assert split_prompt("One. Two!\nThree? Four") == ["One.", "Two!", "Three?", "Four"]


def test_frame_bounds_lose_no_frame() -> None:
    story = board(SUNSET, duration=12.34)
    bounds = scene_frames(story, 370)
    assert bounds[0][0] == 0 and bounds[-1][1] == 370
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))


def test_trimmed_narration_fits_its_scene() -> None:
    long_text = " ".join(["word"] * 100)
    story = board(SUNSET, duration=4)
    scene = story.scenes[0].model_copy(update={"narration": long_text})
    trimmed = trim_narration(story.model_copy(update={"scenes": (scene,)}))
    assert trimmed.scenes[0].narration.endswith("…") and len(trimmed.scenes[0].narration.split()) < 12
    clauses = "The sun sets over the hills, the birds fly home, and the stars come out one by one tonight."
    scene = story.scenes[0].model_copy(update={"narration": clauses})
    trimmed = trim_narration(story.model_copy(update={"scenes": (scene,)}))
    assert trimmed.scenes[0].narration == "The sun sets over the hills, the birds fly home…"


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": "x" * 2001}, "prompt"),
        ({"duration": 0.5}, "duration"),
        ({"duration": 301}, "duration"),
        ({"quality": "4k"}, "quality"),
        ({"fps": 29}, "fps"),
        ({"aspect": "4:3"}, "aspect"),
        ({"style": "noir"}, "style"),
        ({"seed": -1}, "seed"),
        ({"voice": "klingon"}, "voice"),
        ({"voice": "en-us+nobody"}, "voice"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_requests_are_validated_field_by_field(fields: dict[str, Any], where: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        GenerationRequest.model_validate({"prompt": "A sunset", **fields})
    assert [e["loc"][0] for e in caught.value.errors()] == [where]


def test_request_defaults_sizes_and_seed() -> None:
    request = GenerationRequest(prompt="A sunset")
    assert (request.duration, request.quality, request.fps, request.aspect) == (10, "720p", 30, "16:9")
    assert request.narration and request.voice == "en-us" and request.seed is None
    seeded = request.seeded()
    assert seeded.seed is not None and seeded.seeded() == seeded
    assert GenerationRequest(prompt="x", voice="FR+f3").voice == "fr+f3"
    assert frame_size("480p", "16:9") == (854, 480) and frame_size("1080p", "9:16") == (1080, 1920)
    assert GenerationRequest(prompt="x", quality="1080p").renditions() == ("1080p", "720p")
    assert GenerationRequest(prompt="x", quality="720p").renditions() == ("720p",)


def test_storyboards_refuse_bad_colours() -> None:
    data = board().model_dump()
    data["scenes"][0]["palette"]["sky"] = "blue"
    with pytest.raises(pydantic.ValidationError):
        Storyboard.model_validate(data)


def _lightness(hex_colour: str) -> float:
    value = int(hex_colour[1:], 16)
    r, g, b = value >> 16, (value >> 8) & 255, value & 255
    return (max(r, g, b) + min(r, g, b)) / 510
