"""import-xquad: an XQuAD/SQuAD file -> a corpus folder and a question file in the eval format."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.evaluation.data import load_eval_set
from assistant.evaluation.xquad import XquadError, article_file_name, import_xquad

GERMAN = {"version": "1.0", "data": [
    {"title": "Super_Bowl_50", "paragraphs": [
        {"context": " Der Super Bowl 50 fand am 7. Februar 2016 statt. ", "qas": [
            {"id": "q1", "question": "Wann fand der Super Bowl 50 statt?",
             "answers": [{"answer_start": 21, "text": "7. Februar 2016"}, {"answer_start": 21, "text": "7. Februar 2016"},
                         {"answer_start": 24, "text": "Februar 2016"}]}]},
        {"context": "Die Broncos gewannen das Spiel.", "qas": [
            {"id": "q2", "question": "Wer gewann?", "answers": [{"answer_start": 4, "text": "Broncos"}]}]},
    ]},
    {"title": "Rhein / Rhine (river)", "paragraphs": [
        {"context": "Der Rhein ist 1.230 km lang.", "qas": [
            {"id": "q3", "question": "Wie lang ist der Rhein?", "answers": [{"answer_start": 14, "text": "1.230 km"}]},
            {"id": "q4", "question": "Wie tief ist der Rhein?", "answers": [], "is_impossible": True}]},
    ]},
]}
ENGLISH_QUESTIONS = {"q1": "When was Super Bowl 50 played?", "q2": "Who won?", "q3": "How long is the Rhine?",
                     "q4": "How deep is the Rhine?"}


def english(ids=ENGLISH_QUESTIONS) -> dict:
    return {"data": [{"title": "x", "paragraphs": [{"context": "English text.", "qas": [
        {"id": i, "question": q, "answers": [{"answer_start": 0, "text": "English answer"}]} for i, q in ids.items()]}]}]}


def write_json(path: Path, value) -> Path:
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return path


def test_article_file_names():
    assert article_file_name(0, "Super_Bowl_50") == "000_Super_Bowl_50.txt"
    assert article_file_name(12, "Rhein / Rhine (river)") == "012_Rhein_Rhine_river.txt"
    assert article_file_name(3, "") == "003_article.txt"


def test_import_writes_one_article_per_title_and_eval_rows(tmp_path):
    out = tmp_path / "out"
    assert import_xquad(write_json(tmp_path / "de.json", GERMAN), out) == (2, 4)
    files = sorted(p.name for p in (out / "sources").iterdir())
    assert files == ["000_Super_Bowl_50.txt", "001_Rhein_Rhine_river.txt"]
    text = (out / "sources" / "000_Super_Bowl_50.txt").read_text(encoding="utf-8")
    assert text == "Der Super Bowl 50 fand am 7. Februar 2016 statt.\n\nDie Broncos gewannen das Spiel.\n"
    rows = [json.loads(line) for line in (out / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows[0] == {"id": "q1", "question": "Wann fand der Super Bowl 50 statt?",
                       "answer": ["7. Februar 2016", "Februar 2016"], "source": "000_Super_Bowl_50.txt"}
    assert rows[3]["answer"] == []  # SQuAD 2.0 impossible question: the assistant should abstain
    # every answer is a span of its article, and the file reads cleanly as an eval question file
    for row in rows:
        article = (out / "sources" / row["source"]).read_text(encoding="utf-8")
        assert all(a in article for a in row["answer"])
    s = load_eval_set(out / "questions.jsonl")
    assert s.bad == [] and [r.id for r in s.rows] == ["q1", "q2", "q3", "q4"]


def test_parallel_questions_keep_the_corpus_answers(tmp_path):
    out = tmp_path / "en"
    import_xquad(write_json(tmp_path / "de.json", GERMAN), out, write_json(tmp_path / "en.json", english()))
    rows = [json.loads(line) for line in (out / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["question"] for r in rows] == list(ENGLISH_QUESTIONS.values())
    assert rows[2]["answer"] == ["1.230 km"] and rows[2]["source"] == "001_Rhein_Rhine_river.txt"


def test_missing_parallel_question_fails_before_writing(tmp_path):
    partial = english({k: v for k, v in ENGLISH_QUESTIONS.items() if k != "q3"})
    out = tmp_path / "en"
    with pytest.raises(XquadError, match="missing .* q3"):
        import_xquad(write_json(tmp_path / "de.json", GERMAN), out, write_json(tmp_path / "en.json", partial))
    assert not out.exists()


@pytest.mark.parametrize("content", ["not json", "[]", '{"data": [{"title": "t"}]}',
                                     '{"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "1"}]}]}]}'])
def test_unreadable_files_fail_clearly(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(XquadError, match="XQuAD/SQuAD file"):
        import_xquad(path, tmp_path / "out")


def test_refuses_to_mix_with_another_corpus(tmp_path):
    out = tmp_path / "out"
    (out / "sources").mkdir(parents=True)
    (out / "sources" / "other.txt").write_text("another corpus", encoding="utf-8")
    with pytest.raises(XquadError, match="other files"):
        import_xquad(write_json(tmp_path / "de.json", GERMAN), out)
    # importing the same file again into its own folder is fine
    fresh = tmp_path / "fresh"
    import_xquad(tmp_path / "de.json", fresh)
    assert import_xquad(tmp_path / "de.json", fresh) == (2, 4)


def test_cli_import_xquad(tmp_path):
    de, en = write_json(tmp_path / "de.json", GERMAN), write_json(tmp_path / "en.json", english())
    out = tmp_path / "cli"
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "import-xquad", str(de), "--questions", str(en),
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "wrote 2 articles" in done.stdout and "4 questions" in done.stdout
    assert (out / "questions.jsonl").exists()
    bad = subprocess.run([sys.executable, "-m", "assistant.cli", "import-xquad", str(tmp_path / "nope.json"),
                          "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and "Traceback" not in bad.stderr
