"""Continuity checks (``parcours replay --check``): what a mapping expects of the backend's answers.

A request may name expectations on its JSON answer, and facts the replay remembers per customer:

```toml
[requests.cart_add]
remember = { cart = "{product_id}" }            # this customer put this product in a cart
[requests.checkout]
forget = { cart = "*" }                         # after the checks: the cart is empty again
[[requests.checkout.expect]]
kind = "cart_follows_customer"                  # what a violation is counted as
levels = ["omnichannel"]                        # only for runs at these integration levels
field = "products"                              # a dotted path into the JSON answer
includes_remembered = "cart"                    # or: equals = "{account_id}", contains = "{product_id}",
                                                #     not_null = true
if_remembered = { logged_in_on = "{channel}" }  # only once the replay sent such an event ("*": any)
```

Values are templates of the event's fields (``{account_id}`` is the customer's account from the
run's ground truth), compared as text; the reading thread fills them with the request. Only answers
the mapping counts as success are checked, and only they update what is remembered: a failed
request is an error already, not a violation too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import model_validator

from parcours.loadtests import templates
from parcours.output.reader import Run
from parcours.specfile import Spec
from parcours.vocabulary import IntegrationLevel

ANY = "*"
#: Examples kept per kind of violation.
SAMPLES = 3


class ExpectSpec(Spec):
    kind: str
    field: str
    levels: tuple[IntegrationLevel, ...] | None = None
    equals: str | None = None
    contains: str | None = None
    includes_remembered: str | None = None
    not_null: bool = False
    if_remembered: dict[str, str] = {}

    @model_validator(mode="after")
    def _one_test(self) -> ExpectSpec:
        tests = [self.equals, self.contains, self.includes_remembered, True if self.not_null else None]
        if sum(t is not None for t in tests) != 1:
            raise ValueError("exactly one of equals, contains, includes_remembered, not_null = true")
        for text in (self.equals, self.contains, *self.if_remembered.values()):
            if text is not None and text != ANY:
                templates.check_text(text)
        return self


@dataclass(frozen=True)
class Rules:
    """A request's checks, compiled: the templates to fill per event, and what to do with them."""

    expect: tuple[ExpectSpec, ...]
    remember: tuple[tuple[str, str], ...]
    forget: tuple[tuple[str, str], ...]

    def __bool__(self) -> bool:
        return bool(self.expect or self.remember or self.forget)

    def templates(self) -> dict[str, str]:
        """Every template these rules read, by a key the checker looks them up with."""
        out: dict[str, str] = {}
        for i, e in enumerate(self.expect):
            for name, text in (("equals", e.equals), ("contains", e.contains)):
                if text is not None:
                    out[f"{i}.{name}"] = text
            for key, text in e.if_remembered.items():
                if text != ANY:
                    out[f"{i}.if.{key}"] = text
        for verb, pairs in (("remember", self.remember), ("forget", self.forget)):
            for key, text in pairs:
                if text != ANY:
                    out[f"{verb}.{key}"] = text
        return out

    def for_level(self, level: str | None) -> Rules:
        kept = tuple(e for e in self.expect if e.levels is None or level in {v.value for v in e.levels})
        return Rules(kept, self.remember, self.forget)


def run_level(run: Run) -> str:
    """The run's integration level (omnichannel when its manifest does not say)."""
    return run.manifest.scenario.integration or IntegrationLevel.OMNICHANNEL.value


def rules(expect: list[ExpectSpec], remember: dict[str, str], forget: dict[str, str]) -> Rules:
    return Rules(tuple(expect), tuple(remember.items()), tuple(forget.items()))


def lookup(document: Any, path: str) -> tuple[bool, Any]:
    """The value at a dotted path of a JSON document, and whether it was there."""
    for part in path.split("."):
        if isinstance(document, dict) and part in document:
            document = document[part]
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return False, None
    return True, document


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@dataclass
class Violation:
    kind: str
    expected: str
    got: str


class Checker:
    """What one replay process remembers per customer, and the verdict on each answer."""

    def __init__(self) -> None:
        self.memory: dict[int, dict[str, set[str]]] = {}

    def judge(
        self, customer: int, rules: Rules, filled: dict[str, str | None], body: bytes
    ) -> tuple[int, list[Violation]]:
        """Check an answer against the rules, then remember and forget; how many expectations
        applied, and the violations found."""
        memory = self.memory.setdefault(customer, {})
        found: list[Violation] = []
        document: Any = None
        parsed = False
        applied = 0
        for i, e in enumerate(rules.expect):
            if not self._applies(i, e, memory, filled):
                continue
            applied += 1
            if not parsed:
                document, parsed = _parse(body), True
            violation = _test(i, e, memory, filled, document)
            if violation is not None:
                found.append(violation)
        for key, _ in rules.remember:
            value = filled.get(f"remember.{key}")
            if value is not None:
                memory.setdefault(key, set()).add(value)
        for key, text in rules.forget:
            if text == ANY:
                memory.pop(key, None)
            elif (value := filled.get(f"forget.{key}")) is not None:
                memory.get(key, set()).discard(value)
        if not memory:
            del self.memory[customer]
        return applied, found

    @staticmethod
    def _applies(i: int, e: ExpectSpec, memory: dict[str, set[str]], filled: dict[str, str | None]) -> bool:
        if e.includes_remembered is not None and not memory.get(e.includes_remembered):
            return False  # nothing to look for: not a check
        for key, text in e.if_remembered.items():
            held = memory.get(key)
            if not held:
                return False
            if text != ANY and filled.get(f"{i}.if.{key}") not in held:
                return False
        return True


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _test(
    i: int, e: ExpectSpec, memory: dict[str, set[str]], filled: dict[str, str | None], document: Any
) -> Violation | None:
    present, value = lookup(document, e.field)
    got = as_text(value) if present else "(missing)"
    if e.not_null:
        return None if present and value is not None else Violation(e.kind, f"{e.field} not null", got)
    if e.includes_remembered is not None:
        wanted = memory.get(e.includes_remembered, set())
        have = {as_text(v) for v in value} if present and isinstance(value, list) else set()
        missing = sorted(wanted - have)
        return Violation(e.kind, f"{e.field} includes {missing}", got) if missing else None
    expected = filled.get(f"{i}.equals" if e.equals is not None else f"{i}.contains")
    if expected is None:  # the event lacks the field the value needs: nothing to compare with
        return None
    if e.equals is not None:
        return None if present and as_text(value) == expected else Violation(e.kind, expected, got)
    ok = present and isinstance(value, list) and expected in {as_text(v) for v in value}
    return None if ok else Violation(e.kind, f"{e.field} contains {expected}", got)
