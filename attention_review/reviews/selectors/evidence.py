"""What the review page shows beside each value: the quotes it rests on, who said them
(the prospect or our side, told apart by email domain), when in the call, and a label;
and the transcript panel, opened at a quote with the quote's words marked.

Times are read as seconds from the start of the call: the sandbox's unit and the one
reported for the detailed transcript (docs/attention-api.md, "Transcript").
"""

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.urls import reverse

from ..formatting import call_moment
from ..models import AttentionUser, IntelligenceItem

PROSPECT, US = "prospect", "us"
SIDE_LABELS = {PROSPECT: "prospect", US: "our side", "": "side unknown"}

# An item's label: the strongest thing its quotes say about the value. "stated" is for a
# quote that states the value said by someone whose side is unknown (no email).
STATED_BY_PROSPECT, STATED_BY_US, STATED, INFERRED, NO_EVIDENCE = (
    "prospect",
    "us",
    "stated",
    "inferred",
    "none",
)
LABELS = {
    STATED_BY_PROSPECT: "Stated by the prospect",
    STATED_BY_US: "Stated by us",
    STATED: "Stated in the call",
    INFERRED: "Inferred",
    NO_EVIDENCE: "No evidence",
}

# Word times are rounded to the hundredth: a word "between" two times may miss by that.
_SLACK = 0.011
# The longest call a link may point into (a day); anything later is not a moment.
_LATEST_MOMENT = 86_400.0


# Sides ------------------------------------------------------------------------------------


def _domain(text: str) -> str:
    return text.strip().rsplit("@", 1)[-1].strip().lower().rstrip(".")


def our_domains() -> frozenset[str]:
    """The email domains of our side: `ORGANIZATION_EMAIL_DOMAINS`, else the domains of
    the organisation's users as Attention lists them (one query)."""
    configured = [_domain(entry) for entry in settings.ORGANIZATION_EMAIL_DOMAINS]
    if any(configured):
        return frozenset(domain for domain in configured if domain)
    emails = AttentionUser.objects.exclude(email="").values_list("email", flat=True).distinct()
    return frozenset(domain for email in emails if "@" in email and (domain := _domain(email)))


def side_of(email: str, domains: frozenset[str]) -> str:
    """ "us" for an email at one of our domains (or a subdomain of one), "prospect" for
    any other email, "" when there is no email or we know no domain of our own."""
    if "@" not in email or not domains:
        return ""
    domain = _domain(email)
    if not domain:
        return ""
    if domain in domains or any(domain.endswith("." + ours) for ours in domains):
        return US
    return PROSPECT


# Whether a quote states a value ---------------------------------------------------------

_THOUSANDS = re.compile(r"(?<=\d)[,\u00a0\u202f](?=\d{3}(?!\d))")
_SCALED = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(k|m)\b")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SCALES = {"k": Decimal(1_000), "m": Decimal(1_000_000)}


def _expand(match: re.Match[str]) -> str:
    try:
        return str(Decimal(match[1]) * _SCALES[match[2]])
    except InvalidOperation:
        return match[0]


def _number(token: str) -> str:
    """'168000.00' and '0168000' read as '168000'."""
    whole, _, fraction = token.partition(".")
    whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def tokens(text: str) -> list[str]:
    """The words and numbers of a text, compared loosely: case, punctuation and
    thousands separators do not count, and `$168k` reads as `168000`."""
    text = _THOUSANDS.sub("", text.casefold())
    text = _SCALED.sub(_expand, text)
    return [_number(token) if token[0].isdigit() else token for token in _TOKEN.findall(text)]


def _contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    size = len(needle)
    if not size or size > len(haystack):
        return False
    first = needle[0]
    return any(
        haystack[start] == first and list(haystack[start : start + size]) == list(needle)
        for start in range(len(haystack) - size + 1)
    )


def _value_parts(value: Any) -> list[list[str]]:
    """The value's texts as tokens: one for a text or a number, one per entry of a list;
    none for what cannot be said (true/false, an object, nothing)."""
    if isinstance(value, bool) or value is None or isinstance(value, dict):
        return []
    if isinstance(value, list):
        return [part for entry in value for part in _value_parts(entry)]
    if isinstance(value, float) and not math.isfinite(value):
        return []
    if isinstance(value, int | float):
        return [tokens(repr(value))]
    return [tokens(value)] if isinstance(value, str) else []


def states(quote: str, value: Any) -> bool:
    """Whether the quote says the value: every part of it, word for word, compared
    loosely (see `tokens`): `$168,000` states 168000, "Proposal." states "proposal"."""
    said = tokens(quote)
    spoken = _spoken_dates(value)
    if spoken and any(_contains(said, saying) for saying in spoken):
        return True
    parts = [part for part in _value_parts(value) if part]
    if not parts:
        return False
    return all(_contains(said, part) for part in parts)


