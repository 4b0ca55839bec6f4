"""Does the best quote answer the question, or do the articles not say?

The policy's numbers live in `Settings.abstention` (with the weights they were calibrated
with); this module applies them to a question's best candidate.
"""

from __future__ import annotations

from ..config import AbstentionPolicy
from ..index.snapshot import Snapshot
from .candidates import Candidate, Retrieved
from .scoring import word_coverage


def same_language(snapshot: Snapshot, candidate: Candidate, language: str) -> bool:
    return snapshot.view.articles[candidate.article_id].language == language


def above_threshold(snapshot: Snapshot, candidate: Candidate, language: str) -> float:
    """The candidate's score above the abstention threshold of its language pair."""
    policy = snapshot.settings.abstention
    same = same_language(snapshot, candidate, language)
    return candidate.score - (policy.threshold if same else policy.threshold_cross_language)


def coverage(snapshot: Snapshot, retrieved: Retrieved, top: Candidate) -> float:
    """How well the question's worst-matched name or figure is matched in the top quote's passage."""
    passage = snapshot.view.passage(top.passage_id)
    return word_coverage(retrieved.question, retrieved.language,
                         snapshot.view.text(passage.article_id, passage.start, passage.end))


def abstains(snapshot: Snapshot, top: Candidate, language: str, top_coverage: float) -> bool:
    """Below the calibrated score or name coverage for the quote's language pair."""
    return above_threshold(snapshot, top, language) < 0 or top_coverage < min_coverage(snapshot, top, language)


def min_coverage(snapshot: Snapshot, top: Candidate, language: str) -> float:
    """The share of the question's names and figures a quote must match, by language pair."""
    policy: AbstentionPolicy = snapshot.settings.abstention
    same = same_language(snapshot, top, language)
    return policy.min_word_coverage if same else policy.min_word_coverage_cross_language
