"""Strip web-page leftovers from article text and pull out header metadata.

The cleaned text is what the assistant keeps: quotes are offsets into it and the source
viewer shows it, so leftovers removed here can never come back as an answer.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

_DATE_HEADER = re.compile(r"^\s*date\s+(\d{4}-\d{2}(?:-\d{2})?)\b[ \t]*", re.IGNORECASE)

# Whole lines that are page furniture, not article text (German and English news sites).
_BOILERPLATE_LINES = [
    r"zum hauptinhalt( zur navigation)?",
    r"zur navigation",
    r"skip to (main )?content",
    # Golem's "Kommentare News folgen" (optionally with a comment count); not a sentence that
    # merely starts with "Kommentare".
    r"kommentare(\s*\(?\d+\)?)?( news folgen)?",
    r"news folgen",
    r"relevante themen",
    r"(related|more) (topics|articles|stories)",
    r"(artikel )?teilen",
    r"share( this)?( article| story)?",
    r"(jetzt )?(anmelden|abonnieren)",
    r"advertisement|anzeige|werbung",
    r"(read|lesen sie) (more|auch|mehr).*",
    r"(bild|foto|image|photo)\s*:.*",
]
_BOILERPLATE = re.compile(r"^(?:" + "|".join(_BOILERPLATE_LINES) + r")$", re.IGNORECASE)
# Inline link markers left behind by copied web pages.
_INLINE_MARKERS = re.compile(r"\s*\((?:öffnet im neuen Fenster|opens in a new (?:window|tab))\)", re.IGNORECASE)
# A photo caption ends with its credit: "... (Bild: Microsoft)" or "... Foto: dpa".
_CAPTION = re.compile(r"[.)]\s*\(?(?:Bild|Foto|Image|Photo|Credit)\s*:\s*[^()]{1,60}\)?$", re.IGNORECASE)
# A byline on its own line: "/ Achim Sawall", "By Jane Doe", "Von Max Mustermann".
_BYLINE = re.compile(r"^(?:/|(?i:by|von))\s+([A-ZÄÖÜ][\w.'-]+(?:\s+[A-ZÄÖÜ][\w.'-]+){0,3})$")
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([.,;:!?])(?=\s|$)")


@dataclass(frozen=True)
class CleanedText:
    text: str
    date: str | None  # from a " date YYYY-MM-DD" header, when there is one
    author: str | None


def normalise_whitespace(text: str) -> str:
    """NFC, Unix newlines, no trailing spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace("\ufeff", "").replace("\u00a0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def clean_article_text(raw: str) -> CleanedText:
    text = normalise_whitespace(raw)
    date = None
    header = _DATE_HEADER.match(text)
    if header:
        date, text = header.group(1), text[header.end() :]
    text = _INLINE_MARKERS.sub("", text)
    kept, seen, author = [], set(), None
    for line in text.split("\n"):
        stripped = line.strip()
        key = re.sub(r"\W+", " ", stripped).strip().lower()
        if stripped and (_BOILERPLATE.match(stripped) or _CAPTION.search(stripped)):
            continue
        byline = _BYLINE.match(stripped)
        if byline and author is None:
            author = byline.group(1)
            continue
        if key and key in seen and len(key) > 20:  # doubled captions, repeated teasers
            continue
        seen.add(key)
        kept.append(_SPACE_BEFORE_PUNCT.sub(r"\1", line))
    return CleanedText(text=normalise_whitespace("\n".join(kept)), date=date, author=author)


_MONTHS = {
    **{m: i for i, m in enumerate(
        "januar februar märz april mai juni juli august september oktober november dezember".split(), 1)},
    **{m: i for i, m in enumerate(
        "january february march april may june july august september october november december".split(), 1)},
}
_DATE_IN_TEXT = re.compile(
    r"\b(\d{4})-(\d{2})-(\d{2})(?!\d)"  # also "2022-11-30T10:00"
    r"|\b(\d{1,2})\.\s*(" + "|".join(_MONTHS) + r")\s+(\d{4})\b"
    r"|\b(" + "|".join(_MONTHS) + r")\s+(\d{1,2}),?\s+(\d{4})\b"
    r"|\b(\d{1,2})\s+(" + "|".join(_MONTHS) + r")\s+(\d{4})\b",
    re.IGNORECASE,
)


def first_date_in_text(text: str) -> str | None:
    """ISO date of the first full, valid date written in the text: the usual news dateline."""
    for m in _DATE_IN_TEXT.finditer(text):
        date = _iso_date(m.groups())
        if date:
            return date
    return None


def _iso_date(g: tuple) -> str | None:
    if g[0]:
        year, month, day = int(g[0]), int(g[1]), int(g[2])
    elif g[3]:
        day, month, year = int(g[3]), _MONTHS[g[4].lower()], int(g[5])
    elif g[6]:
        month, day, year = _MONTHS[g[6].lower()], int(g[7]), int(g[8])
    else:
        day, month, year = int(g[9]), _MONTHS[g[10].lower()], int(g[11])
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:  # "31. Februar", "2024-13-45"
        return None


def headline(text: str, max_chars: int = 160) -> str | None:
    """The first line when it reads like a headline: short, alone, no closing full stop."""
    first, _, rest = text.partition("\n")
    first = first.strip()
    if first and len(first) <= max_chars and not first.endswith((".", "!", "?", ":")) and rest:
        return first
    return None


def shorten(text: str, max_chars: int = 90) -> str:
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars].rsplit(" ", 1)[0]
    return cut.rstrip(",;:-") + "…"


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
# Underscores inside a word ("snake_case") are not emphasis (as in CommonMark).
_MD_EMPHASIS = re.compile(r"(\*\*|\*|`)(?=\S)(.+?)(?<=\S)\1|(?<!\w)(__|_)(?=\S)(.+?)(?<=\S)\3(?!\w)")


def markdown_to_text(markdown: str) -> tuple[str, str | None]:
    """Plain text of a Markdown article and its first heading (the title)."""
    title_match = re.search(r"^\s{0,3}#\s+(.+)$", markdown, re.MULTILINE)
    text = _MD_LINK.sub(r"\1", markdown)
    text = _MD_HEADING.sub("", text)
    text = _MD_EMPHASIS.sub(r"\2\4", text)
    title = _MD_EMPHASIS.sub(r"\2\4", _MD_LINK.sub(r"\1", title_match.group(1))).strip() if title_match else None
    return text, title
