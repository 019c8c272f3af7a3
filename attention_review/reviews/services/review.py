"""The review of one conversation: drafts saved as they are typed, and the confirm.

Both take the conversation's row lock: a draft change refuses to land while a confirm of
the round is in flight (its success clears the drafts, so the change would be lost
unsent), and the confirm writes one attempt per round under the same lock.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from attention_review.attention import schemas
from attention_review.attention.client import (
    AttentionClient,
    AttentionError,
    AttentionOutcomeUnknown,
)

from ..models import (
    ChangeReason,
    ConfirmationAttempt,
    ConfirmedItem,
    Conversation,
    IntelligenceItem,
)
from ..selectors import review as review_selectors
from ..tasks import export_follow_later
from ..values import same_value
from . import locks
from .sync import conversations_write

logger = logging.getLogger(__name__)


class ReviewError(Exception):
    """A review change or confirm that cannot happen now; the message is for the reviewer."""


class ReviewLocked(ReviewError):
    """Someone else holds the review lock; the message says who, since and until when."""

    def __init__(self, lock: locks.ReviewLock) -> None:
        self.lock = lock
        super().__init__(lock.refusal or locks.SOMEONE_ELSE_REVIEWING)


CONFIRMING = "This review is being confirmed right now, so the change was not saved."

# As long as a value the editor accepts (forms.MAX_VALUE_LENGTH), so no typed value that
# could be saved is ever too long to keep as a draft.
DRAFT_MAX_LENGTH = 10_000
NO_DRAFT: dict[str, Any] = {"draft_text": "", "draft_saved_at": None, "draft_by": None}


# The round lock -----------------------------------------------------------------------


def _write_unless_confirming[T](
    conversation_pk: int, write: Callable[[], T], *, user: User | None = None
) -> T:
    """Take the conversation's row lock, as the confirm does, and run `write` unless a
    confirm of the current round is in flight or unresolved; then raise ReviewError.

    The confirm's success clears the drafts, so a change made meanwhile would be lost
    without ever being sent: it is refused instead, and the reviewer told. With `user`,
    the change is also the user's activity on the review: it takes or renews their
    review lock, and is refused (ReviewError, saying who is reviewing) while the lock is
    someone else's.
    """
    in_flight = ConfirmationAttempt.objects.filter(
        conversation=OuterRef("pk"),
        review_round=OuterRef("review_round"),
        outcome__in=[ConfirmationAttempt.Outcome.PENDING, ConfirmationAttempt.Outcome.UNKNOWN],
    )
    # No savepoint: nothing in the block needs rolling back on its own.
    with transaction.atomic(savepoint=False):
        confirming = (
            Conversation.objects.select_for_update()
            .filter(pk=conversation_pk)
            .annotate(in_flight=Exists(in_flight))
            .values_list("in_flight", flat=True)
            .get()
        )
        lock = None
        if not confirming and user is not None:
            lock = locks.review_lock_take(conversation_pk=conversation_pk, user=user)
        # Refused after the block, never by raising inside it: without a savepoint an
        # exception here would spoil a surrounding transaction.
        if not confirming and (lock is None or lock.held_by_me):
            written = write()
    if confirming:
        raise ReviewError(CONFIRMING)
    if lock is not None and not lock.held_by_me:
        raise ReviewLocked(lock)
    return written


# Decisions ----------------------------------------------------------------------------


class DecisionConflict(ReviewError):
    """Someone else changed the item's decision since this reviewer opened it."""

    def __init__(self, current: IntelligenceItem) -> None:
        self.current = current
        who = current.reviewed_by.get_full_name() if current.reviewed_by else ""
        who = who or (current.reviewed_by.get_username() if current.reviewed_by else "someone")
        super().__init__(
            f"{who} changed “{current.title or current.key}” since you opened it. "
            "Both values are shown: choose the one to keep."
        )


