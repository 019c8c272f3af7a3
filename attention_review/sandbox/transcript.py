"""Evidence for the demo calls' extracted items, and the detailed transcripts it quotes.

Two halves with different budgets:

* `attach_evidence` runs inside `demo_data.generate_conversation`, for every call built
  (100,000 in the benchmark), so it is kept cheap: a few random draws per item, quotes made
  from fixed templates and their timing worked out with string counts, never word by word.
* `build_transcript` runs only when a client asks for `detailedTranscript=true`. It lays
  the evidence quotes out at exactly the times the items claim, and fills the rest of the
  call with turns drawn from the call's own people, company and phase of the call.

Both are pure functions of what they are given (the sandbox passes a per-call random
generator), so the same seed and index always give the same quotes and the same words.

Timing is kept in whole centiseconds and served as seconds (`1234 / 100`): a word lasts
18 centiseconds plus 5 per character, words are 4 apart, and a word ending a sentence
(`.`, `?`, `!`) is followed by 25 more. `speech_span` gives the same total from a quote's
text alone, which is what lets evidence carry exact timestamps without a transcript.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from attention_review.demo import DEMO_DOMAIN

_OUR_SUFFIX = "@" + DEMO_DOMAIN

# Word timing, in centiseconds (see the module docstring).
_WORD_BASE = 18
_PER_CHAR = 5
_WORD_GAP = 4
_SENTENCE_PAUSE = 25
_SENTENCE_ENDS = ".?!"

# Shares of an item's evidence: none below the first, two quotes below the second.
_NO_EVIDENCE = 1 / 8
_TWO_QUOTES = 1 / 8 + 1 / 4
# Each insight of the catalogue has its own slot of the call, in the order topics come
# up: slot `n` is the stretch from `_FIRST_SHARE + n * _SLOT_SHARE` of the call's length,
# `_SLOT_SHARE` long (18 slots: from 3% to 93% of the call). An item's quotes fall inside
# its slot and end at least `_UNIT_GAP` centiseconds before the slot does, so quotes of
# different items never overlap and each item's times are worked out on their own.
_FIRST_SHARE, _SLOT_SHARE = 0.03, 0.05
_UNIT_GAP = 800

# A transcript has this many segments: 25 for a 15-minute call, 60 for an hour.
MIN_SEGMENTS, MAX_SEGMENTS = 25, 60

PROSPECT, REP, INTERNAL = "prospect", "rep", "internal"
# `Templates` is a tuple of quote templates, or those tuples keyed by the value in lower
# case (for values a speaker would paraphrase rather than say). `{v}` is the value as
# spoken, `{s}` the same as a sentence (with a full stop) and `{first}` its first word.
Templates = tuple[str, ...] | Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class _QuoteSpec:
    slot: int  # where in the call the topic comes up (see `_SLOT_SHARE`)
    primary: str  # the voice that states it on a customer call: PROSPECT or REP
    quotes: Mapping[str, Templates]  # by voice


_READ_BACK = "Let me read back what I noted. {s}"

_EVIDENCE: dict[str, _QuoteSpec] = {
    "lead_source": _QuoteSpec(
        0,
        PROSPECT,
        {
            PROSPECT: {
                "inbound": ("We found you ourselves, through your website.",),
                "outbound": ("Your team reached out to me a few weeks ago.",),
                "partner": ("Our Salesforce partner suggested we talk to you.",),
                "event": ("We met your team at the RevOps summit.",),
                "referral": ("A friend at another company recommended you.",),
            },
            REP: {
                "inbound": ("Thanks for reaching out through the website.",),
                "outbound": ("Thanks for taking my call a few weeks back.",),
                "partner": ("Glad our partner team put us in touch.",),
                "event": ("Great to reconnect after the summit.",),
                "referral": ("Glad the introduction came through.",),
            },
            INTERNAL: {
                "inbound": ("They came in through the website.",),
                "outbound": ("This one started from our outbound sequence.",),
                "partner": ("The partner team sourced this one.",),
                "event": ("We met them at the summit.",),
                "referral": ("This one came in as a referral.",),
            },
        },
    ),
    "pain_points": _QuoteSpec(
        1,
        PROSPECT,
        {
            PROSPECT: (
                "Honestly, the biggest problem is this. {s}",
                "Here's what hurts today. {s}",
            ),
            REP: (_READ_BACK, "What I'm hearing is this. {s}"),
            INTERNAL: ("Their main pain, in their words. {s}",),
        },
    ),
    "use_case": _QuoteSpec(
        2,
        PROSPECT,
        {
            PROSPECT: (
                "The main thing we want is this. {s}",
                "If I had to pick one thing, it's this. {s}",
            ),
            REP: ("So the use case to start with is clear. {s}", _READ_BACK),
            INTERNAL: ("The use case they care about. {s}",),
        },
    ),
    "integration_needs": _QuoteSpec(
        3,
        PROSPECT,
        {
            PROSPECT: (
                "It has to work with our stack. {s}",
                "Integrations matter a lot for us. {s}",
            ),
            REP: ("Let me read back what I noted on your stack. {s}",),
            INTERNAL: ("Their stack, for the record. {s}",),
        },
    ),
    "key_objections": _QuoteSpec(
        4,
        PROSPECT,
        {
            PROSPECT: {
                "concerned about recording consent in the eu.": (
                    "My worry is consent, we record calls with people across the EU.",
                ),
                "worried about rep adoption after a failed rollout of a previous tool.": (
                    "Our last rollout flopped because the reps never used the tool.",
                ),
                "price is above what they pay for their current note-taker.": (
                    "To be blunt, this is more than we pay for our note-taker today.",
                ),
                "needs sso and scim before security will sign off.": (
                    "Security won't sign off without SSO and SCIM.",
                ),
            },
            REP: ("Let me note that as a concern. {s}", "That's fair, I'll write it down. {s}"),
            INTERNAL: ("Main objection so far. {s}",),
        },
    ),
    "competitors": _QuoteSpec(
        5,
        PROSPECT,
        {
            PROSPECT: (
                "We're also evaluating {v}.",
                "To be transparent, we've had demos from {v}.",
            ),
            REP: (
                "Happy to walk you through how we compare with {v}.",
                "A lot of teams we work with looked at {v} first.",
            ),
            INTERNAL: ("They're also talking to {v}.", "Competition on this one is {v}."),
        },
    ),
    "competitor_mentioned": _QuoteSpec(
        6,
        PROSPECT,
        {
            PROSPECT: {
                "yes": (
                    "We've looked at a couple of other tools as well.",
                    "We had another vendor in last month.",
                ),
                "no": (
                    "We haven't looked at any other tools yet.",
                    "You're the first vendor we've talked to.",
                ),
            },
            REP: {
                "yes": ("Since you're looking at other tools, I'll send a comparison.",),
                "no": ("Since we're the first tool you've seen, I'll keep this broad.",),
            },
            INTERNAL: {
                "yes": ("They're talking to other vendors too.",),
                "no": ("We seem to be the only vendor in the running.",),
            },
        },
    ),
    "budget": _QuoteSpec(
        7,
        PROSPECT,
        {
            PROSPECT: (
                "Let me be upfront about budget. {s}",
                "On budget, here's where we are. {s}",
            ),
            REP: (
                "Thanks for being open about the budget, that really helps.",
                "Good to know where the budget stands, I'll shape the proposal around it.",
            ),
            INTERNAL: ("Budget, as they described it. {s}",),
        },
    ),
    "budget_discussed": _QuoteSpec(
        8,
        PROSPECT,
        {
            PROSPECT: {
                "yes": (
                    "We've already set money aside for this.",
                    "There is budget for this in the plan.",
                ),
                "no": (
                    "We haven't talked about money internally yet.",
                    "I can't speak to budget at this stage.",
                ),
            },
            REP: {
                "yes": ("Good to hear the budget is already there.",),
                "no": ("Let's come back to budget once you've seen the pilot.",),
            },
            INTERNAL: {
                "yes": ("They confirmed there's budget for it.",),
                "no": ("We didn't get to budget on the call.",),
            },
        },
    ),
    "amount": _QuoteSpec(
        9,
        REP,
        {
            REP: (
                "For the seats we discussed, that comes to {v} a year.",
                "The annual price on the proposal is {v}.",
                "All in, you're looking at {v} for the first year.",
            ),
            PROSPECT: (
                "So we're talking about {v} a year, right?",
                "{v} is in the range we expected.",
            ),
            INTERNAL: ("The deal is sized at {v}.", "We're proposing {v} a year."),
        },
    ),
    "decision_maker": _QuoteSpec(
        10,
        PROSPECT,
        {
            PROSPECT: ("The final call sits with {v}.", "In the end it's {v} who signs off."),
            REP: (
                "So the final sign-off is with {v}, correct?",
                "Just so I have it right, the decision maker is {v}.",
            ),
            INTERNAL: ("The decision maker is {v}.", "Sign-off sits with {v}."),
        },
    ),
    "champion": _QuoteSpec(
        11,
        PROSPECT,
        {
            PROSPECT: (
                "I'll take this to the leadership team myself.",
                "Happy to be the internal owner for this project.",
                "I'll make the case for this internally.",
            ),
            REP: (
                "{first}, thanks for driving this on your side.",
                "{first}, it helps a lot that you're championing this.",
            ),
            INTERNAL: ("Our champion there is {v}.", "{v} is pushing hard for us internally."),
        },
    ),
    "timeline": _QuoteSpec(
        12,
        PROSPECT,
        {
            PROSPECT: {
                "go-live targeted for q1 2027": (
                    "We're aiming to go live in the first quarter of 2027.",
                ),
                "decision expected by mid-january; rollout in february": (
                    "We'll make a decision by mid-January and roll out in February.",
                ),
                "wants to be live before their sales kickoff on 2027-02-03": (
                    "We want this live before our sales kickoff on February 3.",
                ),
                "budget cycle closes end of december; signature needed before then": (
                    "Our budget cycle closes at the end of December, so we'd need to sign "
                    "before then.",
                ),
                "pilot in december, full rollout to 120 reps in q2 2027": (
                    "We'd pilot in December and roll out to all 120 reps in Q2 2027.",
                ),
            },
            REP: ("Let me read back what I noted on timing. {s}",),
            INTERNAL: ("Timeline from the call. {s}",),
        },
    ),
    "close_date": _QuoteSpec(
        13,
        REP,
        {
            REP: (
                "I'll put {v} down as the target close date.",
                "So we're working towards signature by {v}.",
            ),
            PROSPECT: (
                "We'd want the contract signed by {v}.",
                "If everything checks out, we can sign by {v}.",
            ),
            INTERNAL: ("Target close is {v}.",),
        },
    ),
    "stage": _QuoteSpec(
        14,
        PROSPECT,
        {
            PROSPECT: {
                "prospecting": (
                    "We're only just starting to look at what's out there.",
                    "Honestly, we're early, this is a first conversation for us.",
                ),
                "discovery": (
                    "We're still working out what we actually need.",
                    "Before we look at any tool we need to agree on the problem internally.",
                ),
                "evaluation": (
                    "We're comparing a couple of options side by side right now.",
                    "The team is testing a few tools over the next few weeks.",
                ),
                "proposal": (
                    "Send over the proposal and we'll review it this week.",
                    "We're ready to see pricing in writing.",
                ),
                "negotiation": (
                    "We're close, it's mostly legal and pricing at this point.",
                    "Our lawyers have the order form and we're working through the redlines.",
                ),
                "closed won": (
                    "Now that the contract is signed, let's talk about rollout.",
                    "The paperwork is done, so the question is how fast we can get going.",
                ),
                "closed lost": (
                    "We've decided to go with another vendor for now.",
                    "We're going to pause this and revisit next year.",
                ),
            },
            REP: {
                "prospecting": ("Sounds like this is an early look, which is completely fine.",),
                "discovery": (
                    "It sounds like the priority is agreeing on the problem before picking a tool.",
                ),
                "evaluation": ("Since you're comparing options, I'll set up a trial workspace.",),
                "proposal": ("I'll turn this into a written proposal for you.",),
                "negotiation": ("I'll get our legal team on the redlines today.",),
                "closed won": ("Now that we're signed, let's plan the rollout together.",),
                "closed lost": ("I understand, and I appreciate you telling me directly.",),
            },
            INTERNAL: {
                "prospecting": ("This one is still very early.",),
                "discovery": ("They're still defining the problem.",),
                "evaluation": ("They're running a side-by-side evaluation.",),
                "proposal": ("They're waiting on our written proposal.",),
                "negotiation": ("It's with legal now, redlines are going back and forth.",),
                "closed won": ("The contract is signed, now it's about the rollout.",),
                "closed lost": ("They picked another vendor, we should close it out.",),
            },
        },
    ),
    "forecast_category": _QuoteSpec(
        15,
        REP,
        {
            REP: {
                "pipeline": ("There's no firm timeline yet, so let's keep talking.",),
                "best case": ("If the pilot goes well, could this land this quarter?",),
                "commit": ("With legal already involved, we should be able to sign this month.",),
                "omitted": ("Understood, we'll step back and revisit next year.",),
            },
            PROSPECT: {
                "pipeline": ("No firm timeline yet, we're still exploring.",),
                "best case": ("If the pilot goes well, we could move this quarter.",),
                "commit": ("We're ready to sign this month.",),
                "omitted": ("We won't be buying anything this year.",),
            },
            INTERNAL: {
                "pipeline": ("I'd keep this one in pipeline for now.",),
                "best case": ("Best case, this lands in the quarter.",),
                "commit": ("I'm comfortable calling this one commit.",),
                "omitted": ("I'd take this out of the forecast.",),
            },
        },
    ),
    "next_steps": _QuoteSpec(
        16,
        REP,
        {
            REP: (
                "Let me recap the next steps. {s}",
                "So, to make sure we're aligned on next steps. {s}",
                "Here's what I have for next steps. {s}",
            ),
            PROSPECT: (
                "That works for us, let's do it.",
                "Sounds good, I'll make sure that happens on our side.",
                "Perfect, that plan works for me.",
            ),
            INTERNAL: ("Next steps we agreed with them. {s}", "Here's where we landed. {s}"),
        },
    ),
    "next_meeting_date": _QuoteSpec(
        17,
        REP,
        {
            REP: ("Does {v} work for the follow-up?", "Let's put the follow-up on {v}."),
            PROSPECT: ("{v} works for me.", "Let's do {v}, I'll send the invite to the team."),
            INTERNAL: ("We meet them again on {v}.",),
        },
    ),
}
# An internal call's second quote: a colleague agreeing with the first.
_INTERNAL_AGREEMENT = (
    "That matches what I heard from them.",
    "Agreed, that's my read as well.",
    "Same on my side, I'd note it the same way.",
)
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def speech_span(text: str) -> int:
    """Centiseconds from the start of `text`'s first word to the end of its last, as
    `timed_words` lays them out (`text` has single spaces and no spaces at either end)."""
    spaces = text.count(" ")
    pauses = text.count(". ") + text.count("? ") + text.count("! ")
    return (
        _WORD_BASE * (spaces + 1)
        + _PER_CHAR * (len(text) - spaces)
        + _WORD_GAP * spaces
        + _SENTENCE_PAUSE * pauses
    )


def timed_words(text: str, start: int) -> tuple[list[dict[str, Any]], int]:
    """The words of `text` spoken from `start` (centiseconds), as transcript words, and
    the centisecond its last word ends."""
    words = []
    at = end = start
    for word in text.split(" "):
        end = at + _WORD_BASE + _PER_CHAR * len(word)
        words.append({"text": word, "startTimestamp": at / 100, "endTimestamp": end / 100})
        at = end + _WORD_GAP + (_SENTENCE_PAUSE if word[-1] in _SENTENCE_ENDS else 0)
    return words, end


def _sentence(text: str) -> str:
    return text if text[-1] in _SENTENCE_ENDS else text + "."


def _spoken(key: str, value: Any) -> str | None:
    """The value as a speaker says it (`$168,000`, `January 15`), or None when it cannot
    be said (a value the templates were not written for)."""
    if key == "amount":
        if isinstance(value, int) and not isinstance(value, bool):
            return f"${value:,}"
        return None
    if not isinstance(value, str) or not value or value != value.strip() or "  " in value:
        return None
    if key in ("close_date", "next_meeting_date"):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None
        spoken = f"{_MONTHS[day.month - 1]} {day.day}"
        return f"{_WEEKDAYS[day.weekday()]}, {spoken}" if key == "next_meeting_date" else spoken
    return value


@lru_cache(maxsize=16384)
def _said(key: str, voice: str, spoken: str) -> tuple[tuple[str, int], ...]:
    """Every quote `voice` may say for `key`'s value, as `spoken` (see `_spoken`), each
    with its `speech_span`; empty when there is none (a picklist value the templates
    were not written for)."""
    templates = _EVIDENCE[key].quotes[voice]
    if not isinstance(templates, tuple):
        templates = templates.get(spoken.lower().replace("_", " "), ())
    quotes = []
    for template in templates:
        quote = template.replace("{s}", _sentence(spoken)).replace("{v}", spoken)
        quote = quote.replace("{first}", spoken.split(" ", 1)[0])
        quotes.append((quote, speech_span(quote)))
    return tuple(quotes)


# An item's slot, the voice that states its value, its quotes, then the voice answering
# them and the value as spoken: the answers are looked up (`_said`) only when needed.
_Plan = tuple[int, str, tuple[tuple[str, int], ...], str, str]


def _plan(key: str, value: Any, internal: bool) -> _Plan | None:
    """What evidence `key`'s `value` can have (see `_Plan`); None when it can have none."""
    spec = _EVIDENCE.get(key)
    spoken = None if spec is None else _spoken(key, value)
    if spec is None or spoken is None:
        return None
    voice = INTERNAL if internal else spec.primary
    quotes = _said(key, voice, spoken)
    if not quotes:
        return None
    other = INTERNAL if internal else REP if voice == PROSPECT else PROSPECT
    return spec.slot, voice, quotes, other, spoken


