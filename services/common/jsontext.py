"""JSON from callers, parsed with bounds: valid UTF-8 text only, and a nesting depth any encoder can write back.

orjson refuses what the standard library lets through and later code cannot handle: lone UTF-16
surrogates (`"\\ud800"` parses to a str no UTF-8 encoder accepts, which killed a job's webhooks),
NaN and Infinity, integers beyond 64 bits. Its own depth limit (1024) is above the standard
library's recursion limit, so the depth is bounded here too, iteratively.
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_DEPTH = 32  # objects and arrays inside one another; far beyond any body the APIs define


class JsonTextError(ValueError):
    """The text is not acceptable JSON; the message says why, never what the text held."""


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The parsed value; JsonTextError for malformed JSON, unencodable text or nesting deeper than max_depth."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise JsonTextError(str(exc)) from None
    if depth_exceeds(value, max_depth):
        raise JsonTextError(f"objects and arrays nest deeper than {max_depth} levels")
    return value


def depth_exceeds(value: Any, max_depth: int) -> bool:
    """Whether containers nest deeper than max_depth (a scalar is depth 0), without recursion."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth + 1 > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def encodable(text: str) -> bool:
    """Whether the text can be written as UTF-8 (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
