"""The run's own numbers: the funnel, revenue and stock-outs (``commerce``), call-centre, chat and store
queues (``queues``), channel use (``usage``), the headline figures (``kpis``), everything the page shows
about one run computed once (``summary``), and means with intervals over replicates (``intervals``).
Reads ``columns/`` and ``realism/``; drawn by ``plots/``, laid out by ``pages/``."""