# `_plan` and the quote speakers, remembered: the demo's values and people recur from
# call to call (a few thousand of each over 100,000 calls), and a dict is the cheapest
# cache. Emptied should it ever grow past `_CACHE_LIMIT`. Shared: never mutate entries.
_PLANS: dict[tuple[str, Any, bool], _Plan | None] = {}
_SPEAKERS: dict[str, dict[str, str]] = {}
_CACHE_LIMIT = 50_000


_AGREEMENTS = tuple((quote, speech_span(quote)) for quote in _INTERNAL_AGREEMENT)
# Items whose value names a person, who then speaks for themselves or is not the speaker.
_NAMED = frozenset({"champion", "decision_maker"})


def attach_evidence(
    extracted: dict[str, dict[str, Any]],
    confirmed: dict[str, dict[str, Any]],
    participants: Sequence[Mapping[str, Any]],
    duration: int,
    rng: random.Random,
    *,
    internal: bool,
) -> None:
    """Give every extracted item its `evidence` list (and every confirmed copy of it the
    same list), in place: quotes said by the call's participants inside the item's slot
    of the call (only for the demo's own items, whose values are strings and numbers).

    About one item in eight has none (and so has an item still `refreshing`), about one in
    four has two (on a customer call one from each side, the second answering the first)
    and the rest one. Kept lean, since it runs for every call the sandbox builds: quotes
    and their spans come from a cache, speakers are shared, and each item's times are
    worked out on their own inside its slot.
    """
    if not extracted:
        return
    ours: list[dict[str, str]] = []
    theirs: list[dict[str, str]] = []
    speakers = _SPEAKERS
    for person in participants:
        email = person["email"]
        speaker = speakers.get(email)
        if speaker is None or speaker["name"] != person["name"]:
            if len(speakers) > _CACHE_LIMIT:
                speakers.clear()
            speaker = speakers[email] = {"name": person["name"], "email": email}
        (ours if email.endswith(_OUR_SUFFIX) else theirs).append(speaker)
    internal = internal or not theirs
    plans = _PLANS
    draw = rng.random
    total = duration * 100
    slot_length = int(total * _SLOT_SHARE)
    offset = int(total * _FIRST_SHARE)
    owner = ours[0]
    for key, item in extracted.items():
        evidence: list[dict[str, Any]] = []
        item["evidence"] = evidence
        roll = draw()
        if roll < _NO_EVIDENCE or item["refreshing"]:
            continue
        value = item["value"]
        try:
            plan = plans[key, value, internal]
        except KeyError:
            if len(plans) > _CACHE_LIMIT:
                plans.clear()
            plan = plans[key, value, internal] = _plan(key, value, internal)
        if plan is None:
            continue
        slot, voice, quotes, other, spoken = plan
        quote, span = quotes[int(draw() * len(quotes))]
        pick = draw()
        if voice == REP and pick < 0.8:
            speaker = owner
        elif voice == PROSPECT and key not in _NAMED:
            speaker = theirs[int(pick * len(theirs))]
        else:
            speaker = _speaker(voice, ours, theirs, pick, key, value)
        start = offset + slot * slot_length
        if roll >= _TWO_QUOTES:
            answers: tuple[tuple[str, int], ...] = ()
        elif other == INTERNAL:
            answers = _AGREEMENTS  # a colleague agreeing
        else:
            answers = _said(key, other, spoken)
        if not answers:
            room = slot_length - span - _UNIT_GAP
            start += int(draw() * room) if room > 0 else 0
            evidence.append(
                {
                    "quote": quote,
                    "speaker": speaker,
                    "startTimestamp": start / 100,
                    "endTimestamp": (start + span) / 100,
                }
            )
            continue
        answer, answer_span = answers[int(draw() * len(answers))]
        pick = draw()
        if other == INTERNAL:
            others = [person for person in ours if person is not speaker] or ours
            answerer = others[int(pick * len(others))]
        elif other == REP and pick < 0.8:
            answerer = owner
        else:
            answerer = _speaker(other, ours, theirs, pick, key, value)
        pause = 60 + int(pick * 150)
        room = slot_length - span - pause - answer_span - _UNIT_GAP
        start += int(draw() * room) if room > 0 else 0
        end = start + span
        evidence.append(
            {
                "quote": quote,
                "speaker": speaker,
                "startTimestamp": start / 100,
                "endTimestamp": end / 100,
            }
        )
        evidence.append(
            {
                "quote": answer,
                "speaker": answerer,
                "startTimestamp": (end + pause) / 100,
                "endTimestamp": (end + pause + answer_span) / 100,
            }
        )
    for key, entry in confirmed.items():
        source = extracted.get(key)
        if source is not None and source["id"] == entry["id"]:
            entry["evidence"] = source["evidence"]


