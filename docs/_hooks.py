"""MkDocs hooks: the command-line reference is made from the argparse parser itself, so
the options are written once (in ``nanoreverse/cli/_main.py``) and the page cannot drift."""

from __future__ import annotations

import argparse
import os
from typing import Any

MARK = "<!-- cli-reference -->"


def _usage(parser: argparse.ArgumentParser, name: str) -> str:
    parser.prog = name
    text = parser.format_help()
    return f"## `{name}`\n\n```text\n{text.rstrip()}\n```\n"


def _reference() -> str:
    os.environ["COLUMNS"] = "100"  # argparse wraps help to the terminal: one width here
    from nanoreverse.cli._main import _parser
    from nanoreverse.testing._serve import add_arguments

    parser = _parser()
    parts = [_usage(parser, "nanoreverse")]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                if name != "emulator":
                    parts.append(_usage(sub, f"nanoreverse {name}"))
    emulator = argparse.ArgumentParser(
        prog="nanoreverse emulator", description="The API emulator, in the foreground."
    )
    add_arguments(emulator)
    parts.append(_usage(emulator, "nanoreverse emulator"))
    return "\n".join(parts)


def on_page_markdown(markdown: str, **_: Any) -> str:
    return markdown.replace(MARK, _reference()) if MARK in markdown else markdown
