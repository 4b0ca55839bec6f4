"""Bring the index in line with the sources folder, embedding only what changed."""

from __future__ import annotations

import errno
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import store
from ..config import Settings
from ..models.embedding import Embedder, model_identity
from .articles import FILE as ARTICLES_FILE
from .articles import ArticleWriter
from .codecs import NONE, TRAIN_SAMPLE, VectorCodec, check_spec
from .errors import IndexResources
from .lexical import LexicalIndex, PassageStems, tokenize
from ..ingest.passages import TooManyPassages, build_passages
from ..ingest.sources import Article, Skipped, SourceError, load_article, scan_sources
from .vector_stores import build_vector_index, store_of
from .writer import NpyAppender

log = logging.getLogger(__name__)

# Bump when cleaning, splitting or lexical tokens change, so old indexes are rebuilt rather than mixed.
# 3: bylines kept in the text (left out of passages), authors and url in the metadata, ad lines removed.
# 4: numbers in the BM25 tokens read in the text's language (normalise.py: English "0,125" was "0125").
# 5: a sentence repeating an earlier one word for word is in no passage; "# " no longer starts a .txt title.
# 6: no token states; sentences in their passage pooled without them leaving the model pass.
# 7: sentences no longer cut before an ordinal ("Am" / "24. August") or, in German, before lower case.
# 8: nor before a comma after a regnal number ("Katharina II." / ", die seit 1762 herrschte").
PIPELINE_VERSION = 8
# The reason given for a file skipped at an earlier update and not changed since.
SKIPPED_BEFORE = "skipped before (unchanged)"
# What the manifest lists per article (articles.sqlite has all of it and the text).
MANIFEST_ARTICLE_KEYS = ("content_hash", "title", "date", "language", "authors", "url")
# New articles are read, embedded and written this many at a time: an update holds one chunk's
# texts and vectors in memory, whatever the corpus size (benchmarks/news_scale.py: peak RSS).
CHUNK_ARTICLES = 256
# Kept rows are copied from the previous generation this many passages at a time.
COPY_PASSAGES = 16_384
# Sentence vectors wait in memory, uncoded, until this many are there to learn the codec from
# (a scalar quantiser's ranges settle long before; more would only hold more memory).
CODEC_TRAIN_SENTENCES = 20_000
# Disk an update needs, per byte of new article text: its passages, sentences, their vectors
# (two coded sentence vectors each; passage vectors twice while FAISS is written), BM25 and the
# text. A generation measured 11 times its sources at 1,000 news articles and 16 times at 20,000,
# mostly short wire stories (benchmarks/news_scale.py); 24 leaves room.
DISK_PER_SOURCE_BYTE = 24
# Passages an update expects per byte of new text, for its memory estimate (the 20,000-article
# news corpus: 257 bytes a passage), and memory a passage of the whole index: FAISS is built
# from every passage vector (1.5 KB) and BM25 from every passage's stems.
SOURCE_BYTES_PER_PASSAGE = 250
MEMORY_PER_PASSAGE = 4 * 1024


@dataclass
class UpdateReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    embedded_passages: int = 0
    embedded_sentences: int = 0
    rebuilt_reason: str | None = None
    seconds: float = 0.0
    wrote: bool = False

    def summary(self) -> str:
        if not self.wrote:
            return "index is up to date: nothing to embed"
        parts = [f"{len(self.added)} added", f"{len(self.changed)} changed", f"{len(self.removed)} removed"]
        text = (f"index updated ({', '.join(parts)}): embedded {self.embedded_passages} passages and "
                f"{self.embedded_sentences} sentences in {self.seconds:.1f} s")
        return f"{text}; full rebuild because {self.rebuilt_reason}" if self.rebuilt_reason else text

    def skipped_lines(self, unchanged: bool = False) -> list[str]:
        """"skipped FILE: why", once per file (`unchanged`: also the files skipped at an earlier update)."""
        return [f"skipped {s.file}: {s.reason}" for s in self.skipped if unchanged or s.reason != SKIPPED_BEFORE]


