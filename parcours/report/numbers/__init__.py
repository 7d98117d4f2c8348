"""The run's own numbers: the funnel, revenue and stock-outs (``commerce``), call-centre, chat and store
queues (``queues``), channel use (``usage``), the headline figures (``kpis``), everything the page shows
about one run computed once (``summary``), the few of them ``explain`` splits read from only the rows
they rest on (``core``), and means with intervals over replicates (``intervals``).
Reads ``columns/`` and ``realism/``; drawn by ``plots/``, laid out by ``pages/``."""
