"""A shard's days planned in bulk, with NumPy and no clock: purchase intents and their phases
(``intents``), campaign sends and responses (``campaigns``), carts and logins (``carts``), sessions and
the channel each takes at its moment (``day``, ``moments``, ``sessions``), then events (``expand``).
Imports ``model`` only."""
