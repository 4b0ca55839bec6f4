"""Training windows shaped exactly like what the answer model reads in the product.

Each SQuAD-format article is written out as `assistant import-xquad` writes a corpus file
(paragraphs separated by blank lines) and read back through the product's own ingest code
(`parse_article`, `build_passages`): the same cleaned text, the same title, the same sentence
boundaries. A question then gives windows of (question, candidate sentence, title, the sentence
before it in its passage), as `answer/reading.py` builds them:

- the sentence that holds the gold answer: holds = 1, the answer span labelled;
- hard negatives: the other sentences of the answer's paragraph that share most words with the
  question, and the best such sentence of the article's most similar other paragraph (what
  retrieval shows next to the answer); a sentence containing a gold answer string is never a
  negative;
- SQuAD 2.0 / GermanDPR unanswerable questions: the sentences of their paragraph closest to the
  question (near misses).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

from assistant.ingest.passages import build_passages
from assistant.ingest.sources import SourceError, parse_article
from assistant.models.reader.model import ReaderInput
from training.qa_data import QA, Article

PASSAGE_MAX_CHARS = 1200  # assistant.config.Settings.passage_max_chars


@dataclass(frozen=True)
class TrainWindow:
    """One (question, candidate) pair with its labels."""

    qid: str
    question: str
    input: ReaderInput
    answer: tuple[int, int] | None  # [start, end) in input.candidate; None: no answer in it
    kind: str  # "gold", "same_paragraph", "other_paragraph", "impossible"
    source: str  # the file the article came from
    article: str

    @property
    def holds(self) -> bool:
        return self.answer is not None


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    previous: tuple[int, int] | None  # the sentence before it in its passage
    paragraph: int


@dataclass(frozen=True)
class ParsedArticle:
    """An article as the product indexes it: cleaned text, title, sentences by paragraph."""

    title: str
    text: str
    sentences: list[Sentence]
    paragraph_starts: list[int | None]  # where each source paragraph starts in `flat` (None: lost in cleaning)
    flat: str  # `text` with whitespace runs squeezed (see `squeezed`)
    where: list[int]  # index in `text` of each character of `flat`


def corpus_text(article: Article) -> str:
    """The article as a corpus file: paragraphs separated by blank lines (evaluation/xquad.py)."""
    return "\n\n".join(p.context.strip() for p in article.paragraphs) + "\n"


_SPACE = re.compile(r"\s+")


def squeezed(text: str) -> tuple[str, list[int]]:
    """The text with every whitespace run as one space, and each kept character's index in `text`.

    Cleaning rewrites whitespace (no-break spaces, doubled spaces, line breaks) and drops some lines,
    so answers are located in this form and mapped back to exact offsets of the cleaned text.
    """
    out: list[str] = []
    where: list[int] = []
    for match in re.finditer(r"\s+|\S+", text):
        if match.group().isspace():
            out.append(" ")
            where.append(match.start())
        else:
            out.append(match.group())
            where.extend(range(match.start(), match.end()))
    return "".join(out), where


def parse(article: Article) -> ParsedArticle | None:
    """The product's reading of the article; None when the product would skip it."""
    try:
        parsed = parse_article("article.txt", corpus_text(article).encode("utf-8"))
    except SourceError:
        return None
    text = parsed.text
    flat, where = squeezed(text)
    starts: list[int | None] = []
    ends: list[int] = []
    cursor = 0
    for p in article.paragraphs:
        para = squeezed(p.context.strip())[0]
        found = flat.find(para, cursor)
        if found < 0:  # cleaning dropped or changed a line: find the paragraph by its opening
            found = flat.find(para[:60], cursor)
        starts.append(found if found >= 0 else None)
        ends.append(found + len(para) if found >= 0 else -1)
        if found >= 0:
            cursor = found + 1
    bounds = [(k, where[s], where[min(e, len(where)) - 1] + 1) for k, (s, e) in enumerate(zip(starts, ends))
              if s is not None]
    sentences = []
    for passage in build_passages(text, parsed.language, PASSAGE_MAX_CHARS, skip=parsed.unquotable):
        previous = None
        for a, b in passage.sentences:
            para = next((k for k, lo, hi in bounds if lo <= a < hi), -1)
            sentences.append(Sentence(a, b, previous, para))
            previous = (a, b)
    return ParsedArticle(parsed.title, text, sentences, starts, flat, where)


_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = set(
    "the a an of in on at to for and or is was were are be by with as from that this which who whom what when "
    "where why how did does do its it his her their der die das ein eine und oder ist war im am zu von mit "
    "für auf den dem des wer was wann wo wie warum welche welcher welches wurde wurden hat".split()
)