def pipeline_settings(settings: Settings) -> dict:
    return {"pipeline_version": PIPELINE_VERSION, "passage_max_chars": settings.passage_max_chars,
            "sentence_codec": settings.sentence_codec}


def index_is_current(settings: Settings) -> bool:
    """True when the live index matches the sources and settings: no update needed."""
    try:
        manifest = store.read_manifest(settings.index_dir)
    except store.IndexProblem:
        return False
    if manifest is None or _rebuild_reason(manifest, settings, None) or _store_change(manifest, settings):
        return False
    indexed = {name: entry["content_hash"] for name, entry in manifest["articles"].items()}
    skipped = set(manifest.get("skipped", {}).items())
    found = {name: digest for name, (_, digest) in scan_sources(settings.sources_dir).items()}
    return {k: v for k, v in found.items() if (k, v) not in skipped} == indexed


def _rebuild_reason(manifest: dict | None, settings: Settings, dimension: int | None) -> str | None:
    if manifest is None:
        return None
    if manifest.get("model") != model_identity(settings):
        return f"the index was built with another model ({manifest.get('model')})"
    if dimension is not None and manifest.get("dimension") != dimension:
        return "the embedding dimension changed"
    if manifest.get("pipeline") != pipeline_settings(settings):
        return "cleaning or passage settings changed"
    return None


def _store_change(manifest: dict | None, settings: Settings) -> str | None:
    """Why the passage vectors must move to another store (nothing is embedded again for that)."""
    if manifest is None:
        return None
    wanted = settings.vector_store_location
    have = store_of(manifest)
    return None if have == wanted else f"the vector store changed ({have[0]} {have[1]} -> {wanted[0]} {wanted[1]})"


