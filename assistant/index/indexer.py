"""Bring the index in line with the sources folder, embedding only what changed."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

import numpy as np

from . import store
from ..config import Settings
from ..models.embedding import Embedder, TokenStates, model_identity
from .codecs import NONE, TRAIN_SAMPLE, VectorCodec, check_spec
from .lexical import LexicalIndex, tokenize
from ..ingest.passages import TooManyPassages, build_passages
from ..ingest.sources import Article, Skipped, SourceError, load_articles, scan_sources
from .vector_stores import build_vector_index, store_of

log = logging.getLogger(__name__)

# Bump when cleaning, splitting or lexical tokens change, so old indexes are rebuilt rather than mixed.
# 3: bylines kept in the text (left out of passages), authors and url in the metadata, ad lines removed.
# 4: numbers in the BM25 tokens read in the text's language (normalise.py: English "0,125" was "0125").
# 5: a sentence repeating an earlier one word for word is in no passage; "# " no longer starts a .txt title.
PIPELINE_VERSION = 5
# The reason given for a file skipped at an earlier update and not changed since.
SKIPPED_BEFORE = "skipped before (unchanged)"
# What the manifest lists per article (articles.sqlite has all of it and the text).
MANIFEST_ARTICLE_KEYS = ("content_hash", "title", "date", "language", "authors", "url")


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


@dataclass
class _ArticleRows:
    """One article's passages, sentences, vectors and token states, ready to be concatenated.

    The last three arrays are named as in store.IndexData and hold raw vectors, or codes when
    `coded` (rows kept from an index whose codecs are reused)."""

    article: Article
    passages: np.ndarray  # (n, 2) start, end
    sentences: np.ndarray  # (m, 5) passage-within-article, start, end, token_start, token_end (in `token_vectors`)
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray
    sentence_context_vectors: np.ndarray
    token_vectors: np.ndarray  # (t, dim) float16 when raw
    coded: bool = False


def pipeline_settings(settings: Settings) -> dict:
    return {"pipeline_version": PIPELINE_VERSION, "passage_max_chars": settings.passage_max_chars,
            "sentence_codec": settings.sentence_codec, "token_codec": settings.token_codec}


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


def _rows_for_unchanged(old: store.IndexData, keep: set[str]) -> dict[str, _ArticleRows]:
    """The stored rows of the articles in `keep`. Passages and sentences are stored in article
    order, so each article's rows are one range found by binary search (a scan per article
    made an update quadratic in the corpus size)."""
    rows = {}
    passage_owner, sentence_owner = np.asarray(old.passages[:, 0]), np.asarray(old.sentences[:, 1])
    files = old.articles.files if hasattr(old.articles, "files") else [a.file for a in old.articles]
    for article_id, file in enumerate(files):
        if file not in keep:
            continue
        p_ids = np.arange(*np.searchsorted(passage_owner, [article_id, article_id + 1]))
        s_ids = np.arange(*np.searchsorted(sentence_owner, [article_id, article_id + 1]))
        sentences = np.array(old.sentences[s_ids][:, [0, 2, 3, 4, 5]])
        first_token = int(sentences[:, 3].min()) if len(sentences) else 0
        last_token = int(sentences[:, 4].max()) if len(sentences) else 0
        sentences[:, 0] -= p_ids[0] if len(p_ids) else 0
        sentences[:, 3:] -= first_token
        rows[file] = _ArticleRows(
            article=old.articles[article_id],
            passages=np.array(old.passages[p_ids][:, 1:]),
            sentences=sentences,
            passage_vectors=old.vector_index.vectors(p_ids),
            sentence_vectors=np.array(old.sentence_vectors[s_ids]),
            sentence_context_vectors=np.array(old.sentence_context_vectors[s_ids]),
            token_vectors=np.array(old.token_vectors[first_token:last_token]),
            coded=bool(old.codecs),
        )
    return rows


def _sentence_tokens(states: TokenStates | None, passage_start: int, start: int, end: int) -> np.ndarray:
    """Rows of a passage's token states that belong to the sentence [start, end)."""
    if states is None:
        return np.zeros(0, dtype=np.int64)
    token_end = states.spans[:, 1] + passage_start
    return np.flatnonzero((token_end > start) & (token_end <= end))


def _article_rows(article: Article, passages: np.ndarray, sentences: np.ndarray, passage_vectors: np.ndarray,
                  sentence_vectors: np.ndarray, states: list[TokenStates | None]) -> _ArticleRows:
    context, token_blocks, ranges, at = [], [], [], 0
    for (passage, start, end), own in zip(sentences, sentence_vectors):
        picked = _sentence_tokens(states[passage], int(passages[passage][0]), int(start), int(end))
        block = states[passage].vectors[picked] if len(picked) else np.zeros((0, len(own)), np.float32)
        pooled = block.mean(0) if len(block) else own  # no token states: the sentence's own vector
        context.append(pooled / max(float(np.linalg.norm(pooled)), 1e-12))
        token_blocks.append(block.astype(np.float16))
        ranges.append((at, at + len(block)))
        at += len(block)
    dim = passage_vectors.shape[1]
    return _ArticleRows(
        article=article,
        passages=passages,
        sentences=np.column_stack([sentences, np.array(ranges, dtype=np.int64).reshape(-1, 2)]),
        passage_vectors=passage_vectors,
        sentence_vectors=sentence_vectors,
        sentence_context_vectors=np.array(context, dtype=np.float32).reshape(-1, dim),
        token_vectors=np.concatenate(token_blocks) if token_blocks else np.zeros((0, dim), np.float16),
    )


