"""Evidence beside every value, and the transcript panel, over HTTP against the sandbox:
a sync stores each item's quotes, the review page labels them (stated by the prospect,
stated by us, inferred, no evidence), a quote's time opens the transcript at the quote
with its words marked, and no shape of evidence or transcript, nor a failing Attention,
ever breaks a page."""

import re

import pytest
from django.urls import reverse

from attention_review.demo import DEMO_DOMAIN
from attention_review.reviews.models import (
    AttentionUser,
    Conversation,
    IntelligenceItem,
    Transcript,
)
from attention_review.reviews.selectors import evidence as evidence_selectors
from attention_review.reviews.services.sync import conversation_sync
from tests.conftest import TEST_API_KEY
from tests.fixtures import attention_example

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
OURS = "@" + DEMO_DOMAIN


def review_page(client, conversation) -> str:
    response = client.get(reverse("reviews:review", args=[conversation.pk]))
    assert response.status_code == 200
    return response.content.decode()


def card(page: str, item: IntelligenceItem) -> str:
    """The item's card in the page's HTML."""
    start = page.index(f'id="item-{item.pk}"')
    return page[start : page.index("</article>", start)]


def spoken(value) -> str:
    """The value as the sandbox's quotes write it (`$168,000` for an amount)."""
    return f"${value:,}" if isinstance(value, int) else str(value)


def rep_items(rep):
    """The rep's items awaiting review that a card shows, in a stable order."""
    return IntelligenceItem.objects.filter(
        conversation__owner=rep,
        conversation__awaiting_review=True,
        needs_review=True,
        refreshing=False,
    ).order_by("conversation__started_at", "position")


def first_item(rep, test):
    for item in rep_items(rep):
        if test(item):
            return item
    raise AssertionError("no item of the demo data fits")


def quotes_by(item, side):
    mine = [quote for quote in item.evidence if quote["speaker_email"].endswith(OURS)]
    return mine if side == "us" else [q for q in item.evidence if q not in mine]


def states_value(item, side):
    return any(spoken(item.ai_value) in quote["quote"] for quote in quotes_by(item, side))


# --- What the sync stores -----------------------------------------------------------------


def test_a_sync_stores_every_items_quotes_as_the_sandbox_serves_them(sandbox, rep, synced):
    conversation = Conversation.objects.filter(owner=rep, awaiting_review=True).first()
    served = sandbox.state.conversation(conversation.attention_id)["attributes"]
    for entry in served["extractedIntelligence"].values():
        item = conversation.items.get(item_id=entry["id"])
        assert item.evidence == [
            {
                "quote": quote["quote"],
                "speaker_name": quote["speaker"]["name"],
                "speaker_email": quote["speaker"]["email"],
                "start": quote["startTimestamp"],
                "end": quote["endTimestamp"],
            }
            for quote in entry["evidence"]
        ]
    items = IntelligenceItem.objects.filter(conversation__owner=rep)
    assert items.filter(evidence=[]).exists()
    assert items.exclude(evidence=[]).exists()


def test_evidence_follows_each_sync_and_leaves_the_decision_alone(sandbox, api, login, rep, synced):
    client = login(rep)
    item = first_item(rep, lambda item: isinstance(item.ai_value, str) and item.evidence)
    response = client.post(
        reverse("reviews:item-choose", args=[item.conversation_id, item.pk]),
        {"choice": "accept", "version": item.version},
    )
    assert response.status_code == 302
    served = sandbox.state.conversation(item.conversation.attention_id)["attributes"]
    entry = next(e for e in served["extractedIntelligence"].values() if e["id"] == item.item_id)
    new_quote = {
        "quote": f"Just to repeat it: {item.ai_value}",
        "speaker": {"name": "Someone", "email": "someone@prospect.example"},
        "startTimestamp": 12.5,
        "endTimestamp": 15,
    }
    sandbox.state.reextract(
        item.conversation.attention_id,
        withdraw=[entry["key"]],
        add=[{**entry, "evidence": [new_quote]}],
    )
    conversation_sync(client=api, full=True)
    item.refresh_from_db()
    assert item.evidence == [
        {
            "quote": new_quote["quote"],
            "speaker_name": "Someone",
            "speaker_email": "someone@prospect.example",
            "start": 12.5,
            "end": 15.0,
        }
    ]
    assert item.choice == IntelligenceItem.Choice.ACCEPT
    assert item.decision_is_current
    assert "Stated by the prospect" in card(review_page(client, item.conversation), item)


