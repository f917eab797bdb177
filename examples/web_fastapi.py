"""A FastAPI app that streams a video's analysis as it is written.

One client for the whole app, opened in the ``lifespan`` and closed at shutdown, with a
store: a user who disconnects mid-answer loses nothing that was paid for (the store
reads it to its end and keeps it; the next request is served from it, free).

    pip install fastapi uvicorn
    NANOPHOTO_API_KEY=sk-... uvicorn web_fastapi:app --app-dir examples
    curl -N 'http://127.0.0.1:8000/analyze?video=https://youtu.be/W-15-UmGP5s'
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import StreamingResponse

import nanoreverse as nr


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    store = nr.SQLiteStore(os.environ.get("NANOREVERSE_STORE", "analyses.sqlite"))
    async with nr.AsyncClient(store=store) as client:  # key and address from the environment
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/analyze")
async def analyze(request: Request, video: str, locale: str = "en") -> StreamingResponse:
    client: nr.AsyncClient = request.app.state.client
    try:  # bad input is a 400 now, with nothing spent
        error = (await client.plan(video, locale=locale)).error
    except nr.NanoReverseError as refused:  # an unknown locale
        error = refused
    if error is not None:
        raise HTTPException(status_code=400, detail=str(error))

    async def markdown() -> AsyncIterator[str]:
        async with client.analyze(video, locale=locale) as stream:
            async for chunk in stream:
                yield chunk

    return StreamingResponse(markdown(), media_type="text/markdown; charset=utf-8")
