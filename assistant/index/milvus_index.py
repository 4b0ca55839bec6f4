"""The passage vectors in Milvus: one collection per index generation (`Settings.vector_store = "milvus"`).

Where it runs (`Settings.milvus_uri`, ASSISTANT_MILVUS_URI, --milvus-uri):
    ""                      embedded milvus-lite, one database in each generation folder
                            (`gen-*/milvus.db`): nothing to run, dropped with its folder
    /path/vectors.db        embedded milvus-lite, one database for all generations
    http://host:19530       a Milvus server or cluster (token: Settings.milvus_token, which the
                            edges read from ASSISTANT_MILVUS_TOKEN; never written to disk)

milvus-lite runs inside the process (pymilvus starts it on a background thread) and locks its
database folder: one process at a time. A database per generation (the default) means a build
never waits for a reader of the previous generation, and an index connects only at its first
search, so `assistant sources` / `show` work beside a running chat; two processes searching one
generation at once (the chat and `assistant ask --cold`) need a server (IndexBusy says so).

A generation's collection is named after its folder (`assistant_gen_<time>_<id>`) and recorded
in `milvus.json` in that folder, which is written *before* the collection is made: a killed
build leaves a `.building-*` folder that names its collection, so `store.remove_stale` drops
the collection with the folder (`MilvusIndex.drop`), as it does for old generations. The
collection of a generation only becomes live when CURRENT names its folder, as with FAISS.

One row a passage: `id` (the passage id, primary key), `article`, `start`, `end` (the
passage's article and character range) and `vector` (float32, L2-normalised; inner product,
so scores are cosines). A search returns each passage's article and range with its score
(`search_passages`). Index type: FLAT (exact) up to `Settings.exact_search_max_vectors`
passages, IVF_FLAT above on a server (`ivf_probe` cells scanned, as FAISS; `ivf_lists` cells,
by default sqrt of a sealed segment's rows, as Milvus indexes each segment); milvus-lite is
always FLAT (its IVF_FLAT ignores the number of cells given through pymilvus, and an embedded
database is not for that scale).
A restricted search is pushed down as a filter expression on `id` (each article's passages
are one id range, so it is a few range terms); an IVF search probes every cell then, so it
stays exact, as in FAISS.

What stays in local files of the generation folder, and why (store.py): the sentence rows
and their vectors (scored for the few passages retrieved: memory-mapped
reads by row range, never searched), BM25 (bm25s scores all passages; Milvus's own BM25 would
need its analyzers, not the Snowball stemming per language used here), and the articles with
their text (SQLite: quotes are exact spans of it).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import threading
import weakref
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..config import MILVUS_INSTALL_HINT, is_milvus_server
from .errors import IndexBusy, IndexCorrupt, IndexProblem
from .vector_index import ivf_lists_for

log = logging.getLogger(__name__)

EMBEDDED_DB = "milvus.db"  # the per-generation milvus-lite database (uri "" in the settings)
COLLECTION_PREFIX = "assistant_"
BUILDING_PREFIX = ".building-"  # store.py's staging folders: the generation's name follows it
INSERT_BATCH = 2000  # rows a call (384-dim float32: 3 MB, under gRPC's message limits)
GET_BATCH = 1000
MAX_TOP_K = 16384  # Milvus's limit on k
CONNECT_TIMEOUT_S = 10.0
SEGMENT_ROWS = 680_000  # rows of a sealed Milvus segment: 1 GiB (the server default) / 1568 B a row


class MilvusUnavailable(IndexProblem):
    """Milvus could not be reached or used; the message says where and what to do."""


class PassageMatches(NamedTuple):
    """A search's passages, best first: everything the answer needs per passage from one store."""

    ids: np.ndarray
    scores: np.ndarray
    article_ids: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


def collection_for(folder: Path) -> str:
    """The collection of a generation folder (staging or final: the same name)."""
    name = folder.name.removeprefix(BUILDING_PREFIX)
    return COLLECTION_PREFIX + re.sub(r"[^0-9A-Za-z_]", "_", name)


def _where(uri: str, folder: Path) -> str:
    """The URI to connect to: a recorded "" or relative path lies inside the generation folder."""
    if not uri:
        return str(folder / EMBEDDED_DB)
    if is_milvus_server(uri) or os.path.isabs(uri):
        return uri
    return str(folder / uri)


# --------------------------------------------------------------- connections

