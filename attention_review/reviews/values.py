"""An intelligence item's value: what kind it is, what it means, how it reads, and how a
reviewer's typed text becomes that value again without changing its type or form.

Pure functions over JSON values; no database, no Django. The rule they serve: what
reaches the CRM is what a reviewer decided, never a value changed in type or form on the
way (a list of numbers stays a list of numbers, a big integer stays exact, "48,5" is never
guessed into 485).

Kinds (`value_kind`)
--------------------
The kind comes from the AI's value; when that is None (or an empty list), from a
reference value such as the one confirmed in the CRM.

* options given (a non-empty list): MULTI_PICKLIST when the value is a list, else PICKLIST.
* bool: BOOLEAN. int: INTEGER. float: DECIMAL.
* str: INTEGER or DECIMAL when it is a plain number ("168000", "-12.5"; no leading zeros,
  so codes like "007" stay text), DATE for a calendar date "YYYY-MM-DD", DATETIME for an
  ISO date and time ("2026-03-14T15:30:00Z"), else TEXT. A number or date that came as a
  string is stored as the string the reviewer typed.
* dict: OBJECT. A list: LIST_OF_OBJECTS when every entry is an object; LIST_OF_SCALARS
  when it is empty or every entry is a one-line, non-blank string, or every entry an int,
  or every entry a float (edited one entry per line, entries keep that type); any other
  list (mixed types, nulls, nested lists, multi-line strings): JSON_LIST, edited as JSON.

Numbers (`parse_number`)
------------------------
A typed number is plain ASCII digits with an optional leading minus and at most one dot,
and the dot is always the decimal point: "48000", "-3", "12.5", "1.234" (one point two
three four). Surrounding spaces are ignored. Everything else is refused with a sentence
that says how to type it, never guessed at:

* any comma. "48,5" could mean 48.5 or 485, "1,234" could mean 1234 or 1.234; even
  "1,234.50", which can only mean one thing, is refused (type 1234.50) so that the rule
  is one line long.
* spaces, underscores or apostrophes between digits ("1 234", "1_234", "1'234"),
  currency signs and units ("$48k"), exponents ("1e5"), a leading plus.
* for a whole-number item (INTEGER), any dot: "12.5" is not whole, and "1.234" may have
  meant 1234, so it is refused with both readings.
* for a DECIMAL item stored as a float, digits a float cannot hold exactly
  ("9007199254740993.0"), and numbers too large to be finite.

INTEGER values are Python ints, exact at any size up to Python's 4300-digit limit on
int-to-text conversion (beyond it no JSON encoder could store the number). DECIMAL values
are floats, read back exactly as typed.

Equality (`same_value`)
-----------------------
By meaning: strings after normalising line endings and trailing spaces on each line and
stripping the ends; a number and a numeric string as numbers (50000 == "50000" ==
"50000.0", exact for big ints); a bool is not a number (True != 1); lists entry by entry
in order; objects key by key; None equals only None. Two strings are compared as text,
never as numbers ("007" is not "7").
"""

import json
import math
import re
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


class ValueKind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    LIST_OF_SCALARS = "list_of_scalars"
    OBJECT = "object"
    LIST_OF_OBJECTS = "list_of_objects"
    JSON_LIST = "json_list"
    PICKLIST = "picklist"
    MULTI_PICKLIST = "multi_picklist"


# The kinds edited as JSON text.
JSON_KINDS = frozenset({ValueKind.OBJECT, ValueKind.LIST_OF_OBJECTS, ValueKind.JSON_LIST})
# The kinds typed in a textarea, whose line endings are normalised to "\n".
MULTILINE_KINDS = JSON_KINDS | {ValueKind.TEXT, ValueKind.LIST_OF_SCALARS}

YES, NO = "Yes", "No"
NOTHING_INSIDE = "—"  # a null or empty part of an object or list, as read on the page

_INTEGER_TEXT = re.compile(r"-?[0-9]+")
_DECIMAL_TEXT = re.compile(r"-?[0-9]+\.[0-9]+")
# What the AI's own strings must look like to count as numbers (no leading zeros).
_AI_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_AI_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+")
# A string read as a number by same_value: generous, as the comparison only reads.
_NUMERIC_STRING = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_TEXT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?"
)
_EXAMPLE_DATE = "2026-03-14"


class Refused(ValueError):
    """Typed text that cannot become the item's value; `str()` is the sentence to show."""


