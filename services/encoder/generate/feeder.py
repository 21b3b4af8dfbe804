"""Encoding on a second thread: while it converts and encodes one frame, the caller draws the next.

Drawing (skia, holding the GIL) and encoding (swscale and x264, which release it) then use both
cores instead of taking turns. Frames in flight are bounded by a pool of drawing targets, so
memory stays flat; every container operation happens on the worker thread alone.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence

import av

from services.encoder.generate.outputs import Output, Outputs
from services.encoder.generate.render import Target

_Job = tuple[Target, int, list[av.AudioFrame], bool] | None


class Feeder:
    """Hands drawn targets to a worker that encodes them into `files`, in order."""

    def __init__(self, files: Outputs, targets: Sequence[Target], on_poster: Callable[[av.VideoFrame], None]) -> None:
        self._files, self._on_poster = files, on_poster
        self._free: queue.Queue[Target] = queue.Queue()
        for target in targets:
            self._free.put(target)
        self._work: queue.Queue[_Job] = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="vidkiln-generate-encode", daemon=True)
        self._thread.start()

    def target(self) -> Target:
        """A target free to draw into (waits while all are being encoded)."""
        while True:
            self._raise()
            try:
                return self._free.get(timeout=0.1)
            except queue.Empty:
                continue

    def submit(self, target: Target, index: int, audio: list[av.AudioFrame], *, poster: bool = False) -> None:
        """Frame `index` drawn in `target`, and the audio that goes with it up to its end."""
        self._raise()
        self._work.put((target, index, audio, poster))

    def finish(self, audio: list[av.AudioFrame]) -> list[Output]:
        """Waits for every frame, encodes the last audio, flushes and finishes the files."""
        self._stop()
        self._raise()
        self._files.audio(audio)
        return self._files.close()

    def abort(self) -> None:
        """Stops the worker and deletes the partial files."""
        self._stop()
        self._files.abort()

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._work.put(None)
            self._thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (job := self._work.get()) is not None:
            if self._error is not None:
                continue  # drain: the caller raises the first error at its next call
            target, index, audio, poster = job
            try:
                self._files.video(target.frame, index)
                self._files.audio(audio)
                if poster and self._files.last is not None:
                    self._on_poster(self._files.last)
            except BaseException as exc:  # noqa: BLE001 - handed to the drawing thread, which raises it
                self._error = exc
            finally:
                self._free.put(target)
