"""Validation of everything a reviewer sends: an item's value and the opportunity.

The rules for an item's value (its kind, how typed text becomes it, what counts as the
same value) live in `values.py`; `ItemValueForm` puts them behind one form field."""

import json
from typing import Any, Protocol

from django import forms

from .models import ConfirmationAttempt
from .selectors.queue import QueueFilters, QueueSort
from .selectors.review import OpportunityCandidate
from .values import (
    JSON_KINDS,
    NO,
    YES,
    Refused,
    ValueKind,
    chosen_values,
    editor_text,
    kind_source,
    match_option,
    option_label,
    option_tokens,
    option_value,
    typed_value,
    value_kind,
)

MAX_VALUE_LENGTH = 10_000


def value_as_text(value: Any) -> str:
    """An item's value as plain text, whatever JSON type it came in (the CSV export's
    form; the page reads values through `values.display_value`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        # An object inside a list is written as JSON, never as Python's repr of a dict.
        return "\n".join(
            json.dumps(entry, ensure_ascii=False) if isinstance(entry, dict | list) else str(entry)
            for entry in value
        )
    if isinstance(value, dict):
        return json.dumps(value, indent=2, ensure_ascii=False)
    return str(value)


def choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    """A form's own copy of one of its choice fields (`form.fields` is typed as Field)."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


