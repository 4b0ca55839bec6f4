"""Strip web-page leftovers from article text and pull out header metadata.

The cleaned text is what the assistant keeps: quotes are offsets into it and the source
viewer shows it, so leftovers removed here can never come back as an answer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .boilerplate import drop_boilerplate, strip_inline_markers
from .bylines import Byline, find_byline
from .dates import first_date_in_text  # noqa: F401 - the cleaner's date reader, used by sources

_DATE_HEADER = re.compile(r"^\s*date\s+(\d{4}-\d{2}(?:-\d{2})?)\b[ \t]*", re.IGNORECASE)
# A line that only gives the article's address: "Quelle: https://...", "Source: https://...", or
# the bare address. Kept as metadata (`CleanedText.url`), not as article text.
_URL_LINE = re.compile(
    r"^(?:(?:source|quelle|url|link|original(?:artikel)?|originally published at)\s*:\s*)?<?(https?://[^\s<>]+)>?$",
    re.IGNORECASE,
)
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([.,;:!?])(?=\s|$)")


@dataclass(frozen=True)
class CleanedText:
    text: str
    date: str | None  # from a " date YYYY-MM-DD" header, when there is one
    byline: Byline | None = None  # the byline line, kept in `text`; its span points into `text`
    url: str | None = None  # from a "Quelle: https://..." line, which is not kept in `text`


def normalise_whitespace(text: str) -> str:
    """NFC, Unix newlines, no trailing spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace("\ufeff", "").replace("\u00a0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def clean_article_text(raw: str) -> CleanedText:
    """The article text without page leftovers, with its header date, byline and address."""
    text = normalise_whitespace(raw)
    date = None
    header = _DATE_HEADER.match(text)
    if header:
        date, text = header.group(1), text[header.end() :]
    lines, url = [], None
    for line in strip_inline_markers(text).split("\n"):
        address = _URL_LINE.match(line.strip())
        if address:
            url = url or address.group(1)
            continue
        lines.append(line)
    kept, seen = [], set()
    for line in drop_boilerplate(lines):
        key = re.sub(r"\W+", " ", line).strip().lower()
        if key and key in seen and len(key) > 20:  # doubled captions, repeated teasers
            continue
        seen.add(key)
        kept.append(_SPACE_BEFORE_PUNCT.sub(r"\1", line))
    text = normalise_whitespace("\n".join(kept))
    return CleanedText(text=text, date=date, byline=find_byline(text), url=url)


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
