"""generate(): a prompt to finished MP4s, captions and posters on disk. Runs in an encoder child process.

Plan (or take a stored storyboard), then scene by scene: speak its narration, prepare its layers,
and for every frame draw -> convert -> encode both sizes -> mix and encode the audio up to that
frame's time. Progress is the share of frames done; `stop` is looked at before every frame.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av.error

from services.common import posters
from services.common.errors import PermanentError, R
from services.encoder.generate import images
from services.encoder.generate.art import rgb
from services.encoder.generate.builtin import BuiltinPlanner
from services.encoder.generate.captions import VttWriter
from services.encoder.generate.feeder import Feeder
from services.encoder.generate.outputs import Output, Outputs
from services.encoder.generate.planner import Planner, PlanOutcome, plan_storyboard
from services.encoder.generate.render import Renderer
from services.encoder.generate.request import GenerationRequest, frame_size
from services.encoder.generate.soundtrack import RATE, Mixer, Music, Narrator
from services.encoder.generate.speech import SpeechError
from services.encoder.generate.storyboard import Storyboard, metadata, scene_frames
from services.encoder.pipeline.spec import Interrupted, Reporter, StopFlag

logger = logging.getLogger(__name__)

_PLANNED = 3.0  # percent of the progress bar that planning takes; frames take the rest
_PROGRESS_EVERY, _BEAT_EVERY = 0.5, 1.0  # seconds


@dataclass(frozen=True)
class GenerationResult:
    """What a generation made: the files (main quality first) and what GET /videos/{id}/metadata shows."""

    outputs: tuple[Output, ...]
    captions: Path | None  # WebVTT, when narrated
    posters: Mapping[str, Path]  # small / medium / large JPEGs
    storyboard: Storyboard
    planner: str  # "builtin" or "llm"
    model: str  # "vidkiln-storyboard-1" or the LLM's name
    seed: int
    duration: float  # seconds: frames / fps, the audio's length too
    frames: int
    fps: int
    narrated: bool
    voice: str | None
    warnings: tuple[str, ...] = field(default=())

    @property
    def main(self) -> Output:
        return self.outputs[0]

    def generation(self, prompt: str) -> dict[str, Any]:
        """The metadata's `generation` object (the platform adds created_at)."""
        return {
            "prompt": prompt,
            "model": self.model,
            "planner": self.planner,
            "seed": self.seed,
            "scenes": metadata(self.storyboard),
        }


def plan(
    request: GenerationRequest, *, reporter: Reporter, stop: StopFlag, planner: Planner | None = None
) -> PlanOutcome:
    """The storyboard alone (the request must have its seed): `planner`, falling back to the built-in one."""
    builtin = BuiltinPlanner()
    return plan_storyboard(request, planner or builtin, builtin, reporter=reporter, stop=stop)