# --- Labels on the review page ------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "fits"),
    [
        (
            "Stated by the prospect",
            lambda item: item.key == "pain_points" and states_value(item, "prospect"),
        ),
        (
            "Stated by us",
            lambda item: (
                item.key == "amount"
                and states_value(item, "us")
                and not states_value(item, "prospect")
            ),
        ),
        (
            "Inferred",
            lambda item: (
                item.key == "stage"
                and item.evidence
                and not any(
                    item.ai_value.lower() in quote["quote"].lower() for quote in item.evidence
                )
            ),
        ),
        ("No evidence", lambda item: item.evidence == []),
    ],
)
def test_each_card_says_what_its_value_rests_on(login, rep, synced, label, fits):
    item = first_item(rep, fits)
    shown = card(review_page(login(rep), item.conversation), item)
    assert f">{label}</span>" in shown
    for other in {"Stated by the prospect", "Stated by us", "Inferred", "No evidence"} - {label}:
        assert f">{other}</span>" not in shown
    for quote in item.evidence:
        assert quote["speaker_name"] in shown
        side = "our side" if quote["speaker_email"].endswith(OURS) else "prospect"
        assert f"({side})" in shown
        minutes, seconds = divmod(int(quote["start"]), 60)
        assert f"</span>{minutes}:{seconds:02d}</a>" in shown


def test_the_amount_is_stated_whatever_way_the_number_is_written():
    states = evidence_selectors.states
    assert states("That comes to $168,000 a year.", 168000)
    assert states("That comes to $168,000 a year.", "168000")
    assert states("That comes to 168 000 a year.", 168000) is False
    assert states("We budgeted $177k annual, approved by CFO.", "$177K annual, approved by CFO")
    assert states("About $1.5m over three years", 1_500_000)
    assert states("It's 2.50 per seat", 2.5)
    assert states("We're in the PROPOSAL stage!", "proposal")
    assert states("Gong and Chorus, mostly", ["Chorus", "Gong"])
    assert not states("Gong, mostly", ["Chorus", "Gong"])
    assert not states("proposals are welcome", "proposal")
    assert not states("Yes, definitely.", True)
    assert not states("Anything at all", None)
    assert not states("Anything at all", "")


def test_sides_come_from_the_setting_else_from_the_organisations_users(settings, rep, synced):
    settings.ORGANIZATION_EMAIL_DOMAINS = []
    domains = evidence_selectors.our_domains()
    assert domains == {
        email.rsplit("@", 1)[1]
        for email in AttentionUser.objects.values_list("email", flat=True)
        if email
    }
    assert DEMO_DOMAIN in domains
    settings.ORGANIZATION_EMAIL_DOMAINS = ["@Example.COM", " acme.test "]
    domains = evidence_selectors.our_domains()
    assert domains == {"example.com", "acme.test"}
    side = evidence_selectors.side_of
    assert side("ann@example.com", domains) == "us"
    assert side("ann@eu.acme.test", domains) == "us"
    assert side("ann@notacme.test", domains) == "prospect"
    assert side("Ann Lee", domains) == ""
    assert side("ann@example.com", frozenset()) == ""


def test_with_our_domains_set_our_reps_read_as_the_prospect(login, settings, rep, synced):
    """The setting is the organisation's word: a domain left out of it is the other side."""
    settings.ORGANIZATION_EMAIL_DOMAINS = ["elsewhere.example"]
    item = first_item(
        rep, lambda item: states_value(item, "us") and not states_value(item, "prospect")
    )
    shown = card(review_page(login(rep), item.conversation), item)
    assert ">Stated by the prospect</span>" in shown


# --- The transcript -----------------------------------------------------------------------


@pytest.fixture
def quoted(login, rep, synced):
    """A rep's item with one quote, its quote and the rep's logged-in client."""
    item = first_item(rep, lambda item: len(item.evidence) == 1)
    return login(rep), item, item.evidence[0]