def _item_decide(
    item: IntelligenceItem, user: User, *, version: int | None, **changes: Any
) -> IntelligenceItem:
    """Write a decision in one UPDATE: atomic for the row, so simultaneous saves of one
    item leave one whole decision, never a mix.

    The decision is made against the AI's proposal as it is now. With `version` (the
    version the reviewer's page showed), a decision someone else made meanwhile is never
    overwritten silently: DecisionConflict carries theirs. Raises ReviewError during a
    confirm of the round.
    """
    changes.update(decision_proposal=item.ai_value, reviewed_at=timezone.now(), reviewed_by=user)
    # A decision supersedes the text typed towards it: the draft has served its purpose.
    changes.update(NO_DRAFT)
    rows = IntelligenceItem.objects.filter(pk=item.pk, conversation_id=item.conversation_id)
    if version is not None:
        rows = rows.filter(version=version)
    updated = _write_unless_confirming(
        item.conversation_id, lambda: rows.update(version=F("version") + 1, **changes), user=user
    )
    if not updated:
        current = (
            IntelligenceItem.objects.select_related("reviewed_by", "conversation")
            .filter(pk=item.pk)
            .first()
        )
        if current is None:
            raise ReviewError("This item no longer exists; reload the page.")
        raise DecisionConflict(current)
    for name, value in changes.items():
        setattr(item, name, value)
    item.version = (version if version is not None else item.version) + 1
    return item


def item_save_own(
    *, item: IntelligenceItem, value: Any, user: User, version: int | None = None
) -> IntelligenceItem:
    """The reviewer's own value. The AI's proposal or the CRM's value typed again (even
    with other whitespace or line endings) is that choice, not an edit."""
    if same_value(value, item.ai_value):
        return item_choose(
            item=item, choice=IntelligenceItem.Choice.ACCEPT, user=user, version=version
        )
    if item.is_confirmed and same_value(value, item.confirmed_value):
        return item_choose(
            item=item, choice=IntelligenceItem.Choice.KEEP, user=user, version=version
        )
    return _item_decide(
        item,
        user,
        version=version,
        choice=IntelligenceItem.Choice.OWN,
        decision_value=value,
        is_excluded=False,
    )


def item_choose(
    *, item: IntelligenceItem, choice: str, user: User, version: int | None = None
) -> IntelligenceItem:
    """Accept the AI's current proposal, or keep the value the CRM holds."""
    if choice == IntelligenceItem.Choice.ACCEPT:
        value = item.ai_value
    elif choice == IntelligenceItem.Choice.KEEP:
        if not item.is_confirmed:
            raise ReviewError("The CRM holds no value for this item yet; there is nothing to keep.")
        value = item.confirmed_value
    else:
        raise ReviewError("Choose to keep the CRM value or to accept the AI's proposal.")
    # Accepted or kept: nothing was changed, so no reason for a change is left behind.
    return _item_decide(
        item,
        user,
        version=version,
        choice=choice,
        decision_value=value,
        is_excluded=False,
        change_reason=ChangeReason.NONE,
    )


def item_reset(
    *, item: IntelligenceItem, user: User, version: int | None = None
) -> IntelligenceItem:
    """Undo the decision: the item goes back to its default (the CRM value where there
    is one, else the AI's current proposal) and is included again."""
    return _item_decide(
        item,
        user,
        version=version,
        choice=IntelligenceItem.Choice.NONE,
        decision_value=None,
        is_excluded=False,
        change_reason=ChangeReason.NONE,
    )


def item_set_excluded(
    *, item: IntelligenceItem, excluded: bool, user: User, version: int | None = None
) -> IntelligenceItem:
    """Leave an item out of the confirm, or put it back; its chosen value is kept."""
    changes: dict[str, Any] = {"is_excluded": excluded}
    if not excluded and item.choice != IntelligenceItem.Choice.OWN:
        # Back in with the AI's or the CRM's value: the reason for leaving it out is moot.
        changes["change_reason"] = ChangeReason.NONE
    return _item_decide(item, user, version=version, **changes)


