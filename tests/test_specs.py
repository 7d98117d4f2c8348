"""Every shipped persona and scenario validates; every validation rule refuses its known-bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from parcours import personas, scenarios
from parcours.errors import SpecError
from parcours.simulator.describe import validate_file

PERSONA_DIR = Path(personas.__file__).parent
SCENARIO_DIR = Path(scenarios.__file__).parent


@pytest.mark.parametrize("name", personas.builtin_names())
def test_builtin_persona_validates(name: str) -> None:
    assert validate_file(PERSONA_DIR / f"{name}.toml") == ("persona", name)


@pytest.mark.parametrize("name", scenarios.builtin_names())
def test_builtin_scenario_validates(name: str) -> None:
    assert validate_file(SCENARIO_DIR / f"{name}.toml") == ("scenario", name)


def test_the_four_personas_of_the_brief_are_built_in() -> None:
    assert set(personas.builtin_names()) >= {"ultra_connected", "traditional", "young", "office_worker"}
    shares = sum(personas.get_persona(n).population_share for n in personas.builtin_names())
    assert shares == pytest.approx(1.0)


def test_level_scenarios_differ_only_in_integration() -> None:
    dumps = [scenarios.get_scenario(n).model_dump() for n in ("multichannel", "crosschannel", "omnichannel")]
    for d in dumps:
        for key in ("name", "description", "integration"):
            d.pop(key)
    assert dumps[0] == dumps[1] == dumps[2]


# the young persona's purchase remarks line, whole (it cites its sources at length)
YOUNG_PURCHASE_REMARKS = next(
    line
    for line in (Path(personas.__file__).parent / "young.toml").read_text().splitlines()
    if line.startswith('remarks = "buy_on:')
)

# (file, text replaced, replacement, field named in the error, words of the error)
BAD_PERSONAS = [
    (
        "young",
        "lost_cart_friction = 0.3",
        "lost_cart_friction = 1.3",
        "purchase.lost_cart_friction",
        "less than or equal to 1",
    ),
    ("young", "click_collect_rate = 0.45\n", "", "purchase.click_collect_rate", "missing"),
    (
        "young",
        "stockout_order_rate = 0.35",
        'stockout_order_rate = "often"',
        "purchase.stockout_order_rate",
        "valid number",
    ),
    ("young", 'name = "young"', 'name = "young"\nname2 = 3', "name2", "unknown field"),
    (
        "young",
        "purchases_per_year = 4.0",
        'purchases_per_year = "lots"',
        "activity.purchases_per_year",
        "valid number",
    ),
    (
        "young",
        "purchases_per_year = 4.0",
        "purchases_per_year = -1.0",
        "activity.purchases_per_year",
        "greater than 0",
    ),
    (
        "young",
        "mobile_web = 0.50, social = 0.35",
        "mobile_web = 0.60, social = 0.35",
        "channels_weekday.night",
        "sum to 1.1000",
    ),
    (
        "young",
        "hourly_weekday = [0.029",
        "hourly_weekday = [0.129",
        "activity.hourly_weekday",
        "sum to 1.1000",
    ),
    ("young", "hourly_weekday = [0.029, ", "hourly_weekday = [", "activity.hourly_weekday", "at least 24"),
    (
        "young",
        "app_installed = 0.45",
        "app_installed = 1.45",
        "reach.app_installed",
        "less than or equal to 1",
    ),
    (
        "young",
        "mobile_web = 0.50, social = 0.35",
        "teleport = 0.50, social = 0.35",
        "channels_weekday.night",
        "teleport",
    ),
    (
        "young",
        "mobile_web = 0.50, social = 0.35",
        "push = 0.50, social = 0.35",
        "channels_weekday.night",
        "not a channel customers start sessions on",
    ),
    (
        "young",
        "opt_in = { email = 0.50",
        "opt_in = { store = 0.50",
        "reach.opt_in",
        "not an outbound channel",
    ),
    (
        "young",
        "[responses.sms]\nopen_rate = 0.55",
        "[responses.sms]\nopen_rate = 0.05",
        "responses.sms",
        "click_rate cannot exceed open_rate",
    ),
    (
        "young",
        YOUNG_PURCHASE_REMARKS,
        "",
        "purchase.remarks",
        "missing",
    ),
    (
        "young",
        YOUNG_PURCHASE_REMARKS,
        'remarks = ""',
        "purchase.remarks",
        "at least 1 character",
    ),
    ("young", "[patience]", "[patience", "", "not valid TOML"),
]

CAMPAIGN = '\n[[campaigns]]\nname = "push_am"\nchannel = "push"\nat = "10:00"\n'
OUTAGE = '\n[[outages]]\nchannel = "mobile_app"\nbegins = "12:00"\nends = "14:00"\n'
LAST_LINE = 'remarks = "One store per 2,000 customers, a handful of staff; assumption to calibrate."'

BAD_SCENARIOS = [
    (
        "omnichannel",
        LAST_LINE,
        LAST_LINE + CAMPAIGN.replace("push", "store", 1).replace('"push"', '"store"'),
        "campaigns[0].channel",
        "not an outbound channel",
    ),
    (
        "omnichannel",
        LAST_LINE,
        LAST_LINE + CAMPAIGN.replace('"10:00"', '"25:00"'),
        "campaigns[0].at",
        "pattern",
    ),
    (
        "omnichannel",
        LAST_LINE,
        LAST_LINE + CAMPAIGN + "day = 3\n",
        "campaigns[0].day",
        "after the run's last day",
    ),
    (
        "omnichannel",
        LAST_LINE,
        LAST_LINE + CAMPAIGN + 'personas = ["hermit"]\n',
        "campaigns[0].personas",
        "not in the population",
    ),
    (
        "omnichannel",
        LAST_LINE,
        LAST_LINE + OUTAGE.replace('"14:00"', '"11:00"'),
        "outages[0]",
        "must come before ends",
    ),
    (
        "omnichannel",
        LAST_LINE,
        LAST_LINE + OUTAGE + "switch_rate = 2\n",
        "outages[0].switch_rate",
        "less than or equal to 1",
    ),
    (
        "omnichannel",
        LAST_LINE,
        LAST_LINE + "\n[demand]\njourneys_multiplier = 0\n",
        "demand.journeys_multiplier",
        "greater than 0",
    ),
    (
        "omnichannel",
        "mean_stock_units = 2.0",
        "mean_stock_units = -1.0",
        "stores.mean_stock_units",
        "greater than 0",
    ),
    (
        "omnichannel",
        "mean_stock_units = 2.0",
        'mean_stock_units = 2.0\nkiosks = "maybe"',
        "stores.kiosks",
        "valid boolean",
    ),
    (
        "omnichannel",
        'integration = "omnichannel"',
        'integration = "telepathy"',
        "integration",
        "multichannel",
    ),
    ("omnichannel", "customers = 200000", "customers = 0", "population.customers", "greater than 0"),
    ("omnichannel", "customers = 200000", "customers = 10.5", "population.customers", "integer"),
    (
        "omnichannel",
        "# personas = {",
        "personas = { young = 0.5, traditional = 0.4 }\n# x = {",
        "population.personas",
        "sum to 0.9000",
    ),
    (
        "omnichannel",
        "# personas = {",
        "personas = { young = 0.5, nobody = 0.5 }\n# x = {",
        "population.personas.nobody",
        "unknown persona",
    ),
    (
        "omnichannel",
        'timezone = "Europe/Paris"',
        'timezone = "Mars/Olympus"',
        "calendar.timezone",
        "unknown time zone",
    ),
    ("omnichannel", 'opens = "08:00"', 'opens = "21:00"', "call_centre", "must come before closes"),
    ("omnichannel", 'opens = "08:00"', 'opens = "8 o\'clock"', "call_centre.opens", "should match pattern"),
    (
        "omnichannel",
        "staff_per_store = 3",
        "staff_per_store = -3",
        "stores.staff_per_store",
        "greater than 0",
    ),
    ("omnichannel", "[stores]", "[shops]\n[stores]", "shops", "unknown field"),
    ("omnichannel", "days = 1", "days = 0", "calendar.days", "greater than 0"),
]


def _mutated(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text()
    assert old in text, f"fixture text not found in {source.name}: {old!r}"
    path = tmp_path / f"bad_{source.name}"
    path.write_text(text.replace(old, new, 1))
    return path


BAD_FILES = [(PERSONA_DIR, *case) for case in BAD_PERSONAS] + [
    (SCENARIO_DIR, *case) for case in BAD_SCENARIOS
]


@pytest.mark.parametrize(("folder", "base", "old", "new", "field", "words"), BAD_FILES)
def test_a_bad_file_is_refused_naming_file_and_field(
    tmp_path: Path, folder: Path, base: str, old: str, new: str, field: str, words: str
) -> None:
    path = _mutated(tmp_path, folder / f"{base}.toml", old, new)
    with pytest.raises(SpecError) as err:
        validate_file(path)
    message = str(err.value)
    assert message.startswith(f"{path}: {field}"), message
    assert words in message
    assert "\n" not in message


def test_a_file_that_is_neither_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.toml"
    path.write_text('title = "hello"\n')
    with pytest.raises(SpecError, match="neither a persona"):
        validate_file(path)
