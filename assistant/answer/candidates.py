"""Retrieve a question's passages and score their sentences as quote candidates.

This is the first stage of choosing quotes: features of scoring.py, combined by
`Settings.weights`, rank every sentence of the top passages. What is quoted, and whether the
articles answer at all, is decided afterwards (selection.py, abstention.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import FEATURES
from ..index.lexical import tokenize
from ..index.retrieval import PassageHit
from ..index.snapshot import Snapshot
from ..index.view import Sentences
from ..ingest.language import GERMAN, detect_language
from .scoring import answer_type, has_answer_type


@dataclass(frozen=True)
class Retrieved:
    """A question's ranked passages and what was computed to rank them."""

    question: str
    language: str
    query: np.ndarray  # the question with the query prompt
    as_passage: np.ndarray  # the question with the passage prompt
    tokens: list[str]  # stemmed words, for BM25 and overlap
    hits: list[PassageHit]


@dataclass(frozen=True)
class ReadSpan:
    """The reader's best answer span inside a candidate sentence (article offsets)."""

    start: int
    end: int
    margin: float  # span score minus the no-answer score of the text it was read in


@dataclass(frozen=True)
class Candidate:
    """A sentence (or two joined neighbours) of an article, scored as a quote."""

    sentence_id: int
    passage_id: int
    article_id: int
    start: int
    end: int
    score: float  # first stage (similarity)
    span: ReadSpan | None = None  # set when the reader read it and found a span
    reader_score: float | None = None  # what the reader ranked it by (reading.py); None: not read


@dataclass(frozen=True)
class QuoteFeatures:
    """The sentences of a question's top passages and their quote features (one row each,
    columns in `FEATURES` order): what `Settings.weights` combine, and what
    benchmarks/fit_answer_policy.py fits them on."""

    sentences: Sentences
    values: np.ndarray


def question_language(snapshot: Snapshot, question: str) -> str:
    return detect_language(question, default=GERMAN if snapshot.mostly_german else "en")


def retrieve(snapshot: Snapshot, question: str, files: list[str] | None = None,
             language: str | None = None) -> Retrieved:
    """Rank passages for a question: the retrieval step shared by answers and evaluation.
    `language` is the question's (detected from it when not given)."""
    language = language or question_language(snapshot, question)
    query, as_passage = snapshot.embedder.encode_question(question)
    tokens = tokenize(question, language)
    articles = snapshot.view.article_ids(files) if files is not None else None
    hits = snapshot.retriever.search(query, tokens, language, articles)
    return Retrieved(question, language, query, as_passage, tokens, hits)


def _overlap(question_tokens: set[str], text: str, language: str) -> float:
    if not question_tokens:
        return 0.0
    return len(question_tokens & set(tokenize(text, language))) / len(question_tokens)


def quote_features(snapshot: Snapshot, retrieved: Retrieved) -> QuoteFeatures:
    view = snapshot.view
    hits = retrieved.hits[: snapshot.settings.quote_passages]
    passage_score = {h.passage_id: h.score for h in hits}
    sentences = view.sentences_of(sorted(passage_score))
    if len(sentences) == 0:
        return QuoteFeatures(sentences, np.zeros((0, len(FEATURES))))
    wanted, kind = set(retrieved.tokens), answer_type(retrieved.question)
    columns = {
        "in_context": view.context_vectors(sentences.ids) @ retrieved.query,
        "as_passage": view.sentence_vectors(sentences.ids) @ retrieved.as_passage,
        "passage": np.array([passage_score[p] for p in sentences.passage_ids.tolist()]),
        "overlap": np.zeros(len(sentences)),
        "answer_type": np.zeros(len(sentences)),
    }
    for i, s in enumerate(sentences):
        article = view.articles[s.article_id]
        text = article.text[s.start:s.end]
        if article.language == retrieved.language:  # stems only meet within one language
            columns["overlap"][i] = _overlap(wanted, text, article.language)
        columns["answer_type"][i] = has_answer_type(kind, text)
    return QuoteFeatures(sentences, np.column_stack([columns[name] for name in FEATURES]))


def rank_candidates(snapshot: Snapshot, retrieved: Retrieved) -> list[Candidate]:
    """Sentences of the top passages, best quote first."""
    features = quote_features(snapshot, retrieved)
    scores = features.values @ snapshot.settings.weights.vector()
    candidates = [Candidate(s.id, s.passage_id, s.article_id, s.start, s.end, float(score))
                  for s, score in zip(features.sentences, scores)]
    candidates.sort(key=lambda c: -c.score)
    return candidates