def item_takes_reason(item: IntelligenceItem) -> bool:
    """A reason may be given for an item the reviewer edited or excluded, and only then."""
    return item.is_edited or item.is_excluded


def item_set_reason(*, item: IntelligenceItem, reason: str, user: User) -> IntelligenceItem:
    """Why the reviewer edited or excluded the item (optional, one click; "" clears it).

    Not a decision: the item's version is left alone, so the card's other forms stay
    valid; a later reset, accept or keep clears it. Raises ReviewError for an item that
    was neither edited nor excluded, an unknown reason, during a confirm of the round, or
    while someone else holds the review lock.
    """
    if reason not in ChangeReason.values:
        raise ReviewError("Choose one of the listed reasons.")
    if reason and not item_takes_reason(item):
        raise ReviewError("A reason is only asked for an item you edited or excluded.")
    rows = IntelligenceItem.objects.filter(pk=item.pk, conversation_id=item.conversation_id)
    if reason:
        # Still edited or excluded when the lock is held, not only when the page was read.
        rows = rows.filter(Q(choice=IntelligenceItem.Choice.OWN) | Q(is_excluded=True))
    updated = _write_unless_confirming(
        item.conversation_id, lambda: rows.update(change_reason=reason), user=user
    )
    if not updated:
        raise ReviewError("This item was changed meanwhile; reload to give a reason.")
    item.change_reason = reason
    return item


# Drafts of typed text ------------------------------------------------------------------


def item_save_draft(
    *, item: IntelligenceItem, user: User, text: str, version: int | None = None
) -> IntelligenceItem:
    """Keep the text typed into an item's editor, unvalidated, so a reload loses nothing.

    A draft is never a decision and never sent. Empty text drops the draft. With
    `version` (the item version the editor opened on), a draft typed against a decision
    that has since changed is refused rather than left to reopen over it. Raises
    ReviewError with a message for the reviewer when it cannot be kept.
    """
    if not item.conversation.awaiting_review:
        raise ReviewError("This conversation has been confirmed; the draft was not kept.")
    if not item.is_confirmable:
        raise ReviewError("This item cannot be changed now, so the draft was not kept.")
    if len(text) > DRAFT_MAX_LENGTH:
        raise ReviewError(
            f"The text is too long to keep as a draft (over {DRAFT_MAX_LENGTH:,} characters); "
            "shorten it before saving."
        )
    draft: dict[str, Any] = (
        {"draft_text": text, "draft_saved_at": timezone.now(), "draft_by": user}
        if text.strip()
        else NO_DRAFT
    )
    rows = IntelligenceItem.objects.filter(pk=item.pk, conversation_id=item.conversation_id)
    if version is not None:
        rows = rows.filter(version=version)
    updated = _write_unless_confirming(
        item.conversation_id, lambda: rows.update(**draft), user=user
    )
    if not updated:
        raise ReviewError(
            "This item was decided since the editor opened, so the draft was not kept; "
            "your text is still in the editor."
        )
    for name, value in draft.items():
        setattr(item, name, value)
    return item


def item_discard_draft(*, item: IntelligenceItem, user: User) -> IntelligenceItem:
    """Drop the reviewer's own draft of an item (Cancel); another reviewer's is kept."""
    IntelligenceItem.objects.filter(pk=item.pk, draft_by=user).update(**NO_DRAFT)
    if item.draft_by_id == user.pk:
        for name, value in NO_DRAFT.items():
            setattr(item, name, value)
    return item


@dataclass(frozen=True)
class RestAccepted:
    """What "Accept the rest" did: proposals accepted, and those left for a look."""

    accepted: int
    left_without_evidence: int

    @property
    def summary(self) -> str:
        """'Accepted 6; 2 without evidence left for you.'"""
        left = self.left_without_evidence
        if not self.accepted and not left:
            return "Nothing is left to accept: every other proposal has a decision."
        if not self.accepted:
            return f"Nothing accepted: {left} without evidence left for you."
        if not left:
            return f"Accepted {self.accepted}."
        return f"Accepted {self.accepted}; {left} without evidence left for you."


