"""Deterministic demo conversations for the Attention sandbox.

Everything here is a pure function of a seed, a conversation count and an index, so two
sandboxes built with the same arguments serve byte-identical data, and any conversation
can be built on its own: `generate_conversation(99_999)` does not build the 99,999 before
it. That is what lets the sandbox serve 100,000 conversations lazily.

Each conversation comes in three layers:

* the *outline* (`conversation_outline`): id, `createdAt`, owner and review state. It is
  cheap, and it is all the list endpoint needs to filter, order and count.
* the *body* (`generate_conversation`): the full resource in the shape of
  `tests/fixtures/attention/confirm-response.json`, built only when it is served. Its
  extracted items carry `evidence` (quotes with speaker and times, see `transcript.py`),
  drawn after everything else so the rest of the body is what it was without them.
* the *detailed transcript* (`generate_transcript`): the words every evidence quote is
  taken from, far dearer than the body, built only when `detailedTranscript=true` asks.

`createdAt` is strictly increasing with the index, so ordering by `(createdAt, id)` is
ordering by index and date filters can bisect instead of scanning.
"""

from __future__ import annotations

import hashlib
import random
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from attention_review.demo import (
    DEMO_ATTENTION_USERS,
    DEMO_DOMAIN,
    DEMO_TEAMS,
    DemoAttentionUser,
    stable_uuid,
)

from .transcript import attach_evidence, build_transcript

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

DEFAULT_SEED = 20261124
DEFAULT_CONVERSATION_COUNT = 60

# Fixed, so the data does not drift with the wall clock: the newest call is just before it.
ANCHOR = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
HISTORY = timedelta(days=90)

INTERNAL_DOMAIN = DEMO_DOMAIN
_stable_uuid = stable_uuid
_T = TypeVar("_T")


class _DemoRandom(random.Random):
    """`random.Random` whose `randint`, `randrange`, `choice` and `sample` draw exactly
    what the standard ones draw (`getrandbits` of the bit length, again while out of
    range, as `Random._randbelow` does) with fewer calls in between: the demo makes
    dozens of these draws per call, and building a call is on the path of serving 100k
    of them (this pays for the items' evidence). Anything unusual (an empty range, a
    negative step, a large population) goes to the standard method."""

    def randint(self, a: int, b: int) -> int:
        n = b - a + 1
        if n <= 0:
            return super().randint(a, b)
        getrandbits = self.getrandbits
        bits = n.bit_length()
        drawn = getrandbits(bits)
        while drawn >= n:
            drawn = getrandbits(bits)
        return a + drawn

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        low, n = (0, start) if stop is None else (start, stop - start)
        if step != 1 and stop is not None and step > 0:
            n = (n + step - 1) // step
        elif step != 1:
            return super().randrange(start, stop, step)
        if n <= 0:
            return super().randrange(start, stop, step)
        getrandbits = self.getrandbits
        bits = n.bit_length()
        drawn = getrandbits(bits)
        while drawn >= n:
            drawn = getrandbits(bits)
        return low + step * drawn

    def choice(self, seq: SupportsLenAndGetItem[_T]) -> _T:
        n = len(seq)
        if not n:
            return super().choice(seq)
        getrandbits = self.getrandbits
        bits = n.bit_length()
        drawn = getrandbits(bits)
        while drawn >= n:
            drawn = getrandbits(bits)
        return seq[drawn]

    def sample(
        self, population: Sequence[_T], k: int, *, counts: Iterable[int] | None = None
    ) -> list[_T]:
        # The standard method keeps a pool and swaps the last unpicked item into each
        # vacancy whenever the population is this small (21 or fewer, whatever `k`).
        n = len(population)
        if counts is not None or type(population) not in _SEQUENCES or not 0 <= k <= n <= 21:
            return super().sample(population, k, counts=counts)
        getrandbits = self.getrandbits
        pool = list(population)
        picked = []
        for left in range(n, n - k, -1):
            bits = left.bit_length()
            drawn = getrandbits(bits)
            while drawn >= left:
                drawn = getrandbits(bits)
            picked.append(pool[drawn])
            pool[drawn] = pool[left - 1]
        return picked


_SEQUENCES = (list, tuple, range)


