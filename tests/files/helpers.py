"""Helpers for the files tests: uploads through the Media API, an image made with PyAV, the blob store's state."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path
from typing import Any

import aiohttp
import av
import numpy as np


def png(path: Path, width: int = 400, height: int = 300) -> Path:
    """A PNG with a gradient, encoded with PyAV's png encoder."""
    ys, xs = np.mgrid[0:height, 0:width]
    rgb = np.stack([xs % 256, ys % 256, np.full_like(xs, 128)], axis=-1).astype(np.uint8)
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height, codec.pix_fmt, codec.time_base = width, height, "rgb24", Fraction(1, 25)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    path.write_bytes(b"".join(bytes(p) for p in [*codec.encode(frame), *codec.encode(None)]))
    return path


def jpeg_width(data: bytes, tmp: Path) -> int:
    path = tmp / "thumb.jpg"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        return int(next(container.decode(video=0)).width)


def form(field: str, files: list[tuple[str, bytes, str | None]], **fields: str) -> aiohttp.FormData:
    data = aiohttp.FormData()
    for name, value in fields.items():
        data.add_field(name, value)
    for filename, content, content_type in files:
        data.add_field(  # as a stream: aiohttp warns about large bodies given as bytes
            field, io.BytesIO(content), filename=filename, content_type=content_type or "application/octet-stream"
        )
    return data


async def upload(
    http: aiohttp.ClientSession,
    base: str,
    key: str,
    filename: str,
    content: bytes,
    content_type: str | None = None,
    **fields: str,
) -> dict[str, Any]:
    """POST /api/v1/files/upload; the `data` of a 200."""
    url = f"{base}/api/v1/files/upload"
    async with http.post(url, data=form("file", [(filename, content, content_type)], **fields), headers=auth(key)) as r:
        body: dict[str, Any] = await r.json()
        assert r.status == 200, body
        assert body["success"] is True, body
        return body["data"]  # type: ignore[no-any-return]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def call(
    http: aiohttp.ClientSession, method: str, url: str, key: str | None = None, **kwargs: Any
) -> tuple[int, Any]:
    """(status, JSON body) of a request with the key, if any."""
    headers = {**kwargs.pop("headers", {}), **(auth(key) if key else {})}
    async with http.request(method, url, headers=headers, **kwargs) as resp:
        return resp.status, await resp.json()


def stored(blob_root: Path, prefix: str) -> list[Path]:
    """Files under a prefix of the blob store."""
    root = blob_root / prefix
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
