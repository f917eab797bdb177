"""A griffe extension: a method decorated ``@same_parameters(source)`` shows ``source``'s
parameters in the API reference, as it does to ``inspect``, ``help()``, mypy and IDEs.

Griffe reads the code without running it, so it would see only ``*args, **kwargs``.
"""

from __future__ import annotations

from typing import Any

import griffe

_DECORATOR = "nanoreverse._signature.same_parameters"


class SameParameters(griffe.Extension):
    """Copy the parameters named by ``same_parameters`` once the whole package is loaded
    (the source may live in a module loaded after the method's)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for cls in _classes(pkg):
            for member in cls.members.values():
                if isinstance(member, griffe.Function):
                    _copy(member, pkg)


def _classes(module: griffe.Module) -> list[griffe.Class]:
    found = [m for m in module.classes.values() if not m.is_alias]
    for sub in module.modules.values():
        if not sub.is_alias:  # a module imported into another is read where it lives
            found += _classes(sub)
    return found


def _copy(function: griffe.Function, pkg: griffe.Module) -> None:
    for decorator in function.decorators:
        if decorator.callable_path != _DECORATOR:
            continue
        call = decorator.value
        named = call.arguments[0] if isinstance(call, griffe.ExprCall) else None
        if not isinstance(named, griffe.Expr):
            raise TypeError(f"{function.path}: same_parameters names no function: {call}")
        source = pkg.modules_collection[named.canonical_path]
        function.parameters = source.parameters