class EditableItem(Protocol):
    """What ItemValueForm reads of an item (an IntelligenceItem, in the app)."""

    @property
    def pk(self) -> Any: ...
    @property
    def key(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def ai_value(self) -> Any: ...
    @property
    def options(self) -> Any: ...
    @property
    def outgoing_value(self) -> Any:
        """The value a confirm would send: what the editor opens with."""


ENTER_A_VALUE = "Enter a value, or exclude this item if it should not be sent."
CHOOSE_A_VALUE = "Choose one of the listed values, or exclude this item if it should not be sent."
NOT_LISTED = "Choose one of the listed values."
BLANK_CHOICE = ("", "— Choose —")


class ItemValueForm(forms.Form):
    """The value of one item, edited in the kind of the AI's value (`values.value_kind`)
    and given back in the AI value's JSON type: `cleaned_data["value"]` is what to store.

    One field, `value`, whose widget depends on the kind, so `{{ form.value }}` renders
    the whole editor: a textarea (text; a list one entry per line; objects and other
    lists as JSON), a text input (numbers; a date and time), a date input, a select
    (Yes/No; a picklist, submitting a token per option, never the option as JSON) or a
    multiple select (a multi-picklist). All are plain form controls: no JavaScript.

    The editor opens with the item's `outgoing_value`, or with `draft` (text the reviewer
    typed earlier and did not save), shown as typed and not validated until it is saved.
    `reference` (for example the value confirmed in the CRM) sets the kind when the AI's
    value is None. Opening the editor and saving it unchanged gives back the value it
    opened with, in the same JSON type and shape.
    """

    def __init__(
        self,
        *args: Any,
        item: EditableItem,
        reference: Any = None,
        draft: str = "",
        **kwargs: Any,
    ) -> None:
        self.item = item
        self.options: list[Any] = list(item.options) if isinstance(item.options, list) else []
        self.kind = value_kind(item.ai_value, self.options, reference=reference)
        self.like = kind_source(item.ai_value, reference)
        self.tokens = option_tokens(self.options)
        self.initially = self._initial_choice(item.outgoing_value)
        shown = draft if draft and self.takes_draft else self._shown(item.outgoing_value)
        kwargs.setdefault("initial", {"value": shown})
        super().__init__(*args, **kwargs)
        field = self._field()
        field.label = item.title or item.key
        self.fields["value"] = field

    @property
    def takes_draft(self) -> bool:
        """Whether what is typed is kept as a draft: one piece of text (a multiple select
        posts several values, and is re-chosen in a moment anyway)."""
        return self.kind is not ValueKind.MULTI_PICKLIST

    def _initial_choice(self, current: Any) -> list[int]:
        """The options the current value stands for, in the value's order."""
        if self.kind is ValueKind.PICKLIST:
            position = match_option(self.options, current)
            return [] if position is None else [position]
        if self.kind is ValueKind.MULTI_PICKLIST and isinstance(current, list):
            found = (match_option(self.options, entry) for entry in current)
            return list(dict.fromkeys(p for p in found if p is not None))
        return []

    def _shown(self, current: Any) -> Any:
        if self.kind is ValueKind.BOOLEAN:
            return {True: YES, False: NO}.get(current, "") if isinstance(current, bool) else ""
        if self.kind is ValueKind.PICKLIST:
            return self.tokens[self.initially[0]] if self.initially else ""
        if self.kind is ValueKind.MULTI_PICKLIST:
            return [self.tokens[position] for position in self.initially]
        return editor_text(current, self.kind)

    def _field(self) -> forms.Field:
        attrs = {"aria-describedby": f"item-{self.item.pk}-help"}
        labels = [option_label(option) for option in self.options]
        if self.kind is ValueKind.BOOLEAN:
            return forms.ChoiceField(
                choices=[BLANK_CHOICE, (YES, YES), (NO, NO)],
                widget=forms.Select(attrs=attrs),
                error_messages={
                    "required": "Choose Yes or No, or exclude this item if it should not be sent.",
                    "invalid_choice": "Choose Yes or No.",
                },
            )
        if self.kind is ValueKind.PICKLIST:
            return forms.ChoiceField(
                choices=[BLANK_CHOICE, *zip(self.tokens, labels, strict=True)],
                widget=forms.Select(attrs=attrs),
                error_messages={"required": CHOOSE_A_VALUE, "invalid_choice": NOT_LISTED},
            )
        if self.kind is ValueKind.MULTI_PICKLIST:
            # Unticking everything is a choice too: an empty list clears the CRM field.
            return forms.MultipleChoiceField(
                required=False,
                choices=list(zip(self.tokens, labels, strict=True)),
                widget=forms.SelectMultiple(attrs={**attrs, "size": min(len(labels), 10)}),
                error_messages={
                    "invalid_choice": "Choose only from the listed values.",
                    "invalid_list": "Choose from the listed values.",
                },
            )
        widget: forms.Widget
        if self.kind is ValueKind.INTEGER:
            widget = forms.TextInput(attrs={**attrs, "inputmode": "numeric"})
        elif self.kind is ValueKind.DECIMAL:
            widget = forms.TextInput(attrs={**attrs, "inputmode": "decimal"})
        elif self.kind is ValueKind.DATE:
            widget = forms.DateInput(attrs={**attrs, "type": "date"})
        elif self.kind is ValueKind.DATETIME:
            widget = forms.TextInput(attrs={**attrs, "placeholder": "2026-03-14T15:30:00"})
        else:
            rows = 8 if self.kind in JSON_KINDS else 3
            widget = forms.Textarea(attrs={**attrs, "rows": rows})
        return forms.CharField(
            # A list may be emptied on purpose (an empty list clears the CRM field).
            required=self.kind is not ValueKind.LIST_OF_SCALARS,
            strip=True,
            max_length=MAX_VALUE_LENGTH,
            widget=widget,
            error_messages={
                "required": ENTER_A_VALUE,
                "max_length": "Keep it under %(limit_value)s characters (this has %(show_value)s).",
            },
        )

    def clean_value(self) -> Any:
        chosen = self.cleaned_data["value"]
        if self.kind is ValueKind.BOOLEAN:
            return chosen == YES
        if self.kind is ValueKind.PICKLIST:
            return option_value(self.options[self.tokens.index(chosen)])
        if self.kind is ValueKind.MULTI_PICKLIST:
            positions = [self.tokens.index(token) for token in chosen]
            return chosen_values(self.options, positions, initially=self.initially)
        text: str = chosen
        if "\x00" in text:
            raise forms.ValidationError("The value contains a character that cannot be stored.")
        try:
            return typed_value(text, self.kind, like=self.like)
        except Refused as problem:
            raise forms.ValidationError(str(problem)) from None


class OpportunityForm(forms.Form):
    """The opportunity to confirm against: one of those linked to the conversation.

    The page draws `candidates` itself as a group of radio buttons, each opportunity by
    name with its id beside it; the field validates the posted id against them."""

    opportunity_id = forms.ChoiceField(
        label="Opportunity",
        required=True,
        error_messages={"required": "Choose the opportunity to confirm against."},
    )

    def __init__(self, *args: Any, candidates: list[OpportunityCandidate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = candidates
        opportunity = choice_field(self, "opportunity_id")
        opportunity.choices = [(candidate.id, candidate.label) for candidate in candidates]
        opportunity.error_messages["invalid_choice"] = (
            "Choose one of the opportunities linked to this conversation."
        )

    @property
    def chosen_id(self) -> str:
        """The id the radio group shows as chosen: the one posted, else the initial one."""
        return str(self["opportunity_id"].value() or "")


class ConfirmForm(forms.Form):
    """The confirm button carries the review round it was shown for."""

    review_round = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


# The longest period the accuracy page reads at once: a year of weekly bars.
ACCURACY_MAX_DAYS = 366


class ScopeFilterForm(forms.Form):
    """The filters a manager's report shares: team, rep, field and period, as a GET form,
    so a view can be linked to. Reps, teams and fields are offered from lists of what the
    manager may see, read once by the view, so validating a choice costs no query."""

    team = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Team")
    rep = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Rep")
    # Offered by title, chosen by key: (key, title) pairs.
    field = forms.ChoiceField(required=False, label="Field")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self,
        *args: Any,
        reps: list[tuple[int, str]],
        teams: list[tuple[int, str]],
        fields: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "team").choices = [("", "All teams"), *teams]
        choice_field(self, "rep").choices = [("", "All reps"), *reps]
        self.rep_names: dict[int, str] = dict(reps)
        choice_field(self, "field").choices = [("", "All fields"), *fields]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The start date is after the end date.")
        return cleaned


class AccuracyFilterForm(ScopeFilterForm):
    """The field accuracy page's filters; a date left out is the default period's."""

    def clean(self) -> dict[str, Any]:
        cleaned = self.cleaned_data
        for name in ("date_from", "date_to"):
            if cleaned.get(name) is None and name not in self.errors:
                cleaned[name] = self.initial.get(name)
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and (end - start).days > ACCURACY_MAX_DAYS:
            raise forms.ValidationError("Choose a period of at most a year.")
        return cleaned


SPOT_CHECK_MAX_ITEMS = 25


class SpotCheckRequestForm(forms.Form):
    """Ask for a second look at a random sample of one rep's confirmed items."""

    rep = forms.TypedChoiceField(coerce=int, label="Rep")
    size = forms.IntegerField(
        min_value=1, max_value=SPOT_CHECK_MAX_ITEMS, initial=5, label="Items to sample"
    )

    def __init__(self, *args: Any, reps: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "rep").choices = [("", "Choose a rep"), *reps]


class SpotCheckVerdictForm(forms.Form):
    """The manager's verdict on one sampled item, with an optional note."""

    verdict = forms.ChoiceField(
        choices=[("agree", "Agree"), ("disagree", "Disagree")], label="Verdict"
    )
    note = forms.CharField(required=False, max_length=2000, label="Note (optional)")


class AuditFilterForm(ScopeFilterForm):
    """The audit ledger's filters; the CSV export takes the same ones in its query string."""

    OUTCOME_CHOICES = [("", "Any outcome"), *ConfirmationAttempt.Outcome.choices]

    only_edited = forms.BooleanField(required=False, label="Only edited items")
    outcome = forms.ChoiceField(choices=OUTCOME_CHOICES, required=False, label="Outcome")

    field_order = ["rep", "team", "date_from", "date_to", "field", "only_edited", "outcome"]


class QueueFilterForm(forms.Form):
    """The queue's search, filters and sort: a GET form, so they live in the URL.

    A value that does not validate is reported and left out; the others still apply
    (`filters`), so one slip never empties the queue."""

    SORT_CHOICES = [
        (QueueSort.NEWEST.value, "Newest first"),
        (QueueSort.OLDEST.value, "Oldest first"),
        (QueueSort.MOST_ITEMS.value, "Most items"),
    ]

    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Title, account or person"}),
        error_messages={"max_length": "Search for at most %(limit_value)s characters."},
    )
    waiting = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        label="Waiting more than (days)",
        widget=forms.NumberInput(attrs={"min": 1, "max": 3650, "inputmode": "numeric"}),
        error_messages={
            "invalid": "Enter a whole number of days, such as 3.",
            "min_value": "Enter at least 1 day.",
            "max_value": "Enter at most %(limit_value)s days.",
        },
    )
    opportunity = forms.CharField(
        required=False,
        max_length=200,
        label="Opportunity",
        widget=forms.TextInput(attrs={"placeholder": "Name or id"}),
        error_messages={"max_length": "Enter at most %(limit_value)s characters."},
    )
    draft = forms.BooleanField(required=False, label="Only calls with my draft")
    sort = forms.ChoiceField(
        choices=SORT_CHOICES,
        required=False,
        label="Sort",
        error_messages={"invalid_choice": "Sort by newest, oldest or most items."},
    )

    def filters(self) -> QueueFilters:
        """What the valid fields ask for (call after `is_valid`); an unbound form asks for
        the whole queue, newest first."""
        if not self.is_bound:
            return QueueFilters()
        cleaned = self.cleaned_data
        return QueueFilters(
            search=cleaned.get("q") or "",
            waiting_days=cleaned.get("waiting"),
            has_my_draft=bool(cleaned.get("draft")),
            opportunity=(cleaned.get("opportunity") or "").strip(),
            sort=QueueSort(cleaned.get("sort") or QueueSort.NEWEST),
        )

    def ignored(self) -> list[tuple[str, str]]:
        """(label, message) for each value left out because it did not validate."""
        return [
            (str(self.fields[name].label), str(message))
            for name, messages in self.errors.items()
            for message in messages
        ]


class ReviewerChoiceField(forms.ModelChoiceField):
    """People listed by their full name, as the rest of the app names them."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.get_username())


class AssignForm(forms.Form):
    """A manager hands the call to a reviewer they may assign to, or back to its owner."""

    assignee: ReviewerChoiceField = ReviewerChoiceField(
        queryset=None,
        required=False,
        empty_label="Nobody: the owner reviews it",
        label="Reviewer",
    )

    def __init__(self, *args: Any, reviewers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, ReviewerChoiceField)
        field.queryset = reviewers
