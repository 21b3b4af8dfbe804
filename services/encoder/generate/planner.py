"""Planners behind one interface, and planning with the built-in planner as the fallback."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from services.encoder.generate.request import GenerationRequest
from services.encoder.generate.storyboard import Storyboard, trim_narration
from services.encoder.pipeline.spec import Interrupted, Reporter, StopFlag

logger = logging.getLogger(__name__)

BUILTIN_MODEL = "vidkiln-storyboard-1"
_POLL = 0.05  # seconds between looks at the stop flag while a planner works


class PlannerError(Exception):
    """A planner could not make a storyboard. The message names the failure, never the prompt."""


class Planner(Protocol):
    """Turns a request (its seed fixed) into a storyboard, or raises PlannerError."""

    @property
    def name(self) -> str:
        """ "builtin" or "llm": shown as the metadata's `planner`."""

    @property
    def model(self) -> str:
        """The metadata's `model`: vidkiln-storyboard-1, or the LLM's name."""

    def plan(self, request: GenerationRequest) -> Storyboard: ...


@dataclass(frozen=True)
class PlanOutcome:
    storyboard: Storyboard  # fitted to the request's duration and images
    planner: str
    model: str
    fallback: str | None  # why the chosen planner was not used, when it was not


def plan_storyboard(
    request: GenerationRequest, planner: Planner, fallback: Planner, *, reporter: Reporter, stop: StopFlag
) -> PlanOutcome:
    """The storyboard from `planner`, or from `fallback` when it fails; Interrupted when `stop` is set.

    The planner runs in a thread so that a stop is honoured at once even while an LLM is slow to
    answer (the thread is left to its own time limit; the process ends soon after anyway).
    """
    used, why = planner, None
    try:
        storyboard = _watched(planner, request, reporter=reporter, stop=stop)
    except PlannerError as exc:
        why = str(exc)
    except Interrupted:
        raise
    except Exception as exc:  # noqa: BLE001 - a planner bug must not cost the video: the fallback plans it
        why = f"unexpected {type(exc).__name__}"
    if why is not None:
        # The reason only: the prompt and the planner's credentials stay out of every log.
        logger.warning("planner %s failed (%s); the %s planner made the storyboard", planner.name, why, fallback.name)
        reporter.log(
            "WARNING",
            f"The {planner.name} planner failed; the {fallback.name} planner made the storyboard.",
            {"planner": planner.name, "error": why},
        )
        used, storyboard = fallback, fallback.plan(request)
    fitted = trim_narration(storyboard.fitted(request.duration, len(request.images)))
    return PlanOutcome(fitted, used.name, used.model, why)


def _watched(planner: Planner, request: GenerationRequest, *, reporter: Reporter, stop: StopFlag) -> Storyboard:
    """planner.plan(request) in a daemon thread, with heartbeats and the stop flag looked at meanwhile."""
    result: list[Storyboard] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            result.append(planner.plan(request))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread, which re-raises it
            failure.append(exc)

    thread = threading.Thread(target=work, name="vidkiln-plan", daemon=True)
    thread.start()
    spoke = time.monotonic()
    while thread.is_alive():
        thread.join(_POLL)
        if stop.is_set():
            raise Interrupted()
        if time.monotonic() - spoke >= 1.0:
            spoke = time.monotonic()
            reporter.beat()
    if failure:
        raise failure[0]
    return result[0]