def review_accept_rest(*, conversation: Conversation, user: User) -> RestAccepted:
    """Accept the AI's proposal for every item "Accept the rest" may take
    (`selectors.review.bulk_acceptance`: bulk-tier, asking, undecided, with evidence),
    each as a single accept would, in one transaction under the round lock: all of them
    or, when anything fails, none. Raises ReviewError during a confirm of the round."""
    if not conversation.awaiting_review:
        raise ReviewError("This conversation has been confirmed; there is nothing to accept.")

    def read_under_lock() -> tuple[list[IntelligenceItem], list[IntelligenceItem]]:
        # Read once the lock is held: no decision can land between this read and the
        # accepts, so each item's version is still current when it is accepted.
        items = list(conversation.items.order_by("position", "pk"))
        review_selectors.annotate_field_settings(items)
        return review_selectors.bulk_acceptance(items)

    with transaction.atomic():
        ready, without_evidence = _write_unless_confirming(
            conversation.pk, read_under_lock, user=user
        )
        for item in ready:
            item_choose(
                item=item, choice=IntelligenceItem.Choice.ACCEPT, user=user, version=item.version
            )
    return RestAccepted(accepted=len(ready), left_without_evidence=len(without_evidence))


def review_open(*, conversation: Conversation) -> None:
    """Note when a review was first opened, for the time-to-confirm figures."""
    if conversation.awaiting_review and conversation.review_opened_at is None:
        now = timezone.now()
        updated = Conversation.objects.filter(
            pk=conversation.pk, review_opened_at__isnull=True
        ).update(review_opened_at=now)
        if updated:
            conversation.review_opened_at = now


def opportunity_choose(
    *, conversation: Conversation, opportunity_id: str, user: User | None = None
) -> None:
    """Remember the opportunity the reviewer picked (blank: Attention's default); with
    `user`, refused while someone else holds the review lock."""
    if opportunity_id == conversation.default_opportunity_id:
        opportunity_id = ""
    _write_unless_confirming(
        conversation.pk,
        lambda: Conversation.objects.filter(pk=conversation.pk).update(
            draft_opportunity_id=opportunity_id
        ),
        user=user,
    )
    conversation.draft_opportunity_id = opportunity_id


# Confirm ------------------------------------------------------------------------------


def _pending_is_stale(attempt: ConfirmationAttempt) -> bool:
    """A pending attempt older than any call could take was cut off (a crash, a kill)."""
    limit = settings.ATTENTION_CONNECT_TIMEOUT + settings.ATTENTION_READ_TIMEOUT
    limit = limit * (settings.ATTENTION_MAX_RETRIES + 1) + settings.ATTENTION_RETRY_AFTER_CAP
    return attempt.started_at < timezone.now() - timedelta(seconds=limit)


def _confirm_request(
    conversation: Conversation,
) -> tuple[schemas.ConfirmRequest, list[IntelligenceItem]]:
    """The request body and the items it decides: every item the AI reports and has
    finished with. An item the AI withdrew is never sent."""
    items = [item for item in conversation.items.order_by("position", "pk") if item.is_confirmable]
    # The fields that move forecasts are never confirmed on a default: the page disables
    # Confirm with the same sentence, and a post without the page is refused here.
    review_selectors.annotate_field_settings(items)
    if refusal := review_selectors.sign_off_refusal(items):
        raise ReviewError(refusal)
    included = [item for item in items if item.will_be_sent]
    if not included:
        raise ReviewError("Every item is excluded: include at least one item to confirm.")
    request = schemas.ConfirmRequest(
        intelligence=[
            schemas.ConfirmItem(
                id=item.item_id, key=item.key, value=item.outgoing_value, title=item.title
            )
            for item in included
        ],
        opportunity_id=conversation.opportunity_id or None,
    )
    return request, items


def _differs_from_proposal(item: IntelligenceItem) -> bool:
    """Sent, with another value than the AI proposed: an edit, for the audit."""
    return item.will_be_sent and not same_value(item.outgoing_value, item.ai_value)


