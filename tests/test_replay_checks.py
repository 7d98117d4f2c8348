"""Continuity checks as a mapping states them: validation of the tables, and the verdict on answers."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from parcours.errors import SpecError
from parcours.loadtests import mapping as mappings
from parcours.loadtests import templates
from parcours.loadtests.checks import Checker, Rules
from parcours.loadtests.feed import Accounts
from parcours.output.reader import Run


def spec(**request: Any) -> mappings.Mapping:
    return mappings.from_dict({"name": "t", "requests": {"checkout": {"path": "/c", **request}}}, "t.toml")


CART = {
    "expect": [
        {"kind": "cart", "levels": ["omnichannel"], "field": "cart.products", "includes_remembered": "cart"}
    ],
    "forget": {"cart": "*"},
}


def rules_of(m: mappings.Mapping, level: str = "omnichannel") -> Rules:
    return m.compile({}, check_level=level)["checkout"].rules


def test_an_expectation_needs_exactly_one_test_and_known_fields() -> None:
    with pytest.raises(SpecError, match="exactly one of equals"):
        spec(expect=[{"kind": "k", "field": "f", "equals": "{product_id}", "not_null": True}])
    with pytest.raises(SpecError, match="exactly one of equals"):
        spec(expect=[{"kind": "k", "field": "f"}])
    with pytest.raises(SpecError, match="unknown field"):
        spec(expect=[{"kind": "k", "field": "f", "equals": "{price}"}])
    with pytest.raises(SpecError, match="unknown field"):
        spec(remember={"x": "{nope}"})
    with pytest.raises(SpecError, match="one answer per event"):
        mappings.from_dict(
            {"name": "b", "batch": {"max_events": 10}, "requests": {"*": {"path": "/e", **CART}}}, "b.toml"
        )
    with pytest.raises(SpecError, match="levels"):
        spec(expect=[{"kind": "k", "field": "f", "not_null": True, "levels": ["siloed"]}])


def test_checks_apply_only_at_their_levels_and_only_with_check() -> None:
    m = spec(**CART)
    assert m.has_checks and "account_id" not in m.fields
    assert len(rules_of(m).expect) == 1
    assert rules_of(m, "crosschannel").expect == ()  # carts need not follow the customer there
    assert not m.compile({})["checkout"].rules  # without --check: nothing is judged or remembered


def answer(**document: Any) -> bytes:
    return json.dumps(document).encode()


def test_the_cart_check_remembers_what_was_added_and_forgets_at_checkout() -> None:
    checker = Checker()
    add = Rules((), (("cart", "{product_id}"),), ())
    remove = Rules((), (), (("cart", "{product_id}"),))
    checkout = rules_of(spec(**CART))
    assert checker.judge(1, checkout, {}, answer(cart={"products": []})) == (0, [])  # nothing remembered yet
    for product in ("3", "5", "7"):
        checker.judge(1, add, {"remember.cart": product}, b"")
    checker.judge(1, remove, {"forget.cart": "7"}, b"")
    checker.judge(2, add, {"remember.cart": "9"}, b"")  # another customer's cart is not this one's
    applied, found = checker.judge(1, checkout, {}, answer(cart={"products": [3, 8]}))
    assert applied == 1 and [(v.kind, v.expected) for v in found] == [
        ("cart", "cart.products includes ['5']")
    ]
    assert checker.judge(1, checkout, {}, answer(cart={"products": []})) == (0, [])  # forgotten at checkout
    assert checker.judge(2, checkout, {}, answer(cart={"products": [9]})) == (1, [])


def test_equals_and_not_null_with_a_condition_on_what_was_remembered() -> None:
    m = spec(
        expect=[
            {
                "kind": "who",
                "field": "account",
                "equals": "{account_id}",
                "if_remembered": {"in": "{channel}"},
            },
            {"kind": "order", "field": "order_id", "not_null": True},
        ]
    )
    rules = rules_of(m)
    checker = Checker()
    filled = {"0.equals": "acct-1", "0.if.in": "mobile_app"}
    assert checker.judge(1, rules, filled, answer(account="acct-9", order_id=4)) == (1, [])  # no login yet
    checker.judge(1, Rules((), (("in", "{channel}"),), ()), {"remember.in": "mobile_app"}, b"")
    applied, found = checker.judge(1, rules, filled, answer(account="acct-9"))
    assert applied == 2 and [(v.kind, v.got) for v in found] == [("who", "acct-9"), ("order", "(missing)")]
    assert checker.judge(1, rules, filled, answer(account="acct-1", order_id=4)) == (2, [])
    assert checker.judge(1, rules, {**filled, "0.equals": None}, b"not json")[1][0].kind == "order"


def test_an_optional_environment_variable_may_be_unset() -> None:
    assert templates.missing_env("{env.TOKEN?}-{env.OTHER}", {}) == ["OTHER"]
    assert templates.text_pieces("t={env.TOKEN?}", "text", {}) == ["t="]
    assert templates.text_pieces("t={env.TOKEN?}", "text", {"TOKEN": "x"}) == ["t=x"]
    mappings.load("reference").check_environment({})  # its token header needs nothing set


def test_a_worker_reads_the_accounts_of_its_own_customers_only(omni_run: Run) -> None:
    customers = omni_run.customers()
    ids = customers.column("customer_id").to_numpy()
    truth = customers.column("account_id").to_pylist()
    shards = customers.column("shard").to_numpy()
    for mine, modulo in (([0], None), (None, (2, 1))):
        got = Accounts(omni_run.path, mine, modulo).of(ids).to_pylist()
        keep = np.isin(shards, mine) if mine is not None else ids % 2 == 1
        assert [g for g, k in zip(got, keep, strict=True) if k] == [
            t for t, k in zip(truth, keep, strict=True) if k
        ]
        assert all(g is None for g, k in zip(got, keep, strict=True) if not k)
    assert Accounts(omni_run.path / "nowhere").of(ids[:3]).to_pylist() == [None] * 3  # no ground truth
