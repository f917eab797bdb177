"""The documentation site: built with ``mkdocs build --strict`` (a broken link, a missing
reference or a docstring warning fails it), served over HTTP, and opened in headless
Chromium: pages render, the search finds things, and no console error is logged."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import free_port, wait_for_port

ROOT = Path(__file__).parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.once]  # the site is the same on every Python


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("site") / "site"
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, server, "the site's server")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.communicate(timeout=10)  # also closes its stderr pipe


def _open(browser: Any, url: str) -> tuple[Any, Any, list[str], list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return context, page, errors, requests


@pytest.mark.parametrize(
    ("path", "heading", "text"),
    [
        ("/", "nanoreverse", "Try it, no key needed"),
        ("/guides/web-apps/", "Web apps", "cleanup_ctx"),
        ("/reference/clients/", "Clients", "max_retries"),
        ("/reference/cli/", "Command line", "--concurrency"),
    ],
)
def test_pages_render(site: str, browser: Any, path: str, heading: str, text: str) -> None:
    context, page, errors, requests = _open(browser, site + path)
    try:
        assert page.inner_text("article h1").strip().startswith(heading)
        assert text in page.inner_text("article")
        assert errors == [], errors
        assert all(url.startswith(site) for url in requests), requests  # nothing from elsewhere
    finally:
        context.close()


def test_the_search_box_finds_a_page(site: str, browser: Any) -> None:
    context, page, errors, _ = _open(browser, site + "/")
    try:
        page.keyboard.press("/")  # Material's shortcut: focus the search box
        page.keyboard.type("lease", delay=50)
        page.wait_for_selector(".md-search-result__item", timeout=15_000)
        results = page.inner_text(".md-search-result")
        assert "Claims and leases" in results or "lease" in results.casefold()
        assert errors == [], errors
    finally:
        context.close()