def _spoken_dates(value: Any) -> list[list[str]]:
    """How a person says an ISO date: "January 15", "Jan 15", "15 January" (the year is
    seldom said, so it is not required)."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
        return []
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return []
    # Tokens split "15th" into "15" and "th" (see `_TOKEN`).
    number, suffix = str(day.day), _ordinal(day.day)
    sayings = []
    for month in {f"{day:%B}".casefold(), f"{day:%b}".casefold()}:
        sayings += [[month, number], [number, month], [number, suffix, month]]
        sayings.append([number, suffix, "of", month])
    return sayings


def _ordinal(number: int) -> str:
    if 10 <= number % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")


# The evidence beside one item ------------------------------------------------------------


def _text(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    return value if isinstance(value, str) else ""


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def _at(seconds: float) -> str:
    """A moment as a query value: '1125.25', '12'."""
    return f"{seconds:.2f}".rstrip("0").rstrip(".")


def anchor_for(seconds: float) -> str:
    """The transcript's anchor for the segment at a moment (whole seconds)."""
    return f"t-{int(seconds)}"


@dataclass(frozen=True)
class QuoteView:
    text: str
    speaker: str  # the name, else the email, else "Unknown speaker"
    side: str  # PROSPECT, US or "" (no email, or no domain of ours known)
    start: float | None  # seconds from the start of the call
    end: float | None
    time: str  # "18:45", "1:02:09"; "" when the quote has no time
    states_value: bool
    panel_url: str  # the transcript at this quote, for the review page's side panel
    page_url: str  # the same as a page of its own, scrolled to the quote

    @property
    def side_label(self) -> str:
        return SIDE_LABELS[self.side]


@dataclass(frozen=True)
class EvidenceView:
    kind: str  # one of the keys of LABELS
    quotes: tuple[QuoteView, ...]

    @property
    def label(self) -> str:
        return LABELS[self.kind]


def _quote_view(
    entry: Any, value: Any, domains: frozenset[str], transcript_url: str
) -> QuoteView | None:
    if not isinstance(entry, dict):
        return None
    text = _text(entry, "quote")
    if not text.strip():
        return None
    name, email = _text(entry, "speaker_name"), _text(entry, "speaker_email")
    start, end = _seconds(entry.get("start")), _seconds(entry.get("end"))
    if start is not None and start > _LATEST_MOMENT:
        start = None
    if start is None:
        end = None
    elif end is None or end < start:
        end = start
    panel_url = page_url = ""
    if start is not None and end is not None:
        panel_url = f"{transcript_url}?at={_at(start)}&until={_at(end)}"
        page_url = f"{panel_url}#{anchor_for(start)}"
    return QuoteView(
        text=text,
        speaker=name or email or "Unknown speaker",
        side=side_of(email, domains),
        start=start,
        end=end,
        time=call_moment(start) if start is not None else "",
        states_value=states(text, value),
        panel_url=panel_url,
        page_url=page_url,
    )


def evidence_view(
    evidence: Any, value: Any, *, domains: frozenset[str], transcript_url: str
) -> EvidenceView:
    """The quotes behind `value` (as `IntelligenceItem.evidence` stores them) and their
    label: stated by the prospect when a quote of theirs states the value, else stated
    by us when one of ours does, else inferred; no evidence when there is no quote."""
    entries = evidence if isinstance(evidence, list) else []
    quotes = tuple(
        quote
        for entry in entries
        if (quote := _quote_view(entry, value, domains, transcript_url)) is not None
    )
    stating = {quote.side for quote in quotes if quote.states_value}
    if not quotes:
        kind = NO_EVIDENCE
    elif PROSPECT in stating:
        kind = STATED_BY_PROSPECT
    elif US in stating:
        kind = STATED_BY_US
    elif stating:
        kind = STATED
    else:
        kind = INFERRED
    return EvidenceView(kind=kind, quotes=quotes)


def annotate_evidence(
    items: Iterable[IntelligenceItem], *, domains: frozenset[str] | None = None
) -> None:
    """Set `item.evidence_view` on each item (what `includes/evidence.html` shows), with
    one query for all of them (our domains, unless given or set in the settings)."""
    items = list(items)
    if domains is None:
        domains = our_domains() if items else frozenset()
    urls: dict[int, str] = {}
    for item in items:
        url = urls.get(item.conversation_id)
        if url is None:
            url = urls[item.conversation_id] = reverse(
                "reviews:transcript", args=[item.conversation_id]
            )
        item.evidence_view = evidence_view(  # type: ignore[attr-defined]
            item.evidence, item.ai_value, domains=domains, transcript_url=url
        )


