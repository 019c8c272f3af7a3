"""htmx answers: fragments for swaps, whole pages for history restores, and a Vary
header so no cache hands one where the other was asked for."""

import pytest
from django.urls import reverse

from attention_review.reviews.models import Conversation

pytestmark = pytest.mark.django_db

SWAP = {"HX-Request": "true"}
RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


def _vary(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Vary", "").split(",")}


@pytest.fixture
def pages(synced, rep):
    conversation = Conversation.objects.filter(owner=rep, awaiting_review=True).first()
    return [
        reverse("reviews:queue"),
        reverse("reviews:review", args=[conversation.pk]),
    ]


def test_a_swap_gets_a_fragment_that_varies_on_the_htmx_headers(login, rep, pages):
    client = login(rep)
    for url in pages:
        response = client.get(url, headers=SWAP)
        assert response.status_code == 200
        assert b"<html" not in response.content
        assert {"hx-request", "hx-history-restore-request"} <= _vary(response)


def test_a_history_restore_gets_the_whole_page(login, rep, pages):
    client = login(rep)
    for url in pages:
        response = client.get(url, headers=RESTORE)
        assert response.status_code == 200
        assert b"<html" in response.content
        assert b'aria-label="Main"' in response.content
        assert "hx-request" in _vary(response)


def test_the_audit_ledger_restores_as_a_whole_page(login, manager, synced):
    client = login(manager)
    assert b"<html" not in client.get(reverse("reviews:audit"), headers=SWAP).content
    assert b"<html" in client.get(reverse("reviews:audit"), headers=RESTORE).content
