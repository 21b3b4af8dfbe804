"""The baseline of bench/transfer.py: a bare aiohttp app streaming uploads to disk and files back.

python -m bench._transfer_bare PORT DIR

- POST /upload: the multipart body's first file part, a megabyte at a time, into DIR; answers its name
  and size (no digest, no fsync, no records).
- GET /files/{name}: the file (aiohttp's FileResponse: sendfile, Range).
- DELETE /files/{name}.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

from aiohttp import BodyPartReader, web

CHUNK = 1 << 20


def main() -> None:
    port, root = int(sys.argv[1]), Path(sys.argv[2])
    root.mkdir(parents=True, exist_ok=True)

    async def upload(request: web.Request) -> web.Response:
        reader = await request.multipart()
        part = await reader.next()
        assert isinstance(part, BodyPartReader)
        name, size = uuid.uuid4().hex, 0
        with open(root / name, "wb") as out:
            while chunk := await part.read_chunk(CHUNK):
                out.write(chunk)
                size += len(chunk)
        return web.json_response({"name": name, "size": size})

    async def download(request: web.Request) -> web.FileResponse:
        return web.FileResponse(root / request.match_info["name"])

    async def delete(request: web.Request) -> web.Response:
        (root / request.match_info["name"]).unlink(missing_ok=True)
        return web.json_response({"deleted": True})

    app = web.Application()
    app.router.add_post("/upload", upload)
    app.router.add_get("/files/{name}", download)
    app.router.add_delete("/files/{name}", delete)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=lambda *_: None)


if __name__ == "__main__":
    main()
