from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "attention_review.reviews"
    label = "reviews"
    verbose_name = "Reviews"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the receivers