def _split(article: Article, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    passages = build_passages(article.text, article.language, settings.passage_max_chars, skip=article.unquotable,
                              max_passages=settings.max_article_passages)
    passage_rows = np.array([(p.start, p.end) for p in passages], dtype=np.int64).reshape(-1, 2)
    sentence_rows = np.array(
        [(i, s, e) for i, p in enumerate(passages) for s, e in p.sentences], dtype=np.int64
    ).reshape(-1, 3)
    return passage_rows, sentence_rows


@dataclass
class _Block:
    """Rows of consecutive articles, ready to append to a generation: passages (article, start,
    end), sentences (passage within the block, article, start, end) and their vectors, raw
    float32 or codes (`coded`)."""

    passages: np.ndarray
    sentences: np.ndarray
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray
    sentence_context_vectors: np.ndarray
    coded: bool = False


class _GenerationWriter:
    """Streams blocks into a staging generation folder. Sentence vectors are coded with the
    kept index's codecs, or with codecs learnt from the first CODEC_TRAIN_SENTENCES sentences
    once the index is big enough for them (Settings.codec_min_sentences); until then they wait
    in memory, so the build holds at most that many raw sentence vectors."""

    def __init__(self, staging: Path, dimension: int, settings: Settings, codecs: dict[str, VectorCodec]):
        self.staging = staging
        self.dimension = dimension
        self.settings = settings
        self.codecs = dict(codecs)
        self.decided = bool(codecs) or settings.sentence_codec == NONE
        self.passages = NpyAppender(staging / "passages.npy", np.int64, 3)
        self.sentences = NpyAppender(staging / "sentences.npy", np.int64, store.SENTENCE_COLUMNS)
        self.passage_vectors = NpyAppender(staging / "passage_vectors.tmp.npy", np.float32, dimension)
        self.vectors: dict[str, NpyAppender] = {}
        self.pending: list[_Block] = []

    def add(self, block: _Block) -> None:
        if self.decided:
            self._write(block)
            return
        self.pending.append(block)
        if sum(len(b.sentences) for b in self.pending) >= CODEC_TRAIN_SENTENCES:
            self._decide(train=True)

    def _decide(self, train: bool) -> None:
        """Learn the codecs from the waiting rows (or store raw), then write those rows."""
        if train:
            for name in store.CODED_ARRAYS:
                rows = np.concatenate([getattr(b, name) for b in self.pending])
                chosen = np.random.default_rng(1234).choice(len(rows), min(TRAIN_SAMPLE, len(rows)), replace=False)
                self.codecs[name] = VectorCodec.train(self.settings.sentence_codec, rows[np.sort(chosen)])
        self.decided = True
        pending, self.pending = self.pending, []
        for block in pending:
            self._write(block)

    def _write(self, block: _Block) -> None:
        if not self.vectors:
            self.vectors = {name: NpyAppender(self.staging / f"{name}.npy", store.stored_dtype(name, self.codecs),
                                              self.codecs[name].code_size if name in self.codecs else self.dimension)
                            for name in store.CODED_ARRAYS}
        sentences = block.sentences.copy()
        sentences[:, 0] += self.passages.rows
        self.passages.append(block.passages)
        self.sentences.append(sentences)
        self.passage_vectors.append(block.passage_vectors)
        for name, appender in self.vectors.items():
            rows = getattr(block, name)
            appender.append(self.codecs[name].encode(rows) if name in self.codecs and not block.coded else rows)

    def finish(self) -> None:
        if not self.decided:
            waiting = sum(len(b.sentences) for b in self.pending)
            self._decide(train=waiting >= self.settings.codec_min_sentences and waiting > 0)
        if not self.vectors:
            self._write(_Block(np.zeros((0, 3), np.int64), np.zeros((0, 4), np.int64),
                               *(np.zeros((0, self.dimension), np.float32) for _ in range(3))))
        for appender in [self.passages, self.sentences, self.passage_vectors, *self.vectors.values()]:
            appender.close()
        for name, codec in self.codecs.items():
            codec.save(self.staging / f"{name}.codec")

    def abandon(self) -> None:
        for appender in [self.passages, self.sentences, self.passage_vectors, *self.vectors.values()]:
            appender.abandon()


def _kept_blocks(old: store.IndexData, kept: np.ndarray, new_article_id: np.ndarray):
    """The previous generation's rows of its passages `kept` (ascending) and their sentences,
    COPY_PASSAGES passages at a time, article ids renumbered; codes stay codes."""
    sentence_passage = np.asarray(old.sentences[:, 0])
    for at in range(0, len(kept), COPY_PASSAGES):
        ids = kept[at:at + COPY_PASSAGES]
        runs = np.split(ids, np.flatnonzero(np.diff(ids) != 1) + 1)  # kept passages come in runs
        sentence_ids = np.concatenate([np.arange(*np.searchsorted(sentence_passage, [r[0], r[-1] + 1]))
                                       for r in runs])
        passages = np.array(old.passages[ids])
        passages[:, 0] = new_article_id[passages[:, 0]]
        sentences = np.array(old.sentences[sentence_ids])
        sentences[:, 0] = np.searchsorted(ids, sentences[:, 0])
        sentences[:, 1] = new_article_id[sentences[:, 1]]
        yield _Block(passages, sentences, old.vector_index.vectors(ids),
                     np.array(old.sentence_vectors[sentence_ids]), np.array(old.sentence_context_vectors[sentence_ids]),
                     coded=bool(old.codecs))


def _embed_block(articles: list[Article], splits: list[tuple[np.ndarray, np.ndarray]], first_id: int,
                 embedder: Embedder) -> tuple[_Block, list[list[str]]]:
    """Embed a chunk of new articles (ids from `first_id`): each passage once with its sentences
    pooled in that pass, each sentence once on its own; and stem the passages for BM25."""
    passage_texts, spans, sentence_texts, passages, sentences, stems = [], [], [], [], [], []
    for offset, (article, (p_rows, s_rows)) in enumerate(zip(articles, splits)):
        base = len(passage_texts)
        for start, end in p_rows.tolist():
            passage_texts.append(article.text[start:end])
            stems.append(tokenize(article.text[start:end], article.language))
            spans.append([])
            passages.append((first_id + offset, start, end))
        for passage, start, end in s_rows.tolist():
            passage_start = int(p_rows[passage][0])
            spans[base + passage].append((start - passage_start, end - passage_start))
            sentence_texts.append(article.text[start:end])
            sentences.append((base + passage, first_id + offset, start, end))
    sentence_vectors = embedder.encode_passages(sentence_texts)
    if embedder.pools_in_context:
        passage_vectors, pooled = embedder.encode_in_context(passage_texts, spans)
        context = np.concatenate(pooled) if pooled else np.zeros((0, embedder.dimension), np.float32)
    else:  # no token states in this model: a sentence is read on its own
        passage_vectors, context = embedder.encode_passages(passage_texts), sentence_vectors
    block = _Block(np.array(passages, dtype=np.int64).reshape(-1, 3), np.array(sentences, dtype=np.int64).reshape(-1, 4),
                   passage_vectors, sentence_vectors, context)
    return block, stems


def _check_room(settings: Settings, old: store.IndexData | None, kept_passages: int, new_files: list[str]) -> None:
    """IndexResources now, before any embedding, when the disk or memory will not do."""
    new_bytes = 0
    for name in new_files:
        try:
            new_bytes += (settings.sources_dir / name).stat().st_size
        except OSError:
            pass
    old_bytes = sum(p.stat().st_size for p in old.path.rglob("*") if p.is_file()) if old is not None and old.path else 0
    old_share = kept_passages / max(1, int(old.manifest["passages"])) if old is not None else 0.0
    need = int(old_bytes * old_share + new_bytes * DISK_PER_SOURCE_BYTE)
    free = shutil.disk_usage(settings.index_dir).free
    if need > free:
        raise IndexResources(f"not enough disk space to update the index in {settings.index_dir}: it needs about "
                             f"{_size(need)} and {_size(free)} are free; free {_size(need - free)} "
                             "(the previous index still answers)")
    passages = kept_passages + new_bytes // SOURCE_BYTES_PER_PASSAGE
    memory = passages * MEMORY_PER_PASSAGE
    available = _available_memory()
    if available is not None and memory > available:
        raise IndexResources(f"not enough memory to update the index in {settings.index_dir}: about "
                             f"{_size(memory)} are needed beside the model and {_size(available)} are available; close "
                             "other programs or index on a bigger machine (the previous index still answers)")


def _size(count: int) -> str:
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= factor:
            return f"{count / factor:.1f} {unit}".replace(".0 ", " ")
    return f"{count} bytes"


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _progress_bar(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="indexing", unit="article", disable=not enabled or total == 0)


def update_index(settings: Settings, embedder: Embedder | None = None, rebuild: bool = False,
                 progress: bool = True) -> UpdateReport:
    """Add new and changed articles, drop removed ones, keep the rest's rows. Atomic.

    Kept articles keep their order and their rows are copied as they are (codes stay codes, the
    stems are not made again); new ones follow, read and embedded CHUNK_ARTICLES at a time and
    streamed to disk. A killed update leaves the previous generation answering."""
    started = time.monotonic()
    check_spec(settings.sentence_codec)  # with FAISS, now rather than after an hour of embedding
    embedder = embedder or Embedder(settings)
    found = scan_sources(settings.sources_dir)
    if not found:
        raise SourceError(f"no articles (.txt, .md, .html) in {settings.sources_dir}")
    report = UpdateReport()
    with store.write_lock(settings.index_dir):
        old, manifest = _previous_generation(settings, rebuild, report)
        store.remove_stale(settings.index_dir, milvus_token=settings.milvus_token)
        indexed = {} if old is None else {n: e["content_hash"] for n, e in old.manifest["articles"].items()}
        previously_skipped = {} if manifest is None else manifest.get("skipped", {})
        current = {name: digest for name, (_, digest) in found.items()}
        to_load = sorted(n for n, d in current.items() if indexed.get(n) != d and previously_skipped.get(n) != d)
        report.removed = sorted(set(indexed) - set(current))
        skipped = [Skipped(n, SKIPPED_BEFORE, d) for n, d in previously_skipped.items()
                   if current.get(n) == d and n not in to_load]
        if _nothing_to_write(old, [], report.removed, skipped, settings) and not to_load:
            report.skipped = skipped
            report.seconds = time.monotonic() - started
            return report
        old_files = list(old.articles.files) if old is not None else []
        keep = np.array([f in current and f not in to_load for f in old_files], dtype=bool)
        # the previous generation's passages of the kept articles (passages are in article order)
        kept_passages = np.flatnonzero(keep[np.asarray(old.passages[:, 0])]) if keep.any() \
            else np.zeros(0, np.int64)
        _check_room(settings, old, len(kept_passages), to_load)
        staging = store.begin_generation(settings.index_dir)
        data = _build_in(staging, settings, embedder, old, keep, kept_passages, to_load, current, skipped, report,
                         progress)
        if data is None:  # nothing new could be read and nothing else changed
            shutil.rmtree(staging, ignore_errors=True)
            report.seconds = time.monotonic() - started
            return report
        store.commit_generation(settings.index_dir, staging, data)
        store.remove_stale(settings.index_dir, milvus_token=settings.milvus_token)
        report.wrote = True
    report.seconds = time.monotonic() - started
    return report


def _previous_generation(settings: Settings, rebuild: bool,
                         report: UpdateReport) -> tuple[store.IndexData | None, dict | None]:
    """(the generation an update builds on, its manifest); None where the index is rebuilt (the
    reason goes into the report) or there is none yet."""
    if rebuild:
        report.rebuilt_reason = "--rebuild was asked for"
        return None, None
    try:
        manifest = store.read_manifest(settings.index_dir)
        report.rebuilt_reason = _rebuild_reason(manifest, settings, None)
    except store.IndexOutdated:
        report.rebuilt_reason = "the index was written in another format version"
        return None, None
    if manifest is None or report.rebuilt_reason is not None:
        return None, manifest
    return store.load_generation(settings.index_dir, milvus_token=settings.milvus_token), manifest


def _build_in(staging: Path, settings: Settings, embedder: Embedder, old: store.IndexData | None, keep: np.ndarray,
              kept_passages: np.ndarray, to_load: list[str], current: dict[str, str], skipped: list[Skipped],
              report: UpdateReport, progress: bool) -> dict | None:
    """_build into `staging`, which is removed on any failure; a full disk or memory is told as
    IndexResources (the previous index still answers)."""
    try:
        return _build(settings, embedder, old, keep, kept_passages, to_load, current, skipped, staging, report,
                      progress)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise IndexResources(f"the disk filled up while writing the index in {settings.index_dir}; free some "
                                 "space and run the update again (the previous index still answers)") from exc
        if isinstance(exc, MemoryError):
            raise IndexResources("the machine ran out of memory while indexing; close other programs or index "
                                 "on a bigger machine (the previous index still answers)") from exc
        raise


def _nothing_to_write(old: store.IndexData | None, fresh: list[str], removed: list[str], skipped: list[Skipped],
                      settings: Settings) -> bool:
    """The previous generation still says it all: no article read, none removed, the same
    vector store and the same files skipped."""
    return old is not None and not fresh and not removed and not _store_change(old.manifest, settings) and \
        old.manifest.get("skipped", {}) == {s.file: s.content_hash for s in skipped}


def _build(settings: Settings, embedder: Embedder, old: store.IndexData | None, keep: np.ndarray,
           kept_passages: np.ndarray, to_load: list[str], current: dict[str, str], skipped: list[Skipped],
           staging: Path, report: UpdateReport, progress: bool) -> dict | None:
    """Write the new generation's files into `staging`; its manifest, or None when there is
    nothing to write after all."""
    writer = _GenerationWriter(staging, embedder.dimension, settings, old.codecs if old is not None else {})
    articles_out = ArticleWriter(staging / ARTICLES_FILE)
    stems = PassageStems.empty()
    try:
        kept_files, entries = _copy_kept(old, keep, kept_passages, writer, articles_out, stems)
        fresh = _embed_new(settings, embedder, to_load, current, skipped, len(kept_files), writer, articles_out,
                           stems, entries, report, progress)
        writer.finish()
        articles_out.close()
    except BaseException:
        writer.abandon()
        articles_out.abandon()
        raise
    report.skipped = skipped
    before = old.manifest["articles"] if old is not None else {}
    report.added = sorted(f for f in fresh if f not in before)
    report.changed = sorted(f for f in fresh if f in before)
    if _nothing_to_write(old, fresh, report.removed, skipped, settings):
        return None
    if not kept_files and not fresh:
        raise SourceError(f"none of the files in {settings.sources_dir} could be read as an article")
    passages = np.load(staging / "passages.npy", mmap_mode="r")
    vectors_file = staging / "passage_vectors.tmp.npy"
    vector_index = build_vector_index(settings, np.load(vectors_file, mmap_mode="r"), passages)
    vector_index.save(staging / vector_index.FILE)
    vectors_file.unlink()
    LexicalIndex.from_stems(stems).save(staging / "bm25")
    vector_store, milvus_uri = settings.vector_store_location
    return {
        "format_version": store.FORMAT_VERSION,
        "model": embedder.identity,
        "dimension": embedder.dimension,
        "pipeline": pipeline_settings(settings),
        "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "passages": int(len(passages)),
        "sentences": int(writer.sentences.rows),
        "codecs": {name: codec.spec for name, codec in writer.codecs.items()},
        "vector_index": "flat" if len(passages) <= settings.exact_search_max_vectors else "ivf-flat",
        "vector_store": vector_store,
        "milvus_uri": milvus_uri,
        "articles": entries,
        "skipped": {s.file: s.content_hash for s in skipped if s.content_hash},
    }


def _copy_kept(old: store.IndexData | None, keep: np.ndarray, kept_passages: np.ndarray, writer: _GenerationWriter,
               articles_out: ArticleWriter, stems: PassageStems) -> tuple[list[str], dict[str, dict]]:
    """Copy the kept articles' rows from the previous generation as they are; (their files, their
    manifest entries)."""
    if old is None or not keep.any():
        return [], {}
    new_article_id = np.cumsum(keep) - 1
    for block in _kept_blocks(old, kept_passages, new_article_id):
        writer.add(block)
    kept_files = [f for f, k in zip(old.articles.files, keep.tolist()) if k]
    articles_out.add(a for a, k in zip(old.articles, keep.tolist()) if k)
    stems.extend_from(PassageStems.load(old.path / "bm25"), kept_passages)
    return kept_files, {f: old.manifest["articles"][f] for f in kept_files}


def _embed_new(settings: Settings, embedder: Embedder, to_load: list[str], current: dict[str, str],
               skipped: list[Skipped], first_id: int, writer: _GenerationWriter, articles_out: ArticleWriter,
               stems: PassageStems, entries: dict[str, dict], report: UpdateReport, progress: bool) -> list[str]:
    """Read, split and embed the new and changed articles CHUNK_ARTICLES at a time, streaming each
    chunk to the writers; the files written (one that cannot be read is added to `skipped`)."""
    fresh: list[str] = []
    bar = _progress_bar(len(to_load), progress)
    for at in range(0, len(to_load), CHUNK_ARTICLES):
        articles, splits = [], []
        for name in to_load[at:at + CHUNK_ARTICLES]:
            try:
                article = load_article(settings.sources_dir, name)
                splits.append(_split(article, settings))
                articles.append(article)
            except (SourceError, TooManyPassages) as exc:
                skipped.append(Skipped(name, str(exc), current.get(name)))
        if articles:
            block, block_stems = _embed_block(articles, splits, first_id + len(fresh), embedder)
            writer.add(block)
            stems.extend(block_stems)
            articles_out.add(articles)
            report.embedded_passages += len(block.passages)
            report.embedded_sentences += len(block.sentences)
            fresh += [a.file for a in articles]
            entries.update({a.file: {k: a.metadata()[k] for k in MANIFEST_ARTICLE_KEYS} for a in articles})
        bar.update(min(CHUNK_ARTICLES, len(to_load) - at))
    bar.close()
    return fresh
