"""What the review page shows of one conversation: its items grouped, the progress,
the opportunity choices, the stored resource and the latest confirmation attempt."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from pydantic import ValidationError

from attention_review.attention import schemas

from ..models import (
    ConfirmationAttempt,
    ConfirmedItem,
    Conversation,
    FieldSetting,
    IntelligenceItem,
)
from . import evidence, history

CATEGORY_ORDER = {"CRM": 0, "Indicators": 1, "BuiltInInsight": 2, "CustomInsight": 3}
CATEGORY_LABELS = {
    "CRM": "CRM fields",
    "Indicators": "Indicators",
    "BuiltInInsight": "Built-in insights",
    "CustomInsight": "Custom insights",
}


@dataclass(frozen=True)
class ItemGroup:
    category: str
    label: str
    items: list[IntelligenceItem]


@dataclass(frozen=True)
class ReviewProgress:
    """Where a review stands. `reviewed` of `total` counts decisions on the proposals
    that ask for one; proposals settled in an earlier round are not asked about again."""

    reviewed: int
    total: int
    included: int
    edited: int
    excluded: int
    refreshing: int
    withdrawn: int
    settled: int
    # The fields still waiting for the reviewer's own decision (`awaits_sign_off`).
    sign_off_titles: tuple[str, ...] = ()
    # What "Accept the rest" would accept now, and what it would leave for a look.
    bulk_ready: int = 0
    bulk_without_evidence: int = 0

    @property
    def sign_off_left(self) -> int:
        return len(self.sign_off_titles)

    @property
    def confirm_blocked_because(self) -> str:
        """Why Confirm is disabled ('' when it is not): the same sentence the confirm
        service refuses with."""
        return sign_off_sentence(self.sign_off_titles)


def review_items(conversation: Conversation) -> list[IntelligenceItem]:
    return list(conversation.items.order_by("position", "pk"))


def annotate_for_review(
    conversation: Conversation, items: list[IntelligenceItem]
) -> list[IntelligenceItem]:
    """Everything the item cards show beside the item's own columns, set on each item
    with a constant number of queries however many items there are. The review page
    and every single-item fragment go through here, so a swapped card reads the same
    as the card the page drew."""
    annotate_field_settings(items)
    evidence.annotate_evidence(items)
    history.annotate_field_history(conversation, items)
    return items


def annotate_field_settings(items: list[IntelligenceItem]) -> None:
    """Each item's risk tier (`tier`: explicit or bulk), how its values read
    (`display`) and in what currency (`currency`), from the admin's field settings;
    and whether it asks for the reviewer's sign-off (`asks_sign_off`)."""
    keys = {item.key for item in items}
    by_key = {setting.key: setting for setting in FieldSetting.objects.filter(key__in=keys)}
    for item in items:
        setting = by_key.get(item.key)
        item.tier = setting.tier if setting else FieldSetting.Tier.BULK  # type: ignore[attr-defined]
        item.display = setting.display if setting else FieldSetting.Display.AUTO  # type: ignore[attr-defined]
        item.currency = (setting and setting.currency) or settings.CRM_CURRENCY  # type: ignore[attr-defined]
        item.asks_sign_off = asks_sign_off(item)  # type: ignore[attr-defined]


def annotate_drafts(items: list[IntelligenceItem], user: User) -> None:
    """Each item's `my_draft_at`: when `user` last kept a draft of it, else None. A draft
    is its author's alone; another reviewer's is never shown or reopened."""
    for item in items:
        mine = bool(item.draft_text) and item.draft_by_id == user.pk
        item.my_draft_at = item.draft_saved_at if mine else None  # type: ignore[attr-defined]


def group_items(items: list[IntelligenceItem]) -> list[ItemGroup]:
    """Items grouped by category in a stable order: CRM first, then the others by name."""
    groups: dict[str, list[IntelligenceItem]] = {}
    for item in items:
        groups.setdefault(item.category or "Other", []).append(item)
    ordered = sorted(groups, key=lambda name: (CATEGORY_ORDER.get(name, 9), name))
    return [ItemGroup(name, CATEGORY_LABELS.get(name, name), groups[name]) for name in ordered]


def grouped_for_review(items: list[IntelligenceItem]) -> dict[str, list[ItemGroup]]:
    """`groups`: the items to look at (new proposals, and any that cannot be sent);
    `settled_groups`: proposals settled in an earlier round and unchanged since, which a
    returning review does not ask about again."""
    settled = [item for item in items if item.is_confirmable and not item.needs_review]
    if len(settled) == len(items):
        # Nothing asks for a decision (say, an admin's look at a settled call): show all.
        return {"groups": group_items(items), "settled_groups": []}
    settled_pks = {item.pk for item in settled}
    asking = [item for item in items if item.pk not in settled_pks]
    return {"groups": group_items(asking), "settled_groups": group_items(settled)}


