"""What every stage of the engine reads: the model's tables (``build``), random streams (``rng``), channel
facts, opening hours, the population and its identities, and the event buffer. Imports no other stage."""
