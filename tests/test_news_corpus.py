"""benchmarks/news_corpus.py: the Reuters-21578 reader on hand-written SGML, and the order that
puts the Reuters stories after the 10kGNAD + BBC articles (tiny inputs in a temporary folder)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "news_corpus.py"
_spec = importlib.util.spec_from_file_location("news_corpus", SCRIPT)
nc = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = nc  # dataclasses look their module up there
_spec.loader.exec_module(nc)

# Two stories as the collection writes them: the first with a body (entities, an indented
# second paragraph, the " Reuter" signature and the &#3; end mark), the second a BRIEF one-liner
# without a <BODY>.
SGML = """<!DOCTYPE lewis SYSTEM "lewis.dtd">
<REUTERS TOPICS="NO" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="5545" NEWID="2">
<DATE>26-FEB-1987 15:02:20.00</DATE>
<TOPICS><D>acq</D><D>earn</D></TOPICS>
<PLACES><D>usa</D></PLACES>
<UNKNOWN> 
&#5;&#5;&#5;F Y
&#22;&#22;&#1;f0708&#31;reute
d f BC-STANDARD-OIL-&lt;SRD>-TO   02-26 0082</UNKNOWN>
<TEXT>&#2;
<TITLE>STANDARD OIL &lt;SRD> TO FORM FINANCIAL UNIT</TITLE>
<DATELINE>    CLEVELAND, Feb 26 - </DATELINE><BODY>Standard Oil Co and BP North America
Inc said they plan to form a venture.
    BP North America is a subsidiary of British Petroleum Co
Plc &lt;BP>, which owns 55 pct of AT&amp;T&#127;'s rival.

 Reuter
&#3;</BODY></TEXT>
</REUTERS>
<REUTERS TOPICS="NO" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="5546" NEWID="3">
<DATE>26-FEB-1987 15:03:27.51</DATE>
<TOPICS></TOPICS>
<TEXT TYPE="BRIEF">&#2;
******<TITLE>ASSETS OF MONEY MARKET MUTUAL FUNDS ROSE 720.4 MLN DLRS IN LATEST WEEK
</TITLE>Blah blah blah.
&#3;

