"""An article's title: its headline, else its first sentence (cut at a word), else its file name.

A title is what the reader sees on every citation, so it is never a cut word and never runs
into a second sentence: "Der Deutsche Wetterdienst meldet für Berlin am Freitag 28 Grad", not
"Der Deutsche Wetterdienst meldet für Berlin am Freitag 28 Grad. Dr. Anna Weber vom DWD…".
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from .language import function_words
from .passages import Span, paragraphs, split_sentences

HEADLINE_MAX_CHARS = 160
TITLE_MAX_CHARS = 120
# A cut at a clause boundary (", " "; " " – ") is preferred when it keeps at least this much.
MIN_CLAUSE_CHARS = 50
ELLIPSIS = "…"


def headline(text: str, max_chars: int = HEADLINE_MAX_CHARS) -> str | None:
    """The first line when it reads like a headline: short, alone, no closing full stop."""
    first, _, rest = text.partition("\n")
    # "# Headline" in a .txt file: the Markdown mark is not part of the title.
    first = re.sub(r"^#{1,6}\s+", "", first.strip()).strip()
    if first and len(first) <= max_chars and not first.endswith((".", "!", "?", ":")) and rest:
        return first
    return None


def article_title(text: str, language: str, file: str, skip: tuple[Span, ...] = ()) -> str:
    """Headline, else first sentence, else the file name; lines in `skip` (the byline) are not titles."""
    start = _first_kept_line(text, skip)
    found = headline(text[start:])
    if found:
        return found
    for para_start, para_end in paragraphs(text[start:]):
        for s, e in split_sentences(text, language, start + para_start, start + para_end):
            if not any(a < e and s < b for a, b in skip):
                return sentence_title(text[s:e], language) or file_title(file)
    return file_title(file)


def sentence_title(sentence: str, language: str, max_chars: int = TITLE_MAX_CHARS) -> str | None:
    """The sentence as a title: whole when short, else cut after a clause or a whole word and marked
    with "…"; None when it has no word boundary to cut at."""
    sentence = " ".join(sentence.split()).rstrip(".")
    if len(sentence) <= max_chars:
        return sentence or None
    head = sentence[: max_chars + 1]
    clause = max((head.rfind(mark) for mark in (", ", "; ", " – ", " — ", ": ", " (")), default=-1)
    if clause >= MIN_CLAUSE_CHARS:
        cut = head[:clause]
    elif " " in head:
        cut = head[: head.rindex(" ")]  # the character after the cut is a space: no word is cut
    else:
        return None
    words = cut.split()
    stop = function_words(language)
    while len(words) > 1 and (words[-1].lower() in stop or not re.search(r"\w", words[-1])):
        words.pop()  # "… partnership for" reads better as "… partnership"
    return " ".join(words).rstrip(",;:–—-(") + ELLIPSIS


def file_title(file: str) -> str:
    """The file name without folders and suffix: "reports/hafen_2024.txt" -> "hafen_2024"."""
    return PurePosixPath(file).stem or file


def _first_kept_line(text: str, skip: tuple[Span, ...]) -> int:
    """Offset of the first non-blank line that is not inside a skipped span."""
    for m in re.finditer(r"[^\n]*\S[^\n]*", text):
        if not any(a <= m.start() + len(m.group()) - len(m.group().lstrip()) < b for a, b in skip):
            return m.start()
    return 0
