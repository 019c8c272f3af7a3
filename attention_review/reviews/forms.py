"""Validation of everything a reviewer sends: an item's value and the opportunity."""

import json
from typing import Any

from django import forms

from .models import ConfirmationAttempt, IntelligenceItem

MAX_VALUE_LENGTH = 10_000


def _value_kind(value: Any) -> str:
    """How an item's value is edited, from the type the AI sent it in."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "json"
    return "text"


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def value_as_text(value: Any) -> str:
    """An item's value as the reviewer edits it."""
    kind = _value_kind(value)
    if value is None:
        return ""
    if kind == "boolean":
        return "Yes" if value else "No"
    if kind == "list":
        return "\n".join(str(entry) for entry in value)
    if kind == "json":
        return json.dumps(value, indent=2, ensure_ascii=False)
    return str(value)


def choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    """A form's own copy of one of its choice fields (`form.fields` is typed as Field)."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


class ItemValueForm(forms.Form):
    """The value of one item, checked against the item's options and the AI value's type."""

    value = forms.CharField(
        required=False,
        strip=True,
        max_length=MAX_VALUE_LENGTH,
        error_messages={
            "max_length": "Keep it under %(limit_value)s characters (this has %(show_value)s)."
        },
    )

    def __init__(self, *args: Any, item: IntelligenceItem, **kwargs: Any) -> None:
        self.item = item
        self.kind = _value_kind(item.ai_value)
        current = item.current_value
        # A JSON item is edited as JSON whatever the value became (false, "", a list),
        # so opening it and saving it unchanged gives back the same value.
        shown = (
            json.dumps(current, indent=2, ensure_ascii=False)
            if self.kind == "json"
            else value_as_text(current)
        )
        kwargs.setdefault("initial", {"value": shown})
        super().__init__(*args, **kwargs)
        field = self.fields["value"]
        field.label = item.title or item.key
        field.widget = self._widget()

    def _widget(self) -> forms.Widget:
        attrs = {"aria-describedby": f"item-{self.item.pk}-help"}
        if self.item.options:
            choices = [("", "— Choose —")] + [
                (value_as_text(option), value_as_text(option)) for option in self.item.options
            ]
            return forms.Select(choices=choices, attrs=attrs)
        if self.kind == "boolean":
            return forms.Select(choices=[("", "— Choose —"), ("Yes", "Yes"), ("No", "No")])
        if self.kind == "number":
            return forms.TextInput(attrs={**attrs, "inputmode": "decimal"})
        return forms.Textarea(attrs={**attrs, "rows": 3})

    def clean_value(self) -> Any:
        text: str = self.cleaned_data["value"]
        if "\x00" in text:
            raise forms.ValidationError("The value contains a character that cannot be stored.")
        if not text:
            raise forms.ValidationError(
                "Enter a value, or exclude this item if it should not be sent."
            )
        if self.item.options:
            allowed = {value_as_text(option): option for option in self.item.options}
            if text not in allowed:
                raise forms.ValidationError("Choose one of the listed values.")
            return allowed[text]
        return self._typed(text)

    def _typed(self, text: str) -> Any:
        """The text back in the type the AI sent the value in."""
        if self.kind == "boolean":
            if text not in {"Yes", "No"}:
                raise forms.ValidationError("Choose Yes or No.")
            return text == "Yes"
        if self.kind == "number":
            cleaned = text.replace(",", "").replace("$", "").strip()
            try:
                number = float(cleaned)
            except ValueError:
                raise forms.ValidationError("Enter a number, like 48000 or 12.5.") from None
            if number != number or number in {float("inf"), float("-inf")}:
                raise forms.ValidationError("Enter a number, like 48000 or 12.5.")
            return int(number) if number.is_integer() else number
        if self.kind == "list":
            return [line.strip() for line in text.splitlines() if line.strip()]
        if self.kind == "json":
            try:
                # NaN and Infinity are not JSON: no database or API would take them.
                return json.loads(text, parse_constant=_not_json)
            except ValueError:
                raise forms.ValidationError("Enter valid JSON.") from None
        return text


class OpportunityForm(forms.Form):
    """The opportunity to confirm against: one of those linked to the conversation."""

    opportunity_id = forms.ChoiceField(label="Opportunity", required=True)

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        opportunity = choice_field(self, "opportunity_id")
        opportunity.choices = choices
        opportunity.error_messages["invalid_choice"] = (
            "Choose one of the opportunities linked to this conversation."
        )


class ConfirmForm(forms.Form):
    """The confirm button carries the review round it was shown for."""

    review_round = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class AuditFilterForm(forms.Form):
    """The audit ledger's filters; the CSV export takes the same ones in its query string.

    Reps and teams are offered from lists the view reads once (one query each), so
    validating a choice costs no further query.
    """

    OUTCOME_CHOICES = [("", "Any outcome"), *ConfirmationAttempt.Outcome.choices]

    rep = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Rep")
    team = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Team")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    field = forms.ChoiceField(required=False, label="Field")
    only_edited = forms.BooleanField(required=False, label="Only edited items")
    outcome = forms.ChoiceField(choices=OUTCOME_CHOICES, required=False, label="Outcome")

    def __init__(
        self,
        *args: Any,
        reps: list[tuple[int, str]],
        teams: list[tuple[int, str]],
        fields: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "rep").choices = [("", "All reps"), *reps]
        self.rep_names: dict[int, str] = dict(reps)
        choice_field(self, "team").choices = [("", "All teams"), *teams]
        choice_field(self, "field").choices = [("", "All fields"), *[(key, key) for key in fields]]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The start date is after the end date.")
        return cleaned
