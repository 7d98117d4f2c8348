"""The identity rules' fast forms give what the rules as written give, on random input."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest

from parcours.scenarios.capabilities import Identity
from parcours.simulator.model.identity import (
    identity_code,
    identity_code_reference,
    linked_on,
    linked_on_reference,
)
from parcours.vocabulary import Channel


@pytest.mark.parametrize("identity", get_args(Identity))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tabulated_rules_match_the_rules(identity: Identity, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 5_000
    channel = rng.integers(0, len(Channel), n).astype(np.int8)
    logged_in = rng.random(n) < 0.4
    has_account = rng.random(n) < 0.6
    code = identity_code(identity, channel, logged_in, has_account)
    expected = identity_code_reference(identity, channel, logged_in, has_account)
    assert code.dtype == expected.dtype == np.int16
    assert np.array_equal(code, expected)
    linked = linked_on(identity, channel, logged_in, has_account)
    assert linked.dtype == bool
    assert np.array_equal(linked, linked_on_reference(identity, channel, logged_in, has_account))
    # every combination occurs, so the table is checked whole; and the rules do depend on their inputs
    assert len({(c, li, ha) for c, li, ha in zip(channel, logged_in, has_account, strict=True)}) == 4 * len(
        Channel
    )
    assert len(np.unique(code)) > len(Channel) // 2
