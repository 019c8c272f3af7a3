"""Thin views: who may see this, validate with a form, one service or selector, render.

Every control works with and without htmx: htmx requests get the affected fragment,
plain form posts get a redirect back to the page (post/redirect/get).
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from attention_review.attention.client import client_from_settings

from .charts import confirmations_per_day_chart, weekly_changed_share_chart
from .exports import audit_csv_rows
from .forms import (
    AccuracyFilterForm,
    AssignForm,
    AuditFilterForm,
    ConfirmForm,
    ItemValueForm,
    OpportunityForm,
    QueueFilterForm,
    SpotCheckRequestForm,
    SpotCheckVerdictForm,
)
from .http import (
    HtmxHttpRequest,
    manager_required,
    render_around_body,
    render_cached_page,
    render_page,
    vary_on_htmx,
    wants_fragment,
)
from .models import ConfirmationAttempt, Conversation, IntelligenceItem
from .paging import page_number_from, paginate
from .selectors import access
from .selectors import accuracy as accuracy_selectors
from .selectors import assignment as assignment_selectors
from .selectors import audit as audit_selectors
from .selectors import confirmations as confirmation_selectors
from .selectors import evidence as evidence_selectors
from .selectors import problems as problem_selectors
from .selectors import queue as queue_selectors
from .selectors import review as review_selectors
from .selectors import spot_checks as spot_check_selectors
from .services import assignment as assignment_services
from .services import background, corrections, locks
from .services import review as review_services
from .services import spot_checks as spot_check_services
from .services import transcripts as transcript_services

REVIEW_TEMPLATE = "reviews/review.html"


@require_GET
def healthz(request: HtmxHttpRequest) -> HttpResponse:
    """Liveness for load balancers: answers through the full middleware stack."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
@login_required
@vary_on_htmx
def queue(request: HtmxHttpRequest) -> HttpResponse:
    """The queue with its search, filters and sort, all in the query string.

    The content (sync panel, failed exports, backlog, filters, list) is cached per reader
    until the next write (`render_cached_page`)."""
    form = QueueFilterForm(_queue_filter_data(request))
    form.is_valid()  # an invalid value is reported and left out; the rest applies
    is_manager = access.user_is_manager(request.user)

    def content(partial: str) -> dict[str, Any]:
        now = timezone.now()
        page = paginate(
            queue_selectors.triage_queue(request.user, form.filters(), now=now),
            number=page_number_from(request.GET.get("page")),
            per_page=settings.QUEUE_PAGE_SIZE,
            count_cap=settings.QUEUE_COUNT_CAP,
        )
        query = request.GET.copy()
        query.pop("page", None)
        whole = partial == "body"
        return {
            "page": page,
            "form": form,
            "now": now,
            # The pager keeps the filters: every page link carries them.
            "query": query.urlencode(),
            "filtered": form.filters().narrows,
            "show_owner": is_manager,
            # Attention names no account in its documented payload: an empty column
            # says nothing, so it shows only when a row on the page has one.
            "show_account": any(conversation.account_name for conversation in page),
            "backlog": (
                queue_selectors.overdue_by_rep(request.user, now=now)
                if is_manager and whole
                else []
            ),
            "deadline_hours": settings.REVIEW_DEADLINE_HOURS,
            "sync_run": queue_selectors.latest_sync() if is_manager and whole else None,
            # Confirmed calls whose write to the CRM failed come back to their rep.
            "exports_failed": (
                confirmation_selectors.exports_failed(request.user)
                if not is_manager and whole
                else []
            ),
        }

    return render_cached_page(request, "reviews/queue.html", "queue", content, {"nav": "queue"})


def _queue_filter_data(request: HtmxHttpRequest) -> dict[str, str] | None:
    """The query string's filter fields, or None (an unbound form) when it has none: a
    bare `?page=2` is the whole queue."""
    names = QueueFilterForm.base_fields.keys()
    data = {name: request.GET[name] for name in names if name in request.GET}
    return data or None


@require_POST
@manager_required("Only managers and admins can start a sync.")
def sync_now(request: HtmxHttpRequest) -> HttpResponse:
    """Queue a background sync (managers and admins); the queue page shows its progress."""
    run, queued = background.sync_enqueue(started_by=request.user)
    if not queued:
        messages.info(request, "A sync is already under way; its progress is shown below.")
    if request.htmx:
        return render(request, "reviews/queue.html#sync-status", {"sync_run": run})
    if queued:
        messages.success(request, "Sync started. New conversations appear as it goes.")
    return HttpResponseRedirect(reverse("reviews:queue"))


@require_GET
@manager_required("Only managers and admins can follow a sync.")
@vary_on_htmx
def sync_status(request: HtmxHttpRequest) -> HttpResponse:
    """The sync panel, polled by htmx while a sync is under way."""
    if not request.htmx:
        return HttpResponseRedirect(reverse("reviews:queue"))
    return render(
        request, "reviews/queue.html#sync-status", {"sync_run": queue_selectors.latest_sync()}
    )