</TEXT>
</REUTERS>
"""


def story(newid: int, body: str, date: str = "3-MAR-1987 09:15:05.40", title: str = "A TITLE") -> str:
    return (f'<REUTERS TOPICS="YES" NEWID="{newid}">\n<DATE>{date}</DATE>\n<TOPICS></TOPICS>\n'
            f"<TEXT>&#2;\n<TITLE>{title}</TITLE>\n<BODY>{body}\n&#3;</BODY></TEXT>\n</REUTERS>\n")


def test_parse_reuters_keeps_the_story_with_a_body_and_decodes_it():
    stories, skipped = nc.parse_reuters(SGML, "reut2-000.sgm")
    assert skipped == {"no body": 1, "short body": 0}
    [s] = stories
    assert (s.newid, s.file, s.topics) == (2, "reut2-000.sgm", ("acq", "earn"))
    assert s.title == "STANDARD OIL <SRD> TO FORM FINANCIAL UNIT"
    assert s.date == "26 February 1987"
    assert s.dateline == "CLEVELAND, Feb 26 -"
    assert s.paragraphs == (
        "Standard Oil Co and BP North America Inc said they plan to form a venture.",
        "BP North America is a subsidiary of British Petroleum Co Plc <BP>, which owns 55 pct of AT&T's rival.",
    )
    assert s.text() == (
        "STANDARD OIL <SRD> TO FORM FINANCIAL UNIT\n\n26 February 1987\n\n"
        "CLEVELAND, Feb 26 - Standard Oil Co and BP North America Inc said they plan to form a venture.\n\n"
        "BP North America is a subsidiary of British Petroleum Co Plc <BP>, which owns 55 pct of AT&T's rival."
    )
    article = nc.reuters_article(s)
    assert (article.ident, article.language, article.source, article.category, article.raw_id) == (
        "en_reuters_00002", "en", "Reuters-21578", "acq,earn", "reut2-000.sgm:NEWID=2")


def test_the_date_line_is_the_date_the_ingest_reads():
    from assistant.ingest.sources import parse_article

    [s], _ = nc.parse_reuters(SGML, "reut2-000.sgm")
    article = parse_article("en_reuters_00002.txt", nc.article_file_text(nc.reuters_article(s)).encode())
    assert article.date == "1987-02-26"
    assert article.title == "STANDARD OIL <SRD> TO FORM FINANCIAL UNIT"


@pytest.mark.parametrize("ending", [" Reuter", " REUTER", "REUTER...^M", " REUTER TAW", " REUETER",
                                    " REUTER\n Reuter", " More", "\n   \n Reuter4"])
def test_signature_lines_are_cut(ending):
    [s], _ = nc.parse_reuters(story(7, f"Shr 28 cts vs 22 cts\n    Net 2,000,000 vs 1,500,000\n{ending}"), "f.sgm")
    assert s.paragraphs == ("Shr 28 cts vs 22 cts", "Net 2,000,000 vs 1,500,000")


def test_a_last_line_that_says_more_than_the_signature_stays():
    [s], _ = nc.parse_reuters(story(7, "The company was not named, Reuters said.\n Reuter"), "f.sgm")
    assert s.paragraphs == ("The company was not named, Reuters said.",)


def test_short_bodies_are_left_out_and_five_words_are_kept():
    stories, skipped = nc.parse_reuters(
        story(1, "New York\n Reuter") + story(2, "1010") + story(3, "None posted, Total todate 146."), "f.sgm")
    assert [s.newid for s in stories] == [3]
    assert skipped == {"no body": 0, "short body": 2}


def test_dates_with_leading_space_and_bad_dates():
    assert nc.reuters_date("  3-MAR-1987 00:43:42.82", "x") == "3 March 1987"
    assert nc.reuters_date("19-OCT-1987 15:51:10.00 noise", "x") == "19 October 1987"
    for bad in ("31-FEB-1987 10:00:00.00", "3-XYZ-1987", ""):
        with pytest.raises(nc.CorpusError, match="<DATE>"):
            nc.reuters_date(bad, "reut2-000.sgm NEWID 9")


def test_duplicate_bodies_keep_the_lowest_newid_whatever_the_dateline():
    a = nc.ReutersStory(20, "f", "T1", "1 March 1987", "LONDON, March 1 -", ("Same body text here.",), ())
    b = nc.ReutersStory(5, "f", "T2", "2 March 1987", "NEW YORK, March 2 -", ("Same  body text\nhere.",), ())
    c = nc.ReutersStory(9, "f", "T3", "2 March 1987", "", ("Another body.",), ())
    kept, dropped = nc.dedupe_stories([a, b, c])
    assert [s.newid for s in kept] == [5, 9] and dropped == 1


def write_reuters(folder: Path, skip: str | None = None) -> None:
    folder.mkdir(parents=True)
    for number, name in enumerate(nc.REUTERS_FILES):
        if name != skip:
            (folder / name).write_text(story(100 + number, f"Story number {number} has five words or more."))
    (folder / "README.txt").write_text("Reuters-21578 README\n")


def test_read_reuters_finds_the_folder_and_names_a_missing_file(tmp_path):
    write_reuters(tmp_path / "repo" / "reuters21578")
    stories, raw, skipped = nc.read_reuters(nc.Tree(tmp_path / "repo"))
    assert [s.newid for s in stories] == list(range(100, 122))
    assert sorted(raw) == ["reuters21578/README.txt"] + [f"reuters21578/{n}" for n in nc.REUTERS_FILES]
    write_reuters(tmp_path / "partial", skip="reut2-013.sgm")
    with pytest.raises(nc.CorpusError, match=r"found per folder: \.: 21"):
        nc.read_reuters(nc.Tree(tmp_path / "partial"))


def test_changed_reuters_files_stop_the_build(tmp_path):
    gnad, bbc = tiny_gnad_and_bbc(tmp_path)
    write_reuters(tmp_path / "reuters")
    with pytest.raises(nc.CorpusError, match="reuters21578/reut2-000.sgm: sha256"):
        nc.build(gnad, bbc, tmp_path / "reuters", tmp_path / "out", None)


def tiny_gnad_and_bbc(tmp_path: Path) -> tuple[Path, Path]:
    gnad = tmp_path / "gnad"
    gnad.mkdir()
    rows = (f"Inland;'Artikel {i} über die Wahl in Wien und mehr.'\n" for i in range(1, 8))
    (gnad / "test.csv").write_text("".join(rows))
    bbc = tmp_path / "bbc"
    for i in range(1, 4):
        (bbc / "bbc" / "tech").mkdir(parents=True, exist_ok=True)
        (bbc / "bbc" / "tech" / f"{i:03d}.txt").write_text(f"Title {i}\n\nA BBC story number {i} about phones.\n")
    return gnad, bbc


def test_reuters_stories_follow_the_unchanged_gnad_and_bbc_order(tmp_path, monkeypatch):
    """The pinned digests are for the real files; these tiny inputs are checked against none."""
    monkeypatch.setattr(nc, "PINNED", {})
    monkeypatch.setattr(nc, "GNAD_BLOBS", {})
    gnad, bbc = tiny_gnad_and_bbc(tmp_path)
    write_reuters(tmp_path / "reuters")
    summary = nc.build(gnad, bbc, tmp_path / "reuters", tmp_path / "out", None)
    order = nc.read_order(tmp_path / "out")
    gnad_articles, _ = nc.read_gnad(nc.Tree(gnad))
    bbc_articles, _ = nc.read_bbc(nc.Tree(bbc))
    first = [f"{a.ident}.txt" for a in nc.selection_order(gnad_articles + bbc_articles)]
    assert [row["file"] for row in order[:10]] == first
    reuters = [row["file"] for row in order[10:]]
    assert sorted(reuters) == [f"en_reuters_{n:05d}.txt" for n in range(100, 122)]
    assert reuters == sorted(reuters, key=lambda f: nc.hashlib.sha256(f"{nc.SEED}:{f[:-4]}".encode()).hexdigest())
    assert [int(row["rank"]) for row in order] == list(range(1, 33))
    corpus = json.loads((tmp_path / "out" / "corpus.json").read_text())
    assert corpus == summary
    assert [p["ranks"] for p in corpus["order"]["parts"]] == [[1, 10], [11, 32]]
    assert corpus["by_source"] == {"10kGNAD": 7, "BBC News": 3, "Reuters-21578": 22}
    text = (tmp_path / "out" / "articles" / "en_reuters_00100.txt").read_text()
    assert text == "A TITLE\n\n3 March 1987\n\nStory number 0 has five words or more.\n"
    assert "Reuters-21578, Distribution 1.0" in (tmp_path / "out" / "LICENCES.md").read_text()


def test_news_scale_asks_each_question_only_at_sizes_that_hold_its_article(tmp_path):
    """benchmarks/news_scale.py: a question counts at a size only when its article is among the
    first N of the order; a wrong `added_at` and an article past the largest size are reported."""
    from assistant.evaluation.data import load_eval_set

    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import news_scale
    finally:
        sys.path.remove(str(SCRIPT.parent))
    order = [{"rank": str(rank), "file": f"a{rank}.txt"} for rank in range(1, 1201)]
    rows = [("q-early", "a3.txt", 100), ("q-late", "a500.txt", 1000), ("q-wrong", "a150.txt", 100),
            ("q-beyond", "a1200.txt", 5000)]
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps({"id": i, "question": f"Frage {i}?", "answer": ["x"], "source": src,
                                        "added_at": added}) + "\n" for i, src, added in rows))
    questions = load_eval_set(path)
    sizes = [100, 1000, 1100]
    asked = {n: [r.id for r in news_scale.questions_at(questions, {o["file"] for o in order[:n]}).rows]
             for n in sizes}
    assert asked == {100: ["q-early"], 1000: ["q-early", "q-late", "q-wrong"], 1100: ["q-early", "q-late", "q-wrong"]}
    assert news_scale.check_questions(questions, order, sizes) == [
        "q-wrong: added_at 100 but its article is at rank 150 (added at 1000)",
        "q-beyond: its article is at rank 1,200, beyond the largest size 1,100; not asked"]
