"""Dictionary columns turned into small integer codes that mean the same thing in every batch.

Parquet parts may each carry their own dictionary (a persona list per shard, say); the figures need
one numbering for the whole run, fixed before the first batch so that count arrays keep their shape.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from parcours.errors import RunDirError
from parcours.vocabulary import BuiltinPersona, Channel, EventType


class Codes:
    """A fixed list of names; ``encode`` maps a dictionary column onto positions in it."""

    def __init__(self, what: str, names: Iterable[str]) -> None:
        self.what = what
        self.names: list[str] = list(names)
        self._index = {name: i for i, name in enumerate(self.names)}

    def code(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise RunDirError(
                f"unknown {self.what} {name!r} in the run (this parcours knows {self.names})"
            ) from None

    def encode(self, column: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """int16 codes for a string or dictionary column, chunk by chunk."""
        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        parts = [self._encode_chunk(chunk) for chunk in chunks]
        return np.concatenate(parts) if parts else np.zeros(0, np.int16)

    def _encode_chunk(self, chunk: pa.Array) -> np.ndarray:
        if not isinstance(chunk, pa.DictionaryArray):
            chunk = chunk.dictionary_encode()
        # A dictionary may list values no row uses (every persona of the scenario, say): only a
        # value that a row refers to has to be known.
        names = [str(v) for v in chunk.dictionary.to_pylist()]
        lookup = np.array([self._index.get(n, -1) for n in names], np.int16)
        indices = chunk.indices.to_numpy(zero_copy_only=False)
        codes = lookup[indices] if len(lookup) else np.zeros(len(indices), np.int16)
        if (codes < 0).any():
            self.code(names[int(indices[np.argmax(codes < 0)])])  # raises, naming the value
        return np.asarray(codes)

    def __len__(self) -> int:
        return len(self.names)


def channel_codes() -> Codes:
    return Codes("channel", (c.value for c in Channel))


def event_codes() -> Codes:
    return Codes("event type", (e.value for e in EventType))


def persona_codes(found: Iterable[str]) -> Codes:
    """Built-in personas first, in their usual order, then any others found in the run, sorted."""
    found = set(found)
    builtin = [p.value for p in BuiltinPersona if p.value in found]
    return Codes("persona", builtin + sorted(found - set(builtin)))
