"""The admin site: inspect and correct everything; audit history is read-only."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from attention_review.attention.client import AttentionError, client_from_settings

from .models import (
    AttentionUser,
    AuditCorrection,
    ConfirmationAttempt,
    ConfirmedItem,
    Conversation,
    CrmLinkTemplate,
    FieldSetting,
    IntelligenceItem,
    ReviewDigest,
    SetAsideRecord,
    SpotCheck,
    SpotCheckItem,
    SyncRun,
    Team,
    Transcript,
)
from .selectors import review as review_selectors
from .services import corrections
from .templatetags.review_tags import call_day


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


class ReturnToQueueForm(forms.Form):
    """Why the calls go back to the queue: their reps read it on the review page."""

    reason = forms.CharField(
        label="Reason for the rep",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text="Shown to the rep on the review page until they confirm the call again.",
    )


# A title longer than this is cut short in the list; the change page shows it whole.
CHANGELIST_TITLE_CHARACTERS = 60
CHANGELIST_TEAM_CHARACTERS = 20


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    # Few, short columns, so the list and its filters fit a 1440 px screen.
    list_display = [
        "short_title",
        "call_date",
        "owner",
        "short_team",
        "items",
        "awaiting",
        "export",
    ]
    list_filter = ["awaiting_review", "team", "crm_export_status", "is_internal", "is_empty"]
    list_select_related = ["owner", "team"]
    search_fields = ["title", "attention_id", "owner__username", "owner__email"]
    date_hierarchy = "started_at"
    raw_id_fields = [
        "owner",
        "last_confirmed_by",
        "assigned_to",
        "assigned_by",
        "returned_by",
        "locked_by",
    ]
    readonly_fields = [
        "attention_id",
        "raw",
        "synced_at",
        "review_round",
        "items_table",
        "assigned_by",
        "assigned_at",
        "locked_by",
        "locked_until",
        "returned_by",
        "returned_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "attention_id",
                    ("started_at", "duration_seconds"),
                    ("owner", "team"),
                    "account_name",
                ]
            },
        ),
        ("Items", {"fields": ["items_table"]}),
        (
            "Review",
            {
                "fields": [
                    ("awaiting_review", "force_review", "items_to_review"),
                    "review_round",
                    ("last_confirmed_at", "last_confirmed_by"),
                    ("crm_export_status", "export_failed"),
                    "crm_export_error",
                ]
            },
        ),
        (
            "Who reviews it",
            {
                "fields": [
                    ("assigned_to", "assigned_by", "assigned_at"),
                    ("locked_by", "locked_until"),
                    "return_reason",
                    ("returned_by", "returned_at"),
                ]
            },
        ),
        (
            "Flags",
            {
                "classes": ["collapse"],
                "fields": [("is_internal", "is_empty", "archived", "private"), "gone_at"],
            },
        ),
        (
            "Raw payload from Attention",
            {"classes": ["collapse"], "fields": ["raw", "synced_at"]},
        ),
    ]
    actions = ["refresh_from_attention", "return_to_review_queue"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        # The list never shows the raw payload: leave the biggest column in the database.
        return super().get_queryset(request).defer("raw")

    @admin.display(description="title", ordering="title")
    def short_title(self, conversation: Conversation) -> str:
        return Truncator(conversation.title).chars(CHANGELIST_TITLE_CHARACTERS)

    @admin.display(description="call", ordering="started_at")
    def call_date(self, conversation: Conversation) -> str:
        return call_day(conversation.started_at)

    @admin.display(description="team", ordering="team__name")
    def short_team(self, conversation: Conversation) -> str:
        return Truncator(str(conversation.team or "—")).chars(CHANGELIST_TEAM_CHARACTERS)

    @admin.display(description="items", ordering="items_to_review")
    def items(self, conversation: Conversation) -> int:
        return conversation.items_to_review

    @admin.display(description="awaiting", boolean=True, ordering="awaiting_review")
    def awaiting(self, conversation: Conversation) -> bool:
        return conversation.awaiting_review

    @admin.display(description="export", ordering="crm_export_status")
    def export(self, conversation: Conversation) -> str:
        return conversation.export_state or "—"

    @admin.display(description="values")
    def items_table(self, conversation: Conversation) -> SafeString:
        """The items as the review page reads them: the three values side by side,
        formatted by the field's type, each linked to its own change page."""
        items = list(conversation.items.order_by("position", "pk"))
        review_selectors.annotate_field_settings(items)
        return SafeString(
            render_to_string("admin/reviews/conversation/items_table.html", {"items": items})
        )

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

    @admin.action(description="Return to review queue (asks for a reason)")
    def return_to_review_queue(
        self, request: HttpRequest, queryset: QuerySet[Conversation]
    ) -> TemplateResponse | None:
        """First a page asking why (the rep will read it), then the return."""
        form = ReturnToQueueForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            returned = corrections.conversations_return_to_queue(
                conversation_ids=list(queryset.values_list("pk", flat=True)),
                reason=form.cleaned_data["reason"],
                returned_by=request.user,  # type: ignore[arg-type]
            )
            self.message_user(request, f"Returned {returned} conversation(s) to the review queue.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Return to the review queue",
            "opts": self.model._meta,
            "form": form,
            "conversations": queryset,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/reviews/conversation/return_to_queue.html", context)


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


class CrmLinkTemplateForm(forms.ModelForm):
    class Meta:
        model = CrmLinkTemplate
        fields = ["record_type", "url_template"]

    def clean_url_template(self) -> str:
        """An http(s) address with a place for the record's id, as the site setting."""
        url = str(self.cleaned_data["url_template"])
        if not url.startswith(("https://", "http://")):
            raise forms.ValidationError("Use an https:// (or http://) address.")
        if "{id}" not in url:
            raise forms.ValidationError("Put {id} where the record's id goes.")
        return url


@admin.register(CrmLinkTemplate)
class CrmLinkTemplateAdmin(admin.ModelAdmin):
    """Where a CRM record of each type opens from the review page ({id} and {type} are
    filled in); a type without a row uses CRM_RECORD_URL_TEMPLATE."""

    form = CrmLinkTemplateForm
    list_display = ["record_type", "url_template"]
    search_fields = ["record_type", "url_template"]


@admin.register(ReviewDigest)
class ReviewDigestAdmin(ReadOnlyAdmin):
    """The daily overdue digests sent: one per person and day."""

    list_display = ["sent_on", "user", "overdue", "sent_at"]
    list_select_related = ["user"]
    list_filter = ["sent_on"]
    search_fields = ["user__username", "user__email"]
    date_hierarchy = "sent_on"


class SpotCheckItemInline(ReadOnlyInline):
    model = SpotCheckItem
    fields = ["confirmed_item", "verdict", "note", "decided_at"]
    readonly_fields = ["confirmed_item", "verdict", "note", "decided_at"]


@admin.register(SpotCheck)
class SpotCheckAdmin(ReadOnlyAdmin):
    """Managers' second looks at confirmed reviews (made in the app, kept as history)."""

    list_display = ["created_at", "rep", "manager", "finished_at"]
    list_select_related = ["rep", "manager"]
    search_fields = ["rep__username", "manager__username"]
    inlines = [SpotCheckItemInline]


@admin.register(SpotCheckItem)
class SpotCheckItemAdmin(ReadOnlyAdmin):
    list_display = ["spot_check", "confirmed_item", "verdict", "decided_at"]
    list_select_related = ["spot_check__rep", "confirmed_item"]
    list_filter = ["verdict"]
    search_fields = ["note", "confirmed_item__title", "spot_check__rep__username"]
    show_full_result_count = False


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