def _utc_text(epoch_seconds: int) -> str:
    """`format_datetime` of a whole number of epoch seconds, without building a datetime."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))


def _random_uuid(rng: random.Random) -> str:
    """A version-4-shaped UUID drawn from `rng`: deterministic, and much cheaper than
    uuid5 for the dozens of per-call ids (this is on the path of serving 100k calls)."""
    digits = f"{rng.getrandbits(128):032x}"
    variant = "89ab"[int(digits[16], 16) & 3]
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


# Owner shares per 20 calls, in the order of DEMO_ATTENTION_USERS: rep 35%, rep2 30%,
# the reps without accounts 35% together.
_OWNER_SHARES = (7, 6, 4, 3)


class ReviewState(StrEnum):
    """What a demo conversation looks like to the review queue."""

    AWAITING = "awaiting"  # analysed, nothing confirmed yet
    CONFIRMED = "confirmed"  # every item confirmed as extracted
    PARTIAL = "partial"  # some items confirmed, or confirmed with another value
    INTERNAL = "internal"  # isInternal: an internal meeting
    EMPTY = "empty"  # isEmpty: nobody spoke, nothing extracted
    NOT_ANALYZED = "not_analyzed"  # transcript still processing, no intelligence yet


# Exact shares per 100 conversations; shuffled per seed (see `_state_table`).
_STATE_SHARES = {
    ReviewState.CONFIRMED: 15,
    ReviewState.PARTIAL: 10,
    ReviewState.INTERNAL: 5,
    ReviewState.EMPTY: 3,
    ReviewState.NOT_ANALYZED: 5,
}


@lru_cache(maxsize=16)
def _owner_table(seed: int) -> tuple[int, ...]:
    """20 owner slots with the exact shares above, shuffled by the seed (like states)."""
    table = [owner for owner, share in enumerate(_OWNER_SHARES) for _ in range(share)]
    random.Random(f"{seed}:owners").shuffle(table)
    return tuple(table)


@lru_cache(maxsize=16)
def _state_table(seed: int) -> tuple[ReviewState, ...]:
    """100 states with the exact shares above, shuffled by the seed.

    Conversation `i` takes slot `i % 100`, so every 100 consecutive conversations have
    exactly the documented mix, and a small demo (60) still samples it without
    replacement instead of risking, say, no confirmed conversation at all.
    """
    table = [state for state, share in _STATE_SHARES.items() for _ in range(share)]
    table += [ReviewState.AWAITING] * (100 - len(table))
    random.Random(f"{seed}:states").shuffle(table)
    return tuple(table)


def format_datetime(value: datetime) -> str:
    """ISO-8601 in UTC with a `Z`, as in the documented examples."""
    return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _time_grid(count: int) -> tuple[int, int]:
    """`(start epoch seconds, spacing in seconds)` of `count` calls over the history.

    At least one second apart, so `createdAt` strictly increases with the index even for
    millions of conversations (the history simply starts earlier then).
    """
    count = max(count, 1)
    span = max(int(HISTORY.total_seconds()), count)
    start = int(ANCHOR.timestamp()) - span
    return start, span // count


@dataclass(frozen=True, slots=True)
class ConversationOutline:
    """The cheap part of a conversation: enough to filter, order and count it."""

    index: int
    id: str
    created_ts: int  # epoch seconds of createdAt
    owner: int  # index into DEMO_ATTENTION_USERS
    state: ReviewState

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self.created_ts, UTC)

    @property
    def user(self) -> DemoAttentionUser:
        return DEMO_ATTENTION_USERS[self.owner]

    @property
    def analyzed(self) -> bool:
        return self.state is not ReviewState.NOT_ANALYZED

    @property
    def internal(self) -> bool:
        return self.state is ReviewState.INTERNAL


def conversation_outline(
    index: int, seed: int = DEFAULT_SEED, count: int = DEFAULT_CONVERSATION_COUNT
) -> ConversationOutline:
    """The outline of conversation `index` of `count`, without building its body."""
    return _outline_and_rng(index, seed, count)[0]


def _outline_and_rng(
    index: int, seed: int, count: int
) -> tuple[ConversationOutline, random.Random]:
    """The outline, and the conversation's RNG positioned after it for the body to use.

    One RNG per conversation, seeded from `(seed, index)` packed into an int: seeding
    costs a measurable share of building a conversation, and an int seeds fastest.
    """
    if not 0 <= index < max(count, 1):
        raise IndexError(f"conversation index {index} is outside 0..{count - 1}")
    rng = _DemoRandom((seed << 48) | index)
    start, spacing = _time_grid(count)
    # Jitter stays below the spacing, so the next call is always strictly later.
    created_ts = start + index * spacing + rng.randrange(max(spacing * 3 // 4, 1))
    outline = ConversationOutline(
        index=index,
        id=_random_uuid(rng),
        created_ts=created_ts,
        # Every 20 calls cycle through the owner slots in a per-block order, so the owner
        # is not tied to the state slot (`index % 100`) and shares stay exact.
        owner=_owner_table(seed)[(index + index // 20 * 7) % 20],
        state=_state_table(seed)[index % 100],
    )
    return outline, rng


# --- Reference data -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Company:
    name: str
    domain: str
    industry: str


_COMPANIES = [
    _Company("Northwind Logistics", "northwind-logistics.example", "logistics"),
    _Company("Contoso Health", "contoso-health.example", "healthcare"),
    _Company("Fabrikam Manufacturing", "fabrikam.example", "manufacturing"),
    _Company("Tailspin Travel", "tailspin-travel.example", "travel"),
    _Company("Wide World Importers", "wideworldimporters.example", "distribution"),
    _Company("Adventure Works Cycles", "adventure-works.example", "retail"),
    _Company("Blue Yonder Airlines", "blueyonder-air.example", "aviation"),
    _Company("Coho Vineyard", "coho-vineyard.example", "food & beverage"),
    _Company("Litware Software", "litware.example", "software"),
    _Company("Proseware Analytics", "proseware.example", "software"),
    _Company("Margie's Travel", "margies-travel.example", "travel"),
    _Company("Lucerne Publishing", "lucerne-publishing.example", "media"),
    _Company("Alpine Ski House", "alpineskihouse.example", "hospitality"),
    _Company("Trey Research", "treyresearch.example", "biotech"),
    _Company("Woodgrove Bank", "woodgrovebank.example", "financial services"),
    _Company("Graphic Design Institute", "graphicdesigninstitute.example", "education"),
    _Company("Fourth Coffee", "fourthcoffee.example", "food & beverage"),
    _Company("Humongous Insurance", "humongous-insurance.example", "insurance"),
    _Company("Relecloud", "relecloud.example", "cloud services"),
    _Company("VanArsdel Ltd", "vanarsdel.example", "consumer goods"),
    _Company("Bellows College", "bellows.example", "education"),
    _Company("Southridge Video", "southridgevideo.example", "media"),
    _Company("Datum Corporation", "datum-corp.example", "consulting"),
    _Company("City Power & Light", "citypowerlight.example", "utilities"),
]

_FIRST_NAMES = [
    "Priya", "Marcus", "Elena", "Tomás", "Aisha", "Hiroshi", "Grace", "Oliver", "Fatima",
    "Daniel", "Sofia", "Kwame", "Ingrid", "Mateo", "Chloe", "Ravi", "Hannah", "Nikolai",
    "Amara", "Lucas", "Mei", "Gabriel", "Zara", "Henrik",
]  # fmt: skip
_LAST_NAMES = [
    "Raman", "Bennett", "Kowalski", "Alvarez", "Okafor", "Tanaka", "Lindqvist", "Murphy",
    "Haddad", "Schneider", "Rossi", "Mensah", "Johansson", "Fernández", "Dubois", "Iyer",
    "Fischer", "Petrov", "Nwosu", "Carter", "Chen", "Moreau", "Qureshi", "Larsen",
]  # fmt: skip
_CUSTOMER_TITLES = [
    "VP of Operations", "Director of Sales Operations", "CFO", "Head of IT Security",
    "RevOps Manager", "Procurement Lead", "CTO", "VP of Sales", "Enablement Manager",
    "Senior Solutions Architect", "Chief Revenue Officer", "IT Director",
]  # fmt: skip
# Internal colleagues who join calls but own none (no Attention user in the demo).
_COLLEAGUES = [
    ("Jordan Blake", "jordan.blake"),
    ("Casey Nguyen", "casey.nguyen"),
    ("Avery Chen", "avery.chen"),
    ("Morgan Lee", "morgan.lee"),
]

_COMPETITORS = ["Gong", "Chorus", "Clari Copilot", "Avoma", "Fireflies", "Salesloft", "Outreach"]
_STAGES = [
    "Prospecting", "Discovery", "Evaluation", "Proposal", "Negotiation", "Closed Won",
    "Closed Lost",
]  # fmt: skip
# The same stages as a picklist whose options are `{label, value}` objects (the value is
# what is stored and sent; the label is what a CRM shows), in `_STAGES` order.
LABELLED_STAGE_OPTIONS: tuple[dict[str, str], ...] = (
    {"label": "Prospecting", "value": "prospecting"},
    {"label": "Discovery", "value": "discovery"},
    {"label": "Evaluation", "value": "evaluation"},
    {"label": "Proposal", "value": "proposal"},
    {"label": "Negotiation/Review", "value": "negotiation"},
    {"label": "Closed Won", "value": "closed_won"},
    {"label": "Closed Lost", "value": "closed_lost"},
)
_STAGE_VALUES = {
    stage: option["value"] for stage, option in zip(_STAGES, LABELLED_STAGE_OPTIONS, strict=True)
}
_FORECAST_CATEGORIES = ["Pipeline", "Best Case", "Commit", "Omitted"]
_LEAD_SOURCES = ["Inbound", "Outbound", "Partner", "Event", "Referral"]
_YES_NO = ["Yes", "No"]


@dataclass(frozen=True, slots=True)
class _CallType:
    title: str  # `{company}` is replaced
    stage: str
    label: str


_CALL_TYPES = [
    _CallType("Discovery call \u2013 {company}", "Discovery", "Discovery"),
    _CallType("Intro call \u2013 {company}", "Prospecting", "Discovery"),
    _CallType("Product demo for {company}", "Evaluation", "Demo"),
    _CallType("Technical deep dive \u2013 {company}", "Evaluation", "Technical"),
    _CallType("Security questionnaire walkthrough \u2013 {company}", "Evaluation", "Technical"),
    _CallType("Proof of concept kickoff \u2013 {company}", "Evaluation", "Technical"),
    _CallType("Pricing review \u2013 {company}", "Proposal", "Commercial"),
    _CallType("Proposal walkthrough \u2013 {company}", "Proposal", "Commercial"),
    _CallType("Contract negotiation \u2013 {company}", "Negotiation", "Commercial"),
    _CallType("Executive alignment \u2013 {company}", "Negotiation", "Executive"),
    _CallType("Renewal planning \u2013 {company}", "Negotiation", "Renewal"),
    _CallType("Onboarding scoping \u2013 {company}", "Closed Won", "Onboarding"),
]
_INTERNAL_TITLES = [
    "Deal strategy sync \u2013 {company}",
    "Pipeline review \u2013 {team}",
    "Forecast call \u2013 {team}",
    "Account planning \u2013 {company}",
]


@dataclass(frozen=True, slots=True)
class _Contact:
    name: str
    title: str
    email: str


@lru_cache(maxsize=256)
def _roster(seed: int, company: _Company) -> tuple[_Contact, ...]:
    """The customer's people, fixed per company so the same champion recurs across calls."""
    rng = random.Random(f"{seed}:roster:{company.domain}")
    firsts = rng.sample(_FIRST_NAMES, 5)
    lasts = rng.sample(_LAST_NAMES, 5)
    titles = rng.sample(_CUSTOMER_TITLES, 5)
    return tuple(
        _Contact(
            f"{first} {last}",
            title,
            f"{_ascii(first)}.{_ascii(last)}@{company.domain}",
        )
        for first, last, title in zip(firsts, lasts, titles, strict=True)
    )


