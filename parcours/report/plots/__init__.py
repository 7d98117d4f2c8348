"""Figures as PNG images inlined in the HTML, drawn with matplotlib's object API on the Agg canvas."""
