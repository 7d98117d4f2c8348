"""Every shipped persona and scenario validates; every validation rule refuses its known-bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from parcours import personas, scenarios
from parcours.cli.describe import validate_file
from parcours.errors import SpecError
from parcours.specfile import read_toml

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
        for key in ("name", "description", "integration", "capabilities"):
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
        "[responses.sms]\nopen_rate = 0.9",
        "[responses.sms]\nopen_rate = 0.01",
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
LAST_LINE = next(
    line
    for line in (SCENARIO_DIR / "omnichannel.toml").read_text().splitlines()
    if line.startswith('remarks = "One store')
)

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
        LAST_LINE + CAMPAIGN.replace('"push"', '"sms"').replace('"10:00"', '"20:30"'),
        "campaigns[0]",
        "code of practice",
    ),
    (
        "omnichannel",
        LAST_LINE,
        LAST_LINE + CAMPAIGN.replace('"push"', '"sms"') + 'weekdays = ["saturday", "sunday"]\n',
        "campaigns[0]",
        "on Sunday breaks the code of practice",
    ),
    (
        "omnichannel",
        LAST_LINE,
        LAST_LINE + CAMPAIGN + 'day = 1\nweekdays = ["monday"]\n',
        "campaigns[0]",
        "not both",
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
        "stock_cover_days = 0.4",
        "stock_cover_days = -1.0",
        "stores.stock_cover_days",
        "greater than 0",
    ),
    (
        "omnichannel",
        "stock_cover_days = 0.4",
        'stock_cover_days = 0.4\nkiosks = "maybe"',
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
    ("omnichannel", 'monday = "09:00-19:00"', 'monday = "19:00-09:00"', "call_centre", "must come before"),
    ("omnichannel", 'monday = "09:00-19:00"', 'monday = "9 to 7"', "call_centre.week.monday", "pattern"),
    ("omnichannel", ', sunday = "closed" }', " }", "call_centre", "sunday missing"),
    ("omnichannel", "[call_centre]\n", '[call_centre]\nopens = "09:00"\n', "call_centre", "not both"),
    (
        "omnichannel",
        "target_answered = 0.8",
        "target_answered = 1.0",
        "call_centre.target_answered",
        "less than 1",
    ),
    (
        "omnichannel",
        "preparers_per_store = 1",
        "preparers_per_store = 0",
        "stores.preparers_per_store",
        "greater than or equal to 1",
    ),
    ("omnichannel", "[stores]", "[shops]\n[stores]", "shops", "unknown field"),
    (
        "crosschannel",
        "[stores]",
        '[capabilities]\nstock_visibel = "live"\n[stores]',
        "capabilities.stock_visibel",
        "unknown field",
    ),
    (
        "crosschannel",
        "[stores]",
        '[capabilities]\nstock_visible = "hourly"\n[stores]',
        "capabilities.stock_visible",
        "'none', 'daily' or 'live'",
    ),
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


def test_a_marketing_sms_on_a_public_holiday_is_refused(tmp_path: Path) -> None:
    text = (SCENARIO_DIR / "omnichannel.toml").read_text()
    text = text.replace("\ndays = 1\n", "\ndays = 2\nholidays = [2026-11-25]\n")
    text = text.replace(LAST_LINE, LAST_LINE + CAMPAIGN.replace('"push"', '"sms"') + "day = 2\n")
    path = tmp_path / "holiday.toml"
    path.write_text(text)
    with pytest.raises(SpecError) as err:
        validate_file(path)
    assert str(err.value).startswith(f"{path}: campaigns[0].day")
    assert "public holiday" in str(err.value)


def test_a_spec_file_read_again_is_its_current_text_and_the_callers_own_copy(tmp_path: Path) -> None:
    """Parsed TOML is kept by its text (explain's workers read the same specs run after run): a file
    edited between two reads gives its new values, and a caller changing what it got changes nothing
    for the next one."""
    path = tmp_path / "s.toml"
    path.write_text('name = "a"\n[population]\ncustomers = 5\n')
    first = read_toml(path)
    first["population"]["customers"] = 99
    assert read_toml(path) == {"name": "a", "population": {"customers": 5}}
    path.write_text('name = "a"\n[population]\ncustomers = 6\n')
    assert read_toml(path)["population"]["customers"] == 6
    path.write_text('name = "a"\n[population\n')
    with pytest.raises(SpecError, match="not valid TOML"):
        read_toml(path)