def _review_url(conversation: Conversation, item: IntelligenceItem | None = None) -> str:
    url = reverse("reviews:review", args=[conversation.pk])
    return f"{url}#item-{item.pk}" if item else url


def _review_context(
    request: HtmxHttpRequest,
    conversation: Conversation,
    *,
    editing: IntelligenceItem | None = None,
    form: ItemValueForm | None = None,
    lock: locks.ReviewLock | None = None,
) -> dict[str, Any]:
    items = review_selectors.review_items(conversation)
    if editing is not None:
        items = [editing if item.pk == editing.pk else item for item in items]
    review_selectors.annotate_for_review(conversation, items)
    review_selectors.annotate_drafts(items, request.user)
    drafted = [item for item in items if item.my_draft_at and item.is_confirmable]  # type: ignore[attr-defined]
    if editing is None and drafted and conversation.awaiting_review:
        # Text typed and not yet saved comes back in its editor, as the reviewer left it.
        editing = max(drafted, key=lambda item: item.my_draft_at)  # type: ignore[attr-defined]
        form = _editor_form(request, editing)
    attempt = review_selectors.latest_attempt(conversation)
    details = review_selectors.conversation_details(conversation)
    candidates = review_selectors.opportunity_choices(conversation, details)
    # Confirmed here, or elsewhere before this app saw it: either way Attention holds a
    # confirmation, and the page shows what it returned rather than an editable review.
    succeeded = attempt is not None and attempt.outcome == ConfirmationAttempt.Outcome.SUCCEEDED
    confirmed = succeeded or any(item.is_confirmed for item in items)
    show_result = confirmed and not conversation.awaiting_review and details is not None
    return {
        "conversation": conversation,
        "details": details,
        "people": review_selectors.call_people(details),
        **review_selectors.grouped_for_review(items),
        "progress": review_selectors.review_progress(items),
        "editing": editing,
        "form": form,
        "attempt": attempt,
        "show_result": show_result,
        # What the last confirmation sent, beside what the CRM held before it.
        "sent_items": (
            review_selectors.attempt_items(attempt) if show_result and succeeded and attempt else []
        ),
        "opportunity_form": OpportunityForm(
            initial={"opportunity_id": conversation.opportunity_id}, candidates=candidates
        ),
        "opportunity_warning": review_selectors.opportunity_warning(conversation, candidates),
        "confirm_form": ConfirmForm(initial={"review_round": conversation.review_round}),
        "next_conversation": (
            queue_selectors.next_in_queue(request.user, after=conversation)
            if not conversation.awaiting_review
            else None
        ),
        **_lock_context(lock),
        "assign_form": _assign_form(request, conversation),
    }


def _review_page(request: HtmxHttpRequest, context: dict[str, Any]) -> HttpResponse:
    """The whole review page from a context built for this request alone (a save refused
    or in conflict, without JavaScript): rendered afresh, never cached."""
    return HttpResponse(
        render_around_body(request, REVIEW_TEMPLATE, "review-body", context, context)
    )


