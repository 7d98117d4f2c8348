"""The SimPy day of a shard, where customers contend: the world's state (desks, stock, opening hours),
the contended processes (calls, chats, store visits, click & collect), after-sale, the forecast, Erlang C
and the rosters that staff the desks, and the engine that walks the clock. Imports ``plan`` and ``model``."""
