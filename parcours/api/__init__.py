"""The public Python API, exported lazily by ``parcours/__init__.py``: ``simulate``, ``open_run``,
``Run``, ``compare``, ``explain``, ``replay`` and the specs (``personas``, ``scenarios``,
``load_scenario``, ``variant``).

Each function is a thin layer over the code the command line calls, with the same bounds and the same
errors; an argument's error names the argument as Python spells it (``customers``, not
``--customers``). Nothing here is imported by ``import parcours``: each module loads on first use.
"""