# Kinds ---------------------------------------------------------------------------------


def _options(options: Any) -> list[Any]:
    return list(options) if isinstance(options, list | tuple) else []


def kind_source(value: Any, reference: Any = None) -> Any:
    """The value an item's kind is read from: the AI's, or the reference when the AI's
    is None (or an empty list, which says nothing about its entries)."""
    if value is None or (value == [] and isinstance(reference, list) and reference):
        return reference
    return value


def value_kind(value: Any, options: Any = None, *, reference: Any = None) -> ValueKind:
    """How an item's value is edited and checked (see the module's docstring)."""
    value = kind_source(value, reference)
    if _options(options):
        return ValueKind.MULTI_PICKLIST if isinstance(value, list) else ValueKind.PICKLIST
    if isinstance(value, bool):
        return ValueKind.BOOLEAN
    if isinstance(value, int):
        return ValueKind.INTEGER
    if isinstance(value, float):
        return ValueKind.DECIMAL
    if isinstance(value, str):
        return _text_kind(value)
    if isinstance(value, dict):
        return ValueKind.OBJECT
    if isinstance(value, list):
        if value and all(isinstance(entry, dict) for entry in value):
            return ValueKind.LIST_OF_OBJECTS
        if entry_kind(value) is not None:
            return ValueKind.LIST_OF_SCALARS
        return ValueKind.JSON_LIST
    return ValueKind.TEXT


def _text_kind(text: str) -> ValueKind:
    if _AI_INTEGER.fullmatch(text):
        return ValueKind.INTEGER
    if _AI_DECIMAL.fullmatch(text):
        return ValueKind.DECIMAL
    if _DATE_TEXT.fullmatch(text) and _is_date(text):
        return ValueKind.DATE
    if _DATETIME_TEXT.fullmatch(text) and _is_datetime(text):
        return ValueKind.DATETIME
    return ValueKind.TEXT


def entry_kind(values: Any) -> ValueKind | None:
    """The kind of every entry of a list edited one entry per line (TEXT, INTEGER or
    DECIMAL), or None when the list cannot be edited that way without changing it."""
    if not isinstance(values, list):
        return None
    if all(isinstance(entry, str) and _one_line(entry) for entry in values):
        return ValueKind.TEXT
    if all(isinstance(entry, int) and not isinstance(entry, bool) for entry in values):
        return ValueKind.INTEGER
    if all(isinstance(entry, float) and math.isfinite(entry) for entry in values):
        return ValueKind.DECIMAL
    return None


def _one_line(text: str) -> bool:
    return bool(text.strip()) and "\n" not in text and "\r" not in text


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_datetime(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


# Meaning -------------------------------------------------------------------------------


def normalized_text(text: str) -> str:
    """A string as same_value reads it: "\\n" line endings, no trailing spaces on any
    line, no surrounding whitespace."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def _number(value: Any) -> Decimal | None:
    """A number or numeric string as an exact Decimal; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str) and _NUMERIC_STRING.fullmatch(value):
        return Decimal(value.strip())
    return None