def _split_all(articles: list[Article], settings: Settings) -> tuple[dict, list[Skipped]]:
    """Each article's passage and sentence rows; those over the passage limit are skipped."""
    split, skipped = {}, []
    for article in articles:
        try:
            split[article.file] = _split(article, settings)
        except TooManyPassages as exc:
            skipped.append(Skipped(article.file, str(exc)))
    return split, skipped


def _embed_new(articles: list[Article], splits: dict, embedder: Embedder, progress: bool) -> list[_ArticleRows]:
    split = [splits[a.file] for a in articles]
    passage_texts = [a.text[s:e] for a, (p, _) in zip(articles, split) for s, e in p]
    sentence_texts = [a.text[s:e] for a, (_, sent) in zip(articles, split) for _, s, e in sent]
    if embedder.has_token_states:
        passage_vectors, states = embedder.encode_with_tokens(passage_texts, "passage", progress=progress)
    else:
        passage_vectors, states = embedder.encode_passages(passage_texts, progress=progress), [None] * len(passage_texts)
    sentence_vectors = embedder.encode_passages(sentence_texts, progress=progress)
    rows, p_at, s_at = [], 0, 0
    for article, (p_rows, s_rows) in zip(articles, split):
        p_end, s_end = p_at + len(p_rows), s_at + len(s_rows)
        rows.append(_article_rows(article, p_rows, s_rows, passage_vectors[p_at:p_end],
                                  sentence_vectors[s_at:s_end], states[p_at:p_end]))
        p_at, s_at = p_end, s_end
    return rows


def _stack(blocks: list[np.ndarray], shape: tuple[int, int], dtype) -> np.ndarray:
    return np.concatenate(blocks).astype(dtype) if blocks else np.zeros(shape, dtype)


def _training_sample(blocks: list[np.ndarray], limit: int, seed: int = 1234) -> np.ndarray:
    """Up to `limit` rows drawn evenly from all blocks, without concatenating them all first."""
    total = sum(len(b) for b in blocks)
    chosen = np.sort(np.random.default_rng(seed).choice(total, min(limit, total), replace=False))
    starts = np.cumsum([0] + [len(b) for b in blocks])
    picked = [blocks[i][chosen[(chosen >= starts[i]) & (chosen < starts[i + 1])] - starts[i]]
              for i in range(len(blocks))]
    return np.concatenate(picked).astype(np.float32)


def _codecs_for(rows: list[_ArticleRows], kept: dict[str, VectorCodec], settings: Settings) -> dict[str, VectorCodec]:
    """The kept index's codecs (its rows are coded with them); else new ones, trained on all
    rows, once they hold `codec_min_tokens` token states; else none (vectors stored raw)."""
    if kept:
        return kept
    if sum(len(r.token_vectors) for r in rows) < settings.codec_min_tokens:
        return {}
    specs = {"sentence_vectors": settings.sentence_codec, "sentence_context_vectors": settings.sentence_codec,
             "token_vectors": settings.token_codec}
    return {name: VectorCodec.train(spec, _training_sample([getattr(r, name) for r in rows], TRAIN_SAMPLE))
            for name, spec in specs.items() if spec != NONE}


def _encoded(row: _ArticleRows, codecs: dict[str, VectorCodec]) -> _ArticleRows:
    if row.coded or not codecs:
        return row
    coded = {name: codec.encode(getattr(row, name)) for name, codec in codecs.items()}
    return replace(row, coded=True, **coded)


