"""Loading articles: formats, encodings, bad files skipped by name, metadata."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from assistant.ingest.sources import (
    MAX_ARTICLE_BYTES,
    SourceError,
    decode_text,
    load_article,
    load_articles,
    content_hash,
    parse_article,
    scan_sources,
)
from conftest import GOLEM, TINY_ARTICLES, make_corpus

GERMAN = "Die Straße in München ist schön – sagte er „heute“ für 5 € über die Brücke. Öl wird teurer."
HTML = """<!DOCTYPE html>
<html lang="de"><head><title>Hafen meldet Rekord | Beispielzeitung</title>
<meta property="article:published_time" content="2023-06-01"></head>
<body>
<nav><a href="/">Startseite</a> <a href="/politik">Politik</a> Zum Hauptinhalt</nav>
<article>
<h1>Hafen meldet Rekord</h1>
<p>Der Hamburger Hafen hat im vergangenen Jahr 8,7 Millionen Container umgeschlagen, teilte der Betreiber am Montag mit.</p>
<p>Für das kommende Jahr erwartet Hafenchef Jens Meier ein Wachstum von 3,5 Prozent. Eine neue Bahnstrecke soll 2026 eröffnet werden.</p>
</article>
<footer>Impressum Datenschutz Cookie-Einstellungen</footer>
</body></html>"""


def test_txt_md_html_load(tmp_path):
    folder = make_corpus(tmp_path / "src", {**TINY_ARTICLES, "hafen.html": HTML})
    articles, skipped = load_articles(folder)
    assert skipped == []
    by_file = {a.file: a for a in articles}
    assert sorted(by_file) == ["hafen.html", "harbour.md", "wetter.txt"]

    wetter = by_file["wetter.txt"]
    assert wetter.date == "2023-05-04" and wetter.language == "de"
    assert wetter.text.startswith("Der Deutsche Wetterdienst meldet")
    assert wetter.title.startswith("Der Deutsche Wetterdienst meldet")

    harbour = by_file["harbour.md"]
    assert harbour.title == "Port of Hamburg handles record cargo"
    assert harbour.language == "en" and "#" not in harbour.text

    html = by_file["hafen.html"]
    assert html.title.startswith("Hafen meldet Rekord")
    assert html.language == "de"
    assert "8,7 Millionen Container" in html.text and "3,5 Prozent" in html.text
    for furniture in ("Startseite", "Impressum", "Cookie", "<p>", "Zum Hauptinhalt"):
        assert furniture not in html.text
    assert html.date == "2023-06-01"


def test_html_without_article_text_is_skipped(tmp_path):
    folder = make_corpus(tmp_path / "src", {"leer.html": "<html><body><nav>Menü</nav></body></html>",
                                            "wetter.txt": TINY_ARTICLES["wetter.txt"]})
    articles, skipped = load_articles(folder)
    assert [a.file for a in articles] == ["wetter.txt"]
    assert [s.file for s in skipped] == ["leer.html"]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-8-sig", "utf-16"])
def test_legacy_and_bom_encodings_are_decoded(encoding):
    text = GERMAN if encoding != "latin-1" else GERMAN.replace("–", "-").replace("„", '"').replace("“", '"').replace("€", "EUR")
    assert decode_text(text.encode(encoding)) == text


@pytest.mark.parametrize("word", ["Öl", "Grüße", "Maß", "Café"])
def test_short_latin1_words_are_decoded(word):
    assert decode_text(word.encode("latin-1")) == word


def test_other_legacy_encodings_still_work():
    russian = "Привет, как дела? Сегодня в Москве хорошая погода, сказал синоптик."
    assert decode_text(russian.encode("cp1251")) == russian


def test_cp1252_article_loads_with_umlauts(tmp_path):
    folder = make_corpus(tmp_path / "src", {"alt.txt": GERMAN.encode("cp1252")})
    [article], skipped = load_articles(folder)
    assert not skipped
    assert article.text == GERMAN and article.language == "de"


def test_bad_files_are_skipped_by_name_and_the_rest_loads(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    folder = make_corpus(tmp_path / "src", {
        **TINY_ARTICLES,
        "leer.txt": b"",
        "blank.md": b"   \n\n\t ",
        "bild.txt": png,
        "kurz.txt": "Hallo.",
    })
    (folder / "kaputt.txt").symlink_to(folder / "does-not-exist.txt")  # unreadable: dangling link
    with open(folder / "riesig.txt", "wb") as handle:  # sparse: costs no disk
        handle.truncate(MAX_ARTICLE_BYTES + 1)
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")  # not an article suffix: ignored, not skipped
    (folder / ".hidden.txt").write_text("Versteckte Datei mit genug Text darin.")

    articles, skipped = load_articles(folder)
    assert sorted(a.file for a in articles) == ["harbour.md", "wetter.txt"]
    reasons = {s.file: s.reason for s in skipped}
    assert sorted(reasons) == ["bild.txt", "blank.md", "kaputt.txt", "kurz.txt", "leer.txt", "riesig.txt"]
    assert "empty" in reasons["leer.txt"] and "empty" in reasons["blank.md"]
    assert "PNG image, not a text article" in reasons["bild.txt"]  # told by its bytes, not its name
    assert "cannot be read" in reasons["kaputt.txt"]
    assert "larger than" in reasons["riesig.txt"]
    assert "no article text" in reasons["kurz.txt"]

    # The cheap scan that decides what to (re)load lists the unreadable files too, so that
    # indexing reports them instead of silently leaving them out.
    found = scan_sources(folder)
    assert {"kaputt.txt", "riesig.txt", "leer.txt", "wetter.txt"} <= set(found)
    assert "notes.pdf" not in found and ".hidden.txt" not in found
    assert found["wetter.txt"][1] == load_article(folder, "wetter.txt").content_hash


def test_skipped_file_is_reported_by_name_once(tmp_path, caplog):
    """Returned with its reason, not also logged: the CLI prints each skipped file once."""
    folder = make_corpus(tmp_path / "src", {"leer.txt": b"", "wetter.txt": TINY_ARTICLES["wetter.txt"]})
    with caplog.at_level("WARNING"):
        articles, skipped = load_articles(folder)
    assert [a.file for a in articles] == ["wetter.txt"]
    assert [(s.file, s.reason) for s in skipped] == [("leer.txt", "file is empty")]
    assert not any("leer.txt" in r.getMessage() for r in caplog.records)


def _age(path: Path, seconds: float = 60.0) -> None:
    """Give a file an mtime this far in the past (older than the racy window)."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_scan_reads_only_the_files_whose_stat_changed(tmp_path, monkeypatch):
    folder = make_corpus(tmp_path / "src", TINY_ARTICLES)
    for path in folder.iterdir():
        _age(path)
    first = scan_sources(folder)
    reads, real = [], Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self.name) or real(self))
    assert scan_sources(folder) == first and reads == []  # nothing changed: nothing read

    wetter = folder / "wetter.txt"
    before = wetter.stat()
    same_size = wetter.read_bytes().replace(b"28 Grad", b"29 Grad")
    reads.clear()
    wetter.write_bytes(same_size)
    os.utime(wetter, ns=(before.st_atime_ns, before.st_mtime_ns))  # size and mtime as they were
    found = scan_sources(folder)  # the change time moved: read again
    assert reads == ["wetter.txt"] and found["wetter.txt"][1] == content_hash(same_size) != first["wetter.txt"][1]


