"""Erlang B/C against closed forms and a published table value; staffing against its own definition."""

from __future__ import annotations

import math

import pytest

from parcours.simulator.world.erlang import (
    agents_needed,
    agents_needed_a,
    erlang_b,
    erlang_c,
    service_level,
    service_level_a,
)


def test_erlang_b_matches_the_table_value_for_ten_erlangs_on_ten_lines() -> None:
    # Every Erlang B table gives 0.2146 for A = 10 erlangs offered to N = 10 lines.
    assert erlang_b(10, 10.0) == pytest.approx(0.2146, abs=5e-5)


@pytest.mark.parametrize("load", [0.1, 0.5, 0.9])
def test_erlang_c_of_one_agent_is_its_utilisation(load: float) -> None:
    # M/M/1: an arrival waits exactly when the server is busy, with probability rho.
    assert erlang_c(1, load) == pytest.approx(load)


@pytest.mark.parametrize("load", [0.3, 1.0, 1.7])
def test_erlang_c_of_two_agents_matches_the_closed_form(load: float) -> None:
    # M/M/2: P(wait) = 2 rho^2 / (1 + rho) with rho = a / 2, i.e. a^2 / (2 + a).
    assert erlang_c(2, load) == pytest.approx(load**2 / (2 + load))


def test_waiting_is_certain_when_the_agents_cannot_keep_up() -> None:
    assert erlang_c(5, 5.0) == 1.0
    assert service_level(5, 6.0, 300.0, 20.0) == 0.0


def test_service_level_of_one_agent_is_the_mm1_waiting_time_tail() -> None:
    # M/M/1: P(W > t) = rho * exp(-(mu - lambda) t).
    lam, aht = 1 / 600, 300.0
    rho = lam * aht
    expected = 1 - rho * math.exp(-(1 / aht - lam) * 20.0)
    assert service_level(1, rho, aht, 20.0) == pytest.approx(expected)


@pytest.mark.parametrize("calls", [5.0, 60.0, 400.0, 3000.0])
def test_agents_needed_is_the_fewest_that_reach_the_target(calls: float) -> None:
    aht = 300.0
    load = calls * aht / 3600
    n = agents_needed(calls, aht, target=0.8, within_s=20.0)
    assert service_level(n, load, aht, 20.0) >= 0.8
    assert n == 1 or service_level(n - 1, load, aht, 20.0) < 0.8
    assert n > load


def test_no_calls_need_no_agents_and_a_bad_target_is_refused() -> None:
    assert agents_needed(0.0, 300.0) == 0
    with pytest.raises(ValueError):
        agents_needed(10.0, 300.0, target=1.0)


@pytest.mark.parametrize(("agents", "load"), [(2, 1.2), (8, 5.0), (57, 50.0)])
def test_erlang_a_with_endless_patience_is_erlang_c(agents: int, load: float) -> None:
    assert service_level_a(agents, load, 300.0, 1e7, 20.0) == pytest.approx(
        service_level(agents, load, 300.0, 20.0), abs=1e-3
    )


def test_impatient_callers_need_fewer_agents_than_erlang_c_says() -> None:
    # callers who hang up shorten the queue for the others (Garnett, Mandelbaum & Reiman 2002)
    calls, aht = 600.0, 300.0
    c = agents_needed(calls, aht)
    a = agents_needed_a(calls, aht, 90.0)
    assert a < c
    assert service_level_a(a, calls * aht / 3600, aht, 90.0, 20.0) >= 0.8
    assert service_level_a(a - 1, calls * aht / 3600, aht, 90.0, 20.0) < 0.8
