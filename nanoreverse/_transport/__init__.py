"""One call on the wire: the HTTP settings, one attempt with its streamed body, the answer's
stream, the retry rule, and the one place aiohttp's failures become ours."""
