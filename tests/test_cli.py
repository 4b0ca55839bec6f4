"""End to end through the command line, in subprocesses (each model load costs seconds: few)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, TINY_ARTICLES, make_corpus

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONIOENCODING": "utf-8"}


def run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant.cli", *map(str, args)], cwd=REPO, env=ENV,
                          capture_output=True, text=True, encoding="utf-8", timeout=timeout)


def corpus_args(sources: Path, index: Path) -> list[str]:
    return ["--sources", str(sources), "--index", str(index)]


def assert_clean_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    """Non-zero exit, exactly one line on stderr starting with 'error:', no traceback."""
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def check_json_answer(result: subprocess.CompletedProcess, args: list[str]) -> dict:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    answer = json.loads(result.stdout)
    assert {"question", "answer", "abstained", "quotes"} <= set(answer)
    assert isinstance(answer["abstained"], bool) and isinstance(answer["answer"], str)
    texts = {}
    for quote in answer["quotes"]:
        assert {"text", "source", "start", "end", "score"} <= set(quote)
        if quote["source"] not in texts:
            shown = run("show", quote["source"], *args)
            assert shown.returncode == 0, shown.stderr
            texts[quote["source"]] = shown.stdout
        assert texts[quote["source"]][quote["start"]:quote["end"]] == quote["text"]
    return answer


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """A tiny corpus indexed through the command line, twice: (sources, index, first, second)."""
    root = tmp_path_factory.mktemp("cli")
    sources = make_corpus(root / "sources", {**TINY_ARTICLES, "leer.txt": b""})
    args = corpus_args(sources, root / "index")
    return sources, root / "index", run("index", "--quiet", *args), run("index", *args)


@pytest.fixture()
def corpus(indexed):
    return indexed[:2]


def test_index_ask_sources_show(indexed):
    sources, index, first, second = indexed
    args = corpus_args(sources, index)

    assert first.returncode == 0, first.stderr
    assert "2 added" in first.stdout and "Traceback" not in first.stderr
    assert first.stderr.count("leer.txt") == 1, first.stderr  # named once, and the rest is indexed
    assert "skipped leer.txt: file is empty" in first.stderr
    assert second.returncode == 0, second.stderr
    assert "nothing to embed" in second.stdout

    result = run("ask", "--json", "Wie warm wird es in Potsdam?", *args)
    answer = check_json_answer(result, args)
    assert answer["question"] == "Wie warm wird es in Potsdam?"
    assert not answer["abstained"]
    assert answer["quotes"] and any("1,5 Grad" in q["text"] for q in answer["quotes"]), answer
    assert all(q["source"] == "wetter.txt" or q["source"] == "harbour.md" for q in answer["quotes"])

    listed = run("sources", "--json", *args)
    assert listed.returncode == 0, listed.stderr
    rows = {row["file"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {"harbour.md", "wetter.txt"}
    assert rows["wetter.txt"]["date"] == "2023-05-04" and rows["wetter.txt"]["language"] == "de"
    assert rows["harbour.md"]["title"] == "Port of Hamburg handles record cargo"
    assert rows["harbour.md"]["language"] == "en" and len(rows["harbour.md"]["content_hash"]) == 64
    plain = run("sources", *args)
    assert plain.returncode == 0 and "wetter.txt\t2023-05-04\tde\t" in plain.stdout

    shown = run("show", "harbour.md", *args)
    assert shown.returncode == 0
    assert shown.stdout.startswith("Port of Hamburg handles record cargo\n\nThe Port of Hamburg handled 8.7 million")
    assert "#" not in shown.stdout

    assert_clean_error(run("show", "nope.txt", *args), "nope.txt")
    assert_clean_error(run("show", "leer.txt", *args), "leer.txt was skipped when indexing: file is empty")
    # A path into the sources folder names the article too; the output ends with a newline.
    for given in (sources / "harbour.md", Path(os.path.relpath(sources / "harbour.md", REPO))):
        by_path = run("show", str(given), *args)
        assert by_path.returncode == 0 and by_path.stdout == shown.stdout, by_path.stderr
    assert shown.stdout.endswith("\n")
    assert_clean_error(run("show", str(REPO / "README.md"), *args), "not inside the sources folder")


def test_a_closed_pipe_ends_quietly(corpus):
    """`assistant sources --json | head -c 10`: the reader goes away; no error, status 0."""
    sources, index = corpus
    driver = ("import os, sys\nr, w = os.pipe()\nos.close(r)\nos.dup2(w, 1)\n"
              "from assistant.cli import main\nsys.exit(main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", driver, "sources", "--json", *corpus_args(sources, index)],
                          cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stderr == "", done.stderr


BYLINE_ARTICLE = ("Hafen meldet Rekord\n\nVon Max Mustermann und Erika Musterfrau\n\n"
                  "Der Hamburger Hafen hat im vergangenen Jahr 8,7 Millionen Container umgeschlagen.\n\n"
                  "Quelle: https://www.example.de/hafen-rekord.html")
PAGE = ("<html><head><title>Port record</title><meta name='author' content='Jane Doe'>"
        "<link rel='canonical' href='https://example.com/port-record'></head><body><article><h1>Port record</h1>"
        "<p>The Port of Hamburg handled 8.7 million containers in 2022, its operator said on Monday.</p>"
        "<p>A new rail link to the port is planned to open in 2026.</p></article></body></html>")


def test_sources_shows_authors_url_and_the_byline_span(tmp_path):
    sources = make_corpus(tmp_path / "sources", {"hafen.txt": BYLINE_ARTICLE, "port.html": PAGE})
    args = corpus_args(sources, tmp_path / "index")
    listed = run("sources", "--json", *args)
    assert listed.returncode == 0, listed.stderr
    rows = {row["file"]: row for row in json.loads(listed.stdout)}
    hafen, port = rows["hafen.txt"], rows["port.html"]
    assert hafen["authors"] == ["Max Mustermann", "Erika Musterfrau"]
    assert hafen["url"] == "https://www.example.de/hafen-rekord.html"
    shown = run("show", "hafen.txt", *args).stdout
    assert shown[hafen["byline"][0]:hafen["byline"][1]] == "Von Max Mustermann und Erika Musterfrau"
    assert port["authors"] == ["Jane Doe"] and port["url"] == "https://example.com/port-record"
    assert port["byline"] is None  # from the page's metadata, not a span of the text
    plain = run("sources", *args).stdout.splitlines()
    assert ("hafen.txt\t-\tde\tHafen meldet Rekord\tMax Mustermann, Erika Musterfrau\t"
            "https://www.example.de/hafen-rekord.html") in plain
    assert any(line.startswith("port.html\t") and line.endswith("\tJane Doe\thttps://example.com/port-record")
               for line in plain)


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question(corpus, question):
    assert_clean_error(run("ask", question, *corpus_args(*corpus)), "empty")


def test_missing_and_empty_sources_folder(tmp_path):
    missing = tmp_path / "missing"
    assert_clean_error(run("ask", "Wie warm wird es?", *corpus_args(missing, tmp_path / "index")), str(missing))
    assert_clean_error(run("index", *corpus_args(missing, tmp_path / "index")), str(missing))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_clean_error(run("ask", "Wie warm wird es?", *corpus_args(empty, tmp_path / "index")), "no articles")
    assert_clean_error(run("index", *corpus_args(empty, tmp_path / "index")), "no articles")


def test_corrupt_index_then_rebuild_then_a_very_long_question(corpus, tmp_path):
    sources, index = corpus
    broken = tmp_path / "index"
    shutil.copytree(index, broken)
    generation = broken / (broken / "CURRENT").read_text().strip()
    (generation / "manifest.json").write_text("{garbage", encoding="utf-8")
    args = corpus_args(sources, broken)
    for command in (["ask", "Wie warm wird es?"], ["ask", "--json", "Wie warm wird es?"], ["sources"], ["show", "wetter.txt"], ["index"]):
        message = assert_clean_error(run(*command, *args))
        assert "--rebuild" in message, message  # says how to recover

    rebuilt = run("index", "--rebuild", "--quiet", *args)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuild" in rebuilt.stdout

    question = ("Wie viele Container hat der Hamburger Hafen umgeschlagen? " * 200)[:10_000]
    assert len(question) == 10_000  # refused, not cut (answer/question.py); a question at the limit is answered
    assert_clean_error(run("ask", "--json", question, *args), "too long: 9,999 characters, at most 2,000")  # stripped
    answer = check_json_answer(run("ask", "--json", question[:2000], *args), args)
    assert not answer["abstained"] and any("8.7 million" in q["text"] for q in answer["quotes"]), answer


def test_pointer_to_a_missing_generation_is_a_clean_error(corpus, tmp_path):
    sources, _ = corpus
    index = tmp_path / "index"
    index.mkdir()
    (index / "CURRENT").write_text("gen-does-not-exist\n")
    assert_clean_error(run("sources", *corpus_args(sources, index)), "--rebuild")
    (index / "CURRENT").write_text("../../etc\n")
    assert_clean_error(run("sources", *corpus_args(sources, index)), "--rebuild")


def test_bad_k_is_refused(corpus):
    result = run("ask", "-k", "0", "Wie warm wird es?", *corpus_args(*corpus))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "argument -k: 0 is too small: at least 1" in result.stderr
    result = run("ask", "-k", "abc", "Wie warm wird es?", *corpus_args(*corpus))
    assert result.returncode == 2 and "argument -k: 'abc' is not a whole number" in result.stderr, result.stderr
    # above the limit: refused as the warm server and /chat refuse it, never cut
    assert_clean_error(run("ask", "-k", "11", "Wie warm wird es?", *corpus_args(*corpus)),
                       "the number of quotes must be a whole number from 1 to 10")


def test_help_says_what_the_tool_does_with_examples():
    shown = run("--help")
    assert shown.returncode == 0
    assert "verbatim quotes" in shown.stdout and "examples:" in shown.stdout
    assert 'assistant ask "Wie viel Prozent an Vodacom hält Vodafone?"' in shown.stdout
    assert "Heavy libraries" not in shown.stdout  # the module's notes for developers stay out


@pytest.mark.parametrize("question, needle", [
    ("Wie viele Kunden hat Vodacom? " * 100, "too long: 2,999 characters, at most 2,000"),
    ("😀🎉", "no words to search for"),
    ('" OR 1=1 --', "no words to search for"),
    ("$(id)", "no words to search for"),
])
def test_questions_refused_before_the_model_loads(tmp_path, question, needle):
    """One rule for every caller (answer/question.py); the CLI checks before loading anything,
    so even without an index the message is about the question."""
    assert_clean_error(run("ask", question, *corpus_args(tmp_path / "none", tmp_path / "index")), needle)


def test_a_question_that_is_not_valid_text_is_refused_in_one_line(tmp_path):
    """`assistant ask $'\\xff Vodacom'`: a byte that is not UTF-8 arrives as a lone surrogate, which
    no encoder takes (issue 27, item 10); refused by the one rule, before anything loads."""
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", b"\xff Vodacom",
                             *corpus_args(tmp_path / "none", tmp_path / "index")],
                            cwd=REPO, env=ENV, capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert_clean_error(result, "not valid text")


def test_run_from_another_folder_hints_at_sources(tmp_path):
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "sources"], cwd=tmp_path, env=ENV,
                            capture_output=True, text=True, timeout=300)
    message = assert_clean_error(result, "sources folder sources does not exist", "--sources DIR")
    assert str(tmp_path) in message


def test_missing_index_names_the_command_with_both_folders(corpus, tmp_path):
    from assistant import Assistant
    from assistant.index.store import IndexMissing

    sources, _ = corpus
    with pytest.raises(IndexMissing) as missing:
        Assistant(sources, tmp_path / "no-index")
    assert f"assistant index --sources {sources} --index {tmp_path / 'no-index'}" in str(missing.value)


def test_unusable_paths_are_clean_errors(corpus, tmp_path):
    sources, _ = corpus
    not_a_dir = tmp_path / "file.txt"
    not_a_dir.write_text("x")
    assert_clean_error(run("index", *corpus_args(sources, not_a_dir / "index")), str(not_a_dir))
    assert_clean_error(run("sources", *corpus_args(sources, not_a_dir / "index")), str(not_a_dir))
    assert_clean_error(run("ask", "Wie warm wird es?", *corpus_args(not_a_dir, tmp_path / "index")), "is not a folder")


def test_milvus_store_index_ask_add_and_remove(tmp_path):
    """The same commands with the passage vectors in Milvus (embedded milvus-lite): index, ask,
    an added and a removed article updated incrementally; the flag or the environment picks it."""
    pytest.importorskip("pymilvus")  # the milvus extra: skipped, not failed, without it
    pytest.importorskip("milvus_lite")
    sources = make_corpus(tmp_path / "sources", TINY_ARTICLES)
    index = tmp_path / "index"
    args = [*corpus_args(sources, index), "--vector-store", "milvus"]
    first = run("index", "--quiet", *args)
    assert first.returncode == 0 and "2 added" in first.stdout, first.stderr
    generation = index / (index / "CURRENT").read_text().strip()
    manifest = json.loads((generation / "manifest.json").read_text())
    assert manifest["vector_store"] == "milvus" and not (generation / "passages.faiss").exists()
    assert json.loads((generation / "milvus.json").read_text())["collection"].startswith("assistant_gen_")

    answer = check_json_answer(run("ask", "--json", "Wie warm wird es in Potsdam?", *args), args)
    assert not answer["abstained"] and any("1,5 Grad" in q["text"] for q in answer["quotes"]), answer

    (sources / "bahn.txt").write_text("Die neue Bahnstrecke zwischen Hamburg und Lübeck kostet 900 Millionen Euro. "
                                      "Sie soll im Jahr 2029 fertig sein.", encoding="utf-8")
    (sources / "wetter.txt").unlink()
    by_env = {**ENV, "ASSISTANT_VECTOR_STORE": "milvus"}
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "--json", "Was kostet die neue Bahnstrecke?",
                             *corpus_args(sources, index)], cwd=REPO, env=by_env, capture_output=True, text=True,
                            encoding="utf-8", timeout=300)
    assert "1 added, 0 changed, 1 removed" in result.stderr and "embedded 1 passages" in result.stderr, result.stderr
    answer = check_json_answer(result, args)
    assert answer["quotes"][0]["source"] == "bahn.txt" and "900 Millionen" in answer["quotes"][0]["text"], answer
    assert all(q["source"] != "wetter.txt" for q in answer["quotes"])
    assert len(list(index.glob("gen-*"))) == 2  # the oldest generation went with its database


@pytest.mark.parametrize("flags, needle", [(["--vector-store", "qdrant"], "unknown vector store 'qdrant'"),
                                           (["--vector-store", "milvus", "--milvus-uri", "vectors.txt"], ".db")])
def test_bad_vector_store_settings_are_clean_errors(tmp_path, flags, needle):
    if "milvus" in flags:
        pytest.importorskip("pymilvus")  # without it, that is the error (test_milvus_index checks it)
    sources = make_corpus(tmp_path / "sources", TINY_ARTICLES)
    assert_clean_error(run("index", *corpus_args(sources, tmp_path / "index"), *flags), needle)
    assert not (tmp_path / "index").exists()


def test_the_readme_example_prints_what_the_readme_shows(shipped_settings, shipped_assistant):
    """The README's first `assistant ask` example, run on the shipped articles, prints exactly the
    block the README shows under it (issue 27: it once showed a short answer and three quotes)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = '`.venv/bin/assistant ask "Wie viel Prozent an Vodacom hält Vodafone?"`:\n\n```\n'
    assert command in readme
    shown = readme.split(command, 1)[1].split("```", 1)[0]
    args = corpus_args(shipped_settings.sources_dir, shipped_settings.index_dir)  # indexed by the fixture
    result = run("ask", "Wie viel Prozent an Vodacom hält Vodafone?", *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == shown.strip()
