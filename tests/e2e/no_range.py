"""A source server that ignores Range, as `python -m http.server` does, and the clips it serves.

Python's SimpleHTTPRequestHandler answers every GET with the whole file (200, never 206), which is
what many small self-hosted servers do. It runs in a thread on 127.0.0.1 (the tests' allow-list).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av

from tests.e2e.helpers import top_level_atoms
from tests.media import clip


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        """Quiet: the test output is for the tests."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A probe hangs up once it has read enough: a broken pipe here is expected, not a failure."""


@contextmanager
def serving(root: Path) -> Iterator[str]:
    """Serves `root` without Range support; yields the base URL."""
    server = _Server(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, name="no-range-source", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def faststart(source: Path, dest: Path) -> Path:
    """The same streams remuxed with the index (moov) before the media data."""
    with av.open(str(source)) as src, av.open(str(dest), "w", options={"movflags": "faststart"}) as out:
        streams = {s.index: out.add_stream_from_template(s) for s in src.streams}
        for packet in src.demux():
            if packet.dts is None:  # the demuxer's flush packets
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    assert top_level_atoms(dest)[1] == "moov"
    return dest


def populate(root: Path, hd: Path) -> dict[str, Path]:
    """The served files: MP4 indexed at its end (as muxers write by default) and at its start, MKV,
    WebM, MPEG-TS, and text named like a video (its server calls it video/mp4)."""
    root.mkdir(parents=True, exist_ok=True)
    end = Path(shutil.copy(hd, root / "moov-at-end.mp4"))
    assert top_level_atoms(end)[-1] == "moov"
    (root / "broken.mp4").write_bytes(b"This is plain text, not a video.\n" * 2000)
    return {
        "moov-at-end.mp4": end,
        "faststart.mp4": faststart(hd, root / "faststart.mp4"),
        "clip.mkv": clip(root / "clip.mkv", seconds=2.0),
        "clip.webm": clip(root / "clip.webm", seconds=2.0, codec="libvpx-vp9", audio_tracks=0),
        "clip.ts": clip(root / "clip.ts", seconds=2.0),
        "broken.mp4": root / "broken.mp4",
    }
