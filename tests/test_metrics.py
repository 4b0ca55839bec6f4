"""The evaluation metrics on hand-made cases with known results."""

from __future__ import annotations

import pytest

from assistant.evaluation import metrics


def test_normalise_case_whitespace_punctuation_numbers():
    assert metrics.normalise("  Die  VODACOM-Group, (65 Prozent)! ") == "die vodacom group 65 prozent"
    assert metrics.normalise("$1.5 billion") == metrics.normalise("1,5 Billion") == "1.5 billion"
    assert metrics.normalise("„Straße“ \n\t ok") == "strasse ok"  # casefold: ß -> ss
    assert metrics.normalise("it's") == metrics.normalise("it’s") == "its"
    assert metrics.normalise("") == ""
    assert metrics.normalise("?!…") == ""


def test_contains_answer():
    quote = "Die Vodacom Group gehört mit 65 Prozent mehrheitlich dem Vodafone-Konzern."
    assert metrics.contains_answer(quote, ["65"])
    assert metrics.contains_answer(quote, ["nothing", "65 prozent"])
    assert metrics.contains_answer(quote, ["vodafone konzern"])  # punctuation folded
    assert not metrics.contains_answer(quote, ["6"])  # whole tokens only
    assert not metrics.contains_answer("650 Kunden", ["65"])
    assert metrics.contains_answer("investiert 1,5 Milliarden US-Dollar", ["1.5 milliarden"])
    assert metrics.contains_answer("1.000 Server", ["1,000"])
    assert not metrics.contains_answer(quote, [])
    assert not metrics.contains_answer(quote, ["", "  ", "!"])  # empty answers never match


def test_token_f1():
    assert metrics.token_f1("Satya Nadella", "satya nadella") == 1.0
    assert metrics.token_f1("the CEO Satya Nadella", "Satya Nadella") == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert metrics.token_f1("a b c", "d e") == 0.0
    assert metrics.token_f1("", "x") == 0.0 and metrics.token_f1("x", "") == 0.0
    # bags, not sets: "a a b" vs "a b": common 2, precision 2/3, recall 1
    assert metrics.token_f1("a a b", "a b") == pytest.approx(0.8)
    assert metrics.token_f1("1,5 Milliarden", "1.5 milliarden") == 1.0


def test_best_f1_takes_the_best_pair():
    assert metrics.best_f1(["x y", "a b c d"], ["a b", "z"]) == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert metrics.best_f1([], ["a"]) == 0.0
    assert metrics.best_f1(["a"], []) == 0.0


def test_hit_at_and_mrr():
    ranks = [1, 2, None, 5]
    assert metrics.hit_at(ranks, 1) == 0.25
    assert metrics.hit_at(ranks, 2) == 0.5
    assert metrics.hit_at(ranks, 5) == 0.75
    assert metrics.mrr(ranks) == pytest.approx((1 + 0.5 + 0 + 0.2) / 4)
    assert metrics.hit_at([], 1) is None and metrics.mrr([]) is None
    assert metrics.mrr([None, None]) == 0.0


def test_share_and_mean_skip_none():
    assert metrics.share([True, False, None, True]) == pytest.approx(2 / 3)
    assert metrics.share([None, None]) is None
    assert metrics.share([]) is None
    assert metrics.mean([1.0, None, 0.0]) == 0.5
    assert metrics.mean([None]) is None


def test_percentile_matches_linear_interpolation():
    values = [10.0, 20.0, 30.0, 40.0]
    assert metrics.percentile(values, 50) == 25.0
    assert metrics.percentile(values, 0) == 10.0
    assert metrics.percentile(values, 100) == 40.0
    assert metrics.percentile(values, 95) == pytest.approx(38.5)
    assert metrics.percentile([7.0], 95) == 7.0
    assert metrics.percentile([], 50) is None
    assert metrics.percentile([3.0, 1.0, 2.0], 50) == 2.0  # order does not matter
    with pytest.raises(ValueError):
        metrics.percentile(values, 101)
