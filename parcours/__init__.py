"""parcours: customers moving between a company's sales and service channels, simulated and replayed."""

__version__ = "0.1.0"