def _ascii(name: str) -> str:
    """`Fernández` -> `fernandez`: email local parts stay plain ASCII."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


@lru_cache(maxsize=4096)
def _salesforce_id(prefix: str, *parts: object) -> str:
    """An 18-character id with a Salesforce key prefix (001 account, 003 contact, 006 deal)."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    number = int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=12).digest())
    chars = []
    for _ in range(15):
        number, digit = divmod(number, 62)
        chars.append(alphabet[digit])
    return prefix + "".join(chars)


# --- Intelligence -----------------------------------------------------------------------


@dataclass(slots=True)
class _Deal:
    """What the values of one conversation's intelligence are drawn from."""

    rng: random.Random
    company: _Company
    contacts: list[_Contact]
    created: datetime
    stage: str
    amount: int


def _person(deal: _Deal, title_hint: tuple[str, ...] = ()) -> _Contact:
    for contact in deal.contacts:
        if any(hint in contact.title for hint in title_hint):
            return contact
    return deal.rng.choice(deal.contacts)


def _day(deal: _Deal, low: int, high: int) -> str:
    day: date = deal.created.date() + timedelta(days=deal.rng.randint(low, high))
    return day.isoformat()


def _next_steps(deal: _Deal) -> str:
    who = _person(deal).name.split()[0]
    return deal.rng.choice(
        [
            f"Send the revised proposal to {who} by Friday and book a security review.",
            f"{who} to share the current sales process doc; we follow up with a tailored demo.",
            f"Schedule a technical deep dive with their IT team on {_day(deal, 3, 10)}.",
            f"Draft the order form for {deal.company.name}; {who} loops in procurement.",
            f"Set up a 14-day pilot for two teams and agree success criteria with {who}.",
            "Share customer references in their industry and confirm the pilot timeline.",
        ]
    )


