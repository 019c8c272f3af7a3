"""What the dashboard must remember: conversations as last seen in Attention, their
intelligence items with the reviewer's drafts, and every sync run."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .values import same_value


class Team(models.Model):
    """A team in Attention; managers are set per team in the admin."""

    attention_uuid = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="managed_teams", blank=True
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name or self.attention_uuid


class AttentionUser(models.Model):
    """A user of Attention (the owner of conversations), linked to an app user by email."""

    attention_uuid = models.CharField(max_length=64, unique=True)
    email = models.EmailField(blank=True, db_index=True)
    name = models.CharField(max_length=200, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attention_identities",
    )

    class Meta:
        verbose_name = "Attention user"

    def __str__(self) -> str:
        return self.email or self.attention_uuid


# `crmExportStatus` values that end the write to the CRM (compared in lower case).
EXPORT_DONE = frozenset({"exported", "success", "succeeded", "completed", "complete", "done"})
EXPORT_FAILED = frozenset({"failed", "failure", "error", "errored", "rejected"})


class Conversation(models.Model):
    """A recorded call as Attention last described it, with the queue's computed state."""

    attention_id = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=500)
    started_at = models.DateTimeField(help_text="Attention's createdAt")
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    owner_attention_uuid = models.CharField(max_length=64, blank=True, db_index=True)
    team_attention_uuid = models.CharField(max_length=64, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        help_text="The app user who owns this call (its Attention user, matched by email)",
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    participant_count = models.PositiveIntegerField(default=0)
    is_internal = models.BooleanField(default=False)
    is_empty = models.BooleanField(default=False)
    archived = models.BooleanField(default=False)
    private = models.BooleanField(default=False)
    crm_export_status = models.CharField(max_length=50, blank=True)
    crm_export_error = models.TextField(
        blank=True, help_text="Why the write to the CRM failed, as Attention says it"
    )
    # Set when a confirmed call's export to the CRM failed: it comes back to its rep.
    export_failed = models.BooleanField(default=False)
    export_checked_at = models.DateTimeField(null=True, blank=True)
    transcript_status = models.CharField(max_length=50, blank=True)
    external_opportunity_id = models.CharField(max_length=200, blank=True)
    external_opportunity_title = models.CharField(max_length=500, blank=True)
    intelligence_opportunity_id = models.CharField(max_length=200, blank=True)
    items_to_review = models.PositiveIntegerField(default=0)
    awaiting_review = models.BooleanField(default=False)
    force_review = models.BooleanField(
        default=False,
        help_text="Returned to the queue by an admin: stays there until it is confirmed",
    )
    raw = models.JSONField(default=dict, help_text="The resource as Attention last returned it")
    synced_at = models.DateTimeField(auto_now=True)
    # Re-read by the reconcile; set when Attention answered 404 for it (deleted there).
    reconciled_at = models.DateTimeField(null=True, blank=True)
    gone_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Deleted in Attention: out of the queue, kept for the audit",
    )

    # The review in progress. A round is one review from opening to confirm; a confirmed
    # round is closed and the next change from the AI starts a new one.
    review_round = models.PositiveIntegerField(default=1)
    review_opened_at = models.DateTimeField(null=True, blank=True)
    draft_opportunity_id = models.CharField(max_length=200, blank=True)
    last_confirmed_at = models.DateTimeField(null=True, blank=True)
    last_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    # Triage: the account the call is with (as the sync can tell it), and the names and
    # emails of the people on it, lower-cased, for the queue's search.
    account_name = models.CharField(max_length=500, blank=True)
    people_text = models.TextField(blank=True)

    # Who reviews it: a manager may hand the call to another reviewer; the owner
    # otherwise. Opening the review page holds a lock that expires, so two people do not
    # edit one call at once without knowing.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_conversations",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    locked_until = models.DateTimeField(null=True, blank=True)

    # Why an admin returned it to the review queue, shown to the rep on the review page.
    return_reason = models.TextField(blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # The queue: awaiting review, per owner, newest first.
            models.Index(
                fields=["owner", "-started_at", "-id"],
                condition=Q(awaiting_review=True),
                name="conversation_queue_by_owner",
            ),
            models.Index(
                fields=["-started_at", "-id"],
                condition=Q(awaiting_review=True),
                name="conversation_queue_all",
            ),
            # A manager's queue: awaiting review, per team, newest first.
            models.Index(
                fields=["team", "-started_at", "-id"],
                condition=Q(awaiting_review=True),
                name="conversation_queue_by_team",
            ),
            # The reconcile's next chunk: the longest unread first.
            models.Index(
                fields=["reconciled_at", "id"],
                condition=Q(gone_at__isnull=True),
                name="conversation_reconcile_next",
            ),
            # Confirmed calls whose write to the CRM failed, per owner.
            # Who owns a call of these teams: the audit's and accuracy page's rep menu.
            models.Index(fields=["owner", "team"], name="conversation_owner_team"),
            models.Index(
                fields=["owner", "-last_confirmed_at"],
                condition=Q(export_failed=True),
                name="conversation_export_failed",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @staticmethod
    def hidden_from_queue(*, is_internal: bool, is_empty: bool, archived: bool) -> bool:
        """The one rule for calls nobody reviews: internal, empty or archived ones."""
        return is_internal or is_empty or archived

    @property
    def is_hidden_from_queue(self) -> bool:
        return self.hidden_from_queue(
            is_internal=self.is_internal, is_empty=self.is_empty, archived=self.archived
        )

    @property
    def export_state(self) -> str:
        """Attention's `crmExportStatus` read as one of exported, failed, pending or ''
        (not reported). The API documents no list of values: known words are compared
        without regard to case, anything else reads as still under way."""
        status = self.crm_export_status.strip().lower()
        if not status:
            return ""
        if status in EXPORT_DONE:
            return "exported"
        if status in EXPORT_FAILED:
            return "failed"
        return "pending"

    @property
    def default_opportunity_id(self) -> str:
        """The opportunity Attention suggests for this call."""
        if self.intelligence_opportunity_id:
            return self.intelligence_opportunity_id
        return self.external_opportunity_id

    @property
    def opportunity_id(self) -> str:
        """The opportunity the confirm will name: the reviewer's choice, else the default."""
        return self.draft_opportunity_id or self.default_opportunity_id


class ChangeReason(models.TextChoices):
    """Why a reviewer changed what the AI proposed."""

    NONE = "", "No reason given"
    WRONG_VALUE = "wrong_value", "Wrong value"
    NOT_DISCUSSED = "not_discussed", "Not discussed"
    OUT_OF_DATE = "out_of_date", "Out of date"
    OTHER = "other", "Other"


class IntelligenceItem(models.Model):
    """One extracted item, keyed by (conversation, Attention's item id), with its three
    values kept apart:

    1. in the CRM: `confirmed_value` (`is_confirmed`), what Attention holds as confirmed,
       or what our last successful confirm sent when Attention's answer left it out;
    2. the AI's proposal: `ai_value`, as the AI now reports it (`withdrawn` once the AI
       no longer reports the item);
    3. the reviewer's decision: `choice` (keep the CRM value, accept the proposal, or an
       own value in `decision_value`) and `is_excluded`, made against `decision_proposal`.

    Rows are never deleted by a sync or a confirm, so a decision survives every answer
    the API can give; it carries into the next review round. `is_decided` and
    `decided_ai_value` record the proposal the last *confirmed* decision was about: the
    item asks for review again only when the AI proposes something new.
    """

    class Choice(models.TextChoices):
        NONE = "", "No decision"
        KEEP = "keep", "Keep the CRM value"
        ACCEPT = "accept", "Accept the AI's proposal"
        OWN = "own", "Own value"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="items")
    item_id = models.CharField(max_length=200)
    key = models.CharField(max_length=200)
    title = models.CharField(max_length=500, blank=True)
    category = models.CharField(max_length=100, blank=True)
    position = models.PositiveIntegerField(default=0)
    ai_value = models.JSONField(null=True, blank=True)
    options = models.JSONField(null=True, blank=True)
    refreshing = models.BooleanField(default=False)
    withdrawn = models.BooleanField(
        default=False, help_text="The AI no longer reports this item: it is not sent"
    )
    confirmed_value = models.JSONField(null=True, blank=True)
    is_confirmed = models.BooleanField(default=False)
    needs_review = models.BooleanField(default=True)
    raw = models.JSONField(default=dict)

    # The reviewer's decision, saved the moment it is made so nothing is ever lost.
    choice = models.CharField(max_length=10, choices=Choice, blank=True, default="")
    decision_value = models.JSONField(null=True, blank=True)
    is_excluded = models.BooleanField(default=False)
    decision_proposal = models.JSONField(
        null=True, blank=True, help_text="The AI's proposal when the decision was made"
    )
    version = models.PositiveIntegerField(
        default=0, help_text="Bumped by every decision: a save over a newer one is refused"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The proposal the last confirmed decision was about (sent as is, edited, kept or
    # left out): the same proposal is not asked about again, a new one is.
    is_decided = models.BooleanField(default=False)
    decided_ai_value = models.JSONField(null=True, blank=True)

    # Why the reviewer edited or excluded it (optional, one click): feeds the field
    # accuracy page, which tells RevOps which field definitions to fix.
    change_reason = models.CharField(max_length=20, choices=ChangeReason, blank=True, default="")

    # What the value rests on: quotes from the call, normalised by the sync from the
    # item's `evidence` (a list of {quote, speaker_name, speaker_email, start, end});
    # an empty list is "no evidence". Attention documents none (docs/attention-api.md).
    evidence = models.JSONField(default=list, blank=True)

    # Text typed into the editor but not yet saved as a decision: kept after a short
    # pause so a reload or a slip of the mouse loses nothing. Never sent to Attention.
    draft_text = models.TextField(blank=True)
    draft_saved_at = models.DateTimeField(null=True, blank=True)
    draft_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["conversation", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "item_id"], name="unique_item_per_conversation"
            )
        ]

    def __str__(self) -> str:
        return self.title or self.key

    @property
    def is_confirmable(self) -> bool:
        """Whether a confirm may send it: the AI reports it and has finished with it."""
        return not self.refreshing and not self.withdrawn

    @property
    def has_decision(self) -> bool:
        return bool(self.choice) or self.is_excluded

    @property
    def is_edited(self) -> bool:
        """The reviewer sends a value of their own."""
        return self.choice == self.Choice.OWN

    @property
    def decision_is_current(self) -> bool:
        """A decision was made against the AI's proposal as it is now."""
        return self.has_decision and same_value(self.decision_proposal, self.ai_value)

    @property
    def proposal_changed_under_decision(self) -> bool:
        """The AI proposes something new since the reviewer decided."""
        return self.has_decision and not self.decision_is_current

    @property
    def outgoing_value(self) -> Any:
        """The value a confirm sends (unless excluded): the decision's value; with no
        decision, the CRM value is kept where there is one, else the AI's proposal."""
        if self.choice:
            return self.decision_value
        if self.is_confirmed:
            return self.confirmed_value
        return self.ai_value

    @property
    def effective_choice(self) -> str:
        """The choice a confirm would apply: the reviewer's, else the default."""
        if self.choice:
            return self.choice
        return self.Choice.KEEP if self.is_confirmed else self.Choice.ACCEPT

    @property
    def will_be_sent(self) -> bool:
        return self.is_confirmable and not self.is_excluded

    @property
    def sends_change(self) -> bool:
        """A confirm would change what the CRM holds for this item."""
        if not self.will_be_sent:
            return False
        return not (self.is_confirmed and same_value(self.outgoing_value, self.confirmed_value))

    @property
    def crm_differs_from_proposal(self) -> bool:
        return self.is_confirmed and not same_value(self.confirmed_value, self.ai_value)


class SyncRun(models.Model):
    """One run of the sync from Attention, kept for progress, resume and diagnosis."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status, default=Status.RUNNING)

    class Kind(models.TextChoices):
        SYNC = "sync", "Sync"
        RECONCILE = "reconcile", "Reconcile"

    kind = models.CharField(max_length=20, choices=Kind, default=Kind.SYNC)
    full = models.BooleanField(default=False)
    from_datetime = models.DateTimeField(null=True, blank=True)
    start_page = models.PositiveIntegerField(default=1)
    pages = models.PositiveIntegerField(default=0)
    pages_total = models.PositiveIntegerField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    records_seen = models.PositiveIntegerField(default=0)
    total_reported = models.PositiveIntegerField(
        null=True, blank=True, help_text="The total Attention reported: a hint, not a promise"
    )
    set_aside = models.PositiveIntegerField(default=0)
    fetched_singly = models.PositiveIntegerField(default=0)
    gone = models.PositiveIntegerField(default=0)
    # Sentences for whoever runs the app: the run finished, but not all was well.
    warnings = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        # The queue's sync panel reads the latest sync on every manager's view; a run a
        # few minutes adds up to a large table in a year.
        indexes = [models.Index(fields=["kind", "-started_at", "-id"], name="syncrun_latest")]

    def __str__(self) -> str:
        return f"Sync {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}

    @property
    def percent_done(self) -> int:
        if not self.pages_total:
            return 0
        return min(100, round(100 * (self.start_page - 1 + self.pages) / self.pages_total))


class SetAsideRecord(models.Model):
    """Something from Attention the sync could not use, kept raw with the reason: a
    record that breaks the contract, an item without an id, a refused owner link. It is
    tried again on the next run and marked resolved once it reads."""

    class Kind(models.TextChoices):
        RECORD = "record", "Conversation record"
        ITEM = "item", "Intelligence item"
        LINK = "link", "Owner link"

    kind = models.CharField(max_length=20, choices=Kind)
    # What it is about: a conversation id, an email; a hash of the record when it has none.
    subject = models.CharField(max_length=200)
    reason = models.TextField()
    raw = models.JSONField(null=True, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(default=timezone.now)
    times_seen = models.PositiveIntegerField(default=1)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject"], name="one_set_aside_per_subject")
        ]
        indexes = [
            models.Index(
                fields=["-last_seen"], condition=Q(resolved_at__isnull=True), name="set_aside_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject}: {self.reason[:80]}"


class AppendOnlyError(Exception):
    """Audit history is never changed or deleted: a correction is a new record."""


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk updates and deletes would bypass the model's guard, so they are refused."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self.model.__name__} records cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self.model.__name__} records cannot be deleted")

    delete.queryset_only = True  # type: ignore[attr-defined]


class ConfirmationAttempt(models.Model):
    """One try at confirming a review round through the API, written before the call.

    At most one attempt per round may be pending, unknown or succeeded: the database
    itself refuses a second, so one review is confirmed once whatever the timing.
    Once an attempt has an outcome (confirmed or failed) it is history and never changes.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", "In progress"
        SUCCEEDED = "succeeded", "Confirmed"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Outcome unknown"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.PROTECT, related_name="confirmation_attempts"
    )
    review_round = models.PositiveIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="confirmation_attempts"
    )
    started_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome, default=Outcome.PENDING)
    opportunity_id = models.CharField(max_length=200, blank=True)
    review_opened_at = models.DateTimeField(null=True, blank=True)
    request_body = models.JSONField(default=dict)
    response_body = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    api_milliseconds = models.PositiveIntegerField(null=True, blank=True)
    resolved_by_readback = models.BooleanField(default=False)
    # Items Attention reported storing with another value than was sent:
    # [{"item_id", "title", "sent", "stored"}], recorded when the confirm succeeds.
    stored_differently = models.JSONField(default=list, blank=True)
    # Counted when the attempt is written, so the audit summary never re-counts items.
    items_sent = models.PositiveIntegerField(default=0)
    items_edited = models.PositiveIntegerField(default=0)
    items_excluded = models.PositiveIntegerField(default=0)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "review_round"],
                condition=Q(outcome__in=["pending", "unknown", "succeeded"]),
                name="one_live_confirmation_per_round",
            )
        ]
        indexes = [
            # The audit ledger: newest first, overall and per rep; outcome as a filter.
            models.Index(fields=["-started_at", "-id"], name="attempt_recent"),
            models.Index(fields=["user", "-started_at"], name="attempt_by_user_recent"),
            models.Index(fields=["outcome", "-started_at"], name="attempt_outcome_recent"),
            # The accuracy page: confirmations that went through, by when they finished.
            models.Index(
                fields=["finished_at"],
                condition=Q(outcome="succeeded"),
                name="attempt_succeeded_finished",
            ),
            # The field history of an opportunity (selectors/history.py).
            models.Index(
                fields=["opportunity_id", "conversation"],
                condition=Q(outcome="succeeded"),
                name="attempt_confirmed_by_opp",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation} round {self.review_round}: {self.get_outcome_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = type(self)._base_manager.filter(pk=self.pk).values_list("outcome", flat=True)
            if stored.first() in {self.Outcome.SUCCEEDED, self.Outcome.FAILED}:
                raise AppendOnlyError("A finished confirmation attempt cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Confirmation attempts cannot be deleted")

    @property
    def review_seconds(self) -> float | None:
        """Seconds from opening the review to the confirmation."""
        if self.review_opened_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.review_opened_at).total_seconds()


class ConfirmedItem(models.Model):
    """What one attempt did with one item: the AI's value and the value sent."""

    attempt = models.ForeignKey(ConfirmationAttempt, on_delete=models.PROTECT, related_name="items")
    item_id = models.CharField(max_length=200)
    key = models.CharField(max_length=200)
    title = models.CharField(max_length=500, blank=True)
    ai_value = models.JSONField(null=True, blank=True)
    sent_value = models.JSONField(null=True, blank=True)
    crm_value_before = models.JSONField(
        null=True, blank=True, help_text="The value in the CRM before this confirmation"
    )
    had_crm_value = models.BooleanField(default=False)
    choice = models.CharField(max_length=10, blank=True, default="")
    is_edited = models.BooleanField(default=False)
    is_excluded = models.BooleanField(default=False)
    change_reason = models.CharField(max_length=20, choices=ChangeReason, blank=True, default="")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["attempt", "id"]
        indexes = [models.Index(fields=["key", "attempt"], name="confirmed_item_key")]

    def __str__(self) -> str:
        return self.title or self.key

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("A confirmed item cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Confirmed items cannot be deleted")


class AuditCorrection(models.Model):
    """A note that corrects the record of an attempt; history itself stays as it was."""

    attempt = models.ForeignKey(
        ConfirmationAttempt, on_delete=models.PROTECT, related_name="corrections"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Correction to {self.attempt} by {self.author}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("A correction cannot be changed; add another")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Corrections cannot be deleted")


class Transcript(models.Model):
    """A call's detailed transcript, fetched when a reviewer first opens it and kept:
    the review page's transcript panel reads it from here."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="transcript"
    )
    # [{speaker_name, speaker_email, start, end, text, words: [{text, start, end}]}, ...]
    # in the order Attention sent them (`schemas.TranscriptSegment.stored`). Times are
    # seconds from the start of the call, None when not given. The words let the panel
    # mark exactly the quote's; a segment sent as text alone has none.
    segments = models.JSONField(default=list, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Transcript of {self.conversation}"


class FieldSetting(models.Model):
    """How the review treats one field key: whether it needs an explicit decision
    (the fields that move forecasts) or may be accepted in bulk, and how its values
    read. Keys without a row are bulk, shown as their values suggest."""

    class Tier(models.TextChoices):
        EXPLICIT = "explicit", "Explicit decision required"
        BULK = "bulk", "May be accepted in bulk"

    class Display(models.TextChoices):
        AUTO = "auto", "As the value reads"
        MONEY = "money", "Money"

    key = models.CharField(max_length=200, unique=True, help_text="The item key, e.g. close_date")
    tier = models.CharField(max_length=10, choices=Tier, default=Tier.BULK)
    display = models.CharField(max_length=10, choices=Display, default=Display.AUTO)
    currency = models.CharField(
        max_length=3, blank=True, help_text="ISO code for money; empty uses CRM_CURRENCY"
    )

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class ReviewDigest(models.Model):
    """A daily digest email sent to a reviewer: one a day at most, so a retried or
    repeated run never sends it twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_on = models.DateField()
    overdue = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "sent_on"], name="one_digest_a_day")]

    def __str__(self) -> str:
        return f"Digest to {self.user} on {self.sent_on}"