def same_value(a: Any, b: Any) -> bool:
    """Whether two values mean the same (see the module's docstring)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float | Decimal) or isinstance(b, int | float | Decimal):
        left, right = _number(a), _number(b)
        return left is not None and right is not None and left == right
    if isinstance(a, str) and isinstance(b, str):
        return normalized_text(a) == normalized_text(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[key], b[key]) for key in a)
    if isinstance(a, str | list | dict) or isinstance(b, str | list | dict):
        return False
    return bool(a == b)


# Options -------------------------------------------------------------------------------


def option_value(option: Any) -> Any:
    """What choosing an option sends: its "value", else its "label" or "name", else the
    option itself (a scalar, or an object with none of those keys)."""
    if isinstance(option, dict):
        for key in ("value", "label", "name"):
            if key in option:
                return option[key]
    return option


def option_label(option: Any) -> str:
    """What an option shows: its "label", else its "name", else its value as read."""
    if isinstance(option, dict):
        for key in ("label", "name"):
            if option.get(key) not in (None, ""):
                return display_value(option[key]) or NOTHING_INSIDE
    return display_value(option_value(option)) or NOTHING_INSIDE


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def option_tokens(options: Any) -> list[str]:
    """What a form submits for each option: the option's value as text (a string as
    itself, anything else as compact JSON of the value), or "option-<position>" for every
    option when two different values would share a token (1 and "1") or one is empty."""
    values = [option_value(option) for option in _options(options)]
    tokens = [value if isinstance(value, str) else _json_text(value) for value in values]
    first: dict[str, Any] = {}
    for token, value in zip(tokens, values, strict=True):
        if token == "" or (token in first and type(first[token]) is not type(value)):
            return [f"option-{position}" for position in range(len(values))]
        first.setdefault(token, value)
    return tokens


def match_option(options: Any, value: Any) -> int | None:
    """The position of the option a value stands for: the first whose value is the same
    JSON value, else the first whose value means the same (same_value), else the first
    the value is a copy of (an AI that sent the whole {label, value} object)."""
    choices = _options(options)
    wanted = (type(value), _json_text(value))
    for position, option in enumerate(choices):
        chosen = option_value(option)
        if (type(chosen), _json_text(chosen)) == wanted:
            return position
    for position, option in enumerate(choices):
        if same_value(option_value(option), value):
            return position
    for position, option in enumerate(choices):
        if isinstance(option, dict) and same_value(option, value):
            return position
    return None


# Reading -------------------------------------------------------------------------------


def number_text(number: int | float | Decimal) -> str:
    """A number written out exactly, without an exponent: 9007199254740993, 12.5,
    100000000000000000000.0 (a float keeps its ".0")."""
    if isinstance(number, float):
        if not math.isfinite(number):
            return repr(number)
        text = format(Decimal(repr(number)), "f")
        return text if "." in text else f"{text}.0"
    return format(Decimal(number), "f")


def display_value(value: Any, options: Any = None) -> str:
    """A value as the page reads it: an option's label, a list joined with ", ", an
    object as "key: value, key: value", a list of objects with "; " between them,
    numbers exactly; "" for None and "".
    """
    choices = _options(options)
    if choices and value is not None:
        if isinstance(value, list):
            return ", ".join(_label_or_readable(choices, entry) for entry in value)
        return _label_or_readable(choices, value)
    if value is None:
        return ""
    return _readable(value, wrap=False)


def _label_or_readable(options: list[Any], value: Any) -> str:
    position = match_option(options, value)
    if position is None:
        return _readable(value, wrap=False)
    return option_label(options[position])


def _readable(value: Any, *, wrap: bool) -> str:
    if value is None:
        return NOTHING_INSIDE
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, int | float | Decimal):
        return number_text(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        text = ", ".join(f"{key}: {_readable(entry, wrap=True)}" for key, entry in value.items())
    elif isinstance(value, list | tuple):
        nested = any(isinstance(entry, dict | list | tuple) for entry in value)
        text = ("; " if nested else ", ").join(_readable(entry, wrap=False) for entry in value)
    else:
        return str(value)
    if not wrap:
        return text
    return f"({text})" if text else NOTHING_INSIDE


# Editing -------------------------------------------------------------------------------


def editor_text(value: Any, kind: ValueKind) -> str:
    """A value as typed text in the editor of its kind; typed_value reads it back."""
    if value is None:
        return ""
    if kind in JSON_KINDS:
        return json.dumps(value, indent=2, ensure_ascii=False)
    if kind is ValueKind.LIST_OF_SCALARS and isinstance(value, list):
        return "\n".join(_entry_text(entry) for entry in value)
    return _entry_text(value)


def _entry_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number_text(value)
    return display_value(value)


def typed_value(text: str, kind: ValueKind, *, like: Any = None) -> Any:
    """The reviewer's text as a value of `kind`, stored in the JSON type of `like` (the
    value the kind came from); raises Refused with a sentence when it cannot be.

    BOOLEAN, PICKLIST and MULTI_PICKLIST are chosen, not typed: the form maps them.
    """
    if kind in MULTILINE_KINDS:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if kind is ValueKind.INTEGER:
        number = parse_number(text, whole=True)
        return text.strip() if isinstance(like, str) else int(number)
    if kind is ValueKind.DECIMAL:
        number = parse_number(text, whole=False)
        return text.strip() if isinstance(like, str) else exact_float(number, text)
    if kind is ValueKind.DATE:
        return parse_date(text)
    if kind is ValueKind.DATETIME:
        return parse_datetime(text, like=like)
    if kind is ValueKind.LIST_OF_SCALARS:
        return _typed_list(text, entry_kind(like) or ValueKind.TEXT)
    if kind in JSON_KINDS:
        return parse_json(text, kind)
    return text


def _typed_list(text: str, kind: ValueKind) -> list[Any]:
    entries: list[Any] = []
    for number, line in enumerate(text.split("\n"), start=1):
        entry = line.strip()
        if not entry:
            continue
        if kind is ValueKind.TEXT:
            entries.append(entry)
            continue
        try:
            parsed = parse_number(entry, whole=kind is ValueKind.INTEGER)
            entries.append(int(parsed) if kind is ValueKind.INTEGER else exact_float(parsed, entry))
        except Refused as problem:
            raise Refused(f"On line {number}: {problem}") from None
    return entries


def _quoted(text: str) -> str:
    shown = text if len(text) <= 40 else f"{text[:40]}…"
    return f"“{shown}”"


def _max_digits() -> int:
    limit = sys.get_int_max_str_digits()
    return limit if limit else 1_000_000


def parse_number(text: str, *, whole: bool) -> Decimal:
    """Typed text as an exact number, by the rule in the module's docstring."""
    typed = text.strip()
    if _INTEGER_TEXT.fullmatch(typed) or (not whole and _DECIMAL_TEXT.fullmatch(typed)):
        if sum(character.isdigit() for character in typed) > _max_digits():
            raise Refused(
                f"{_quoted(typed)} has too many digits: a number can have at most "
                f"{_max_digits()} digits."
            )
        return Decimal(typed)
    raise Refused(_number_problem(typed, whole=whole))