def _budget(deal: _Deal) -> str:
    thousands = deal.amount // 1000
    return deal.rng.choice(
        [
            f"${thousands}k annual, approved by CFO",
            f"${thousands}k for the first year; renewal budget pending board approval",
            f"${thousands - 10}k-${thousands + 15}k range from the sales operations budget",
            "Not allocated yet, expected in FY27 planning",
            f"${thousands}k, carved out of the existing enablement tooling spend",
        ]
    )


def _decision_maker(deal: _Deal) -> str:
    person = _person(deal, ("CFO", "Chief", "VP", "CTO"))
    return f"{person.name}, {person.title}"


def _go_live(deal: _Deal) -> str:
    return deal.rng.choice(
        [
            "Go-live targeted for Q1 2027",
            "Decision expected by mid-January; rollout in February",
            "Wants to be live before their sales kickoff on 2027-02-03",
            "Budget cycle closes end of December; signature needed before then",
            "Pilot in December, full rollout to 120 reps in Q2 2027",
        ]
    )


def _competitors(deal: _Deal) -> str:
    return ", ".join(deal.rng.sample(_COMPETITORS, deal.rng.randint(1, 2)))


def _champion(deal: _Deal) -> str:
    person = _person(deal, ("Operations", "RevOps", "Enablement", "Sales"))
    return f"{person.name} ({person.title})"


def _pain_points(deal: _Deal) -> str:
    return deal.rng.choice(
        [
            "Managers spend hours listening to recordings; CRM notes are incomplete.",
            "Forecast calls rely on gut feel; no visibility into deal risk.",
            "New reps take six months to ramp; coaching is inconsistent across teams.",
            "Reps re-enter call notes into Salesforce by hand, often days later.",
            "Lost two renewals last quarter without seeing the warning signs.",
        ]
    )


def _use_case(deal: _Deal) -> str:
    return deal.rng.choice(
        [
            "Automated CRM updates after every customer call",
            "Call coaching and scorecards for the SDR team",
            "Deal inspection for weekly forecast reviews",
            "Onboarding new account executives faster",
        ]
    )


def _forecast(deal: _Deal) -> str:
    return {
        "Negotiation": "Commit",
        "Proposal": "Best Case",
        "Closed Won": "Commit",
        "Closed Lost": "Omitted",
    }.get(deal.stage, "Pipeline")


def _objections(deal: _Deal) -> str:
    return deal.rng.choice(
        [
            "Concerned about recording consent in the EU.",
            "Worried about rep adoption after a failed rollout of a previous tool.",
            "Price is above what they pay for their current note-taker.",
            "Needs SSO and SCIM before security will sign off.",
        ]
    )


def _integrations(deal: _Deal) -> str:
    return deal.rng.choice(
        [
            "Salesforce, Outreach and Slack",
            "HubSpot and Zoom; Teams later this year",
            "Salesforce with custom opportunity fields for MEDDICC",
            "Gmail, Google Meet and Salesforce",
        ]
    )


@dataclass(frozen=True, slots=True)
class _ItemSpec:
    key: str
    title: str
    category: str
    value: Callable[[_Deal], Any]
    options: list[str] | None = None


_ITEM_SPECS = [
    _ItemSpec("next_steps", "Next Steps", "CRM", _next_steps),
    _ItemSpec("stage", "Stage", "CRM", lambda deal: deal.stage, _STAGES),
    # A number on purpose: the app must show and send back non-string values unchanged.
    _ItemSpec("amount", "Amount", "CRM", lambda deal: deal.amount),
    _ItemSpec("budget", "Budget", "CRM", _budget),
    _ItemSpec("decision_maker", "Decision Maker", "CRM", _decision_maker),
    _ItemSpec("timeline", "Timeline", "CRM", _go_live),
    _ItemSpec("competitors", "Competitors", "CRM", _competitors),
    _ItemSpec("close_date", "Close Date", "CRM", lambda deal: _day(deal, 30, 120)),
    _ItemSpec("pain_points", "Pain Points", "CRM", _pain_points),
    _ItemSpec("champion", "Champion", "CRM", _champion),
    _ItemSpec("forecast_category", "Forecast Category", "CRM", _forecast, _FORECAST_CATEGORIES),
    _ItemSpec(
        "lead_source",
        "Lead Source",
        "CRM",
        lambda deal: deal.rng.choice(_LEAD_SOURCES),
        _LEAD_SOURCES,
    ),
    _ItemSpec("use_case", "Use Case", "CRM", _use_case),
    _ItemSpec("next_meeting_date", "Next Meeting Date", "CRM", lambda deal: _day(deal, 3, 14)),
    _ItemSpec(
        "budget_discussed",
        "Budget Discussed",
        "Indicators",
        lambda deal: deal.rng.choice(_YES_NO),
        _YES_NO,
    ),
    _ItemSpec(
        "competitor_mentioned",
        "Competitor Mentioned",
        "Indicators",
        lambda deal: deal.rng.choice(_YES_NO),
        _YES_NO,
    ),
    _ItemSpec("key_objections", "Key Objections", "BuiltInInsight", _objections),
    _ItemSpec("integration_needs", "Integration Needs", "CustomInsight", _integrations),
]
_ALWAYS = ("next_steps", "stage", "amount")
_MAX_ITEMS = 12
# One analysed call in this many (by index) has the typed items of
# `_labelled_typed_items`: a `{label, value}` stage picklist, an integer amount and an
# ISO close date.
LABELLED_EVERY = 5
_INDICATORS = [spec.key for spec in _ITEM_SPECS if spec.category == "Indicators"]
_OPTIONAL = [spec.key for spec in _ITEM_SPECS if spec.key not in _ALWAYS + tuple(_INDICATORS)]
_SPEC_BY_KEY = {spec.key: spec for spec in _ITEM_SPECS}
_SPEC_NUMBER = {spec.key: number for number, spec in enumerate(_ITEM_SPECS, start=1)}
_SPEC_SUFFIX = {key: f"{number:02d}" for key, number in _SPEC_NUMBER.items()}