# The transcript panel ---------------------------------------------------------------------


def moment_from_query(value: str | None) -> float | None:
    """A moment given in the query (`?at=1125.25`): seconds, else None."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds < 0 or seconds > _LATEST_MOMENT:
        return None
    return seconds


@dataclass(frozen=True)
class TranscriptLine:
    speaker: str
    side: str
    time: str
    runs: tuple[tuple[str, bool], ...]  # the text in runs of words, marked or not
    anchor: str  # the quote's segment has one (see `anchor_for`), the others ""

    @property
    def side_label(self) -> str:
        return SIDE_LABELS[self.side]


@dataclass(frozen=True)
class TranscriptView:
    lines: tuple[TranscriptLine, ...]
    anchor: str  # the anchor of the segment at the quote; "" when none was asked for
    query: str  # the moment asked for, as a query string ("at=12.5&until=14"), or ""


def _runs(words: list[tuple[str, bool]]) -> tuple[tuple[str, bool], ...]:
    runs: list[tuple[list[str], bool]] = []
    for text, marked in words:
        if runs and runs[-1][1] == marked:
            runs[-1][0].append(text)
        else:
            runs.append(([text], marked))
    return tuple((" ".join(texts), marked) for texts, marked in runs)


def _segment_words(
    segment: dict[str, Any], at: float | None, until: float
) -> tuple[list[tuple[str, bool]], bool]:
    """The segment's words, each marked when it lies between `at` and `until`, and
    whether any is. A segment stored without words is one run, marked when it overlaps."""
    words = segment.get("words")
    if not isinstance(words, list) or not words:
        text = _text(segment, "text")
        start, end = _seconds(segment.get("start")), _seconds(segment.get("end"))
        marked = (
            at is not None
            and start is not None
            and start <= until + _SLACK
            and (end if end is not None else start) >= at - _SLACK
        )
        return ([(text, marked)] if text else []), marked
    marked_any = False
    read: list[tuple[str, bool]] = []
    for word in words:
        if not isinstance(word, dict) or not isinstance(word.get("text"), str):
            continue
        start, end = _seconds(word.get("start")), _seconds(word.get("end"))
        marked = (
            at is not None
            and start is not None
            and start >= at - _SLACK
            and (end if end is not None else start) <= until + _SLACK
        )
        marked_any = marked_any or marked
        read.append((word["text"], marked))
    return read, marked_any


def _at_quote(segments: list[dict[str, Any]], at: float, marked: list[bool]) -> int:
    """The segment to open at: the first with a marked word, else the one spoken at
    `at`, else the first after it, else the last."""
    if any(marked):
        return marked.index(True)
    for index, segment in enumerate(segments):
        start, end = _seconds(segment.get("start")), _seconds(segment.get("end"))
        if start is not None and start - _SLACK <= at <= (end or start) + _SLACK:
            return index
    for index, segment in enumerate(segments):
        start = _seconds(segment.get("start"))
        if start is not None and start >= at:
            return index
    return len(segments) - 1


def transcript_view(
    segments: Any,
    *,
    at: float | None,
    until: float | None,
    domains: frozenset[str] | None = None,
) -> TranscriptView:
    """The transcript's lines (as `Transcript.segments` stores them), the quote between
    `at` and `until` marked and its segment given the anchor the quote's link ends in.
    Without `domains`, our domains are read (one query, only when there are lines)."""
    stored = [segment for segment in segments or [] if isinstance(segment, dict)]
    if at is not None and (until is None or until < at):
        until = at
    if domains is None:
        domains = our_domains() if stored else frozenset()
    words_by_segment = [_segment_words(segment, at, until or 0.0) for segment in stored]
    quote_index = (
        _at_quote(stored, at, [marked for _, marked in words_by_segment])
        if at is not None and stored
        else -1
    )
    lines = []
    for index, (segment, (words, _)) in enumerate(zip(stored, words_by_segment, strict=True)):
        if not words:
            continue
        name, email = _text(segment, "speaker_name"), _text(segment, "speaker_email")
        start = _seconds(segment.get("start"))
        lines.append(
            TranscriptLine(
                speaker=name or email or "Unknown speaker",
                side=side_of(email, domains),
                time=call_moment(start) if start is not None else "",
                runs=_runs(words),
                anchor=anchor_for(at) if index == quote_index and at is not None else "",
            )
        )
    query = (
        f"at={_at(at)}&until={_at(until if until is not None else at)}" if at is not None else ""
    )
    return TranscriptView(
        lines=tuple(lines), anchor=anchor_for(at) if at is not None else "", query=query
    )
