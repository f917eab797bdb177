"""An aiohttp web app that streams a video's analysis to the browser as it is written.

One client for the whole app, made in ``cleanup_ctx`` and closed at shutdown, with a
store. A browser that goes away mid-answer loses nothing that was paid for: the store
reads the answer to its end and keeps it, and the next request for that video is
served from it, free. Without a store the unread rest is dropped and logged at INFO.

    NANOPHOTO_API_KEY=sk-... python examples/web_aiohttp.py
    curl -N 'http://127.0.0.1:8080/analyze?video=https://youtu.be/W-15-UmGP5s'
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from aiohttp import web

import nanoreverse as nr

CLIENT = web.AppKey("client", nr.AsyncClient)


async def client_context(app: web.Application) -> AsyncIterator[None]:
    store = nr.SQLiteStore(os.environ.get("NANOREVERSE_STORE", "analyses.sqlite"))
    async with nr.AsyncClient(store=store) as client:  # key and address from the environment
        app[CLIENT] = client
        yield


async def analyze(request: web.Request) -> web.StreamResponse:
    client = request.app[CLIENT]
    video, locale = request.query.get("video", ""), request.query.get("locale", "en")
    try:  # bad input is a 400 now, with nothing spent
        error = (await client.plan(video, locale=locale)).error
    except nr.NanoReverseError as refused:  # an unknown locale
        error = refused
    if error is not None:
        raise web.HTTPBadRequest(text=f"{error}\n")
    response = web.StreamResponse(headers={"Content-Type": "text/markdown; charset=utf-8"})
    await response.prepare(request)
    async with client.analyze(video, locale=locale) as stream:
        async for chunk in stream:
            await response.write(chunk.encode())
    await response.write_eof()
    return response


def make_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(client_context)
    app.router.add_get("/analyze", analyze)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(os.environ.get("PORT", "8080")))
