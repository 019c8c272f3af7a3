from django.urls import path

from . import views

app_name = "reviews"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("healthz", views.healthz, name="healthz"),
    path("sync/", views.sync_now, name="sync-now"),
    path("sync/status/", views.sync_status, name="sync-status"),
    path("conversations/<int:pk>/", views.review, name="review"),
    path("conversations/<int:pk>/items/<int:item_pk>/", views.item, name="item"),
    path("conversations/<int:pk>/items/<int:item_pk>/edit/", views.item_edit, name="item-edit"),
    path("conversations/<int:pk>/items/<int:item_pk>/draft/", views.item_draft, name="item-draft"),
    path("conversations/<int:pk>/items/<int:item_pk>/reset/", views.item_reset, name="item-reset"),
    path(
        "conversations/<int:pk>/items/<int:item_pk>/choose/", views.item_choose, name="item-choose"
    ),
    path(
        "conversations/<int:pk>/items/<int:item_pk>/exclude/",
        views.item_exclude,
        name="item-exclude",
    ),
    path(
        "conversations/<int:pk>/items/<int:item_pk>/reason/", views.item_reason, name="item-reason"
    ),
    path("conversations/<int:pk>/export/", views.export_status, name="export-status"),
    path("conversations/<int:pk>/reopen/", views.reopen, name="reopen"),
    path("conversations/<int:pk>/transcript/", views.transcript, name="transcript"),
    path("conversations/<int:pk>/opportunity/", views.opportunity, name="opportunity"),
    path("conversations/<int:pk>/accept-rest/", views.accept_rest, name="accept-rest"),
    path("conversations/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("conversations/<int:pk>/lock/", views.review_lock, name="review-lock"),
    path("conversations/<int:pk>/take-over/", views.review_take_over, name="review-take-over"),
    path("conversations/<int:pk>/assign/", views.assign, name="assign"),
    path("confirmations/", views.my_confirmations, name="my-confirmations"),
    path("problems/", views.problems, name="problems"),
    path("audit/", views.audit, name="audit"),
    path("audit/export.csv", views.audit_export, name="audit-export"),
    path("accuracy/", views.accuracy, name="accuracy"),
    path("spot-checks/", views.spot_checks, name="spot-checks"),
    path("spot-checks/<int:pk>/", views.spot_check, name="spot-check"),
    path(
        "spot-checks/<int:pk>/items/<int:item_pk>/",
        views.spot_check_verdict,
        name="spot-check-verdict",
    ),
]
