"""The API's edge: errors that name Python arguments, and optional packages asked for by name.

The engine's checks speak the command line's language (``--customers: must be ...``). At the API's edge
the same error is raised again, naming the argument as the caller wrote it (``customers: must be
...``), with the traceback cut at the call: a user sees one line about their own argument, not the
frames of the code that found it.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import ParamSpec, TypeVar

from parcours.errors import ParcoursError

P = ParamSpec("P")
T = TypeVar("T")

_FLAG = re.compile(r"--([a-z][a-z0-9-]*)")
#: Flags that are booleans in Python: "pass --overwrite" reads "pass overwrite=True".
_SWITCHES = {"overwrite", "check", "dry_run"}


def python_spelling(message: str, arguments: Mapping[str, str]) -> str:
    """``message`` with each ``--flag`` that ``arguments`` maps (flag name -> Python argument) spelled as
    the Python argument."""

    def spell(found: re.Match[str]) -> str:
        name = arguments.get(found.group(1).replace("-", "_"))
        if name is None:
            return found.group(0)
        return f"{name}=True" if name in _SWITCHES else name

    return _FLAG.sub(spell, message)


def user_errors(function: Callable[P, T]) -> Callable[P, T]:
    """Raise a ParcoursError from inside again at the call, its flags spelled as ``function``'s
    parameters, its traceback cut there."""
    return user_errors_as()(function)


def user_errors_as(**aliases: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """As ``user_errors``, with flags named otherwise in Python: ``user_errors_as(out="path")``."""

    def wrap(function: Callable[P, T]) -> Callable[P, T]:
        arguments = {name: name for name in inspect.signature(function).parameters} | aliases

        @functools.wraps(function)
        def call(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return function(*args, **kwargs)
            except ParcoursError as exc:
                exc.args = (python_spelling(str(exc), arguments),)
                raise exc.with_traceback(None) from None

        return call

    return wrap


def optional(package: str, what: str) -> ModuleType:
    """An optional package, or a ParcoursError saying that ``what`` needs it and how to install it."""
    try:
        return importlib.import_module(package)
    except ImportError:
        raise ParcoursError(
            f"{what}: needs the package {package}, which is not installed (pip install {package})"
        ) from None