def _item_id_prefix(conversation_id: str) -> str:
    """What every item id of the conversation starts with (see `_intelligence_item`)."""
    return f"intel_{conversation_id[:8]}{conversation_id[9:13]}_"


def _intelligence_item(id_prefix: str, spec: _ItemSpec, value: Any) -> dict[str, Any]:
    return {
        # Unique per conversation and key, and stable across syncs of the same data:
        # `intel_<12 hex digits of the conversation id>_<NN>`, NN the catalogue number.
        "id": id_prefix + _SPEC_SUFFIX[spec.key],
        "key": spec.key,
        "value": value,
        "title": spec.title,
        "category": spec.category,
        "refreshing": False,
        # Shared between conversations; never mutated (the sandbox copies before changing).
        "options": spec.options,
        "source": "ai",
        "scope_insight": "conversation",
    }


def _extract(conversation_id: str, deal: _Deal) -> dict[str, dict[str, Any]]:
    """6 to 12 items: always next steps, stage and amount, one or two indicators, then more."""
    rng = deal.rng
    id_prefix = _item_id_prefix(conversation_id)
    total = rng.randint(6, _MAX_ITEMS)
    indicators = rng.sample(_INDICATORS, rng.randint(1, 2))
    chosen = set(_ALWAYS) | set(indicators)
    chosen |= set(rng.sample(_OPTIONAL, total - len(chosen)))
    # Catalogue order, so the review form reads the same way on every call.
    return {
        spec.key: _intelligence_item(id_prefix, spec, spec.value(deal))
        for spec in _ITEM_SPECS
        if spec.key in chosen
    }


def _option_value(option: Any) -> Any:
    """What choosing `option` stores: the `value` of a `{label, value}` option, else itself."""
    return option["value"] if isinstance(option, dict) else option


