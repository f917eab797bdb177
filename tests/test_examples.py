"""Every example runs, against the pytest plugin's emulator fixture."""

from __future__ import annotations

import importlib
import math
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

import nanoreverse as nr
from nanoreverse.testing import Emulator, Fault

EXAMPLES = Path(__file__).parent.parent / "examples"
Example = Callable[[str], ModuleType]


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> Example:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.chdir(EXAMPLES.parent)  # the examples name their videos from the repo root

    def load(name: str) -> ModuleType:
        sys.modules.pop(name, None)
        return importlib.import_module(name)

    return load


async def test_stream_one(
    example: Example, nanoreverse_emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    module = example("stream_one")
    analysis = await module.main(nanoreverse_emulator.base_url, nanoreverse_emulator.api_key)
    printed = capsys.readouterr().out
    assert printed.startswith(nanoreverse_emulator.requests[0].answer)
    assert analysis.shots and analysis.shots[0].prompt() in printed


async def test_bulk_folder(
    example: Example, nanoreverse_emulator: Emulator, tmp_path: Path
) -> None:
    module = example("bulk_folder")
    results = await module.main(
        nanoreverse_emulator.base_url, nanoreverse_emulator.api_key, EXAMPLES / "videos", tmp_path
    )
    assert len(results) == 3 and all(r.ok for r in results)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bars_5s.md", "cells_6s.md", "life_9s.md"]


async def test_pipeline(example: Example, nanoreverse_emulator: Emulator) -> None:
    module = example("pipeline")
    prompts = await module.main(nanoreverse_emulator.base_url, nanoreverse_emulator.api_key)
    assert len(nanoreverse_emulator.requests) == 5
    assert len(prompts) == sum(
        len(__import__("nanoreverse").parse_analysis(r.answer).shots)
        for r in nanoreverse_emulator.requests
    )


async def test_a_store_written_from_public_names(
    example: Example, nanoreverse_emulator: Emulator
) -> None:
    module = example("memory_store")
    streams = await module.main(nanoreverse_emulator.base_url, nanoreverse_emulator.api_key)
    assert len(nanoreverse_emulator.requests) == 1  # four identical calls, one paid
    texts = {await s.text() for s in streams}
    assert texts == {nanoreverse_emulator.requests[0].answer}
    assert streams[-1].cached and streams[-1].attempts == 0


async def test_a_store_of_your_own_logs_failures_and_gets_its_lease_checked(
    example: Example, nanoreverse_emulator: Emulator
) -> None:
    module = example("memory_store")
    with pytest.raises(ValueError, match="lease"):
        module.MemoryStore(lease=math.inf)  # checked by nr.Store, not by the example
    store = module.MemoryStore()
    emulator = nanoreverse_emulator
    async with nr.AsyncClient(emulator.api_key, base_url=emulator.base_url, store=store) as client:
        emulator.script(Fault.error("VIDEO_PROCESSING_FAILED"))
        stream = client.analyze("https://youtu.be/W-15-UmGP5s")
        with pytest.raises(nr.VideoProcessingError):
            await stream.text()
        assert stream.key is not None
        attempts = await store.attempts(stream.key)
    assert [(a.code, a.partial) for a in attempts] == [("VIDEO_PROCESSING_FAILED", "")]
