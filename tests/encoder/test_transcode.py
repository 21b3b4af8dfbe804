"""The transcode on real media synthesized with PyAV: every option, verified by probing the output."""

from __future__ import annotations

import threading
from pathlib import Path

import av
import pytest

from services.common.errors import PermanentError, R
from services.common.probe import probe_file
from services.encoder import profiles
from services.encoder.pipeline import Interrupted, transcode
from tests.e2e.helpers import top_level_atoms
from tests.encoder.helpers import BASE, Recorder, encode
from tests.media import clip, synthesize


@pytest.mark.parametrize(
    ("size", "resolution", "policy", "want"),
    [
        ((1920, 1080), "720p", "no-upscale", (1280, 720)),
        ((1080, 1920), "720p", "no-upscale", (720, 1280)),
        ((640, 360), "1080p", "no-upscale", (640, 360)),
        ((640, 360), "720p", "allow-upscale", (1280, 720)),
        ((641, 359), "1080p", "no-upscale", (640, 358)),
        ((1440, 1080), "480p", "downscale-only", (640, 480)),
        ((3840, 2160), "4320p", "allow-upscale", (7680, 4320)),
        ((3, 3), "480p", "no-upscale", (2, 2)),
    ],
)
def test_target_size_keeps_aspect_and_even_dimensions(
    size: tuple[int, int], resolution: str, policy: str, want: tuple[int, int]
) -> None:
    assert profiles.target_size(*size, resolution, policy) == want


def test_the_documented_mapping() -> None:
    assert profiles.video_options("h264", "fast", "better", "medium", 720) == {
        "preset": "veryfast",
        "crf": "23",
        "maxrate": "5250k",
        "bufsize": "10500k",
    }
    assert profiles.video_options("h265", "slow", "best", "low", 1080)["crf"] == "24"
    assert profiles.video_options("vp9", "standard", "good", "high", 480)["b"] == "2925k"
    two = profiles.video_options("h264", "fast", "better", "high", 1080, pass_no=2, stats=Path("/x/s"))
    assert two["b"] == "9000k" and two["x264-params"] == "pass=2:stats=/x/s" and "crf" not in two


