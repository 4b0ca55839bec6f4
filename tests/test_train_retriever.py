"""training/train_retriever.py's both-sides batches and hard negatives, on tiny hand-made pairs:
no batch holds a paragraph twice (its copy would be a false negative) or more than PER_ARTICLE
questions of one article, every pair is trained once a pass, and a sibling negative never holds
the question's answer."""

from __future__ import annotations

from collections import Counter

from training.retriever_data import Pair
from training.train_retriever import PER_ARTICLE, both_sides_batches, sibling_negatives


def _pairs() -> list[Pair]:
    out = []
    for article in range(6):
        for paragraph in range(3):
            passage = f"Artikel {article}, Absatz {paragraph}: Es sprach Person{article}x{paragraph}."
            for question in range(2 + article):  # articles with many questions, as SQuAD's
                out.append(Pair(f"Frage {question} zu {article}/{paragraph}?", "de", passage, "de", f"A{article}",
                                f"a{article}", (f"Person{article}x{paragraph}",)))
    return out


def test_batches_hold_each_paragraph_once_and_few_questions_of_an_article():
    pairs = _pairs()
    plan = both_sides_batches(pairs, batch=8, seed=13, passes=2)
    for batch in plan:
        assert len({pairs[i].passage for i in batch}) == len(batch)
        assert max(Counter(pairs[i].article for i in batch).values()) <= PER_ARTICLE
        assert 1 <= len(batch) <= 8
    trained = Counter(i for batch in plan for i in batch)
    assert set(trained) == set(range(len(pairs))) and set(trained.values()) == {2}


def test_a_sibling_negative_is_another_paragraph_of_the_article_without_the_answer():
    pairs = _pairs()
    negatives = sibling_negatives(pairs, seed=13)
    for pair, negative in zip(pairs, negatives):
        assert negative is not None and negative != pair.passage
        assert negative.startswith(f"Artikel {pair.article[1:]},")
        assert not any(answer in negative for answer in pair.answers)
    # an article of one paragraph has no sibling to offer
    alone = [Pair("Wer?", "de", "Nur ein Absatz: Anna.", "de", "B", "b", ("Anna",))]
    assert sibling_negatives(alone, seed=13) == [None]
