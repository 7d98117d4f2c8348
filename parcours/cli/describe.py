"""Personas and scenarios in words and numbers, and checking a spec file without running it."""

from __future__ import annotations

from pathlib import Path

from parcours.errors import SpecError
from parcours.personas import DayPart, Persona, load_persona
from parcours.scenarios import get_scenario, load_scenario
from parcours.scenarios.capabilities import PRESETS
from parcours.scenarios.spec import OpeningHours, Scenario
from parcours.simulator.model.inputs import build_model
from parcours.specfile import read_toml

PART_HOURS = {
    DayPart.NIGHT: "00-06",
    DayPart.MORNING: "06-09",
    DayPart.DAYTIME: "09-12,14-17",
    DayPart.LUNCH: "12-14",
    DayPart.COMMUTE: "17-19",
    DayPart.EVENING: "19-24",
}


def _top(shares: dict[str, float], n: int = 3) -> str:
    best = sorted(shares.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{k} {v:.0%}" for k, v in best)


def _peak_hours(hourly: list[float]) -> str:
    best = sorted(range(24), key=lambda h: -hourly[h])[:3]
    return ", ".join(f"{h:02d}h" for h in sorted(best))


def describe_persona(p: Persona) -> str:
    a, r, b, w = p.activity, p.reach, p.purchase, p.patience
    lines = [
        f"{p.name}: {p.description}",
        f"  share of customers    {p.population_share:.0%}  ({p.remarks})",
        f"  purchases per year    {a.purchases_per_year:g} "
        f"({a.purchases_per_year / b.propensity:.1f} intents, "
        f"weekend x{a.weekend_factor:g}); research {a.research_sessions:g} sessions over "
        f"~{a.research_days:g} days",
        f"  buys                  store {b.buy_on.store:.0%}, own site {b.buy_on.own_site:.0%}, "
        f"marketplace {b.buy_on.marketplace:.0%}, phone {b.buy_on.phone:.0%}",
        f"  busiest hours         weekday {_peak_hours(a.hourly_weekday)}; "
        f"weekend {_peak_hours(a.hourly_weekend)}",
        "  channels by time of day (weekday):",
    ]
    for part in DayPart:
        shares = {str(k): v for k, v in p.channel_mix(False).shares(part).items()}
        lines.append(f"    {part.value:<8} {PART_HOURS[part]:<12} {_top(shares)}")
    if p.channels_weekend is not None:
        shares = {str(k): v for k, v in p.channel_mix(True).shares(DayPart.DAYTIME).items()}
        lines.append(f"    weekend daytime       {_top(shares)}")
    opt = ", ".join(f"{k} {v:.0%}" for k, v in r.opt_in.items())
    lines += [
        f"  reach                 app installed {r.app_installed:.0%}, account {r.has_account:.0%}, "
        f"logs in {r.login_rate:.0%}; opt-in {opt}",
        f"  buys                  {b.propensity:.0%} of journeys, basket ~{b.mean_basket_eur:g} EUR, "
        f"{b.mean_items:g} items, returns {b.return_rate:.0%}",
        f"  patience              waits ~{w.mean_wait_s:g} s for a human, calls back {w.callback_rate:.0%}, "
        f"{w.service_contacts_per_day:g} service contacts a day",
    ]
    for channel, resp in p.responses.items():
        respond_on = _top({str(k): v for k, v in resp.respond_on.items()}, 2)
        lines.append(
            f"  answers {channel.value:<13} opens {resp.open_rate:.0%}, clicks {resp.click_rate:.0%}, "
            f"after ~{resp.mean_delay_minutes:g} min, on {respond_on}"
        )
    if p.multitasking:
        lines.append(f"  uses two channels at once on {p.multitasking:.0%} of store visits")
    return "\n".join(lines)


def describe_scenario(name: str) -> str:
    s = get_scenario(name)
    model = build_model(s, name)
    mix = ", ".join(f"{n} {share:.0%}" for n, share in zip(model.names, model.shares, strict=True))
    cc, st, d = s.call_centre, s.stores, s.demand
    lines = [
        f"{s.name}: {s.description}",
        f"  integration   {s.integration.value}: capabilities in force (* differs from the preset)",
        *_capabilities(s),
        f"  population    {s.population.customers:,} customers, seed {s.population.seed}; {mix}",
        f"  calendar      {s.calendar.days} day(s) from {s.calendar.start} ({s.calendar.timezone})",
        f"  call centre   {_hours(cc)}, agents rostered by the hour for {cc.target_answered:.0%} "
        f"answered within {cc.target_within_s:g} s (Erlang C), serving {cc.serves_customers:,} customers",
        f"  stores        {_hours(st)}, one per {st.customers_per_store:,} customers, "
        f"staff rostered for help within {st.assist_target_within_s:g} s, "
        f"{st.preparers_per_store} click & collect preparer(s), {st.products:,} products, "
        f"{st.stock_cover_days:g} days of stock + {st.shelf_minimum_units} on the shelf"
        + (", kiosks" if st.kiosks else ""),
    ]
    if (d.journeys_multiplier, d.contacts_multiplier, d.propensity_multiplier) != (1.0, 1.0, 1.0):
        lines.append(
            f"  demand        journeys x{d.journeys_multiplier:g}, "
            f"service contacts x{d.contacts_multiplier:g}, propensity to buy x{d.propensity_multiplier:g}"
        )
    for c in s.campaigns:
        who = ", ".join(c.personas) if c.personas else "every persona"
        when = f"every {', '.join(c.weekdays)}" if c.weekdays else f"on day {c.day or 1}"
        lines.append(f"  campaign      {c.name}: {c.channel.value} {when} at {c.at} to {who}")
    for o in s.outages:
        lines.append(f"  outage        {o.channel.value} down on day {o.day} from {o.begins} to {o.ends}")
    return "\n".join(lines)


def _capabilities(s: Scenario) -> list[str]:
    preset = PRESETS[s.integration]
    lines = []
    for name, value in s.capabilities.model_dump().items():
        shown = ("yes" if value else "no") if isinstance(value, bool) else value
        mark = "*" if value != getattr(preset, name) else " "
        lines.append(f"    {name:<17} {shown:<12}{mark}".rstrip())
    return lines


def validate_file(path: Path) -> tuple[str, str]:
    """Validate a persona or scenario file (told apart by its keys); returns (kind, name)."""
    data = read_toml(path)
    if "integration" in data or "population" in data:
        scenario = load_scenario(path)
        build_model(scenario, str(path))
        return "scenario", scenario.name
    if "activity" in data or "channels_weekday" in data:
        return "persona", load_persona(path).name
    raise SpecError(path, "", "neither a persona (no [activity]) nor a scenario (no [population])")


def _hours(hours: OpeningHours) -> str:
    if hours.week is None:
        return f"{hours.opens}-{hours.closes}"
    return ", ".join(f"{day[:3]} {h}" for day, h in hours.week.items())