def _speaker(
    voice: str,
    ours: list[dict[str, str]],
    theirs: list[dict[str, str]],
    pick: float,
    key: str,
    value: Any,
) -> dict[str, str]:
    """Who says a quote in `voice` (`pick` in [0, 1) chooses): on our side mostly the
    owner (listed first) and now and then a colleague, on the customer's side anyone,
    except that the champion speaks for themselves and the decision maker does not name
    themselves."""
    if voice == REP:
        if pick < 0.8 or len(ours) == 1:
            return ours[0]
        return ours[1 + int((pick - 0.8) / 0.2 * (len(ours) - 1))]
    if voice == INTERNAL:
        return ours[int(pick * len(ours))]
    if key in _NAMED:
        named = [person for person in theirs if str(value).startswith(person["name"] + " ")]
        if named and key == "champion":
            return named[0]
        if named and len(theirs) > 1:
            others = [person for person in theirs if person is not named[0]]
            return others[int(pick * len(others))]
    return theirs[int(pick * len(theirs))]


# --- The detailed transcript -------------------------------------------------------------

# Turns between the evidence, by phase of the call and side. `{first}` is the first name
# of the person spoken to, `{company}` the customer, `{industry}` its industry and
# `{minutes}` the call's length.
_OPENING = {
    REP: (
        "Hi {first}, thanks for making the time today.",
        "Before we start, is it okay if I record this so I can focus on the conversation?",
        "I have us down for {minutes} minutes. I'd like to hear where things stand on your "
        "side first, then show you a few things.",
    ),
    PROSPECT: (
        "Of course, good to see you again.",
        "Sure, recording is fine.",
        "That works, let's dive in.",
    ),
    INTERNAL: (
        "Thanks for jumping on, everyone.",
        "Let's start with {company}, that's the one I'm worried about.",
        "Sure, go ahead.",
    ),
}
_CLOSING = {
    REP: (
        "This was really helpful, thank you.",
        "I'll send a recap with everything we covered today.",
        "Thanks again, {first}. Talk soon.",
    ),
    PROSPECT: (
        "Thanks, this was useful.",
        "Sounds good, looking forward to it.",
        "Thanks, bye now.",
    ),
    INTERNAL: ("Okay, that's the plan.", "Sounds good.", "Thanks, everyone."),
}
_MIDDLE: dict[str, dict[str, tuple[str, ...]]] = {
    "discovery": {
        REP: (
            "Can you walk me through what happens after a customer call today?",
            "How do your managers decide which calls to review?",
            "What does your forecast meeting look like week to week?",
            "Who else at {company} feels this problem?",
            "How are you measuring rep ramp at the moment?",
            "What have you tried so far to fix it?",
            "If nothing changes, what does that cost you this year?",
            "How many reps are on the team today?",
            "That's really helpful.",
            "Tell me more about that.",
            "Is that the same across every region?",
            "How does that play out in a {industry} business like yours?",
            "Walk me through the last deal you lost. What happened?",
            "Where does the handoff from sales to onboarding break down?",
            "What would good look like six months from now?",
            "How much time do your reps spend on admin after a call?",
            "Which teams would use this first?",
            "Who at {company} owns the CRM today?",
            "What made you look at this now rather than next year?",
            "How do you coach new reps today?",
        ),
        PROSPECT: (
            "Right now it's mostly manual.",
            "Reps write notes in a doc and copy them into Salesforce when they remember.",
            "Our managers pick calls more or less at random.",
            "The forecast meeting takes two hours every Monday.",
            "In {industry} the sales cycle is long, so details get lost between calls.",
            "We have about sixty reps across three regions.",
            "We tried a shared template, but nobody kept it up.",
            "New hires shadow senior reps for their first month.",
            "It depends on the manager, honestly.",
            "That's a good question, let me think.",
            "Mostly, yes. The east coast team is a bit more disciplined.",
            "At {company} everything still runs through spreadsheets.",
            "Most of the pipeline reviews happen in a spreadsheet someone exports on Friday.",
            "We lost a big renewal last quarter and nobody saw it coming.",
            "Our reps spend maybe an hour a day on notes and CRM updates.",
            "The managers want to coach, but they can't listen to every call.",
            "The handoff to onboarding is where things fall through the cracks.",
            "Our RevOps team owns Salesforce, and they're stretched thin.",
            "We hired twenty new reps this year, so ramp time really matters.",
            "Honestly, the data in the CRM is only as good as the last rep who touched it.",
            "Leadership asked us to fix forecasting before the next planning cycle.",
        ),
    },
    "product": {
        REP: (
            "Let me share my screen.",
            "This is the view a rep sees right after a call ends.",
            "Every field here is pulled from the conversation, and the rep confirms it before "
            "it goes to the CRM.",
            "Managers get the same view across the whole team.",
            "Here you can jump straight to the moment in the call where it was said.",
            "Scorecards are set up per team, so your managers decide what good looks like.",
            "Can everyone see my screen?",
            "Let me pause there. What questions do you have so far?",
            "This is where the coaching notes live.",
            "We support Salesforce and HubSpot out of the box.",
            "The summary is ready a few minutes after the call ends.",
            "Nothing goes to the CRM until the rep has reviewed it.",
            "Here's the deal view, with every call on the opportunity in one place.",
            "You can search across calls for a competitor or a product name.",
            "Admins decide which fields the AI fills in, per team.",
            "Let me show you how a manager would prepare for a one-on-one.",
            "Recordings follow your retention policy, and you can delete them at any time.",
        ),
        PROSPECT: (
            "Yes, we can see it.",
            "Can the rep edit a value before it's saved?",
            "How long does it take for the summary to show up after a call?",
            "That's the part our managers would love.",
            "Does it handle calls in Spanish and German?",
            "Who can see the recordings?",
            "Okay, that's clearer than I expected.",
            "Can we set this up per team?",
            "How do you handle calls where the customer asks not to be recorded?",
            "That's useful.",
            "What happens if the AI gets a value wrong?",
            "Does it work with our custom fields?",
            "Can managers leave comments on a specific moment?",
            "So the rep stays in control of what goes into Salesforce.",
            "How long does the setup usually take?",
            "Could we try this with one team first?",
            "I like that it links back to the moment in the call.",
        ),
    },
    "commercial": {
        REP: (
            "Pricing is per seat, billed annually.",
            "Our security documentation covers SOC 2 and GDPR, I'll send it over.",
            "Procurement usually wants our standard order form, which I can share today.",
            "We can start with a pilot for one team and expand from there.",
            "What does your procurement process look like at {company}?",
            "Who else needs to be involved before signature?",
            "Is there anything that would stop this from moving forward?",
            "We usually start with a two-week pilot and agree the success criteria up front.",
            "The pilot is free, and it converts into the annual contract if you go ahead.",
            "I'll send over the security pack and our data processing agreement.",
            "Most teams of your size go live within three weeks.",
            "Do you need anything from us for the business case?",
            "We can include onboarding sessions for every team.",
        ),
        PROSPECT: (
            "Procurement will want three quotes, that's standard for us.",
            "Security will send their questionnaire, it's about eighty questions.",
            "Legal takes about two weeks once they have the paper.",
            "A pilot makes sense for us.",
            "I'll need to run the numbers past finance.",
            "Can you send that over in writing?",
            "Nothing I can see right now.",
            "Finance will want to see the business case first.",
            "Our fiscal year starts in February, which affects timing.",
            "We'll need a data processing agreement before legal signs.",
            "I need to check whether this comes out of the sales or the IT budget.",
            "If the pilot works, I don't see a problem getting approval.",
            "Can we pay quarterly instead of annually?",
        ),
    },
    "internal": {
        INTERNAL: (
            "Where are we with {company}?",
            "Their team is engaged, but procurement is slow.",
            "I think we need an executive sponsor on their side.",
            "Do we have a mutual action plan with them?",
            "Let's get the security review started early this time.",
            "What's the risk if this slips a quarter?",
            "I'd want to see the pilot results before we commit the number.",
            "Who owns the relationship with their finance team?",
            "I can help with the technical questions.",
            "Let's make sure the notes in the CRM are current.",
            "Good point.",
            "Makes sense to me.",
            "In {industry} deals like this one usually take a while.",
            "They asked for a security review, so let's get ahead of it.",
            "I'll loop in solutions engineering for the pilot setup.",
            "Their champion is strong, but we haven't met the economic buyer.",
            "Let's send them two customer references in {industry}.",
            "Pricing came up twice, so expect a discount request.",
            "I'd keep the close date where it is until we hear from procurement.",
            "Let's update the opportunity after this call.",
            "Can someone draft the mutual action plan by Friday?",
        ),
    },
}
_BACKCHANNEL = {
    REP: ("Right.", "Got it.", "Makes sense.", "Okay."),
    PROSPECT: ("Mm-hmm.", "Right.", "Sure.", "Okay."),
    INTERNAL: ("Right.", "Okay.", "Got it."),
}
# Said just before a quote, in the same turn, and just after it.
_LEAD_INS = ("Sure.", "Yeah.", "Good question.", "Okay.", "Right.")
_TAILS = {
    PROSPECT: ("That's the big one for us.", "Does that make sense?", "That's where we are today."),
    REP: (
        "Does that sound right?",
        "Let me know if I missed anything.",
        "Correct me if I'm wrong.",
    ),
    INTERNAL: ("That's my read anyway.", "Let me know if you heard it differently."),
}
# The most sentences in one turn (an internal call's pool is smaller, so its turns are).
_MAX_SENTENCES = 9
_MAX_INTERNAL_SENTENCES = 4


