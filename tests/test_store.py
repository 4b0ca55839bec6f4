"""The index store without the model: generations, the CURRENT pointer, the write lock,
leftovers of killed builds, generations kept while a reader holds them, damaged indexes giving
one clear IndexCorrupt, and problems that are not damage (IndexUnreadable) keeping their cause."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from assistant.index import store
from assistant.files import save_array
from assistant.index.articles import FILE as ARTICLES_FILE
from assistant.index.articles import ArticleTable, ArticleWriter
from assistant.ingest.sources import Article
from assistant.index.lexical import LexicalIndex
from assistant.index.vector_index import FaissIndex

DIM = 8


def fake_data(n_passages: int = 3, seed: int = 0) -> store.IndexData:
    rng = np.random.default_rng(seed)
    text = "Erster Satz hier. Zweiter Satz dort. Dritter Satz am Ende."
    passages = np.array([(0, 0, 17), (0, 18, 36), (0, 37, len(text))][:n_passages], dtype=np.int64)
    sentences = np.array([(i, 0, s, e) for i, (_, s, e) in enumerate(passages)], dtype=np.int64)
    vectors = rng.standard_normal((len(passages), DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    article = Article(file="a.txt", title="A", date=None, language="de", content_hash=f"h{seed}", text=text)
    manifest = {"format_version": store.FORMAT_VERSION, "model": "test", "dimension": DIM,
                "passages": len(passages), "sentences": len(sentences),
                "articles": {"a.txt": {"content_hash": f"h{seed}", "title": "A", "date": None, "language": "de"}}}
    return store.IndexData(manifest=manifest, articles=[article], passages=passages, sentences=sentences,
                           sentence_vectors=vectors.copy(),
                           sentence_context_vectors=vectors.copy(),
                           vector_index=FaissIndex.build(vectors, 1000),
                           lexical=LexicalIndex.build([["erst", "satz"], ["zweit", "satz"], ["dritt", "satz"]][:n_passages]))


def write_generation(index_dir: Path, data: store.IndexData) -> Path:
    """Write a generation held in memory and make it live, as the indexer does with the arrays it
    streams (only tests hold a whole generation in memory). Call under `store.write_lock`."""
    staging = store.begin_generation(index_dir)
    writer = ArticleWriter(staging / ARTICLES_FILE)
    writer.add(data.articles)
    writer.close()
    save_array(staging / "passages.npy", data.passages.astype(np.int64))
    save_array(staging / "sentences.npy", data.sentences.astype(np.int64))
    for array in store.CODED_ARRAYS:
        save_array(staging / f"{array}.npy", np.asarray(getattr(data, array),
                                                        dtype=store.stored_dtype(array, data.codecs)))
        if array in data.codecs:
            data.codecs[array].save(staging / f"{array}.codec")
    data.vector_index.save(staging / data.vector_index.FILE)
    data.lexical.save(staging / "bm25")
    return store.commit_generation(index_dir, staging, data.manifest)


def build(index_dir: Path, seed: int = 0) -> Path:
    with store.write_lock(index_dir):
        path = write_generation(index_dir, fake_data(seed=seed))
        store.remove_stale(index_dir)
    return path


def test_write_then_load_roundtrip(tmp_path):
    gen = build(tmp_path)
    data = store.load_generation(tmp_path)
    assert data.path == gen
    assert data.vector_index.size == 3 and data.articles[0].file == "a.txt"
    assert isinstance(data.passages, np.memmap)  # memory-mapped, not read whole per question


def test_loading_reads_no_article_text_until_one_is_asked_for(tmp_path):
    from assistant.index.articles import ArticleTable

    build(tmp_path)
    data = store.load_generation(tmp_path)
    assert isinstance(data.articles, ArticleTable) and len(data.articles) == 1
    assert data.articles.fetch.cache_info().currsize == 0  # counted and checked, none fetched
    article = data.articles[0]
    assert article.text.startswith("Erster Satz") and data.articles.fetch.cache_info().currsize == 1
    assert [a.file for a in data.articles] == ["a.txt"] == data.articles.files


def test_missing_index_is_index_missing(tmp_path):
    with pytest.raises(store.IndexMissing):
        store.load_generation(tmp_path)


def test_newest_generation_wins_and_only_two_are_kept(tmp_path):
    gens = [build(tmp_path, seed=i) for i in range(4)]
    assert store.load_generation(tmp_path).path == gens[-1]
    left = sorted(p.name for p in tmp_path.glob("gen-*"))
    assert left == sorted([gens[-2].name, gens[-1].name])


def test_leftovers_of_killed_builds_are_removed(tmp_path):
    gen = build(tmp_path)
    (tmp_path / ".building-gen-x").mkdir()
    (tmp_path / ".building-gen-x" / "passages.npy").write_bytes(b"half")
    (tmp_path / "CURRENT.tmp").write_text("gen-zzz\n")
    orphan = tmp_path / "gen-99999999T999999-orphan"  # renamed into place, killed before CURRENT moved
    orphan.mkdir()
    with store.write_lock(tmp_path):
        store.remove_stale(tmp_path)
    assert not list(tmp_path.glob(".building-*")) and not (tmp_path / "CURRENT.tmp").exists()
    assert not orphan.exists() and store.load_generation(tmp_path).path == gen


@pytest.mark.parametrize("content", [b"garbage\n", b"", b"\xff\xfe\x00bad", b"gen-../../etc\n", b"gen-nonexistent\n",
                                     b"gen-a\x00b\n"])
def test_garbage_current_is_index_corrupt_with_recovery_hint(tmp_path, content):
    build(tmp_path)
    (tmp_path / "CURRENT").write_bytes(content)
    with pytest.raises(store.IndexCorrupt, match="assistant index --rebuild"):
        store.load_generation(tmp_path)


def corrupt_truncated_faiss(gen: Path) -> None:
    path = gen / "passages.faiss"
    path.write_bytes(path.read_bytes()[:40])


def corrupt_manifest_count(gen: Path) -> None:
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["passages"] += 1
    (gen / "manifest.json").write_text(json.dumps(manifest))


def corrupt_manifest_json(gen: Path) -> None:
    (gen / "manifest.json").write_text("{not json")


def corrupt_manifest_hash(gen: Path) -> None:
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["articles"]["a.txt"]["content_hash"] = "other"
    (gen / "manifest.json").write_text(json.dumps(manifest))


def corrupt_missing_passages(gen: Path) -> None:
    (gen / "passages.npy").unlink()


def corrupt_truncated_vectors(gen: Path) -> None:
    path = gen / "sentence_vectors.npy"
    path.write_bytes(path.read_bytes()[:-16])


def corrupt_articles(gen: Path) -> None:
    (gen / "articles.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x00" * 40 + b"garbage" * 100)


def corrupt_missing_articles(gen: Path) -> None:
    (gen / "articles.sqlite").unlink()


def corrupt_bm25(gen: Path) -> None:
    for path in (gen / "bm25").iterdir():
        path.write_bytes(b"\x00garbage")


@pytest.mark.parametrize("damage", [corrupt_truncated_faiss, corrupt_manifest_count, corrupt_manifest_json,
                                    corrupt_manifest_hash, corrupt_missing_passages, corrupt_truncated_vectors,
                                    corrupt_articles, corrupt_missing_articles, corrupt_bm25])
def test_damaged_generation_is_index_corrupt(tmp_path, damage):
    gen = build(tmp_path)
    damage(gen)
    with pytest.raises(store.IndexCorrupt, match="assistant index --rebuild"):
        store.load_generation(tmp_path)


def test_second_writer_waits_then_fails_clearly(tmp_path):
    entered = threading.Event()
    release = threading.Event()

    def hold():
        with store.write_lock(tmp_path):
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert entered.wait(10)
        with pytest.raises(store.IndexBusy, match="another process is updating"):
            with store.write_lock(tmp_path, wait_seconds=0.5):
                pass
    finally:
        release.set()
        holder.join()
    with store.write_lock(tmp_path, wait_seconds=0.5):  # free again
        pass


def test_readers_never_see_a_mixed_generation(tmp_path):
    """Load in a loop while generations are swapped: every load is whole or a clean error."""
    build(tmp_path, seed=0)
    stop = threading.Event()
    errors, loads = [], [0]

    def read():
        while not stop.is_set():
            try:
                data = store.load_generation(tmp_path)
                assert data.vector_index.size == data.manifest["passages"]
                loads[0] += 1
            except Exception as exc:  # noqa: BLE001 - any failure is recorded
                errors.append(repr(exc))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for seed in range(1, 30):
            build(tmp_path, seed=seed)
    finally:
        stop.set()
        reader.join()
    assert loads[0] > 0
    assert errors == []


# --------------------------------------------------------------- holds: an answer's generation stays

def test_a_loaded_generation_survives_two_updates_until_it_is_let_go(tmp_path):
    first = build(tmp_path, seed=0)
    held = store.load_generation(tmp_path)  # what an answer in flight reads
    build(tmp_path, seed=1)
    build(tmp_path, seed=2)  # keep=2 alone would delete `first` here
    assert first.exists() and held.path == first
    fresh = ArticleTable(first / "articles.sqlite")  # a new reader of its files (a new thread's connection)
    assert fresh[0].text.startswith("Erster Satz") and held.articles[0].content_hash == "h0"
    del fresh
    held.hold.release()
    build(tmp_path, seed=3)
    assert not first.exists()
    assert len(list(tmp_path.glob("gen-*"))) == 2


def test_a_generation_being_deleted_is_not_opened(tmp_path):
    gen = build(tmp_path)
    fd = os.open(gen / store.READERS, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as remove_stale holds it while deleting
        with pytest.raises(store.IndexCorrupt, match="being deleted"):
            store.GenerationHold(gen)
    finally:
        os.close(fd)
    assert store.GenerationHold(gen) is not None


def test_a_generation_written_before_readers_lock_is_read_and_deleted_as_before(tmp_path):
    old = build(tmp_path, seed=0)
    (old / store.READERS).unlink()
    assert store.load_generation(tmp_path).hold is not None  # nothing to lock, nothing refused
    for seed in (1, 2):
        build(tmp_path, seed=seed)
    assert not old.exists()


def test_a_folder_that_cannot_be_deleted_is_logged(tmp_path, monkeypatch, caplog):
    first = build(tmp_path, seed=0)
    build(tmp_path, seed=1)
    real = shutil.rmtree

    def failing_rmtree(path, *args, **kwargs):  # as a read-only file system or a busy mount would
        handler = kwargs.get("onexc") or kwargs.get("onerror")
        error = OSError(30, "Read-only file system")
        handler(os.unlink, str(Path(path) / "passages.npy"), error if "onexc" in kwargs else (OSError, error, None))

    monkeypatch.setattr(shutil, "rmtree", failing_rmtree)
    with caplog.at_level("WARNING", logger="assistant.index.store"):
        build(tmp_path, seed=2)
    assert first.exists()
    assert f"could not delete all of the old index folder {first}" in caplog.text and "Read-only file system" in caplog.text
    monkeypatch.setattr(shutil, "rmtree", real)
    build(tmp_path, seed=3)
    assert not first.exists()


# --------------------------------------------------------------- errors that are not damage

def _failing(exc: BaseException):
    def fail(*_args, **_kwargs):
        raise exc
    return fail


@pytest.mark.parametrize("exc, kind, message", [
    (ModuleNotFoundError("No module named 'bm25s'", name="bm25s"), store.IndexUnreadable,
     "the library bm25s is not installed"),
    (PermissionError(13, "Permission denied", "bm25/params.index.json"), store.IndexUnreadable,
     "no permission to read bm25/params.index.json"),
    (OSError(24, "Too many open files"), store.IndexUnreadable, r"too many open files.*ulimit -n"),
    (FileNotFoundError(2, "No such file", "bm25/vocab.index.json"), store.IndexCorrupt, "damaged.*--rebuild"),
    (ValueError("cannot parse"), store.IndexCorrupt, "damaged.*--rebuild"),
])
def test_only_damage_is_called_damage_and_the_cause_is_kept(tmp_path, monkeypatch, exc, kind, message):
    build(tmp_path)
    monkeypatch.setattr(LexicalIndex, "load", _failing(exc))
    with pytest.raises(store.IndexProblem, match=message) as raised:
        store.load_generation(tmp_path)
    assert type(raised.value) is kind and raised.value.__cause__ is exc
    if kind is store.IndexUnreadable:
        assert "--rebuild" not in str(raised.value)  # rebuilding would not help


def test_a_bug_is_not_reported_as_a_damaged_index(tmp_path, monkeypatch):
    build(tmp_path)
    monkeypatch.setattr(LexicalIndex, "load", _failing(TypeError("unexpected keyword")))
    with pytest.raises(TypeError, match="unexpected keyword"):
        store.load_generation(tmp_path)
