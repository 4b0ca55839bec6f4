"""The evaluation metrics on hand-made cases with known results."""

from __future__ import annotations

import math

import pytest

from assistant.evaluation import metrics


def test_normalise_case_whitespace_punctuation_numbers():
    assert metrics.normalise("  Die  VODACOM-Group, (65 Prozent)! ") == "vodacom group 65 prozent"  # no article
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
    assert not metrics.contains_answer(quote, ["", "  ", "!", "die"])  # empty answers never match
    assert metrics.contains_answer("an den Vodafone-Konzern", ["dem Vodafone-Konzern"])  # articles aside


def test_token_f1():
    assert metrics.token_f1("Satya Nadella", "satya nadella") == 1.0
    # "the" is dropped, as SQuAD's and MLQA's evaluations drop articles: precision 2/3, recall 1
    assert metrics.token_f1("the CEO Satya Nadella", "Satya Nadella") == pytest.approx(0.8)
    assert metrics.token_f1("our CEO Satya Nadella", "Satya Nadella") == pytest.approx(2 * 0.5 * 1 / 1.5)  # "our" counts
    assert metrics.token_f1("the Dalai Lama", "Dalai Lama") == 1.0 == metrics.token_f1("die Quantenphysik", "Quantenphysik")
    assert metrics.token_f1("x y z", "u v") == 0.0
    assert metrics.token_f1("", "x") == 0.0 and metrics.token_f1("x", "") == 0.0
    # bags, not sets: "x x y" vs "x y": common 2, precision 2/3, recall 1
    assert metrics.token_f1("x x y", "x y") == pytest.approx(0.8)
    assert metrics.token_f1("1,5 Milliarden", "1.5 milliarden") == 1.0


def test_best_f1_takes_the_best_pair():
    assert metrics.best_f1(["x y", "p q r s"], ["p q", "z"]) == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert metrics.best_f1([], ["p"]) == 0.0
    assert metrics.best_f1(["p"], []) == 0.0


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


def test_passage_retrieval_metrics_on_hand_made_rankings():
    qrels = {"q1": {"a": 1, "b": 1}, "q2": {"c": 1}, "q3": {"d": 0}}  # q3: nothing relevant, not scored
    results = {"q1": {"x": 0.9, "a": 0.8, "y": 0.7, "b": 0.1}, "q2": {"z": 1.0}, "q3": {"d": 1.0}}
    scores = metrics.passage_retrieval(qrels, results)
    # q1: relevant at ranks 2 and 4; q2: none retrieved
    assert scores["recall@1"] == 0.0
    assert scores["recall@5"] == pytest.approx((1.0 + 0.0) / 2)
    assert scores["recall@10"] == pytest.approx(0.5)
    assert scores["mrr@10"] == pytest.approx((1 / 2 + 0) / 2)
    ndcg_q1 = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert scores["ndcg@10"] == pytest.approx(ndcg_q1 / 2)


def test_passage_retrieval_cuts_off_at_k_keeps_ties_in_order_and_grades_relevance():
    ranked = {f"p{i}": 1.0 for i in range(1, 13)}  # all tied: the order given is the ranking
    assert metrics.passage_retrieval({"q": {"p11": 1}}, {"q": ranked}) == {
        "recall@1": 0.0, "recall@5": 0.0, "recall@10": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0}
    first = metrics.passage_retrieval({"q": {"p1": 1}}, {"q": ranked})
    assert first == {"recall@1": 1.0, "recall@5": 1.0, "recall@10": 1.0, "mrr@10": 1.0, "ndcg@10": 1.0}
    # the more relevant passage second: below the ideal order
    graded = metrics.passage_retrieval({"q": {"p1": 1, "p2": 2}}, {"q": ranked}, ks=(1,), cutoff=2)
    assert graded["ndcg@2"] == pytest.approx((1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))
    assert graded["recall@1"] == 0.5 and graded["mrr@2"] == 1.0
    assert metrics.passage_retrieval({}, {}) == dict.fromkeys(["recall@1", "recall@5", "recall@10", "mrr@10",
                                                               "ndcg@10"])
    assert metrics.passage_retrieval({"q": {"a": 1}}, {})["recall@10"] == 0.0  # asked, nothing returned
