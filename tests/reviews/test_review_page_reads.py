"""The review page reads like a finished product: values formatted by their type, long
values folded, one list of the people on the call, CRM ids as links when configured."""

import pytest
from django.urls import reverse

from attention_review.reviews.fragment_cache import data_changed
from attention_review.reviews.models import Conversation, FieldSetting
from attention_review.reviews.services.sync import conversation_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(synced, rep) -> Conversation:
    return Conversation.objects.filter(owner=rep, awaiting_review=True).order_by("pk").first()


def page(client, conversation, **cookies) -> str:
    for name, value in cookies.items():
        client.cookies[name] = value
    response = client.get(reverse("reviews:review", args=[conversation.pk]))
    assert response.status_code == 200
    return response.content.decode()


def card(html: str, item) -> str:
    start = html.index(f'id="item-{item.pk}"')
    return html[start : html.index("</article>", start)]


@pytest.fixture
def typed(sandbox, api, conversation):
    sandbox.state.add_typed_items(conversation.attention_id)
    conversation_sync(client=api, full=True)
    return {item.key: item for item in conversation.items.all()}


def test_money_reads_with_its_currency_and_a_date_is_spelled_out(login, rep, conversation, typed):
    html = page(login(rep), conversation)
    assert "$168,000" in card(html, typed["amount"])
    assert ">168000<" not in card(html, typed["amount"])
    assert "Dec 15, 2026" in card(html, typed["close_date"])
    assert "2026-12-15" not in card(html, typed["close_date"]).split("<form")[0]


def test_the_currency_and_the_money_fields_are_the_admins_choice(login, rep, conversation, typed):
    FieldSetting.objects.filter(key="amount").update(currency="EUR")
    FieldSetting.objects.create(key="deal_id_number", display=FieldSetting.Display.MONEY)
    html = page(login(rep), conversation)
    assert "€168,000" in card(html, typed["amount"])
    # A big integer stays exact as money too.
    assert "$9,007,199,254,740,993" in card(html, typed["deal_id_number"])


def test_a_date_time_reads_in_the_readers_zone_with_the_zone_named(
    sandbox, api, login, rep, conversation
):
    sandbox.state.reextract(
        conversation.attention_id,
        add=[{"key": "next_call_at", "title": "Next Call", "value": "2026-12-03T13:00:00Z"}],
    )
    conversation_sync(client=api, full=True)
    item = conversation.items.get(key="next_call_at")
    client = login(rep)
    assert "Dec 3, 2026, 13:00 UTC" in card(page(client, conversation), item)
    assert "Dec 3, 2026, 14:00 CET" in card(page(client, conversation, tz="Europe%2FParis"), item)
    # A zone this server does not know falls back to the site's.
    assert "13:00 UTC" in card(page(client, conversation, tz="Mars%2FOlympus"), item)


def test_a_long_value_is_folded_behind_show_all(sandbox, api, login, rep, conversation):
    long_text = "We need a phased rollout across four regions. " * 12
    sandbox.state.reextract(
        conversation.attention_id,
        add=[{"key": "rollout_plan", "title": "Rollout Plan", "value": long_text.strip()}],
    )
    conversation_sync(client=api, full=True)
    item = conversation.items.get(key="rollout_plan")
    html = card(page(login(rep), conversation), item)
    assert "Show all" in html
    assert '<details class="show-all">' in html
    assert long_text.strip() in html, "the whole value is there, folded"


def test_participants_and_attendees_read_as_one_list(login, rep, conversation):
    conversation.raw["attributes"]["participants"] = [
        {"name": "Dana Cole", "email": "Dana@Customer.example"},
        {"name": "Riley Park", "email": "rep@attention-demo.test", "organizer": True},
    ]
    conversation.raw["attributes"]["attendees"] = [
        {"name": "Dana Cole", "email": "dana@customer.example", "status": "accepted"},
        {"name": "Lee Invited", "email": "lee@customer.example"},
    ]
    conversation.awaiting_review = False
    conversation.save()
    conversation.items.update(is_confirmed=True, confirmed_value="x", needs_review=False)
    html = page(login(rep), conversation)
    assert "People on the call" in html
    assert html.count("Dana@Customer.example") == 1, "the same person once"
    assert "Invited, not in the recording" in html
    assert "Attendees" not in html


def test_crm_record_ids_become_links_only_with_a_template(login, rep, conversation, settings):
    conversation.raw["attributes"]["linkedCrmRecords"] = [
        {"id": "006Cv00000ABCdE", "code": "Opportunity"}
    ]
    conversation.awaiting_review = False
    conversation.save()
    conversation.items.update(is_confirmed=True, confirmed_value="x", needs_review=False)
    client = login(rep)
    assert "lightning/r/" not in page(client, conversation)
    settings.CRM_RECORD_URL_TEMPLATE = (
        "https://acme.lightning.force.com/lightning/r/{type}/{id}/view"
    )
    # A changed setting reaches pages cached before it within their minute; at once here.
    data_changed()
    html = page(client, conversation)
    assert (
        'href="https://acme.lightning.force.com/lightning/r/Opportunity/006Cv00000ABCdE/view"'
        in html
    )
