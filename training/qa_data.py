"""SQuAD-format QA data: loading (with a test-data guard), the split by article, hard negatives,
and tokenised training windows with start/end labels.

Why hard negatives: the product shows the reader the top retrieved passages, most of which are
about the right topic but do not hold the answer. Pairing a question with other paragraphs of
its own article (the most word-overlapping ones first) teaches exactly that refusal.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

# Test data must never be trained on: XQuAD, SQuAD dev (XQuAD was built from SQuAD v1.1 dev),
# any test split, the shipped questions. (Other dev splits, e.g. MLQA's, are not our test data.)
BANNED_NAME = re.compile(r"xquad|test|shipped|squad.*dev|dev.*squad", re.IGNORECASE)
XQUAD_DIR = Path("/work/shared/data/xquad")


@dataclass(frozen=True)
class QA:
    qid: str
    question: str
    answers: tuple[tuple[str, int], ...]  # (text, char start); empty when unanswerable

    @property
    def impossible(self) -> bool:
        return not self.answers


@dataclass(frozen=True)
class Paragraph:
    context: str
    qas: tuple[QA, ...]


@dataclass(frozen=True)
class Article:
    title: str
    source: str  # file name it came from
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True)
class Example:
    """One (question, context) pair; answer None means the context does not answer it."""

    qid: str
    question: str
    context: str
    answers: tuple[tuple[str, int], ...]
    kind: str  # "gold" (its own paragraph), "impossible" (SQuAD 2.0 unanswerable), "negative"
    article: str
    source: str  # the file it came from


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _test_contexts() -> set[str]:
    """Contexts of the test sets that exist here, to refuse any training file that holds one."""
    found: set[str] = set()
    if XQUAD_DIR.is_dir():
        for path in XQUAD_DIR.glob("*.json"):
            for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
                found.update(p["context"].strip() for p in article["paragraphs"])
    return found


# A titled "article" with more paragraphs than this is a collection (all of Reddit in SQuAD-Shifts,
# MLQA as one untitled article): its paragraphs are split and held out one by one.
COLLECTION_PARAGRAPHS = 300


def load_squad_files(paths: Sequence[Path]) -> list[Article]:
    """Articles from SQuAD 1.1/2.0-format files (GermanQuAD and MLQA use the same format).

    Refuses files named like test/dev data and any paragraph that is in XQuAD. Articles with the
    same title in several files are merged (a question id is kept once), so the calibration split
    by article cannot see a training paragraph again.
    """
    banned = _test_contexts()
    merged: dict[str, tuple[str, dict[str, list[QA]]]] = {}  # title -> (source, context -> qas)
    seen_ids: set[str] = set()
    loose: list[Article] = []
    for path in map(Path, paths):
        if BANNED_NAME.search(path.name):
            raise ValueError(f"{path.name}: looks like test or dev data; never train on it")
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "data" not in data:
            raise ValueError(f"{path.name}: not a SQuAD-format file (no 'data')")
        for art in data["data"]:
            title = art.get("title") or ""
            collection = not title or len(art["paragraphs"]) > COLLECTION_PARAGRAPHS
            for k, para in enumerate(art["paragraphs"]):
                context = para["context"]
                if context.strip() in banned:
                    raise ValueError(f"{path.name}: a paragraph of {title!r} is in XQuAD (test data)")
                qas = []
                for qa in para["qas"]:
                    qid = str(qa["id"])
                    if qid in seen_ids:
                        continue  # the same question in another file (SQuAD 2.0 re-uses 1.1 ids)
                    answers = () if qa.get("is_impossible") else tuple(
                        (a["text"], int(a["answer_start"])) for a in qa.get("answers", [])
                    )
                    answers = tuple(a for a in answers if context[a[1]:a[1] + len(a[0])] == a[0])
                    if not qa.get("is_impossible") and not answers:
                        continue  # an answer span that does not match its context: skip the question
                    seen_ids.add(qid)
                    qas.append(QA(qid, qa["question"].strip(), answers))
                if collection:
                    loose.append(Article(f"{path.name}:{title}#{k}", path.name, (Paragraph(context, tuple(qas)),)))
                else:
                    source, contexts = merged.setdefault(title, (path.name, {}))
                    contexts.setdefault(context, []).extend(qas)
    articles = [
        Article(title, source, tuple(Paragraph(c, tuple(q)) for c, q in contexts.items()))
        for title, (source, contexts) in merged.items()
    ]
    return articles + loose


def split_by_article(articles: Sequence[Article], calib_fraction: float, seed: int) -> tuple[list[Article], list[Article]]:
    """Hold out whole articles (about calib_fraction of the questions, from every file) for calibration."""
    train, calib = [], []
    by_source: dict[str, list[Article]] = {}
    for art in articles:
        by_source.setdefault(art.source, []).append(art)
    for source in sorted(by_source):
        arts = sorted(by_source[source], key=lambda a: a.title)
        random.Random(f"{seed}:{source}").shuffle(arts)
        total = sum(len(p.qas) for a in arts for p in a.paragraphs)
        held = 0
        for art in arts:
            n = sum(len(p.qas) for p in art.paragraphs)
            if held < calib_fraction * total and len(arts) > 1 and held + n <= 2 * calib_fraction * total:
                calib.append(art)
                held += n
            else:
                train.append(art)
    return train, calib


_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = set(
    "the a an of in on at to for and or is was were are be by with as from that this which who whom what when "
    "where why how did does do its it his her their der die das ein eine und oder ist war in im am zu von mit "
    "für auf den dem des wer was wann wo wie warum welche welcher welches".split()
)


def _content_words(text: str) -> Counter:
    return Counter(w for w in (t.lower() for t in _WORD.findall(text)) if w not in _STOP)


def _overlap(question: Counter, context: Counter) -> int:
    return sum(min(c, context[w]) for w, c in question.items())


def make_examples(articles: Iterable[Article], negatives_per_question: int, seed: int) -> list[Example]:
    """Each question with its own paragraph, plus `negatives_per_question` other paragraphs of the
    same article as no-answer pairs: the most word-overlapping one first (the near miss a retriever
    would show), then random ones. A paragraph that contains a gold answer string is never used as
    a negative (it may well answer the question)."""
    rng = random.Random(seed)
    examples: list[Example] = []
    articles = list(articles)
    by_source: dict[str, list[Paragraph]] = {}
    for art in articles:
        by_source.setdefault(art.source, []).extend(art.paragraphs)
    file_words = {src: [_content_words(p.context) for p in paras] for src, paras in by_source.items()}
    for art in articles:
        # one-paragraph articles (untitled files) draw negatives from their whole file
        if len(art.paragraphs) > 1:
            pool, words = list(art.paragraphs), [_content_words(p.context) for p in art.paragraphs]
        else:
            pool, words = by_source[art.source], file_words[art.source]
        for para in art.paragraphs:
            for qa in para.qas:
                kind = "impossible" if qa.impossible else "gold"
                examples.append(Example(qa.qid, qa.question, para.context, qa.answers, kind, art.title, art.source))
                if negatives_per_question <= 0 or len(pool) < 2:
                    continue
                qwords = _content_words(qa.question)
                answer_texts = [a.lower() for a, _ in qa.answers]
                others = [
                    j for j in range(len(pool))
                    if pool[j].context != para.context and not any(a in pool[j].context.lower() for a in answer_texts)
                ]
                if not others:
                    continue
                ranked = sorted(others, key=lambda j: (-_overlap(qwords, words[j]), rng.random()))
                chosen = ranked[:1]
                rest = ranked[1:]
                rng.shuffle(rest)
                chosen += rest[: negatives_per_question - 1]
                for k, j in enumerate(chosen):
                    examples.append(
                        Example(f"{qa.qid}#neg{k}", qa.question, pool[j].context, (), "negative", art.title, art.source)
                    )
    return examples


@dataclass(frozen=True)
class Window:
    """A tokenised training window: ids and the start/end token labels (0 = no answer)."""

    input_ids: tuple[int, ...]
    start: int
    end: int
    example: int
    context_start: int  # first passage token (before it: <s>, the question, </s></s>)


def make_windows(
    examples: Sequence[Example], reader_like, max_empty_windows: int = 2, seed: int = 0, batch: int = 256
) -> list[Window]:
    """Tokenise pairs as the reader does (same windows); label the first gold answer's tokens,
    or position 0 when the window does not hold the whole answer. A long context (a whole paper)
    gives many windows without the answer: at most `max_empty_windows` of them are kept per pair."""
    from assistant.models.reader.model import trimmed_offsets

    rng = random.Random(seed)
    windows: list[Window] = []
    for lo in range(0, len(examples), batch):
        chunk = examples[lo:lo + batch]
        enc = reader_like.encode([(e.question, e.context) for e in chunk])
        for w in range(len(enc["input_ids"])):
            ex_index = enc["overflow_to_sample_mapping"][w]
            ex = chunk[ex_index]
            start_label = end_label = 0
            ctx = [i for i, s in enumerate(enc.sequence_ids(w)) if s == 1]
            if ex.answers:
                text, a_start = ex.answers[0]
                a_end = a_start + len(text)
                spans = trimmed_offsets(ex.context, [enc["offset_mapping"][w][i] for i in ctx])
                # tokens overlapping the answer; the answer must lie wholly inside this window
                hit = [i for i, (a, b) in zip(ctx, spans) if b > a and a < a_end and b > a_start]
                inside = bool(spans) and spans[0][0] <= a_start and a_end <= spans[-1][1]
                if hit and inside:
                    start_label, end_label = hit[0], hit[-1]
            windows.append(Window(tuple(enc["input_ids"][w]), start_label, end_label, lo + ex_index, ctx[0] if ctx else 1))
    by_example: dict[int, list[int]] = {}
    for i, w in enumerate(windows):
        if w.start == 0:
            by_example.setdefault(w.example, []).append(i)
    drop: set[int] = set()
    for idx in by_example.values():
        if len(idx) > max_empty_windows:
            drop.update(rng.sample(idx, len(idx) - max_empty_windows))
    return [w for i, w in enumerate(windows) if i not in drop]
