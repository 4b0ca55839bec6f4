"""Split article text into sentences and passages, keeping exact `[start, end)` offsets.

Sentences are the unit a quote is made of; passages (a few sentences of one paragraph) are
the unit retrieval ranks. pysbd does the sentence boundaries: its German and English rules
know abbreviations ("z. B.", "Dr."), decimals ("1,5") and dates ("16. Januar 2024"). Three kinds
of its cuts inside a sentence are mended here: before an ordinal its numbered-list rule took for
a list item ("Am" / "24. August sandte ..."), before a comma after a regnal number ("Katharina
II." / ", die seit 1762 herrschte"), and, in German, before a word in lower case after an
abbreviation it does not know ("im 8. Jh." / "n. Chr. war ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

Span = tuple[int, int]

# A paragraph this short (a sub-heading) is read with the paragraph after it.
SHORT_PARAGRAPH_CHARS = 60
# How a sentence ends: its mark, then any closing quotes or brackets.
SENTENCE_END = re.compile(r"[.!?…:;][\"'“”„‘’»«)\]]*$")
# How pysbd's numbered-list rule starts a piece: "24. August", "2) wird ...".
LIST_NUMBER = re.compile(r"\d{1,4}[.)]")
# How a piece inside a sentence starts: a comma or closing bracket (after any closing quote
# marks). No sentence starts so; pysbd cuts there after a regnal number it took for a sentence's
# end: "Katharina II." / ", die seit 1762 herrschte, ...". Not a colon or semicolon: in text from
# wiki markup they start list items after a sentence ("... angegeben. :*Die Bildfrequenz ...").
MID_SENTENCE = re.compile(r"[\"'“”‘’»«]*[,)\]]")


@dataclass(frozen=True)
class Passage:
    start: int
    end: int
    sentences: tuple[Span, ...]


@lru_cache(maxsize=4)
def segmenter(language: str):
    """pysbd's segmenter for the language (English rules for any other), made once."""
    import pysbd

    return pysbd.Segmenter(language=language if language in ("de", "en") else "en", clean=False)


