"""Clear a user's cached role when their groups or managed teams change, and the cached
CRM link templates when an admin edits one; mark the cached page fragments out of date
when what they show changes outside a request (a sync's progress, roles, teams)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from .fragment_cache import data_changed
from .models import CrmLinkTemplate, SyncRun, Team
from .selectors.access import role_cache_key
from .selectors.crm_links import forget_crm_link_templates


def _forget_roles(user_ids: Any) -> None:
    cache.delete_many([role_cache_key(user_id) for user_id in user_ids])
    data_changed()  # what each of them may see has changed


@receiver(m2m_changed, sender=get_user_model().groups.through)
def user_groups_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    if not action.startswith(("post_", "pre_clear")):
        return
    if not reverse:
        _forget_roles([instance.pk])
    elif pk_set:
        _forget_roles(pk_set)
    else:  # a group about to be cleared of all its members
        _forget_roles(instance.user_set.values_list("pk", flat=True))


@receiver(m2m_changed, sender=Team.managers.through)
def team_managers_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    if not action.startswith(("post_", "pre_clear")):
        return
    if reverse:
        _forget_roles([instance.pk])
    elif pk_set:
        _forget_roles(pk_set)
    else:
        _forget_roles(instance.managers.values_list("pk", flat=True))


@receiver([post_save, post_delete], sender=get_user_model())
def user_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    _forget_roles([instance.pk])


@receiver([post_save, post_delete], sender=CrmLinkTemplate)
def crm_link_template_changed(sender: Any, **kwargs: Any) -> None:
    forget_crm_link_templates()


@receiver([post_save, post_delete], sender=SyncRun)
@receiver([post_save, post_delete], sender=Team)
def shown_data_saved(sender: Any, **kwargs: Any) -> None:
    """A sync's progress or a team is shown on cached pages: mark them out of date."""
    data_changed()
