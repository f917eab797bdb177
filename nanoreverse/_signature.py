"""One signature, written once: a method that hands its arguments on declares so.

``nr.Client`` takes exactly ``AsyncClient``'s arguments. Writing the parameters out twice
let the two drift; ``**options: Any`` hid them from IDEs, mypy and ``help()``. A method
decorated with ``same_parameters(source)`` is typed with ``source``'s parameters (a
``ParamSpec``, so mypy and IDEs check every call) and shows them to ``inspect`` and
``help()``, with its own return type and docstring.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def same_parameters(
    source: Callable[Concatenate[Any, P], object],
) -> Callable[[Callable[..., R]], Callable[Concatenate[Any, P], R]]:
    """Give the decorated method ``source``'s parameters (``self`` first in both).

    >>> class Blocking:
    ...     @same_parameters(AsyncThing.__init__)
    ...     def __init__(self, *args: Any, **kwargs: Any) -> None:  # doctest: +SKIP
    ...         self._thing = AsyncThing(*args, **kwargs)
    """

    def decorate(method: Callable[..., R]) -> Callable[Concatenate[Any, P], R]:
        own = inspect.signature(method)
        parameters = list(inspect.signature(source).parameters.values())
        method.__signature__ = own.replace(parameters=parameters)  # type: ignore[attr-defined]
        return method

    return decorate