def review_progress(items: list[IntelligenceItem]) -> ReviewProgress:
    confirmable = [item for item in items if item.is_confirmable]
    asking = [item for item in confirmable if item.needs_review]
    ready, without_evidence = bulk_acceptance(items)
    return ReviewProgress(
        reviewed=sum(1 for item in asking if item.decision_is_current),
        total=len(asking),
        included=sum(1 for item in confirmable if item.will_be_sent),
        edited=sum(1 for item in confirmable if item.will_be_sent and item.is_edited),
        excluded=sum(1 for item in confirmable if item.is_excluded),
        refreshing=sum(1 for item in items if item.refreshing and not item.withdrawn),
        withdrawn=sum(1 for item in items if item.withdrawn),
        settled=len(confirmable) - len(asking),
        sign_off_titles=tuple(
            dict.fromkeys(item.title or item.key for item in items if awaits_sign_off(item))
        ),
        bulk_ready=len(ready),
        bulk_without_evidence=len(without_evidence),
    )


def review_progress_with(conversation: Conversation, item: IntelligenceItem) -> ReviewProgress:
    """For a single-item fragment: `item`, as the caller holds it, annotated as the
    page's cards are, and the whole review's progress, from one read of the items.

    The progress reads only the field settings of the other items; the evidence and
    the field's history are read for the one card drawn (its history, one field's rows
    instead of every field's)."""
    items = [item if other.pk == item.pk else other for other in review_items(conversation)]
    annotate_field_settings(items)
    evidence.annotate_evidence([item])
    history.annotate_field_history(conversation, [item])
    return review_progress(items)


# Sign-off: the fields that move forecasts are decided one by one --------------------


def _tier(item: IntelligenceItem) -> str:
    """The risk tier `annotate_field_settings` set on the item."""
    tier: str = item.tier  # type: ignore[attr-defined]
    return tier


def asks_sign_off(item: IntelligenceItem) -> bool:
    """A proposal for an explicit-tier field that asks for review: the reviewer must
    decide it themselves (accept, keep, edit or exclude) before the review is confirmed.
    The items must have been through `annotate_field_settings`."""
    return _tier(item) == FieldSetting.Tier.EXPLICIT and item.is_confirmable and item.needs_review


def awaits_sign_off(item: IntelligenceItem) -> bool:
    """The one sign-off rule, read by the page (Confirm disabled, the card's badge) and
    by the confirm service (refused): an explicit proposal without a decision made
    against it as it is now."""
    return asks_sign_off(item) and not item.decision_is_current


def sign_off_sentence(titles: tuple[str, ...] | list[str]) -> str:
    """'Decide Stage and Close Date before confirming.'; '' when nothing is waiting."""
    if not titles:
        return ""
    names = list(titles)
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"Decide {listed} before confirming."


def sign_off_refusal(items: list[IntelligenceItem]) -> str:
    """Why these items may not be confirmed yet, or '' when they may."""
    return sign_off_sentence(
        list(dict.fromkeys(item.title or item.key for item in items if awaits_sign_off(item)))
    )


def bulk_acceptance(
    items: list[IntelligenceItem],
) -> tuple[list[IntelligenceItem], list[IntelligenceItem]]:
    """What "Accept the rest" takes, and what it leaves for a look: proposals of
    bulk-tier fields that ask for review and have no decision yet. One without evidence
    is left for the reviewer (nothing shows why the AI proposed it) unless the
    organisation's Attention gives no quotes at all (REVIEW_BULK_ACCEPT_WITHOUT_EVIDENCE).
    Explicit fields, excluded items and decided items are never taken."""
    rest = [
        item
        for item in items
        if _tier(item) == FieldSetting.Tier.BULK
        and item.is_confirmable
        and item.needs_review
        and not item.has_decision
    ]
    if settings.REVIEW_BULK_ACCEPT_WITHOUT_EVIDENCE:
        return rest, []
    return [item for item in rest if item.evidence], [item for item in rest if not item.evidence]


UNNAMED_OPPORTUNITY = "Unnamed opportunity"


