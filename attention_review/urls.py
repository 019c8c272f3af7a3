from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from attention_review.operations import health, metrics

admin.site.site_header = "Attention Review administration"
admin.site.site_title = "Attention Review admin"

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # Operations (docs/operations.md); /healthz is in reviews.urls.
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("", include("attention_review.reviews.urls")),
]
