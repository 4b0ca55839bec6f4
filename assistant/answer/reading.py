"""The second stage: a trained reader (models/reader) reads the question together with candidate
sentences and finds the span that answers, or says none does.

Each sentence is read with the sentence before it in its passage as context ("it", "the
company"), all in one batched forward pass. By default the reader reads the chosen quotes for
the short answer (answering.py); with `reader_ranks` it also ranks: the `reader_candidates` best
distinct sentences (and a close one from another article) are ordered by their best span's
margin over "no answer" plus `reader_prior` times their first-stage score, ahead of the ones it
did not read.
"""

from __future__ import annotations

from dataclasses import replace

from ..models.embedding import torch_threads
from .candidates import Candidate, ReadSpan
from .selection import close_support, distinct
from .snapshot import Snapshot


def _window(snapshot: Snapshot, c: Candidate) -> tuple[int, int]:
    """The candidate sentence with the sentence before it in its passage, as article offsets."""
    view = snapshot.view
    start = c.start
    if c.sentence_id > 0:
        previous = view.sentence(c.sentence_id - 1)
        if previous.passage_id == c.passage_id:
            start = previous.start
    return start, c.end


def _to_read(snapshot: Snapshot, candidates: list[Candidate], language: str) -> list[Candidate]:
    """The best `reader_candidates` distinct sentences, and the first stage's close runner-up
    from another article (selection.close_support), so a second report of the fact can be quoted."""
    ranked = distinct(snapshot, candidates)
    top = ranked[: snapshot.settings.reader_candidates]
    support = close_support(snapshot, ranked, language)
    if support is not None and support not in top:
        top.append(support)
    return top


def reader_applies(snapshot: Snapshot, best: Candidate, language: str) -> bool:
    """Does the reader rank the quotes? Only with `reader_ranks` (ASSISTANT_READER=rank), and
    then only when the first stage's best sentence is in the question's language: it was trained
    on English and German question/passage pairs, never mixed ones."""
    settings = snapshot.settings
    if not settings.reader_ranks:
        return False
    return settings.reader_cross_language or snapshot.view.articles[best.article_id].language == language


def read(snapshot: Snapshot, question: str, top: list[Candidate]) -> list[Candidate]:
    """`top` read with the question in one batch, each carrying its best `span` and its
    `reader_score` (the span's margin over "no answer" plus `reader_prior` x its first-stage score)."""
    from ..models.reader.model import best_span

    settings = snapshot.settings
    windows = [_window(snapshot, c) for c in top]
    texts = [snapshot.view.text(c.article_id, a, b) for c, (a, b) in zip(top, windows)]
    with torch_threads(settings.reader_threads):
        readings = snapshot.reader.read(question, texts)
    results = []
    for c, (w_start, _), reading in zip(top, windows, readings):
        span = best_span(reading, c.start - w_start, c.end - w_start)
        margin = reading.margin(span)
        found = ReadSpan(w_start + span.start, w_start + span.end, margin) if span is not None else None
        score = (margin if span is not None else -1e3) + settings.reader_prior * c.score
        results.append(replace(c, span=found, reader_score=score))
    return results


def read_candidates(snapshot: Snapshot, question: str, candidates: list[Candidate], language: str) -> list[Candidate]:
    """The candidates re-ranked by the reader (each read one carrying its `span`)."""
    top = _to_read(snapshot, candidates, language)
    if snapshot.reader is None or not top:
        return candidates
    ranked = sorted(read(snapshot, question, top), key=lambda c: -c.reader_score)
    ids = {c.sentence_id for c in ranked}
    return ranked + [c for c in candidates if c.sentence_id not in ids]
