"""A call's detailed transcript: fetched from Attention the first time a reviewer opens
it (or when asked to fetch it again), then kept in `Transcript` for the panel."""

import logging
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone

from attention_review.attention.client import (
    AttentionAuthError,
    AttentionClient,
    AttentionContractError,
    AttentionError,
    AttentionNotFound,
    AttentionUnavailable,
    client_from_settings,
)

from ..models import Conversation, Transcript

logger = logging.getLogger(__name__)


class TranscriptUnavailable(Exception):
    """The transcript could not be fetched; `str()` is a sentence for the reviewer (never
    the API's own text, which stays in the log)."""


def _sentence_for(error: AttentionError) -> str:
    if isinstance(error, AttentionNotFound):
        return "Attention no longer has this call, so its transcript cannot be shown."
    if isinstance(error, AttentionAuthError):
        return (
            "The transcript could not be loaded: Attention did not accept the app's API key. "
            "Please tell an administrator."
        )
    if isinstance(error, AttentionUnavailable):
        return "Attention is not answering right now, so the transcript could not be loaded."
    if isinstance(error, AttentionContractError):
        return "Attention sent a transcript this app could not read."
    return "Attention refused to send the transcript of this call."


def transcript_fetch(
    *,
    conversation: Conversation,
    refresh: bool = False,
    connect: Callable[[], AttentionClient] = client_from_settings,
) -> Transcript | None:
    """The conversation's transcript: the stored one, else (or, with `refresh`, always)
    fetched from Attention and stored. None when Attention has none for the call yet (one
    still being transcribed, say): nothing is stored, so the next open asks again.

    Raises `TranscriptUnavailable` when Attention fails; a stored transcript is kept.
    `connect` opens the client, only when a fetch is needed (a stored transcript can be
    read without an API key)."""
    if not refresh:
        stored = Transcript.objects.filter(conversation=conversation).first()
        if stored is not None:
            return stored
    try:
        with connect() as client:
            fetched = client.get_transcript(conversation.attention_id)
    except AttentionError as error:
        logger.warning(
            "Transcript of conversation %s not fetched: %s: %s",
            conversation.pk,
            type(error).__name__,
            error.detail or error.user_message,
        )
        raise TranscriptUnavailable(_sentence_for(error)) from None
    segments = [segment.stored() for segment in fetched.segments]
    if not segments:
        return None
    return _store(conversation, segments)


def _store(conversation: Conversation, segments: list[dict[str, object]]) -> Transcript:
    """Keep the fetched segments; two reviewers opening the call at once both succeed."""
    values = {"segments": segments, "fetched_at": timezone.now()}
    try:
        with transaction.atomic():
            transcript, _ = Transcript.objects.update_or_create(
                conversation=conversation, defaults=values
            )
    except IntegrityError:  # the other reviewer's fetch created it first
        transcript = Transcript.objects.get(conversation=conversation)
    return transcript
