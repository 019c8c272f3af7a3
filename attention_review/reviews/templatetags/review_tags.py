import difflib
import functools
from typing import Any
from urllib.parse import quote

from django import template
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from attention_review.reviews.formatting import NOTHING, human_duration, readable_value
from attention_review.reviews.models import ChangeReason
from attention_review.reviews.selectors.crm_links import crm_url_template
from attention_review.reviews.values import display_value

register = template.Library()


@register.filter
def duration(seconds: Any) -> str:
    """A call's length: '45 min', '1 h 05 min', '40 s'; '—' when unknown or zero."""
    return human_duration(seconds) if seconds else NOTHING


@register.filter
def item_value(value: Any, options: Any = None) -> str:
    """An intelligence value as the page reads it, whatever JSON type it came in; given
    the item's options (`value|item_value:item.options`), a choice reads as its label."""
    text = display_value(value, options)
    return text if text else "—"


# A value longer than this is folded behind "Show all", its start shown.
FOLD_AFTER_CHARACTERS = 220
FOLDED_START_CHARACTERS = 160


@register.filter
def shown_value(value: Any, item: Any) -> SafeString:
    """One of an item's values as the card shows it: formatted by the field's type
    (money, dates in the reader's zone), line breaks kept, a long one folded behind
    "Show all" (a <details>, so it opens without JavaScript)."""
    text = readable_value(
        value,
        options=getattr(item, "options", None),
        display=getattr(item, "display", ""),
        currency=getattr(item, "currency", ""),
    )
    if not text:
        return format_html("{}", NOTHING)
    if len(text) <= FOLD_AFTER_CHARACTERS:
        return linebreaksbr(text, autoescape=True)
    start = Truncator(" ".join(text.split())).chars(FOLDED_START_CHARACTERS)
    return format_html(
        '<details class="show-all"><summary><span class="folded-start">{}</span> '
        '<span class="show-all-label">Show all</span></summary>'
        '<div class="full-value">{}</div></details>',
        start,
        linebreaksbr(text, autoescape=True),
    )


@register.filter
def crm_record_url(record_id: Any, record_type: str = "Opportunity") -> str:
    """The CRM's page of a record, from the admins' template for its type, else
    CRM_RECORD_URL_TEMPLATE ({type} and {id}); "" when no template is set or the id is
    empty. Both parts are URL-quoted: they come from Attention. The templates are read
    once (and cached), not once per link."""
    if not record_id:
        return ""
    template_text = crm_url_template(str(record_type or ""))
    if not template_text:
        return ""
    return template_text.replace("{type}", quote(str(record_type or ""), safe="")).replace(
        "{id}", quote(str(record_id), safe="")
    )


@register.filter
def records_by_type(attributes: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """Linked CRM records, external accounts and contacts grouped by CRM object type.

    Returns [(type, [(record id, where it was listed), ...]), ...], types in a fixed
    order (Account, Contact, Opportunity, then others), each id once per type.
    """
    sources = [
        ("linked record", attributes.linked_crm_records),
        ("external account", attributes.external_accounts),
        ("external contact", attributes.external_contacts),
    ]
    grouped: dict[str, dict[str, str]] = {}
    for source, records in sources:
        for record in records:
            grouped.setdefault(record.code or "Other", {}).setdefault(record.id, source)
    order = {"Account": 0, "Contact": 1, "Opportunity": 2}
    types = sorted(grouped, key=lambda code: (order.get(code, 9), code))
    return [(code, list(grouped[code].items())) for code in types]


@register.filter
def value_diff(item: Any) -> list[tuple[str, str]]:
    """A word-level diff of an item's AI value and the value sent: [(op, text), ...]
    with op one of 'same', 'removed', 'added'."""
    options = getattr(item, "options", None)
    before = display_value(item.ai_value, options).split(" ")
    after = display_value(item.sent_value, options).split(" ")
    segments: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        if op == "equal":
            segments.append(("same", " ".join(before[a_start:a_end])))
            continue
        if a_end > a_start:
            segments.append(("removed", " ".join(before[a_start:a_end])))
        if b_end > b_start:
            segments.append(("added", " ".join(after[b_start:b_end])))
    return segments


@register.filter
def seconds_human(seconds: Any) -> str:
    """A span of seconds to the second: '42 s', '3 min 05 s', '2 h 10 min'."""
    return human_duration(seconds, to_the_second=True)


# Cheap URL and date filters for the pages that list many rows. Django's {% url %} and
# |date each cost tens of microseconds; a review page with ten items used some fifty
# reverses. One reverse per pattern, then plain string formatting, gives the same URLs.


@functools.cache
def _url_pattern(name: str, arity: int) -> str:
    placeholders = [f"9{index}8{index}7{index}6" for index in range(arity)]
    url = reverse(name, args=placeholders)
    for index, placeholder in enumerate(placeholders):
        url = url.replace(placeholder, "{" + str(index) + "}")
    return url


@register.filter
def review_url(conversation: Any) -> str:
    """The review page of a conversation (or of a conversation id)."""
    pk = getattr(conversation, "pk", conversation)
    return _url_pattern("reviews:review", 1).format(pk)


_ITEM_ROUTES = {
    "": "reviews:item",
    "edit": "reviews:item-edit",
    "draft": "reviews:item-draft",
    "reset": "reviews:item-reset",
    "choose": "reviews:item-choose",
    "exclude": "reviews:item-exclude",
    "reason": "reviews:item-reason",
}


@register.filter
def item_url(item: Any, action: str = "") -> str:
    """An item's URL: its fragment (and save), or its edit, draft, reset, choose or
    exclude action, or its change reason."""
    return _url_pattern(_ITEM_ROUTES[action], 2).format(item.conversation_id, item.pk)


@register.simple_tag
def change_reasons() -> list[tuple[str, str]]:
    """The reasons a reviewer may give for an edit or an exclusion, as (value, label)."""
    return [(value, str(label)) for value, label in ChangeReason.choices if value]


@register.filter
def iso(value: Any) -> str:
    return value.isoformat() if value else ""


@register.filter
def when(value: Any) -> str:
    """A moment in the site's time zone, as 'Nov 15, 2026 11:38'."""
    if not value:
        return "—"
    local = timezone.localtime(value)
    return f"{local:%b} {local.day}, {local:%Y %H:%M}"


@register.filter
def short_value(value: Any, item: Any) -> str:
    """One of an item's values inside a sentence: formatted as `shown_value` formats it,
    on one line and cut short (the card shows it whole)."""
    text = readable_value(
        value,
        options=getattr(item, "options", None),
        display=getattr(item, "display", ""),
        currency=getattr(item, "currency", ""),
    )
    return Truncator(" ".join(text.split())).chars(FOLDED_START_CHARACTERS) if text else NOTHING


@register.filter
def call_day(value: Any) -> str:
    """The day of a call in the reader's time zone: 'Oct 2', with the year when it is
    not this year ('Dec 30, 2025')."""
    if not value:
        return NOTHING
    local = timezone.localtime(value)
    if local.year == timezone.localdate().year:
        return f"{local:%b} {local.day}"
    return f"{local:%b} {local.day}, {local:%Y}"