@dataclass(frozen=True, slots=True)
class _Anchor:
    """One evidence quote, fixed in time."""

    quote: str
    speaker: dict[str, Any]
    start: int  # centiseconds
    end: int


class _Decks:
    """Sentences drawn without repeats until a pool runs out, then reshuffled."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._decks: dict[tuple[str, str], Iterator[str]] = {}

    def draw(self, phase: str, side: str) -> str:
        key = (phase, side)
        deck = self._decks.get(key)
        sentence = None if deck is None else next(deck, None)
        if sentence is None:
            pool = list(_MIDDLE[phase][side])
            self._rng.shuffle(pool)
            deck = self._decks[key] = iter(pool)
            sentence = next(deck)
        return sentence


def build_transcript(
    attributes: Mapping[str, Any],
    *,
    company: str,
    industry: str,
    rng: random.Random,
) -> dict[str, Any]:
    """The detailed transcript of a demo call, `{"segments": [...]}`: every evidence quote
    of its extracted items at its own time, said by its own speaker, and turns of the
    call's participants around them. A call nobody spoke on (`isEmpty`) or one still
    being transcribed has no segments."""
    duration = attributes["mediaDuration"]
    if attributes["isEmpty"] or attributes["transcriptStatus"] != "completed":
        return {"segments": []}
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    for person in attributes["participants"]:
        speaker = {"name": person["name"], "email": person["email"]}
        (ours if str(person["email"]).endswith(_OUR_SUFFIX) else theirs).append(speaker)
    internal = bool(attributes["isInternal"]) or not theirs
    anchors = sorted(
        (
            _Anchor(
                quote["quote"],
                {"name": quote["speaker"]["name"], "email": quote["speaker"]["email"]},
                round(quote["startTimestamp"] * 100),
                round(quote["endTimestamp"] * 100),
            )
            for item in attributes["extractedIntelligence"].values()
            for quote in item.get("evidence", ())
        ),
        key=lambda anchor: anchor.start,
    )
    total = duration * 100
    wanted = (
        MIN_SEGMENTS
        + round((MAX_SEGMENTS - MIN_SEGMENTS) * (duration - 900) / 2700)
        + rng.randint(-3, 3)
    )
    wanted = min(max(wanted, MIN_SEGMENTS), MAX_SEGMENTS)
    builder = _Builder(
        rng=rng,
        ours=ours,
        theirs=theirs,
        internal=internal,
        context={"company": company, "industry": industry, "minutes": str(duration // 60)},
        total=total,
    )
    return {"segments": builder.build(anchors, max(wanted - len(anchors), 0))}


class _Builder:
    """Lays out one transcript: anchors first, then turns in the gaps between them."""

    def __init__(
        self,
        *,
        rng: random.Random,
        ours: list[dict[str, Any]],
        theirs: list[dict[str, Any]],
        internal: bool,
        context: dict[str, str],
        total: int,
    ) -> None:
        self.rng = rng
        self.ours = ours
        self.theirs = theirs
        self.internal = internal
        self.context = context
        self.total = total
        self.decks = _Decks(rng)
        self.owner_first = ours[0]["name"].split(" ", 1)[0]

    def side(self, speaker: Mapping[str, Any]) -> str:
        if self.internal:
            return INTERNAL
        return REP if str(speaker["email"]).endswith(_OUR_SUFFIX) else PROSPECT

    def build(self, anchors: list[_Anchor], fillers: int) -> list[dict[str, Any]]:
        # Each anchor's turn: an optional lead-in before the quote and a tail after it,
        # when the neighbours leave room. `blocks` are (start, end, text, speaker).
        rng = self.rng
        blocks: list[tuple[int, int, str, dict[str, Any]]] = []
        previous_end = 0
        for number, anchor in enumerate(anchors):
            text, start, end = anchor.quote, anchor.start, anchor.end
            if rng.random() < 0.35:
                lead = _LEAD_INS[rng.randrange(len(_LEAD_INS))]
                lead_start = start - speech_span(lead) - _WORD_GAP - _SENTENCE_PAUSE
                if lead_start >= previous_end + 150:
                    text, start = f"{lead} {text}", lead_start
            following = anchors[number + 1].start if number + 1 < len(anchors) else self.total
            if rng.random() < 0.3:
                tails = _TAILS[self.side(anchor.speaker)]
                tail = tails[rng.randrange(len(tails))]
                gap = _WORD_GAP + (_SENTENCE_PAUSE if anchor.quote[-1] in _SENTENCE_ENDS else 0)
                tail_end = end + gap + speech_span(tail)
                if tail_end <= following - 400:
                    text, end = f"{text} {tail}", tail_end
            blocks.append((start, end, text, anchor.speaker))
            previous_end = end

        # The gaps around the blocks, and how many turns each gets (see `_share`).
        gaps = []
        cursor = 100 + rng.randrange(400)
        for start, end, _, _ in blocks:
            gaps.append((cursor, start))
            cursor = end
        gaps.append((cursor, self.total - 200))
        counts = self._share(gaps, fillers)

        segments: list[dict[str, Any]] = []
        last_speaker: dict[str, Any] | None = None
        for number, ((gap_start, gap_end), count) in enumerate(zip(gaps, counts, strict=True)):
            last_speaker = self._fill(
                segments,
                gap_start,
                gap_end,
                count,
                last_speaker,
                opening=number == 0,
                closing=number == len(gaps) - 1,
            )
            if number < len(blocks):
                start, _, text, speaker = blocks[number]
                words, _ = timed_words(text, start)
                segments.append({"speaker": speaker, "words": words})
                last_speaker = speaker
        return segments

    def _share(self, gaps: list[tuple[int, int]], fillers: int) -> list[int]:
        """Turns per gap: four for the opening and three for the close (room allowing),
        the rest by length (largest remainder); a gap too short for a word gets none."""
        room = [max(end - start - 300, 0) for start, end in gaps]
        counts = [0] * len(gaps)
        for edge, wanted in ((0, 4), (len(gaps) - 1, 3)):
            if room[edge] > 0 and fillers > 0:
                extra = min(wanted, fillers, room[edge] // 400)
                counts[edge] += extra
                fillers -= extra
        usable = sum(room)
        if fillers <= 0 or usable <= 0:
            return counts
        shares = [fillers * length / usable for length in room]
        whole = [int(share) for share in shares]
        left = fillers - sum(whole)
        order = sorted(range(len(gaps)), key=lambda n: (whole[n] - shares[n], n))
        for n in order[:left]:
            whole[n] += 1
        return [count + extra for count, extra in zip(counts, whole, strict=True)]

    def _fill(
        self,
        segments: list[dict[str, Any]],
        gap_start: int,
        gap_end: int,
        count: int,
        last_speaker: dict[str, Any] | None,
        *,
        opening: bool,
        closing: bool,
    ) -> dict[str, Any] | None:
        """`count` turns in the gap, alternating sides. The opening starts with the owner
        and each side's first turns there are its greetings; the call's last turns are
        goodbyes (our side's said by the owner in both). Each turn is written to fit its
        share of the gap; the turns then follow each other closely, and the time left
        over becomes a few longer silences (a screen share, a demo, someone reading)
        between them, never inside the greetings or goodbyes."""
        if count <= 0 or gap_end - gap_start < 200:
            return last_speaker
        rng = self.rng
        share = (gap_end - gap_start) // count
        phase = self._phase((gap_start + gap_end) / 2)
        turns_by_side: dict[str, int] = {}
        turns: list[tuple[dict[str, Any], str, int, bool]] = []
        for number in range(count):
            if opening and number == 0:
                speaker = self.ours[0]
            else:
                speaker = self._next_speaker(last_speaker, owner=opening or closing)
            side = self.side(speaker)
            scripted = None
            from_end = count - 1 - number
            if closing and from_end < len(_CLOSING[side]):
                scripted = _CLOSING[side][-1 - from_end]
            elif opening:
                turn = turns_by_side.get(side, 0)
                turns_by_side[side] = turn + 1
                if turn < len(_OPENING[side]):
                    scripted = _OPENING[side][turn]
            text = self._turn(scripted, phase, side, speaker, share - 150)
            if text is None:
                continue
            turns.append((speaker, text, speech_span(text), scripted is not None))
            last_speaker = speaker
        if not turns:
            return last_speaker
        pauses = [30 + rng.randrange(90) for _ in turns]
        weights = [0.0 if scripted else rng.random() ** 3 for _, _, _, scripted in turns]
        left = gap_end - 60 - gap_start - sum(span for _, _, span, _ in turns) - sum(pauses)
        if left > 0 and sum(weights) > 0:
            scale = left / sum(weights)
            pauses = [
                pause + int(weight * scale) for pause, weight in zip(pauses, weights, strict=True)
            ]
        at = gap_start
        for (speaker, text, span, _), pause in zip(turns, pauses, strict=True):
            at += pause
            words, _ = timed_words(text, at)
            segments.append({"speaker": speaker, "words": words})
            at += span
        return last_speaker

    def _turn(
        self,
        scripted: str | None,
        phase: str,
        side: str,
        speaker: Mapping[str, Any],
        budget: int,
    ) -> str | None:
        """What `speaker` says in a turn of at most `budget` centiseconds: the scripted
        line or a few sentences of the phase, else a backchannel, else nothing."""
        rng = self.rng
        target = budget * (0.6 + 0.35 * rng.random())
        pool_phase = "internal" if side == INTERNAL else phase
        text = self._format(scripted or self.decks.draw(pool_phase, side), speaker)
        if speech_span(text) > budget:
            backchannels = _BACKCHANNEL[side]
            text = backchannels[rng.randrange(len(backchannels))]
            return text if speech_span(text) <= budget else None
        sentences = 1
        most = _MAX_INTERNAL_SENTENCES if side == INTERNAL else _MAX_SENTENCES
        limit = 1 if scripted else rng.randint(2, most)
        while sentences < limit:
            sentence = self._format(self.decks.draw(pool_phase, side), speaker)
            more = f"{text} {sentence}"
            if sentence in text or speech_span(more) > target:
                break
            text = more
            sentences += 1
        return text

    def _phase(self, moment: float) -> str:
        share = moment / self.total
        if share < 0.45:
            return "discovery"
        if share < 0.72:
            return "product"
        return "commercial"

    def _next_speaker(self, last: Mapping[str, Any] | None, *, owner: bool) -> dict[str, Any]:
        """The other side from the last speaker (on an internal call, another colleague):
        on our side the owner, now and then a colleague unless `owner` says the owner
        leads; on theirs anyone."""
        rng = self.rng
        if self.internal:
            others = [person for person in self.ours if person is not last] or self.ours
            return others[rng.randrange(len(others))]
        if last is not None and self.side(last) == REP:
            return self.theirs[rng.randrange(len(self.theirs))]
        if not owner and len(self.ours) > 1 and rng.random() < 0.2:
            return self.ours[1 + rng.randrange(len(self.ours) - 1)]
        return self.ours[0]

    def _format(self, sentence: str, speaker: Mapping[str, Any]) -> str:
        if "{" not in sentence:
            return sentence
        if self.side(speaker) == PROSPECT:
            addressee = self.owner_first
        else:
            people = [person for person in (self.theirs or self.ours) if person is not speaker]
            addressee = (people[0] if people else speaker)["name"].split(" ", 1)[0]
        return sentence.format(first=addressee, **self.context)
