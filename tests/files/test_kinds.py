"""What a file is: its name, content type and category."""

from __future__ import annotations

import pytest

from services.ingest.files.kinds import clean_filename, content_type_of, file_type_of


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("clip.mp4", "clip.mp4"),
        ("dir/sub/clip.mp4", "clip.mp4"),
        ("C:\\Users\\me\\clip.mp4", "clip.mp4"),
        ("bad\x00name\n.mp4", "badname.mp4"),
        ("  spaced.mov ", "spaced.mov"),
        ("..", "file"),
        ("", "file"),
        ("é" * 300, "é" * 255),
    ],
)
def test_clean_filename(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean


@pytest.mark.parametrize(
    ("declared", "name", "content_type", "kind"),
    [
        ("video/mp4", "x.bin", "video/mp4", "video"),
        ("Video/MP4; codecs=avc1", "x", "video/mp4", "video"),
        ("application/octet-stream", "clip.mkv", "video/x-matroska", "video"),
        ("", "clip.ts", "video/mp2t", "video"),
        ("", "tone.m4a", "audio/mp4", "audio"),
        ("", "song.flac", "audio/flac", "audio"),
        ("", "pic.webp", "image/webp", "image"),
        ("image/png", "x", "image/png", "image"),
        ("", "report.pdf", "application/pdf", "document"),
        ("", "notes.txt", "text/plain", "document"),
        ("", "sheet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "document"),
        ("", "archive.zip", "application/zip", "other"),
        ("", "noextension", "application/octet-stream", "other"),
        ("not a type", "x.mp4", "video/mp4", "video"),
        ("text/html\r\nX-Evil: 1", "page.html", "text/html", "document"),
    ],
)
def test_content_type_and_kind(declared: str, name: str, content_type: str, kind: str) -> None:
    assert content_type_of(declared, name) == content_type
    assert file_type_of(content_type) == kind
