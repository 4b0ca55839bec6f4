"""The index on disk: plain named files in generation folders, swapped in atomically.

Layout of `index/`:
    CURRENT                 name of the live generation (replaced atomically)
    .lock                   held by the one writer at a time
    gen-<time>-<id>/        one complete, immutable build:
        manifest.json       format version, model, dimension, settings, articles and hashes
        articles.sqlite     one row an article: metadata and the kept text (read on demand)
        passages.npy        int64 rows (article, start, end)
        sentences.npy       int64 rows (passage, article, start, end)
        sentence_vectors.npy            each sentence embedded on its own
        sentence_context_vectors.npy    each sentence's tokens pooled from its passage's pass
        <name>.codec        when the manifest lists <name> under "codecs": the FAISS codec whose
                            uint8 codes <name>.npy holds (codecs.py); else float32
        passages.faiss      FAISS index over the passages' normalised embeddings (row i =
                            passage i; the vectors are read back from it, not stored twice), or
                            with vector_store "milvus": milvus.json naming the generation's Milvus
                            collection (and milvus.db, its embedded database; milvus_index.py)
        bm25/               bm25s files over the passages' stemmed tokens, and those tokens
                            (lexical.py), so an update re-stems only the new articles
        readers.lock        empty; every process that has the generation open holds a shared
                            flock on it, and cleanup deletes only generations it can lock alone

A build writes a new generation beside the live one and then replaces CURRENT, so a crash at
any moment leaves the previous index intact; readers never see a half-written index. An
answer that started on an old generation finishes on it however many updates follow: the
generation stays on disk while a loaded `IndexData` holds it (`GenerationHold`).
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import shutil
import sqlite3
import sys
import uuid
import weakref
from contextlib import contextmanager
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..files import atomic_write_text, fsync_dir
from ..ingest.sources import Article
from .articles import FILE as ARTICLES_FILE
from .articles import ArticleTable
from .codecs import VectorCodec
from .errors import (IndexBusy, IndexCorrupt, IndexMissing, IndexOutdated, IndexProblem,  # noqa: F401 - also
                     IndexUnreadable, rebuild_hint)  # store.IndexProblem etc., as the callers name them
from .lexical import LexicalIndex
from .vector_index import VectorIndex
from .vector_stores import drop_vector_index, load_vector_index

log = logging.getLogger(__name__)

# 4: passage vectors only in FAISS; sentence and token vectors may be coded.
# 5: no token states; the passages' stems are kept beside BM25.
FORMAT_VERSION = 5
CURRENT = "CURRENT"
LOCK = ".lock"
BUILDING_PREFIX = ".building-"
GENERATION_PREFIX = "gen-"
READERS = "readers.lock"
# Generations remove_stale keeps unheld: the live one and the one before it, because a reader
# that read CURRENT just before a swap may still be opening the previous generation before it
# holds it; older ones stay only while a reader holds them (GenerationHold).
KEEP_GENERATIONS = 2
# Times a reader opens the live generation when a writer swapped and deleted the one it was
# opening: each retry needs another complete update within the milliseconds of an open, so
# the fifth failure in a row is a real problem, not a race, and is reported.
LOAD_ATTEMPTS = 5
ARRAY_FILES = ("passages.npy", "sentences.npy", "sentence_vectors.npy", "sentence_context_vectors.npy")
SENTENCE_COLUMNS = 4
# The arrays a codec may compress, and their dtype when stored as they are.
CODED_ARRAYS = {"sentence_vectors": np.float32, "sentence_context_vectors": np.float32}


def stored_dtype(array: str, codecs: dict) -> type:
    """How a coded array is kept: uint8 codes when it has a codec, else its raw dtype."""
    return np.uint8 if array in codecs else CODED_ARRAYS[array]


@dataclass
class IndexData:
    """Everything a build writes; also what a loaded generation holds."""

    manifest: dict
    articles: Sequence[Article]  # a list when built, an ArticleTable (SQLite, lazy) when loaded
    passages: np.ndarray  # (n, 3) int64: article, start, end
    sentences: np.ndarray  # (m, 4) int64: passage, article, start, end
    # The next two hold raw vectors, or uint8 codes when `codecs` has a codec of that name.
    sentence_vectors: np.ndarray
    sentence_context_vectors: np.ndarray
    vector_index: VectorIndex | None = None  # also holds the passage vectors
    codecs: dict[str, VectorCodec] = field(default_factory=dict)
    lexical: LexicalIndex | None = None
    path: Path | None = field(default=None)
    hold: GenerationHold | None = field(default=None, repr=False)  # keeps `path` on disk while loaded


class GenerationHold:
    """A shared lock on a generation's `readers.lock`, held while this object lives (a loaded
    `IndexData` keeps it, and a `Snapshot` the IndexData): `remove_stale` leaves the generation
    alone until every holder, in this process or another, has let go.

    flock locks belong to an open file, so a hold and cleanup in one process exclude each other
    as they do across processes. A generation written before `readers.lock` existed cannot be
    held (there is nothing to lock without writing into it); it is read as before."""

    def __init__(self, generation: Path):
        try:
            fd = os.open(generation / READERS, os.O_RDONLY)
        except FileNotFoundError:
            if (generation / "manifest.json").exists():
                self._release = None  # an older generation: nothing to hold
                return
            raise IndexCorrupt(f"the index generation {generation} is gone; {rebuild_hint(generation.parent)}")
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError as exc:  # cleanup holds it alone: it is being deleted
            os.close(fd)
            raise IndexCorrupt(f"the index generation {generation.name} is being deleted") from exc
        self._release = weakref.finalize(self, os.close, fd)

    def release(self) -> None:
        if self._release is not None:
            self._release()


def current_generation(index_dir: Path) -> Path | None:
    pointer = index_dir / CURRENT
    if not pointer.exists():
        return None
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:  # garbage bytes are as bad as a wrong name
        raise IndexCorrupt(f"{pointer} is unreadable ({exc}); {rebuild_hint(index_dir)}") from exc
    if not name.startswith(GENERATION_PREFIX) or any(c in name for c in "/\n\x00"):
        raise IndexCorrupt(f"{pointer} does not name an index generation; {rebuild_hint(index_dir)}")
    return index_dir / name


def read_manifest(index_dir: Path, generation: Path | None = None) -> dict | None:
    """The live manifest (or that of `generation`), or None when no index was built yet."""
    generation = generation or current_generation(index_dir)
    if generation is None:
        return None
    try:
        manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"the index manifest in {generation} is unreadable ({exc}); {rebuild_hint(index_dir)}") \
            from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("format_version"), int):
        raise IndexCorrupt(f"the index in {index_dir} has an unknown format; {rebuild_hint(index_dir)}")
    if manifest["format_version"] != FORMAT_VERSION:
        raise IndexOutdated(f"the index in {index_dir} has format {manifest['format_version']}, this version "
                            f"reads format {FORMAT_VERSION}; {rebuild_hint(index_dir)}")
    return manifest


@contextmanager
def write_lock(index_dir: Path, wait_seconds: float = 60.0):
    """One writer at a time; a second one waits, then fails with a clear message."""
    from filelock import FileLock, Timeout

    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(index_dir / LOCK)
    try:
        lock.acquire(timeout=wait_seconds, poll_interval=0.2)
    except Timeout as exc:
        raise IndexBusy(f"another process is updating the index in {index_dir}; try again when it is done") from exc
    try:
        yield
    finally:
        lock.release()


def _write_json(path: Path, value) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(value, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())


def begin_generation(index_dir: Path) -> Path:
    """A new, empty staging folder for a generation (`commit_generation` makes it live). Call
    under `write_lock`; a staging folder left by a killed build is removed by `remove_stale`."""
    # Names sort by build time (to the microsecond): cleanup keeps the newest ones by name.
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    staging = index_dir / f"{BUILDING_PREFIX}{GENERATION_PREFIX}{stamp}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    return staging


def commit_generation(index_dir: Path, staging: Path, manifest: dict) -> Path:
    """Write the manifest last (its presence marks a full build), flush, and swap it in."""
    (staging / READERS).touch()
    _write_json(staging / "manifest.json", manifest)
    fsync_dir(staging)
    final = index_dir / staging.name.removeprefix(BUILDING_PREFIX)
    os.replace(staging, final)
    atomic_write_text(index_dir / CURRENT, final.name + "\n", durable=True)
    return final


def _delete_folder(path: Path) -> None:
    """Delete a generation folder; what cannot be deleted is logged (the next update tries again)."""
    failures: list[str] = []

    def note(_function, failed_path, error) -> None:
        error = error[1] if isinstance(error, tuple) else error  # onerror passes exc_info, onexc the exception
        failures.append(f"{failed_path} ({error})")

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=note)
    else:
        shutil.rmtree(path, onerror=note)
    if failures:
        log.warning("could not delete all of the old index folder %s (%d left: %s); the next update tries again",
                    path, len(failures), "; ".join(failures[:3]))


def _delete_unless_held(generation: Path, milvus_token: str) -> None:
    """Delete an old generation unless a reader holds it (then the next update tries again)."""
    try:
        fd = os.open(generation / READERS, os.O_RDONLY)
    except FileNotFoundError:
        fd = None  # written before readers.lock existed: nobody can hold it
    try:
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # kept until deleted: no reader can start
            except BlockingIOError:
                log.info("keeping the old index generation %s: an answer still reads it", generation.name)
                return
        if drop_vector_index(generation, milvus_token):
            _delete_folder(generation)
    finally:
        if fd is not None:
            os.close(fd)


def remove_stale(index_dir: Path, keep: int = KEEP_GENERATIONS, milvus_token: str = "") -> None:
    """Delete leftovers of killed builds and all but the newest `keep` generations that no
    reader holds (GenerationHold). Under the write lock."""
    for path in index_dir.glob(BUILDING_PREFIX + "*"):
        if drop_vector_index(path, milvus_token):  # its Milvus collection first, if it has one
            _delete_folder(path)
    (index_dir / (CURRENT + ".tmp")).unlink(missing_ok=True)
    try:
        live = current_generation(index_dir)
    except IndexProblem:
        return  # keep everything until a rebuild replaces the pointer
    if live is None:
        return
    generations = sorted(index_dir.glob(GENERATION_PREFIX + "*"), key=lambda p: p.name, reverse=True)
    kept = [g for g in generations if g == live][:1]
    for generation in generations:
        if generation in kept:
            continue
        if len(kept) < keep and generation.name < live.name:
            kept.append(generation)  # the previous build: a reader may still be opening it
            continue
        _delete_unless_held(generation, milvus_token)


def load_generation(index_dir: Path, attempts: int = LOAD_ATTEMPTS, probe: int | None = None,
                    milvus_token: str = "") -> IndexData:
    """Open the live generation, checking it is whole; raises IndexMissing / IndexCorrupt.
    (`probe`: Settings.ivf_probe; `milvus_token`: Settings.milvus_token, for a Milvus server.)

    A writer may make a newer generation live and delete the one being read meanwhile; that
    failure is retried on the new generation rather than reported as damage."""
    for _ in range(attempts - 1):
        generation = current_generation(index_dir)
        try:
            return _load(index_dir, generation, probe, milvus_token)
        except IndexCorrupt:
            if current_generation(index_dir) == generation:
                raise
    return _load(index_dir, current_generation(index_dir), probe, milvus_token)


def _load(index_dir: Path, generation: Path | None, probe: int | None = None, milvus_token: str = "") -> IndexData:
    # CURRENT is read once by the caller: a writer may replace it between two reads, and the
    # manifest and the files must come from the same generation.
    manifest = read_manifest(index_dir, generation) if generation is not None else None
    if manifest is None:
        raise IndexMissing(f"no index in {index_dir}; build it with: assistant index --index {index_dir}")
    hold = GenerationHold(generation)  # before the files: from here on, cleanup leaves them alone
    try:
        articles = ArticleTable(generation / ARTICLES_FILE)
        arrays = {name: np.load(generation / name, mmap_mode="r", allow_pickle=False) for name in ARRAY_FILES}
        codecs = {name: VectorCodec.load(generation / f"{name}.codec", spec)
                  for name, spec in manifest.get("codecs", {}).items()}
        vector_index = load_vector_index(generation, manifest, probe, milvus_token)
        lexical = LexicalIndex.load(generation / "bm25")
    except IndexProblem:  # e.g. Milvus unreachable or busy: its own message says what to do
        raise
    except (ImportError, OSError, ValueError, KeyError, EOFError, RuntimeError, sqlite3.DatabaseError) as exc:
        raise _unreadable(index_dir, exc) from exc
    data = IndexData(
        manifest=manifest,
        articles=articles,
        passages=arrays["passages.npy"],
        sentences=arrays["sentences.npy"],
        sentence_vectors=arrays["sentence_vectors.npy"],
        sentence_context_vectors=arrays["sentence_context_vectors.npy"],
        vector_index=vector_index,
        codecs=codecs,
        lexical=lexical,
        path=generation,
        hold=hold,
    )
    check_consistent(data, index_dir)
    return data


# Errors of this process or machine, not of the index: rebuilding would fail the same way.
_OPEN_FILE_LIMITS = (errno.EMFILE, errno.ENFILE)
_RESOURCE_ERRORS = (errno.ENOMEM, errno.EIO, errno.ENOSPC)


def _unreadable(index_dir: Path, exc: BaseException) -> IndexProblem:
    """What a failure to read a generation's files means to the user, and what to do about it.

    Only a file that is missing or holds the wrong bytes (numpy, FAISS, bm25s or SQLite cannot
    parse it) means the index is damaged; a library that is not installed, a permission, too
    many open files or a failing disk are problems of this process or machine."""
    what = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ImportError):
        return IndexUnreadable(f"cannot open the index in {index_dir}: the library {exc.name or ''} is not installed "
                               f"({what}); reinstall the assistant (in a checkout: bash scripts/setup.sh)")
    if isinstance(exc, PermissionError):
        return IndexUnreadable(f"cannot open the index in {index_dir}: no permission to read "
                               f"{exc.filename or 'one of its files'}; check the folder's owner and permissions")
    if isinstance(exc, OSError) and exc.errno in _OPEN_FILE_LIMITS:
        return IndexUnreadable(f"cannot open the index in {index_dir}: too many open files ({what}); raise the limit "
                               "(ulimit -n) or close other programs, then try again")
    if isinstance(exc, OSError) and exc.errno in _RESOURCE_ERRORS:
        return IndexUnreadable(f"cannot open the index in {index_dir}: {what}; check the disk and memory, then "
                               "try again")
    return IndexCorrupt(f"the index in {index_dir} is damaged ({what}); {rebuild_hint(index_dir)}")


def check_consistent(data: IndexData, index_dir: Path) -> None:
    m = data.manifest
    n_passages, n_sentences, dim = m.get("passages"), m.get("sentences"), m.get("dimension")
    problems = []
    if len(data.articles) != len(m.get("articles", {})):
        problems.append("article count differs from the manifest")
    width = {name: data.codecs[name].code_size if name in data.codecs else dim for name in CODED_ARRAYS}
    if any(codec.dimension != dim for codec in data.codecs.values()):
        problems.append("a vector codec does not match the manifest's dimension")
    if data.passages.shape != (n_passages, 3):
        problems.append("passage files do not match the manifest")
    if data.sentences.shape != (n_sentences, SENTENCE_COLUMNS) \
            or data.sentence_vectors.shape != (n_sentences, width["sentence_vectors"]) \
            or data.sentence_context_vectors.shape != (n_sentences, width["sentence_context_vectors"]):
        problems.append("sentence files do not match the manifest")
    if data.vector_index.size != n_passages or data.vector_index.dimension != dim:
        problems.append("the vector index does not match the manifest")
    hashes = data.articles.hashes() if isinstance(data.articles, ArticleTable) else \
        {a.file: a.content_hash for a in data.articles}
    for file, content_hash in hashes.items():
        entry = m.get("articles", {}).get(file)
        if entry is None or entry.get("content_hash") != content_hash:
            problems.append(f"article {file} differs from the manifest")
            break
    if problems:
        raise IndexCorrupt(f"the index in {index_dir} is inconsistent: {'; '.join(problems)}; {rebuild_hint(index_dir)}")
