"""The built-in planner's vocabulary: which words choose which colours, shapes, motion and counts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import cast

from services.encoder.generate.storyboard import Motif, Motion, Particles, Scenery, SkyBody


@dataclass(frozen=True)
class Look:
    """A base palette (hue degrees, saturation and lightness 0..1 for the sky's top and the ground)."""

    sky: tuple[float, float, float]
    ground: tuple[float, float, float]
    accent: tuple[float, float, float]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _table(entries: Mapping[str, tuple[str, ...]]) -> Mapping[str, str]:
    """word -> category, from category -> words."""
    return MappingProxyType({word: key for key, words in entries.items() for word in words})


# Time of day decides the sky first: it is what a viewer reads a scene's light from.
TIMES: Mapping[str, Look] = MappingProxyType(
    {
        "dawn": Look((20, 0.75, 0.72), (265, 0.35, 0.42), (42, 0.95, 0.70)),
        "morning": Look((205, 0.80, 0.74), (185, 0.45, 0.86), (45, 0.95, 0.62)),
        "day": Look((205, 0.72, 0.55), (200, 0.75, 0.86), (50, 1.00, 0.62)),
        "sunset": Look((14, 0.95, 0.62), (275, 0.50, 0.22), (40, 1.00, 0.62)),
        "dusk": Look((255, 0.35, 0.42), (245, 0.40, 0.16), (22, 0.90, 0.68)),
        "night": Look((228, 0.58, 0.10), (222, 0.40, 0.20), (230, 0.70, 0.88)),
    }
)
TIME_WORDS = _table(
    {
        "dawn": _words("dawn sunrise daybreak first-light"),
        "morning": _words("morning breakfast am early"),
        "day": _words("day noon midday afternoon daytime sunny sunshine"),
        "sunset": _words("sunset golden hour sundown"),
        "dusk": _words("dusk evening twilight"),
        "night": _words("night midnight nighttime nocturnal moonlight moonlit dark starry"),
    }
)

# Places and nature tint the palette when no time of day is named, and choose the scenery.
PLACES: Mapping[str, Look] = MappingProxyType(
    {
        "ocean": Look((198, 0.75, 0.55), (215, 0.80, 0.25), (175, 0.70, 0.60)),
        "forest": Look((140, 0.35, 0.55), (150, 0.55, 0.18), (85, 0.60, 0.55)),
        "desert": Look((35, 0.70, 0.70), (25, 0.65, 0.45), (12, 0.80, 0.55)),
        "snow": Look((205, 0.45, 0.88), (210, 0.30, 0.70), (200, 0.80, 0.55)),
        "fire": Look((8, 0.85, 0.35), (25, 0.95, 0.12), (40, 1.00, 0.55)),
        "space": Look((265, 0.65, 0.12), (240, 0.60, 0.05), (300, 0.80, 0.70)),
        "city": Look((220, 0.25, 0.32), (230, 0.30, 0.12), (320, 0.90, 0.62)),
        "tech": Look((215, 0.70, 0.18), (200, 0.85, 0.08), (180, 0.95, 0.55)),
        "meadow": Look((95, 0.55, 0.75), (110, 0.45, 0.38), (50, 0.90, 0.60)),
        "mountain": Look((210, 0.45, 0.66), (225, 0.30, 0.30), (30, 0.85, 0.62)),
    }
)
PLACE_WORDS = _table(
    {
        "ocean": _words("ocean sea seas wave waves beach coast shore surf lake river water island bay harbor harbour"),
        "forest": _words("forest forests tree trees woods jungle rainforest park leaves"),
        "desert": _words("desert sand sands dune dunes canyon sahara"),
        "snow": _words("snow snowy winter ice icy frost frozen glacier arctic christmas"),
        "fire": _words("fire flame flames lava volcano burning blaze"),
        "space": _words("space galaxy galaxies planet planets cosmos universe nebula astronaut rocket orbit"),
        "city": _words("city cities town street streets building buildings skyline tower towers urban downtown"),
        "tech": _words("technology tech digital data ai computer computers code software cyber network robot"),
        "meadow": _words("meadow meadows field fields valley countryside farm spring grass garden"),
        "mountain": _words("mountain mountains peak peaks alps summit cliffs hill hills"),
    }
)
SCENERY_OF: Mapping[str, Scenery] = MappingProxyType(
    {
        "ocean": "waves",
        "forest": "trees",
        "desert": "hills",
        "snow": "mountains",
        "fire": "orbs",
        "space": "orbs",
        "city": "skyline",
        "tech": "grid",
        "meadow": "hills",
        "mountain": "mountains",
    }
)
# A named landform wins over the place's usual scenery ("snowy hills" are hills).
SCENERY_WORDS = cast(
    "Mapping[str, Scenery]",
    _table(
        {
            "mountains": _words("mountain mountains peak peaks alps summit cliffs"),
            "hills": _words("hill hills dune dunes valley meadow meadows field fields"),
            "waves": _words("wave waves ocean sea beach surf shore coast"),
            "skyline": _words("city skyline buildings towers downtown"),
            "trees": _words("forest trees woods jungle"),
        }
    ),
)

PARTICLE_WORDS = cast(
    "Mapping[str, Particles]",
    _table(
        {
            "stars": _words("star stars starry galaxy space cosmos universe nebula constellation"),
            "rain": _words("rain rainy raining storm stormy drizzle thunder monsoon"),
            "snow": _words("snow snowy snowfall snowflakes winter blizzard christmas"),
            "bubbles": _words("underwater bubble bubbles fish aquarium diving reef coral"),
            "confetti": _words("party celebration celebrate birthday festival wedding confetti carnival anniversary"),
            "fireflies": _words("firefly fireflies magic magical fairy enchanted glowing lanterns"),
        }
    ),
)
SKY_WORDS = cast(
    "Mapping[str, SkyBody]",
    _table(
        {
            "sun": _words("sun sunny sunshine sunrise sunset dawn morning noon midday summer daybreak sundown"),
            "moon": _words("moon moonlight moonlit midnight night lunar"),
        }
    ),
)
MOTIF_WORDS = cast(
    "Mapping[str, Motif]",
    _table(
        {
            "birds": _words("bird birds seagull seagulls gull gulls eagle eagles dove doves swallow swallows flock"),
            "balloons": _words("balloon balloons"),
            "boats": _words("boat boats ship ships sailboat sailboats yacht yachts sail canoe"),
            "fish": _words("fish fishes goldfish salmon"),
            "flowers": _words("flower flowers rose roses tulip tulips blossom blossoms bloom daisy daisies"),
            "hearts": _words("love heart hearts valentine romance romantic"),
        }
    ),
)
MOTION_WORDS = cast(
    "Mapping[str, Motion]",
    _table(
        {
            "rise": _words("fly flying flies rise rising rises up ascend soar soaring float floating launch lift"),
            "pan-left": _words("journey travel travelling traveling across road drive driving train flowing"),
            "zoom-in": _words("zoom closer approach into dive diving inside enter"),
            "zoom-out": _words("reveal vast wide panorama horizon far distant overview landscape"),
            "sway": _words("dance dancing sway swaying wind windy breeze gentle waving"),
        }
    ),
)
CALM = frozenset(_words("calm slow gentle peaceful quiet serene soft relaxing tranquil still lazy sleepy"))
LIVELY = frozenset(_words("fast energetic exciting wild busy dance party storm rush racing vibrant epic loud"))
DARK = frozenset(_words("dark mysterious gloomy shadow shadows eerie haunted noir"))
BRIGHT = frozenset(_words("bright happy joyful cheerful sunny light radiant glowing"))

# Colours named in the prompt: hue, saturation, lightness. The first becomes the accent, a second
# one tints the sky: "a red balloon in a blue sky" looks red on blue.
COLOURS: Mapping[str, tuple[float, float, float]] = MappingProxyType(
    {
        "red": (2, 0.80, 0.52),
        "crimson": (348, 0.80, 0.45),
        "orange": (28, 0.95, 0.55),
        "amber": (40, 0.95, 0.52),
        "yellow": (52, 0.95, 0.58),
        "gold": (45, 0.85, 0.55),
        "golden": (42, 0.85, 0.56),
        "green": (125, 0.55, 0.45),
        "emerald": (150, 0.70, 0.40),
        "teal": (178, 0.65, 0.38),
        "turquoise": (172, 0.70, 0.52),
        "cyan": (188, 0.85, 0.52),
        "blue": (214, 0.80, 0.52),
        "navy": (225, 0.65, 0.25),
        "purple": (275, 0.60, 0.50),
        "violet": (265, 0.65, 0.58),
        "lavender": (260, 0.55, 0.78),
        "pink": (335, 0.80, 0.72),
        "magenta": (305, 0.80, 0.52),
        "brown": (25, 0.45, 0.35),
        "silver": (215, 0.10, 0.75),
        "grey": (215, 0.08, 0.55),
        "gray": (215, 0.08, 0.55),
        "white": (210, 0.15, 0.95),
        "black": (230, 0.20, 0.08),
    }
)

NUMBERS: Mapping[str, int] = MappingProxyType(
    {
        "a": 1,
        "an": 1,
        "one": 1,
        "single": 1,
        "lone": 1,
        "two": 2,
        "pair": 2,
        "couple": 2,
        "three": 3,
        "few": 3,
        "four": 4,
        "five": 5,
        "six": 6,
        "seven": 7,
        "eight": 8,
        "nine": 9,
        "ten": 10,
        "eleven": 11,
        "twelve": 12,
        "dozen": 12,
        "several": 5,
        "many": 9,
    }
)

STOPWORDS = frozenset(
    _words(
        "a an the and or but of in on at to for with from by as is are was were be been it its this that these those"
        " there their then than into onto over under above below through while when where who which what so very"
        " just also about after before during up down out off again further once here all any both each more most"
        " other some such no nor not only own same too can will should would could my our your his her we they i you"
    )
)
# Small words stay lower case inside a title ("Sunset over the Mountains").
SMALL = frozenset(_words("a an the and or but of in on at to for with from by as over into onto under"))
