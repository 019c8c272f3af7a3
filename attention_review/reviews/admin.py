"""The admin site: inspect and correct everything; audit history is read-only."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from attention_review.attention.client import AttentionError, client_from_settings

from .models import (
    AttentionUser,
    AuditCorrection,
    ConfirmationAttempt,
    ConfirmedItem,
    Conversation,
    FieldSetting,
    IntelligenceItem,
    SetAsideRecord,
    SyncRun,
    Team,
    Transcript,
)
from .services import corrections


class ReadOnlyAdmin(admin.ModelAdmin):
    """History: visible, never changed or deleted from the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "attention_uuid", "manager_names"]
    search_fields = ["name", "attention_uuid", "managers__username"]
    filter_horizontal = ["managers"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).prefetch_related("managers")

    @admin.display(description="Managers")
    def manager_names(self, team: Team) -> str:
        return ", ".join(user.get_username() for user in team.managers.all()) or "—"


@admin.register(AttentionUser)
class AttentionUserAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "attention_uuid", "user"]
    list_select_related = ["user"]
    list_filter = [("user", admin.EmptyFieldListFilter)]
    search_fields = ["email", "name", "attention_uuid", "user__username"]
    raw_id_fields = ["user"]


class IntelligenceItemInline(admin.TabularInline):
    model = IntelligenceItem
    extra = 0
    fields = [
        "title",
        "key",
        "confirmed_value",
        "ai_value",
        "choice",
        "decision_value",
        "is_excluded",
        "withdrawn",
        "needs_review",
    ]
    readonly_fields = ["title", "key", "confirmed_value", "ai_value", "withdrawn", "needs_review"]
    show_change_link = True
    can_delete = False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "started_at",
        "owner",
        "team",
        "items_to_review",
        "awaiting_review",
        "crm_export_status",
    ]
    list_filter = ["awaiting_review", "team", "is_internal", "is_empty", "crm_export_status"]
    list_select_related = ["owner", "team"]
    search_fields = ["title", "attention_id", "owner__username", "owner__email"]
    date_hierarchy = "started_at"
    raw_id_fields = ["owner", "last_confirmed_by"]
    readonly_fields = ["attention_id", "raw", "synced_at", "review_round"]
    inlines = [IntelligenceItemInline]
    actions = ["refresh_from_attention", "return_to_review_queue"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        # The list never shows the raw payload: leave the biggest column in the database.
        return super().get_queryset(request).defer("raw")

    @admin.action(description="Refresh from Attention")
    def refresh_from_attention(
        self, request: HttpRequest, queryset: QuerySet[Conversation]
    ) -> None:
        refreshed = 0
        try:
            with client_from_settings() as client:
                for attention_id in queryset.values_list("attention_id", flat=True):
                    corrections.conversation_refresh(attention_id=attention_id, client=client)
                    refreshed += 1
        except AttentionError as error:
            self.message_user(
                request,
                f"Refreshed {refreshed}; then: {error.user_message}",
                level=messages.ERROR,
            )
            return
        self.message_user(request, f"Refreshed {refreshed} conversation(s) from Attention.")

    @admin.action(description="Return to review queue")
    def return_to_review_queue(
        self, request: HttpRequest, queryset: QuerySet[Conversation]
    ) -> None:
        returned = corrections.conversations_return_to_queue(
            conversation_ids=queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"Returned {returned} conversation(s) to the review queue.")


@admin.register(IntelligenceItem)
class IntelligenceItemAdmin(admin.ModelAdmin):
    list_display = ["title", "key", "conversation", "needs_review", "choice", "is_excluded"]
    list_filter = ["category", "needs_review", "choice", "is_excluded", "withdrawn", "refreshing"]
    list_select_related = ["conversation"]
    search_fields = ["title", "key", "item_id", "conversation__title"]
    raw_id_fields = ["conversation", "reviewed_by"]
    show_full_result_count = False


@admin.register(FieldSetting)
class FieldSettingAdmin(admin.ModelAdmin):
    """Which fields need an explicit decision before a confirm (the ones that move
    forecasts) and which may be accepted in bulk; a change applies to the next page
    drawn and the next confirm. A key without a row is bulk."""

    list_display = ["key", "tier", "display", "currency"]
    list_editable = ["tier"]
    list_filter = ["tier", "display"]
    search_fields = ["key"]


_CONFIRMED_ITEM_FIELDS = (
    "title",
    "key",
    "crm_value_before",
    "ai_value",
    "sent_value",
    "choice",
    "is_edited",
    "is_excluded",
)


class ConfirmedItemInline(ReadOnlyInline):
    model = ConfirmedItem
    fields = _CONFIRMED_ITEM_FIELDS
    readonly_fields = _CONFIRMED_ITEM_FIELDS


class AuditCorrectionInline(admin.StackedInline):
    """Corrections are the one thing added to history: appended, never edited."""

    model = AuditCorrection
    extra = 0
    can_delete = False
    fields = ["note", "author", "created_at"]
    readonly_fields = ["author", "created_at"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ConfirmationAttempt)
class ConfirmationAttemptAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "conversation",
        "user",
        "outcome",
        "items_sent",
        "items_edited",
        "items_excluded",
        "api_milliseconds",
    ]
    list_filter = ["outcome", "resolved_by_readback", "conversation__team"]
    list_select_related = ["conversation", "user"]
    search_fields = ["conversation__title", "conversation__attention_id", "user__username"]
    date_hierarchy = "started_at"
    inlines = [ConfirmedItemInline, AuditCorrectionInline]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConfirmationAttempt]:
        return super().get_queryset(request).defer("conversation__raw")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The change form is open only so corrections can be appended: every field of
        # the attempt is read-only and save_model below never writes it.
        return admin.ModelAdmin.has_change_permission(self, request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """The attempt itself is never saved from here; only new corrections are."""

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not AuditCorrection:
            # The item history is read-only: nothing of it is ever saved from here.
            formset.new_objects = formset.changed_objects = formset.deleted_objects = []
            return
        for correction in formset.save(commit=False):
            if correction.pk is None:
                correction.author = request.user
                correction.save()


@admin.register(ConfirmedItem)
class ConfirmedItemAdmin(ReadOnlyAdmin):
    list_display = ["title", "key", "attempt", "is_edited", "is_excluded"]
    list_filter = ["is_edited", "is_excluded"]
    list_select_related = ["attempt", "attempt__conversation"]
    search_fields = ["title", "key", "attempt__conversation__title"]
    show_full_result_count = False


@admin.register(AuditCorrection)
class AuditCorrectionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "attempt", "author"]
    list_select_related = ["attempt", "attempt__conversation", "author"]
    search_fields = ["note", "author__username"]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "kind",
        "status",
        "full",
        "pages",
        "created",
        "updated",
        "set_aside",
        "finished_at",
    ]
    list_filter = ["kind", "status", "full"]
    list_select_related = ["started_by"]
    search_fields = ["error"]


