"""Speech with eSpeak NG: the library and voices from the espeakng-loader wheel, driven through ctypes.

No system espeak and no subprocess: libespeak-ng is loaded once per process and synthesizes into
memory (AUDIO_OUTPUT_RETRIEVAL, 22050 Hz mono 16-bit) through a callback.
"""

from __future__ import annotations

import ctypes
import threading

import espeakng_loader
import numpy as np
import numpy.typing as npt

_RETRIEVAL = 1  # AUDIO_OUTPUT_RETRIEVAL: samples come to the callback, nothing plays
_DONT_EXIT = 0x8000  # espeakINITIALIZE_DONT_EXIT: report errors instead of exiting the process
_UTF8 = 1  # espeakCHARS_UTF8
_RATE = 1  # espeakRATE, words per minute
_POS_CHARACTER = 1
CALM_WPM = 160
FASTEST_WPM = 240  # faster than this is hard to follow; longer narration is cut instead
_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class SpeechError(Exception):
    """eSpeak NG could not speak (unknown voice, a failed synthesis)."""


class Speaker:
    """One per process: eSpeak NG keeps global state, so calls are serialized by a lock."""

    _instance: Speaker | None = None
    _guard = threading.Lock()

    def __init__(self) -> None:
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        data = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(_RETRIEVAL, 0, data, _DONT_EXIT)
        if rate <= 0:
            raise SpeechError("eSpeak NG could not start")
        self.sample_rate: int = rate
        self._lib = lib
        self._chunks: list[npt.NDArray[np.int16]] = []
        self._callback = _Callback(self._collect)  # kept referenced: the library calls it later
        lib.espeak_SetSynthCallback(self._callback)
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> Speaker:
        """The process's speaker (created at first use: after a fork, in the process that speaks)."""
        with cls._guard:
            if cls._instance is None:
                cls._instance = Speaker()
            return cls._instance

    def _collect(self, wav: ctypes._Pointer[ctypes.c_short], count: int, _events: int | None) -> int:
        if count > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0  # 0: go on synthesizing

    def say(self, text: str, *, voice: str, wpm: int = CALM_WPM) -> npt.NDArray[np.int16]:
        """`text` spoken by `voice` at `wpm` words a minute: mono samples at `sample_rate`."""
        with self._lock:
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise SpeechError(f"eSpeak NG has no voice {voice!r}")
            self._lib.espeak_SetParameter(_RATE, int(wpm), 0)
            self._chunks = []
            encoded = text.encode("utf-8")
            status = self._lib.espeak_Synth(encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _UTF8, None, None)
            self._lib.espeak_Synchronize()
            if status != 0:
                raise SpeechError(f"eSpeak NG failed to synthesize (status {status})")
            samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
            self._chunks = []
            return samples
