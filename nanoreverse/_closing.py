"""``async with`` for everything that has an ``aclose()``: one definition, not one a class."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

_Closes = TypeVar("_Closes", bound="AsyncCloses")


class AsyncCloses:
    """Enter returns the object; leaving, however it happens, awaits ``aclose()``.

    >>> class Connection(AsyncCloses):
    ...     async def aclose(self) -> None:
    ...         print("closed")
    """

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self: _Closes) -> _Closes:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
