"""parcours: customers moving between a company's sales and service channels, simulated and replayed.

The public API (docs/api.md): ``simulate`` a scenario into a ``Run``, ``open_run`` an existing one,
``compare`` runs, ``explain`` what each capability changes, ``replay`` a run against a backend, and the
specs a run is made of (``personas``, ``scenarios``, ``load_scenario``, ``variant``). Each name loads
its module on first use, so that ``import parcours`` and ``parcours --help`` stay fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: The table of contents: each public name and the module that defines it.
_API = {
    "simulate": "parcours.api.simulate",
    "open_run": "parcours.api.runs",
    "Run": "parcours.api.runs",
    "compare": "parcours.api.runs",
    "explain": "parcours.api.explain",
    "Explanation": "parcours.api.explain",
    "replay": "parcours.api.replay",
    "personas": "parcours.personas",  # the package, which called gives the built-ins by name
    "scenarios": "parcours.scenarios",
    "load_scenario": "parcours.api.specs",
    "load_persona": "parcours.api.specs",
    "variant": "parcours.api.specs",
    "Scenario": "parcours.scenarios",
    "Persona": "parcours.personas",
    "ParcoursError": "parcours.errors",
    "SpecError": "parcours.errors",
    "RunDirError": "parcours.errors",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'parcours' has no attribute {name!r}")
    module = importlib.import_module(_API[name])
    value = module if module.__name__ == f"{__name__}.{name}" else getattr(module, name)
    globals()[name] = value  # the next lookup is an ordinary one
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
