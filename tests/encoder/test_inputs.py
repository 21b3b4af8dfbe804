"""Real-world inputs: odd streams, shapes, orientations, timings, pixel formats and damage."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from services.common.errors import PermanentError, R
from services.common.probe import probe_file
from tests.encoder.helpers import Recorder, encode
from tests.media import clip, concatenated, damage


def _first_frame(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        assert not frame.rotation  # upright pixels, no rotation left for players to apply
        return frame.to_ndarray(format="gray")


def test_first_stream_not_video(tmp_path: Path) -> None:
    src = clip(tmp_path / "src.mp4", audio_first=True)
    with av.open(str(src)) as container:
        assert container.streams[0].type == "audio"
    encode(src, tmp_path / "out.mp4")
    probe = probe_file(tmp_path / "out.mp4")
    assert (probe.width, probe.height, probe.audio_streams) == (320, 180, 1)


@pytest.mark.parametrize(
    ("size", "want"),
    [((641, 359), (640, 358)), ((23, 15), (22, 14)), ((3, 3), (2, 2)), ((180, 320), (180, 320))],
)
def test_odd_tiny_and_portrait_sizes(tmp_path: Path, size: tuple[int, int], want: tuple[int, int]) -> None:
    src = clip(tmp_path / "src.nut", width=size[0], height=size[1], codec="rawvideo", pix_fmt="rgb24", seconds=0.3)
    encode(src, tmp_path / "out.mp4", resolution="1080p")
    probe = probe_file(tmp_path / "out.mp4")
    assert (probe.width, probe.height) == want


def test_portrait_gets_the_target_as_width(tmp_path: Path) -> None:
    src = clip(tmp_path / "src.mp4", width=1080, height=1920, seconds=0.3)
    encode(src, tmp_path / "out.mp4", resolution="720p")
    probe = probe_file(tmp_path / "out.mp4")
    assert (probe.width, probe.height) == (720, 1280)


@pytest.mark.parametrize(
    ("rotation", "size", "marker"),
    [(-90, (180, 320), "top-right"), (90, (180, 320), "bottom-left"), (180, (320, 180), "bottom-right")],
)
def test_rotation_metadata_is_applied(tmp_path: Path, rotation: int, size: tuple[int, int], marker: str) -> None:
    src = clip(tmp_path / "src.mp4", rotation=rotation, seconds=0.3)
    assert probe_file(src).width == 320  # stored landscape, displayed rotated
    out = tmp_path / "out.mp4"
    encode(src, out)
    probe = probe_file(out)
    assert (probe.width, probe.height) == size
    gray = _first_frame(out)
    corners = {
        "top-left": gray[:10, :10].mean(),
        "top-right": gray[:10, -10:].mean(),
        "bottom-left": gray[-10:, :10].mean(),
        "bottom-right": gray[-10:, -10:].mean(),
    }
    assert max(corners, key=corners.__getitem__) == marker


def test_variable_frame_rate_keeps_its_timing_or_becomes_constant(tmp_path: Path) -> None:
    # Frames 33 ms and 53 ms apart, alternately: 2 s of video in 60 frames.
    src = clip(tmp_path / "vfr.mkv", seconds=2.0, time_base=Fraction(1, 1000), pts_of=lambda i: i * 43 + (i % 2) * 10)
    kept, constant = tmp_path / "kept.mkv", tmp_path / "cfr.mp4"
    encode(src, kept, frame_rate_policy="preserve")
    with av.open(str(kept)) as container:
        times = [round(float(f.time or 0), 3) for f in container.decode(video=0)]
    assert len(times) == 60 and {round(b - a, 3) for a, b in zip(times, times[1:], strict=False)} == {0.053, 0.033}
    encode(src, constant, frame_rate_policy="force", fps=25)
    probe = probe_file(constant)
    assert round(probe.fps) == 25 and abs(probe.duration_sec - 2.58) <= 0.1


def test_timestamps_that_restart_or_jump_come_out_continuous(tmp_path: Path) -> None:
    parts = [clip(tmp_path / f"part{i}.ts", seconds=1.0) for i in range(2)]
    restart = concatenated(parts, tmp_path / "restart.ts")
    jump = clip(tmp_path / "jump.mkv", seconds=2.0, pts_of=lambda i: i if i < 30 else i + 3600 * 30)
    for src in (restart, jump):
        out = tmp_path / f"{src.stem}.mp4"
        recorder = Recorder()
        result = encode(src, out, recorder)
        probe = probe_file(out)
        assert abs(probe.duration_sec - 2.0) <= 0.15, src.name
        assert any("timestamps jumped" in w for w in result.warnings), src.name
        with av.open(str(out)) as container:
            assert sum(1 for _ in container.decode(video=0)) == 60


@pytest.mark.parametrize("pix_fmt", ["yuv420p10le", "yuv444p", "yuva420p", "gray", "rgb24"])
def test_deep_wide_alpha_and_rgb_sources_become_yuv420p(tmp_path: Path, pix_fmt: str) -> None:
    codec = "libx264rgb" if pix_fmt == "rgb24" else "ffv1"
    src = clip(tmp_path / "src.mkv", codec=codec, pix_fmt=pix_fmt, seconds=0.3)
    encode(src, tmp_path / "out.mp4")
    probe = probe_file(tmp_path / "out.mp4")
    assert (probe.pix_fmt, probe.width, probe.height) == ("yuv420p", 320, 180)


def test_damaged_packets_are_skipped_and_logged(tmp_path: Path) -> None:
    src = damage(clip(tmp_path / "src.mkv", codec="mjpeg", pix_fmt="yuvj420p", seconds=3.0), tmp_path / "bad.mkv")
    recorder = Recorder()
    result = encode(src, tmp_path / "out.mp4", recorder)
    assert result.skipped_packets > 0
    warnings = [entry for entry in recorder.logs if entry[1] == "Skipped a damaged packet of the source."]
    assert warnings and warnings[0][0] == "WARNING" and warnings[0][2] is not None
    assert probe_file(tmp_path / "out.mp4").duration_sec > 1.0


def test_a_source_whose_video_never_decodes_fails_decode_failed(tmp_path: Path) -> None:
    broken = tmp_path / "noise.mkv"
    rng = np.random.default_rng(3)
    with av.open(str(broken), "w") as out:  # an H.264 stream whose packets are random bytes
        stream = out.add_stream("h264", rate=25)
        stream.width, stream.height = 320, 240
        for i in range(50):
            packet = av.Packet(rng.integers(0, 256, 2000, dtype=np.uint8).tobytes())
            packet.stream, packet.pts, packet.dts, packet.time_base = stream, i, i, Fraction(1, 25)
            out.mux(packet)
    with pytest.raises(PermanentError) as failed:
        encode(broken, tmp_path / "out.mp4")
    assert failed.value.reason == R.DECODE_FAILED
    assert failed.value.message == "No frame of the video could be decoded."
