"""training/retriever_data.py: the first stage's training pairs and development split, on tiny
hand-made SQuAD-format files; and the guards that stop a retrain on missing or test data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training import qa_data, retriever_data
from training.retriever_data import Pair, holds_answer, required_file


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


def test_an_answer_is_found_in_a_paragraph_whatever_its_case():
    assert holds_answer("Der Hafen schlug 8,7 Millionen Container um.", ["8,7 millionen"])
    assert not holds_answer("Der Hafen schlug viele Container um.", ["8,7 Millionen"])


def test_the_pool_masks_paragraphs_holding_the_answer_not_the_own_one():
    from training.train_retriever import answer_masks

    pairs = [_pair("Wann wurde der Hafen eröffnet?", "Der Hafen wurde 1189 eröffnet.", "hafen", ("1189",))]
    texts = ["Der Hafen wurde 1189 eröffnet.", "Jens Meier leitet den Hafen, eröffnet 1189.", "Potsdam liegt bei Berlin."]
    assert answer_masks(pairs, texts)[0].tolist() == [1]
