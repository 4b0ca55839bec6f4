"""Find an article's byline: the short line that names who wrote it.

Recognised lines: "Von Max Mustermann", "Von Max Mustermann und Erika Musterfrau", "By Jane Doe
and John Roe", Golem's "/ Achim Sawall", "Autor: ...", and such a line with a date beside it
("Published 2025-05-20 · By Staff Reporter", "Von Max Mustermann | 20.05.2025").

The byline stays in the kept text, so "who wrote ...?" can be answered with an exact span of the
article; `Byline.span` says where it is, and passages leave that span out, so the byline is never
quoted as evidence for other questions. Detection is conservative: every part of the line must
be a marker, a name or a date. "By Monday the port reopens." or "Von Berlin aus ..." are prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .dates import DATE_PATTERN, MONTHS, iso_date

Span = tuple[int, int]

MAX_BYLINE_CHARS = 150
MAX_NAME_WORDS = 5

# "By " / "Von " / "/ " / "Autor: " at the start of the part that names the authors.
_MARKER = re.compile(
    r"^(?:(?:written\s+by|geschrieben\s+von|by|von)\s+|(?:text|authors?|autor(?:in|en)?)\s*:\s*|/\s*)",
    re.IGNORECASE,
)
# Parts of a byline line: "Published 2025-05-20 · By Staff Reporter", "Von X | 20.05.2025".
_PART_SEPARATOR = re.compile(r"\s+[·•|–—]\s+")
_DATE_PART = re.compile(
    r"^(?:(?:published|updated|posted|veröffentlicht|aktualisiert|erschienen|stand)(?:\s+(?:am|on))?\s*:?\s*)?"
    r"(?:" + DATE_PATTERN + r")"
    r"(?:,?\s*(?:um\s+|at\s+)?\d{1,2}[:.]\d{2}(?:\s*(?:uhr|am|pm|a\.m\.|p\.m\.))?(?:\s+[A-Z]{2,5})?)?$",
    re.IGNORECASE,
)
# "By Jane Doe, May 20, 2025": a date after the names, joined by a comma.
_TRAILING_DATE = re.compile(r",\s*(?:on\s+|am\s+)?((?:" + DATE_PATTERN + r").*)$", re.IGNORECASE)
_NAME_SEPARATOR = re.compile(r"\s*,\s*|\s+(?:und|and|&)\s+")

# Lower-case words inside names ("Ursula von der Leyen", "Ludwig van Beethoven").
_PARTICLES = {"von", "van", "der", "den", "de", "del", "della", "da", "di", "du", "la", "le", "ten", "ter", "bin",
              "al", "el"}
# Capitalised words that start prose or headings, never a name ("By The Numbers", "Von Montag an").
_NOT_NAMES = {"the", "a", "an", "this", "that", "our", "der", "die", "das", "den", "dem", "ein", "eine", "unser",
              "unsere", "heute", "today", "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag",
              "sonntag", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", *MONTHS}
# One-word authors: news agencies ("Von Max Mustermann, dpa", "By Reuters").
_AGENCIES = {"dpa", "afp", "ap", "reuters", "kna", "epd", "sid", "apa", "sda", "bloomberg", "ddp", "upi"}


@dataclass(frozen=True)
class Byline:
    span: Span  # [start, end) of the byline line in the text it was found in
    authors: tuple[str, ...]  # each one a substring of text[span[0]:span[1]]
    date: str | None  # ISO date written on the same line


def find_byline(text: str) -> Byline | None:
    """The first line of `text` that is a byline, with its exact span."""
    for m in re.finditer(r"[^\n]+", text):
        line = m.group()
        stripped = line.strip()
        parsed = parse_byline(stripped)
        if parsed:
            start = m.start() + line.index(stripped)
            return Byline((start, start + len(stripped)), *parsed)
    return None


def parse_byline(line: str) -> tuple[tuple[str, ...], str | None] | None:
    """(authors, date) when the whole line is a byline, else None."""
    if not line or len(line) > MAX_BYLINE_CHARS:
        return None
    authors: tuple[str, ...] = ()
    date = None
    for part in _PART_SEPARATOR.split(line):
        marker = _MARKER.match(part)
        if marker and not authors:
            names_part = part[marker.end():]
            trailing = _TRAILING_DATE.search(names_part)
            if trailing and _date_of(trailing.group(1)):
                date = date or _date_of(trailing.group(1))
                names_part = names_part[: trailing.start()]
            authors = _names(names_part)
            if not authors:
                return None
            continue
        part_date = _date_of(part)
        if not part_date:
            return None
        date = date or part_date
    return (authors, date) if authors else None


def _date_of(part: str) -> str | None:
    m = _DATE_PART.match(part.strip())
    if not m:
        return None
    groups = m.groups()[:15]
    return iso_date(groups)


def _names(text: str) -> tuple[str, ...]:
    """The names of "Max Mustermann und Erika Musterfrau"; () when any piece is not a name."""
    pieces = [p for p in _NAME_SEPARATOR.split(text.strip()) if p]
    if not pieces or not all(_is_name(p) for p in pieces):
        return ()
    return tuple(pieces)


def _is_name(piece: str) -> bool:
    words = piece.split()
    if not words or len(words) > MAX_NAME_WORDS:
        return False
    if len(words) == 1:
        word = words[0]
        return word.lower() in _AGENCIES or (word.isalpha() and word.isupper() and 2 <= len(word) <= 5)
    if not (_is_name_word(words[0]) and _is_name_word(words[-1])):
        return False
    return all(_is_name_word(w) or w in _PARTICLES or _is_initial(w) for w in words[1:-1])


def _is_name_word(word: str) -> bool:
    """ "Achim", "Al-Saleh", "O'Brien", "J.": capitalised letters, not a word that starts prose."""
    if _is_initial(word):
        return True
    core = word.replace("-", "").replace("'", "").replace("’", "")
    return (len(core) >= 2 and core.isalpha() and word[0].isupper() and word.lower() not in _NOT_NAMES)


def _is_initial(word: str) -> bool:
    return len(word) == 2 and word[0].isupper() and word[1] == "."
