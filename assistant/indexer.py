"""Bring the index in line with the sources folder, embedding only what changed."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import store
from .config import Settings
from .embedding import Embedder, model_identity
from .lexical import LexicalIndex, tokenize
from .passages import build_passages
from .sources import Article, Skipped, SourceError, load_articles, scan_sources
from .vector_index import build_vector_index

log = logging.getLogger(__name__)

# Bump when cleaning or splitting changes, so old indexes are rebuilt rather than mixed.
PIPELINE_VERSION = 1


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


@dataclass
class _ArticleRows:
    """One article's passages, sentences and vectors, ready to be concatenated."""

    article: dict
    passages: np.ndarray  # (n, 2) start, end
    sentences: np.ndarray  # (m, 3) passage-within-article, start, end
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray


def pipeline_settings(settings: Settings) -> dict:
    return {"pipeline_version": PIPELINE_VERSION, "passage_max_chars": settings.passage_max_chars}


def index_is_current(settings: Settings) -> bool:
    """True when the live index matches the sources and settings: no update needed."""
    try:
        manifest = store.read_manifest(settings.index_dir)
    except store.IndexProblem:
        return False
    if manifest is None or _rebuild_reason(manifest, settings, None):
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


def _rows_for_new(article: Article, settings: Settings) -> tuple[dict, np.ndarray, np.ndarray, list[str], list[str]]:
    passages = build_passages(article.text, article.language, settings.passage_max_chars)
    passage_rows = np.array([(p.start, p.end) for p in passages], dtype=np.int64).reshape(-1, 2)
    sentence_rows = np.array(
        [(i, s, e) for i, p in enumerate(passages) for s, e in p.sentences], dtype=np.int64
    ).reshape(-1, 3)
    passage_texts = [article.text[s:e] for s, e in passage_rows]
    sentence_texts = [article.text[s:e] for _, s, e in sentence_rows]
    record = {**article.metadata(), "text": article.text}
    return record, passage_rows, sentence_rows, passage_texts, sentence_texts


def _rows_for_unchanged(old: store.IndexData) -> dict[str, _ArticleRows]:
    rows = {}
    for article_id, article in enumerate(old.articles):
        p_ids = np.flatnonzero(old.passages[:, 0] == article_id)
        s_ids = np.flatnonzero(old.sentences[:, 1] == article_id)
        first = p_ids[0] if len(p_ids) else 0
        sentences = np.array(old.sentences[s_ids][:, [0, 2, 3]])
        sentences[:, 0] -= first
        rows[article["file"]] = _ArticleRows(
            article=article,
            passages=np.array(old.passages[p_ids][:, 1:]),
            sentences=sentences,
            passage_vectors=np.array(old.passage_vectors[p_ids]),
            sentence_vectors=np.array(old.sentence_vectors[s_ids]),
        )
    return rows


def _embed_new(articles: list[Article], settings: Settings, embedder: Embedder, progress: bool) -> list[_ArticleRows]:
    prepared = [_rows_for_new(a, settings) for a in articles]
    passage_texts = [t for p in prepared for t in p[3]]
    sentence_texts = [t for p in prepared for t in p[4]]
    # One encode call for both, so the progress bar covers the whole job.
    vectors = embedder.encode_passages(passage_texts + sentence_texts, progress=progress)
    passage_vectors, sentence_vectors = vectors[: len(passage_texts)], vectors[len(passage_texts):]
    rows, p_at, s_at = [], 0, 0
    for record, p_rows, s_rows, p_texts, s_texts in prepared:
        rows.append(_ArticleRows(record, p_rows, s_rows,
                                 passage_vectors[p_at:p_at + len(p_texts)], sentence_vectors[s_at:s_at + len(s_texts)]))
        p_at += len(p_texts)
        s_at += len(s_texts)
    return rows


