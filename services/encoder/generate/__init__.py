"""Text to video: a prompt becomes a storyboard, rendered as vector graphics with narration into MP4s."""

from services.encoder.generate.builtin import BuiltinPlanner
from services.encoder.generate.llm import LlmPlanner
from services.encoder.generate.outputs import Output
from services.encoder.generate.pipeline import GenerationResult, generate, plan
from services.encoder.generate.planner import BUILTIN_MODEL, Planner, PlannerError, PlanOutcome
from services.encoder.generate.request import GenerationRequest
from services.encoder.generate.storyboard import Storyboard

__all__ = [
    "BUILTIN_MODEL",
    "BuiltinPlanner",
    "GenerationRequest",
    "GenerationResult",
    "LlmPlanner",
    "Output",
    "PlanOutcome",
    "Planner",
    "PlannerError",
    "Storyboard",
    "generate",
    "plan",
]