def review_confirm(
    *, conversation_pk: int, review_round: int, user: User, client: AttentionClient
) -> ConfirmationAttempt:
    """Confirm a review round through the API, once.

    1. Under a row lock, find the round's live attempt or write a pending one (the
       database refuses a second live attempt per round).
    2. Call the API outside any transaction.
    3. Record the outcome; when it is unknown, read the conversation back to learn it.
    A late or repeated request gets the first attempt, never a second API call.
    """
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_pk)
        live = (
            conversation.confirmation_attempts.filter(
                review_round=review_round,
                outcome__in=[
                    ConfirmationAttempt.Outcome.PENDING,
                    ConfirmationAttempt.Outcome.UNKNOWN,
                    ConfirmationAttempt.Outcome.SUCCEEDED,
                ],
            )
            .select_for_update()
            .first()
        )
        if live is None and conversation.gone_at is not None:
            raise ReviewError(
                "Attention no longer has this conversation (it was deleted there), so it "
                "cannot be confirmed. It is kept here for the audit."
            )
        if live is None and not conversation.awaiting_review:
            # Confirmed already (or nothing to review): never post again, show the result.
            confirmed = conversation.confirmation_attempts.filter(
                outcome=ConfirmationAttempt.Outcome.SUCCEEDED
            ).first()
            if confirmed is not None:
                return confirmed
            raise ReviewError("Nothing in this conversation awaits review.")
        if live is None and review_round != conversation.review_round:
            raise ReviewError("This review has changed since the page was loaded; reload it.")
        if live is None and locks.lock_held_by_other(conversation, user):
            raise ReviewError(locks.lock_refusal_for(conversation))
        if live is None:
            request, items = _confirm_request(conversation)
            # An earlier try of this round lost its answer and was not applied when read
            # back; the API may have applied it since (a slow request lands late).
            check_first = conversation.confirmation_attempts.filter(
                review_round=review_round,
                outcome=ConfirmationAttempt.Outcome.FAILED,
                resolved_by_readback=True,
            ).exists()
            attempt = ConfirmationAttempt.objects.create(
                conversation=conversation,
                review_round=review_round,
                user=user,
                opportunity_id=request.opportunity_id or "",
                review_opened_at=conversation.review_opened_at,
                request_body=request.to_json(),
                items_sent=len(request.intelligence),
                items_edited=sum(1 for item in items if _differs_from_proposal(item)),
                items_excluded=sum(1 for item in items if item.is_excluded),
            )
            ConfirmedItem.objects.bulk_create(
                ConfirmedItem(
                    attempt=attempt,
                    item_id=item.item_id,
                    key=item.key,
                    title=item.title,
                    ai_value=item.ai_value,
                    sent_value=item.outgoing_value if item.will_be_sent else None,
                    crm_value_before=item.confirmed_value,
                    had_crm_value=item.is_confirmed,
                    choice=item.effective_choice,
                    is_edited=_differs_from_proposal(item),
                    is_excluded=item.is_excluded,
                    # Only an edit or an exclusion has a reason; a stale one is not copied.
                    change_reason=item.change_reason if item_takes_reason(item) else "",
                )
                for item in items
            )
    if live is not None:
        if live.outcome == ConfirmationAttempt.Outcome.SUCCEEDED:
            return live
        if live.outcome == ConfirmationAttempt.Outcome.PENDING and not _pending_is_stale(live):
            return live  # another request is confirming this round right now
        return confirmation_reconcile(attempt=live, client=client)

    if check_first:
        # Read back before posting, so a late-landing earlier try is not written twice.
        try:
            applied = _read_back(attempt, client)
        except AttentionError as error:
            _attempt_finish(attempt, ConfirmationAttempt.Outcome.FAILED, error=error)
            return attempt
        if applied is not None:
            return _confirmation_succeed_by_read_back(attempt, applied)

    started = time.monotonic()
    try:
        resource = client.confirm_intelligence(conversation.attention_id, request)
    except AttentionOutcomeUnknown as error:
        _attempt_finish(attempt, ConfirmationAttempt.Outcome.UNKNOWN, error=error, started=started)
        return confirmation_reconcile(attempt=attempt, client=client)
    except AttentionError as error:
        # The API refused or was never reached: it did not act, the decisions stay.
        _attempt_finish(attempt, ConfirmationAttempt.Outcome.FAILED, error=error, started=started)
        return attempt
    except Exception:
        # Not Attention's answer but our own failure after the body may have been sent:
        # the outcome is unknown. Recorded so the review is not held by a pending attempt
        # until it goes stale; the next confirm reads back before anything is posted.
        logger.exception("Confirm of conversation %s failed inside the app", conversation.pk)
        _attempt_mark_unknown(attempt, started=started)
        return attempt
    return _confirmation_succeed(attempt=attempt, resource=resource, started=started)


