"""The run read once into NumPy columns: one scan of the events feeding a few accumulators (``scan``),
row groups as arrays with local time (``events``), run-wide codes (``codes``), campaign engagement
(``engagement``), the journeys' ground truth (``journeys``), and sorted-array set operations
(``arrays``). The first stage of the report: nothing here knows a figure or a page."""