class SpotCheck(models.Model):
    """A manager's second look at a random sample of one rep's confirmed reviews."""

    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="spot_checks_made"
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="spot_checks"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Spot check of {self.rep} by {self.manager}"


class SpotCheckItem(models.Model):
    """One confirmed item of a spot check, and whether the manager agrees with it."""

    class Verdict(models.TextChoices):
        PENDING = "", "Not looked at yet"
        AGREE = "agree", "Agree"
        DISAGREE = "disagree", "Disagree"

    spot_check = models.ForeignKey(SpotCheck, on_delete=models.CASCADE, related_name="items")
    confirmed_item = models.ForeignKey(ConfirmedItem, on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(max_length=10, choices=Verdict, blank=True, default="")
    note = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["spot_check", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["spot_check", "confirmed_item"], name="one_verdict_per_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.confirmed_item} ({self.get_verdict_display()})"


class CrmLinkTemplate(models.Model):
    """Where a CRM record of one type opens, edited by admins: `{id}` (and `{type}`) are
    filled in. A type without a row uses CRM_RECORD_URL_TEMPLATE."""

    record_type = models.CharField(
        max_length=100, unique=True, help_text="The CRM object type, e.g. Opportunity, Account"
    )
    url_template = models.URLField(
        max_length=500,
        help_text="e.g. https://acme.lightning.force.com/lightning/r/{type}/{id}/view",
    )

    class Meta:
        ordering = ["record_type"]

    def __str__(self) -> str:
        return self.record_type