def _number_problem(typed: str, *, whole: bool) -> str:
    quoted = _quoted(typed)
    example = "48000" if whole else "48000 or 12.5"
    if not typed:
        return f"Enter a number, like {example}."
    if "," in typed:
        halves = re.fullmatch(r"(-?[0-9]+),([0-9]+)", typed)
        if halves:
            point, joined = f"{halves[1]}.{halves[2]}", halves[1] + halves[2]
            readings = f"{joined} or {point}" if len(halves[2]) == 3 else f"{point} or {joined}"
            like = joined if whole else readings
            return (
                f"{quoted} could mean {readings}: type it with a dot for decimals and no "
                f"thousands separator, like {like}."
            )
        plain = typed.replace(",", "")
        if _INTEGER_TEXT.fullmatch(plain) or (not whole and _DECIMAL_TEXT.fullmatch(plain)):
            return (
                f"{quoted} has a comma: type the number without thousands separators, like {plain}."
            )
        if _DECIMAL_TEXT.fullmatch(plain):
            return (
                f"{quoted} has a comma and is not a whole number: this value takes whole "
                f"numbers in plain digits, like {plain.split('.')[0]}."
            )
    if whole and _DECIMAL_TEXT.fullmatch(typed):
        units, fraction = typed.split(".")
        if len(fraction) == 3 and units.lstrip("-") not in {"", "0"}:
            return (
                f"{quoted} could mean {units}{fraction} or {typed}, and this value takes "
                f"whole numbers only: type it without a separator, like {units}{fraction}."
            )
        return f"{quoted} is not a whole number: this value takes whole numbers, like {units}."
    if re.fullmatch(r"-?[0-9]+(?:[ _'\u2019\u00a0\u202f.][0-9]+)+", typed):
        plain = re.sub(r"[^0-9-]", "", typed)
        return (
            f"{quoted} has separators between its digits: type the number as plain digits, "
            f"like {plain}."
        )
    bare = re.sub(r"[$€£¥%\s]", "", typed)
    if bare != typed and (
        _INTEGER_TEXT.fullmatch(bare) or (not whole and _DECIMAL_TEXT.fullmatch(bare))
    ):
        return f"{quoted} has a currency sign or unit: type the number alone, like {bare}."
    if whole:
        return f"{quoted} cannot be read as a whole number: type plain digits, like 48000."
    return (
        f"{quoted} cannot be read as a number: type plain digits with at most one dot for "
        "decimals, like 12.5."
    )


def exact_float(number: Decimal, typed: str = "") -> float:
    """A number as a float, refused unless the float reads back as the same number."""
    value = float(number)
    quoted = _quoted(typed.strip() or number_text(number))
    if not math.isfinite(value):
        raise Refused(f"{quoted} is too large to store: check the number.")
    if Decimal(repr(value)) != number:
        raise Refused(
            f"{quoted} has more digits than this value can hold exactly (it would be stored "
            f"as {number_text(value)}): round it, or check the number."
        )
    return value


