"""training/retriever_data.py: the first stage's training pairs and development split, on tiny
hand-made SQuAD-format files; and the guards that stop a retrain on missing or test data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training import qa_data, retriever_data
from training.retriever_data import Pair, batches, holds_answer, required_file, with_hard_negatives


def _pair(question: str, passage: str, article: str, answers=("x",), language="de") -> Pair:
    return Pair(question, language, passage, language, article.title(), article, tuple(answers))


def test_a_missing_training_file_stops_the_retrain():
    with pytest.raises(FileNotFoundError, match="training/data/README.md"):
        required_file("no_such_file.json.gz")


def test_a_file_holding_an_xquad_paragraph_is_refused(tmp_path: Path):
    xquad = tmp_path / "xquad"
    xquad.mkdir()
    paragraph = "Die Normannen waren ein Volk, das im 10. und 11. Jahrhundert der Normandie ihren Namen gab."
    (xquad / "xquad.de.json").write_text(json.dumps(
        {"data": [{"title": "Normannen", "paragraphs": [{"context": paragraph, "qas": []}]}]}))
    with pytest.raises(ValueError, match="XQuAD"):
        qa_data.refuse_test_contexts("germanquad_test_twothirds.json.gz", ["Anderes.", paragraph + "\n"], xquad)
    qa_data.refuse_test_contexts("germanquad_test_twothirds.json.gz", ["Anderes."], xquad)  # passes
    with pytest.raises(ValueError, match="test data"):
        qa_data.refuse_test_contexts("xquad.de.json", ["Anderes."], xquad)


def test_the_guard_fails_when_it_cannot_find_xquad(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="XQuAD not found"):
        qa_data.refuse_test_contexts("any.json.gz", ["Text."], tmp_path / "nowhere")


def test_the_guard_finds_xquad_from_the_repository():
    assert qa_data.XQUAD_DIR == Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "xquad"


def test_new_german_data_is_split_by_article_and_paragraph():
    name = retriever_data.GERMANQUAD_TEST
    sides = {retriever_data.in_dev(name, f"Artikel {k}", f"Absatz {j}", {}) for k in range(40) for j in range(3)}
    assert sides == {True, False}
    for k in range(40):  # every paragraph of an article lands on the article's side
        assert len({retriever_data.in_dev(name, f"Artikel {k}", f"Absatz {j}", {}) for j in range(5)}) == 1


def test_hard_negatives_are_near_misses_that_never_hold_the_answer():
    pairs = [
        _pair("Wann wurde der Hafen eröffnet?", "Der Hafen wurde 1189 eröffnet.", "hafen", ("1189",)),
        _pair("Wie viele Container?", "Der Hafen schlug 8,7 Millionen Container um.", "hafen", ("8,7 Millionen",)),
        _pair("Wer leitet den Hafen?", "Jens Meier leitet den Hafen seit 2008, eröffnet 1189.", "leitung", ("Jens Meier",)),
        _pair("Wo liegt Potsdam?", "Potsdam liegt bei Berlin.", "potsdam", ("bei Berlin",)),
    ]
    for seed in range(5):
        mined = with_hard_negatives(pairs, seed=seed)
        first = next(p for p in mined if p.question.startswith("Wann"))
        # its sibling, or BM25's best of another article: never "Jens Meier ... eröffnet 1189."
        assert first.negative in ("Der Hafen schlug 8,7 Millionen Container um.", "Potsdam liegt bei Berlin.")
        for p in mined:
            assert p.negative != p.passage and not holds_answer(p.negative, p.answers)


def test_batches_hold_one_question_per_article():
    pairs = [_pair(f"Frage {k}?", f"Absatz {k % 7}.", f"artikel-{k % 5}") for k in range(60)]
    for batch in batches(pairs, size=4, seed=1):
        assert len({p.article for p in batch}) == len(batch)
        assert len({p.passage for p in batch}) == len(batch)
