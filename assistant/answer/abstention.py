"""Does the best quote answer the question, or do the articles not say?

The policy's numbers live in `Settings.abstention` (with the weights they were calibrated
with); this module applies them to a question's best candidate. Each function takes the policy
and the index view it reads, not the whole snapshot.
"""

from __future__ import annotations

from ..config import AbstentionPolicy
from ..index.view import IndexView
from .candidates import Candidate, Retrieved
from .scoring import word_coverage, years_named


def same_language(view: IndexView, candidate: Candidate, language: str) -> bool:
    return view.articles[candidate.article_id].language == language


def above_threshold(policy: AbstentionPolicy, view: IndexView, candidate: Candidate, language: str) -> float:
    """The candidate's score above the abstention threshold of its language pair."""
    same = same_language(view, candidate, language)
    return candidate.score - (policy.threshold if same else policy.threshold_cross_language)


def coverage(view: IndexView, retrieved: Retrieved, top: Candidate) -> float:
    """How well the question's worst-matched name or figure is matched in the top quote's passage."""
    passage = view.passage(top.passage_id)
    return word_coverage(retrieved.question, retrieved.language,
                         view.text(passage.article_id, passage.start, passage.end))


def abstains(policy: AbstentionPolicy, view: IndexView, top: Candidate, language: str, top_coverage: float) -> bool:
    """Below the calibrated score or name coverage for the quote's language pair."""
    return above_threshold(policy, view, top, language) < 0 or \
        top_coverage < min_coverage(policy, view, top, language)


def min_coverage(policy: AbstentionPolicy, view: IndexView, top: Candidate, language: str) -> float:
    """The share of the question's names and figures a quote must match, by language pair."""
    same = same_language(view, top, language)
    return policy.min_word_coverage if same else policy.min_word_coverage_cross_language


def names_the_years_asked(view: IndexView, question: str, candidate: Candidate) -> bool:
    """Does the candidate's article (its text, title or date) name every year the question
    names? "Wer hatte am 2. Mai 1916 das Kommando?" is not answered by an article that never
    mentions 1916, however close its sentences read: the answer model's topical German
    sentences pass its own bar (benchmarks/README.md, "Years the question names")."""
    asked = years_named(question)
    if not asked:
        return True
    article = view.articles[candidate.article_id]
    return asked <= years_named(" ".join((article.title or "", article.date or "", article.text)))
