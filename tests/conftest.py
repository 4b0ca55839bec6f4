"""Shared fixtures: the real model is loaded once per test session; corpora are tiny or the
shipped articles, each indexed into a temporary folder.

Tests never read the live `sources/` folder: users add and remove articles there (the chat's
uploads and its Library tab), so the suite keeps its own copies of the three shipped articles in
tests/data/shipped/ and copies them into a temporary folder.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# `assistant ask` in a subprocess answers in-process and leaves no warm server behind (each would
# hold a loaded model for 15 minutes); tests/test_warm.py turns it on for itself.
os.environ["ASSISTANT_WARM"] = "0"

from assistant.config import Settings  # noqa: E402
from assistant.models.embedding import Embedder  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHIPPED_DIR = Path(__file__).resolve().parent / "data" / "shipped"
# The shipped articles (copies in SHIPPED_DIR) and the sha256 of their bytes, as committed.
SHIPPED_FILES = {
    "000_ce0777626153ace7.txt": "0e3bbcc1a51a7842d7b0135694b55689b845a1c0ca8fecf6d8e1239a8d357cce",
    "001_1885b208a7ea917e.txt": "a18248c19e364ffb58f36153e632da4eae77e0e1fde8c6062f72e16e4acfccae",
    "002_3699eb8ecc81ec22.txt": "b94485ae7c4c0ac60d79af8094b020c49ddac513f7c52a82d87feaf79585c049",
}
GOLEM = "000_ce0777626153ace7.txt"

TINY_ARTICLES = {
    "wetter.txt": (
        " date 2023-05-04 Der Deutsche Wetterdienst meldet für Berlin am Freitag 28 Grad. "
        "Dr. Anna Weber vom DWD sagte, es werde z. B. in Potsdam bis zu 1,5 Grad wärmer.\n\n"
        "Am Wochenende sollen Gewitter aufziehen. Die Feuerwehr rät, Fenster zu schließen."
    ),
    "harbour.md": (
        "# Port of Hamburg handles record cargo\n\n"
        "The Port of Hamburg handled 8.7 million containers in 2022, its operator said on Monday. "
        "Mr. Jens Meier, the port's CEO, expects growth of 3.5 percent next year.\n\n"
        "A new rail link to the port is planned to open in 2026."
    ),
}


# Tiers: `pytest -m "not model"` runs the tests that need no model, in seconds. A test needs
# the model when it uses a fixture that loads it (directly or through another fixture:
# item.fixturenames is the whole closure), or when its module loads one itself or in a
# subprocess (the CLI, the chat, the warm server); those modules are named here, and a test
# elsewhere that runs the CLI on a corpus carries @pytest.mark.model itself.
MODEL_FIXTURES = frozenset({"embedder", "reader", "shipped_report"})
MODEL_MODULES = frozenset({"test_cli", "test_chat", "test_warm", "test_embedding", "test_reader",
                           "test_e5_convert"})


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        module = getattr(getattr(item, "module", None), "__name__", "")
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())) or module in MODEL_MODULES:
            item.add_marker(pytest.mark.model)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real default model, loaded once for the whole session."""
    e = Embedder(Settings())
    e.model  # noqa: B018 - load now, so the first test does not pay for it alone
    return e


def make_corpus(folder: Path, articles: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in articles.items():
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return folder


def first_stage_candidates(snapshot, question: str):
    """The question's first stage as the answer path runs it: (what it retrieved, its sentences
    ranked as quote candidates, best first)."""
    from assistant.answer.candidates import SimilarityFirstStage

    first_stage = SimilarityFirstStage.of(snapshot)
    retrieved = first_stage.retrieve(question)
    return retrieved, first_stage.rank(retrieved)


@pytest.fixture()
def tiny_settings(tmp_path: Path) -> Settings:
    sources = make_corpus(tmp_path / "sources", TINY_ARTICLES)
    return Settings().with_paths(sources, tmp_path / "index")


def copy_shipped(folder: Path) -> Path:
    """The three shipped articles (the suite's own copies) copied into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, digest in SHIPPED_FILES.items():
        data = (SHIPPED_DIR / name).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise RuntimeError(f"tests/data/shipped/{name} is not the shipped article any more; the tests need "
                               f"it as committed: git checkout -- tests/data/shipped/{name}")
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture(scope="session")
def shipped_sources(tmp_path_factory) -> Path:
    """A folder holding only the shipped articles (read-only use: do not add files)."""
    return copy_shipped(tmp_path_factory.mktemp("shipped-articles") / "sources")


@pytest.fixture(scope="session")
def shipped_settings(tmp_path_factory) -> Settings:
    """A copy of the shipped articles with its own index folder."""
    root = tmp_path_factory.mktemp("shipped")
    return Settings().with_paths(copy_shipped(root / "sources"), root / "index")


@pytest.fixture(scope="session")
def shipped_assistant(shipped_settings, embedder):
    from assistant import Assistant

    return Assistant(settings=shipped_settings, update=True, embedder=embedder)
