"""What the review page shows of one conversation: its items grouped, the progress,
the opportunity choices, the stored resource and the latest confirmation attempt."""

from dataclasses import dataclass

from pydantic import ValidationError

from attention_review.attention import schemas

from ..models import ConfirmationAttempt, Conversation, IntelligenceItem

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
    reviewed: int
    total: int
    included: int
    edited: int
    excluded: int
    refreshing: int


def review_items(conversation: Conversation) -> list[IntelligenceItem]:
    return list(conversation.items.order_by("position", "pk"))


def group_items(items: list[IntelligenceItem]) -> list[ItemGroup]:
    """Items grouped by category in a stable order: CRM first, then the others by name."""
    groups: dict[str, list[IntelligenceItem]] = {}
    for item in items:
        groups.setdefault(item.category or "Other", []).append(item)
    ordered = sorted(groups, key=lambda name: (CATEGORY_ORDER.get(name, 9), name))
    return [ItemGroup(name, CATEGORY_LABELS.get(name, name), groups[name]) for name in ordered]


def review_progress(items: list[IntelligenceItem]) -> ReviewProgress:
    confirmable = [item for item in items if not item.refreshing]
    return ReviewProgress(
        reviewed=sum(1 for item in confirmable if item.reviewed_at is not None),
        total=len(confirmable),
        included=sum(1 for item in confirmable if not item.is_excluded),
        edited=sum(1 for item in confirmable if item.is_edited and not item.is_excluded),
        excluded=sum(1 for item in confirmable if item.is_excluded),
        refreshing=len(items) - len(confirmable),
    )


def review_progress_for(conversation: Conversation) -> ReviewProgress:
    return review_progress(review_items(conversation))


def opportunity_choices(
    conversation: Conversation, details: schemas.Conversation | None = None
) -> list[tuple[str, str]]:
    """The opportunities a reviewer may confirm against: the default and the linked ones.

    `details` is the parsed resource when the caller has it already.
    """
    if details is None:
        details = conversation_details(conversation)
    choices: dict[str, str] = {}
    default = conversation.default_opportunity_id
    opportunity = details.attributes.external_opportunity if details else None
    if default:
        label = default
        if opportunity and opportunity.uuid == default and opportunity.title:
            label = f"{opportunity.title} ({default})"
        choices[default] = f"{label} (suggested)"
    if details:
        for record in details.attributes.linked_crm_records:
            if record.code.lower() == "opportunity" and record.id not in choices:
                choices[record.id] = record.id
    return list(choices.items())


def conversation_details(conversation: Conversation) -> schemas.Conversation | None:
    """The stored resource, parsed: what the header and the result panel show."""
    if not conversation.raw:
        return None
    try:
        return schemas.Conversation.model_validate(conversation.raw)
    except ValidationError:
        return None


def latest_attempt(conversation: Conversation) -> ConfirmationAttempt | None:
    return (
        conversation.confirmation_attempts.select_related("user")
        .order_by("-started_at", "-id")
        .first()
    )