def content_words(text: str) -> Counter:
    return Counter(w for w in (t.lower() for t in _WORD.findall(text)) if w not in _STOP)


def overlap(question: Counter, text: str) -> int:
    words = content_words(text)
    return sum(min(c, words[w]) for w, c in question.items())


def _input(parsed: ParsedArticle, start: int, end: int, previous: tuple[int, int] | None) -> ReaderInput:
    context = parsed.text[previous[0]:previous[1]] if previous else ""
    return ReaderInput(parsed.text[start:end], parsed.title, context)


def _answer_location(parsed: ParsedArticle, paragraph: int, qa: QA, context: str) -> tuple[int, int] | None:
    """The first gold answer's [start, end) in the cleaned text, or None when cleaning lost it.

    Positions are compared with whitespace squeezed; of the answer's occurrences in its paragraph,
    the one nearest to where the source puts it is taken.
    """
    base = parsed.paragraph_starts[paragraph]
    if base is None or not qa.answers:
        return None
    text, start = qa.answers[0]
    answer = squeezed(text.strip())[0]
    if not answer:
        return None
    stripped = context.lstrip()
    offset = max(0, start - (len(context) - len(stripped)))
    expected = base + len(squeezed(stripped[:offset])[0])
    span = len(squeezed(stripped)[0]) + 200
    hits = [m.start() for m in re.finditer(re.escape(answer), parsed.flat[base:base + span])]
    if not hits:
        return None
    at = base + min(hits, key=lambda h: abs(base + h - expected))
    return parsed.where[at], parsed.where[at + len(answer) - 1] + 1


def question_windows(parsed: ParsedArticle, article: Article, paragraph: int, qa: QA, rng: random.Random,
                     same_paragraph: int = 2, other_paragraph: int = 1) -> list[TrainWindow]:
    """The windows of one question: its gold sentence and hard negatives (or near misses)."""
    golds = [a.lower() for a, _ in qa.answers]
    qwords = content_words(qa.question)
    make = lambda s, e, prev, answer, kind: TrainWindow(  # noqa: E731
        qa.qid, qa.question, _input(parsed, s, e, prev), answer, kind, article.source, article.title)
    windows: list[TrainWindow] = []
    located = _answer_location(parsed, paragraph, qa, article.paragraphs[paragraph].context)
    if not qa.impossible:
        if located is None:
            return []
        a, b = located
        covering = [s for s in parsed.sentences if s.start < b and a < s.end]
        if not covering:
            return []
        start, end, previous = covering[0].start, covering[-1].end, covering[0].previous
        windows.append(make(start, end, previous, (a - start, b - start), "gold"))
        taken = {(s.start, s.end) for s in covering}
    else:
        taken = set()

    def negatives(pool: Iterable[Sentence], n: int, kind: str) -> None:
        ranked = sorted(
            (s for s in pool if (s.start, s.end) not in taken
             and not any(g in parsed.text[s.start:s.end].lower() for g in golds)),
            key=lambda s: (-overlap(qwords, parsed.text[s.start:s.end]), rng.random()))
        for s in ranked[:n]:
            taken.add((s.start, s.end))
            windows.append(make(s.start, s.end, s.previous, None, kind))

    own = [s for s in parsed.sentences if s.paragraph == paragraph]
    if qa.impossible:
        negatives(own, same_paragraph + 1, "impossible")
        return windows
    negatives(own, same_paragraph, "same_paragraph")
    others = [s for s in parsed.sentences if s.paragraph not in (paragraph, -1)]
    if others and other_paragraph:
        negatives(others, other_paragraph, "other_paragraph")
    return windows


def article_windows(articles: Sequence[Article], seed: int, same_paragraph: int = 2,
                    other_paragraph: int = 1) -> tuple[list[TrainWindow], dict[str, int]]:
    """All windows of the articles' questions, and counts of what was skipped and why."""
    rng = random.Random(seed)
    windows: list[TrainWindow] = []
    skipped = Counter()
    for article in articles:
        parsed = parse(article)
        if parsed is None:
            skipped["article not readable"] += sum(len(p.qas) for p in article.paragraphs)
            continue
        for k, paragraph in enumerate(article.paragraphs):
            for qa in paragraph.qas:
                found = question_windows(parsed, article, k, qa, rng, same_paragraph, other_paragraph)
                if not found:
                    skipped["answer not found in the cleaned text"] += 1
                windows.extend(found)
    return windows, dict(skipped)