_lock = threading.Lock()
_clients: dict[str, list] = {}  # uri -> [MilvusClient, users]
# URIs of indexes that were garbage collected. A finalizer may run at any moment, also inside
# `_acquire` while `_lock` is held, so it only notes the URI; the next `_acquire` lets go.
_unused: list[str] = []


def _quiet_pymilvus() -> None:
    # pymilvus logs every failed call with a traceback on stderr, milvus-lite a locked database
    # the same way, and grpc each call milvus-lite's server does not implement (pymilvus asks
    # it for timestamps); the errors that matter reach the user once, from here.
    for name in ("pymilvus", "milvus_lite", "grpc._server"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _lite_is_locked(uri: str) -> bool:
    lock = Path(uri) / "LOCK"
    if not lock.exists():
        return False
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def _acquire(uri: str, token: str = ""):
    """A client for `uri`, shared in this process (milvus-lite: one embedded server a database);
    `token` (Settings.milvus_token) logs in to a server."""
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:
        raise MilvusUnavailable(f"this index keeps its vectors in Milvus, and pymilvus is not installed: "
                                f"{MILVUS_INSTALL_HINT}") from exc
    _quiet_pymilvus()
    _release_unused()
    with _lock:
        entry = _clients.get(uri)
        if entry is None:
            if not is_milvus_server(uri):
                Path(uri).parent.mkdir(parents=True, exist_ok=True)
            try:
                client = MilvusClient(uri=uri, token=token if is_milvus_server(uri) else "", timeout=CONNECT_TIMEOUT_S)
            except Exception as exc:
                if not is_milvus_server(uri) and _lite_is_locked(uri):
                    raise IndexBusy(f"the embedded Milvus database {uri} is open in another process (milvus-lite "
                                    "serves one process at a time): stop it (`assistant stop`, or the chat) or "
                                    "use a Milvus server: --milvus-uri http://host:19530") from exc
                raise MilvusUnavailable(f"cannot open Milvus at {uri} ({_message(exc)})") from exc
            entry = _clients[uri] = [client, 0]
        entry[1] += 1
        return entry[0]


def _release(uri: str) -> None:
    """One user less; the last one closes the client (and stops an embedded server, whose
    folder may then be renamed or deleted)."""
    with _lock:
        entry = _clients.get(uri)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] > 0:
            return
        del _clients[uri]
    try:
        entry[0].close()
    except Exception:  # closing is best effort
        pass
    if not is_milvus_server(uri):
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(uri)


def _release_unused() -> None:
    while _unused:
        try:
            uri = _unused.pop()
        except IndexError:  # another thread took the last one
            return
        _release(uri)


def _message(exc: BaseException) -> str:
    return " ".join(str(getattr(exc, "message", None) or exc).split()) or type(exc).__name__


# --------------------------------------------------------------- the index

