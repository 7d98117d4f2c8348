"""What the report commands write: the HTML page (``html``, ``build``), the numbers in words (``facts``),
the reference tables (``glossary``), the JSON document (``jsondoc``), comparisons of runs and run sets
(``sets``) and the latest replay's section (``replays``). The last stage: reads every other one."""