def time_link(client, item) -> str:
    """The `<a>` of the item's quote time."""
    (link,) = re.findall(
        r"<a [^>]*data-transcript-link[^>]*>", card(review_page(client, item.conversation), item)
    )
    return link.replace("&amp;", "&")


def test_a_quotes_time_opens_the_transcript_at_the_quote_with_its_words_marked(sandbox, quoted):
    client, item, quote = quoted
    path, anchor = re.search(r'href="([^"]*)"', time_link(client, item))[1].split("#")
    assert anchor == f"t-{int(quote['start'])}"
    assert f"at={quote['start']:g}" in path

    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html
    segment = html[html.index(f'id="{anchor}"') :]
    segment = segment[: segment.index("</li>")]
    assert re.findall(r"<mark>(.*?)</mark>", segment) == [quote["quote"].replace("'", "&#x27;")]
    assert quote["speaker_name"] in segment
    assert html.count("<mark>") == 2  # the quote, and "marked" in the note above it
    assert Transcript.objects.filter(conversation=item.conversation).exists()

    # The panel (htmx) is the fragment alone, read from what is stored.
    calls = sandbox.state.request_count("detailedTranscript=true")
    fragment = client.get(path, headers=HTMX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert 'id="transcript-title"' in fragment.content.decode()
    assert f'id="{anchor}"' in fragment.content.decode()
    assert sandbox.state.request_count("detailedTranscript=true") == calls == 1
    assert "HX-Request" in fragment["Vary"]


def test_the_transcript_link_carries_the_panel_target(quoted):
    client, item, quote = quoted
    link = time_link(client, item)
    assert 'hx-target="#transcript-panel"' in link
    assert 'hx-swap="innerHTML"' in link
    assert 'hx-push-url="false"' in link
    hx_get = re.search(r'hx-get="([^"]*)"', link)[1]
    href = re.search(r'href="([^"]*)"', link)[1]
    assert href == f"{hx_get}#t-{int(quote['start'])}"
    page = review_page(client, item.conversation)
    assert '<aside id="transcript-panel"' in page
    assert "js/transcript" in page


@pytest.mark.parametrize(
    ("fault", "sentence"),
    [
        ({"kind": "status", "status": 503, "times": None}, "Attention is not answering right now"),
        ({"kind": "status", "status": 404}, "Attention no longer has this call"),
        ({"kind": "status", "status": 401, "echo_key": True}, "did not accept the app"),
        ({"kind": "status", "status": 422, "detail": "Raw API words"}, "refused to send"),
        ({"kind": "malformed_json"}, "could not read"),
    ],
)
def test_a_failed_fetch_says_so_in_a_sentence(sandbox, quoted, fault, sentence):
    client, item, quote = quoted
    for headers in ({}, HTMX):
        sandbox.state.add_fault(path_contains="detailedTranscript", **fault)
        response = client.get(
            reverse("reviews:transcript", args=[item.conversation_id]),
            {"at": quote["start"], "until": quote["end"]},
            headers=headers,
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert sentence in html
        assert 'role="alert"' in html
        assert "Try again" in html
        assert "refresh=1" in html
        assert TEST_API_KEY not in html
        assert "Raw API words" not in html
        sandbox.state.clear_faults()
    assert not Transcript.objects.exists()


def test_a_stored_transcript_is_shown_while_attention_fails(sandbox, quoted):
    client, item, quote = quoted
    url = reverse("reviews:transcript", args=[item.conversation_id])
    assert client.get(url).status_code == 200
    sandbox.state.add_fault(kind="status", status=503, times=None)
    html = client.get(url, {"at": quote["start"], "until": quote["end"]}).content.decode()
    assert quote["quote"].split()[0] in html
    assert "not answering" not in html
    refreshed = client.get(url, {"refresh": "1"}).content.decode()
    assert "not answering right now" in refreshed
    assert Transcript.objects.get(conversation=item.conversation).segments  # kept


def test_the_transcript_is_only_for_who_may_see_the_call(client_factory, quoted, rep2):
    _, item, _ = quoted
    url = reverse("reviews:transcript", args=[item.conversation_id])
    assert client_factory(rep2).get(url).status_code == 404


@pytest.mark.parametrize("moment", ["soon", "-4", "nan", "1e12", ""])
def test_a_moment_that_is_no_moment_opens_the_transcript_at_the_top(quoted, moment):
    client, item, _ = quoted
    url = reverse("reviews:transcript", args=[item.conversation_id])
    html = client.get(url, {"at": moment, "until": moment}).content.decode()
    assert "<mark>" not in html
    assert "transcript-line" in html


# --- Odd shapes never break a page --------------------------------------------------------


def test_odd_evidence_is_shown_as_far_as_it_can_be_read(sandbox, api, login, rep, synced):
    conversation = Conversation.objects.filter(owner=rep, awaiting_review=True).first()
    sandbox.state.reextract(
        conversation.attention_id,
        add=[
            {
                "key": "odd_evidence",
                "value": "Quarterly billing",
                "evidence": [
                    5,
                    "a bare string",
                    {"quote": None},
                    {"quote": "They asked for quarterly billing.", "speaker": "Jane"},
                    {
                        "quote": "Quarterly billing works",
                        "speaker": {"email": 5},
                        "startTimestamp": "abc",
                    },
                    {"quote": "x" * 5000, "startTimestamp": 1e15},
                ],
            },
            {"key": "evidence_not_a_list", "value": "Yes", "evidence": []},
        ],
    )
    conversation_sync(client=api, full=True)
    item = conversation.items.get(key="odd_evidence")
    assert [quote["quote"][:20] for quote in item.evidence] == [
        "They asked for quart",
        "Quarterly billing wo",
        "x" * 20,
    ]
    shown = card(review_page(login(rep), conversation), item)
    assert "Jane" in shown
    assert "(side unknown)" in shown
    assert "Unknown speaker" in shown
    assert ">Stated in the call</span>" in shown
    assert "data-transcript-link" not in shown  # no quote has a moment to open


def test_an_odd_transcript_never_breaks_the_panel(sandbox, api, login, rep, synced):
    example = attention_example("confirm-response.json")
    example["attributes"]["userUUID"] = AttentionUser.objects.get(user=rep).attention_uuid
    example["attributes"]["createdAt"] = "2099-01-01T10:00:00Z"
    example["attributes"]["extractedIntelligence"] = {
        "next_steps": {
            "id": "i-next",
            "key": "next_steps",
            "value": "Send the order form",
            "title": "Next steps",
            "category": "CRM",
            "evidence": [
                {
                    "quote": "I'll send the order form.",
                    "speaker": "Jane Smith",
                    "startTimestamp": "61",
                    "endTimestamp": "62.5",
                }
            ],
        }
    }
    example["attributes"]["transcript"] = [
        "junk",
        {
            "speaker": "John Doe",
            "words": [{"text": "Hello"}, 7, {"text": "all.", "startTimestamp": 2}],
        },
        {
            "speaker": "Jane Smith",
            "text": "I'll send the order form.",
            "startTimestamp": 61,
            "endTimestamp": 62.5,
        },
        {"speaker": {"name": ["odd"]}, "words": "not words"},
    ]
    sandbox.state.add_conversation(example)
    conversation_sync(client=api, full=True)
    conversation = Conversation.objects.get(attention_id=example["id"])
    item = conversation.items.get(key="next_steps")
    client = login(rep)
    shown = card(review_page(client, conversation), item)
    # Jane Smith is a participant: her email (example.com's) places her.
    assert "Jane Smith" in shown
    assert "1:01" in shown
    response = client.get(
        reverse("reviews:transcript", args=[conversation.pk]), {"at": "61", "until": "62.5"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Hello all." in html
    assert "<mark>I&#x27;ll send the order form.</mark>" in html
    assert 'id="t-61"' in html


@pytest.mark.parametrize(
    ("quote", "said"),
    [
        ("We aim to sign by January 15, if legal agrees.", True),
        ("Let's say the 15th of Jan.", True),
        ("15 January works for us.", True),
        ("Early in the new year.", False),
        ("By March 15.", False),
    ],
)
def test_a_date_is_stated_the_way_people_say_it(quote, said):
    assert evidence_selectors.states(quote, "2027-01-15") is said
