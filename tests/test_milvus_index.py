"""Milvus as the vector store, on real milvus-lite (no mocks): exact and restricted search,
vectors(), the passage fields returned with a search, a reload through the store, one
collection per generation dropped with its folder (embedded, a shared .db file, and a Milvus
server over gRPC: milvus-lite's own server in a subprocess), the settings' checks, and moving
an index between FAISS and Milvus without embedding again."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant import config
from assistant.config import ConfigError, Settings
from assistant.environment import settings_from_env
from assistant.index import store
from assistant.index.milvus_index import MilvusIndex, MilvusUnavailable, collection_for, id_filter
from assistant.index.vector_index import FaissIndex
from assistant.index.vector_stores import load_vector_index

from test_store import fake_data, write_generation
from test_vector_index import unit_vectors


# Tests that need neither pymilvus nor milvus-lite; the rest skip, not fail, without the extra.
WITHOUT_MILVUS = {"test_id_filter_is_ranges_for_runs_and_one_list_for_the_rest",
                  "test_milvus_without_pymilvus_installed_is_a_config_error"}


def needs_milvus() -> None:
    """Skip unless the `milvus` extra is installed (`pip install -e '.[test]'` leaves it out)."""
    pytest.importorskip("pymilvus")
    pytest.importorskip("milvus_lite")


@pytest.fixture(autouse=True)
def milvus_installed(request) -> None:
    if request.function.__name__ not in WITHOUT_MILVUS:
        needs_milvus()


def passages_for(n: int) -> np.ndarray:
    """(article, start, end) rows: 10 passages an article, as the indexer stores them."""
    return np.array([(i // 10, 100 * (i % 10), 100 * (i % 10) + 90) for i in range(n)], dtype=np.int64)


def saved(vectors: np.ndarray, folder: Path, uri: str = "", exact_max: int = 200_000) -> MilvusIndex:
    """Build, save into `folder` (as test_store.write_generation does) and load it back."""
    folder.mkdir(parents=True, exist_ok=True)
    index = MilvusIndex.build(vectors, passages_for(len(vectors)), uri, exact_max)
    index.save(folder / MilvusIndex.FILE)
    return MilvusIndex.load(folder / MilvusIndex.FILE)


def exact_top(query: np.ndarray, vectors: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(vectors @ query), kind="stable")[:k]


def test_search_is_exact_and_returns_each_passages_article_and_range(tmp_path):
    v = unit_vectors(2000, dim=32)
    index = saved(v, tmp_path / "gen-a")
    assert (index.size, index.dimension, index.kind) == (2000, 32, "milvus-flat")
    faiss_index = FaissIndex.build(v, exact_max=10_000)
    for q in unit_vectors(10, dim=32, seed=3):
        ids, scores = index.search(q, 10)
        assert list(ids) == list(exact_top(q, v, 10))
        assert np.allclose(scores, v[ids] @ q, atol=1e-5)  # inner product of normalised vectors: cosines
        assert np.allclose(scores, faiss_index.search(q, 10)[1], atol=1e-5)
    found = index.search_passages(v[123], 5)
    assert found.ids[0] == 123 and abs(found.scores[0] - 1) < 1e-5
    rows = passages_for(2000)[found.ids]
    assert list(found.article_ids) == list(rows[:, 0])
    assert list(found.starts) == list(rows[:, 1]) and list(found.ends) == list(rows[:, 2])


def test_restricted_search_is_pushed_down_and_exact(tmp_path):
    v = unit_vectors(3000, dim=32)
    index = saved(v, tmp_path / "gen-a")
    # Two articles' passages (runs of ids) plus scattered single ids.
    allowed = np.concatenate([np.arange(100, 110), np.arange(2500, 2510), np.array([7, 9, 1234, 2999])])
    for q in unit_vectors(10, dim=32, seed=4):
        ids, scores = index.search(q, 5, allowed_ids=allowed)
        assert set(ids.tolist()) <= set(allowed.tolist())
        assert list(ids) == list(allowed[exact_top(q, v[allowed], 5)])
    assert list(index.search(v[0], 10, allowed_ids=np.array([2]))[0]) == [2]
    assert index.search(v[0], 10, allowed_ids=np.array([], dtype=np.int64))[0].size == 0
    assert len(index.search(v[0], 50, allowed_ids=np.arange(10))[0]) == 10  # k above the allowed count


def test_id_filter_is_ranges_for_runs_and_one_list_for_the_rest():
    assert id_filter(np.array([1, 2, 3, 4, 8, 10, 11, 20])) == "(id >= 1 and id <= 4) or id in [8, 10, 11, 20]"
    assert id_filter(np.arange(50, 5000)) == "(id >= 50 and id <= 4999)"


def test_vectors_come_back_in_the_order_asked(tmp_path):
    v = unit_vectors(500, dim=16)
    index = saved(v, tmp_path / "gen-a")
    ids = np.array([42, 7, 499, 7, 0])
    assert np.array_equal(index.vectors(ids), v[ids])  # float32 stored and returned bit for bit
    assert index.vectors(np.array([], dtype=np.int64)).shape == (0, 16)
    with pytest.raises(IndexError):
        index.vectors(np.array([500]))
    for faiss_index in (FaissIndex.build(v, exact_max=1000), FaissIndex.build(v, exact_max=10, ivf_lists=8)):
        assert np.array_equal(faiss_index.vectors(ids), v[ids]), faiss_index.kind  # IVF: via the direct map


def test_empty_index(tmp_path):
    index = saved(np.zeros((0, 8), np.float32), tmp_path / "gen-a")
    assert index.size == 0 and index.search(np.ones(8, np.float32), 3)[0].size == 0


def fake_vectors(seed: int = 0) -> np.ndarray:
    """The passage vectors of `fake_data(seed)` (its FAISS index is their only copy)."""
    data = fake_data(seed=seed)
    return data.vector_index.vectors(np.arange(len(data.passages)))


def milvus_data(seed: int, uri: str = "") -> store.IndexData:
    data = fake_data(seed=seed)
    data.vector_index = MilvusIndex.build(fake_vectors(seed), data.passages, uri, 1000)
    data.manifest.update(vector_store="milvus", milvus_uri=uri)
    return data


def write(index_dir: Path, data: store.IndexData) -> Path:
    with store.write_lock(index_dir):
        path = write_generation(index_dir, data)
        store.remove_stale(index_dir)
    return path


def test_a_generation_reloads_from_its_own_embedded_database(tmp_path):
    data = milvus_data(seed=0)
    gen = write(tmp_path, data)
    record = json.loads((gen / MilvusIndex.FILE).read_text())
    assert record["collection"] == collection_for(gen) == "assistant_" + gen.name.replace("-", "_")
    assert record["uri"] == "" and (gen / "milvus.db").is_dir()  # the database lives in the generation
    loaded = store.load_generation(tmp_path)
    assert isinstance(loaded.vector_index, MilvusIndex) and loaded.vector_index.size == 3
    assert np.array_equal(loaded.vector_index.vectors(np.arange(3)), fake_vectors(0))
    assert loaded.vector_index.search(fake_vectors(0)[1], 1)[0].tolist() == [1]
    # The store is read from the manifest, whatever a reader's settings say.
    assert isinstance(load_vector_index(gen, {"vector_store": "milvus"}), MilvusIndex)


def test_old_generations_keep_their_own_databases_until_removed(tmp_path):
    gens = [write(tmp_path, milvus_data(seed=i)) for i in range(4)]
    assert sorted(p.name for p in tmp_path.glob("gen-*")) == sorted(g.name for g in gens[-2:])
    assert store.load_generation(tmp_path).vector_index.collection == collection_for(gens[-1])


def collections(uri: str) -> set[str]:
    from pymilvus import MilvusClient

    return set(MilvusClient(uri=uri).list_collections())


def test_one_shared_database_file_a_collection_per_generation(tmp_path):
    uri = str(tmp_path / "shared" / "vectors.db")
    gens = [write(tmp_path / "index", milvus_data(seed=i, uri=uri)) for i in range(4)]
    assert collections(uri) == {collection_for(g) for g in gens[-2:]}  # the older two dropped with their folders
    assert not (gens[-1] / "milvus.db").exists()
    assert store.load_generation(tmp_path / "index").vector_index.search(fake_vectors()[2], 1)[0][0] == 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory):
    """A Milvus gRPC server in another process (milvus-lite's standalone server)."""
    needs_milvus()  # a module-scoped fixture starts before the autouse check
    server, uri = start_server(tmp_path_factory.mktemp("milvus-server") / "data")
    yield uri
    server.terminate()
    server.wait(timeout=30)


def test_server_collection_per_generation_and_a_killed_build_dropped(tmp_path, milvus_server):
    index_dir = tmp_path / "index"
    gens = [write(index_dir, milvus_data(seed=i, uri=milvus_server)) for i in range(3)]
    ours = {c for c in collections(milvus_server) if c.startswith("assistant_")}
    assert {collection_for(g) for g in gens[-2:]} <= ours and collection_for(gens[0]) not in ours
    assert json.loads((gens[-1] / MilvusIndex.FILE).read_text())["uri"] == milvus_server
    # A build killed after it made its collection: the staging folder names it, cleanup drops both.
    staging = index_dir / (store.BUILDING_PREFIX + "gen-99990101T000000000000-deadbeef")
    staging.mkdir()
    MilvusIndex.build(unit_vectors(5, dim=8), passages_for(5), milvus_server, 1000).save(staging / MilvusIndex.FILE)
    assert collection_for(staging) in collections(milvus_server)
    with store.write_lock(index_dir):
        store.remove_stale(index_dir)
    assert not staging.exists() and collection_for(staging) not in collections(milvus_server)
    # Another process (a new client) reads the live generation while this one holds it open.
    loaded = store.load_generation(index_dir)
    code = ("from assistant.index import store; import numpy as np, sys; d = store.load_generation(__import__('pathlib')"
            ".Path(sys.argv[1])); print(d.vector_index.kind, d.vector_index.search(d.vector_index.vectors(np.arange(1))[0], 1)[0][0])")
    other = subprocess.run([sys.executable, "-c", code, str(index_dir)], capture_output=True, text=True, timeout=120,
                           cwd=Path(__file__).resolve().parent.parent)
    assert other.returncode == 0 and other.stdout.split() == ["milvus-flat", "0"], other.stderr
    assert loaded.vector_index.size == 3


def test_server_above_the_exact_limit_is_ivf_and_restricted_search_stays_exact(tmp_path, milvus_server):
    v = unit_vectors(3000, dim=32)
    index = saved(v, tmp_path / "gen-ivf", uri=milvus_server, exact_max=1000)
    assert index.kind == "milvus-ivf-flat" and index.nlist == 54  # sqrt(3000), as FAISS would
    allowed = np.concatenate([np.arange(100, 140), np.array([5, 2999])])
    for q in unit_vectors(5, dim=32, seed=5):
        assert list(index.search(q, 5, allowed_ids=allowed)[0]) == list(allowed[exact_top(q, v[allowed], 5)])
    assert index.search(v[17], 1)[0].tolist() == [17]


def test_an_unreachable_server_is_a_clear_error(tmp_path, monkeypatch):
    from assistant.index import milvus_index

    monkeypatch.setattr(milvus_index, "CONNECT_TIMEOUT_S", 1.0)
    folder = tmp_path / "gen-x"
    folder.mkdir()
    (folder / MilvusIndex.FILE).write_text(json.dumps({"uri": f"http://127.0.0.1:{free_port()}", "collection": "c",
                                                       "dimension": 8, "passages": 3}))
    index = MilvusIndex.load(folder / MilvusIndex.FILE)  # connects at the first search
    with pytest.raises(MilvusUnavailable, match="cannot open Milvus at http://127.0.0.1"):
        index.search(np.ones(8, np.float32), 3)
    assert not MilvusIndex.drop(folder / MilvusIndex.FILE)  # the folder is kept, to drop it later


# --------------------------------------------------------------- settings

def test_settings_choose_and_check_the_store(tmp_path):
    assert Settings().vector_store == "faiss" and Settings().milvus_uri == ""
    s = settings_from_env({"ASSISTANT_VECTOR_STORE": "Milvus", "ASSISTANT_MILVUS_URI": "http://milvus.internal:19530"})
    assert (s.vector_store, s.milvus_uri, s.resolved_milvus_uri) == ("milvus", "http://milvus.internal:19530",
                                                                      "http://milvus.internal:19530")
    with pytest.raises(ConfigError, match="unknown vector store 'qdrant'.*faiss or milvus"):
        settings_from_env({"ASSISTANT_VECTOR_STORE": "qdrant"})
    base = Settings()
    assert base.with_vector_store("milvus", "v.db").resolved_milvus_uri == str(Path("v.db").resolve())
    assert base.with_vector_store("milvus", "").resolved_milvus_uri == ""
    for bad, message in [("vectors.sqlite", "neither a Milvus server"), ("ftp://host/x.db", "neither"),
                         ("http://user:secret@host:19530", "ASSISTANT_MILVUS_TOKEN"), ("http://:19530", "no host")]:
        with pytest.raises(ConfigError, match=message):
            base.with_vector_store("milvus", bad)
    assert base.with_vector_store("faiss", "anything").vector_store == "faiss"  # the URI is unused then


def test_the_token_of_the_settings_logs_in_to_a_server_and_is_never_shown(tmp_path, monkeypatch, milvus_server):
    import pymilvus

    settings = settings_from_env({"ASSISTANT_VECTOR_STORE": "milvus", "ASSISTANT_MILVUS_URI": milvus_server,
                                  "ASSISTANT_MILVUS_TOKEN": "reader:s3cret"})
    assert settings.milvus_token == "reader:s3cret" and "s3cret" not in repr(settings)
    logins, real = [], pymilvus.MilvusClient

    class Recording(real):  # the real client; only what it was given is noted
        def __init__(self, *args, **kwargs):
            logins.append((kwargs.get("uri"), kwargs.get("token")))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(pymilvus, "MilvusClient", Recording)
    uri = milvus_server.replace("127.0.0.1", "localhost")  # a URI this process has no client for yet
    folder = tmp_path / "gen-token"
    folder.mkdir()
    built = MilvusIndex.build(unit_vectors(20, dim=8), passages_for(20), uri, 1000, token=settings.milvus_token)
    built.save(folder / MilvusIndex.FILE)
    assert "s3cret" not in (folder / MilvusIndex.FILE).read_text()
    loaded = load_vector_index(folder, {"vector_store": "milvus"}, milvus_token=settings.milvus_token)
    assert loaded.search(unit_vectors(20, dim=8)[3], 1)[0].tolist() == [3]
    assert logins and all(login == (uri, "reader:s3cret") for login in logins)
    assert MilvusIndex.drop(folder / MilvusIndex.FILE, settings.milvus_token)


def test_milvus_without_pymilvus_installed_is_a_config_error(monkeypatch):
    real = config.importlib.util.find_spec
    monkeypatch.setattr(config.importlib.util, "find_spec", lambda name: None if name == "pymilvus" else real(name))
    with pytest.raises(ConfigError, match=r"needs pymilvus.*\[milvus\]"):
        replace(Settings(), vector_store="milvus")
    assert replace(Settings(), vector_store="faiss").vector_store == "faiss"


# --------------------------------------------------------------- through the indexer

def test_moving_an_index_between_faiss_and_milvus_embeds_nothing_again(tiny_settings, embedder):
    from assistant.index.snapshot import Snapshot
    from assistant.index.indexer import index_is_current, update_index

    first = update_index(tiny_settings, embedder, progress=False)
    assert first.embedded_passages > 0 and store.read_manifest(tiny_settings.index_dir)["vector_store"] == "faiss"
    as_faiss = Snapshot.load(tiny_settings, embedder).view
    milvus = tiny_settings.with_vector_store("milvus")
    assert not index_is_current(milvus)
    moved = update_index(milvus, embedder, progress=False)
    assert moved.wrote and moved.embedded_passages == 0 and moved.rebuilt_reason is None
    manifest = store.read_manifest(tiny_settings.index_dir)
    assert (manifest["vector_store"], manifest["milvus_uri"]) == ("milvus", "") and index_is_current(milvus)
    view = Snapshot.load(milvus, embedder).view
    assert isinstance(view.vector_index, MilvusIndex)
    ids = np.arange(view.passage_count)
    assert np.array_equal(view.vector_index.vectors(ids), as_faiss.vector_index.vectors(ids))
    query = embedder.encode_queries(["Wie warm wird es in Potsdam?"])[0]
    assert list(view.vector_index.search(query, 3)[0]) == list(as_faiss.vector_index.search(query, 3)[0])
    back = update_index(tiny_settings, embedder, progress=False)
    assert back.wrote and back.embedded_passages == 0
    assert isinstance(Snapshot.load(tiny_settings, embedder).view.vector_index, FaissIndex)


def test_an_index_let_go_closes_its_embedded_database_on_the_next_open(tmp_path):
    """Garbage indexes are noted by a finalizer and closed by the next open (closing inside the
    finalizer deadlocked when it ran while a client was being opened)."""
    import gc

    from assistant.index import milvus_index

    first = saved(unit_vectors(5, dim=8), tmp_path / "gen-a")
    where = str(tmp_path / "gen-a" / "milvus.db")
    assert where not in milvus_index._clients  # opening does not connect
    assert first.search(unit_vectors(1, dim=8)[0], 1)[0].size == 1
    assert where in milvus_index._clients
    del first
    gc.collect()
    assert where in milvus_index._unused
    second = saved(unit_vectors(5, dim=8), tmp_path / "gen-b")  # its build opens a client
    assert where not in milvus_index._clients and where not in milvus_index._unused
    assert second.search(unit_vectors(1, dim=8)[0], 5)[0].size == 5


def start_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    """milvus-lite's standalone gRPC server over `data_dir`, in another process (it holds the lock)."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data_dir),
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("the milvus-lite server did not start")
            time.sleep(0.2)


def test_an_embedded_database_held_by_another_process(tmp_path):
    """Opening the index still works (articles, sources, show); a search says what to do."""
    gen = write(tmp_path, milvus_data(seed=0))
    holder, _ = start_server(gen / "milvus.db")
    try:
        data = store.load_generation(tmp_path)
        assert data.articles[0].file == "a.txt" and data.vector_index.size == 3
        with pytest.raises(store.IndexBusy, match="open in another process.*--milvus-uri http://host:19530"):
            data.vector_index.search(fake_vectors(0)[0], 1)
    finally:
        holder.terminate()
        holder.wait(timeout=30)
    assert data.vector_index.search(fake_vectors(0)[0], 1)[0].tolist() == [0]  # free again


def test_the_warm_ask_server_is_started_for_the_same_store(tmp_path):
    """`assistant ask --vector-store milvus` must not reach a warm server of the FAISS settings
    (whose next update would move the vectors back), so the store is part of its address."""
    from assistant import warm

    base = replace(Settings(), cache_dir=tmp_path / "cache")
    milvus = base.with_vector_store("milvus")
    assert warm.socket_path(base) != warm.socket_path(milvus) != warm.socket_path(milvus.with_vector_store(
        milvus_uri=str(tmp_path / "v.db")))
    assert warm.socket_path(milvus) == warm.socket_path(base.with_vector_store("milvus"))
