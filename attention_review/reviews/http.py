"""What the views share about requests: the typed htmx request, the fragment-or-page rule
(and its cached form for read pages) and the manager gate."""

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, Concatenate

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django_htmx.middleware import HtmxDetails

from .fragment_cache import fragment
from .selectors.access import user_is_manager

# An htmx request and its history restore get different bodies from one URL: caches
# must key on both headers.
FRAGMENT_VARY_HEADERS = ("HX-Request", "HX-History-Restore-Request")


class HtmxHttpRequest(HttpRequest):
    """A request behind `login_required`, as django-htmx's middleware leaves it."""

    htmx: HtmxDetails
    user: User  # login_required guarantees a real user


def wants_fragment(request: HtmxHttpRequest) -> bool:
    """True for an htmx request that swaps part of the page.

    A history restore (Back or Forward after `hx-push-url`, with no cached snapshot) is
    also sent by htmx, but it replaces the whole body: it gets the whole page.
    """
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_page(
    request: HtmxHttpRequest, template: str, fragment: str, context: dict[str, Any]
) -> HttpResponse:
    """The page, or only its `fragment` partial when htmx swaps part of it."""
    name = f"{template}#{fragment}" if wants_fragment(request) else template
    return render(request, name, context)


def render_cached_page(
    request: HtmxHttpRequest,
    template: str,
    fragment_name: str,
    content_context: Callable[[str], dict[str, Any]],
    page_context: dict[str, Any],
    *,
    body_partial: str = "body",
    vary: Iterable[str] = (),
) -> HttpResponse:
    """A read page whose content is its `body_partial`: the whole page, or only its
    `fragment_name` partial when htmx swaps part of it. Either is rendered from
    `content_context(partial)` (the page around the body from `page_context`) and kept
    per reader until the next write (`fragment_cache`), so a repeat view runs none of
    the content's queries and renders nothing. A view with a message to show (shown
    once) is rendered afresh."""
    use_cache = not len(messages.get_messages(request))
    if wants_fragment(request):
        part = fragment(
            request,
            fragment_name,
            lambda: render_to_string(
                f"{template}#{fragment_name}", content_context(fragment_name), request
            ),
            vary=vary,
            use_cache=use_cache,
        )
        return HttpResponse(part)

    def whole_page() -> str:
        return render_around_body(
            request, template, body_partial, content_context(body_partial), page_context
        )

    return HttpResponse(fragment(request, "page", whole_page, vary=vary, use_cache=use_cache))


def render_around_body(
    request: HtmxHttpRequest,
    template: str,
    body_partial: str,
    body_context: dict[str, Any],
    page_context: dict[str, Any],
) -> str:
    """A page whose template shows `{{ body }}`: its `body_partial` rendered from
    `body_context`, then the page around it from `page_context`."""
    body = render_to_string(f"{template}#{body_partial}", body_context, request)
    context = {**page_context, "body": mark_safe(body)}  # noqa: S308 - our templates
    return render_to_string(template, context, request)


def vary_on_htmx[**P, R: HttpResponseBase](
    view: Callable[Concatenate[HtmxHttpRequest, P], R],
) -> Callable[Concatenate[HtmxHttpRequest, P], R]:
    """Mark a view whose body depends on the htmx headers, so no cache mixes them up."""

    @wraps(view)
    def wrapped(request: HtmxHttpRequest, *args: P.args, **kwargs: P.kwargs) -> R:
        response = view(request, *args, **kwargs)
        patch_vary_headers(response, FRAGMENT_VARY_HEADERS)
        return response

    return wrapped


def manager_required[**P, R: HttpResponseBase](
    reason: str,
) -> Callable[
    [Callable[Concatenate[HtmxHttpRequest, P], R]],
    Callable[Concatenate[HtmxHttpRequest, P], R],
]:
    """Log in first, then refuse (403, with `reason`) anyone who is not a manager or admin."""

    def decorate(
        view: Callable[Concatenate[HtmxHttpRequest, P], R],
    ) -> Callable[Concatenate[HtmxHttpRequest, P], R]:
        @wraps(view)
        def wrapped(request: HtmxHttpRequest, *args: P.args, **kwargs: P.kwargs) -> R:
            if not user_is_manager(request.user):
                raise PermissionDenied(reason)
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorate
