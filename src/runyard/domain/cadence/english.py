"""The calendar's names in English, and how a list of words is written.

Shared by the cron validator (its month and weekday names, and the reasons it gives) and
by the descriptions in words, so that both spell a month or a list the same way.
"""

from __future__ import annotations

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# In cron order: Sunday is 0.
WEEKDAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def join_words(words: list[str]) -> str:
    """Join with commas and a final "and": ["a", "b", "c"] -> "a, b and c"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"