class MilvusIndex:
    """A generation's passage vectors in a Milvus collection (see the module docstring)."""

    FILE = "milvus.json"

    def __init__(self, uri: str, collection: str, dimension: int, size: int, index_type: str = "FLAT",
                 probe: int | None = None, nlist: int | None = None, *, connect_to: str | None = None,
                 pending: tuple[np.ndarray, np.ndarray] | None = None, token: str = ""):
        self.uri = uri  # as recorded ("" = the generation folder's own database)
        self.collection = collection
        self._dimension = int(dimension)
        self._size = int(size)
        self.index_type = index_type
        self.nlist = nlist
        self.probe = None if nlist is None else max(1, min(int(probe or nlist), nlist))
        self._pending = pending  # (vectors, passages) of a build not saved yet
        self._where = connect_to  # where a loaded index connects, on its first search
        self._token = token  # a server's credentials (Settings.milvus_token); never saved
        self._client = None
        self._connect_lock = threading.Lock()

    # ------------------------------------------------------------------ build, save, load, drop

    @classmethod
    def build(cls, vectors: np.ndarray, passages: np.ndarray, uri: str, exact_max: int, ivf_lists: int = 0,
              ivf_probe: int = 32, token: str = "") -> "MilvusIndex":
        """An index to be written by `save` (the collection is named after the generation folder,
        which is only known there)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        passages = np.asarray(passages, dtype=np.int64).reshape(-1, 3)
        if len(passages) != len(vectors):
            raise ValueError(f"{len(vectors)} vectors for {len(passages)} passages")
        exact = len(vectors) <= exact_max or not is_milvus_server(uri)
        # Milvus builds an IVF index per sealed segment, so the default cell count follows a
        # segment's rows, not the collection's (benchmarks/README.md: the 10M plan).
        nlist = None if exact else max(1, min(ivf_lists_for(min(len(vectors), SEGMENT_ROWS), ivf_lists), len(vectors)))
        return cls(uri, "", vectors.shape[1], len(vectors), "FLAT" if exact else "IVF_FLAT", ivf_probe, nlist,
                   pending=(vectors, passages), token=token)

    def save(self, path: Path) -> None:
        """Write `milvus.json` (first), then the collection named after the folder, all rows, flushed."""
        from pymilvus import DataType, MilvusClient

        if self._pending is None:
            raise ValueError("only a new build is saved; a loaded Milvus index lives in its collection already")
        vectors, passages = self._pending
        folder = path.parent
        collection = collection_for(folder)
        record = {"uri": self.uri, "collection": collection, "dimension": self._dimension, "passages": self._size,
                  "index_type": self.index_type, "nlist": self.nlist, "probe": self.probe}
        with open(path, "w", encoding="utf-8") as handle:  # before the collection: a crash leaves its name
            json.dump(record, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        where = _where(self.uri, folder)
        client = _acquire(where, self._token)
        try:
            if client.has_collection(collection):  # left by a failed attempt at this very folder
                client.drop_collection(collection)
            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("article", DataType.INT64)
            schema.add_field("start", DataType.INT64)
            schema.add_field("end", DataType.INT64)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self._dimension)
            index_params = client.prepare_index_params()
            params = {"nlist": self.nlist} if self.index_type == "IVF_FLAT" else {}
            index_params.add_index(field_name="vector", index_type=self.index_type, metric_type="IP", params=params)
            client.create_collection(collection, schema=schema, index_params=index_params)
            for at in range(0, len(vectors), INSERT_BATCH):
                rows = passages[at:at + INSERT_BATCH].tolist()
                client.insert(collection, [
                    {"id": at + i, "article": a, "start": s, "end": e, "vector": v}
                    for i, ((a, s, e), v) in enumerate(zip(rows, vectors[at:at + INSERT_BATCH]))])
            client.flush(collection)
        except IndexProblem:
            raise
        except Exception as exc:
            raise MilvusUnavailable(f"writing the vectors to Milvus at {where} failed ({_message(exc)})") from exc
        finally:
            _release(where)  # an embedded database is closed before store.py renames its folder

    @classmethod
    def load(cls, path: Path, probe: int | None = None, token: str = "") -> "MilvusIndex":
        """Open the collection a generation's `milvus.json` names; `probe` (Settings.ivf_probe)
        sets the cells an IVF search scans; `token` logs in to a server."""
        record = json.loads(path.read_text(encoding="utf-8"))
        return cls(record["uri"], record["collection"], record["dimension"], record["passages"],
                   record.get("index_type", "FLAT"), probe if probe is not None else record.get("probe"),
                   record.get("nlist"), connect_to=_where(record["uri"], path.parent), token=token)

    @staticmethod
    def drop(path: Path, token: str = "") -> bool:
        """Drop the collection a generation folder's `milvus.json` names (store.remove_stale calls
        this before deleting the folder). An embedded database inside the folder goes with it.
        False when Milvus could not be reached: keep the folder, so that a later run drops it."""
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            uri, collection = record["uri"], record["collection"]
        except (OSError, ValueError, KeyError):
            return True  # a build killed while writing this very file made no collection yet
        where = _where(uri, path.parent)
        if not is_milvus_server(uri) and Path(where).is_relative_to(path.parent):
            return True
        try:
            client = _acquire(where, token)
        except IndexProblem as exc:
            log.warning("could not drop the old Milvus collection %s (%s); will try again on the next update",
                        collection, exc)
            return False
        try:
            if client.has_collection(collection):
                client.drop_collection(collection)
            return True
        except Exception as exc:
            log.warning("could not drop the old Milvus collection %s at %s (%s); will try again on the next update",
                        collection, where, _message(exc))
            return False
        finally:
            _release(where)

    # ------------------------------------------------------------------ VectorIndex

    @property
    def size(self) -> int:
        return self._size

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def kind(self) -> str:
        return {"FLAT": "milvus-flat", "IVF_FLAT": "milvus-ivf-flat"}.get(self.index_type, self.index_type)

    def _live(self):
        """The client, connected on the first search: opening an index (`assistant sources`,
        `show`) does not touch Milvus, so those work while another process holds an embedded
        database."""
        if self._client is not None:
            return self._client
        if self._where is None:
            raise ValueError("this Milvus index was built but not saved into a generation yet")
        with self._connect_lock:
            if self._client is None:
                client = _acquire(self._where, self._token)
                weakref.finalize(self, _unused.append, self._where)
                try:
                    if not client.has_collection(self.collection):
                        raise IndexCorrupt(f"the Milvus collection {self.collection} at {self._where} is missing; "
                                           "rebuild the index with: assistant index --rebuild")
                    client.load_collection(self.collection)
                    # Strong: a server counts every row written, however recently (its default,
                    # bounded staleness, may not see a build of a moment ago), and the searches
                    # after it see them all too.
                    count = int(client.query(self.collection, filter="", output_fields=["count(*)"],
                                             consistency_level="Strong")[0]["count(*)"])
                except IndexProblem:
                    raise
                except Exception as exc:
                    raise MilvusUnavailable(f"cannot open the collection {self.collection} in Milvus at "
                                            f"{self._where} ({_message(exc)})") from exc
                if count != self._size:
                    raise IndexCorrupt(f"the Milvus collection {self.collection} holds {count} passages, the index "
                                       f"{self._size}; rebuild the index with: assistant index --rebuild")
                self._client = client
        return self._client

    def search(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        found = self.search_passages(query, k, allowed_ids)
        return found.ids, found.scores

    def search_passages(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None) -> PassageMatches:
        """The k nearest passages with their article and character range, best first."""
        client = self._live()
        allowed = None if allowed_ids is None else np.unique(np.asarray(allowed_ids, dtype=np.int64))
        k = min(k, self.size if allowed is None else min(self.size, len(allowed)), MAX_TOP_K)
        if k <= 0:
            empty = np.zeros(0, dtype=np.int64)
            return PassageMatches(empty, np.zeros(0, dtype=np.float32), empty, empty, empty)
        params: dict = {"metric_type": "IP"}
        if self.nlist is not None:  # IVF: a restricted search probes every cell, so it stays exact
            params["params"] = {"nprobe": self.nlist if allowed is not None else self.probe}
        try:
            hits = client.search(self.collection, data=[np.asarray(query, dtype=np.float32).reshape(-1).tolist()],
                                 limit=k, filter=id_filter(allowed) if allowed is not None else "",
                                 output_fields=["article", "start", "end"], search_params=params)[0]
        except Exception as exc:
            raise MilvusUnavailable(f"searching Milvus collection {self.collection} failed ({_message(exc)})") from exc
        hits = sorted(hits, key=lambda h: -h["distance"])
        fields = [h.get("entity", h) for h in hits]
        return PassageMatches(
            np.array([h["id"] for h in hits], dtype=np.int64),
            np.array([h["distance"] for h in hits], dtype=np.float32),
            np.array([f["article"] for f in fields], dtype=np.int64),
            np.array([f["start"] for f in fields], dtype=np.int64),
            np.array([f["end"] for f in fields], dtype=np.int64),
        )

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        client = self._live()
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(ids) == 0:
            return np.zeros((0, self._dimension), dtype=np.float32)
        if ids.min() < 0 or ids.max() >= self.size:
            raise IndexError(f"passage ids outside 0..{self.size - 1}")
        wanted = np.unique(ids)
        found: dict[int, list] = {}
        try:
            for at in range(0, len(wanted), GET_BATCH):
                for row in client.get(self.collection, ids=wanted[at:at + GET_BATCH].tolist(), output_fields=["vector"]):
                    found[int(row["id"])] = row["vector"]
        except Exception as exc:
            raise MilvusUnavailable(f"reading vectors from Milvus collection {self.collection} failed "
                                    f"({_message(exc)})") from exc
        missing = [int(i) for i in wanted if int(i) not in found]
        if missing:
            raise IndexCorrupt(f"the Milvus collection {self.collection} lacks passages {missing[:5]}")
        return np.array([found[int(i)] for i in ids], dtype=np.float32).reshape(len(ids), self._dimension)



def id_filter(ids: np.ndarray) -> str:
    """A Milvus filter expression for these sorted unique passage ids: an id range for every run
    of consecutive ids (an article's passages are one run), single ids in one `in` list."""
    if len(ids) == 0:
        return "id in []"
    breaks = np.flatnonzero(np.diff(ids) != 1) + 1
    runs = np.split(ids, breaks)
    ranges = [f"(id >= {int(r[0])} and id <= {int(r[-1])})" for r in runs if len(r) > 2]
    singles = [int(i) for r in runs if len(r) <= 2 for i in r]
    terms = ranges + ([f"id in [{', '.join(map(str, singles))}]"] if singles else [])
    return " or ".join(terms)
