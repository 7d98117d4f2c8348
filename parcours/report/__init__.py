"""Reports on finished runs: `parcours report`, `compare` and `realism`, and what `explain` reuses.

One folder per stage of the data flow, each importing only the stages before it:

- ``columns/``: the run read once into NumPy columns (events, codes, calendar, campaign engagement,
  journeys); nothing here knows a figure.
- ``realism/``: the realism check: each published figure (``references.toml``) computed on the run as its
  source defines it, with its interval and verdict, and as text.
- ``numbers/``: the run's own numbers (funnel, queues, channel use, headline KPIs), the one summary of a
  run the pages draw from, and means with intervals over replicates.
- ``plots/``: the figures as PNG images; ``plots/X.py`` draws what ``numbers/X.py`` computes.
- ``pages/``: the HTML page, the JSON document, comparisons of runs and run sets, the replay section.
"""
