"""answer/abstention.py on the shipped articles: when the best quote is taken not to answer."""

from __future__ import annotations

from dataclasses import replace

from assistant.answer.abstention import abstains, coverage, names_what_is_asked
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


def asked_in_german(snapshot, question: str, top) -> bool:
    return names_what_is_asked(snapshot.settings.abstention, snapshot.view, question, "de", top)


def test_a_year_asked_must_be_within_one_of_a_year_the_article_names(shipped_assistant):
    """Text, title or date: the Telekom article names 2018 in its text and 2020 only in its date;
    a year within one of those counts (2019, 2021), one further off does not."""
    snapshot, _, top = best(shipped_assistant, "Wie viele Kunden hat Vodacom?")
    assert asked_in_german(snapshot, "Wie viele Kunden hat Vodacom?", top)  # no year asked
    assert asked_in_german(snapshot, "Wie viele Kunden hatte Vodacom 2024?", top)
    assert not asked_in_german(snapshot, "Wie viele Kunden hatte Vodacom 1995?", top)
    assert not asked_in_german(snapshot, "Wie viele Kunden hatte Vodacom 2024 und 1995?", top)
    snapshot, _, top = best(shipped_assistant, "Was vereinbarten T-Systems und Microsoft auf der Hannover Messe?")
    assert snapshot.view.articles[top.article_id].date.startswith("2020")
    for year, named in (("2018", True), ("2020", True), ("2019", True), ("2021", True), ("2016", False), ("2022", False)):
        assert asked_in_german(snapshot, f"Was vereinbarten T-Systems und Microsoft {year}?", top) is named


def test_a_name_the_article_never_mentions_counts_in_the_question_language_only(shipped_assistant):
    """"India" is nowhere in the English Vodafone article, "Vodafones" is ("Vodafone's", an
    inflection); a German article is not asked for English names (they are spelt differently)."""
    snapshot, retrieved, top = best(shipped_assistant, "Who is the CEO of Vodafone Group?")
    policy, view = snapshot.settings.abstention, snapshot.view
    assert view.articles[top.article_id].language == "en"
    assert names_what_is_asked(policy, view, "Who is the CEO of Vodafone Group?", "en", top)
    assert names_what_is_asked(policy, view, "Who is the CEO of Vodafones Group?", "en", top)
    assert not names_what_is_asked(policy, view, "Who is the CEO of Vodafone India?", "en", top)
    assert names_what_is_asked(replace(policy, min_name_match_in_article=0.0), view, "Who is the CEO of Vodafone India?", "en", top)
    german = next(c for c in first_stage_candidates(snapshot, "Who is the CEO of Vodafone Group?")[1]
                  if view.articles[c.article_id].language == "de")
    assert names_what_is_asked(policy, view, "Who is the CEO of Vodafone India?", "en", german)
    assert not names_what_is_asked(policy, view, "Who was the CEO of Vodafone India in 1995?", "en", german)  # years count everywhere
