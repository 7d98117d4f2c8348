"""The SimPy world, customer behaviour, the run loop and the CLI."""
