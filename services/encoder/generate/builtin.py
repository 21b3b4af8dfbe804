"""The built-in planner: no model, deterministic for a seed; the prompt's words choose the look."""

from __future__ import annotations

import colorsys
import random
import re
from dataclasses import dataclass

from services.encoder.generate import lexicon as lx
from services.encoder.generate.planner import BUILTIN_MODEL
from services.encoder.generate.request import GenerationRequest, Style
from services.encoder.generate.storyboard import (
    MAX_SCENES,
    MIN_SCENE,
    MOTIONS,
    WORDS_PER_SECOND,
    Layout,
    Motion,
    Palette,
    Particles,
    Scene,
    Scenery,
    SkyBody,
    Storyboard,
    Subject,
)

_SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n+")
_CLAUSE = re.compile(r",\s+|\s+(?:and then|then|while|before|after)\s+", re.IGNORECASE)
_WORD = re.compile(r"[\w'-]+", re.UNICODE)
_LONG_CLAUSE = 14  # words: a longer sentence is split at its commas
_SCENE_SECONDS = 5.0  # the pace a scene is planned for when the prompt gives no more to say
_ENERGY: dict[Style, float] = {"clean": 0.5, "vivid": 0.72, "cinematic": 0.3, "retro": 0.5, "minimal": 0.35}
_LAYOUTS_WIDE: tuple[Layout, ...] = ("center", "lower-third", "left", "top", "right")
_LAYOUTS_TALL: tuple[Layout, ...] = ("center", "top", "lower-third")


@dataclass(frozen=True)
class _Traits:
    """What one stretch of text says about the picture."""

    time: str | None
    place: str | None
    scenery: Scenery | None
    particles: Particles | None
    sky_body: SkyBody | None
    subject: Subject | None
    motion: Motion | None
    colours: tuple[tuple[float, float, float], ...]
    mood: float  # -1 calm .. +1 lively
    light: float  # -1 dark .. +1 bright


class BuiltinPlanner:
    """Splits the prompt into scenes and picks palette, shapes and motion from its words."""

    name = "builtin"
    model = BUILTIN_MODEL

    def plan(self, request: GenerationRequest) -> Storyboard:
        seed = request.seed or 0
        units = split_prompt(request.prompt)
        count = _scene_count(request, len(units))
        groups = _distribute(units, count)
        whole = _traits(request.prompt)
        images = _image_slots(count, len(request.images))
        layouts = _LAYOUTS_TALL if request.aspect == "9:16" else _LAYOUTS_WIDE
        # One hue for a video whose words name no light or place: its scenes vary around it.
        hue = random.Random(f"{seed}:{request.prompt}").uniform(0, 360)
        used_titles: set[str] = set()
        scenes: list[Scene] = []
        last = whole  # a quiet scene continues the one before it (the prompt as a whole, at first)
        for index, text in enumerate(groups):
            rng = random.Random(f"{seed}:{index}:{request.prompt}")
            own = _traits(text) if text else last
            last = own if text else last
            traits = _merge(own, whole)
            title = headline(text) if text else _beat_title(request.prompt, used_titles, rng)
            used_titles.add(title.lower())
            weight = max(2.5, len(text.split()) / WORDS_PER_SECOND + 1.2) if text else 3.0
            image = images.get(index)
            layout: Layout = "lower-third" if image is not None else "center" if index == 0 else rng.choice(layouts)
            scenes.append(
                Scene(
                    duration=weight,
                    title=title,
                    caption="" if request.narration else _clip(text, 200),
                    narration=text if request.narration else "",
                    palette=_palette(traits, request.style, hue, rng),
                    layout=layout,
                    motion=_motion(traits, request.style, image is not None, rng),
                    scenery="none" if request.style == "minimal" and index % 2 else _scenery(traits, rng),
                    particles=_particles(traits, request.style),
                    sky_body=traits.sky_body or "none",
                    subject=traits.subject,
                    image=image,
                    energy=round(
                        min(1.0, max(0.0, _ENERGY[request.style] + 0.25 * traits.mood + rng.uniform(-0.05, 0.05))), 3
                    ),
                )
            )
        title = headline(units[0] if units else request.prompt, 6)
        return Storyboard(title=title, style=request.style, scenes=tuple(scenes)).fitted(
            request.duration, len(request.images)
        )


def split_prompt(prompt: str) -> list[str]:
    """Sentences, and long sentences cut at their commas and "then"s: the units a scene can say."""
    units: list[str] = []
    for sentence in _SENTENCE.split(prompt.strip()):
        sentence = sentence.strip()
        if not sentence:
            continue
        if len(sentence.split()) <= _LONG_CLAUSE:
            units.append(sentence)
            continue
        units += [part.strip() for part in _CLAUSE.split(sentence) if part and part.strip()]
    return units