def _lock_context(lock: locks.ReviewLock | None) -> dict[str, Any]:
    """Who is reviewing: the page is read-only while someone else holds the lock, and
    the holder's page renews it by a poll, a few times within each lock period."""
    return {
        "lock": lock,
        "locked_out": lock is not None and not lock.held_by_me,
        "lock_poll_seconds": max(30, settings.REVIEW_LOCK_MINUTES * 60 // 3),
    }


def _assign_form(request: HtmxHttpRequest, conversation: Conversation) -> AssignForm | None:
    """Managers hand a call awaiting review to a reviewer; nobody else sees the form."""
    if not conversation.awaiting_review or not access.user_is_manager(request.user):
        return None
    return AssignForm(
        initial={"assignee": conversation.assigned_to_id},
        reviewers=assignment_selectors.assignable_reviewers(request.user),
    )


def _review_lock(request: HtmxHttpRequest, conversation: Conversation) -> locks.ReviewLock | None:
    """Opening a call that awaits review takes or renews its lock, unless someone else
    holds it. Only its reviewer's opening does (the owner, or the person it is assigned
    to): a manager looking in does not lock the rep out; their first change takes it."""
    if not conversation.awaiting_review:
        return None
    reviewer_pk = conversation.assigned_to_id or conversation.owner_id
    if reviewer_pk is not None and reviewer_pk != request.user.pk:
        return locks.review_lock_peek(conversation=conversation, user=request.user)
    return locks.review_lock_take(
        conversation_pk=conversation.pk, user=request.user, current=conversation
    )


@require_GET
@login_required
@vary_on_htmx
def review(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The review page, cached per reader until the next write and varying with who
    holds the review lock (taken or renewed here, before the page is read). A cached view
    reads only the few columns of `REVIEW_HEAD_FIELDS`; the whole conversation is read
    when the page is rendered."""
    head = access.get_review_head_for_user(request.user, pk)
    review_services.review_open(conversation=head)
    lock = _review_lock(request, head)

    def content(partial: str) -> dict[str, Any]:
        conversation = access.get_conversation_for_user(request.user, pk)
        editing = form = None
        edit_pk = request.GET.get("edit", "")
        if edit_pk.isdigit() and conversation.awaiting_review and lock and lock.held_by_me:
            editing = conversation.items.filter(pk=int(edit_pk), refreshing=False).first()
            form = _editor_form(request, editing) if editing else None
        return _review_context(request, conversation, editing=editing, form=form, lock=lock)

    lock_state = (
        ["no lock"]
        if lock is None
        else ["mine"]
        if lock.held_by_me
        else [lock.holder_name, lock.until.isoformat() if lock.until else ""]
    )
    return render_cached_page(
        request,
        REVIEW_TEMPLATE,
        "review-body",
        content,
        {"conversation": head},  # the title
        body_partial="review-body",
        vary=lock_state,
    )


@require_POST
@login_required
def review_lock(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Renew the lock while the review page stays open (polled by htmx); answers with
    the lock's line, which says who is reviewing when the lock was taken over."""
    conversation = access.get_conversation_for_user(request.user, pk)
    if not request.htmx:
        return HttpResponseRedirect(_review_url(conversation))
    context = {"conversation": conversation, **_lock_context(_review_lock(request, conversation))}
    return render(request, f"{REVIEW_TEMPLATE}#lock-status", context)


@require_POST
@login_required
def review_take_over(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Take the review over from someone who holds the lock but has left."""
    conversation = access.get_conversation_for_user(request.user, pk)
    if not conversation.awaiting_review:
        messages.info(
            request, "This conversation has been confirmed; there is nothing to take over."
        )
    else:
        previous = locks.review_lock_take_over(conversation=conversation, user=request.user)
        messages.success(
            request,
            f"You took over the review from {previous}."
            if previous
            else "You are reviewing this call.",
        )
    return HttpResponseRedirect(_review_url(conversation))


@require_POST
@manager_required("Only managers and admins can assign a call.")
def assign(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Hand the call to another reviewer (or back to its owner)."""
    conversation = access.get_conversation_for_user(request.user, pk)
    form = AssignForm(
        request.POST, reviewers=assignment_selectors.assignable_reviewers(request.user)
    )
    if not conversation.awaiting_review:
        messages.error(request, "This conversation has been confirmed; there is nothing to assign.")
    elif not form.is_valid():
        messages.error(request, "Choose one of the listed reviewers.")
    else:
        assignee = form.cleaned_data["assignee"]
        assignment_services.conversation_assign(
            conversation=conversation, assignee=assignee, assigned_by=request.user
        )
        title = conversation.title
        messages.success(
            request,
            f"Assigned “{title}” to {locks.person_name(assignee)}."
            if assignee
            else f"“{title}” is back with its owner.",
        )
        # On to the queue: reopening the call would take its review lock again.
        return HttpResponseRedirect(reverse("reviews:queue"))
    return HttpResponseRedirect(_review_url(conversation))


def _item_fragment(
    request: HtmxHttpRequest,
    item: IntelligenceItem,
    *,
    form: ItemValueForm | None = None,
    notice: str = "",
    conflict: review_services.DecisionConflict | None = None,
    lock: locks.ReviewLock | None = None,
) -> HttpResponse:
    """The item's fragment, plus the progress and confirm summary swapped out of band;
    with someone else's `lock`, read-only (the change was refused for it)."""
    conversation = item.conversation
    progress = review_selectors.review_progress_with(conversation, item)
    review_selectors.annotate_drafts([item], request.user)
    context = {
        "conversation": conversation,
        "item": item,
        "form": form,
        "editing": item if form is not None else None,
        "notice": notice,
        "conflict": conflict,
        "progress": progress,
        "oob": True,
        "confirm_form": ConfirmForm(initial={"review_round": conversation.review_round}),
        # The confirm button's wording depends on it ("Check again and confirm").
        "attempt": review_selectors.latest_attempt(conversation),
        **_lock_context(lock),
    }
    html = render_to_string(f"{REVIEW_TEMPLATE}#item", context, request)
    html += render_to_string(f"{REVIEW_TEMPLATE}#progress", context, request)
    html += render_to_string(f"{REVIEW_TEMPLATE}#summary", context, request)
    # A decision may release Confirm (the last explicit field signed off) or change what
    # "Accept the rest" would take.
    html += render_to_string(f"{REVIEW_TEMPLATE}#confirm-actions", context, request)
    return HttpResponse(html)


def _editable(request: HtmxHttpRequest, item: IntelligenceItem) -> str:
    """Why the item cannot be changed now, or '' when it can."""
    if item.refreshing:
        return "Attention is still updating this item; it can be reviewed once it is ready."
    if item.withdrawn:
        return "The AI no longer proposes this item, so it will not be sent."
    if not item.conversation.awaiting_review:
        return "This conversation has been confirmed; there is nothing left to change."
    return ""


def _refuse(
    request: HtmxHttpRequest,
    item: IntelligenceItem,
    reason: str,
    *,
    lock: locks.ReviewLock | None = None,
) -> HttpResponse:
    if request.htmx:
        return _item_fragment(request, item, notice=reason, lock=lock)
    messages.error(request, reason)
    return HttpResponseRedirect(_review_url(item.conversation, item))


def _lock_refused_by(error: review_services.ReviewError) -> locks.ReviewLock | None:
    """Someone else's lock, when that is why the change was refused."""
    return error.lock if isinstance(error, review_services.ReviewLocked) else None


def _reference(item: IntelligenceItem) -> Any:
    """The CRM's value, which gives the editor its kind when the AI proposes nothing."""
    return item.confirmed_value if item.is_confirmed else None


def _editor_form(request: HtmxHttpRequest, item: IntelligenceItem) -> ItemValueForm:
    """The editor as it opens: with the reviewer's own draft, when they left one."""
    mine = bool(item.draft_text) and item.draft_by_id == request.user.pk
    return ItemValueForm(
        item=item, reference=_reference(item), draft=item.draft_text if mine else ""
    )


def _posted_version(request: HtmxHttpRequest) -> int | None:
    """The item version the reviewer's page showed; None when the form did not say."""
    version = request.POST.get("version", "")
    return int(version) if version.isdigit() else None


def _show_conflict(
    request: HtmxHttpRequest,
    conflict: review_services.DecisionConflict,
    *,
    form: ItemValueForm | None = None,
) -> HttpResponse:
    """Someone else decided meanwhile: show their decision beside the reviewer's, with
    the forms now carrying the new version, so saving again is a choice, not an accident."""
    current = conflict.current
    if request.htmx:
        return _item_fragment(request, current, form=form, conflict=conflict)
    context = _review_context(request, current.conversation, editing=current, form=form)
    context["conflict"] = conflict
    return _review_page(request, context)


def _apply_item_change(
    request: HtmxHttpRequest,
    item: IntelligenceItem,
    change: Callable[[], IntelligenceItem],
    *,
    done: str,
) -> HttpResponse:
    """Run one decision; answer with the item's fragment (htmx) or a redirect."""
    try:
        item = change()
    except review_services.DecisionConflict as conflict:
        return _show_conflict(request, conflict)
    except review_services.ReviewError as error:
        return _refuse(request, item, str(error), lock=_lock_refused_by(error))
    if request.htmx:
        return _item_fragment(request, item)
    messages.success(request, done.format(title=item.title or item.key))
    return HttpResponseRedirect(_review_url(item.conversation, item))


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_htmx
def item(request: HtmxHttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """GET: the item's display fragment (Cancel). POST: save the reviewer's own value."""
    item = access.get_item_for_user(request.user, pk, item_pk)
    if request.method == "GET":
        if not request.htmx:
            return HttpResponseRedirect(_review_url(item.conversation, item))
        return _item_fragment(request, item)
    if reason := _editable(request, item):
        return _refuse(request, item, reason)
    form = ItemValueForm(request.POST, item=item, reference=_reference(item))
    if not form.is_valid():
        if request.htmx:
            return _item_fragment(request, item, form=form)
        context = _review_context(request, item.conversation, editing=item, form=form)
        return _review_page(request, context)
    value = form.cleaned_data["value"]
    try:
        item = review_services.item_save_own(
            item=item, value=value, user=request.user, version=_posted_version(request)
        )
    except review_services.DecisionConflict as conflict:
        # The typed value stays in the form; the form now carries the newer version.
        return _show_conflict(
            request,
            conflict,
            form=ItemValueForm(request.POST, item=item, reference=_reference(item)),
        )
    except review_services.ReviewError as error:
        return _refuse(request, item, str(error), lock=_lock_refused_by(error))
    if request.htmx:
        return _item_fragment(request, item)
    messages.success(request, f"Saved “{item.title or item.key}”.")
    return HttpResponseRedirect(_review_url(item.conversation, item))


@require_GET
@login_required
@vary_on_htmx
def item_edit(request: HtmxHttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = access.get_item_for_user(request.user, pk, item_pk)
    if not request.htmx:
        return HttpResponseRedirect(
            f"{reverse('reviews:review', args=[pk])}?edit={item.pk}#item-{item.pk}"
        )
    if reason := _editable(request, item):
        return _item_fragment(request, item, notice=reason)
    return _item_fragment(request, item, form=_editor_form(request, item))


@require_POST
@login_required
def item_draft(request: HtmxHttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Keep the text typed into an item's editor (posted by htmx after a pause in the
    typing) and answer with the editor's draft line; with `discard` (Cancel), drop the
    reviewer's draft and close the editor. A draft is never a decision."""
    item = access.get_item_for_user(request.user, pk, item_pk)
    if request.POST.get("discard"):
        item = review_services.item_discard_draft(item=item, user=request.user)
        if request.htmx:
            return _item_fragment(request, item)
        return HttpResponseRedirect(_review_url(item.conversation, item))
    refusal = ""
    try:
        item = review_services.item_save_draft(
            item=item,
            user=request.user,
            text=request.POST.get("value", ""),
            version=_posted_version(request),
        )
    except review_services.ReviewError as error:
        refusal = str(error)
    if not request.htmx:
        if refusal:
            messages.error(request, refusal)
            return HttpResponseRedirect(_review_url(item.conversation, item))
        return HttpResponseRedirect(
            f"{reverse('reviews:review', args=[pk])}?edit={item.pk}#item-{item.pk}"
        )
    review_selectors.annotate_drafts([item], request.user)
    context = {"item": item, "draft_refusal": refusal}
    return render(request, f"{REVIEW_TEMPLATE}#draft-status", context)


_CHOICE_DONE = {
    IntelligenceItem.Choice.ACCEPT: "“{title}” will send the AI's proposal.",
    IntelligenceItem.Choice.KEEP: "“{title}” keeps the value in the CRM.",
}


@require_POST
@login_required
def item_choose(request: HtmxHttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Accept the AI's proposal, or keep the CRM's value."""
    item = access.get_item_for_user(request.user, pk, item_pk)
    if reason := _editable(request, item):
        return _refuse(request, item, reason)
    choice = request.POST.get("choice", "")
    if choice not in _CHOICE_DONE:
        return _refuse(request, item, "Choose to keep the CRM value or to accept the proposal.")
    return _apply_item_change(
        request,
        item,
        lambda: review_services.item_choose(
            item=item, choice=choice, user=request.user, version=_posted_version(request)
        ),
        done=_CHOICE_DONE[IntelligenceItem.Choice(choice)],
    )


@require_POST
@login_required
def item_reset(request: HtmxHttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = access.get_item_for_user(request.user, pk, item_pk)
    if reason := _editable(request, item):
        return _refuse(request, item, reason)
    return _apply_item_change(
        request,
        item,
        lambda: review_services.item_reset(
            item=item, user=request.user, version=_posted_version(request)
        ),
        done="“{title}” is back to its default.",
    )


@require_POST
@login_required
def item_exclude(request: HtmxHttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = access.get_item_for_user(request.user, pk, item_pk)
    if reason := _editable(request, item):
        return _refuse(request, item, reason)
    excluded = request.POST.get("excluded", "1") == "1"
    verb = "excluded from" if excluded else "included in"
    return _apply_item_change(
        request,
        item,
        lambda: review_services.item_set_excluded(
            item=item, excluded=excluded, user=request.user, version=_posted_version(request)
        ),
        done="“{title}” is " + verb + " the confirmation.",
    )


@require_POST
@login_required
def item_reason(request: HtmxHttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Why the reviewer edited or excluded the item: one optional click, never required."""
    item = access.get_item_for_user(request.user, pk, item_pk)
    if reason := _editable(request, item):
        return _refuse(request, item, reason)
    return _apply_item_change(
        request,
        item,
        lambda: review_services.item_set_reason(
            item=item, reason=request.POST.get("reason", ""), user=request.user
        ),
        done="Noted why you changed “{title}”.",
    )


@require_GET
@login_required
@vary_on_htmx
def export_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The write-to-CRM line of the result panel, polled by htmx while it is pending."""
    conversation = access.get_conversation_for_user(request.user, pk)
    if not wants_fragment(request):
        return HttpResponseRedirect(_review_url(conversation))
    return render(request, f"{REVIEW_TEMPLATE}#export-status", {"conversation": conversation})


@require_POST
@login_required
def reopen(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Review a confirmed conversation again (after a failed export, say): its decisions
    are kept, every item asks again, and the next confirm sends them."""
    conversation = access.get_conversation_for_user(request.user, pk)
    if conversation.awaiting_review:
        messages.info(request, "This conversation is already waiting for review.")
    else:
        corrections.conversations_return_to_queue(conversation_ids=[conversation.pk])
        messages.success(request, "Back in review: your earlier decisions are kept.")
    return HttpResponseRedirect(_review_url(conversation))


@require_POST
@login_required
def opportunity(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    conversation = access.get_conversation_for_user(request.user, pk)
    candidates = review_selectors.opportunity_choices(conversation)
    form = OpportunityForm(request.POST, candidates=candidates)
    if not conversation.awaiting_review:
        messages.error(request, "This conversation has been confirmed; there is nothing to change.")
    elif form.is_valid():
        try:
            review_services.opportunity_choose(
                conversation=conversation,
                opportunity_id=form.cleaned_data["opportunity_id"],
                user=request.user,
            )
        except review_services.ReviewError as error:
            form.add_error("opportunity_id", str(error))
        else:
            if not request.htmx:
                messages.success(request, "Opportunity saved.")
    if request.htmx:
        context = {
            "conversation": conversation,
            "opportunity_form": form,
            "opportunity_warning": review_selectors.opportunity_warning(conversation, candidates),
            "saved": form.is_valid(),
        }
        return render(request, f"{REVIEW_TEMPLATE}#opportunity", context)
    if form.errors:
        messages.error(request, " ".join(str(error) for error in form.errors["opportunity_id"]))
    return HttpResponseRedirect(_review_url(conversation))


@require_POST
@login_required
def accept_rest(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Accept the AI's proposal for the bulk-tier items left undecided, in one action."""
    conversation = access.get_conversation_for_user(request.user, pk)
    try:
        accepted = review_services.review_accept_rest(conversation=conversation, user=request.user)
    except review_services.ReviewError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, accepted.summary)
    return _after_confirm(request, conversation)


_OUTCOME_MESSAGES = {
    ConfirmationAttempt.Outcome.SUCCEEDED: (messages.SUCCESS, "Confirmed. Attention has it."),
    ConfirmationAttempt.Outcome.PENDING: (
        messages.INFO,
        "This review is being confirmed right now; the result appears here when it is done.",
    ),
}


@require_POST
@login_required
def confirm(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    conversation = access.get_conversation_for_user(request.user, pk)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The confirm form was incomplete; reload the page and try again.")
        return _after_confirm(request, conversation)
    try:
        with client_from_settings() as client:
            attempt = review_services.review_confirm(
                conversation_pk=conversation.pk,
                review_round=form.cleaned_data["review_round"],
                user=request.user,
                client=client,
            )
    except review_services.ReviewError as error:
        messages.error(request, str(error))
        return _after_confirm(request, conversation)
    outcome = ConfirmationAttempt.Outcome(attempt.outcome)
    if outcome in _OUTCOME_MESSAGES:
        messages.add_message(request, *_OUTCOME_MESSAGES[outcome])
    # A failed or unsettled attempt is said once, by the confirm panel's status box,
    # which the page draws from the attempt itself (and so again after a reload).
    return _after_confirm(request, conversation)


def _after_confirm(request: HtmxHttpRequest, conversation: Conversation) -> HttpResponse:
    """The page as it now stands: the review body for htmx, a redirect otherwise."""
    if not request.htmx:
        return HttpResponseRedirect(_review_url(conversation))
    conversation = access.get_conversation_for_user(request.user, conversation.pk)
    context = _review_context(request, conversation)
    return render(request, f"{REVIEW_TEMPLATE}#review-body", context)


@require_GET
@login_required
@vary_on_htmx
def transcript(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The call's transcript opened at a quote (`?at=&until=`, seconds): the review page's
    side panel for htmx, else a page of its own that the link's anchor scrolls to the
    quote. Fetched from Attention the first time, and again with `?refresh=1`."""
    conversation = access.get_conversation_for_user(request.user, pk)
    at = evidence_selectors.moment_from_query(request.GET.get("at"))
    until = evidence_selectors.moment_from_query(request.GET.get("until"))
    problem = ""
    try:
        stored = transcript_services.transcript_fetch(
            conversation=conversation, refresh=request.GET.get("refresh") == "1"
        )
    except transcript_services.TranscriptUnavailable as error:
        stored, problem = None, str(error)
    context = {
        "conversation": conversation,
        "problem": problem,
        "transcript": evidence_selectors.transcript_view(
            stored.segments if stored else [], at=at, until=until
        ),
    }
    return render_page(request, "reviews/transcript.html", "transcript-panel", context)


# My confirmations ---------------------------------------------------------------------

CONFIRMATIONS_PAGE_SIZE = 20


@require_GET
@login_required
@vary_on_htmx
def my_confirmations(request: HtmxHttpRequest) -> HttpResponse:
    """The rep's own history: what each confirmation sent, beside what the CRM held."""

    def content(partial: str) -> dict[str, Any]:
        page = paginate(
            confirmation_selectors.my_confirmations(request.user),
            number=page_number_from(request.GET.get("page")),
            per_page=CONFIRMATIONS_PAGE_SIZE,
            count_cap=settings.QUEUE_COUNT_CAP,
        )
        return {"page": page}

    page_context = {"nav": "confirmations"}
    return render_cached_page(
        request, "reviews/confirmations.html", "history", content, page_context
    )


# Problems ------------------------------------------------------------------------------


@require_GET
@manager_required("The Problems panel is for managers and admins.")
def problems(request: HtmxHttpRequest) -> HttpResponse:
    """Failed syncs, records set aside and failed confirms, in one place."""
    context = {"nav": "problems", "problems": problem_selectors.problems_for(request.user)}
    return render(request, "reviews/problems.html", context)


# Audit --------------------------------------------------------------------------------

AUDIT_PAGE_SIZE = 25
AUDIT_REFUSAL = "The audit ledger is for managers and admins."


def _default_period() -> tuple:
    today = timezone.localdate()
    return today - timedelta(days=29), today


def _audit_form(request: HtmxHttpRequest) -> AuditFilterForm:
    reps = audit_selectors.audit_reps(request.user)
    date_from, date_to = _default_period()
    return AuditFilterForm(
        request.GET or None,
        initial={"date_from": date_from, "date_to": date_to},
        reps=reps,
        teams=audit_selectors.audit_teams(request.user),
        fields=audit_selectors.audit_fields(request.user),
    )


def _expanded_attempts(values: list[str]) -> frozenset[int]:
    """The attempts whose every item the reader asked to see (`?expand=<id>`, repeated);
    anything that is not an id is ignored."""
    return frozenset(int(value) for value in values[:AUDIT_PAGE_SIZE] if value.isdigit())


def _toggled_query(query: QueryDict, attempt_pk: int, expanded: frozenset[int]) -> str:
    """The page's own query string with one attempt flipped between its changed items
    and all of them (the page number and every filter kept)."""
    flipped = query.copy()
    flipped.setlist("expand", [str(pk) for pk in sorted(expanded ^ {attempt_pk})])
    return flipped.urlencode()


def _audit_filters(
    request: HtmxHttpRequest, form: AuditFilterForm
) -> audit_selectors.AuditFilters | None:
    if not form.is_bound:
        date_from, date_to = _default_period()
        return audit_selectors.AuditFilters(date_from=date_from, date_to=date_to)
    if not form.is_valid():
        return None
    return audit_selectors.AuditFilters.from_form(form.cleaned_data)


@require_GET
@manager_required(AUDIT_REFUSAL)
@vary_on_htmx
def audit(request: HtmxHttpRequest) -> HttpResponse:
    """The audit: confirmations of the manager's teams, what each sent against the AI's
    values, with a summary and a chart; cached per reader until the next write."""

    def content(partial: str) -> dict[str, Any]:
        form = _audit_form(request)
        filters = _audit_filters(request, form)
        page_number = page_number_from(request.GET.get("page"))
        context: dict[str, Any] = {"form": form, "filters": filters}
        if filters is not None:
            offset = (page_number - 1) * AUDIT_PAGE_SIZE
            expanded = _expanded_attempts(request.GET.getlist("expand"))
            rows = audit_selectors.audit_ledger_page(
                request.user, filters, offset=offset, limit=AUDIT_PAGE_SIZE + 1, expanded=expanded
            )
            summaries, days = audit_selectors.audit_summary(
                request.user, filters, names=form.rep_names
            )
            query = request.GET.copy()
            if not form.is_bound:
                # The pager and the export must keep the default period the page shows.
                query.update({"date_from": str(filters.date_from), "date_to": str(filters.date_to)})
            entries = [
                entry.with_toggle_query(_toggled_query(query, entry.attempt.pk, expanded))
                for entry in rows[:AUDIT_PAGE_SIZE]
            ]
            query.pop("page", None)
            context.update(
                attempts=entries,
                page_number=page_number,
                has_next=len(rows) > AUDIT_PAGE_SIZE,
                has_previous=page_number > 1,
                query=query.urlencode(),
                summaries=summaries,
                chart=confirmations_per_day_chart(days),
            )
        return context

    return render_cached_page(request, "reviews/audit.html", "ledger", content, {"nav": "audit"})


@require_GET
@manager_required(AUDIT_REFUSAL)
def audit_export(request: HtmxHttpRequest) -> HttpResponseBase:
    form = _audit_form(request)
    filters = _audit_filters(request, form)
    if filters is None:
        return HttpResponse(
            "The filters are not valid: "
            + "; ".join(str(error) for error in form.non_field_errors() or ["check them"]),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    attempts = audit_selectors.audit_attempts(request.user, filters).values("pk")
    rows = audit_csv_rows(attempts, audit_selectors.audit_items(filters))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="attention-audit-{stamp}.csv"'
    return response


# Field accuracy ---------------------------------------------------------------------------

ACCURACY_REFUSAL = "Field accuracy is for managers and admins."
ACCURACY_DEFAULT_DAYS = 12 * 7


@require_GET
@manager_required(ACCURACY_REFUSAL)
@vary_on_htmx
def accuracy(request: HtmxHttpRequest) -> HttpResponse:
    """Per field: how often the AI's value is taken as proposed, edited or left out."""

    def content(partial: str) -> dict[str, Any]:
        today = timezone.localdate()
        form = AccuracyFilterForm(
            request.GET or None,
            initial={
                "date_from": today - timedelta(days=ACCURACY_DEFAULT_DAYS - 1),
                "date_to": today,
            },
            reps=audit_selectors.audit_reps(request.user),
            teams=audit_selectors.audit_teams(request.user),
            fields=audit_selectors.audit_fields(request.user),
        )
        context: dict[str, Any] = {"form": form, "filters": None}
        if not form.is_bound or form.is_valid():
            cleaned = form.cleaned_data if form.is_bound else form.initial
            filters = accuracy_selectors.AccuracyFilters(
                date_from=cleaned["date_from"],
                date_to=cleaned["date_to"],
                team_id=cleaned.get("team"),
                rep_id=cleaned.get("rep"),
                field=cleaned.get("field") or "",
            )
            report = accuracy_selectors.field_accuracy(request.user, filters)
            context.update(
                filters=filters, report=report, chart=weekly_changed_share_chart(report.weeks)
            )
        return context

    return render_cached_page(
        request, "reviews/accuracy.html", "report", content, {"nav": "accuracy"}
    )


# Spot checks --------------------------------------------------------------------------------

SPOT_CHECK_REFUSAL = "Spot checks are for managers and admins."
SPOT_CHECKS_LISTED = 20


def _spot_check_request_form(
    request: HtmxHttpRequest, reps: list[tuple[int, str]]
) -> SpotCheckRequestForm:
    return SpotCheckRequestForm(request.POST or None, reps=reps)


@require_http_methods(["GET", "POST"])
@manager_required(SPOT_CHECK_REFUSAL)
def spot_checks(request: HtmxHttpRequest) -> HttpResponse:
    """GET: each rep's agreement rate beside their quick approvals, and the checks made.
    POST: draw a new random sample of one rep's confirmed items and open it."""
    reps = audit_selectors.audit_reps(request.user)
    form = _spot_check_request_form(request, reps)
    if request.method == "POST" and form.is_valid():
        try:
            check = spot_check_services.spot_check_create(
                manager=request.user,
                rep_id=form.cleaned_data["rep"],
                size=form.cleaned_data["size"],
            )
        except spot_check_services.SpotCheckError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Sampled {check.items.count()} items for a second look.")
            return HttpResponseRedirect(reverse("reviews:spot-check", args=[check.pk]))
    date_from, date_to = _default_period()
    summaries, _ = audit_selectors.audit_summary(
        request.user,
        audit_selectors.AuditFilters(date_from=date_from, date_to=date_to),
        names=dict(reps),
    )
    context = {
        "nav": "spot-checks",
        "form": form,
        "rows": spot_check_selectors.spot_check_overview(
            reps, summaries, spot_check_selectors.agreement_by_rep(request.user)
        ),
        "checks": spot_check_selectors.spot_checks_for_user(request.user)[:SPOT_CHECKS_LISTED],
        "date_from": date_from,
    }
    return render(request, "reviews/spot_checks.html", context)


@require_GET
@manager_required(SPOT_CHECK_REFUSAL)
def spot_check(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One spot check: each sampled item with its call, values and evidence, to judge."""
    check = spot_check_selectors.get_spot_check_for_user(request.user, pk)
    context = {
        "nav": "spot-checks",
        "check": check,
        "entries": spot_check_selectors.spot_check_entries(request.user, check),
    }
    return render(request, "reviews/spot_check.html", context)


@require_POST
@manager_required(SPOT_CHECK_REFUSAL)
def spot_check_verdict(request: HtmxHttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Agree or disagree with one sampled item (htmx swaps the item; else a redirect)."""
    item = spot_check_selectors.get_spot_check_item_for_user(request.user, pk, item_pk)
    form = SpotCheckVerdictForm(request.POST)
    error = ""
    if form.is_valid():
        item = spot_check_services.spot_check_decide(
            item=item, verdict=form.cleaned_data["verdict"], note=form.cleaned_data["note"]
        )
    else:
        error = "Choose Agree or Disagree; a note is at most 2,000 characters."
    if not wants_fragment(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, "Verdict saved.")
        return HttpResponseRedirect(f"{reverse('reviews:spot-check', args=[pk])}#sample-{item.pk}")
    check = spot_check_selectors.get_spot_check_for_user(request.user, pk)
    entry = next(
        entry
        for entry in spot_check_selectors.spot_check_entries(request.user, check)
        if entry.item.pk == item.pk
    )
    context = {"check": check, "entry": entry, "error": error, "saved": not error}
    return render(request, "reviews/spot_check.html#sample", context)
