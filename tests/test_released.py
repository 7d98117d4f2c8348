"""Who an event belongs to is looked up from its journey's row when it is written (run/released.py:
Owners): checked against the lookups it replaced (the journey's customer row, then that customer's id and
persona), for journey ids that hold their customer's id and for ids that do not."""

from __future__ import annotations

import numpy as np
import pytest

from parcours.simulator.run.released import JOURNEY_KEY_SHIFT, Owners


@pytest.mark.parametrize("keyed", [True, False])
def test_an_events_customer_persona_and_journey_are_its_journeys(keyed: bool) -> None:
    rng = np.random.default_rng(5)
    customer_id = np.sort(rng.choice(10**9, 300, replace=False)).astype(np.int64)
    persona = rng.integers(0, 6, 300).astype(np.int8)
    journey_customer = rng.integers(0, 300, 2000).astype(np.int64)
    slot = rng.integers(0, 2**JOURNEY_KEY_SHIFT, 2000).astype(np.int64)
    high = customer_id[journey_customer] if keyed else rng.integers(0, 10**9, 2000)
    journey_id = (high << JOURNEY_KEY_SHIFT) | slot
    owners = Owners.of_journeys(journey_id, journey_customer, customer_id, persona)
    assert (owners.customer_id is None) == keyed  # ids that hold their customer's take no lookup
    jrow = rng.integers(0, 2000, 5000)
    customer, their_persona, journey = owners.of(jrow)
    crow = journey_customer[jrow]
    assert customer.tolist() == customer_id[crow].tolist()
    assert their_persona.tolist() == persona[crow].tolist()
    assert journey.tolist() == journey_id[jrow].tolist()
    assert customer.dtype == np.int64 and their_persona.dtype == np.int8