def test_a_file_written_just_now_is_read_on_every_scan(tmp_path, monkeypatch):
    folder = make_corpus(tmp_path / "src", {"wetter.txt": TINY_ARTICLES["wetter.txt"]})  # mtime: now
    scan_sources(folder)
    reads, real = [], Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self.name) or real(self))
    scan_sources(folder)
    assert reads == ["wetter.txt"]  # a second write in the same clock tick could keep its mtime


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match="does-not-exist"):
        scan_sources(tmp_path / "does-not-exist")


def test_parse_article_rejects_empty_and_binary():
    with pytest.raises(SourceError, match="empty"):
        parse_article("a.txt", b"")
    with pytest.raises(SourceError, match="binary"):
        parse_article("a.txt", b"abc\x00def" * 10)


def test_content_hash_is_of_the_bytes(tmp_path):
    import hashlib

    data = TINY_ARTICLES["wetter.txt"].encode()
    assert parse_article("w.txt", data).content_hash == hashlib.sha256(data).hexdigest()


def test_shipped_articles_metadata(shipped_sources):
    articles, skipped = load_articles(shipped_sources)
    assert skipped == []
    meta = {a.file: a for a in articles}
    assert [(m.file, m.date, m.language) for m in meta.values()] == [
        ("000_ce0777626153ace7.txt", "2024-01-16", "de"),  # from "am 16. Januar 2024" in the text
        ("001_1885b208a7ea917e.txt", "2024-01-16", "en"),
        ("002_3699eb8ecc81ec22.txt", "2020-12", "de"),
    ]
    assert meta["000_ce0777626153ace7.txt"].title == \
        "KI, Cloud und IoT: Vodafone schließt 1,5-Milliarden-Vertrag mit Microsoft"
    # no headline: the first sentence, cut after a clause or a whole word
    assert meta["001_1885b208a7ea917e.txt"].title == ("Vodafone and Microsoft have announced a significant 10-year "
                                                      "strategic partnership for enhancing digital services…")
    assert meta["002_3699eb8ecc81ec22.txt"].title == ("Die Deutsche Telekom und Microsoft haben eine Erweiterung "
                                                      "ihrer Partnerschaft angekündigt…")
    golem = meta[GOLEM]
    assert golem.authors == ("Achim Sawall",) and golem.text[golem.byline[0]:golem.byline[1]] == "/ Achim Sawall"
    for article in articles:
        assert len(article.title) <= 160 and "\n" not in article.title
        assert not article.text.startswith(" date")
        assert len(article.content_hash) == 64
        assert article.url is None
        assert set(article.metadata()) == {"file", "title", "date", "language", "content_hash", "authors", "url",
                                           "byline"}
    assert meta["001_1885b208a7ea917e.txt"].authors == () and meta["001_1885b208a7ea917e.txt"].byline is None
    assert golem.metadata()["authors"] == ["Achim Sawall"] and golem.metadata()["byline"] == list(golem.byline)