def _trimmed(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def split_line(text: str, start: int, end: int, language: str) -> list[Span]:
    """Sentence spans of text[start:end] (one line, no newlines)."""
    spans, cursor = [], start
    for piece in segmenter(language).segment(text[start:end]):
        piece = piece.strip()
        if not piece:
            continue
        found = text.find(piece, cursor, end)
        if found < 0:  # pysbd changed the text: keep the rest whole rather than lose it
            break
        if found > cursor and spans:  # text pysbd dropped between sentences stays attached
            spans[-1] = (spans[-1][0], found)
        spans.append((found, found + len(piece)))
        cursor = found + len(piece)
    rest = _trimmed(text, cursor, end)
    if rest:
        spans.append(rest)
    return _mend_cuts(text, [s for s in (_trimmed(text, a, b) for a, b in spans) if s], language)


def _continues(text: str, before: Span, piece: Span, language: str) -> bool:
    """Does `piece` belong to the sentence before it?

    - A piece with no letter or digit (a closing quote mark) does.
    - So does one that starts with a comma or closing bracket (MID_SENTENCE):
      pysbd ends a sentence after a regnal number or an abbreviation before a comma ("Katharina
      II." / ", die seit 1762 herrschte", "3300 v. Chr." / ", also rund 2400 Jahre lang"; 9 such
      cuts in the German development articles, none in the English ones).
    - So does one that starts with a number and a dot where the text before has not ended a
      sentence: pysbd took an ordinal ("am 24. August", "der 6. Buchstabe", "im 18. Jahrhundert")
      for a numbered list item. 29 of pysbd's 1,664 cuts inside lines of the German development
      articles were such cuts, leaving quotes like "Am" (benchmarks/sentence_cuts.py).
    - In German, so does a piece that starts in lower case: no German sentence does, and the 8
      found there followed abbreviations pysbd does not know ("Jh.", "d. i.", "vgl.", "LXXII.").
      Not in English, where a sentence may start with "iPods"."""
    words = text[piece[0]:piece[1]]
    if not any(ch.isalnum() for ch in words) or MID_SENTENCE.match(words):
        return True
    if language == "de" and words[0].islower():
        return True
    return bool(LIST_NUMBER.match(words)) and not SENTENCE_END.search(text[before[0]:before[1]])


def _mend_cuts(text: str, spans: list[Span], language: str) -> list[Span]:
    """The pieces joined where pysbd cut inside a sentence (_continues)."""
    merged: list[Span] = []
    for start, end in spans:
        if merged and _continues(text, merged[-1], (start, end), language):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def paragraphs(text: str) -> list[Span]:
    """Blocks of text separated by blank lines."""
    spans = []
    for m in re.finditer(r"\S(?:.|\n(?!\s*\n))*", text):
        spans.append((m.start(), m.end()))
    return spans


def split_sentences(text: str, language: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentences of text[start:end]; every line break ends a sentence (headlines, list items)."""
    end = len(text) if end is None else end
    spans = []
    for m in re.finditer(r"[^\n]+", text[start:end]):
        line = _trimmed(text, start + m.start(), start + m.end())
        if line:
            spans.extend(split_line(text, line[0], line[1], language))
    return spans


def without(spans: list[Span], skip: tuple[Span, ...], text: str) -> list[Span]:
    """`spans` with the `skip` ranges cut out, each remaining piece trimmed of whitespace."""
    pieces = list(spans)
    for a, b in sorted(skip):
        cut = []
        for start, end in pieces:
            if b <= start or a >= end:
                cut.append((start, end))
                continue
            cut.extend(s for s in (_trimmed(text, start, a), _trimmed(text, b, end)) if s)
        pieces = cut
    return pieces


class TooManyPassages(ValueError):
    """An article longer than the passage limit: refused whole rather than cut."""


def build_passages(text: str, language: str, max_chars: int = 1200, skip: tuple[Span, ...] = (),
                   max_passages: int | None = None) -> list[Passage]:
    """Consecutive sentences of one paragraph, up to `max_chars` (a longer sentence stands alone).

    Text inside `skip` (an article's byline) is in no sentence and no passage: it ends its
    paragraph as a blank line would, and a short paragraph before it (the headline) is not joined
    to the text after it, so no passage spans it and it is never quoted.

    A sentence that repeats an earlier one of the article word for word is in no passage either
    (it ends the passage before it): it adds nothing to quote, and an upload of 10,000 copies of
    one sentence would otherwise cost minutes of embedding. More than `max_passages` passages
    raise TooManyPassages.
    """
    passages: list[Passage] = []
    pending: list[Span] = []  # sentences of short paragraphs waiting for the next one
    seen: set[str] = set()

    def flush(group: list[Span]) -> None:
        if group:
            passages.append(Passage(group[0][0], group[-1][1], tuple(group)))
            if max_passages is not None and len(passages) > max_passages:
                raise TooManyPassages(f"too long: more than {max_passages:,} passages; split it into several articles")

    def add(sentences: list[Span]) -> None:
        group: list[Span] = []
        for sentence in sentences:
            words = " ".join(text[sentence[0]:sentence[1]].split())
            if words in seen:
                flush(group)
                group = []
                continue
            seen.add(words)
            if group and sentence[1] - group[0][0] > max_chars:
                flush(group)
                group = []
            group.append(sentence)
        flush(group)

    for para_start, para_end in without(paragraphs(text), skip, text):
        if pending and any(pending[-1][1] <= a < para_start for a, _ in skip):
            add(pending)
            pending = []
        sentences = pending + split_sentences(text, language, para_start, para_end)
        pending = []
        if para_end - para_start < SHORT_PARAGRAPH_CHARS:
            pending = sentences
            continue
        add(sentences)
    add(pending)  # short paragraphs at the end: still at most max_chars a passage
    return passages
