from typing import Any

from django.http import HttpRequest

from .selectors.access import user_may_audit


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Whether to show the Audit link; the audit views check again for themselves."""
    user = getattr(request, "user", None)
    return {"can_audit": bool(user and user_may_audit(user))}
