"""The receiving end of bench/webhooks.py: answers every POST with 200, in its own process.

python -m bench._receiver PORT
"""

from __future__ import annotations

import sys

from aiohttp import web


def main() -> None:
    async def hook(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{tail:.*}", hook)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=lambda *_: None)


if __name__ == "__main__":
    main()