@dataclass(frozen=True)
class OpportunityCandidate:
    """An opportunity the review may be confirmed against. `name` is '' when nothing
    Attention sends names it (linked records carry only an id and a type)."""

    id: str
    name: str = ""
    # The one the confirm names unless the reviewer picks another.
    suggested: bool = False
    # Suggested by the AI (`externalIntelligenceOpportunityID`), not Attention's fallback.
    by_ai: bool = False

    @property
    def label(self) -> str:
        return self.name or UNNAMED_OPPORTUNITY

    @property
    def described(self) -> str:
        """The candidate in a sentence: '“Acme Pilot” (006…)'."""
        if self.name:
            return f"\u201c{self.name}\u201d ({self.id})"
        return f"an unnamed opportunity ({self.id})"


def opportunity_choices(
    conversation: Conversation, details: schemas.Conversation | None = None
) -> list[OpportunityCandidate]:
    """The opportunities a reviewer may confirm against, the suggested one first: the
    default, the call's `externalOpportunity` (named by its title), the linked
    opportunity records, and the reviewer's earlier choice should it no longer be listed.

    `details` is the parsed resource when the caller has it already.
    """
    if details is None:
        details = conversation_details(conversation)
    opportunity = details.attributes.external_opportunity if details else None
    names = {opportunity.uuid: opportunity.title} if opportunity and opportunity.uuid else {}
    ids: list[str] = [conversation.default_opportunity_id]
    if opportunity:
        ids.append(opportunity.uuid)
    if details:
        ids += [
            record.id
            for record in details.attributes.linked_crm_records
            if record.code.lower() == "opportunity"
        ]
    ids.append(conversation.draft_opportunity_id)
    default = conversation.default_opportunity_id
    return [
        OpportunityCandidate(
            id=opportunity_id,
            name=names.get(opportunity_id, ""),
            suggested=opportunity_id == default,
            by_ai=opportunity_id == conversation.intelligence_opportunity_id,
        )
        for opportunity_id in dict.fromkeys(ids)
        if opportunity_id
    ]


def opportunity_warning(conversation: Conversation, candidates: list[OpportunityCandidate]) -> str:
    """'You chose X, not the AI's suggestion Y.' when the reviewer picked another
    opportunity than the suggested one; '' otherwise."""
    chosen_id = conversation.draft_opportunity_id
    suggested = next((candidate for candidate in candidates if candidate.suggested), None)
    if not chosen_id or suggested is None or chosen_id == suggested.id:
        return ""
    chosen = next(
        (candidate for candidate in candidates if candidate.id == chosen_id),
        OpportunityCandidate(id=chosen_id),
    )
    whose = "the AI's suggestion" if suggested.by_ai else "Attention's default"
    return f"You chose {chosen.described}, not {whose}, {suggested.described}."


@dataclass
class CallPerson:
    """Someone on a call, from Attention's participants and attendees read as one list:
    `joined` when they are among the participants (in the recording), `invited` when
    among the attendees (on the calendar invitation)."""

    name: str = ""
    email: str = ""
    organizer: bool = False
    status: str = ""
    joined: bool = False
    invited: bool = False


def call_people(details: schemas.Conversation | None) -> list[CallPerson]:
    """Participants and attendees merged, each person once (by email, else by name),
    participants first in Attention's order."""
    if details is None:
        return []
    people: dict[str, CallPerson] = {}
    sources = [(True, details.attributes.participants), (False, details.attributes.attendees)]
    for joined, persons in sources:
        for person in persons:
            identity = person.email.strip().lower() or person.name.strip().lower()
            if not identity:
                continue
            entry = people.setdefault(identity, CallPerson())
            entry.name = entry.name or person.name.strip()
            entry.email = entry.email or person.email.strip()
            entry.organizer = entry.organizer or person.organizer
            entry.status = entry.status or person.status.strip()
            if joined:
                entry.joined = True
            else:
                entry.invited = True
    return list(people.values())


def conversation_details(conversation: Conversation) -> schemas.Conversation | None:
    """The stored resource, parsed: what the header and the result panel show."""
    if not conversation.raw:
        return None
    try:
        return schemas.Conversation.model_validate(conversation.raw)
    except ValidationError:
        return None


def attempt_items(attempt: ConfirmationAttempt) -> list[ConfirmedItem]:
    """What one confirmation did with each item, in the order they were sent."""
    return list(attempt.items.order_by("id"))


def latest_attempt(conversation: Conversation) -> ConfirmationAttempt | None:
    return (
        conversation.confirmation_attempts.select_related("user")
        .order_by("-started_at", "-id")
        .first()
    )
