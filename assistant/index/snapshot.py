"""The loaded state one answer reads: settings, model, index view and retriever.

A `Snapshot` is immutable. `Assistant` swaps in a new one with a single assignment after an
update, so an answer that started on the old index finishes on it, and no answer ever sees
the new index view with the old retriever.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Settings
from ..models.embedding import Embedder
from ..models.reader.lazy import LazyReader
from . import store
from .retrieval import Retriever
from .view import IndexView


@dataclass(frozen=True)
class Snapshot:
    settings: Settings
    embedder: Embedder
    view: IndexView
    retriever: Retriever
    reader: LazyReader | None = None  # the second stage (answer/reading.py); None: similarity only

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder, reader: LazyReader | None = None) -> "Snapshot":
        """Open the live index generation; raises store.IndexMissing / IndexCorrupt."""
        data = store.load_generation(settings.index_dir, probe=settings.ivf_probe, milvus_token=settings.milvus_token)
        if data.manifest["model"] != embedder.identity:
            raise store.IndexCorrupt(
                f"the index in {settings.index_dir} was built with {data.manifest['model']}, not {embedder.identity}; "
                + store.rebuild_hint(settings.index_dir))
        view = IndexView(data)
        return cls(settings, embedder, view, Retriever.of(view, settings), reader)

    @property
    def mostly_german(self) -> bool:
        """The language assumed for a question that carries no evidence of its own."""
        languages = self.view.article_languages
        return bool(len(languages)) and int((languages == "de").sum()) * 2 > len(languages)