def headline(text: str, most: int = 6) -> str:
    """A title from a clause: its words up to a phrase boundary, title-cased ("Sunset over Mountains")."""
    words = _WORD.findall(text.split(",")[0])
    while words and words[0].lower() in lx.STOPWORDS:
        words.pop(0)
    if len(words) > most:
        # Cut before a small word ("... with three birds"), so the title ends on a whole phrase.
        cuts = [i for i in range(2, most + 1) if words[i].lower() in lx.SMALL]
        words = words[: cuts[-1]] if cuts else words[:most]
    while len(words) > 1 and words[-1].lower() in lx.STOPWORDS:
        words.pop()
    if not words:
        return _clip(text, 40)
    titled = [
        w.lower() if i and w.lower() in lx.SMALL else w if w.isupper() else w[:1].upper() + w[1:]
        for i, w in enumerate(words)
    ]
    return " ".join(titled)


def _scene_count(request: GenerationRequest, units: int) -> int:
    room = max(1, min(MAX_SCENES - 5, int(request.duration // (MIN_SCENE * 2))))
    paced = round(request.duration / _SCENE_SECONDS)
    wanted = max(1, paced, min(units, int(request.duration // 2.5)), len(request.images))
    return min(room, wanted)


def _distribute(units: list[str], count: int) -> list[str]:
    """`count` texts: units merged when there are more, spread out with quiet scenes ("") when fewer."""
    if not units:
        return [""] * count
    if len(units) >= count:
        groups: list[list[str]] = [[] for _ in range(count)]
        for i, unit in enumerate(units):
            groups[i * count // len(units)].append(unit)
        return [" ".join(g) for g in groups]
    slots = [""] * count
    for i, unit in enumerate(units):
        slots[i * count // len(units)] = unit
    return slots


def _image_slots(scenes: int, images: int) -> dict[int, int]:
    """Scene index -> image index, spread evenly; the first scene stays a title card when there is room."""
    if not images:
        return {}
    first = 1 if scenes > images else 0
    span = scenes - first
    return {first + i * span // images: i for i in range(min(images, span))}


def _traits(text: str) -> _Traits:
    words = [w.lower() for w in _WORD.findall(text)]
    joined = " ".join(words)
    time_of_day = (
        "sunset" if "golden hour" in joined else next((lx.TIME_WORDS[w] for w in words if w in lx.TIME_WORDS), None)
    )
    return _Traits(
        time=time_of_day,
        place=next((lx.PLACE_WORDS[w] for w in words if w in lx.PLACE_WORDS), None),
        scenery=next((lx.SCENERY_WORDS[w] for w in words if w in lx.SCENERY_WORDS), None),
        particles=next((lx.PARTICLE_WORDS[w] for w in words if w in lx.PARTICLE_WORDS), None),
        sky_body=next((lx.SKY_WORDS[w] for w in words if w in lx.SKY_WORDS), None),
        subject=_subject(words),
        motion=next((lx.MOTION_WORDS[w] for w in words if w in lx.MOTION_WORDS), None),
        colours=tuple(lx.COLOURS[w] for w in words if w in lx.COLOURS),
        mood=float(sum(w in lx.LIVELY for w in words) - sum(w in lx.CALM for w in words)),
        light=float(sum(w in lx.BRIGHT for w in words) - sum(w in lx.DARK for w in words)),
    )


def _subject(words: list[str]) -> Subject | None:
    """The first countable thing and the number just before it ("3 birds", "two boats", "a boat")."""
    for i, word in enumerate(words):
        kind = lx.MOTIF_WORDS.get(word)
        if kind is None:
            continue
        plural = word.endswith("s") and word != "fish"
        count = 7 if word == "flock" else 4 if plural else 1
        for before in reversed(words[max(0, i - 3) : i]):
            number = int(before) if before.isdigit() else lx.NUMBERS.get(before)
            if number is not None and not (plural and before in ("a", "an")):
                count = number
                break
        return Subject(kind=kind, count=max(1, min(12, count)))
    return None


def _merge(own: _Traits, whole: _Traits) -> _Traits:
    """A scene's own words first; the prompt's as a whole fill what the scene does not say."""
    return _Traits(
        time=own.time or whole.time,
        place=own.place or whole.place,
        scenery=own.scenery or whole.scenery,
        # What happens (rain, a flock) belongs to the scene that says it; the setting carries over.
        particles=own.particles,
        sky_body=own.sky_body or whole.sky_body,
        subject=own.subject,
        motion=own.motion,
        colours=own.colours or whole.colours,
        mood=own.mood + 0.5 * whole.mood,
        light=own.light + 0.5 * whole.light,
    )


def _palette(traits: _Traits, style: Style, hue: float, rng: random.Random) -> Palette:
    if traits.time:
        look = lx.TIMES[traits.time]
    elif traits.place:
        look = lx.PLACES[traits.place]
    else:  # nothing named: the video's seeded hue, so two seeds of one abstract prompt differ
        hue = (hue + rng.uniform(-25, 25)) % 360
        look = lx.Look((hue, 0.55, 0.45), ((hue + 40) % 360, 0.5, 0.18), ((hue + 180) % 360, 0.8, 0.6))
    sky, ground, accent = look.sky, look.ground, look.accent
    if traits.colours:
        accent = traits.colours[0]
        if len(traits.colours) > 1:
            sky = _blend(sky, traits.colours[1], 0.6)
        elif not traits.time:
            sky = _blend(sky, traits.colours[0], 0.35)
    shift = rng.uniform(-8, 8)
    lift = 0.04 * max(-2.0, min(2.0, traits.light)) + rng.uniform(-0.03, 0.03)
    saturate = {"vivid": 1.25, "cinematic": 0.8, "retro": 0.7, "minimal": 0.85, "clean": 1.0}[style]
    darken = {"cinematic": -0.08, "retro": 0.0, "vivid": 0.0, "minimal": 0.02, "clean": 0.0}[style]
    warm = 18.0 if style == "retro" else 0.0

    def tone(hsl: tuple[float, float, float]) -> tuple[float, float, float]:
        h, s, light = hsl
        h = h + shift + (warm if 90 < h < 270 else -warm / 3)
        return h % 360, min(1.0, s * saturate), min(0.95, max(0.04, light + lift + darken))

    sky, ground, accent = tone(sky), tone(ground), tone(accent)
    mid = (_luminance(sky) + _luminance(ground)) / 2
    text = "#101318" if mid > 0.6 else "#fbfaf7"
    return Palette(sky=_hex(sky), ground=_hex(ground), accent=_hex(accent), text=text)


def _scenery(traits: _Traits, rng: random.Random) -> Scenery:
    if traits.scenery:
        return traits.scenery
    if traits.place:
        return lx.SCENERY_OF[traits.place]
    return rng.choice(("orbs", "hills", "none", "orbs"))


def _particles(traits: _Traits, style: Style) -> Particles:
    if traits.particles:
        return traits.particles
    if traits.time == "night":
        return "stars"
    return "none" if style == "minimal" else "dust"


def _motion(traits: _Traits, style: Style, image: bool, rng: random.Random) -> Motion:
    if traits.motion == "pan-left":
        return rng.choice(("pan-left", "pan-right"))
    if traits.motion and not (image and traits.motion in ("rise", "sway")):
        return traits.motion
    if image:  # Ken Burns: a slow push in or pull out, or a pan
        return rng.choice(("zoom-in", "zoom-out", "pan-left", "pan-right"))
    if style == "minimal":
        return "drift"
    return rng.choice(MOTIONS[:5] if style != "cinematic" else ("zoom-in", "zoom-out", "pan-left", "pan-right"))


def _beat_title(prompt: str, used: set[str], rng: random.Random) -> str:
    """A quiet scene's title: a thing or place the prompt names, not yet used as a title."""
    words = [w for w in _WORD.findall(prompt) if w.lower() not in lx.STOPWORDS and len(w) > 2]
    named = [
        w for w in words if w.lower() in lx.PLACE_WORDS or w.lower() in lx.MOTIF_WORDS or w.lower() in lx.TIME_WORDS
    ]
    for choices in (named, words):
        fresh = [w for w in dict.fromkeys(choices) if w.lower() not in used]
        if fresh:
            return headline(rng.choice(fresh), 1)
    return ""


def _clip(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1].rsplit(" ", 1)[0] + "…"


def _blend(a: tuple[float, float, float], b: tuple[float, float, float], t: float) -> tuple[float, float, float]:
    dh = ((b[0] - a[0] + 180) % 360) - 180  # the short way round the colour wheel
    return (a[0] + dh * t) % 360, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t


def _luminance(hsl: tuple[float, float, float]) -> float:
    r, g, b = colorsys.hls_to_rgb(hsl[0] / 360, hsl[2], hsl[1])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _hex(hsl: tuple[float, float, float]) -> str:
    r, g, b = colorsys.hls_to_rgb(hsl[0] / 360, hsl[2], hsl[1])
    return "#{:02x}{:02x}{:02x}".format(*(round(max(0.0, min(1.0, c)) * 255) for c in (r, g, b)))
