"""The loaded state answering needs: model, live index generation and retriever."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from . import store
from .config import Settings
from .embedding import Embedder
from .indexer import UpdateReport, index_is_current, update_index
from .retrieval import Retriever


class UnknownArticle(KeyError):
    pass


@dataclass
class Engine:
    settings: Settings
    embedder: Embedder
    data: store.IndexData
    retriever: Retriever

    @classmethod
    def open(cls, settings: Settings, update: bool = True, progress: bool = True,
             embedder: Embedder | None = None) -> tuple["Engine", UpdateReport | None]:
        """Load the index, first building or updating it when it is missing or stale."""
        embedder = embedder or Embedder(settings)
        report = None
        if update and not index_is_current(settings):
            report = update_index(settings, embedder, progress=progress)
        data = store.load_generation(settings.index_dir)
        if data.manifest["model"] != embedder.identity:
            raise store.IndexCorrupt(
                f"the index in {settings.index_dir} was built with {data.manifest['model']}, not {embedder.identity}; "
                + store.rebuild_hint(settings.index_dir))
        return cls(settings, embedder, data, Retriever(data, settings)), report

    def refresh(self, progress: bool = False) -> UpdateReport:
        """Index what changed in the sources folder and switch to the new generation."""
        with _refresh_lock:
            report = update_index(self.settings, self.embedder, progress=progress)
            if report.wrote:
                data = store.load_generation(self.settings.index_dir)
                self.data, self.retriever = data, Retriever(data, self.settings)
            return report

    @property
    def mostly_german(self) -> bool:
        """Asked per question: reuse the retriever's language column rather than scan the articles."""
        languages = self.retriever.article_language
        return bool(len(languages)) and int((languages == "de").sum()) * 2 > len(languages)

    def article(self, file: str) -> dict:
        for article in self.data.articles:
            if article["file"] == file:
                return article
        raise UnknownArticle(file)

    def article_ids(self, files: list[str]) -> set[int]:
        wanted = set(files)
        ids = {i for i, a in enumerate(self.data.articles) if a["file"] in wanted}
        missing = wanted - {self.data.articles[i]["file"] for i in ids}
        if missing:
            raise UnknownArticle(", ".join(sorted(missing)))
        return ids


_refresh_lock = threading.Lock()