def _assemble(rows: list[_ArticleRows], settings: Settings, embedder: Embedder, skipped: list[Skipped]) -> store.IndexData:
    passages, sentences, p_vectors, s_vectors, articles, tokens = [], [], [], [], [], []
    passage_base = 0
    for article_id, r in enumerate(rows):
        text, language = r.article["text"], r.article["language"]
        passages.append(np.column_stack([np.full(len(r.passages), article_id), r.passages]))
        sentences.append(np.column_stack([r.sentences[:, 0] + passage_base, np.full(len(r.sentences), article_id),
                                          r.sentences[:, 1:]]))
        tokens.extend(tokenize(text[s:e], language) for s, e in r.passages)
        p_vectors.append(r.passage_vectors)
        s_vectors.append(r.sentence_vectors)
        articles.append(r.article)
        passage_base += len(r.passages)
    dim = embedder.dimension
    passages_arr = np.concatenate(passages).astype(np.int64) if passages else np.zeros((0, 3), np.int64)
    sentences_arr = np.concatenate(sentences).astype(np.int64) if sentences else np.zeros((0, 4), np.int64)
    p_vec = np.concatenate(p_vectors) if p_vectors else np.zeros((0, dim), np.float32)
    s_vec = np.concatenate(s_vectors) if s_vectors else np.zeros((0, dim), np.float32)
    manifest = {
        "format_version": store.FORMAT_VERSION,
        "model": embedder.identity,
        "dimension": dim,
        "pipeline": pipeline_settings(settings),
        "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "passages": int(len(passages_arr)),
        "sentences": int(len(sentences_arr)),
        "vector_index": "flat" if len(passages_arr) <= settings.exact_search_max_vectors else "ivf-flat",
        "articles": {a["file"]: {k: a[k] for k in ("content_hash", "title", "date", "language")} for a in articles},
        "skipped": {s.file: s.content_hash for s in skipped if s.content_hash},
    }
    return store.IndexData(
        manifest=manifest, articles=articles, passages=passages_arr, sentences=sentences_arr,
        passage_vectors=p_vec, sentence_vectors=s_vec,
        faiss_index=build_vector_index(p_vec, settings.exact_search_max_vectors, settings.ivf_lists, settings.ivf_probe),
        lexical=LexicalIndex.build(tokens),
    )


def update_index(settings: Settings, embedder: Embedder | None = None, rebuild: bool = False,
                 progress: bool = True) -> UpdateReport:
    """Add new and changed articles, drop removed ones, keep the rest's vectors. Atomic."""
    started = time.monotonic()
    embedder = embedder or Embedder(settings)
    found = scan_sources(settings.sources_dir)
    if not found:
        raise SourceError(f"no articles (.txt, .md, .html) in {settings.sources_dir}")
    report = UpdateReport()
    with store.write_lock(settings.index_dir):
        old, manifest = None, None
        if not rebuild:
            manifest = store.read_manifest(settings.index_dir)
            report.rebuilt_reason = _rebuild_reason(manifest, settings, None)
            if manifest is not None and report.rebuilt_reason is None:
                old = store.load_generation(settings.index_dir)
        else:
            report.rebuilt_reason = "--rebuild was asked for"
        store.remove_stale(settings.index_dir)
        indexed = {} if old is None else {n: e["content_hash"] for n, e in old.manifest["articles"].items()}
        previously_skipped = {} if manifest is None else manifest.get("skipped", {})
        current = {name: digest for name, (_, digest) in found.items()}
        to_load = [n for n, d in current.items() if indexed.get(n) != d and previously_skipped.get(n) != d]
        report.removed = sorted(set(indexed) - set(current))
        fresh, skipped = load_articles(settings.sources_dir, to_load)
        for s in skipped:
            s.content_hash = current.get(s.file)
        skipped += [Skipped(n, "skipped before (unchanged)", d) for n, d in previously_skipped.items()
                    if current.get(n) == d and n not in to_load]
        report.skipped = skipped
        report.added = sorted(a.file for a in fresh if a.file not in indexed)
        report.changed = sorted(a.file for a in fresh if a.file in indexed)
        if old is not None and not fresh and not report.removed and \
                old.manifest.get("skipped", {}) == {s.file: s.content_hash for s in skipped}:
            report.seconds = time.monotonic() - started
            return report
        kept = _rows_for_unchanged(old) if old is not None else {}
        new_rows = {r.article["file"]: r for r in _embed_new(fresh, settings, embedder, progress)}
        report.embedded_passages = sum(len(r.passages) for r in new_rows.values())
        report.embedded_sentences = sum(len(r.sentences) for r in new_rows.values())
        ordered = [new_rows.get(name) or kept.get(name) for name in sorted(current)]
        rows = [r for r in ordered if r is not None]
        if not rows:
            raise SourceError(f"none of the files in {settings.sources_dir} could be read as an article")
        data = _assemble(rows, settings, embedder, skipped)
        store.write_generation(settings.index_dir, data)
        store.remove_stale(settings.index_dir)
        report.wrote = True
    report.seconds = time.monotonic() - started
    return report
