"""Where a CRM record opens: the admins' per-type URL templates, else the site setting."""

from django.conf import settings
from django.core.cache import cache

from ..models import CrmLinkTemplate

CRM_LINKS_CACHE_KEY = "crm-link-templates"
# Read on many pages and edited rarely: kept for a while, cleared when a row changes
# (signals.py); the timeout bounds what another process's cache could miss.
CRM_LINKS_CACHE_SECONDS = 60


def crm_link_templates() -> dict[str, str]:
    """{record type: URL template} for every type an admin configured, in one query at
    most (then cached), however many links a page draws."""
    templates: dict[str, str] | None = cache.get(CRM_LINKS_CACHE_KEY)
    if templates is None:
        templates = dict(CrmLinkTemplate.objects.values_list("record_type", "url_template"))
        cache.set(CRM_LINKS_CACHE_KEY, templates, CRM_LINKS_CACHE_SECONDS)
    return templates


def crm_url_template(record_type: str) -> str:
    """The URL template for a record type: its own row when an admin set one, else
    CRM_RECORD_URL_TEMPLATE ('' when neither is set)."""
    return crm_link_templates().get(record_type) or settings.CRM_RECORD_URL_TEMPLATE or ""


def forget_crm_link_templates() -> None:
    cache.delete(CRM_LINKS_CACHE_KEY)
