"""The baseline of bench/api.py: a bare aiohttp JSON handler, its own process like the gateway.

python -m bench._bare PORT BODY_FILE   (answers every GET with the JSON in BODY_FILE)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from aiohttp import web


def main() -> None:
    port, body = int(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text())

    async def handler(_request: web.Request) -> web.Response:
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=lambda *_: None)


if __name__ == "__main__":
    main()
