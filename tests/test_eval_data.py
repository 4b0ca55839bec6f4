"""Reading evaluation question files: JSONL and CSV, bad rows by line number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.evaluation.data import BadRow, EvalDataError, load_eval_set
from conftest import SHIPPED_FILES


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_jsonl_all_field_shapes(tmp_path):
    rows = [
        {"id": "a", "question": "  Wer ist  CEO? ", "answer": "Satya Nadella", "source": "x.txt"},
        {"question": "Share?", "answer": ["65", "65 Prozent", "65"], "source": ["x.txt", "y.txt"]},
        {"question": "Unanswerable?", "answer": []},
        {"question": "Also unanswerable?", "answer": ""},
        {"question": "Null answer?", "answer": None, "id": 7},
        {"question": "Number answer?", "answer": 2007},
    ]
    path = write(tmp_path / "q.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    s = load_eval_set(path)
    assert s.format == "jsonl" and s.bad == [] and len(s.rows) == 6
    a, b, c, d, e, f = s.rows
    assert (a.id, a.question, a.answers, a.sources, a.line) == ("a", "Wer ist CEO?", ("Satya Nadella",), ("x.txt",), 1)
    assert b.answers == ("65", "65 Prozent") and b.sources == ("x.txt", "y.txt") and b.id == "line-2"
    assert b.answerable and not c.answerable and not d.answerable and not e.answerable
    assert e.id == "7"
    assert f.answers == ("2007",)


def test_jsonl_bad_rows_are_reported_with_line_numbers(tmp_path):
    text = "\n".join([
        json.dumps({"question": "Good?", "answer": "yes"}),          # 1
        "{not json",                                                   # 2
        json.dumps({"answer": "no question"}),                         # 3
        "",                                                            # 4 (blank: skipped)
        json.dumps({"question": "Extra?", "answer": "x", "notes": 1}),  # 5 (an extra column: kept)
        json.dumps({"question": "   ", "answer": "x"}),                # 6
        json.dumps(["a", "list"]),                                     # 7
        json.dumps({"question": "No answer key?"}),                    # 8
        json.dumps({"question": "Bad answer?", "answer": {"a": 1}}),   # 9
        json.dumps({"question": "Bad source?", "answer": "x", "source": [1, None]}),  # 10
        json.dumps({"question": 5, "answer": "x"}),                    # 11
        json.dumps({"question": "Also good", "answer": ["a"]}),        # 12
    ])
    s = load_eval_set(write(tmp_path / "q.jsonl", text))
    assert [r.line for r in s.rows] == [1, 5, 12]
    assert [b.line for b in s.bad] == [2, 3, 6, 7, 8, 9, 10, 11]
    reasons = {b.line: b.reason for b in s.bad}
    assert "unreadable JSON" in reasons[2]
    assert reasons[3] == "no question" and reasons[6] == "no question"
    assert "JSON object" in reasons[7]
    assert "answer" in reasons[8]
    assert "'answer'" in reasons[9] and "'source'" in reasons[10] and "'question'" in reasons[11]
    assert str(BadRow(2, "x")) == "line 2: x"


def test_file_with_only_bad_rows_fails_clearly(tmp_path):
    path = write(tmp_path / "q.jsonl", '{"answer": "x"}\nnot json\n')
    with pytest.raises(EvalDataError) as err:
        load_eval_set(path)
    message = str(err.value)
    assert "no usable question" in message and "2 bad row(s)" in message
    assert "line 1: no question" in message and "line 2: unreadable JSON" in message


def test_empty_missing_and_binary_files_fail_clearly(tmp_path):
    with pytest.raises(EvalDataError, match="no questions"):
        load_eval_set(write(tmp_path / "empty.jsonl", "\n\n"))
    with pytest.raises(EvalDataError, match="no such question file"):
        load_eval_set(tmp_path / "missing.jsonl")
    with pytest.raises(EvalDataError, match="not UTF-8"):
        load_eval_set(write(tmp_path / "bin.jsonl", b"\xff\xfe\x00bad"))
    with pytest.raises(EvalDataError, match="folder"):
        load_eval_set(tmp_path)


def test_csv_with_list_cells_quotes_and_multiline(tmp_path):
    text = (
        "id,question,answer,source\n"
        'a,"Wer ist CEO, und seit wann?",Satya Nadella,x.txt\n'
        'b,"Share?","[""65"", ""65 Prozent""]","[""x.txt"", ""y.txt""]"\n'
        "c,Unanswerable?,,\n"
        'd,"A question\nover two lines?","1,5",\n'
        "e,Last?,2007,x.txt\n"
    )
    s = load_eval_set(write(tmp_path / "q.csv", "\ufeff" + text))  # with a BOM, as spreadsheets write
    assert s.format == "csv" and s.bad == []
    a, b, c, d, e = s.rows
    assert a.question == "Wer ist CEO, und seit wann?" and a.answers == ("Satya Nadella",) and a.line == 2
    assert b.answers == ("65", "65 Prozent") and b.sources == ("x.txt", "y.txt") and b.line == 3
    assert not c.answerable and c.sources == () and c.line == 4
    assert d.question == "A question over two lines?" and d.answers == ("1,5",) and d.line == 5
    assert e.line == 7  # line numbers count the physical lines of the multi-line row


def test_csv_bad_rows_and_bad_header(tmp_path):
    text = ("question,answer\n"
            "Good?,yes\n"
            ",no question\n"
            "Too many?,x,y\n"
            'Bad list?,"[""unclosed"\n')
    s = load_eval_set(write(tmp_path / "q.csv", text))
    assert [r.line for r in s.rows] == [2]
    reasons = {b.line: b.reason for b in s.bad}
    assert reasons[3] == "no question" and "3 cells" in reasons[4] and "JSON list" in reasons[5]

    with pytest.raises(EvalDataError, match=r"line 1: header: repeated column\(s\) 'answer'"):
        load_eval_set(write(tmp_path / "h.csv", "question,answer,Answer\nQ?,a,n\n"))
    with pytest.raises(EvalDataError, match="no 'question' column"):
        load_eval_set(write(tmp_path / "h2.csv", "id,answer\n1,a\n"))


def test_extra_jsonl_columns_are_kept_and_noted_once(tmp_path):
    rows = [
        {"id": "a", "question": "Wer ist CEO?", "answer": "Satya Nadella", "lang": "de", "type": "name"},
        {"id": "b", "question": "How many customers?", "answer": ["24 million"], "lang": "en", "notes": {"by": "me"}},
        {"id": "c", "question": "Capital of Peru?", "answer": [], "category": None},
    ]
    s = load_eval_set(write(tmp_path / "q.jsonl", "\n".join(json.dumps(r) for r in rows)))
    assert s.bad == [] and [r.id for r in s.rows] == ["a", "b", "c"]
    assert s.rows[0].extra == {"lang": "de", "type": "name"}
    assert s.rows[1].extra == {"lang": "en", "notes": {"by": "me"}}  # kept as written
    assert s.rows[2].extra == {"category": None}
    assert s.columns == ["lang", "type", "notes", "category"]
    assert len(s.notes) == 1 and "'lang', 'type', 'notes', 'category'" in s.notes[0] and "--by lang" in s.notes[0]


def test_extra_csv_columns_are_kept_with_their_names(tmp_path):
    text = ("ID,Question,Answer,lang,Category,\n"
            'a,Wer ist CEO?,Satya Nadella,de,people,\n'
            'b,How many customers?,"[""24 million""]",en,,\n')
    s = load_eval_set(write(tmp_path / "q.csv", text))
    assert s.bad == [] and [r.id for r in s.rows] == ["a", "b"]  # known columns in any case
    assert s.rows[0].extra == {"lang": "de", "Category": "people"}  # the unnamed last column is ignored
    assert s.rows[1].extra == {"lang": "en", "Category": None}  # an empty cell: no value
    assert s.rows[1].answers == ("24 million",)
    assert s.columns == ["lang", "Category"] and len(s.notes) == 1


def test_no_extra_columns_no_note(tmp_path):
    s = load_eval_set(write(tmp_path / "q.jsonl", '{"question": "Who runs Vodacom?", "answer": "a"}\n'))
    assert s.columns == [] and s.notes == [] and s.rows[0].extra == {}


def test_format_is_sniffed_for_other_suffixes(tmp_path):
    assert load_eval_set(write(tmp_path / "q.txt", '{"question": "Who runs Vodacom?", "answer": "a"}\n')).format == "jsonl"
    assert load_eval_set(write(tmp_path / "q.data", "question,answer\nWho runs Vodacom?,a\n")).format == "csv"


def test_repeated_ids_are_kept_with_a_warning(tmp_path):
    text = '{"id": "x", "question": "Who is CEO?", "answer": "a"}\n{"id": "x", "question": "Who owns Vodacom?", "answer": "b"}\n'
    s = load_eval_set(write(tmp_path / "q.jsonl", text))
    assert len(s.rows) == 2 and s.warnings == ["line 2: id 'x' repeats line 1"]


def test_shipped_question_set_is_clean():
    s = load_eval_set(Path(__file__).resolve().parent.parent / "eval" / "shipped_questions.jsonl")
    assert s.bad == [] and s.warnings == []
    assert all(r.extra.get("lang") in ("de", "en") and r.extra.get("type") for r in s.rows)
    assert len(s.rows) >= 20
    assert sum(not r.answerable for r in s.rows) >= 5
    assert {src for r in s.rows for src in r.sources} <= set(SHIPPED_FILES)


def test_a_lone_surrogate_long_lines_and_refused_questions_are_bad_rows(tmp_path):
    """Skipped and reported like any bad row, never the end of a run: a lone surrogate (not
    text: writing the results would fail), a line over MAX_ROW_CHARS (skipped unread) and a
    question that the assistant refuses (answer/question.py: too long, no words)."""
    from assistant.evaluation.data import MAX_ROW_CHARS

    lines = [
        '{"question": "Wer ist Chef von T-Systems?", "answer": "Al-Saleh"}',              # 1 good
        '{"question": "Wer ist \\ud800 Chef?", "answer": "x"}',                           # 2 surrogate
        '{"question": "Wer ist Chef?", "answer": "x", "notes": "\\udfff"}',               # 3 surrogate
        json.dumps({"question": "Wie viele Kunden? " + "x" * MAX_ROW_CHARS, "answer": "x"}),  # 4 too long a line
        json.dumps({"question": "Wie viele Kunden hat Vodacom? " * 80, "answer": "x"}),   # 5 question too long
        json.dumps({"question": '" OR 1=1 --', "answer": "x"}),                            # 6 no words
    ]
    s = load_eval_set(write(tmp_path / "q.jsonl", "\n".join(lines) + "\n"))
    assert [r.line for r in s.rows] == [1]
    reasons = {b.line: b.reason for b in s.bad}
    assert set(reasons) == {2, 3, 4, 5, 6}
    assert "lone surrogate" in reasons[2] and "lone surrogate" in reasons[3]
    assert "more than the 100,000 a row may have" in reasons[4]
    assert "too long: 2,399 characters, at most 2,000" in reasons[5]
    assert "no words to search for" in reasons[6]


def test_csv_unterminated_quote_does_not_swallow_the_next_rows(tmp_path):
    text = ('question,answer\n'
            '"Wie viele Kunden hat Vodacom?,132 Millionen\n'      # 2: the quote is never closed
            'Wer ist Chef von T-Systems?,Al-Saleh\n'               # 3
            '"Wie viel "Prozent" hält Vodafone?",65\n'            # 4: a quote closed in the wrong place
            'Wann startete M-Pesa?,2007\n')                        # 5
    s = load_eval_set(write(tmp_path / "q.csv", text))
    assert [(r.line, r.question) for r in s.rows] == [(3, "Wer ist Chef von T-Systems?"), (5, "Wann startete M-Pesa?")]
    assert [b.line for b in s.bad] == [2, 4]
    assert all("quotation mark" in b.reason for b in s.bad)


def test_csv_cell_running_over_lines_is_named_in_a_warning(tmp_path):
    text = 'question,answer\n"Wie viele Kunden\nhat Vodacom?",132\nWer ist Chef von T-Systems?,Al-Saleh\n'
    s = load_eval_set(write(tmp_path / "q.csv", text))
    assert [r.line for r in s.rows] == [2, 4]
    assert any("line 2: a quoted cell runs on to line 3" in w for w in s.warnings)
