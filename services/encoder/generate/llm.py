"""The LLM planner: any OpenAI-compatible chat-completions server (vLLM, Ollama, llama.cpp, hosted APIs).

It asks for the storyboard as structured JSON (`response_format` json_schema; json_object for a
server that refuses schemas), validates the answer with the storyboard model, retries what may
pass on another try (time-outs, 429 and 5xx, malformed answers) and gives up at a time limit.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
import pydantic

from services.encoder.generate.planner import PlannerError
from services.encoder.generate.request import GenerationRequest
from services.encoder.generate.storyboard import (
    LAYOUTS,
    MAX_SCENES,
    MOTIFS,
    MOTIONS,
    PARTICLES,
    SCENERIES,
    Storyboard,
)

logger = logging.getLogger(__name__)

_COLOUR = {"type": "string", "description": "#rrggbb"}
_SCENE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "duration", "title", "caption", "narration", "palette", "layout", "motion", "scenery", "particles",
        "sky_body", "subject", "count", "image", "energy",
    ],
    "properties": {
        "duration": {"type": "number", "description": "seconds"},
        "title": {"type": "string", "description": "on-screen headline, at most 6 words"},
        "caption": {"type": "string", "description": "an optional second on-screen line"},
        "narration": {"type": "string", "description": "what the voice says: at most 2.5 words per second"},
        "palette": {
            "type": "object",
            "additionalProperties": False,
            "required": ["sky", "ground", "accent", "text"],
            "properties": {"sky": _COLOUR, "ground": _COLOUR, "accent": _COLOUR, "text": _COLOUR},
        },
        "layout": {"type": "string", "enum": list(LAYOUTS)},
        "motion": {"type": "string", "enum": list(MOTIONS)},
        "scenery": {"type": "string", "enum": list(SCENERIES)},
        "particles": {"type": "string", "enum": list(PARTICLES)},
        "sky_body": {"type": "string", "enum": ["none", "sun", "moon"]},
        "subject": {"type": "string", "enum": ["none", *MOTIFS]},
        "count": {"type": "integer", "description": "how many of the subject, 0 to 12"},
        "image": {"type": "integer", "description": "index of a supplied image to show, or -1"},
        "energy": {"type": "number", "description": "0 calm .. 1 lively"},
    },
}  # fmt: skip
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "scenes"],
    "properties": {"title": {"type": "string"}, "scenes": {"type": "array", "items": _SCENE_SCHEMA}},
}
_SYSTEM = (
    "You plan short animated explainer videos made of 2D vector graphics: gradients, simple scenery, particles,"
    " kinetic titles and a narrator. Answer with one JSON object that follows the given schema. Scene durations"
    " add up to the requested duration; scenes last 2 to 12 seconds. Narration is spoken at about 2.5 words per"
    " second, so keep each scene's narration within that. Titles are short. Colours are #rrggbb with the text"
    " colour readable on the sky-to-ground gradient. Write titles and narration in the language of the prompt."
)
_RETRYABLE = {408, 409, 425, 429, 500, 502, 503, 504}


class LlmPlanner:
    """Plans through POST {base_url}/chat/completions; raises PlannerError when no good answer came in time."""

    name = "llm"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        time_limit: float = 60.0,
        attempts: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self._key = api_key
        self._time_limit, self._attempts, self._backoff = time_limit, attempts, backoff

    @property
    def model(self) -> str:
        return self._model

    def plan(self, request: GenerationRequest) -> Storyboard:
        deadline = time.monotonic() + self._time_limit
        schema_format = True
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        last = "no attempt"
        with httpx.Client(headers=headers) as client:
            for attempt in range(1, self._attempts + 1):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    return self._ask(client, request, schema_format=schema_format, timeout=left)
                except _Refused as exc:
                    if exc.status in (400, 422) and schema_format:
                        schema_format, last = False, f"HTTP {exc.status} to json_schema"  # try json_object
                        continue
                    if exc.status not in _RETRYABLE:
                        raise PlannerError(f"the LLM server answered HTTP {exc.status}") from None
                    last = f"HTTP {exc.status}"
                except httpx.TimeoutException:
                    last = "no answer within the time limit"
                except httpx.TransportError as exc:
                    last = f"cannot reach the LLM server ({type(exc).__name__})"
                except _Malformed as exc:
                    last = str(exc)
                logger.info("LLM planner attempt %d of %d failed: %s", attempt, self._attempts, last)
                pause = min(self._backoff * 2 ** (attempt - 1), deadline - time.monotonic())
                if attempt < self._attempts and pause > 0:
                    time.sleep(pause)
        raise PlannerError(f"no storyboard from the LLM after retries: {last}")

    def body(self, request: GenerationRequest, *, schema_format: bool = True) -> dict[str, Any]:
        """The chat-completions request for this generation."""
        ask = {
            "prompt": request.prompt,
            "duration_seconds": request.duration,
            "style": request.style,
            "aspect": request.aspect,
            "narrated": request.narration,
            "voice_language": request.voice.split("+")[0],
            "images_supplied": len(request.images),
        }
        response_format: dict[str, Any] = (
            {"type": "json_schema", "json_schema": {"name": "storyboard", "strict": True, "schema": SCHEMA}}
            if schema_format
            else {"type": "json_object"}
        )
        system = _SYSTEM if schema_format else f"{_SYSTEM} The schema: {json.dumps(SCHEMA)}"
        return {
            "model": self._model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": json.dumps(ask)}],
            "response_format": response_format,
            "temperature": 0.7,
            "seed": request.seed or 0,
            "stream": False,
        }

    def _ask(
        self, client: httpx.Client, request: GenerationRequest, *, schema_format: bool, timeout: float
    ) -> Storyboard:
        response = client.post(self._url, json=self.body(request, schema_format=schema_format), timeout=timeout)
        if response.status_code != 200:
            raise _Refused(response.status_code)
        try:
            content = response.json()["choices"][0]["message"]["content"]
            draft = json.loads(_unfenced(content))
        except (ValueError, KeyError, IndexError, TypeError):
            raise _Malformed("the answer was not a JSON chat completion with a JSON storyboard") from None
        try:
            return to_storyboard(draft, request)
        except (pydantic.ValidationError, KeyError, TypeError, ValueError, AttributeError) as exc:
            count = exc.error_count() if isinstance(exc, pydantic.ValidationError) else 1
            raise _Malformed(f"the storyboard did not match the schema ({count} errors)") from None


def to_storyboard(draft: dict[str, Any], request: GenerationRequest) -> Storyboard:
    """The LLM's flat answer (sentinels instead of nulls: small models keep to them better) as a Storyboard."""
    scenes = []
    for scene in draft["scenes"][:MAX_SCENES]:
        scene = dict(scene)
        # Lengths and ranges are clipped (the meaning is clear); wrong kinds and names are errors.
        for key, most in (("title", 80), ("caption", 200), ("narration", 600)):
            scene[key] = str(scene.get(key, ""))[:most]
        scene["duration"] = min(60.0, max(0.5, float(scene["duration"])))
        scene["energy"] = min(1.0, max(0.0, float(scene.get("energy", 0.5))))
        subject, count = scene.pop("subject", "none"), int(scene.pop("count", 0))
        scene["subject"] = None if subject == "none" or count < 1 else {"kind": subject, "count": min(12, count)}
        image = scene.get("image", -1)
        scene["image"] = None if image is None or int(image) < 0 else int(image)
        if not request.narration:
            scene["narration"] = ""
        scenes.append(scene)
    title = str(draft.get("title", ""))[:120]
    return Storyboard.model_validate({"title": title, "style": request.style, "scenes": scenes})


def _unfenced(content: str) -> str:
    """The JSON object inside an answer; local models often wrap it in a ```json fence or prose."""
    start, end = content.find("{"), content.rfind("}")
    return content[start : end + 1] if start >= 0 and end > start else content


class _Refused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Malformed(Exception):
    """An answer that arrived but is no usable storyboard."""