def generate(
    request: GenerationRequest,
    *,
    out_dir: Path,
    reporter: Reporter,
    stop: StopFlag,
    planner: Planner | None = None,
    planned: PlanOutcome | None = None,
    name: str = "video",
) -> GenerationResult:
    """Makes the video of `request` in `out_dir` (<name>.mp4, <name>-720p.mp4, <name>.vtt, posters).

    A request without a seed gets one (reported in the result). `planned` skips planning: a redone
    generation given the stored storyboard and seed renders the same frames. PermanentError for a
    request that cannot be made (an unreadable image), Interrupted when `stop` is set; partial files
    are deleted either way.
    """
    request = request.seeded()
    assert request.seed is not None
    reporter.progress(0.0)
    reporter.log("INFO", "Planning the storyboard.", {"stage": "planning"})
    outcome = planned or plan(request, reporter=reporter, stop=stop, planner=planner)
    board = outcome.storyboard
    warnings = [f"The {outcome.planner} planner made the storyboard: {outcome.fallback}."] if outcome.fallback else []
    reporter.progress(_PLANNED)
    reporter.log(
        "INFO",
        "Rendering.",
        {"stage": "rendering", "scenes": len(board.scenes), "planner": outcome.planner, "seed": request.seed},
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = [Output(q, out_dir / (f"{name}.mp4" if i == 0 else f"{name}-{q}.mp4"), *frame_size(q, request.aspect))
              for i, q in enumerate(request.renditions())]  # fmt: skip
    vtt_path = out_dir / f"{name}.vtt" if request.narration else None
    poster_paths = {size: out_dir / f"{name}-poster-{size}.jpg" for size in posters.SIZES}
    try:
        written = _render(request, board, wanted, vtt_path, poster_paths, warnings, reporter, stop)
    except BaseException as exc:
        for path in [vtt_path, *poster_paths.values()]:
            if path is not None:
                path.unlink(missing_ok=True)
        if isinstance(exc, av.error.FFmpegError):
            raise PermanentError(f"Encoding failed: {exc.strerror or exc}.", reason=R.ENCODE_FAILED) from exc
        if isinstance(exc, SpeechError):
            raise PermanentError(f"Narration failed: {exc}.", reason=R.ENCODE_FAILED) from exc
        raise
    return GenerationResult(
        outputs=tuple(written),
        captions=vtt_path,
        posters=poster_paths,
        storyboard=board,
        planner=outcome.planner,
        model=outcome.model,
        seed=request.seed,
        duration=request.frames / request.fps,
        frames=request.frames,
        fps=request.fps,
        narrated=request.narration,
        voice=request.voice if request.narration else None,
        warnings=tuple(warnings),
    )


def _render(
    request: GenerationRequest,
    board: Storyboard,
    wanted: list[Output],
    vtt_path: Path | None,
    poster_paths: Mapping[str, Path],
    warnings: list[str],
    reporter: Reporter,
    stop: StopFlag,
) -> list[Output]:
    """Every frame, scene after scene, with the audio kept up with the pictures; the files written."""
    assert request.seed is not None
    fps, total = request.fps, request.frames
    width, height = request.size
    images.check(request.images)
    renderer = Renderer(board, width=width, height=height, seed=request.seed, images=request.images)
    energy = sum(s.energy * s.duration for s in board.scenes) / board.duration
    sky = rgb(board.scenes[0].palette.sky)
    dark = sum(sky) / 765 < 0.3 and energy < 0.45  # a night or a sombre opening: the minor progression
    mixer = Mixer(Music(request.seed, energy, dark))
    narrator = Narrator(request.voice) if request.narration else None
    poster_frame = _poster_frame(board, total, fps)
    progress = _Progress(reporter, total)

    def write_posters(frame: av.VideoFrame) -> None:
        for size, path in poster_paths.items():
            path.write_bytes(posters.jpeg(frame, posters.SIZES[size]))

    # Two targets: one being drawn while the other is encoded.
    feeder = Feeder(Outputs(wanted, fps), [renderer.target(), renderer.target()], write_posters)
    vtt = VttWriter(vtt_path) if vtt_path else None
    try:
        for index, (first, end) in enumerate(scene_frames(board, total)):
            if stop.is_set():
                raise Interrupted()
            start, length = first / fps, (end - first) / fps
            cues = []
            if narrator is not None:
                voiced = narrator.voice_scene(board.scenes[index].narration, start, length)
                if voiced.clip is not None:
                    mixer.add(voiced.clip)
                if voiced.cut:
                    warnings.append(f"Scene {index + 1}'s narration was longer than the scene and was cut.")
                    reporter.log("WARNING", warnings[-1], {"scene": index + 1})
                cues = voiced.cues
                if vtt is not None:
                    vtt.write(cues)
            renderer.begin(index, start=start, length=length, cues=cues)
            for number in range(first, end):
                if stop.is_set():
                    raise Interrupted()
                target = feeder.target()
                renderer.draw((number - first) / fps, target)
                audio = mixer.frames_until((number + 1) * RATE // fps)
                feeder.submit(target, number, audio, poster=number == poster_frame)
                progress.frame(number + 1)
        return feeder.finish(mixer.finish(total * RATE // fps))
    except BaseException:
        feeder.abort()
        raise
    finally:
        if vtt is not None:
            vtt.close()


def _poster_frame(board: Storyboard, total: int, fps: int) -> int:
    """The first scene once its title has landed: the picture that says what the video is."""
    return min(total - 1, round(min(board.scenes[0].duration * 0.6, 3.0) * fps))


class _Progress:
    """Frames done as a share of the bar after planning, throttled; heartbeats in between."""

    def __init__(self, reporter: Reporter, total: int) -> None:
        self._reporter, self._total = reporter, total
        self._said = self._beat = time.monotonic()

    def frame(self, done: int) -> None:
        now = time.monotonic()
        if now - self._said >= _PROGRESS_EVERY:
            self._said = self._beat = now
            self._reporter.progress(min(99.9, _PLANNED + (100 - _PLANNED) * done / self._total))
        elif now - self._beat >= _BEAT_EVERY:
            self._beat = now
            self._reporter.beat()