def _attempt_mark_unknown(attempt: ConfirmationAttempt, *, started: float | None) -> None:
    attempt.outcome = ConfirmationAttempt.Outcome.UNKNOWN
    attempt.error = (
        "Something went wrong on our side while Attention was answering, so it is not known "
        "yet whether the confirmation landed. Your decisions are saved; check again in a "
        "moment (the app reads back from Attention before sending anything twice)."
    )
    attempt.finished_at = timezone.now()
    fields = ["outcome", "error", "finished_at"]
    if started is not None:
        attempt.api_milliseconds = round((time.monotonic() - started) * 1000)
        fields.append("api_milliseconds")
    attempt.save(update_fields=fields)


def _attempt_finish(
    attempt: ConfirmationAttempt,
    outcome: str,
    *,
    error: AttentionError,
    started: float | None = None,
) -> None:
    attempt.outcome = outcome
    attempt.error = error.user_message[:2000]
    attempt.finished_at = timezone.now()
    fields = ["outcome", "error", "finished_at"]
    if started is not None:
        attempt.api_milliseconds = round((time.monotonic() - started) * 1000)
        fields.append("api_milliseconds")
    attempt.save(update_fields=fields)


def _read_back(
    attempt: ConfirmationAttempt, client: AttentionClient
) -> schemas.Conversation | None:
    """Read the conversation back: the resource when Attention's confirmed intelligence
    holds every value the attempt sent, else None. Raises AttentionError when the read
    itself fails (the outcome is then still unknown)."""
    resource = client.get_conversation(attempt.conversation.attention_id)
    confirmed = {
        item.id: item.value
        for item in resource.attributes.confirmed_extracted_intelligence.values()
    }
    sent = attempt.request_body.get("intelligence", [])
    # Compared by meaning: Attention may store 50000 as "50000", or trim a text.
    applied = bool(sent) and all(
        item["id"] in confirmed and same_value(confirmed[item["id"]], item.get("value"))
        for item in sent
    )
    return resource if applied else None


def _confirmation_succeed_by_read_back(
    attempt: ConfirmationAttempt, resource: schemas.Conversation
) -> ConfirmationAttempt:
    attempt.resolved_by_readback = True
    return _confirmation_succeed(attempt=attempt, resource=resource, started=None)


def confirmation_reconcile(
    *, attempt: ConfirmationAttempt, client: AttentionClient
) -> ConfirmationAttempt:
    """Learn whether an attempt of unknown outcome was applied, by reading it back."""
    try:
        applied = _read_back(attempt, client)
    except AttentionError as error:
        # Still unknown: keep the attempt live so nothing is posted again until we know.
        _attempt_finish(attempt, ConfirmationAttempt.Outcome.UNKNOWN, error=error)
        attempt.error = (
            "Attention did not say whether it received the confirmation, and could not be "
            "reached to check. Your edits are saved; check again in a moment."
        )
        attempt.save(update_fields=["error"])
        return attempt
    if applied is not None:
        return _confirmation_succeed_by_read_back(attempt, applied)
    attempt.outcome = ConfirmationAttempt.Outcome.FAILED
    attempt.error = (
        "Attention has no record of this confirmation. Your edits are saved; confirm again "
        "(the app checks with Attention first, so nothing is sent twice)."
    )
    attempt.finished_at = timezone.now()
    attempt.resolved_by_readback = True
    attempt.save(update_fields=["outcome", "error", "finished_at", "resolved_by_readback"])
    return attempt


