"""How the pages write numbers a person reads: one formatter per kind of figure."""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from babel.core import UnknownLocaleError
from babel.numbers import UnknownCurrencyError, format_currency
from django.utils import timezone

from .values import display_value

_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

NOTHING = "—"


def human_duration(seconds: object, *, to_the_second: bool = False) -> str:
    """A span of seconds as a person says it: '40 s', '45 min', '1 h 05 min'.

    `to_the_second` keeps the seconds under an hour ('3 min 05 s'), for short spans such
    as the time a review took; a call's length reads better to the minute. Anything that
    is not a number reads as '—'.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int | float | str):
        return NOTHING
    try:
        total = round(float(seconds))
    except (ValueError, OverflowError):
        return NOTHING
    if total < 0:
        return NOTHING
    if total < 60:
        return f"{total} s"
    if to_the_second:
        minutes, secs = divmod(total, 60)
        if minutes < 60:
            return f"{minutes} min {secs:02d} s"
        hours, minutes = divmod(minutes, 60)
    else:
        hours, minutes = divmod(round(total / 60), 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def call_moment(seconds: float) -> str:
    """A moment of a call as a player shows it: '7:05' under an hour, '1:02:09' after."""
    total = max(int(seconds), 0)
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}:{secs:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def money_text(value: object, currency: str) -> str | None:
    """A number as money in its currency ('$168,000', '€1,250.50'); None when the value
    is not a number (a budget written as words stays as written)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not _PLAIN_NUMBER.fullmatch(text):
            return None
        value = text
    if not isinstance(value, int | float | str | Decimal):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    pattern = "¤#,##0" if amount == amount.to_integral_value() else "¤#,##0.00"
    try:
        return format_currency(
            amount, currency, format=pattern, locale="en_US", currency_digits=False
        )
    except (ValueError, UnknownCurrencyError, UnknownLocaleError):
        return None


def date_text(value: object) -> str | None:
    """An ISO calendar date as 'Nov 30, 2026'; a date has no time zone to name."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return f"{day:%b} {day.day}, {day:%Y}"


def datetime_text(value: object) -> str | None:
    """An ISO date and time in the reader's time zone, the zone named:
    'Dec 3, 2026, 14:00 CET'. One without a zone is read as in the site's zone."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    local = timezone.localtime(moment)
    return f"{local:%b} {local.day}, {local:%Y}, {local:%H:%M} {local.tzname() or ''}".rstrip()


def readable_value(
    value: object, *, options: object = None, display: str = "", currency: str = ""
) -> str:
    """A value as the review page reads it: money in its currency where the field reads
    as money, dates spelled out, date-times in the reader's zone, else `display_value`."""
    if display == "money" and currency:
        money = money_text(value, currency)
        if money is not None:
            return money
    if not options:
        spelled = date_text(value) or datetime_text(value)
        if spelled is not None:
            return spelled
    return display_value(value, options)
