"""Running and writing: one shard start to finish (``shard``), where shards execute (``executors``), a
whole run directory (``simulate``), run sets of replicates (``replicates``), and the execution options
built once at the command line's edge and passed down (``options``). Imports every other stage."""
