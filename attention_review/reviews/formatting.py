"""How the pages write numbers a person reads: one formatter per kind of figure."""

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
