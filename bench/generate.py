"""Text-to-video speed and memory: a generation against the encode alone of as many synthetic frames.

    python -m bench.generate [--runs 3] [--seconds 10] [--no-memory]

Generation: a narrated 10 s 1080p30 video from a fixed prompt and seed (built-in planner; the
main MP4 plus its 720p rendition, captions and posters). Baseline, in the same run and alternating
with it: the same encoders with the same settings (H.264 1080p and 720p scaled from it, AAC, fast
start) fed as many synthetic YUV frames (tests/media.py's moving gradients with noise, made
before the clock starts) and a tone: everything but planning, narration, music and drawing.
Noise costs x264 more than smooth graphics do, so the same encode without noise is reported too.
Targets: generation <= 1.5x the encode alone; 720p faster than real time; peak RSS of a 120 s
video within 10 % of a 10 s one. Each run is a fresh process, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from services.encoder.generate import GenerationRequest, generate
from services.encoder.generate.outputs import Output, Outputs
from services.encoder.generate.request import frame_size
from services.encoder.generate.soundtrack import FRAME, RATE

PROMPT = (
    "A beautiful sunset over the mountains. Three birds fly home across the golden sky, "
    "and as night falls the first stars come out above the quiet valley."
)


class _Quiet:
    def progress(self, percent: float) -> None: ...

    def log(self, level: str, message: str, details: dict[str, Any] | None = None) -> None: ...

    def beat(self) -> None: ...


def _generation(root: str, seconds: float, quality: str, result: Any) -> None:
    """In a fresh process: one generation; (seconds of wall time, peak RSS in KB)."""
    request = GenerationRequest.model_validate({"prompt": PROMPT, "duration": seconds, "quality": quality, "seed": 7})
    started = time.perf_counter()
    generate(request, out_dir=Path(root), reporter=_Quiet(), stop=threading.Event(), name=f"gen-{quality}-{seconds:g}")
    result.put((time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def _encode_alone(root: str, seconds: float, quality: str, result: Any, noise: int = 32) -> None:
    """In a fresh process: the same encoders fed synthetic YUV frames and a tone; (wall, peak RSS)."""
    width, height = frame_size(quality, "16:9")  # type: ignore[arg-type]
    fps, frames = 30, round(seconds * 30)
    pictures = _synthetic(width, height, 30, noise)
    wanted = [Output(quality, Path(root) / "alone.mp4", width, height)]
    if height > 720:
        wanted.append(Output("720p", Path(root) / "alone-720p.mp4", 1280, 720))
    started = time.perf_counter()
    files = Outputs(wanted, fps)
    sample = 0
    for index in range(frames):
        files.encode_yuv(pictures[index % len(pictures)], index)
        tones = []
        while sample + FRAME <= (index + 1) * RATE // fps:
            tones.append(_tone(sample, FRAME))
            sample += FRAME
        files.audio(tones)
    files.audio([_tone(sample, frames * RATE // fps - sample)] if frames * RATE // fps > sample else [])
    files.close()
    result.put((time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def _synthetic(width: int, height: int, count: int, noise: int) -> list[av.VideoFrame]:
    """tests/media.py's picture: gradients moving every frame and noise (made before timing)."""
    rng = np.random.default_rng(7)
    ys, xs = np.mgrid[0:height, 0:width]
    frames = []
    for i in range(count):
        rgb = np.empty((height, width, 3), np.uint8)
        rgb[..., 0] = (xs + 8 * i) % 256
        rgb[..., 1] = (ys + 4 * i) % 256
        rgb[..., 2] = 96 + rng.integers(0, max(1, noise), (height, width), dtype=np.uint8)
        frames.append(av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p"))
    return frames


def _tone(start: int, count: int) -> av.AudioFrame:
    t = np.arange(start, start + count) / RATE
    wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    frame = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
    frame.sample_rate, frame.pts, frame.time_base = RATE, start, Fraction(1, RATE)
    return frame


def _in_child(target: Any, root: Path, seconds: float, quality: str, *extra: Any) -> tuple[float, int]:
    ctx = multiprocessing.get_context("spawn")
    result = ctx.Queue()
    process = ctx.Process(target=target, args=(str(root), seconds, quality, result, *extra))
    process.start()
    wall, peak = result.get()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"{target.__name__} exited with {process.exitcode}")
    return float(wall), int(peak)


def main(runs: int, seconds: float, with_memory: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        gens, alones, smooth, gens720 = [], [], [], []
        for _ in range(runs):
            gens.append(_in_child(_generation, root, seconds, "1080p")[0])
            alones.append(_in_child(_encode_alone, root, seconds, "1080p")[0])
            smooth.append(_in_child(_encode_alone, root, seconds, "1080p", 0)[0])
            gens720.append(_in_child(_generation, root, seconds, "720p")[0])
        g, a, b, g7 = (statistics.median(x) for x in (gens, alones, smooth, gens720))
        print(f"{seconds:.0f} s 1080p30 narrated (+720p rendition); {runs} alternating runs; medians")
        print(f"  encode alone (baseline: tests/media.py's gradients + noise)  {a:6.2f} s")
        print(f"  encode alone, the same gradients without noise (reference)   {b:6.2f} s")
        verdict = "met" if g <= 1.5 * a else "MISSED"
        print(f"  generation 1080p            {g:6.2f} s   ratio {g / a:4.2f}x   target <= 1.50x: {verdict}")
        print(f"                                          ratio {g / b:4.2f}x   to the noiseless encode (reported)")
        verdict = "met" if g7 < seconds else "MISSED"
        print(f"  generation 720p             {g7:6.2f} s   {g7 / seconds:4.2f}x real time   target < 1.00x: {verdict}")
        if with_memory:
            short = _in_child(_generation, root, 10, "1080p")[1]
            long_ = _in_child(_generation, root, 120, "1080p")[1]
            verdict = "met" if abs(long_ / short - 1) <= 0.1 else "MISSED"
            print(
                f"  peak RSS 1080p   10 s {short / 1024:6.1f} MB   120 s {long_ / 1024:6.1f} MB   "
                f"ratio {long_ / short:4.2f}x   target within 10 %: {verdict}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args()
    main(args.runs, args.seconds, not args.no_memory)
