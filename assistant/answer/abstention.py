"""Does the best quote answer the question, or do the articles not say?

The policy's numbers live in `Settings.abstention` (with the weights they were calibrated
with); this module applies them to a question's best candidate. Each function takes the policy
and the index view it reads, not the whole snapshot.
"""

from __future__ import annotations

from ..config import AbstentionPolicy
from ..index.view import IndexView
from .candidates import Candidate, Retrieved
from .scoring import names_coverage, question_names, word_coverage, years_agree, years_named


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


def names_what_is_asked(policy: AbstentionPolicy, view: IndexView, question: str, language: str,
                        candidate: Candidate) -> bool:
    """Can the candidate's article answer a question that names a year or a name?

    - When its text, title or date name years, each year the question names must be within one
      of them (scoring.years_agree: "Wer hatte am 2. Mai 1916 das Kommando?" is not answered by
      an article on 1912-1914).
    - In the question's language, it must match each of the question's names at least
      `min_name_match_in_article` (a question about "Prince Albert" by no article that mentions
      Albert). Across languages names are spelt differently, so only years count there.

    The answer model finds topical sentences likely enough to pass its own bar
    (benchmarks/README.md, "What the question names")."""
    years = years_named(question)
    names = {n for n in question_names(question, language) if not any(ch.isdigit() for ch in n)}
    article = view.articles[candidate.article_id]
    if not years and not (names and article.language == language):
        return True
    scope = " ".join((article.title or "", article.date or "", article.text))
    if years and not years_agree(years, years_named(scope)):  # no year asked: no need to look for one
        return False
    return article.language != language or names_coverage(names, scope) >= policy.min_name_match_in_article
