"""Incremental indexing: only new and changed articles are embedded; bad files are reported."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.index import store
from assistant.index.indexer import index_is_current, update_index
from assistant.index.lexical import tokenize
from assistant.ingest.passages import build_passages
from assistant.ingest.sources import SourceError, load_article

EXTRA = (
    "Die Stadt Leipzig eröffnet im Herbst eine neue Straßenbahnlinie. Sie verbindet den Hauptbahnhof "
    "mit dem Flughafen.\n\nDie Kosten liegen bei 120 Millionen Euro, teilte die Stadt mit."
)


def counts(settings, file: str) -> tuple[int, int]:
    """Passages and sentences the indexer has to embed for one article."""
    article = load_article(settings.sources_dir, file)
    passages = build_passages(article.text, article.language, settings.passage_max_chars, skip=article.unquotable)
    return len(passages), sum(len(p.sentences) for p in passages)


def vectors_by_article(settings) -> dict[str, np.ndarray]:
    data = store.load_generation(settings.index_dir)
    return {a.file: data.vector_index.vectors(np.flatnonzero(data.passages[:, 0] == i)) for i, a in enumerate(data.articles)}


def check_spans(settings) -> None:
    data = store.load_generation(settings.index_dir)
    for article_id, start, end in data.passages:
        text = data.articles[article_id].text
        assert 0 <= start < end <= len(text) and text[start:end].strip() == text[start:end]
    previous = (-1, -1)
    for passage_id, article_id, start, end in data.sentences:
        assert data.passages[passage_id][0] == article_id
        assert data.passages[passage_id][1] <= start < end <= data.passages[passage_id][2]
        assert (passage_id, start) > previous  # stored in passage order, then text order
        previous = (passage_id, start)
    assert np.all(np.diff(np.asarray(data.passages[:, 0])) >= 0)  # passages in article order
    from assistant.index.view import IndexView

    norms = np.linalg.norm(IndexView(data).context_vectors(np.arange(len(data.sentences))), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-2 if data.codecs else 1e-3)


def test_byline_is_metadata_and_in_no_passage(tiny_settings, embedder):
    article = ("Hafen meldet Rekord\nVon Max Mustermann\nDer Hamburger Hafen hat im vergangenen Jahr "
               "8,7 Millionen Container umgeschlagen, teilte der Betreiber mit.")
    (tiny_settings.sources_dir / "hafen.txt").write_text(article, encoding="utf-8")
    update_index(tiny_settings, embedder, progress=False)
    check_spans(tiny_settings)
    manifest = store.read_manifest(tiny_settings.index_dir)
    assert manifest["articles"]["hafen.txt"]["authors"] == ["Max Mustermann"]
    assert manifest["articles"]["wetter.txt"]["authors"] == [] and manifest["articles"]["wetter.txt"]["url"] is None
    data = store.load_generation(tiny_settings.index_dir)
    article_id = [a.file for a in data.articles].index("hafen.txt")
    stored = data.articles[article_id]
    start, end = stored.byline
    assert stored.text[start:end] == "Von Max Mustermann" and stored.authors == ("Max Mustermann",)
    rows = [r for r in data.passages if r[0] == article_id] + [r[1:4] for r in data.sentences if r[1] == article_id]
    assert rows and all(e <= start or s >= end for _, s, e in rows)


def test_incremental_updates(tiny_settings, embedder):
    s = tiny_settings
    first = update_index(s, embedder, progress=False)
    assert first.wrote and sorted(first.added) == ["harbour.md", "wetter.txt"]
    assert (first.embedded_passages, first.embedded_sentences) == tuple(
        map(sum, zip(counts(s, "harbour.md"), counts(s, "wetter.txt"))))
    assert index_is_current(s)
    manifest = store.read_manifest(s.index_dir)
    assert manifest["model"] == embedder.identity and manifest["dimension"] == 384
    assert set(manifest["articles"]) == {"harbour.md", "wetter.txt"}
    check_spans(s)
    before = vectors_by_article(s)

    # Second run: nothing to embed, and it says so.
    second = update_index(s, embedder, progress=False)
    assert not second.wrote and second.embedded_passages == second.embedded_sentences == 0
    assert second.added == second.changed == second.removed == []
    assert "nothing to embed" in second.summary()

    # Adding an article embeds only that one; the others keep their vectors.
    (s.sources_dir / "leipzig.txt").write_text(EXTRA, encoding="utf-8")
    assert not index_is_current(s)
    added = update_index(s, embedder, progress=False)
    assert added.added == ["leipzig.txt"] and added.changed == [] and added.removed == []
    assert (added.embedded_passages, added.embedded_sentences) == counts(s, "leipzig.txt")
    assert "1 added" in added.summary()
    after = vectors_by_article(s)
    for name in before:
        np.testing.assert_array_equal(after[name], before[name])
    check_spans(s)

    # Changing an article re-embeds only that one.
    (s.sources_dir / "wetter.txt").write_text(
        "Der Deutsche Wetterdienst meldet für München am Samstag 31 Grad und Sonne.", encoding="utf-8")
    changed = update_index(s, embedder, progress=False)
    assert changed.changed == ["wetter.txt"] and changed.added == [] and changed.removed == []
    assert (changed.embedded_passages, changed.embedded_sentences) == counts(s, "wetter.txt")
    data = store.load_generation(s.index_dir)
    assert "München" in next(a.text for a in data.articles if a.file == "wetter.txt")
    np.testing.assert_array_equal(vectors_by_article(s)["harbour.md"], before["harbour.md"])

    # Removing an article embeds nothing and drops it.
    (s.sources_dir / "harbour.md").unlink()
    removed = update_index(s, embedder, progress=False)
    assert removed.wrote and removed.removed == ["harbour.md"] and removed.embedded_passages == 0
    assert set(store.read_manifest(s.index_dir)["articles"]) == {"leipzig.txt", "wetter.txt"}
    check_spans(s)
    assert not update_index(s, embedder, progress=False).wrote


def test_bad_files_are_reported_and_not_retried(tiny_settings, embedder):
    s = tiny_settings
    (s.sources_dir / "leer.txt").write_bytes(b"")
    (s.sources_dir / "bild.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" * 20)
    (s.sources_dir / "kaputt.md").symlink_to(s.sources_dir / "missing.md")
    report = update_index(s, embedder, progress=False)
    reasons = {k.file: k.reason for k in report.skipped}
    assert set(reasons) == {"leer.txt", "bild.txt", "kaputt.md"}
    assert "empty" in reasons["leer.txt"] and "PNG image" in reasons["bild.txt"]
    assert "cannot be read" in reasons["kaputt.md"]
    assert set(store.read_manifest(s.index_dir)["articles"]) == {"harbour.md", "wetter.txt"}
    assert index_is_current(s)

    again = update_index(s, embedder, progress=False)
    assert not again.wrote and "nothing to embed" in again.summary()
    assert {k.file for k in again.skipped} == {"leer.txt", "bild.txt", "kaputt.md"}  # still reported

    # A skipped file that is fixed gets indexed.
    (s.sources_dir / "leer.txt").write_text(EXTRA, encoding="utf-8")
    fixed = update_index(s, embedder, progress=False)
    assert fixed.added == ["leer.txt"]
    assert (fixed.embedded_passages, fixed.embedded_sentences) == counts(s, "leer.txt")


def test_model_mismatch_in_manifest_triggers_a_rebuild(tiny_settings, embedder):
    s = tiny_settings
    update_index(s, embedder, progress=False)
    generation = store.current_generation(s.index_dir)
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    manifest["model"] = "some-other-model"
    (generation / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert not index_is_current(s)

    report = update_index(s, embedder, progress=False)
    assert report.wrote and report.rebuilt_reason and "another model" in report.rebuilt_reason
    assert "some-other-model" in report.rebuilt_reason and "rebuild" in report.summary()
    assert sorted(report.added) == ["harbour.md", "wetter.txt"]  # everything embedded again
    assert store.read_manifest(s.index_dir)["model"] == embedder.identity
    assert index_is_current(s)


def test_index_in_an_older_format_is_rebuilt_not_mixed(tiny_settings, embedder):
    s = tiny_settings
    update_index(s, embedder, progress=False)
    generation = store.current_generation(s.index_dir)
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    manifest["format_version"] = store.FORMAT_VERSION - 1
    (generation / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert not index_is_current(s)
    with pytest.raises(store.IndexOutdated, match="rebuild"):
        store.load_generation(s.index_dir)

    report = update_index(s, embedder, progress=False)
    assert report.wrote and "format version" in report.rebuilt_reason
    assert sorted(report.added) == ["harbour.md", "wetter.txt"]
    assert store.read_manifest(s.index_dir)["format_version"] == store.FORMAT_VERSION


def test_rebuild_on_request_embeds_everything(tiny_settings, embedder):
    s = tiny_settings
    first = update_index(s, embedder, progress=False)
    rebuilt = update_index(s, embedder, rebuild=True, progress=False)
    assert rebuilt.wrote and rebuilt.rebuilt_reason
    assert rebuilt.embedded_passages == first.embedded_passages


def test_missing_and_empty_sources_folders(tmp_path, embedder):
    from assistant.config import Settings

    with pytest.raises(SourceError, match="does not exist"):
        update_index(Settings().with_paths(tmp_path / "nope", tmp_path / "index"), embedder, progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no articles"):
        update_index(Settings().with_paths(tmp_path / "empty", tmp_path / "index"), embedder, progress=False)
    only_bad = tmp_path / "bad"
    only_bad.mkdir()
    (only_bad / "leer.txt").write_bytes(b"")
    with pytest.raises(SourceError, match="could be read"):
        update_index(Settings().with_paths(only_bad, tmp_path / "index"), embedder, progress=False)


def coded_settings(settings, min_sentences: int):
    import dataclasses

    return dataclasses.replace(settings, codec_min_sentences=min_sentences)


def test_vectors_are_coded_once_the_index_is_big_enough_and_the_codec_is_kept(tiny_settings, embedder):
    from assistant.index.view import IndexView

    raw = update_index(tiny_settings, embedder, progress=False)
    sentences = store.read_manifest(tiny_settings.index_dir)["sentences"]
    assert raw.wrote and store.read_manifest(tiny_settings.index_dir)["codecs"] == {}  # below the threshold
    raw_view = IndexView(store.load_generation(tiny_settings.index_dir))
    raw_sentences = raw_view.sentence_vectors(np.arange(len(raw_view._data.sentences)))

    # Adding an article lifts the index over the threshold: codecs are trained on all rows.
    s = coded_settings(tiny_settings, sentences + 1)
    (s.sources_dir / "leipzig.txt").write_text(EXTRA, encoding="utf-8")
    update_index(s, embedder, progress=False)
    manifest = store.read_manifest(s.index_dir)
    assert manifest["codecs"] == {"sentence_vectors": "SQ8", "sentence_context_vectors": "SQ8"}
    data = store.load_generation(s.index_dir)
    assert data.sentence_vectors.shape == (manifest["sentences"], 384) and data.sentence_vectors.dtype == np.uint8
    assert [a.file for a in data.articles] == ["harbour.md", "wetter.txt", "leipzig.txt"]  # kept first, new after
    view = IndexView(data)
    kept = np.flatnonzero(np.isin(np.asarray(data.sentences[:, 1]), [0, 1]))  # harbour.md, wetter.txt
    decoded = view.sentence_vectors(kept)
    assert ((decoded * raw_sentences).sum(1) / np.linalg.norm(decoded, axis=1)).min() > 0.999
    codec_bytes = (data.path / "sentence_vectors.codec").read_bytes()
    check_spans(s)

    # A later update encodes the new article with the kept codec and leaves old codes as they were.
    harbour = np.flatnonzero(np.asarray(data.sentences[:, 1]) == 0)
    harbour_codes = np.array(data.sentence_vectors[harbour])
    (s.sources_dir / "wetter.txt").write_text("Der Deutsche Wetterdienst meldet für München 31 Grad.", encoding="utf-8")
    changed = update_index(s, embedder, progress=False)
    assert changed.changed == ["wetter.txt"]
    data = store.load_generation(s.index_dir)
    assert [a.file for a in data.articles] == ["harbour.md", "leipzig.txt", "wetter.txt"]  # a changed one moves last
    assert (data.path / "sentence_vectors.codec").read_bytes() == codec_bytes
    np.testing.assert_array_equal(np.array(data.sentence_vectors[np.asarray(data.sentences[:, 1]) == 0]), harbour_codes)
    wetter = np.flatnonzero(np.asarray(data.sentences[:, 1]) == 2)
    fresh = embedder.encode_passages([data.articles[2].text[int(r[2]):int(r[3])] for r in data.sentences[wetter]],
                                     progress=False)
    decoded = IndexView(data).sentence_vectors(wetter)
    # Looser than for the training rows: a range learnt from 11 sentences clips a few new values.
    assert ((decoded * fresh).sum(1) / np.linalg.norm(decoded, axis=1)).min() > 0.99


def test_a_coded_index_answers_as_the_raw_one(tiny_settings, embedder, tmp_path):
    from assistant import Assistant

    coded = coded_settings(tiny_settings.with_paths(index_dir=tmp_path / "coded"), 1)
    raw = Assistant(settings=tiny_settings, update=True, embedder=embedder)
    small = Assistant(settings=coded, update=True, embedder=embedder)
    assert store.read_manifest(coded.index_dir)["codecs"] and not store.read_manifest(tiny_settings.index_dir)["codecs"]
    for question in ("Wie warm wird es in Berlin am Freitag?", "How many containers did Hamburg handle in 2022?",
                     "When will the rail link open?"):
        a, b = raw.ask(question), small.ask(question)
        assert [q.text for q in a.quotes] == [q.text for q in b.quotes] and a.quotes
        assert [round(q.score, 1) for q in a.quotes] == [round(q.score, 1) for q in b.quotes]


def test_changing_a_codec_rebuilds_the_index(tiny_settings, embedder):
    import dataclasses

    update_index(coded_settings(tiny_settings, 1), embedder, progress=False)
    other = dataclasses.replace(coded_settings(tiny_settings, 1), sentence_codec="SQ4")
    assert not index_is_current(other)
    report = update_index(other, embedder, progress=False)
    assert report.rebuilt_reason == "cleaning or passage settings changed"
    assert store.read_manifest(tiny_settings.index_dir)["codecs"]["sentence_vectors"] == "SQ4"


def test_an_article_over_the_passage_limit_is_skipped_whole(tiny_settings, embedder):
    from dataclasses import replace

    (tiny_settings.sources_dir / "kurz.txt").write_text("Kiel eröffnet am Montag einen neuen Hafen für Fähren.",
                                                        encoding="utf-8")
    settings = replace(tiny_settings, max_article_passages=1)
    report = update_index(settings, embedder)
    skipped = {s.file: s.reason for s in report.skipped}
    assert report.added == ["kurz.txt"]
    assert set(skipped) == {"harbour.md", "wetter.txt"}
    assert all("too long: more than 1 passages" in r for r in skipped.values()), skipped
    assert index_is_current(settings)  # recorded as skipped: not read again until it changes


def _article_rows(data, file: str) -> dict:
    """An article's stored rows, as offsets within the article, and its passages' stems."""
    from assistant.index.lexical import PassageStems

    article_id = list(data.articles.files).index(file)
    passages = np.flatnonzero(np.asarray(data.passages[:, 0]) == article_id)
    sentences = np.flatnonzero(np.asarray(data.sentences[:, 1]) == article_id)
    stems = PassageStems.load(data.path / "bm25")
    words = [[stems.vocabulary[i] for i in stems.documents()[p]] for p in passages]
    return {"passages": np.array(data.passages[passages][:, 1:]), "sentences": np.array(data.sentences[sentences][:, 2:]),
            "sentence_passages": np.array(data.sentences[sentences][:, 0]) - passages[0],
            "passage_vectors": data.vector_index.vectors(passages),
            "sentence_vectors": np.array(data.sentence_vectors[sentences]),
            "context_vectors": np.array(data.sentence_context_vectors[sentences]), "stems": words}


def test_an_update_copies_the_kept_rows_as_they_were(tiny_settings, embedder):
    """+1 / -1 article: the kept article's rows, vectors and stems are the previous generation's,
    byte for byte; BM25 over the stored stems ranks as one built from the texts afresh."""
    from assistant.index.lexical import LexicalIndex

    s = tiny_settings
    update_index(s, embedder, progress=False)
    before = _article_rows(store.load_generation(s.index_dir), "harbour.md")
    (s.sources_dir / "leipzig.txt").write_text(EXTRA, encoding="utf-8")
    (s.sources_dir / "wetter.txt").unlink()
    report = update_index(s, embedder, progress=False)
    assert report.added == ["leipzig.txt"] and report.removed == ["wetter.txt"]
    assert (report.embedded_passages, report.embedded_sentences) == counts(s, "leipzig.txt")
    data = store.load_generation(s.index_dir)
    assert list(data.articles.files) == ["harbour.md", "leipzig.txt"]
    after = _article_rows(data, "harbour.md")
    for name, rows in before.items():
        if name == "stems":
            assert after[name] == rows and any(rows)
        else:
            np.testing.assert_array_equal(after[name], rows, err_msg=name)
    check_spans(s)
    texts = [data.articles[int(a)].text[int(b):int(e)] for a, b, e in np.asarray(data.passages)]
    languages = [data.articles[int(a)].language for a in np.asarray(data.passages[:, 0])]
    fresh = LexicalIndex.build([tokenize(t, lang) for t, lang in zip(texts, languages)])
    for question in (["hamburg", "contain"], tokenize("Straßenbahnlinie Leipzig Flughafen", "de")):
        np.testing.assert_allclose(data.lexical.scores(question), fresh.scores(question), rtol=1e-6)


def test_too_little_disk_or_memory_is_said_before_any_embedding(tiny_settings, embedder, monkeypatch):
    """The disk and memory figures come from the OS: they are replaced here, nothing else."""
    from collections import namedtuple

    from assistant.index import indexer
    from assistant.index.errors import IndexResources

    update_index(tiny_settings, embedder, progress=False)
    before = store.current_generation(tiny_settings.index_dir)
    (tiny_settings.sources_dir / "leipzig.txt").write_text(EXTRA, encoding="utf-8")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(indexer.shutil, "disk_usage", lambda path: usage(10**12, 10**12 - 1000, 1000))
    with pytest.raises(IndexResources, match=r"not enough disk space .* it needs about \d.* and 1 kB are free; free .* \(the previous"):
        update_index(tiny_settings, embedder, progress=False)
    monkeypatch.undo()
    monkeypatch.setattr(indexer, "_available_memory", lambda: 1000)
    with pytest.raises(IndexResources, match="not enough memory"):
        update_index(tiny_settings, embedder, progress=False)
    assert store.current_generation(tiny_settings.index_dir) == before
    assert not list(tiny_settings.index_dir.glob(store.BUILDING_PREFIX + "*"))


def test_a_disk_that_fills_up_while_writing_leaves_the_previous_index(tiny_settings, embedder, monkeypatch):
    import errno

    from assistant.index import writer
    from assistant.index.errors import IndexResources

    update_index(tiny_settings, embedder, progress=False)
    before = store.current_generation(tiny_settings.index_dir)
    (tiny_settings.sources_dir / "leipzig.txt").write_text(EXTRA, encoding="utf-8")

    def full(self, rows):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer.NpyAppender, "append", full)
    with pytest.raises(IndexResources, match="the disk filled up"):
        update_index(tiny_settings, embedder, progress=False)
    monkeypatch.undo()
    assert store.current_generation(tiny_settings.index_dir) == before
    assert not list(tiny_settings.index_dir.glob(store.BUILDING_PREFIX + "*"))  # the half-written build is gone
    assert update_index(tiny_settings, embedder, progress=False).added == ["leipzig.txt"]


def test_many_articles_go_through_in_chunks_with_one_codec(tiny_settings, embedder, monkeypatch):
    """More new articles than a chunk, and a codec learnt from the first rows: every article
    is indexed once, in order, and the later chunks are coded with the same codec."""
    from assistant.index import indexer

    monkeypatch.setattr(indexer, "CHUNK_ARTICLES", 2)
    monkeypatch.setattr(indexer, "CODEC_TRAIN_SENTENCES", 3)
    for i in range(5):
        (tiny_settings.sources_dir / f"z{i}.txt").write_text(EXTRA.replace("Leipzig", f"Stadt {i}"), encoding="utf-8")
    report = update_index(coded_settings(tiny_settings, 1), embedder, progress=False)
    data = store.load_generation(tiny_settings.index_dir)
    assert list(data.articles.files) == ["harbour.md", "wetter.txt"] + [f"z{i}.txt" for i in range(5)]
    assert report.embedded_passages == len(data.passages) and data.manifest["codecs"]
    check_spans(coded_settings(tiny_settings, 1))
    from assistant.index.view import IndexView

    z4 = np.flatnonzero(np.asarray(data.sentences[:, 1]) == 6)
    fresh = embedder.encode_passages([data.articles[6].text[int(r[2]):int(r[3])] for r in data.sentences[z4]])
    decoded = IndexView(data).sentence_vectors(z4)
    assert ((decoded * fresh).sum(1) / np.linalg.norm(decoded, axis=1)).min() > 0.98