def _labelled_typed_items(
    conversation_id: str, deal: _Deal, extracted: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """`extracted` with `stage` as a `{label, value}` picklist and `close_date` present
    (`amount` is always there, an integer), still 6 to 12 items in catalogue order."""
    items = dict(extracted)
    stage = dict(items["stage"])
    stage["options"] = [dict(option) for option in LABELLED_STAGE_OPTIONS]
    stage["value"] = _STAGE_VALUES[deal.stage]
    items["stage"] = stage
    if "close_date" not in items:
        spec = _SPEC_BY_KEY["close_date"]
        items["close_date"] = _intelligence_item(
            _item_id_prefix(conversation_id), spec, spec.value(deal)
        )
        if len(items) > _MAX_ITEMS:
            spare = [key for key in _OPTIONAL if key in items and key != "close_date"]
            del items[spare[-1]]
    return {spec.key: items[spec.key] for spec in _ITEM_SPECS if spec.key in items}


def _different_value(deal: _Deal, item: dict[str, Any]) -> Any:
    """A plausible earlier value of `item`: what a previous confirmation said."""
    value = item["value"]
    if isinstance(value, int):
        return value - deal.rng.choice([5000, 10000, 12000])
    if item["options"]:
        choices = [_option_value(option) for option in item["options"]]
        return deal.rng.choice([choice for choice in choices if choice != value])
    earlier = _SPEC_BY_KEY[item["key"]].value(deal)
    return earlier if earlier != value else f"Earlier: {value}"


def _confirm_some(
    deal: _Deal, extracted: dict[str, dict[str, Any]], state: ReviewState
) -> dict[str, dict[str, Any]]:
    """The confirmed map of a conversation in `state` (always leaves something to review
    for PARTIAL: either items never confirmed or items confirmed with another value)."""
    rng = deal.rng
    candidates = [key for key, item in extracted.items() if not item["refreshing"]]
    if state is ReviewState.CONFIRMED:
        return {key: dict(extracted[key]) for key in candidates}
    if state is not ReviewState.PARTIAL or not candidates:
        return {}
    if len(candidates) > 1 and rng.random() < 0.5:
        keys = rng.sample(candidates, rng.randint(1, len(candidates) - 1))
        return {key: dict(extracted[key]) for key in candidates if key in keys}
    confirmed = {key: dict(extracted[key]) for key in candidates}
    for key in rng.sample(candidates, min(len(candidates), rng.randint(1, 2))):
        confirmed[key]["value"] = _different_value(deal, confirmed[key])
    return confirmed


def typed_items() -> list[dict[str, Any]]:
    """Intelligence items whose values are not plain strings, for
    `SandboxState.add_typed_items`: lists, objects, an integer beyond 2**53 (exact in
    JSON, not in a double), a float, an integer amount, an ISO date, a picklist of
    `{label, value}` options and a list-valued picklist. Fresh dicts on every call."""
    return [
        {"key": "competitors_list", "title": "Competitor List", "value": ["Gong", "Chorus"]},
        {
            "key": "stakeholders",
            "title": "Stakeholders",
            "value": [
                {"name": "Priya Raman", "role": "CFO"},
                {"name": "Marcus Bennett", "role": "VP of Sales"},
            ],
        },
        {"key": "deal_id_number", "title": "Deal ID Number", "value": 2**53 + 1},
        {"key": "discount_rate", "title": "Discount Rate", "value": 12.5},
        {"key": "amount", "title": "Amount", "value": 168000},
        {"key": "close_date", "title": "Close Date", "value": "2026-12-15"},
        {
            "key": "stage",
            "title": "Stage",
            "value": "negotiation",
            "options": [dict(option) for option in LABELLED_STAGE_OPTIONS],
        },
        {
            "key": "products",
            "title": "Products",
            "value": ["Recorder", "CRM Sync"],
            "options": ["Recorder", "CRM Sync", "Coaching", "Analytics"],
        },
    ]


# --- Scorecards -------------------------------------------------------------------------

_SCORECARDS: list[tuple[str, int, list[tuple[str, str, list[str]]]]] = [
    (
        "Discovery Scorecard",
        5,
        [
            (
                "Identified business pain",
                "Rep uncovered a concrete problem and its cost.",
                [
                    "Right now our managers lose a full day a week reviewing calls.",
                    "We missed our number last quarter and nobody saw it coming.",
                    "Can you walk me through what happens after a call ends today?",
                ],
            ),
            (
                "Quantified impact",
                "The customer put a number on the problem.",
                [
                    "If we cut ramp time by a month that's roughly forty thousand per rep.",
                    "We think about 20% of the pipeline is stale at any point.",
                ],
            ),
            (
                "Confirmed budget",
                "Budget and its owner were discussed.",
                [
                    "Finance has set aside budget for this in the first quarter.",
                    "I'd need to take the number to our CFO before we commit.",
                ],
            ),
            (
                "Mapped decision process",
                "Rep learned who signs and how.",
                [
                    "Procurement will want a security review before legal sees the contract.",
                    "Ultimately it's the VP of Sales who signs off on tooling.",
                ],
            ),
            (
                "Agreed next steps",
                "The call ended with a dated next step.",
                [
                    "Let's put thirty minutes on the calendar for next Tuesday.",
                    "I'll send the recap and the proposal by end of day Friday.",
                ],
            ),
            (
                "Talk-to-listen ratio",
                "The rep let the customer talk.",
                [
                    "Tell me more about how your team handles handoffs today.",
                    "That's helpful. What else gets in the way of forecasting?",
                ],
            ),
        ],
    ),
    (
        "MEDDICC Qualification",
        100,
        [
            (
                "Metrics",
                "Success metrics the customer cares about.",
                [
                    "We'd call this a win if CRM hygiene goes above ninety percent.",
                    "Our target is to ramp new hires in three months instead of six.",
                ],
            ),
            (
                "Economic Buyer",
                "Access to the person who controls the budget.",
                [
                    "Our CFO joins the next session to review the commercials.",
                    "I own the budget for revenue tooling this year.",
                ],
            ),
            (
                "Decision Criteria",
                "How the customer will compare options.",
                [
                    "Salesforce sync and security are the two things that matter most.",
                    "We're scoring vendors on adoption, accuracy and price.",
                ],
            ),
            (
                "Decision Process",
                "The steps to a signature.",
                [
                    "After the pilot we go to the steering committee on the fifteenth.",
                    "Legal usually takes two weeks once the order form is final.",
                ],
            ),
            (
                "Identify Pain",
                "The pain is specific and owned.",
                [
                    "Reps hate updating opportunities after every single call.",
                    "Forecast calls are mostly guesswork at the moment.",
                ],
            ),
            (
                "Champion",
                "Someone inside sells for us.",
                [
                    "I'll present this to the leadership team myself on Monday.",
                    "Happy to be the internal owner for the pilot.",
                ],
            ),
            (
                "Competition",
                "Alternatives are known.",
                [
                    "We're also looking at Gong, but it feels heavy for our size.",
                    "Another vendor offered a lower price but no CRM write-back.",
                ],
            ),
        ],
    ),
    (
        "Demo Effectiveness",
        5,
        [
            (
                "Tailored to the customer",
                "The demo used the customer's own workflow.",
                [
                    "Here's what your reps would see right after a discovery call.",
                    "I set this up with the stages you described last week.",
                ],
            ),
            (
                "Handled objections",
                "Concerns were answered, not deflected.",
                [
                    "Good question: consent is handled per region, let me show you.",
                    "SSO is included and SCIM is available on the enterprise plan.",
                ],
            ),
            (
                "Checked for understanding",
                "The rep confirmed the value landed.",
                [
                    "Does that match how your managers coach today?",
                    "What would your team make of this view?",
                ],
            ),
            (
                "Clear call to action",
                "The customer knows what happens next.",
                [
                    "If this looks right, next step is a two-week pilot with one team.",
                    "I'll send a trial workspace this afternoon.",
                ],
            ),
        ],
    ),
]


_SCORECARD_VARIANTS = 64


@lru_cache(maxsize=16)
def _scorecard_pool(seed: int, number: int) -> tuple[dict[str, Any], ...]:
    """Pre-scored variants of scorecard `number`, without ids.

    Scoring a card from scratch was a third of the cost of a conversation; picking one of
    64 variants per seed keeps calls varied while serving 100k of them stays cheap.
    Entries are shared between conversations, so they must never be mutated (the sandbox
    copies a resource before changing it).
    """
    rng = random.Random(f"{seed}:scorecards:{number}")
    title, top, criteria = _SCORECARDS[number]
    variants = []
    for _ in range(_SCORECARD_VARIANTS):
        picked = rng.sample(criteria, rng.randint(min(3, len(criteria)), min(6, len(criteria))))
        items: list[dict[str, Any]] = [
            {
                "title": item_title,
                "description": description,
                "evidences": rng.sample(quotes, rng.randint(1, min(2, len(quotes)))),
                "numericResult": {
                    "score": rng.randint(1, 5) if top == 5 else rng.randrange(20, 101, 5),
                    "min": 0,
                    "max": top,
                },
            }
            for item_title, description, quotes in picked
        ]
        average = round(sum(item["numericResult"]["score"] for item in items) / len(items), 1)
        share = average / top
        if share >= 0.8:
            text = "Strong call: the rep covered the essentials and secured a clear next step."
        elif share >= 0.55:
            text = "Solid call with gaps; dig deeper into budget and the decision process."
        else:
            text = "Needs coaching: pain and next steps were not established."
        summary = {"averageScore": average, "min": 0, "max": top, "summaryText": text}
        variants.append({"title": title, "items": items, "summary": summary})
    return tuple(variants)


def _scorecard(
    rng: random.Random, seed: int, number: int, ids: Callable[[], str]
) -> dict[str, Any]:
    """One scorecard result: a pooled variant with this conversation's own ids."""
    variant = rng.choice(_scorecard_pool(seed, number))
    return {
        "uuid": ids(),
        "title": variant["title"],
        "items": [{"uuid": ids(), **item} for item in variant["items"]],
        "summary": variant["summary"],
    }


def _child_ids(conversation_id: str) -> Callable[[], str]:
    """Ids for the parts of one conversation (scorecards, bots, boards...): its own UUID
    with a running number in the last group. Unique, stable, and far cheaper than drawing
    a fresh random UUID for each of a dozen parts."""
    prefix = conversation_id[:24]
    counter = iter(range(1, 1 << 40))
    return lambda: f"{prefix}{next(counter):012x}"


# --- The conversation -------------------------------------------------------------------


_TEAM_BY_UUID = {team.uuid: team for team in DEMO_TEAMS}
# `_stable_uuid("participant", email)` by email: a dict lookup is cheaper than the cache.
_PARTICIPANT_IDS: dict[str, str] = {}


def _participant(name: str, email: str, *, organizer: bool, status: str) -> dict[str, Any]:
    participant_id = _PARTICIPANT_IDS.get(email)
    if participant_id is None:
        if len(_PARTICIPANT_IDS) > 50_000:
            _PARTICIPANT_IDS.clear()
        participant_id = _PARTICIPANT_IDS[email] = _stable_uuid("participant", email)
    return {
        "id": participant_id,
        "email": email,
        "name": name,
        "organizer": organizer,
        "status": status,
    }


@lru_cache(maxsize=16)
def _colleagues_of(owner: DemoAttentionUser) -> tuple[tuple[str, str], ...]:
    """Who may join `owner`'s calls from our side: the colleagues without an Attention
    user, then the other demo users (names and emails, in this order)."""
    colleagues = [(name, f"{handle}@{INTERNAL_DOMAIN}") for name, handle in _COLLEAGUES]
    colleagues += [(u.name, u.email) for u in DEMO_ATTENTION_USERS if u is not owner]
    return tuple(colleagues)


def _people(
    rng: random.Random, owner: DemoAttentionUser, contacts: list[_Contact], internal: bool
) -> list[dict[str, Any]]:
    """Organizer first (the owner rep), then colleagues, then the customer's people."""
    people = [_participant(owner.name, owner.email, organizer=True, status="accepted")]
    colleagues = _colleagues_of(owner)
    colleague_count = rng.randint(1, 3) if internal else rng.randint(0, 1)
    for name, email in rng.sample(colleagues, colleague_count):
        people.append(_participant(name, email, organizer=False, status="accepted"))
    if not internal:
        for contact in contacts:
            # `rng.choices(["accepted", "tentative", "needsAction"], [8, 1, 1])[0]`, drawn
            # the same way (one `random()` against the cumulative weights) but cheaper.
            weight = rng.random() * 10.0
            status = "accepted" if weight < 8 else "tentative" if weight < 9 else "needsAction"
            people.append(_participant(contact.name, contact.email, organizer=False, status=status))
    return people[:6]


def generate_conversation(
    index: int, seed: int = DEFAULT_SEED, count: int = DEFAULT_CONVERSATION_COUNT
) -> dict[str, Any]:
    """The full resource of conversation `index` of `count`, built on its own.

    Seeded from `(seed, index)` only (`count` merely spaces the `createdAt`s), so it is the
    same whichever conversations were built before it, and building one costs the same for
    index 0 and index 99,999. Its `transcript` is `{}`; `generate_transcript` builds the
    detailed one.
    """
    return _build(index, seed, count)[0]


def generate_transcript(
    index: int, seed: int = DEFAULT_SEED, count: int = DEFAULT_CONVERSATION_COUNT
) -> dict[str, Any]:
    """The detailed transcript of conversation `index` of `count`, `{"segments": [...]}`:
    what `detailedTranscript=true` serves in place of `transcript`. Every evidence quote of
    the conversation's extracted items is in it, word for word, at the quote's own times.

    Much dearer than the conversation itself (hundreds to thousands of words), so it is
    built only when asked for, from the conversation rebuilt and its own seeded generator.
    """
    resource, company = _build(index, seed, count)
    return build_transcript(
        resource["attributes"],
        company=company.name,
        industry=company.industry,
        rng=random.Random(f"{seed}:transcript:{index}"),
    )


def _build(index: int, seed: int, count: int) -> tuple[dict[str, Any], _Company]:
    """The resource of conversation `index`, and the customer it is with."""
    outline, rng = _outline_and_rng(index, seed, count)
    conversation_id = outline.id
    ids = _child_ids(conversation_id)
    owner = outline.user
    team = _TEAM_BY_UUID[owner.team_uuid]
    state = outline.state

    company = rng.choice(_COMPANIES)
    roster = _roster(seed, company)
    contacts = rng.sample(roster, rng.randint(1, 4))
    call_type = rng.choice(_CALL_TYPES)
    if state is ReviewState.INTERNAL:
        title = rng.choice(_INTERNAL_TITLES).format(company=company.name, team=team.name)
    else:
        title = call_type.title.format(company=company.name)

    created = outline.created_at
    duration = rng.randint(120, 300) if state is ReviewState.EMPTY else rng.randint(900, 3600)
    finished_ts = outline.created_ts + duration
    created_text, finished_text = _utc_text(outline.created_ts), _utc_text(finished_ts)
    deal = _Deal(
        rng=rng,
        company=company,
        contacts=contacts,
        created=created,
        stage=call_type.stage,
        amount=rng.randrange(18, 240) * 1000,
    )

    analyzed = state not in (ReviewState.NOT_ANALYZED, ReviewState.EMPTY)
    extracted = _extract(conversation_id, deal) if analyzed else {}
    if extracted and index % LABELLED_EVERY == LABELLED_EVERY - 1:
        extracted = _labelled_typed_items(conversation_id, deal, extracted)
    if extracted and state is not ReviewState.CONFIRMED and rng.random() < 1 / 15:
        # An item the AI is still re-extracting: shown, but not confirmable yet.
        rng.choice(list(extracted.values()))["refreshing"] = True
    confirmed = _confirm_some(deal, extracted, state)
    exported = state in (ReviewState.CONFIRMED, ReviewState.PARTIAL)

    participants = _people(rng, owner, contacts, state is ReviewState.INTERNAL)
    if state is ReviewState.EMPTY:
        participants = participants[:2]
    attendees = [person for person in participants if person["status"] == "accepted"]

    account_id = _salesforce_id("001", seed, company.domain)
    contact_records = [
        {"id": _salesforce_id("003", seed, contact.email), "code": "Contact"}
        for contact in contacts[:3]
    ]
    opportunity_ids = [
        _salesforce_id("006", seed, company.domain, number) for number in range(rng.randint(1, 3))
    ]
    opportunity_records = [{"id": opp, "code": "Opportunity"} for opp in opportunity_ids]
    opportunity_title = f"{company.name} \u2013 {rng.choice(['Platform', 'Expansion', 'Pilot'])}"
    external_opportunity = (
        {"uuid": _stable_uuid("opportunity", opportunity_ids[0]), "title": opportunity_title}
        if rng.random() >= 0.1
        else None
    )
    intelligence_opportunity = rng.choice(opportunity_ids) if rng.random() >= 0.1 else ""

    platform = rng.choice(["zoom", "meet", "teams"])
    meeting_url = {
        "zoom": f"https://zoom.us/j/{rng.randrange(10**9, 10**10)}",
        "meet": f"https://meet.google.com/{rng.choice(['abc', 'kqv', 'rtx'])}-demo-{index % 997}",
        "teams": f"https://teams.microsoft.com/l/meetup-join/demo-{conversation_id[:8]}",
    }[platform]
    scorecards = (
        [
            _scorecard(rng, seed, number, ids)
            for number in sorted(rng.sample(range(len(_SCORECARDS)), rng.randint(1, 2)))
        ]
        if analyzed and state is not ReviewState.INTERNAL
        else []
    )
    segment = "Enterprise" if team is DEMO_TEAMS[0] else "Mid-Market"

    attributes = {
        "uuid": conversation_id,
        "title": title,
        "createdAt": created_text,
        "finishedAt": finished_text,
        "liveStreamStartedAt": created_text,
        "liveStreamEndedAt": finished_text,
        "userUUID": owner.uuid,
        "teamUUID": owner.team_uuid,
        "archived": False,
        "referenceable": True,
        "private": False,
        "isInternal": state is ReviewState.INTERNAL,
        "isEmpty": state is ReviewState.EMPTY,
        "mediaDuration": duration,
        "videoUID": f"vid-{rng.getrandbits(64):016x}",
        "videoStatus": "ready",
        "mediaStorageStatus": "ready",
        "transcriptStatus": "completed" if state is not ReviewState.NOT_ANALYZED else "processing",
        "crmExportStatus": "exported" if exported else "pending",
        "importStatus": "completed",
        "dealUUID": _stable_uuid("deal", seed, company.domain),
        "emailTemplateID": "",
        "externalIntelligenceOpportunityID": intelligence_opportunity,
        "zoomMeetingJoinUrl": meeting_url if platform == "zoom" else "",
        "googleMeetJoinUrl": meeting_url if platform == "meet" else "",
        "microsoftTeamsJoinUrl": meeting_url if platform == "teams" else "",
        "webexJoinUrl": "",
        "transcript": {},
        "participants": participants,
        "attendees": attendees,
        "bots": [
            {
                "uuid": ids(),
                "meetingUrl": meeting_url,
                "status": {
                    "code": "completed",
                    "message": "Recording uploaded",
                    "createdAt": _utc_text(finished_ts + 180),
                },
            }
        ],
        "boards": [
            {
                "uuid": ids(),
                "board": {
                    "uuid": _stable_uuid("board", team.uuid),
                    "name": f"{team.name} Sales Playbook",
                    "teamUUID": team.uuid,
                    "columns": [],
                },
                "battlecards": [],
            }
        ],
        "talktracks": [
            {
                "uuid": ids(),
                "items": [
                    {
                        "uuid": ids(),
                        "activatedItemId": _stable_uuid("talktrack-item", call_type.label, number),
                        "done": rng.random() < 0.7,
                    }
                    for number in range(rng.randint(1, 3))
                ],
            }
        ],
        "scorecardResults": scorecards,
        "externalOpportunity": external_opportunity,
        "importMetadata": {},
        "linkedCrmRecords": [
            {"id": account_id, "code": "Account"},
            *contact_records,
            *opportunity_records,
        ],
        "externalAccounts": [{"id": account_id, "code": "Account"}],
        "externalContacts": contact_records,
        "extractedIntelligence": extracted,
        "confirmedExtractedIntelligence": confirmed,
        "labels": {
            "Call Type": "Internal" if state is ReviewState.INTERNAL else call_type.label,
            "Segment": segment,
            "Industry": company.industry,
        },
        "labelTagsToFilterIfNA": [],
        "deprecatedLabelCategories": [],
    }
    # Last, so its draws leave everything above as it was before items had evidence.
    attach_evidence(
        extracted,
        confirmed,
        participants,
        duration,
        rng,
        internal=state is ReviewState.INTERNAL,
    )
    resource = {
        "type": "conversations",
        "id": conversation_id,
        "attributes": attributes,
        "links": {"self": f"/v2/conversations/{conversation_id}"},
    }
    return resource, company
