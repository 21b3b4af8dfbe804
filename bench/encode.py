"""Encoder speed: vidkiln's pipeline against the ffmpeg CLI, equal settings, same source.

    python -m bench.encode [--runs 3] [--seconds 15] [--cases h264-fast,h264-standard,...] [--no-memory]

Both sides encode the same synthesized 1080p30 source (motion and noise, AAC stereo) to 720p;
the CLI's flags are derived from the same profile table the pipeline uses. Runs alternate,
medians are reported, with the ratio of frames per second (vidkiln / CLI) and of sizes. Also:
peak RSS of a 10-minute source against a 20-second one, and how long a cancel takes to stop an
encode. Needs Debian's ffmpeg (`apt-get install ffmpeg`); the benchmark installs it when it can.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from services.encoder import profiles
from services.encoder.isolation import EncodeJob, run_isolated, warm_up
from services.encoder.pipeline import EncodeSpec
from tests.media import synthesize

CASES = {
    "h264-fast": EncodeSpec("h264", "mp4", "720p", preset="fast", quality="better", frame_rate_policy="preserve"),
    "h264-standard": EncodeSpec(
        "h264", "mp4", "720p", preset="standard", quality="better", frame_rate_policy="preserve"
    ),
    "h265-fast": EncodeSpec("h265", "mp4", "720p", preset="fast", quality="better", frame_rate_policy="preserve"),
    "vp9-fast": EncodeSpec("vp9", "webm", "720p", preset="fast", quality="better", frame_rate_policy="preserve"),
    "av1-fast": EncodeSpec("av1", "mkv", "720p", preset="fast", quality="better", frame_rate_policy="preserve"),
}
TARGETS = {"h264-fast": 1.00, "h264-standard": 1.00, "h265-fast": 0.95}


def ffmpeg() -> str:
    os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its configuration and notes otherwise
    found = shutil.which("ffmpeg")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing Debian's ffmpeg ...", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "ffmpeg"], check=True, capture_output=True)
        found = shutil.which("ffmpeg")
    if found is None:
        raise SystemExit("bench/encode.py needs the ffmpeg CLI: sudo apt-get install ffmpeg")
    return found


def cli_args(binary: str, src: Path, dst: Path, spec: EncodeSpec, width: int, height: int) -> list[str]:
    """The CLI invocation with the same filters, encoder options and audio as the pipeline."""
    profile = profiles.VIDEO[spec.codec]
    options = profiles.video_options(spec.codec, spec.preset, spec.quality, spec.bitrate_tier, min(width, height))
    flags: list[str] = []
    for key, value in options.items():
        flags += ["-b:v" if key == "b" else f"-{key}", value]
    audio = profiles.CONTAINERS[spec.container][1]
    args = [binary, "-v", "error", "-y", "-i", str(src)]
    args += ["-vf", f"scale={width}:{height}:flags=bicubic,setsar=1,format=yuv420p"]
    args += ["-c:v", profile.encoder, *flags]
    if profile.codec_tag and spec.container in ("mp4", "mov"):
        args += ["-tag:v", profile.codec_tag]
    args += ["-c:a", audio, "-b:a", str(profiles.audio_bitrate(spec.bitrate_tier))]
    if profiles.CONTAINERS[spec.container][2]:
        args += ["-movflags", "+faststart"]
    return [*args, str(dst)]


async def vidkiln(src: Path, dst: Path, spec: EncodeSpec, workdir: Path) -> tuple[float, int]:
    """Seconds for the whole isolated encode (probe, transcode, output probe); peak RSS in KB."""
    started = time.perf_counter()
    job = EncodeJob(source=src, output=dst, thumbnails={}, spec=spec, poster_at=None, workdir=workdir)
    outcome = await run_isolated(
        job, on_progress=lambda _p: None, on_log=lambda *_a: None, interrupt=asyncio.Event(), watchdog=600
    )
    return time.perf_counter() - started, outcome.peak_rss_kb


def cli(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True)
    return time.perf_counter() - started


@dataclass
class Row:
    case: str
    ours_fps: float
    cli_fps: float
    ours_size: int
    cli_size: int

    @property
    def speed(self) -> float:
        return self.ours_fps / self.cli_fps

    @property
    def size(self) -> float:
        return self.ours_size / self.cli_size


async def speed(binary: str, root: Path, src: Path, frames: int, runs: int, cases: list[str]) -> list[Row]:
    rows = []
    for name in cases:
        spec = CASES[name]
        width, height = profiles.target_size(1920, 1080, spec.resolution, spec.scale_policy)
        ours, theirs = [], []
        ours_out, cli_out = root / f"{name}-vidkiln.{spec.container}", root / f"{name}-cli.{spec.container}"
        for _ in range(runs):
            ours.append((await vidkiln(src, ours_out, spec, root))[0])
            theirs.append(await asyncio.to_thread(cli, cli_args(binary, src, cli_out, spec, width, height)))
        row = Row(
            name,
            frames / statistics.median(ours),
            frames / statistics.median(theirs),
            ours_out.stat().st_size,
            cli_out.stat().st_size,
        )
        rows.append(row)
        target = TARGETS.get(name)
        verdict = f"target >= {target:.2f}x: {'met' if row.speed >= target else 'MISSED'}" if target else "reported"
        print(
            f"  {name:14} vidkiln {row.ours_fps:6.1f} fps   CLI {row.cli_fps:6.1f} fps   ratio {row.speed:4.2f}x   "
            f"size {row.size * 100 - 100:+5.1f}%   {verdict}",
            flush=True,
        )
    return rows


def long_source(binary: str, path: Path, seconds: int) -> Path:
    """A 360p30 clip with motion and a tone, generated by the CLI (fast, for the memory test)."""
    subprocess.run(
        [binary, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=30:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


async def memory(binary: str, root: Path) -> tuple[int, int]:
    spec = EncodeSpec("h264", "mp4", "480p", preset="fast", frame_rate_policy="preserve")
    peaks = []
    for seconds in (20, 600):
        src = long_source(binary, root / f"long-{seconds}.mp4", seconds)
        peaks.append((await vidkiln(src, root / f"long-{seconds}-out.mp4", spec, root))[1])
        src.unlink()
    return peaks[0], peaks[1]


async def cancel_latency(src: Path, root: Path) -> float:
    """Seconds from the interrupt to the child process being gone, in the middle of an encode."""
    interrupt = asyncio.Event()
    started: list[float] = []

    def progress(percent: float) -> None:
        if percent > 10 and not interrupt.is_set():
            started.append(time.perf_counter())
            interrupt.set()

    job = EncodeJob(
        source=src, output=root / "cancel.mp4", thumbnails={}, spec=CASES["h264-standard"], poster_at=None, workdir=root
    )
    try:
        await run_isolated(job, on_progress=progress, on_log=lambda *_a: None, interrupt=interrupt, watchdog=600)
    except Exception:  # noqa: BLE001 - Interrupted is the expected way out
        pass
    return time.perf_counter() - started[0]


async def main(runs: int, seconds: float, cases: list[str], with_memory: bool) -> None:
    binary = ffmpeg()
    version = subprocess.run([binary, "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    await asyncio.to_thread(warm_up)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src = synthesize(root / "source.mp4", seconds=seconds, noise=48)
        frames = int(round(seconds * 30))
        print(f"source: {seconds:.0f} s 1080p30 with motion and noise + AAC; {runs} alternating runs; medians")
        print(f"CLI: {version}")
        await speed(binary, root, src, frames, runs, cases)
        if with_memory:
            short, long_ = await memory(binary, root)
            verdict = "met" if long_ <= 1.1 * short else "MISSED"
            print(
                f"  peak RSS       20 s source {short / 1024:6.1f} MB   10 min source {long_ / 1024:6.1f} MB   "
                f"ratio {long_ / short:4.2f}x   target <= 1.10x: {verdict}"
            )
        print(f"  cancel         the encode stopped {await cancel_latency(src, root) * 1000:.0f} ms after the request")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.runs, args.seconds, args.cases.split(","), not args.no_memory)))
