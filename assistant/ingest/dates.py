"""Dates written in German and English news text, read as ISO dates.

Shared by the cleaner (an article's dateline) and the byline reader ("Published 2025-05-20 · By
Staff Reporter"), so both accept the same spellings.
"""

from __future__ import annotations

import datetime
import re

MONTHS = {
    **{m: i for i, m in enumerate(
        "januar februar märz april mai juni juli august september oktober november dezember".split(), 1)},
    **{m: i for i, m in enumerate(
        "january february march april may june july august september october november december".split(), 1)},
}
_MONTH = "|".join(MONTHS)
# One full date: "2024-01-16" (also "2022-11-30T10:00"), "16. Januar 2024", "January 16, 2024",
# "16 January 2024", "16.01.2024".
DATE_PATTERN = (
    r"\b(\d{4})-(\d{2})-(\d{2})(?!\d)"
    r"|\b(\d{1,2})\.\s*(" + _MONTH + r")\s+(\d{4})\b"
    r"|\b(" + _MONTH + r")\s+(\d{1,2}),?\s+(\d{4})\b"
    r"|\b(\d{1,2})\s+(" + _MONTH + r")\s+(\d{4})\b"
    r"|\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b"
)
_DATE_IN_TEXT = re.compile(DATE_PATTERN, re.IGNORECASE)


def first_date_in_text(text: str) -> str | None:
    """ISO date of the first full, valid date written in the text: the usual news dateline."""
    for m in _DATE_IN_TEXT.finditer(text):
        date = iso_date(m.groups())
        if date:
            return date
    return None


def iso_date(g: tuple) -> str | None:
    """The groups of one DATE_PATTERN match as "YYYY-MM-DD", or None for "31. Februar"."""
    if g[0]:
        year, month, day = int(g[0]), int(g[1]), int(g[2])
    elif g[3]:
        day, month, year = int(g[3]), MONTHS[g[4].lower()], int(g[5])
    elif g[6]:
        month, day, year = MONTHS[g[6].lower()], int(g[7]), int(g[8])
    elif g[9]:
        day, month, year = int(g[9]), MONTHS[g[10].lower()], int(g[11])
    else:
        day, month, year = int(g[12]), int(g[13]), int(g[14])
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:  # "31. Februar", "2024-13-45"
        return None
