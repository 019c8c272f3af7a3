"""An item's value keeps its type and form from the AI, through the editor, to the CRM:
the kinds, the round trip of every kind, the refusals and their sentences, equality by
meaning, and the value as the page reads it."""

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from attention_review.reviews.forms import ItemValueForm, value_as_text
from attention_review.reviews.templatetags.review_tags import item_value
from attention_review.reviews.values import (
    ValueKind,
    display_value,
    option_label,
    option_tokens,
    option_value,
    same_value,
    value_kind,
)

_UNSET: Any = object()


@dataclass
class Item:
    """Test data: the parts of an item the value form reads."""

    ai_value: Any
    options: list[Any] | None = None
    own_value: Any = field(default=_UNSET)
    pk: int = 7
    key: str = "amount"
    title: str = "Amount"

    @property
    def outgoing_value(self) -> Any:
        return self.ai_value if self.own_value is _UNSET else self.own_value


def opened(item: Item, **kwargs: Any) -> ItemValueForm:
    return ItemValueForm(item=item, **kwargs)


def saved(item: Item, typed: Any, **kwargs: Any) -> ItemValueForm:
    return ItemValueForm({"value": typed}, item=item, **kwargs)


def stored(item: Item, typed: Any, **kwargs: Any) -> Any:
    """The value stored for what the reviewer typed (or chose)."""
    form = saved(item, typed, **kwargs)
    assert form.is_valid(), form.errors
    return form.cleaned_data["value"]


def saved_unchanged(item: Item, **kwargs: Any) -> Any:
    """Open the editor, post back exactly what it shows, and return the stored value."""
    shown = opened(item, **kwargs)["value"].value()
    form = saved(item, shown, **kwargs)
    assert form.is_valid(), (shown, form.errors)
    return form.cleaned_data["value"]


def refusal(item: Item, typed: Any, **kwargs: Any) -> str:
    form = saved(item, typed, **kwargs)
    assert not form.is_valid(), form.cleaned_data
    [message] = form.errors["value"]
    return message


