"""The realism check (``parcours realism`` and the report's realism section): the published figures
(``references.toml``, loaded by ``references``), each computed on the run as its source defines it
(``figures`` checked, ``flows`` shown only) from one ``basis``, worth an interval and a verdict
(``stats``), assessed (``assess``) and written as text (``text``). Reads ``columns/`` only."""
