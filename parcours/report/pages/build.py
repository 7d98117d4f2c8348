"""From run directories to one HTML page or one JSON document, written safely."""

from __future__ import annotations

from collections.abc import Sequence

from parcours.output.reader import Run
from parcours.report.columns.events import Vocab
from parcours.report.numbers.summary import RunSummary, label_of, summarise
from parcours.report.pages import facts, glossary
from parcours.report.pages.headline import kpi_table
from parcours.report.pages.html import Section, page, realism_table
from parcours.report.pages.replays import replay_section
from parcours.report.pages.weekpage import costs_section, flows_section, personas_section, weekdays_section
from parcours.report.plots import commerce, queues, usage


def summarise_all(runs: Sequence[Run]) -> list[RunSummary]:
    """Summarise each run under a distinct label: the scenario's name, else the directory's."""
    labels = [label_of(r) for r in runs]
    if len(set(labels)) < len(labels):
        labels = [r.path.name for r in runs]
    if len(set(labels)) < len(labels):
        labels = [f"{i + 1}:{name}" for i, name in enumerate(labels)]
    vocab = Vocab.for_runs(runs)
    return [summarise(r, label, vocab) for r, label in zip(runs, labels, strict=True)]


def sections(runs: Sequence[RunSummary], replicated: str = "") -> list[Section]:
    """The page's sections; ``replicated``: a ready headline table of means over replicates, if any."""
    several = len(runs) > 1
    lead = "The numbers to remember" + (f", each run against {runs[0].label}." if several else ".")
    if replicated:
        lead += (
            " Run sets: each figure in this table is the mean over the replicates with its 95% interval; "
            "everything below (plots, facts, tables, realism) is of one replicate, labelled 'replicate 1'."
        )
    return [
        Section("kpis", "Headline figures", lead, table=replicated or kpi_table(runs)),
        Section(
            "channel-use",
            "Channel use by hour and persona",
            "Sessions started per day in each local hour, per channel (rows) and persona (columns); weekdays "
            "and weekend apart when the run has both. A session is all events sharing a session id; "
            "messages the company sends do not count as sessions.",
            usage.channel_use(runs),
            facts.channel_use(runs),
        ),
        *[s for s in [weekdays_section(runs)] if s is not None],
        flows_section(runs),
        personas_section(runs),
        Section(
            "transitions",
            "From one channel to the next",
            "For each customer's sessions in time order: given a session on the row's channel, the share of "
            "next sessions on each channel. The diagonal is staying on the same channel.",
            usage.transitions(runs),
            facts.transitions(runs),
        ),
        Section(
            "typology",
            "Mono-, multi- and cross-channel customers",
            "A customer's day is mono-channel when it touches one channel, cross-channel when one journey "
            "(one purchase intent) spans several channels, multi-channel when it touches several channels "
            "with each journey on one. From journeys.parquet (ground truth), active customer-days only.",
            usage.typology(runs),
            facts.typology(runs),
        ),
        Section(
            "funnel",
            "Funnel and conversion",
            "Sessions, sessions with a cart, sessions with an order (purchase or kiosk order), pickups of "
            "click & collect orders and returns or exchanges, per day. Four conversions, each named for "
            "what it counts: online session conversion (own-site and app sessions with a purchase, as "
            "e-commerce benchmarks count it), cart abandonment (own-site carts not bought in their "
            "session), store-visit conversion (store visits with a purchase) and purchase-intent (journey) "
            "conversion (purchase journeys that bought, on any channel). Sessions with an order on every "
            "channel mixes them and is no published rate.",
            commerce.funnel(runs),
            facts.funnel(runs),
        ),
        Section(
            "revenue",
            "Revenue and basket",
            "Purchase amounts by the channel they were paid on and by persona, and the distribution of the "
            "amount per purchase.",
            commerce.revenue(runs),
            facts.revenue(runs),
        ),
        Section(
            "stockouts",
            "Stock-outs and what happened instead",
            "Journeys that met at least one stock-out, by outcome: lost to the stock-out, abandoned, or "
            "bought after all (on the channel of the journey's last purchase). Lost value needs a price on "
            "stock_out events (amount_cents); without one it shows n/a.",
            commerce.stockouts(runs),
            facts.stockouts(runs),
        ),
        Section(
            "service",
            "Call centre and chat",
            "Calls and chats by local hour of arrival (the answer or hang-up time minus the wait), the share "
            "given up before an agent answered, and waiting time percentiles, per mean day.",
            queues.queues(runs),
            facts.service(runs),
        ),
        Section(
            "stores",
            "Store traffic",
            "Store entries by hour and persona, customers inside all stores at each quarter-hour, and waits "
            "for a member of staff, helped or given up (assist_abandoned over assistance requests).",
            queues.stores(runs),
            facts.stores(runs),
        ),
        costs_section(runs),
        Section(
            "integration",
            "What each integration level changes",
            "The mechanisms the simulator switches on per integration level (the scenario's "
            "`integration`); every difference between levels in this page comes from these, not from a "
            "multiplier. `parcours explain FROM TO` measures what each one contributes.",
            table=glossary.integration_table(),
        ),
        Section(
            "glossary",
            "Glossary: every conversion and rate on this page",
            "Each rate named for what it counts; conversions of different kinds are never mixed under one "
            "name.",
            table=glossary.glossary_table(),
        ),
        Section(
            "realism",
            "Realism: the run against published figures",
            "Each row sets a figure of the run, computed as its source defines it, next to the published "
            "figure, its source, period and population (the same findings as `parcours realism`). Outside: "
            "the figure's 95% interval lies wholly outside the published range; too few to check: the "
            "interval is wider than the range; not checkable on this run: the run is too short, at another "
            "integration level, or lacks what the figure counts. Shown figures and inputs are not checked.",
            table=realism_table(runs),
        ),
        *replay_section(runs),
    ]


def html_report(runs: Sequence[RunSummary], replicated: str = "") -> str:
    title = (
        ("parcours compare: " + " vs ".join(r.label.removesuffix(", replicate 1") for r in runs))
        if len(runs) > 1
        else f"parcours report: {runs[0].label.removesuffix(', replicate 1')}"
    )
    return page(title, runs, sections(runs, replicated))
