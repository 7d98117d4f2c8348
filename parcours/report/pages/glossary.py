"""Two reference tables every page ends with: what each integration level switches on in the
simulator, and one glossary of every conversion and rate the page shows, each named for what it counts.

The integration table describes the mechanisms the simulator applies per level (docs/model.md, "What
the integration level changes", gives each one's parameter and source); when the levels become presets
of named capability switches (scenario ``[capabilities]``), each row is one switch that
``parcours explain`` measures.
The conversion names follow the realism check's (/work/calib/CONTRACT.md: R5 online session conversion,
R6 cart abandonment, R16 store-visit conversion, purchase-intent conversion).
"""

from __future__ import annotations

from parcours.report.pages.html import esc, table, tr

LEVELS = ("multichannel", "crosschannel", "omnichannel")

#: (capability, what it does in a journey, multichannel, crosschannel, omnichannel); the mechanisms of
#: docs/model.md "What the integration level changes", in a reader's words.
CAPABILITIES = (
    (
        "shared customer identity",
        "what the company (and the backend) sees of one person across channels",
        "one id per channel; each silo's own account after login",
        "device ids until the customer identifies, then the shared account",
        "the shared account for every customer who ever identified",
    ),
    (
        "recognition",
        "a recognised customer is served with their history (small uplift of buying)",
        "never",
        "intents where the customer logs in",
        "every intent of an account holder",
    ),
    (
        "cart that follows the customer",
        "a cart started on one device and finished on another",
        "lost: some give up",
        "kept if identified in both sessions",
        "kept for account holders",
    ),
    (
        "stock visible online",
        "a customer who researched online checks the store has the product before going",
        "no",
        "this morning's stock",
        "live stock",
    ),
    (
        "order from the store",
        "after an empty shelf, order for delivery at the desk or kiosk",
        "no",
        "yes",
        "yes",
    ),
    (
        "hold from another store",
        "after an empty shelf, staff hold one in another store for collection",
        "no",
        "no",
        "yes",
    ),
    (
        "click & collect",
        "an own-site order picked up in store (staff prepare it; some buy more at pick-up)",
        "no",
        "yes",
        "yes",
    ),
    (
        "returns in any channel",
        "an online purchase returned (or exchanged) in a store",
        "by post",
        "in store for some",
        "in store for some",
    ),
)

#: (name shown, numerator / denominator, where the page shows it)
CONVERSIONS = (
    (
        "Purchase-intent (journey) conversion",
        "purchase journeys that ended with a purchase (kept or returned) / purchase journeys (service "
        "contacts apart), on any channel",
        "headline figures; explain",
    ),
    (
        "Online session conversion",
        "own-site and app sessions (mobile app, mobile web, desktop web, tablet) with a purchase / those "
        "sessions; the rate e-commerce benchmarks publish",
        "headline figures; realism",
    ),
    (
        "Cart abandonment",
        "own-site and app sessions with a cart and no purchase / own-site and app sessions with a cart",
        "headline figures; realism",
    ),
    (
        "Store-visit conversion",
        "store visits with a purchase / store visits, pick-up-only and return-only visits apart",
        "headline figures; realism",
    ),
    (
        "Sessions with an order (per channel, per persona and channel)",
        "sessions with a purchase or kiosk order / sessions, on that channel; mixes the two above on "
        "purpose to compare channels, and is no published rate",
        "funnel and conversion",
    ),
    (
        "Calls given up (call abandonment)",
        "calls hung up before an agent answered / calls queued",
        "headline figures; call centre; explain",
    ),
    (
        "Lost sales",
        "journeys whose outcome is lost to a stock-out, per day (and the value of the products missing)",
        "headline figures; stock-outs; explain",
    ),
    (
        "Distinct identities per person",
        "distinct visible ids / customers with at least one event: 1 when every channel sees one person",
        "explain",
    ),
)


def integration_table() -> str:
    rows = [tr(f"<b>{esc(c[0])}</b>", esc(c[1]), *(esc(v) for v in c[2:])) for c in CAPABILITIES]
    return table(["capability", "what it changes in a journey", *LEVELS], rows)


def glossary_table() -> str:
    rows = [tr(f"<b>{esc(name)}</b>", esc(definition), esc(where)) for name, definition, where in CONVERSIONS]
    return table(["figure", "what it counts (numerator / denominator)", "shown in"], rows)
