"""The event contract: column names, Arrow types and the schema version, defined once.

Readers refuse a schema version they do not know; adding a column is allowed, renaming or retyping
one needs ``SCHEMA_VERSION`` bumped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa

from parcours.output.arrays import column, strings
from parcours.vocabulary import Channel, EventType, Outcome

SCHEMA_VERSION = 1
VERSION_KEY = b"parcours.schema_version"

#: Dictionary-encoded string columns: int8 codes into a small vocabulary.
DICT = pa.dictionary(pa.int8(), pa.string())
TIMESTAMP = pa.timestamp("ms", tz="UTC")

#: Null stands for "no value" in these columns; the builders take -1 for it.
NULLABLE_INTS = ("product_id", "store_id", "campaign_id", "quantity", "amount_cents")

_EVENT_FIELDS = [
    pa.field("event_id", pa.int64(), nullable=False),
    pa.field("seq", pa.int64(), nullable=False),
    pa.field("ts", TIMESTAMP, nullable=False),
    pa.field("customer_id", pa.int64(), nullable=False),
    pa.field("visible_id", pa.string(), nullable=False),
    pa.field("persona", DICT, nullable=False),
    pa.field("channel", DICT, nullable=False),
    pa.field("event_type", DICT, nullable=False),
    pa.field("session_id", pa.int64(), nullable=False),
    pa.field("journey_id", pa.int64(), nullable=False),
    pa.field("product_id", pa.int64()),
    pa.field("store_id", pa.int32()),
    pa.field("campaign_id", pa.int32()),
    pa.field("quantity", pa.int32()),
    pa.field("amount_cents", pa.int64()),
    pa.field("wait_s", pa.float32()),
    pa.field("shard", pa.int32(), nullable=False),
]


def _versioned(fields: list[pa.Field]) -> pa.Schema:
    return pa.schema(fields, metadata={VERSION_KEY: str(SCHEMA_VERSION).encode()})


EVENT_SCHEMA = _versioned(_EVENT_FIELDS)

CUSTOMER_SCHEMA = _versioned(
    [
        pa.field("customer_id", pa.int64(), nullable=False),
        pa.field("persona", DICT, nullable=False),
        pa.field("home_store_id", pa.int32(), nullable=False),
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("channels", pa.list_(pa.string()), nullable=False),
        pa.field("opt_ins", pa.list_(pa.string()), nullable=False),
        pa.field("identities", pa.list_(pa.string()), nullable=False),
        pa.field("shard", pa.int32(), nullable=False),
    ]
)

JOURNEY_SCHEMA = _versioned(
    [
        pa.field("journey_id", pa.int64(), nullable=False),
        pa.field("customer_id", pa.int64(), nullable=False),
        pa.field("persona", DICT, nullable=False),
        pa.field("start", TIMESTAMP, nullable=False),
        pa.field("end", TIMESTAMP, nullable=False),
        pa.field("channels", pa.list_(pa.string()), nullable=False),
        pa.field("outcome", DICT, nullable=False),
        pa.field("revenue_cents", pa.int64(), nullable=False),
        pa.field("shard", pa.int32(), nullable=False),
    ]
)

CHANNEL_VALUES = strings([c.value for c in Channel])
EVENT_TYPE_VALUES = strings([e.value for e in EventType])
OUTCOME_VALUES = strings([o.value for o in Outcome])

CHANNEL_CODE = {c: i for i, c in enumerate(Channel)}
EVENT_CODE = {e: i for i, e in enumerate(EventType)}
OUTCOME_CODE = {o: i for i, o in enumerate(Outcome)}


def dictionary(codes: np.ndarray, values: pa.Array) -> pa.DictionaryArray:
    """A dictionary column from int8 codes into ``values``, without copying the codes."""
    return pa.DictionaryArray.from_arrays(column(codes.astype(np.int8, copy=False)), values)


def nullable(values: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    """An Arrow column where -1 (or NaN for floats) means null."""
    if values.dtype.kind == "f":
        return column(values, arrow_type, mask=np.isnan(values))
    return column(values, arrow_type, mask=values < 0)


def event_batch(columns: Mapping[str, np.ndarray | pa.Array], personas: Sequence[str]) -> pa.RecordBatch:
    """Build an event batch from NumPy columns.

    ``persona``, ``channel`` and ``event_type`` come as int8 codes (into ``personas``, ``Channel`` and
    ``EventType`` order); ``ts`` as int64 milliseconds since the epoch; nullable ints as -1 for null;
    ``wait_s`` as NaN for null; ``visible_id`` as an Arrow string array.
    """
    persona_values = strings(list(personas))
    arrays: list[pa.Array] = []
    for field in EVENT_SCHEMA:
        col = columns[field.name]
        if isinstance(col, pa.Array | pa.ChunkedArray):
            arrays.append(col)
        elif field.name == "persona":
            arrays.append(dictionary(col, persona_values))
        elif field.name == "channel":
            arrays.append(dictionary(col, CHANNEL_VALUES))
        elif field.name == "event_type":
            arrays.append(dictionary(col, EVENT_TYPE_VALUES))
        elif field.name == "ts":
            arrays.append(column(col.astype(np.int64, copy=False), TIMESTAMP))
        elif field.nullable:
            arrays.append(nullable(col, field.type))
        else:
            arrays.append(column(col, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=EVENT_SCHEMA)


def schema_version(metadata: Mapping[bytes, bytes] | None) -> int | None:
    """The schema version stored in Parquet or Arrow metadata, or None when there is none."""
    if not metadata or VERSION_KEY not in metadata:
        return None
    try:
        return int(metadata[VERSION_KEY])
    except ValueError:
        return None
