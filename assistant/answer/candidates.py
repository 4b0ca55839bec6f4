"""The first stage: retrieve a question's passages and score their sentences as quote candidates.

Features of scoring.py, combined by `Settings.weights`, rank every sentence of the top
passages. What is quoted, and whether the articles answer at all, is decided afterwards
(judging.py). `SimilarityFirstStage` is this stage's object (stages.FirstStage): it holds the
model, the index and its slice of the settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import FEATURES, Weights
from ..index.lexical import tokenize
from ..index.retrieval import PassageHit, Retriever
from ..index.snapshot import Snapshot
from ..index.view import IndexView, Sentences
from ..models.embedding import Embedder
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


def _overlap(question_tokens: set[str], text: str, language: str) -> float:
    if not question_tokens:
        return 0.0
    return len(question_tokens & set(tokenize(text, language))) / len(question_tokens)


def quote_features(view: IndexView, retrieved: Retrieved, quote_passages: int) -> QuoteFeatures:
    """The sentences of the best `quote_passages` passages, with their quote features."""
    hits = retrieved.hits[:quote_passages]
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


@dataclass(frozen=True)
class SimilarityFirstStage:
    """Passages by the embedder's similarity (with BM25, index/retrieval.py), their sentences
    ranked by `weights` over the quote features of the best `quote_passages` passages."""

    embedder: Embedder
    retriever: Retriever
    view: IndexView
    default_language: str  # of a question that carries no evidence of its own language
    weights: Weights
    quote_passages: int

    @classmethod
    def of(cls, snapshot: Snapshot) -> "SimilarityFirstStage":
        settings = snapshot.settings
        return cls(snapshot.embedder, snapshot.retriever, snapshot.view, GERMAN if snapshot.mostly_german else "en",
                   settings.weights, settings.quote_passages)

    def retrieve(self, question: str, files: list[str] | None = None, language: str | None = None) -> Retrieved:
        """Rank passages for a question: the retrieval step shared by answers and evaluation.
        `language` is the question's (detected from it when not given)."""
        language = language or detect_language(question, default=self.default_language)
        query, as_passage = self.embedder.encode_question(question)
        tokens = tokenize(question, language)
        articles = self.view.article_ids(files) if files is not None else None
        hits = self.retriever.search(query, tokens, language, articles)
        return Retrieved(question, language, query, as_passage, tokens, hits)

    def features(self, retrieved: Retrieved) -> QuoteFeatures:
        return quote_features(self.view, retrieved, self.quote_passages)

    def rank(self, retrieved: Retrieved) -> list[Candidate]:
        """Sentences of the top passages, best quote first."""
        features = self.features(retrieved)
        scores = features.values @ self.weights.vector()
        candidates = [Candidate(s.id, s.passage_id, s.article_id, s.start, s.end, float(score))
                      for s, score in zip(features.sentences, scores)]
        candidates.sort(key=lambda c: -c.score)
        return candidates
