"""A typed, read-only view of a loaded index generation.

Everything above the store reads the index through this class, by name: which sentences a
passage has, a sentence's vectors, an article's metadata. The column layout of the
arrays on disk (store.py) is known here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from ..ingest.sources import Article
from .articles import ArticleTable
from .lexical import LexicalIndex
from .store import IndexData
from .vector_index import VectorIndex

# Column positions of the arrays written by the indexer (store.py's layout).
_P_ARTICLE, _P_START, _P_END = 0, 1, 2
_S_PASSAGE, _S_ARTICLE, _S_START, _S_END = range(4)


class UnknownArticle(KeyError):
    """No indexed article has this file name."""


class Passage(NamedTuple):
    id: int
    article_id: int
    start: int
    end: int


class Sentence(NamedTuple):
    id: int
    passage_id: int
    article_id: int
    start: int
    end: int


@dataclass(frozen=True)
class Sentences:
    """Several sentences as columns (for scoring many at once)."""

    ids: np.ndarray
    passage_ids: np.ndarray
    article_ids: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self):
        for row in zip(self.ids.tolist(), self.passage_ids.tolist(), self.article_ids.tolist(),
                       self.starts.tolist(), self.ends.tolist()):
            yield Sentence(*row)


class IndexView:
    def __init__(self, data: IndexData):
        self._data = data
        # Fetched one at a time from SQLite when loaded (articles.py); a list when just built.
        self.articles: Sequence[Article] = data.articles

    # --------------------------------------------------------------- the whole index

    @property
    def manifest(self) -> dict:
        return self._data.manifest

    @property
    def generation(self) -> str | None:
        return self._data.path.name if self._data.path else None

    @property
    def vector_index(self) -> VectorIndex:
        return self._data.vector_index

    @property
    def lexical(self) -> LexicalIndex:
        return self._data.lexical

    @property
    def passage_count(self) -> int:
        return len(self._data.passages)

    @cached_property
    def article_languages(self) -> np.ndarray:
        if isinstance(self.articles, ArticleTable):
            return self.articles.languages
        return np.array([a.language for a in self.articles])

    # --------------------------------------------------------------- articles

    @cached_property
    def _article_id_of(self) -> dict[str, int]:
        files = self.articles.files if isinstance(self.articles, ArticleTable) else [a.file for a in self.articles]
        return {file: i for i, file in enumerate(files)}

    def article_by_file(self, file: str) -> Article:
        try:
            return self.articles[self._article_id_of[file]]
        except KeyError as exc:
            raise UnknownArticle(file) from exc

    def article_ids(self, files: list[str]) -> np.ndarray:
        missing = sorted(set(files) - set(self._article_id_of))
        if missing:
            raise UnknownArticle(", ".join(missing))
        return np.array(sorted({self._article_id_of[f] for f in files}), dtype=np.int64)

    def text(self, article_id: int, start: int, end: int) -> str:
        return self.articles[article_id].text[start:end]

    # --------------------------------------------------------------- passages

    def passage(self, passage_id: int) -> Passage:
        row = self._data.passages[passage_id]
        return Passage(int(passage_id), int(row[_P_ARTICLE]), int(row[_P_START]), int(row[_P_END]))

    def passage_text(self, passage_id: int) -> str:
        p = self.passage(passage_id)
        return self.text(p.article_id, p.start, p.end)

    def passage_article_ids(self, passage_ids: np.ndarray) -> np.ndarray:
        return np.asarray(self._data.passages[passage_ids, _P_ARTICLE])

    def passages_of_articles(self, article_ids: np.ndarray) -> np.ndarray:
        """Passage ids of these articles (passages are stored in article order)."""
        owners = np.asarray(self._data.passages[:, _P_ARTICLE])
        ranges = [np.arange(*np.searchsorted(owners, [a, a + 1])) for a in np.asarray(article_ids).tolist()]
        return np.concatenate(ranges) if ranges else np.zeros(0, dtype=np.int64)

    def passage_vectors(self, passage_ids: np.ndarray) -> np.ndarray:
        return self._data.vector_index.vectors(np.asarray(passage_ids))

    def _vectors(self, name: str, rows) -> np.ndarray:
        """Rows of a stored vector array as float32, decoded when the index keeps it coded."""
        stored = getattr(self._data, name)[rows]
        codec = self._data.codecs.get(name)
        return codec.decode(stored) if codec else np.asarray(stored, dtype=np.float32)

    # --------------------------------------------------------------- sentences

    def sentences_of(self, passage_ids) -> Sentences:
        """The sentences of these passages, in passage order (sentences are stored so)."""
        owners = np.asarray(self._data.sentences[:, _S_PASSAGE])
        ranges = [np.arange(*np.searchsorted(owners, [p, p + 1])) for p in passage_ids]
        ids = np.concatenate(ranges) if ranges else np.zeros(0, dtype=np.int64)
        return self.sentences(ids)

    def sentences(self, ids: np.ndarray) -> Sentences:
        rows = np.asarray(self._data.sentences[ids]).reshape(-1, 4)
        return Sentences(np.asarray(ids, dtype=np.int64), rows[:, _S_PASSAGE], rows[:, _S_ARTICLE],
                         rows[:, _S_START], rows[:, _S_END])

    def sentence(self, sentence_id: int) -> Sentence:
        return next(iter(self.sentences(np.array([sentence_id]))))

    def sentence_vectors(self, ids: np.ndarray) -> np.ndarray:
        return self._vectors("sentence_vectors", ids)

    def context_vectors(self, ids: np.ndarray) -> np.ndarray:
        """Each sentence pooled from its passage's forward pass."""
        return self._vectors("sentence_context_vectors", ids)
