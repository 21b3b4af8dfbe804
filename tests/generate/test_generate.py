"""Whole generations, probed: streams, sizes, durations, sound, captions, posters, equal frames, cancel."""

from __future__ import annotations

import hashlib
import pickle
import threading
import time
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import skia

from services.common.errors import PermanentError, R
from services.common.probe import probe_file
from services.encoder.generate import GenerationRequest, GenerationResult, generate
from services.encoder.generate.storyboard import scene_frames
from services.encoder.pipeline import Interrupted
from tests.encoder.helpers import Recorder

PROMPT = "A beautiful sunset over the mountains with three birds. As night falls, the stars come out."


def make(tmp_path: Path, recorder: Recorder | None = None, **fields: Any) -> GenerationResult:
    request = GenerationRequest.model_validate({"prompt": PROMPT, "quality": "480p", "seed": 3, **fields})
    return generate(request, out_dir=tmp_path, reporter=recorder or Recorder(), stop=threading.Event())


def digests(path: Path) -> tuple[str, str]:
    """Hashes of every decoded picture and of the decoded sound."""
    pictures, sound = hashlib.sha256(), hashlib.sha256()
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            pictures.update(frame.to_ndarray(format="rgb24").tobytes())
    with av.open(str(path)) as container:
        for chunk in container.decode(audio=0):
            sound.update(chunk.to_ndarray().tobytes())
    return pictures.hexdigest(), sound.hexdigest()


def test_a_narrated_480p_generation(tmp_path: Path) -> None:
    recorder = Recorder()
    result = make(tmp_path, recorder, duration=2.5)
    probe = probe_file(result.main.path)
    assert (probe.video_codec, probe.width, probe.height, probe.fps) == ("h264", 854, 480, 30)
    assert (probe.audio_codec, probe.audio_channels, probe.audio_sample_rate) == ("aac", 2, 44100)
    assert abs(probe.duration_sec - 2.5) <= 0.1
    assert [o.quality for o in result.outputs] == ["480p"]
    assert (result.frames, result.duration, result.seed, result.planner) == (75, 2.5, 3, "builtin")
    assert result.model == "vidkiln-storyboard-1"
    with av.open(str(result.main.path)) as container:
        sound = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    speech, before = sound[:, int(0.5 * 44100) : int(1.5 * 44100)], sound[:, : int(0.2 * 44100)]
    assert np.sqrt(np.mean(speech**2)) > 0.05  # the narrator is heard
    assert np.sqrt(np.mean(speech**2)) > 2 * np.sqrt(np.mean(before**2))  # over the quiet bed
    assert result.main.path.read_bytes()[4:8] == b"ftyp" and b"moov" in result.main.path.read_bytes()[:4096]
    for size, path in result.posters.items():
        image = skia.Image.MakeFromEncoded(path.read_bytes())
        assert (
            path.read_bytes()[:2] == b"\xff\xd8" and image.width() == {"small": 160, "medium": 320, "large": 640}[size]
        )
    percents = recorder.progress_values
    assert percents[0] == 0 and percents == sorted(percents) and percents[-1] < 100
    assert [d["stage"] for _, _, d in recorder.logs if d and "stage" in d] == ["planning", "rendering"]
    assert pickle.loads(pickle.dumps(result)) == result  # it travels from the encode child over a pipe
    generation = result.generation(PROMPT)
    assert generation["seed"] == 3 and generation["planner"] == "builtin" and generation["scenes"][0]["title"]


def test_the_webvtt_sidecar(tmp_path: Path) -> None:
    result = make(tmp_path, duration=6)
    assert result.captions is not None
    text = result.captions.read_text()
    assert text.startswith("WEBVTT\n\n1\n00:00:00.300 --> 00:00:0")
    blocks = text.strip().split("\n\n")[1:]
    assert blocks and all(len(b.split("\n")) in (3, 4) for b in blocks)
    assert "beautiful sunset" in text


def test_equal_inputs_give_equal_frames_and_sound(tmp_path: Path) -> None:
    first = make(tmp_path / "a", duration=1)
    second = make(tmp_path / "b", duration=1)
    other = make(tmp_path / "c", duration=1, seed=4)
    assert digests(first.main.path) == digests(second.main.path)
    assert digests(other.main.path)[0] != digests(first.main.path)[0]


def test_1080p_has_a_720p_rendition(tmp_path: Path) -> None:
    result = make(tmp_path, duration=1, quality="1080p", narration=False, aspect="9:16")
    assert [(o.quality, o.width, o.height) for o in result.outputs] == [("1080p", 1080, 1920), ("720p", 720, 1280)]
    main, small = (probe_file(o.path) for o in result.outputs)
    assert (main.width, main.height, small.width, small.height) == (1080, 1920, 720, 1280)
    assert abs(main.duration_sec - small.duration_sec) < 0.05 and small.audio_codec == "aac"
    assert result.captions is None and not result.narrated


def test_images_are_shown_with_ken_burns_moves(tmp_path: Path) -> None:
    picture = tmp_path / "photo.png"
    canvas = skia.Surface(1600, 900)
    canvas.getCanvas().clear(skia.Color(200, 40, 40))
    canvas.getCanvas().drawCircle(800, 450, 300, skia.Paint(Color=skia.Color(40, 200, 40)))
    canvas.makeImageSnapshot().save(str(picture), skia.kPNG)
    result = make(tmp_path / "out", duration=3, images=[picture], narration=False)
    assert any(s.image == 0 for s in result.storyboard.scenes)
    with av.open(str(result.main.path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    shown = [f for f, s in zip(frames, _scene_per_frame(result), strict=True) if s == 0]
    assert shown and shown[len(shown) // 2][240, 427, 1] > 150  # the green disc fills the middle


def test_an_unreadable_image_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    with pytest.raises(PermanentError) as caught:
        make(tmp_path / "out", duration=2, images=[broken])
    assert caught.value.reason == R.DECODE_FAILED
    assert not list((tmp_path / "out").glob("*"))  # partial files are removed


def test_stop_ends_rendering_promptly(tmp_path: Path) -> None:
    stop = threading.Event()
    asked: list[float] = []

    class Stopper(Recorder):
        def progress(self, percent: float) -> None:
            super().progress(percent)
            if percent > 5 and not stop.is_set():
                asked.append(time.monotonic())
                stop.set()

    request = GenerationRequest(prompt=PROMPT, duration=60, quality="480p", seed=1)
    with pytest.raises(Interrupted):
        generate(request, out_dir=tmp_path, reporter=Stopper(), stop=stop)
    assert asked and time.monotonic() - asked[0] < 1.0
    assert not list(tmp_path.glob("*"))


def _scene_per_frame(result: GenerationResult) -> list[int]:
    """The image each frame shows (-1: a drawn scene)."""
    owners: list[int] = []
    for scene, (first, end) in zip(
        result.storyboard.scenes, scene_frames(result.storyboard, result.frames), strict=True
    ):
        owners += [-1 if scene.image is None else scene.image] * (end - first)
    return owners
