"""Shared fixtures: the real model is loaded once per test session; corpora are tiny or the
shipped articles, each indexed into a temporary folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from assistant.config import Settings  # noqa: E402
from assistant.embedding import Embedder  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHIPPED_SOURCES = REPO / "sources"

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


@pytest.fixture()
def tiny_settings(tmp_path: Path) -> Settings:
    sources = make_corpus(tmp_path / "sources", TINY_ARTICLES)
    return Settings().with_paths(sources, tmp_path / "index")


@pytest.fixture(scope="session")
def shipped_settings(tmp_path_factory) -> Settings:
    """A copy of the shipped articles with its own index folder."""
    root = tmp_path_factory.mktemp("shipped")
    shutil.copytree(SHIPPED_SOURCES, root / "sources")
    return Settings().with_paths(root / "sources", root / "index")


@pytest.fixture(scope="session")
def shipped_engine(shipped_settings, embedder):
    from assistant.engine import Engine

    engine, _ = Engine.open(shipped_settings, progress=False, embedder=embedder)
    return engine
