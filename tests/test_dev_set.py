"""benchmarks/dev_set.py: the near-miss development corpus, on a tiny German set in a temporary
folder: the left-out article is indexed without its answer sentences, its questions expect a
refusal, and a question whose answer is still named in what is left is no near miss."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
_spec = importlib.util.spec_from_file_location("dev_set", REPO / "benchmarks" / "dev_set.py")
dev_set = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dev_set)

FILE = "mlqa_dev_trainhalf-context-de-question-de.json.gz"


def article(title: str, context: str, qas: list[tuple[str, str, str]]) -> tuple[str, str, dict]:
    return ("de", FILE, {"title": title, "paragraphs": [{"context": context, "qas": [
        {"id": qid, "question": q, "answers": [{"text": a, "answer_start": context.find(a)}]} for qid, q, a in qas]}]})


ENTRIES = [
    article(f"Hafen {n}", f"Der Hafen {n} liegt an der Elbe. Im Jahr 2023 schlug er {n},7 Millionen Container um. "
            f"Betreiber ist die Hafengesellschaft Nummer {n}.",
            [(f"q{n}a", f"Wie viele Container schlug der Hafen {n} 2023 um?", f"{n},7 Millionen"),
             (f"q{n}b", f"Wer betreibt den Hafen {n}?", f"Hafengesellschaft Nummer {n}")])
    for n in range(1, 5)
] + [article("Werft", "Die Werft baut Fähren. Die Werft gehört der Familie Kramer; die Kramers führen sie seit 1950.",
             [("w1", "Wem gehört die Werft?", "Familie Kramer")])]


def test_near_misses_are_left_out_articles_without_their_answers(tmp_path: Path):
    dev_set.write_corpus("de", ENTRIES, tmp_path / "de")
    counts = dev_set.write_near_misses("de", tmp_path / "de", ENTRIES, tmp_path / "de-near")
    rows = [json.loads(line) for line in (tmp_path / "de" / "questions.jsonl").read_text().splitlines()]
    left_out = {r["left_out"] for r in rows if r.get("left_out")}
    near = [json.loads(line) for line in (tmp_path / "de-near" / "questions.jsonl").read_text().splitlines()]
    assert near and counts == {"de-de near miss": len(near)}
    for row in near:
        assert row["answer"] == [] and row["near_miss"] in left_out and "left_out" not in row
        text = (tmp_path / "de-near" / "sources" / row["near_miss"]).read_text()
        assert "Elbe" in text  # the topic stays
        assert "Millionen Container" not in text and "Hafengesellschaft" not in text  # the answers go
    # only left-out articles are written, and nothing indexed in the main corpus
    written = {p.name for p in (tmp_path / "de-near" / "sources").iterdir()}
    assert written <= left_out


def test_a_question_whose_answer_is_still_named_is_no_near_miss(tmp_path: Path):
    entries = [article("Anker", "Der Anker hält das Schiff.", [("a1", "Was hält das Schiff?", "Der Anker")]),
               article("Werft", "Die Werft baut Containerschiffe. Sie gehört der Familie Kramer. "
                       "Die Kramers führen sie seit 1950.",
                       [("w1", "Wem gehört die Werft?", "Familie Kramer"),
                        ("w2", "Was baut die Werft?", "Containerschiffe")])]
    dev_set.write_corpus("de", entries, tmp_path / "de")  # "Anker" is indexed, "Werft" left out
    dev_set.write_near_misses("de", tmp_path / "de", entries, tmp_path / "de-near")
    near = [json.loads(line) for line in (tmp_path / "de-near" / "questions.jsonl").read_text().splitlines()]
    text = (tmp_path / "de-near" / "sources" / dev_set.file_name(1, "Werft")).read_text()
    assert text.strip() == "Die Kramers führen sie seit 1950."
    # "Kramers" still answers who owns it: only the question about what it builds is a near miss
    assert [r["question"] for r in near] == ["Was baut die Werft?"]


def test_an_inflected_answer_word_left_in_the_text_counts_as_named():
    assert dev_set._mentions_answer("Die Fossilien, die Anning fand, widerlegten es.", ["Annings"])
    assert not dev_set._mentions_answer("Die Fossilien widerlegten es.", ["Annings"])
