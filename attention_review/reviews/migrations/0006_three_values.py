"""Three values per item, kept apart: the CRM's, the AI's proposal, the reviewer's decision.

Drafts become decisions: an edited draft is the choice "own value", a reviewed item left
as the AI proposed it is the choice "accept"; exclusions stay as they were. Items are no
longer deleted when the AI stops reporting them: they are marked withdrawn.
"""

from django.db import migrations, models
from django.db.models import F, Q


def drafts_to_decisions(apps, schema_editor):
    item_model = apps.get_model("reviews", "IntelligenceItem")
    item_model.objects.filter(is_edited=True).update(
        choice="own", decision_value=F("draft_value"), decision_proposal=F("ai_value")
    )
    item_model.objects.filter(is_edited=False, reviewed_at__isnull=False, is_excluded=False).update(
        choice="accept", decision_value=F("ai_value"), decision_proposal=F("ai_value")
    )
    item_model.objects.filter(is_edited=False, is_excluded=True).update(
        decision_proposal=F("ai_value")
    )


def decisions_to_drafts(apps, schema_editor):
    item_model = apps.get_model("reviews", "IntelligenceItem")
    item_model.objects.filter(choice="own").update(is_edited=True, draft_value=F("decision_value"))


class Migration(migrations.Migration):
    dependencies = [("reviews", "0005_queue_by_team_index")]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="crm_export_error",
            field=models.TextField(
                blank=True, help_text="Why the write to the CRM failed, as Attention says it"
            ),
        ),
        migrations.AddField(
            model_name="conversation",
            name="export_failed",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="conversation",
            name="export_checked_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                condition=Q(export_failed=True),
                fields=["owner", "-last_confirmed_at"],
                name="conversation_export_failed",
            ),
        ),
        migrations.AddField(
            model_name="intelligenceitem",
            name="withdrawn",
            field=models.BooleanField(
                default=False, help_text="The AI no longer reports this item: it is not sent"
            ),
        ),
        migrations.AddField(
            model_name="intelligenceitem",
            name="choice",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "No decision"),
                    ("keep", "Keep the CRM value"),
                    ("accept", "Accept the AI's proposal"),
                    ("own", "Own value"),
                ],
                default="",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="intelligenceitem",
            name="decision_value",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="intelligenceitem",
            name="decision_proposal",
            field=models.JSONField(
                blank=True, help_text="The AI's proposal when the decision was made", null=True
            ),
        ),
        migrations.AddField(
            model_name="intelligenceitem",
            name="version",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Bumped by every decision: a save over a newer one is refused",
            ),
        ),
        migrations.RunPython(drafts_to_decisions, decisions_to_drafts),
        migrations.RemoveField(model_name="intelligenceitem", name="is_edited"),
        migrations.RemoveField(model_name="intelligenceitem", name="draft_value"),
        migrations.AddField(
            model_name="confirmationattempt",
            name="stored_differently",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="confirmeditem",
            name="crm_value_before",
            field=models.JSONField(
                blank=True, help_text="The value in the CRM before this confirmation", null=True
            ),
        ),
        migrations.AddField(
            model_name="confirmeditem",
            name="had_crm_value",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="confirmeditem",
            name="choice",
            field=models.CharField(blank=True, default="", max_length=10),
        ),
    ]
