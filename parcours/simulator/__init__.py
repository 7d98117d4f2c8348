"""The engine: a scenario's customers turned into a run directory, in three stages and their basis.

- ``model/``: what every stage reads: the model's tables built from the specs, counter-based random
  streams, channel facts, opening hours, the population and its identities, the event buffer.
- ``plan/``: a shard's days planned in bulk with NumPy (intents, campaigns, carts, sessions) and turned
  into events (``expand``), with no clock and no other customer in sight.
- ``world/``: the SimPy day, where customers contend: call-centre agents, store staff, stock, click &
  collect, after-sale; the forecast and rosters that staff it.
- ``run/``: running and writing: one shard start to finish, executors (here, processes, Dask), a whole
  run directory, run sets of replicates, and the execution options they share.

A stage imports only the stages above it in this list (``run`` -> ``world`` -> ``plan`` -> ``model``).
"""