def test_1080p_to_720p_h264_aac_faststart(clips: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    recorder = Recorder()
    result = encode(clips["hd"], out, recorder, resolution="720p")
    probe = probe_file(out)
    assert (probe.video_codec, probe.width, probe.height, probe.pix_fmt) == ("h264", 1280, 720, "yuv420p")
    assert (probe.audio_codec, probe.audio_streams) == ("aac", 1)
    assert abs(probe.duration_sec - probe_file(clips["hd"]).duration_sec) <= 0.1
    assert top_level_atoms(out).index("moov") < top_level_atoms(out).index("mdat")
    assert recorder.progress_values == sorted(recorder.progress_values)
    assert all(0 <= p <= 100 for p in recorder.progress_values)
    assert (result.encoder, result.passes, result.width, result.height) == ("libx264", 1, 1280, 720)


@pytest.mark.parametrize(
    ("codec", "suffix", "video", "audio"),
    [
        ("h264", "mp4", "h264", "aac"),
        ("h264", "mov", "h264", "aac"),
        ("h264", "mkv", "h264", "aac"),
        ("h265", "mp4", "hevc", "aac"),
        ("h265", "mov", "hevc", "aac"),
        ("av1", "mp4", "av1", "aac"),
        ("av1", "mkv", "av1", "aac"),
        ("av1", "webm", "av1", "opus"),
        ("vp9", "webm", "vp9", "opus"),
        ("vp9", "mkv", "vp9", "aac"),
    ],
)
def test_every_codec_in_every_container_that_carries_it(
    tmp_path: Path, codec: str, suffix: str, video: str, audio: str
) -> None:
    src = clip(tmp_path / "src.mp4", width=320, height=240, seconds=0.5)
    out = tmp_path / f"out.{suffix}"
    encode(src, out, codec=codec)
    probe = probe_file(out)
    assert (probe.video_codec, probe.width, probe.height, probe.audio_codec) == (video, 320, 240, audio)
    if suffix in ("mp4", "mov"):
        assert top_level_atoms(out).index("moov") < top_level_atoms(out).index("mdat")


@pytest.mark.parametrize(
    ("policy", "fps", "want_fps"),
    [("preserve", 60, 30), ("cap", 24, 24), ("cap", 60, 30), ("force", 24, 24), ("force", 60, 60), ("force", 1, 1)],
)
def test_frame_rate_policies_keep_the_duration(tmp_path: Path, policy: str, fps: int, want_fps: int) -> None:
    src = clip(tmp_path / "src.mp4", seconds=2.0, fps=30)
    out = tmp_path / "out.mp4"
    encode(src, out, fps=fps, frame_rate_policy=policy)
    probe = probe_file(out)
    assert round(probe.fps) == want_fps
    assert abs(probe.duration_sec - 2.0) <= 0.1 + 1 / want_fps
    with av.open(str(out)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert abs(frames - 2 * want_fps) <= 1


def test_bitrate_tiers_and_quality_change_the_size(tmp_path: Path) -> None:
    src = synthesize(tmp_path / "noisy.mp4", width=1280, height=720, seconds=1.0, noise=96)
    sizes = {}
    for tier in ("low", "medium", "high"):
        out = tmp_path / f"{tier}.mp4"
        encode(src, out, resolution="720p", bitrate_tier=tier, quality="best", audio_policy="strip")
        sizes[tier] = out.stat().st_size
    assert sizes["low"] < sizes["medium"] < sizes["high"]


def test_two_passes_hit_the_tier_bitrate(tmp_path: Path) -> None:
    src = synthesize(tmp_path / "noisy.mp4", width=1280, height=720, seconds=2.0, noise=96)
    out = tmp_path / "two.mp4"
    recorder = Recorder()
    result = encode(src, out, recorder, resolution="480p", passes=2, bitrate_tier="low", audio_policy="strip")
    assert result.passes == 2 and not result.warnings
    kbps = probe_file(out).size_bytes * 8 / 2.0 / 1000
    assert 0.75 * 1000 <= kbps <= 1.25 * 1000  # the low tier's 1000 kb/s target at 480p
    assert min(recorder.progress_values) < 50 <= max(recorder.progress_values)  # pass 1: 0-50, pass 2: 50-100


def test_two_passes_where_the_codec_cannot_falls_back_with_a_warning(tmp_path: Path) -> None:
    src = clip(tmp_path / "src.mp4", seconds=0.5)
    recorder = Recorder()
    result = encode(src, tmp_path / "out.webm", recorder, codec="vp9", passes=2)
    assert result.passes == 1
    assert result.warnings == ("Two-pass encoding is not available for vp9; encoded in one pass.",)
    assert recorder.logs[0][:2] == ("WARNING", result.warnings[0])


def test_audio_policies_and_tracks(tmp_path: Path) -> None:
    two = clip(tmp_path / "two.mkv", audio_tracks=2)
    silent = clip(tmp_path / "silent.mp4", audio_tracks=0)
    cases = [
        (two, "mp4", "strip", 0, None),
        (two, "mp4", "auto", 2, "aac"),
        (two, "mkv", "copy", 2, "aac"),
        (two, "mp4", "transcode-aac", 2, "aac"),
        (two, "webm", "copy", 2, "opus"),
        (silent, "mp4", "auto", 0, None),
    ]
    for i, (src, suffix, policy, tracks, codec) in enumerate(cases):
        out = tmp_path / f"out{i}.{suffix}"
        result = encode(src, out, codec="vp9" if suffix == "webm" else "h264", audio_policy=policy)
        probe = probe_file(out)
        assert (probe.audio_streams, probe.audio_codec or None) == (tracks, codec), (policy, suffix)
        if suffix == "webm" and policy == "copy":
            assert any("cannot be copied into webm" in w for w in result.warnings)


def test_inputs_that_are_not_videos_fail_with_stable_reasons(clips: dict[str, Path]) -> None:
    with pytest.raises(PermanentError) as text:
        probe_file(clips["text"])
    assert text.value.reason == R.PROBE_FAILED
    assert text.value.message.startswith("The source is not a media file FFmpeg can read")
    with pytest.raises(PermanentError) as audio:
        probe_file(clips["audio"])
    assert audio.value.reason == R.NO_VIDEO_STREAM
    assert probe_file(clips["audio"], require_video=False).audio_codec == "aac"


def test_a_stop_request_interrupts_between_frames(tmp_path: Path) -> None:
    src = clip(tmp_path / "src.mp4", seconds=3.0)
    stop = threading.Event()

    class StopOnFirstProgress(Recorder):
        def progress(self, percent: float) -> None:
            super().progress(percent)
            stop.set()

    recorder = StopOnFirstProgress()
    with pytest.raises(Interrupted):
        transcode(src, tmp_path / "out.mp4", BASE, report=recorder, stop=stop, workdir=tmp_path)
    assert len(recorder.progress_values) == 1