def _confirmation_succeed(
    *, attempt: ConfirmationAttempt, resource: schemas.Conversation, started: float | None
) -> ConfirmationAttempt:
    """Record a confirmed round and refresh the conversation from what Attention returned.

    Each decision of the round is settled: it carries into the next round, and the item
    asks again only when the AI proposes something new. The answer is never taken as the
    full list of items: maps it leaves out or sends empty change nothing, and what was
    sent stands as the CRM's value until Attention reports otherwise.
    """
    reported = {
        item.id: item.value
        for item in resource.attributes.confirmed_extracted_intelligence.values()
    }
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=attempt.conversation_id)
        decided = {entry.item_id: entry for entry in attempt.items.all()}
        stored_differently = []
        for item in conversation.items.filter(item_id__in=decided):
            entry = decided[item.item_id]
            changes: dict[str, Any] = {
                "is_decided": True,
                "decided_ai_value": entry.ai_value,
                "decision_proposal": entry.ai_value,
                # The round is closed: text typed but never saved was not part of it.
                **NO_DRAFT,
            }
            if not item.choice:
                # The default the reviewer confirmed becomes their decision.
                changes.update(choice=entry.choice, decision_value=entry.sent_value)
            if not entry.is_excluded:
                changes.update(is_confirmed=True, confirmed_value=entry.sent_value)
                if item.item_id in reported and not same_value(
                    reported[item.item_id], entry.sent_value
                ):
                    stored_differently.append(
                        {
                            "item_id": item.item_id,
                            "title": item.title or item.key,
                            "sent": entry.sent_value,
                            "stored": reported[item.item_id],
                        }
                    )
            IntelligenceItem.objects.filter(pk=item.pk).update(**changes)
        attempt.outcome = ConfirmationAttempt.Outcome.SUCCEEDED
        attempt.response_body = resource.model_dump(mode="json", by_alias=True)
        attempt.stored_differently = stored_differently
        attempt.error = ""
        attempt.finished_at = timezone.now()
        fields = [
            "outcome",
            "response_body",
            "stored_differently",
            "error",
            "finished_at",
            "resolved_by_readback",
        ]
        if started is not None:
            attempt.api_milliseconds = round((time.monotonic() - started) * 1000)
            fields.append("api_milliseconds")
        attempt.save(update_fields=fields)
        if stored_differently:
            logger.warning(
                "Attention stored %d item(s) of conversation %s differently than sent",
                len(stored_differently),
                conversation.pk,
            )
        # The round is closed: what Attention now holds decides whether it awaits review.
        Conversation.objects.filter(pk=conversation.pk).update(force_review=False)
        conversations_write(resources=[resource])
        Conversation.objects.filter(pk=conversation.pk).update(
            review_round=conversation.review_round + 1,
            review_opened_at=None,
            draft_opportunity_id="",
            last_confirmed_at=attempt.finished_at,
            last_confirmed_by_id=attempt.user_id,
            export_failed=False,
            crm_export_error="",
            # The review is over: nobody is reviewing it now (a best-effort release; an
            # unreleased lock would expire anyway), and an admin's reason for returning
            # it has been answered.
            locked_by=None,
            locked_until=None,
            return_reason="",
            returned_by=None,
            returned_at=None,
        )
        # Confirmed is not yet in the CRM: follow Attention's export until it is final.
        transaction.on_commit(lambda: _follow_export(conversation.pk))
    return attempt


def _follow_export(conversation_pk: int) -> None:
    conversation = Conversation.objects.filter(pk=conversation_pk).first()
    if conversation is not None:
        export_follow_later(conversation)
