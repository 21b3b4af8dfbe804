"""What folder ingest counts as a video: a video/* type or a video extension; never a Google Docs type."""

from __future__ import annotations

import pytest

from services.common.videofiles import VIDEO_EXTENSIONS, is_video
from tests.fakes.drive_wire import DOC, FOLDER


@pytest.mark.parametrize(
    ("name", "mime_type", "expected"),
    [
        ("clip.mp4", "video/mp4", True),
        ("CLIP.MOV", None, True),
        ("take.mkv", "application/octet-stream", True),
        ("stream", "video/MP2T; charset=binary", True),
        ("archive/old.M2TS", "", True),
        ("notes.txt", "text/plain", False),
        ("poster.jpg", "image/jpeg", False),
        ("clip.mp4", DOC, False),
        ("clips.mp4", FOLDER, False),
        ("mp4", None, False),
    ],
)
def test_is_video(name: str, mime_type: str | None, expected: bool) -> None:
    assert is_video(name, mime_type) is expected


def test_video_extensions_are_lowercase_with_a_dot() -> None:
    assert {".mp4", ".mov", ".mkv", ".webm", ".ts", ".mxf"} <= VIDEO_EXTENSIONS
    assert all(ext.startswith(".") and ext == ext.lower() for ext in VIDEO_EXTENSIONS)
