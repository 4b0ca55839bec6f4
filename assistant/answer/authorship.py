""""Who wrote ...?": answered from the article's byline, never from its body.

Bylines are kept in the article text but left out of the passages (ingest/bylines.py), so
they are never quoted as evidence for other questions. A question that asks for the author
is answered here instead: the article it is about is found by retrieval, and its byline is
quoted as the exact span of the text it is; an HTML page whose byline was not part of the kept
text names its author in its metadata, which is cited as such. When the article names no
author, the articles do not answer the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..ingest.sources import Article

_ENGLISH_AUTHOR = re.compile(
    r"\b(who (wrote|authored|is the author|was the author)|written by|whose (article|report|story)|"
    r"the author of|byline)\b", re.IGNORECASE)
# German needs a word of writing ("Wer hat ... geschrieben?"): "Wer hat die WM gewonnen?" is
# not about the author, and "Wie wird ... geschrieben?" (spelling) has no "wer" / "von wem".
_GERMAN_WRITING = re.compile(r"\b(geschrieben|verfasst|schrieb|autor(in)?|verfasser(in)?)\b", re.IGNORECASE)
_GERMAN_WHO = re.compile(r"\b(wer|von wem|autor(in)?|verfasser(in)?)\b", re.IGNORECASE)


_GERMAN_FROM_WHOM = re.compile(
    r"\bvon wem (stammt|ist|kommt) (der|die|das) (artikel|bericht|text|beitrag|meldung)", re.IGNORECASE)


def asks_for_author(question: str) -> bool:
    if _ENGLISH_AUTHOR.search(question) or _GERMAN_FROM_WHOM.search(question):
        return True
    return bool(_GERMAN_WRITING.search(question) and _GERMAN_WHO.search(question))


@dataclass(frozen=True)
class Authorship:
    """Where an article names its authors: a span of its text, or its page metadata."""

    article: Article
    start: int | None  # the byline span in article.text; None when only metadata names them
    end: int | None

    @property
    def from_metadata(self) -> bool:
        return self.start is None


def authorship(article: Article) -> Authorship | None:
    if article.byline:
        return Authorship(article, *article.byline)
    if article.authors:
        return Authorship(article, None, None)
    return None


def author_span(article: Article, start: int, end: int) -> tuple[int, int]:
    """The first author's name inside the byline span (the byline itself when not found)."""
    for name in article.authors:
        at = article.text.find(name, start, end)
        if at != -1:
            return at, at + len(name)
    return start, end