def parse_date(text: str) -> str:
    """A calendar date typed as YYYY-MM-DD, returned as that text."""
    typed = text.strip()
    if not _DATE_TEXT.fullmatch(typed):
        raise Refused(
            f"{_quoted(typed)} is not a date: enter it as year-month-day, like {_EXAMPLE_DATE}."
        )
    if not _is_date(typed):
        raise Refused(f"{_quoted(typed)} is not a day on the calendar: check the month and day.")
    return typed


def parse_datetime(text: str, *, like: Any = None) -> str:
    """An ISO date and time, with a time zone exactly when `like` has one."""
    typed = text.strip()
    zoned = isinstance(like, str) and bool(
        (found := _DATETIME_TEXT.fullmatch(like)) and found["zone"]
    )
    example = f"{_EXAMPLE_DATE}T15:30:00{'Z' if zoned else ''}"
    match = _DATETIME_TEXT.fullmatch(typed)
    if not match or not _is_datetime(typed):
        raise Refused(
            f"{_quoted(typed)} is not a date and time: enter it as year-month-day, a T and "
            f"hours:minutes:seconds, like {example}."
        )
    if zoned and not match["zone"]:
        raise Refused(
            f"Add the time zone to {_quoted(typed)}, as the AI's value has one: end it with Z "
            f"for UTC or an offset like +01:00, as in {example}."
        )
    if not zoned and match["zone"]:
        raise Refused(
            f"Leave the time zone out of {_quoted(typed)}, as the AI's value has none: "
            f"type it like {example}."
        )
    return typed


def _not_json(constant: str) -> Any:
    raise Refused(f"Enter valid JSON. {constant} is not a JSON value: write a number or null.")


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > _max_digits():
        raise Refused(
            f"Enter valid JSON. A number in it has more than {_max_digits()} digits, more "
            "than can be stored."
        )
    return int(text)


def _json_float(text: str) -> float:
    return exact_float(Decimal(text), text)


_SHAPES = {
    ValueKind.OBJECT: (
        lambda value: isinstance(value, dict),
        "Keep this value a JSON object, written between { and }, as the AI sent it.",
    ),
    ValueKind.LIST_OF_OBJECTS: (
        lambda value: isinstance(value, list) and all(isinstance(v, dict) for v in value),
        'Keep this value a list of objects, written like [{"name": "…"}, {"name": "…"}], '
        "as the AI sent it.",
    ),
    ValueKind.JSON_LIST: (
        lambda value: isinstance(value, list),
        "Keep this value a JSON list, written between [ and ], as the AI sent it.",
    ),
}


def parse_json(text: str, kind: ValueKind = ValueKind.JSON_LIST) -> Any:
    """JSON text of the shape `kind` asks for; NaN and Infinity are refused (no database
    or API would take them), and so is any string no database could store."""
    try:
        value = json.loads(
            text, parse_constant=_not_json, parse_int=_json_int, parse_float=_json_float
        )
    except json.JSONDecodeError as error:
        reason = error.msg[:1].lower() + error.msg[1:]
        raise Refused(
            f"Enter valid JSON. There is a problem at line {error.lineno}, column "
            f"{error.colno}: {reason}."
        ) from None
    except RecursionError:
        raise Refused("Enter valid JSON. It is nested too deeply to store.") from None
    if not _storable(value):
        raise Refused("The value contains a character that cannot be stored.")
    shape = _SHAPES.get(kind)
    if shape is not None and not shape[0](value):
        raise Refused(shape[1])
    return value


def _storable(value: Any) -> bool:
    """No NUL character and no lone surrogate (from a \\u escape) anywhere."""
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_storable(key) and _storable(entry) for key, entry in value.items())
    if isinstance(value, list):
        return all(_storable(entry) for entry in value)
    return True


def chosen_values(
    options: Sequence[Any], chosen: Sequence[int], *, initially: Sequence[int] = ()
) -> list[Any]:
    """The values of the options chosen in a multi-picklist, in option order; when the
    choice is the one the editor opened with, in the order the value had then, so
    saving without a change gives back the same list."""
    unique = list(dict.fromkeys(chosen))
    if set(unique) == set(initially):
        unique = list(dict.fromkeys(initially))
    else:
        unique.sort()
    return [option_value(options[position]) for position in unique]
