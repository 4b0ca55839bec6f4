"""answer/abstention.py on the shipped articles: when the best quote is taken not to answer."""

from __future__ import annotations

from dataclasses import replace

from assistant.answer.abstention import abstains, coverage
from conftest import first_stage_candidates


def best(assistant, question: str):
    snapshot = assistant.snapshot
    retrieved, candidates = first_stage_candidates(snapshot, question)
    return snapshot, retrieved, candidates[0]


def test_a_name_the_quote_does_not_match_makes_it_abstain(shipped_assistant):
    """The example of config.AbstentionPolicy: the quote scores well, but "Apple" matches nothing
    near it (German questions check figures only: their nouns are all capitalised)."""
    snapshot, retrieved, top = best(shipped_assistant, "How many customers does Vodacom have?")
    assert not abstains(snapshot.settings.abstention, snapshot.view, top, retrieved.language, coverage(snapshot.view, retrieved, top))
    snapshot, retrieved, top = best(shipped_assistant, "When did Apple acquire Vodafone?")
    apple = coverage(snapshot.view, retrieved, top)
    assert apple < snapshot.settings.abstention.min_word_coverage
    assert abstains(snapshot.settings.abstention, snapshot.view, top, retrieved.language, apple)
    assert not abstains(snapshot.settings.abstention, snapshot.view, top, retrieved.language, 1.0)  # the score alone would have answered


def test_the_threshold_is_that_of_the_quotes_language_pair(shipped_assistant):
    """Quotes in the other language score lower, so the same score stands across languages
    (an English question, a German quote) and not within one."""
    snapshot, _, top = best(shipped_assistant, "Wie viele Kunden hat Vodacom?")
    assert snapshot.view.articles[top.article_id].language == "de"
    policy = snapshot.settings.abstention
    between = replace(top, score=(policy.threshold + policy.threshold_cross_language) / 2)
    assert abstains(snapshot.settings.abstention, snapshot.view, between, "de", 1.0) and not abstains(snapshot.settings.abstention, snapshot.view, between, "en", 1.0)
    below_both = replace(top, score=min(policy.threshold, policy.threshold_cross_language) - 0.01)
    assert abstains(snapshot.settings.abstention, snapshot.view, below_both, "en", 1.0)
