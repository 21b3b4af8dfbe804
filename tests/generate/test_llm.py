"""The LLM planner against a real local HTTP server speaking the chat-completions wire protocol."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.encoder.generate import BuiltinPlanner, GenerationRequest, LlmPlanner, PlanOutcome, plan
from services.encoder.generate.llm import SCHEMA
from services.encoder.pipeline import Interrupted
from tests.encoder.helpers import Recorder

KEY = "sk-test-9f8e7d"
PROMPT = "A lighthouse on a cliff, storm clouds gathering"
REQUEST = GenerationRequest(prompt=PROMPT, duration=12, seed=5, style="vivid")
Answer = Callable[[web.Request, int], Awaitable[web.StreamResponse]]


def storyboard(**changes: Any) -> dict[str, Any]:
    """An answer the schema accepts: two scenes of 6 s."""
    scene = {
        "duration": 6,
        "title": "The Lighthouse",
        "caption": "",
        "narration": "A lighthouse stands on the cliff.",
        "palette": {"sky": "#223344", "ground": "#112233", "accent": "#ffcc00", "text": "#ffffff"},
        "layout": "center",
        "motion": "zoom-in",
        "scenery": "waves",
        "particles": "rain",
        "sky_body": "moon",
        "subject": "boats",
        "count": 2,
        "image": -1,
        "energy": 0.7,
    }
    return {"title": "Storm", "scenes": [scene, {**scene, "title": "The Storm", **changes}]}


def completion(content: str) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion", "model": "tiny", "choices": [{"message": {"content": content}}]}


@dataclass
class Llm:
    """What the fake server received and how it answers (attempt number from 1)."""

    url: str
    answer: list[Answer] = field(default_factory=list)
    requests: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)  # ends slow answers at teardown


@pytest.fixture
async def llm() -> AsyncIterator[Llm]:
    state = Llm(url="")

    async def chat(request: web.Request) -> web.StreamResponse:
        state.requests.append((dict(request.headers), await request.json()))
        answer = state.answer[min(len(state.requests), len(state.answer)) - 1]
        return await answer(request, len(state.requests))

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    server = TestServer(app)
    await server.start_server()
    state.url = str(server.make_url("/v1"))
    yield state
    state.release.set()
    await server.close()


def reply(content: str, status: int = 200) -> Answer:
    async def answer(_request: web.Request, _attempt: int) -> web.StreamResponse:
        if status != 200:
            return web.json_response({"error": {"message": "no"}}, status=status)
        return web.json_response(completion(content))

    return answer


def slow(llm: Llm, seconds: float) -> Answer:
    async def answer(_request: web.Request, _attempt: int) -> web.StreamResponse:
        try:
            await asyncio.wait_for(llm.release.wait(), seconds)
        except TimeoutError:
            pass
        return web.json_response(completion(json.dumps(storyboard())))

    return answer


async def planned(llm: Llm, **options: Any) -> tuple[PlanOutcome, Recorder, float]:
    planner = LlmPlanner(llm.url, "tiny", KEY, **{"time_limit": 5.0, "backoff": 0.05, **options})
    recorder = Recorder()
    started = time.monotonic()
    outcome = await asyncio.to_thread(plan, REQUEST, reporter=recorder, stop=threading.Event(), planner=planner)
    return outcome, recorder, time.monotonic() - started


async def test_the_wire_format_and_a_good_answer(llm: Llm) -> None:
    llm.answer = [reply(json.dumps(storyboard()))]
    outcome, recorder, _ = await planned(llm)
    assert (outcome.planner, outcome.model, outcome.fallback) == ("llm", "tiny", None)
    headers, body = llm.requests[0]
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert headers["Content-Type"] == "application/json"
    assert body["model"] == "tiny" and body["seed"] == 5 and body["stream"] is False
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert json.loads(body["messages"][1]["content"])["prompt"] == PROMPT
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "storyboard", "strict": True, "schema": SCHEMA},
    }
    scenes = outcome.storyboard.scenes
    assert [s.title for s in scenes] == ["The Lighthouse", "The Storm"]
    assert scenes[0].subject is not None and scenes[0].subject.count == 2 and scenes[0].image is None
    assert outcome.storyboard.style == "vivid" and abs(outcome.storyboard.duration - 12) < 1e-6
    assert recorder.logs == []


async def test_a_fenced_answer_is_read(llm: Llm) -> None:
    llm.answer = [reply("Here you go:\n```json\n" + json.dumps(storyboard()) + "\n```")]
    outcome, _, _ = await planned(llm)
    assert outcome.planner == "llm"


async def test_a_server_error_is_retried(llm: Llm) -> None:
    llm.answer = [reply("", status=503), reply(json.dumps(storyboard()))]
    outcome, _, _ = await planned(llm)
    assert outcome.planner == "llm" and len(llm.requests) == 2


async def test_a_server_without_schemas_gets_json_object(llm: Llm) -> None:
    llm.answer = [reply("", status=400), reply(json.dumps(storyboard()))]
    outcome, _, _ = await planned(llm)
    assert outcome.planner == "llm"
    second = llm.requests[1][1]
    assert second["response_format"] == {"type": "json_object"}
    assert '"scenes"' in second["messages"][0]["content"]  # the schema travels in the instructions


@pytest.mark.parametrize(
    "content",
    [
        "this is not JSON at all",
        json.dumps({"title": "x"}),
        json.dumps(storyboard(palette={"sky": "blue", "ground": "#000000", "accent": "#000000", "text": "#ffffff"})),
        json.dumps(storyboard(motion="teleport")),
    ],
    ids=["prose", "no-scenes", "bad-colour", "unknown-motion"],
)
async def test_malformed_answers_are_retried_then_fall_back(
    llm: Llm, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    llm.answer = [reply(content)]
    with caplog.at_level(logging.INFO):
        outcome, recorder, _ = await planned(llm, attempts=3)
    assert len(llm.requests) == 3
    assert (outcome.planner, outcome.model) == ("builtin", "vidkiln-storyboard-1")
    assert outcome.storyboard == BuiltinPlanner().plan(REQUEST)
    assert recorder.logs[0][0] == "WARNING" and recorder.logs[0][2] is not None
    said = caplog.text + json.dumps(recorder.logs)
    assert "schema" in said or "JSON" in said
    assert PROMPT not in said and "lighthouse" not in said.lower() and KEY not in said


async def test_a_slow_server_runs_into_the_time_limit(llm: Llm) -> None:
    llm.answer = [slow(llm, 10)]
    outcome, recorder, took = await planned(llm, time_limit=1.0)
    assert outcome.planner == "builtin" and took < 3
    assert "time limit" in (outcome.fallback or "")
    assert recorder.logs[0][2] == {"planner": "llm", "error": outcome.fallback}


async def test_refused_credentials_fall_back_at_once(llm: Llm) -> None:
    llm.answer = [reply("", status=401)]
    outcome, _, _ = await planned(llm)
    assert outcome.planner == "builtin" and len(llm.requests) == 1
    assert outcome.fallback == "the LLM server answered HTTP 401"


async def test_an_unreachable_server_falls_back() -> None:
    planner = LlmPlanner("http://127.0.0.1:9/v1", "tiny", time_limit=2.0, backoff=0.05)
    outcome = await asyncio.to_thread(plan, REQUEST, reporter=Recorder(), stop=threading.Event(), planner=planner)
    assert outcome.planner == "builtin" and "cannot reach" in (outcome.fallback or "")


async def test_stop_interrupts_a_slow_planner(llm: Llm) -> None:
    llm.answer = [slow(llm, 10)]
    stop = threading.Event()
    planner = LlmPlanner(llm.url, "tiny", time_limit=30.0)
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    with pytest.raises(Interrupted):
        await asyncio.to_thread(plan, REQUEST, reporter=Recorder(), stop=stop, planner=planner)
    assert time.monotonic() - started < 1.5
