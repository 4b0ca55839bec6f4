"""Training data for the answer model: windows shaped like the product's input with the right
labels, the development split by article, and the guard that refuses test data."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from training.answer_data import article_windows, parse, squeezed  # noqa: E402
from training.qa_data import QA, Article, Paragraph, load_squad_files  # noqa: E402
from training.splits import (  # noqa: E402
    GERMANQUAD_TEST,
    MLQA_FILES,
    MLQA_TEST_DE,
    find_file,
    in_dev,
    is_dev,
    load_mlqa,
    mlqa_split_keys,
    split_file,
    stable_fraction,
)

GERMAN = (
    "Die Vodacom Group ist ein Mobilfunkanbieter aus Südafrika.\u00a0 Vodafone hält  65\u00a0Prozent "
    "an dem Unternehmen. Der Dienst M-Pesa startete 2007 in Kenia.",
    "Die Berliner Datenschutzbeauftragte heißt Maja Smoltczyk. Sie prüft die Verträge.",
)


def tiny_article() -> Article:
    first, second = GERMAN
    share = first.index("65\u00a0Prozent")
    qas_first = (
        QA("q1", "Wie viel Prozent hält Vodafone an Vodacom?", (("65\u00a0Prozent", share),)),
        QA("q2", "Wann startete M-Pesa?", (("2007", first.index("2007")),)),
    )
    qas_second = (QA("q3", "Wie viele Mitarbeiter hat die Behörde?", ()),)  # unanswerable (SQuAD 2.0 style)
    return Article("Vodafone in Afrika", "tiny.json", (Paragraph(first, qas_first), Paragraph(second, qas_second)))


def test_squeezed_maps_every_kept_character_back() -> None:
    text = "a\u00a0 b\n\nc  d"
    flat, where = squeezed(text)
    assert flat == "a b c d"
    assert all(text[i] == c for c, i in zip(flat, where) if c != " ")


def test_gold_window_labels_the_answer_inside_the_cleaned_sentence() -> None:
    windows, skipped = article_windows([tiny_article()], seed=1)
    assert skipped == {}
    title = parse(tiny_article()).title  # as the product titles a file without a headline (its first line)
    assert title.startswith("Die Vodacom Group")
    gold = [w for w in windows if w.kind == "gold"]
    assert {w.qid for w in gold} == {"q1", "q2"}
    for w in gold:
        a, b = w.answer
        answer = w.input.candidate[a:b]
        assert answer.replace("\u00a0", " ") in ("65 Prozent", "2007")
        assert w.input.title == title
    share = next(w for w in gold if w.qid == "q1")
    assert share.input.candidate.startswith("Vodafone hält")
    assert share.input.context.startswith("Die Vodacom Group")  # the sentence before it


def test_negatives_never_hold_a_gold_answer_and_unanswerables_have_no_span() -> None:
    windows, _ = article_windows([tiny_article()], seed=1)
    for w in windows:
        if w.kind in ("same_paragraph", "other_paragraph"):
            assert w.answer is None
            assert "65" not in w.input.candidate or w.qid != "q1"
            assert "2007" not in w.input.candidate or w.qid != "q2"
    impossible = [w for w in windows if w.qid == "q3"]
    assert impossible and all(w.kind == "impossible" and not w.holds for w in impossible)


def test_parse_reads_the_article_as_the_product_does() -> None:
    parsed = parse(tiny_article())
    assert parsed is not None and parsed.text.startswith("Die Vodacom Group")
    for s in parsed.sentences:
        assert parsed.text[s.start:s.end].strip() == parsed.text[s.start:s.end]
    assert {s.paragraph for s in parsed.sentences} == {0, 1}


def test_the_split_is_stable_and_keeps_translations_together() -> None:
    # the same on every machine and Python (a sha256, not hash()): the committed split depends on it
    assert (stable_fraction("de:Berlin"), stable_fraction("en:Berlin")) == (0.8076738317031413, 0.08624644111841917)
    mlqa = load_mlqa()
    keys = mlqa_split_keys(mlqa)
    side: dict[str, bool] = {}
    for name in MLQA_FILES:
        train, dev = split_file(name, mlqa[name], keys)
        assert train["data"] and dev["data"]
        for part, is_dev_side in ((train, False), (dev, True)):
            for article in part["data"]:
                assert is_dev(name, article["title"], keys) == is_dev_side
                for para in article["paragraphs"]:
                    for qa in para["qas"]:
                        # the same question id, in any language pair, is always on the same side
                        assert side.setdefault(qa["id"], is_dev_side) == is_dev_side, qa["id"]


def test_new_german_data_is_split_by_article_and_paragraph() -> None:
    sides = {in_dev(GERMANQUAD_TEST, f"Artikel {k}", f"Absatz {j}", {}) for k in range(40) for j in range(3)}
    assert sides == {True, False}
    for k in range(40):  # every paragraph of a GermanQuAD article lands on the article's side
        assert len({in_dev(GERMANQUAD_TEST, f"Artikel {k}", f"Absatz {j}", {}) for j in range(5)}) == 1


def test_an_untitled_file_is_split_by_paragraph_for_every_user_of_the_split() -> None:
    # MLQA test has no titles: its paragraphs go to both sides, and the answer model's split
    # (split_file) keeps exactly those that the first stage and the development corpora hold out
    paragraphs = [{"context": f"Absatz Nummer {j}.", "qas": []} for j in range(40)]
    train, dev = split_file(MLQA_TEST_DE, {"data": [{"title": "", "paragraphs": paragraphs}]}, {})
    held = [p["context"] for a in dev["data"] for p in a["paragraphs"]]
    kept = [p["context"] for a in train["data"] for p in a["paragraphs"]]
    assert held and kept and sorted(held + kept) == sorted(p["context"] for p in paragraphs)
    assert all(in_dev(MLQA_TEST_DE, "", c, {}) for c in held)
    assert not any(in_dev(MLQA_TEST_DE, "", c, {}) for c in kept)


def test_training_files_are_found_in_the_shared_folder_not_the_repository() -> None:
    for name in MLQA_FILES:
        path = find_file(name)
        assert path is not None and path.parent == REPO.parent / "shared" / "data" / "train", name
    assert not list((REPO / "training" / "data").glob("*.json.gz"))  # fetched data is never committed


@pytest.mark.parametrize("name", ["xquad.de.json", "squad_dev_v1.json", "shipped_questions.json"])
def test_files_named_like_test_data_are_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(json.dumps({"data": []}), encoding="utf-8")
    with pytest.raises(ValueError, match="never train"):
        load_squad_files([path])


def squad_file(path: Path, title: str, context: str) -> Path:
    answer = context.split()[0]
    data = {"data": [{"title": title, "paragraphs": [{"context": context, "qas": [
        {"id": f"{title}-1", "question": "Was?", "answers": [{"text": answer, "answer_start": 0}]}]}]}]}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_training_file_holding_an_xquad_paragraph_is_refused(tmp_path: Path, monkeypatch) -> None:
    """Whatever the file is called: XQuAD's paragraphs are compared, spaces around them ignored."""
    from training import qa_data

    xquad = tmp_path / "xquad"
    xquad.mkdir()
    test_paragraph = "Die Verteidigung der Panthers gab nur 308 Punkte ab."
    squad_file(xquad / "xquad.de.json", "Super_Bowl_50", test_paragraph)
    monkeypatch.setattr(qa_data, "XQUAD_DIR", xquad)  # where the test data lies (a path, not code)
    clean = squad_file(tmp_path / "clean.json", "Berlin", "Berlin ist die Hauptstadt Deutschlands.")
    assert [a.title for a in load_squad_files([clean])] == ["Berlin"]
    leaked = squad_file(tmp_path / "harmless_name.json", "Football", f"  {test_paragraph}\n")
    with pytest.raises(ValueError, match="harmless_name.json: a paragraph of 'Football' is in XQuAD"):
        load_squad_files([clean, leaked])


def test_the_real_xquad_is_refused_where_it_lies(tmp_path: Path) -> None:
    from training import qa_data

    if not qa_data.XQUAD_DIR.is_dir():
        pytest.skip(f"no XQuAD at {qa_data.XQUAD_DIR} on this machine")
    first = json.loads((qa_data.XQUAD_DIR / "xquad.de.json").read_text(encoding="utf-8"))["data"][0]
    leaked = squad_file(tmp_path / "more_german.json", "Sport", first["paragraphs"][0]["context"])
    with pytest.raises(ValueError, match="is in XQuAD"):
        load_squad_files([leaked])


def test_windows_come_in_a_fixed_order_for_a_seed() -> None:
    a, _ = article_windows([tiny_article()], seed=3)
    b, _ = article_windows([tiny_article()], seed=3)
    assert a == b