def same_json(a: Any, b: Any) -> bool:
    """The same JSON value, type for type (1 is not 1.0 and not "1")."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


STAGES = [
    {"label": "Closed Won", "value": "closed_won"},
    {"label": "Closed Lost", "value": "closed_lost"},
    {"label": "Proposal", "value": "proposal"},
]


# Kinds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "options", "kind"),
    [
        ("Follow up with the CFO", None, ValueKind.TEXT),
        (48000, None, ValueKind.INTEGER),
        (9007199254740993, None, ValueKind.INTEGER),
        ("168000", None, ValueKind.INTEGER),
        ("007", None, ValueKind.TEXT),
        (12.5, None, ValueKind.DECIMAL),
        ("12.5", None, ValueKind.DECIMAL),
        (True, None, ValueKind.BOOLEAN),
        ("2026-03-14", None, ValueKind.DATE),
        ("2026-02-30", None, ValueKind.TEXT),
        ("2026-03-14T15:30:00Z", None, ValueKind.DATETIME),
        ([1, 2, 3], None, ValueKind.LIST_OF_SCALARS),
        (["Ana", "Bo"], None, ValueKind.LIST_OF_SCALARS),
        ([], None, ValueKind.LIST_OF_SCALARS),
        ([{"name": "Ana"}], None, ValueKind.LIST_OF_OBJECTS),
        ({"name": "Ana"}, None, ValueKind.OBJECT),
        ([1, "a", None], None, ValueKind.JSON_LIST),
        (["two\nlines"], None, ValueKind.JSON_LIST),
        ([1, 2.5], None, ValueKind.JSON_LIST),
        ("closed_won", STAGES, ValueKind.PICKLIST),
        (["a"], ["a", "b"], ValueKind.MULTI_PICKLIST),
        (None, None, ValueKind.TEXT),
        (None, ["a"], ValueKind.PICKLIST),
    ],
)
def test_the_kind_comes_from_the_ai_value(value, options, kind):
    assert value_kind(value, options) is kind


def test_the_reference_sets_the_kind_when_the_ai_value_is_none():
    assert value_kind(None, None, reference=48000) is ValueKind.INTEGER
    assert value_kind([], None, reference=[{"a": 1}]) is ValueKind.LIST_OF_OBJECTS
    assert value_kind("text", None, reference=48000) is ValueKind.TEXT
    form = saved(Item(ai_value=None), "48,000", reference=48000)
    assert not form.is_valid()
    assert stored(Item(ai_value=None), "52000", reference=48000) == 52000


# Round trips: opened and saved without a change, the same value, type and shape -------


@pytest.mark.parametrize(
    ("value", "options"),
    [
        ("Follow up with the CFO", None),
        ("Line one\nLine two", None),
        (48000, None),
        (-7, None),
        (9007199254740993, None),
        (10**300, None),
        ("168000", None),
        ("12.50", None),
        (12.5, None),
        (48000.0, None),
        (0.1, None),
        (1e20, None),
        (1e-7, None),
        (True, None),
        (False, None),
        ("2026-03-14", None),
        ("2026-03-14T15:30:00Z", None),
        ("2026-03-14T15:30:00", None),
        ([1, 2, 3], None),
        ([1.5, 2.0], None),
        (["Ana Ruiz", "Bo 😀", "  padded  "], None),
        ([{"name": "Ana Ruiz", "role": "CFO"}, {"name": "Bo", "role": None}], None),
        ({"budget": 9007199254740993, "notes": ["a", 1.5], "ok": False}, None),
        ([1, "a", None, [2]], None),
        ([], None),
        ("closed_won", STAGES),
        ("Proposal", ["Discovery", "Proposal"]),
        (2, [1, 2, 3]),
        (["b", "a"], ["a", "b", "c"]),
        (["closed_lost"], STAGES),
        ([], ["a", "b"]),
    ],
)
def test_opening_and_saving_unchanged_gives_back_the_same_value(value, options):
    stored = saved_unchanged(Item(ai_value=value, options=options))
    assert same_value(stored, value)
    if isinstance(value, str) and value != value.strip():
        assert stored == value.strip()
    elif isinstance(value, list) and any(isinstance(v, str) and v != v.strip() for v in value):
        assert stored == [v.strip() for v in value]
    else:
        assert same_json(stored, value), stored


def test_a_reviewer_s_own_value_is_what_the_editor_opens_with():
    item = Item(ai_value=[1, 2, 3], own_value=[4, 5])
    assert opened(item)["value"].value() == "4\n5"
    assert saved_unchanged(item) == [4, 5]


def test_the_reported_cases_keep_their_type():
    # [1, 2, 3] no longer comes back as ["1", "2", "3"].
    assert stored(Item([1, 2, 3]), "1\n2\n3\n4") == [1, 2, 3, 4]
    # A list of objects is edited as JSON, not as Python text.
    shown = opened(Item([{"name": "Ana"}]))["value"].value()
    assert json.loads(shown) == [{"name": "Ana"}]
    assert "'name'" not in shown
    # A big integer stays exact.
    assert stored(Item(1), "9007199254740993") == 9007199254740993
    # A picklist of {label, value} objects shows labels and sends the value.
    html = str(opened(Item("closed_won", STAGES))["value"])
    assert ">Closed Won</option>" in html
    assert "{" not in html
    assert stored(Item("closed_won", STAGES), "closed_lost") == "closed_lost"


# Each kind's editor and values -------------------------------------------------------


def test_text_is_kept_as_typed_with_line_endings_normalised():
    typed = "  First line  \r\nsecond line  "
    assert stored(Item("Old"), typed) == "First line  \nsecond line"


def test_a_number_is_typed_in_a_text_input_and_stored_in_the_ai_type():
    html = str(opened(Item(48000))["value"])
    assert 'type="text"' in html
    assert 'inputmode="numeric"' in html
    assert 'inputmode="decimal"' in str(opened(Item(12.5))["value"])
    assert stored(Item(48000), " 52000 ") == 52000
    assert stored(Item(12.5), "13") == 13.0
    assert isinstance(stored(Item(12.5), "13"), float)
    assert stored(Item(12.5), "1.234") == 1.234
    assert stored(Item("168000"), "170000") == "170000"
    assert stored(Item("12.5"), "12.75") == "12.75"


def test_a_boolean_is_a_yes_no_select():
    html = str(opened(Item(True))["value"])
    assert "<select" in html
    assert '<option value="Yes" selected>Yes</option>' in html
    assert stored(Item(True), "No") is False
    assert stored(Item(False), "Yes") is True


def test_a_date_is_a_date_input_storing_the_iso_text():
    html = str(opened(Item("2026-03-14"))["value"])
    assert 'type="date"' in html
    assert 'value="2026-03-14"' in html
    assert stored(Item("2026-03-14"), "2026-04-01") == "2026-04-01"


def test_a_list_is_typed_one_entry_per_line_keeping_the_entry_type():
    html = str(opened(Item(["Ana", "Bo"]))["value"])
    assert "<textarea" in html
    assert stored(Item(["Ana"]), "Ana\n\n  Cy  \n") == ["Ana", "Cy"]
    assert stored(Item(["Ana"]), "12\n13") == ["12", "13"]
    assert stored(Item([1.5]), "2\n2.5") == [2.0, 2.5]
    # Emptying the list is a decision too: the CRM field is cleared.
    assert stored(Item(["Ana"]), "") == []


def test_an_object_is_edited_as_json_in_its_own_shape():
    html = str(opened(Item({"name": "Ana"}))["value"])
    assert "<textarea" in html
    assert "&quot;name&quot;: &quot;Ana&quot;" in html
    typed = '{"name": "Ana", "role": "CFO", "budget": 9007199254740993}'
    assert stored(Item({"name": "Ana"}), typed) == {
        "name": "Ana",
        "role": "CFO",
        "budget": 9007199254740993,
    }


def test_a_picklist_submits_a_token_per_option_and_stores_the_option_value():
    options = ["Discovery", {"label": "Closed Won", "value": "cw"}, {"name": "Lost", "value": 0}]
    item = Item("Discovery", options)
    html = str(opened(item)["value"])
    assert '<option value="Discovery" selected>Discovery</option>' in html
    assert '<option value="cw">Closed Won</option>' in html
    assert '<option value="0">Lost</option>' in html
    assert stored(item, "cw") == "cw"
    assert stored(item, "0") == 0


def test_an_ai_value_sent_as_the_whole_option_object_selects_that_option():
    item = Item({"label": "Closed Won", "value": "closed_won"}, STAGES)
    assert opened(item)["value"].value() == "closed_won"
    assert saved_unchanged(item) == "closed_won"


def test_options_whose_values_would_share_a_token_are_sent_by_position():
    options = [1, "1", {"label": "One", "value": True}]
    assert option_tokens(options) == ["option-0", "option-1", "option-2"]
    item = Item("1", options)
    assert opened(item)["value"].value() == "option-1"
    assert stored(item, "option-0") == 1
    assert stored(item, "option-2") is True


def test_a_multi_picklist_is_a_multiple_select_storing_values_in_option_order():
    item = Item(["b"], ["a", "b", {"label": "See", "value": "c"}])
    html = str(opened(item)["value"])
    assert "<select" in html
    assert "multiple" in html
    assert '<option value="b" selected>b</option>' in html
    assert stored(item, ["c", "a"]) == ["a", "c"]
    assert stored(item, []) == []


def test_every_editor_is_the_one_field_named_value_with_its_label_and_help():
    for value in ["text", 1, 1.5, True, "2026-03-14", [1], {"a": 1}, "x"]:
        form = opened(Item(value, ["x"] if value == "x" else None))
        assert list(form.fields) == ["value"]
        assert form["value"].label == "Amount"
        assert 'aria-describedby="item-7-help"' in str(form["value"])
        assert 'name="value"' in str(form["value"])


# Refusals, each with a sentence --------------------------------------------------------


@pytest.mark.parametrize(
    ("ai_value", "typed", "sentence"),
    [
        (
            12.5,
            "48,5",
            "“48,5” could mean 48.5 or 485: type it with a dot for decimals and no thousands "
            "separator, like 48.5 or 485.",
        ),
        (
            48000,
            "1,234",
            "“1,234” could mean 1234 or 1.234: type it with a dot for decimals and no thousands "
            "separator, like 1234.",
        ),
        (
            48000,
            "1.234",
            "“1.234” could mean 1234 or 1.234, and this value takes whole numbers only: type it "
            "without a separator, like 1234.",
        ),
        (
            12.5,
            "1,234.50",
            "“1,234.50” has a comma: type the number without thousands separators, like 1234.50.",
        ),
        (48000, "12.5", "“12.5” is not a whole number: this value takes whole numbers, like 12."),
        (
            48000,
            "1 234",
            "“1 234” has separators between its digits: type the number as plain digits, "
            "like 1234.",
        ),
        (
            48000,
            "1_234",
            "“1_234” has separators between its digits: type the number as plain digits, "
            "like 1234.",
        ),
        (
            48000,
            "$48000",
            "“$48000” has a currency sign or unit: type the number alone, like 48000.",
        ),
        (48000, "48k", "“48k” cannot be read as a whole number: type plain digits, like 48000."),
        (
            12.5,
            "1e5",
            "“1e5” cannot be read as a number: type plain digits with at most one dot for "
            "decimals, like 12.5.",
        ),
        (
            12.5,
            "9007199254740993.0",
            "“9007199254740993.0” has more digits than this value can hold exactly (it would "
            "be stored as 9007199254740992.0): round it, or check the number.",
        ),
        (
            "168000",
            "about 170k",
            "“about 170k” cannot be read as a whole number: type plain digits, like 48000.",
        ),
        (
            "2026-03-14",
            "next Tuesday-ish",
            "“next Tuesday-ish” is not a date: enter it as year-month-day, like 2026-03-14.",
        ),
        (
            "2026-03-14",
            "2026-02-30",
            "“2026-02-30” is not a day on the calendar: check the month and day.",
        ),
        (
            "2026-03-14T15:30:00Z",
            "2026-03-14T16:00:00",
            "Add the time zone to “2026-03-14T16:00:00”, as the AI's value has one: end it with "
            "Z for UTC or an offset like +01:00, as in 2026-03-14T15:30:00Z.",
        ),
        (
            [1, 2, 3],
            "1\n2.5",
            "On line 2: “2.5” is not a whole number: this value takes whole numbers, like 2.",
        ),
        (
            {"name": "Ana"},
            '{"name": "Ana",}',
            "Enter valid JSON. There is a problem at line 1, column 15: illegal trailing comma "
            "before end of object.",
        ),
        (
            {"name": "Ana"},
            '{\n  "name": "Ana"\n  "role": "CFO"\n}',
            "Enter valid JSON. There is a problem at line 3, column 3: expecting ',' delimiter.",
        ),
        (
            {"name": "Ana"},
            '{"score": NaN}',
            "Enter valid JSON. NaN is not a JSON value: write a number or null.",
        ),
        (
            {"name": "Ana"},
            "[1, Infinity]",
            "Enter valid JSON. Infinity is not a JSON value: write a number or null.",
        ),
        (
            {"name": "Ana"},
            '["Ana"]',
            "Keep this value a JSON object, written between { and }, as the AI sent it.",
        ),
        (
            [{"name": "Ana"}],
            '{"name": "Ana"}',
            'Keep this value a list of objects, written like [{"name": "…"}, {"name": "…"}], '
            "as the AI sent it.",
        ),
        (
            {"name": "Ana"},
            '{"name": "A\\u0000"}',
            "The value contains a character that cannot be stored.",
        ),
        (True, "Maybe", "Choose Yes or No."),
        ("Text", "   ", "Enter a value, or exclude this item if it should not be sent."),
        (48000, "", "Enter a value, or exclude this item if it should not be sent."),
    ],
)
def test_a_value_that_cannot_be_stored_as_typed_is_refused_with_a_sentence(
    ai_value, typed, sentence
):
    assert refusal(Item(ai_value), typed) == sentence


def test_a_picklist_refuses_a_value_outside_its_options():
    assert refusal(Item("closed_won", STAGES), "Closed Won") == "Choose one of the listed values."
    assert refusal(Item("closed_won", STAGES), json.dumps(STAGES[0])) == (
        "Choose one of the listed values."
    )
    assert refusal(Item("closed_won", STAGES), "") == (
        "Choose one of the listed values, or exclude this item if it should not be sent."
    )
    assert refusal(Item(["a"], ["a", "b"]), ["a", "z"]) == "Choose only from the listed values."


def test_a_refused_form_keeps_what_was_typed():
    form = saved(Item(12.5), "48,5")
    assert not form.is_valid()
    assert 'value="48,5"' in str(form["value"])


def test_a_very_long_number_is_refused_not_crashed_on():
    assert "has too many digits" in refusal(Item(1), "9" * 5000)


# Equality by meaning -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Send the MSA", "  Send the MSA \n"),
        ("Line one\r\nLine two", "Line one\nLine two"),
        ("Line one  \nLine two", "Line one\rLine two"),
        (50000, "50000"),
        (50000, "50000.0"),
        (50000, 50000.0),
        ("50000.0", 50000),
        (9007199254740993, "9007199254740993"),
        (0.1, "0.1"),
        (True, True),
        (None, None),
        ([1, "two", None], ["1", " two", None]),
        ({"a": 1, "b": [True]}, {"b": [True], "a": "1"}),
    ],
)
def test_values_that_mean_the_same_are_the_same(a, b):
    assert same_value(a, b)
    assert same_value(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Send the MSA", "Send the NDA"),
        ("Send the  MSA", "Send the MSA"),
        (9007199254740993, 9007199254740992),
        (9007199254740993, float(9007199254740993)),
        (True, 1),
        (False, 0),
        (True, "true"),
        (None, ""),
        (None, 0),
        (None, []),
        ("007", "7"),
        (50000, "fifty thousand"),
        ([1, 2], [2, 1]),
        ([1, 2], [1, 2, 3]),
        ({"a": 1}, {"a": 1, "b": None}),
        ({"a": 1}, [1]),
        ("1", ["1"]),
    ],
)
def test_values_that_differ_in_meaning_are_not_the_same(a, b):
    assert not same_value(a, b)
    assert not same_value(b, a)


# Options -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "label", "value"),
    [
        ("Proposal", "Proposal", "Proposal"),
        (3, "3", 3),
        (True, "Yes", True),
        ({"label": "Closed Won", "value": "cw"}, "Closed Won", "cw"),
        ({"name": "Closed Won", "value": "cw"}, "Closed Won", "cw"),
        ({"label": "Closed Won"}, "Closed Won", "Closed Won"),
        ({"value": "cw"}, "cw", "cw"),
        ({"label": "", "value": 5}, "5", 5),
    ],
)
def test_an_option_shows_its_label_and_sends_its_value(option, label, value):
    assert option_label(option) == label
    assert same_json(option_value(option), value)


# The value as the page reads it ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "options", "text"),
    [
        (None, None, ""),
        ("", None, ""),
        ("Send the MSA", None, "Send the MSA"),
        (48000, None, "48000"),
        (9007199254740993, None, "9007199254740993"),
        (12.5, None, "12.5"),
        (1e20, None, "100000000000000000000.0"),
        (True, None, "Yes"),
        (False, None, "No"),
        ("2026-03-14", None, "2026-03-14"),
        (["Ana Ruiz", "Bo"], None, "Ana Ruiz, Bo"),
        ([1, 2, 3], None, "1, 2, 3"),
        ({"name": "Ana Ruiz", "role": "CFO"}, None, "name: Ana Ruiz, role: CFO"),
        (
            [{"name": "Ana Ruiz", "role": "CFO"}, {"name": "Bo", "role": None}],
            None,
            "name: Ana Ruiz, role: CFO; name: Bo, role: —",
        ),
        ({"owner": {"name": "Ana"}, "tags": ["a", "b"]}, None, "owner: (name: Ana), tags: (a, b)"),
        ("closed_won", STAGES, "Closed Won"),
        (["closed_won", "proposal"], STAGES, "Closed Won, Proposal"),
        ("not listed", STAGES, "not listed"),
    ],
)
def test_a_value_reads_plainly_on_the_page(value, options, text):
    assert display_value(value, options) == text


def test_the_item_value_filter_reads_the_same_and_marks_nothing():
    assert item_value("closed_won", STAGES) == "Closed Won"
    assert item_value([{"name": "Ana"}]) == "name: Ana"
    assert item_value(None) == "—"
    assert item_value("") == "—"


def test_value_as_text_still_reads_values_for_the_csv_export():
    assert value_as_text(None) == ""
    assert value_as_text(True) == "Yes"
    assert value_as_text(["a", "b"]) == "a\nb"
    assert value_as_text({"a": 1}) == '{\n  "a": 1\n}'
    assert value_as_text(48000) == "48000"
    assert value_as_text([{"name": "Ana"}]) == '{"name": "Ana"}'