def _assemble(rows: list[_ArticleRows], codecs: dict[str, VectorCodec], settings: Settings, embedder: Embedder,
              skipped: list[Skipped]) -> store.IndexData:
    passages, sentences, tokens = [], [], []
    passage_base = token_base = 0
    for article_id, r in enumerate(rows):
        text, language = r.article.text, r.article.language
        passages.append(np.column_stack([np.full(len(r.passages), article_id), r.passages]))
        sentences.append(np.column_stack([r.sentences[:, 0] + passage_base, np.full(len(r.sentences), article_id),
                                          r.sentences[:, 1:3], r.sentences[:, 3:5] + token_base]))
        tokens.extend(tokenize(text[s:e], language) for s, e in r.passages)
        passage_base += len(r.passages)
        token_base += len(r.token_vectors)
    dim = embedder.dimension
    passages_arr = _stack(passages, (0, 3), np.int64)
    sentences_arr = _stack(sentences, (0, 6), np.int64)
    p_vec = _stack([r.passage_vectors for r in rows], (0, dim), np.float32)
    vector_store, milvus_uri = settings.vector_store_location
    stacked = {name: _stack([getattr(r, name) for r in rows], (0, codecs[name].code_size if name in codecs else dim),
                            store.stored_dtype(name, codecs)) for name in store.CODED_ARRAYS}
    manifest = {
        "format_version": store.FORMAT_VERSION,
        "model": embedder.identity,
        "dimension": dim,
        "pipeline": pipeline_settings(settings),
        "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "passages": int(len(passages_arr)),
        "sentences": int(len(sentences_arr)),
        "tokens": int(len(stacked["token_vectors"])),
        "codecs": {name: codec.spec for name, codec in codecs.items()},
        "vector_index": "flat" if len(passages_arr) <= settings.exact_search_max_vectors else "ivf-flat",
        "vector_store": vector_store,
        "milvus_uri": milvus_uri,
        "articles": {a.article.file: {k: a.article.metadata()[k] for k in MANIFEST_ARTICLE_KEYS} for a in rows},
        "skipped": {s.file: s.content_hash for s in skipped if s.content_hash},
    }
    return store.IndexData(
        manifest=manifest, articles=[r.article for r in rows], passages=passages_arr, sentences=sentences_arr,
        **stacked,
        vector_index=build_vector_index(settings, p_vec, passages_arr),
        lexical=LexicalIndex.build(tokens),
        codecs=codecs,
    )


def update_index(settings: Settings, embedder: Embedder | None = None, rebuild: bool = False,
                 progress: bool = True) -> UpdateReport:
    """Add new and changed articles, drop removed ones, keep the rest's vectors. Atomic."""
    started = time.monotonic()
    for spec in (settings.sentence_codec, settings.token_codec):
        check_spec(spec)  # with FAISS, now rather than after an hour of embedding (Settings checks only the name)
    embedder = embedder or Embedder(settings)
    found = scan_sources(settings.sources_dir)
    if not found:
        raise SourceError(f"no articles (.txt, .md, .html) in {settings.sources_dir}")
    report = UpdateReport()
    with store.write_lock(settings.index_dir):
        old, manifest = None, None
        if not rebuild:
            try:
                manifest = store.read_manifest(settings.index_dir)
                report.rebuilt_reason = _rebuild_reason(manifest, settings, None)
            except store.IndexOutdated:
                report.rebuilt_reason = "the index was written in another format version"
            if manifest is not None and report.rebuilt_reason is None:
                old = store.load_generation(settings.index_dir, milvus_token=settings.milvus_token)
        else:
            report.rebuilt_reason = "--rebuild was asked for"
        store.remove_stale(settings.index_dir, milvus_token=settings.milvus_token)
        indexed = {} if old is None else {n: e["content_hash"] for n, e in old.manifest["articles"].items()}
        previously_skipped = {} if manifest is None else manifest.get("skipped", {})
        current = {name: digest for name, (_, digest) in found.items()}
        to_load = [n for n, d in current.items() if indexed.get(n) != d and previously_skipped.get(n) != d]
        report.removed = sorted(set(indexed) - set(current))
        fresh, skipped = load_articles(settings.sources_dir, to_load)
        splits, too_long = _split_all(fresh, settings)
        fresh, skipped = [a for a in fresh if a.file in splits], skipped + too_long
        for s in skipped:
            s.content_hash = current.get(s.file)
        skipped += [Skipped(n, SKIPPED_BEFORE, d) for n, d in previously_skipped.items()
                    if current.get(n) == d and n not in to_load]
        report.skipped = skipped
        report.added = sorted(a.file for a in fresh if a.file not in indexed)
        report.changed = sorted(a.file for a in fresh if a.file in indexed)
        if old is not None and not fresh and not report.removed and not _store_change(old.manifest, settings) and \
                old.manifest.get("skipped", {}) == {s.file: s.content_hash for s in skipped}:
            report.seconds = time.monotonic() - started
            return report
        kept = _rows_for_unchanged(old, set(current) - {a.file for a in fresh}) if old is not None else {}
        new_rows = {r.article.file: r for r in _embed_new(fresh, splits, embedder, progress)}
        report.embedded_passages = sum(len(r.passages) for r in new_rows.values())
        report.embedded_sentences = sum(len(r.sentences) for r in new_rows.values())
        ordered = [new_rows.get(name) or kept.get(name) for name in sorted(current)]
        rows = [r for r in ordered if r is not None]
        if not rows:
            raise SourceError(f"none of the files in {settings.sources_dir} could be read as an article")
        codecs = _codecs_for(rows, old.codecs if old is not None else {}, settings)
        rows = [_encoded(r, codecs) for r in rows]
        data = _assemble(rows, codecs, settings, embedder, skipped)
        store.write_generation(settings.index_dir, data)
        store.remove_stale(settings.index_dir, milvus_token=settings.milvus_token)
        report.wrote = True
    report.seconds = time.monotonic() - started
    return report
