"""Figures as PNG images inlined in the HTML, drawn with matplotlib's object API on the Agg canvas.

``plots/X.py`` draws what ``numbers/X.py`` computes (commerce, queues, usage); ``style`` is the one look."""
