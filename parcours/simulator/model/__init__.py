"""What every stage of the engine reads: the model built from the specs (``inputs``), random streams
(``rng``), channel facts, opening hours, the population and its identities, and the event buffer.
Imports no other stage."""
