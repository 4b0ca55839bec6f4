"""Uploaded files: names reduced to plain names inside the sources folder, limits, no overwrite."""

from __future__ import annotations

import pytest

from assistant.ingest.uploads import MAX_UPLOAD_BYTES, UploadError, safe_file_name, store_upload

ARTICLE = "Die Stadt Kiel hat 2023 einen neuen Hafen eröffnet, sagte die Bürgermeisterin am Montag.".encode()


@pytest.mark.parametrize("name, expected", [
    ("../../x.txt", "x.txt"),
    ("..\\..\\windows\\x.md", "x.md"),
    ("/etc/passwd.txt", "passwd.txt"),
    ("Bericht über Kiel.HTML", "Bericht_ber_Kiel.html"),
    ("...hidden.txt", "hidden.txt"),
    ("a..b.txt", "a.b.txt"),
])
def test_safe_file_name(name, expected):
    assert safe_file_name(name) == expected


@pytest.mark.parametrize("name", ["x.exe", "x.txt.sh", "noext", ".txt", "../..", "", "x.pdf"])
def test_safe_file_name_refuses(name):
    with pytest.raises(UploadError):
        safe_file_name(name)


def test_long_name_is_cut_and_keeps_extension():
    name = safe_file_name("a" * 300 + ".txt")
    assert name.endswith(".txt") and len(name) <= 100


def test_store_upload_writes_inside_sources(tmp_path):
    sources = tmp_path / "deep" / "sources"
    sources.mkdir(parents=True)
    stored = store_upload(sources, "../../x.txt", ARTICLE)
    assert stored.file == "x.txt" and (sources / "x.txt").read_bytes() == ARTICLE
    assert not (tmp_path / "x.txt").exists() and not (tmp_path / "deep" / "x.txt").exists()


def test_store_upload_never_overwrites(tmp_path):
    (tmp_path / "a.txt").write_bytes(ARTICLE)
    with pytest.raises(UploadError, match="already exists"):
        store_upload(tmp_path, "a.txt", "Ein ganz anderer Artikel über den Hafen in Kiel, sagte sie.".encode())
    assert (tmp_path / "a.txt").read_bytes() == ARTICLE


def test_same_bytes_again_is_reported_not_duplicated(tmp_path):
    (tmp_path / "a.txt").write_bytes(ARTICLE)
    stored = store_upload(tmp_path, "copy.txt", ARTICLE)
    assert stored.duplicate_of == "a.txt" and not (tmp_path / "copy.txt").exists()


def test_size_limit_and_unreadable_content(tmp_path):
    with pytest.raises(UploadError, match="limit"):
        store_upload(tmp_path, "big.txt", b"word " * (MAX_UPLOAD_BYTES // 5 + 1))
    with pytest.raises(UploadError, match="binary"):
        store_upload(tmp_path, "bin.txt", b"\x00\x01\x02" * 100)
    with pytest.raises(UploadError, match="empty"):
        store_upload(tmp_path, "empty.txt", b"   ")
    assert list(tmp_path.iterdir()) == []


def test_two_identical_uploads_at_once_under_two_names_store_one(tmp_path, monkeypatch):
    """The duplicate check and the write happen under one lock: the second upload waits, then
    finds the first. (The check is slowed down so that, without the lock, both would pass it.)"""
    import threading
    import time

    from assistant.ingest import uploads

    check = uploads._existing_with_hash

    def slow_check(folder, digest):
        found = check(folder, digest)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(uploads, "_existing_with_hash", slow_check)
    results = {}
    threads = [threading.Thread(target=lambda n=n: results.__setitem__(n, store_upload(tmp_path, n, ARTICLE)))
               for n in ("first.txt", "second.txt")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert len(stored) == 1, stored
    assert sorted(r.duplicate_of is None for r in results.values()) == [False, True]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temporary file left


@pytest.mark.parametrize("data, needle", [
    (b"%PDF-1.4\n1 0 obj\nDie Stadt Kiel hat 2023 einen neuen Hafen eroeffnet, sagte die Buergermeisterin.\n", "PDF"),
    (b"PK\x03\x04Die Stadt Kiel hat 2023 einen neuen Hafen eroeffnet.", "ZIP"),
    (b"\x89PNG\r\n\x1a\nDie Stadt Kiel hat 2023 einen neuen Hafen.", "PNG"),
    (b"{\\rtf1\\ansi Die Stadt Kiel hat 2023 einen neuen Hafen eroeffnet.}", "RTF"),
    ("Die Stadt Kiel \x01\x02\x03\x04\x05 hat einen Hafen.".encode(), "binary"),
])
def test_binary_formats_are_refused_by_their_bytes_not_their_name(tmp_path, data, needle):
    with pytest.raises(UploadError, match=needle):
        store_upload(tmp_path, "article.txt", data)
    assert list(tmp_path.iterdir()) == [] or all(p.name.startswith(".") for p in tmp_path.iterdir())


def test_a_text_that_repeats_itself_is_refused(tmp_path):
    with pytest.raises(UploadError, match="repeats itself"):
        store_upload(tmp_path, "spam.txt", ("Der Zoo hat viele Tiere. " * 10_000).encode())


def test_txt_headline_loses_its_markdown_mark(tmp_path):
    stored = store_upload(tmp_path, "kiel.txt", "# Kiel eröffnet Hafen\n\n".encode() + ARTICLE)
    assert stored.title == "Kiel eröffnet Hafen"


def test_the_duplicate_check_reads_no_file_through_a_link(tmp_path):
    """A link in the sources folder to a file elsewhere is not an article (issue 27, item 7): an
    upload with that file's bytes must not learn it exists ("already there as ...")."""
    (tmp_path / "private.txt").write_bytes(ARTICLE)
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "link.txt").symlink_to(tmp_path / "private.txt")
    stored = store_upload(sources, "kiel.txt", ARTICLE)
    assert stored.duplicate_of is None and (sources / "kiel.txt").read_bytes() == ARTICLE
