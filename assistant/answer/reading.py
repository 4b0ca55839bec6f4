"""The second stage: the answer model (models/reader) reads the question with each of the first
stage's best sentences and says whether it holds the answer, and where.

Each sentence is read as the model was trained (training/answer_data.py): with its article's
title and the sentence before it in its passage ("it", "the company" resolve there). Its
readings and the first stage's score are combined by `Settings.reader_policy` (a logistic model
fitted on the development split: benchmarks/fit_answer_policy.py) into the probability that the
sentence holds the answer: the quotes are ordered by it, and it decides refusal, which further
quotes are worth showing, and whether the best span is sure enough to be the short answer.
`AnswerModelReading` is this stage: the model, the index it reads and its slice of the settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from ..config import READER_FEATURES, AbstentionPolicy, ReaderPolicy
from ..index.snapshot import Snapshot
from ..index.view import IndexView
from ..models.embedding import torch_threads
from ..models.reader.lazy import LazyReader
from ..models.reader.model import Reading, ReaderInput, best_span
from .abstention import above_threshold, coverage, same_language
from .candidates import Candidate, ReadSpan, Retrieved
from .scoring import fits_the_question
from .selection import distinct, is_the_title

MARGIN_CLIP = 20.0  # span margins beyond this say nothing more (and "no span" is -inf)


def reader_input(view: IndexView, c: Candidate) -> ReaderInput:
    """The candidate sentence, its article's title and the sentence before it in its passage."""
    context = ""
    if c.sentence_id > 0:
        previous = view.sentence(c.sentence_id - 1)
        if previous.passage_id == c.passage_id:
            context = view.text(c.article_id, previous.start, previous.end)
    candidate = view.text(c.article_id, c.start, c.end)
    title = view.articles[c.article_id].title or ""
    if is_the_title(title, candidate):
        title = ""  # an article without a headline is titled by its first sentence: read it once
    return ReaderInput(candidate, title, context)


def holds_probability(policy: ReaderPolicy, features: np.ndarray) -> np.ndarray:
    """The fitted probability that each read sentence holds the answer."""
    z = features @ np.asarray(policy.weights) + policy.bias
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def any_in_question_language(features: np.ndarray) -> bool:
    """Is any sentence read in the question's language (read_features' same_language column)?"""
    return bool(features[:, READER_FEATURES.index("same_language")].any())


def reading_order(probabilities: np.ndarray, any_in_question_language: bool,
                  cross_language_lead: float | None) -> list[int]:
    """Indices of read candidates (first-stage order) in the order read_candidates shows them:
    likeliest first, except that when none is in the question's language the first stage's
    best (index 0) stays first unless the likeliest is `cross_language_lead` times as likely."""
    order = sorted(range(len(probabilities)), key=lambda j: -probabilities[j])
    if any_in_question_language or not order:
        return order
    lead = cross_language_lead is not None and probabilities[order[0]] >= cross_language_lead * probabilities[0]
    return order if lead else [0] + [j for j in order if j != 0]


@dataclass(frozen=True)
class AnswerModelReading:
    """The answer model reading the first stage's best sentences with the question."""

    reader: LazyReader
    view: IndexView
    policy: ReaderPolicy
    abstention: AbstentionPolicy  # the first stage's score is read above its thresholds
    threads: int

    @classmethod
    def of(cls, snapshot: Snapshot) -> "AnswerModelReading":
        settings = snapshot.settings
        return cls(snapshot.reader, snapshot.view, settings.reader_policy, settings.abstention, settings.reader_threads)

    def to_read(self, candidates: list[Candidate]) -> list[Candidate]:
        """The first stage's best `policy.candidates` sentences, no repeated text."""
        return distinct(self.view, candidates)[: self.policy.candidates]

    def read_spans(self, question: str, candidates: list[Candidate]) -> list[tuple[Reading, ReadSpan | None, float]]:
        """Each candidate read with `question`: (the model's reading, its best span of the kind
        asked in article offsets or None, that span's margin over "no answer")."""
        with torch_threads(self.threads):
            readings = self.reader.read(question, [reader_input(self.view, c) for c in candidates])
        of_the_kind_asked = partial(fits_the_question, question)
        out = []
        for c, reading in zip(candidates, readings):
            span = best_span(reading, self.reader.max_answer_tokens, of_the_kind_asked)
            margin = reading.margin(span)
            found = ReadSpan(c.start + span.start, c.start + span.end, margin) if span is not None else None
            out.append((reading, found, margin))
        return out

    def read_features(self, retrieved: Retrieved, top: list[Candidate]) -> tuple[list[Candidate], np.ndarray]:
        """`top` read with the question in one batch: each with its best `span` of the kind the
        question asks for (None when the model finds none), and one row of READER_FEATURES per
        candidate."""
        if not top:
            return [], np.zeros((0, len(READER_FEATURES)))
        read, rows = [], []
        for c, (reading, found, margin) in zip(top, self.read_spans(retrieved.question, top)):
            values = {
                "holds": reading.holds,
                "span_margin": max(-MARGIN_CLIP, min(MARGIN_CLIP, margin)),
                "first_stage": above_threshold(self.abstention, self.view, c, retrieved.language),
                "coverage": coverage(self.view, retrieved, c),
                "same_language": float(same_language(self.view, c, retrieved.language)),
            }
            rows.append([values[name] for name in READER_FEATURES])
            read.append(replace(c, span=found))
        return read, np.array(rows, dtype=np.float64)

    def read_candidates(self, retrieved: Retrieved, candidates: list[Candidate]) -> list[Candidate]:
        """The read candidates in the order their quotes are shown; `reader_score` is the
        probability that each holds the answer.

        Most likely first, except when every sentence read is in another language than the
        question: then the first stage's best sentence stays first unless the likeliest is
        `policy.cross_language_lead` times as likely (the model reads across languages less well
        than the first stage ranks; chosen by benchmarks/fit_answer_policy.py), and the rest
        follow by probability."""
        read, features = self.read_features(retrieved, self.to_read(candidates))
        probabilities = holds_probability(self.policy, features)
        scored = [replace(c, reader_score=float(p)) for c, p in zip(read, probabilities)]
        if not scored:
            return []
        order = reading_order(probabilities, any_in_question_language(features), self.policy.cross_language_lead)
        return [scored[j] for j in order]

    def read_further(self, retrieved: Retrieved, candidates: list[Candidate]) -> list[Candidate]:
        """The next `policy.candidates` first-stage sentences after those read_candidates read,
        read the same way: where another article may say something else (conflict.py), which
        copies of one claim at the top of the first stage would otherwise keep from being read."""
        return self.read_candidates(retrieved, distinct(self.view, candidates)[self.policy.candidates:])

    def refuses(self, ranked: list[Candidate]) -> bool:
        """Nothing read is likely enough to hold the answer."""
        return self.margin_above_refusal(ranked) < 0

    def margin_above_refusal(self, ranked: list[Candidate]) -> float:
        """How far the likeliest quote's probability is above refusal (to compare readings of a question)."""
        if not ranked:
            return -math.inf
        return max(c.reader_score for c in ranked) - self.policy.refuse_below