@admin.register(Transcript)
class TranscriptAdmin(admin.ModelAdmin):
    """Stored transcripts: read only; deleting one makes the next open fetch it again."""

    list_display = ["conversation", "segment_count", "fetched_at"]
    list_select_related = ["conversation"]
    search_fields = ["conversation__title", "conversation__attention_id"]
    readonly_fields = ["conversation", "segments", "fetched_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Transcript | None = None) -> bool:
        return False

    @admin.display(description="segments")
    def segment_count(self, transcript: Transcript) -> int:
        return len(transcript.segments) if isinstance(transcript.segments, list) else 0


@admin.register(SetAsideRecord)
class SetAsideRecordAdmin(ReadOnlyAdmin):
    """What the sync could not use, with the reason; tried again on every run."""

    list_display = ["kind", "subject", "short_reason", "times_seen", "last_seen", "resolved_at"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject", "reason"]

    @admin.display(description="reason")
    def short_reason(self, record: SetAsideRecord) -> str:
        return record.reason[:120]


class ManagedTeamInline(admin.TabularInline):
    """A manager's teams, edited on the user's page."""

    model = Team.managers.through
    extra = 0
    verbose_name = "managed team"
    verbose_name_plural = "managed teams (a manager with none sees every team)"
    autocomplete_fields = ["team"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class AppUserAdmin(UserAdmin):
    inlines = [ManagedTeamInline]
    list_filter = [*UserAdmin.list_filter, "managed_teams"]