def test_subfolders_are_read_with_relative_names(tmp_path):
    folder = make_corpus(tmp_path / "src", {"wetter.txt": TINY_ARTICLES["wetter.txt"]})
    make_corpus(folder / "en", {"harbour.md": TINY_ARTICLES["harbour.md"]})
    articles, _ = load_articles(folder)
    assert sorted(a.file for a in articles) == ["en/harbour.md", "wetter.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file_is_skipped(tmp_path):
    folder = make_corpus(tmp_path / "src", {"wetter.txt": TINY_ARTICLES["wetter.txt"], "zu.txt": "Geheimer Text hier drin."})
    (folder / "zu.txt").chmod(0)
    try:
        articles, skipped = load_articles(folder)
    finally:
        (folder / "zu.txt").chmod(0o644)
    assert [a.file for a in articles] == ["wetter.txt"]
    assert [s.file for s in skipped] == ["zu.txt"] and "cannot be read" in skipped[0].reason


def test_a_link_out_of_the_sources_folder_is_refused_and_never_read(tmp_path):
    """Issue 27, item 7: a link in sources/ to a file elsewhere would be indexed and served (any
    file the user can read). It is skipped with its reason; a link to a file inside is an
    article like its target."""
    outside = tmp_path / "private.txt"
    outside.write_text(TINY_ARTICLES["wetter.txt"], encoding="utf-8")
    folder = make_corpus(tmp_path / "src", {"harbour.md": TINY_ARTICLES["harbour.md"]})
    (folder / "geheim.txt").symlink_to(outside)
    (folder / "relativ.txt").symlink_to("../private.txt")
    (folder / "hafen.md").symlink_to("harbour.md")  # inside: fine
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.txt").write_text(TINY_ARTICLES["wetter.txt"], encoding="utf-8")
    (folder / "ordner").symlink_to(tmp_path / "elsewhere")  # a linked folder: never listed
    articles, skipped = load_articles(folder)
    assert sorted(a.file for a in articles) == ["hafen.md", "harbour.md"]
    reasons = {s.file: s.reason for s in skipped}
    assert sorted(reasons) == ["geheim.txt", "relativ.txt"]
    assert all("link to a file outside the sources folder" in r for r in reasons.values()), reasons
    # The scan that runs before every answer does not read it either: no hash of its bytes.
    found = scan_sources(folder)
    assert found["geheim.txt"][1].startswith("unreadable: ") and "outside" in found["geheim.txt"][1]
    assert found["hafen.md"][1] == found["harbour.md"][1]
    assert "ordner/x.txt" not in found
    for name in ("geheim.txt", "ordner/x.txt"):  # asked for by name (`assistant show`)
        with pytest.raises(SourceError, match="outside the sources folder"):
            load_article(folder, name)
