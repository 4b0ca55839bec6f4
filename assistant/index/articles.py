"""The articles of an index generation, in SQLite: metadata and kept text, read on demand.

Loading an index must not read every article's text (10,000 news articles are tens of MB):
an `ArticleTable` opens the database lazily, read-only, and fetches one article when it is
asked for. Article ids are row positions 0..n-1, the same numbers the passage arrays use.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from ..ingest.sources import Article

FILE = "articles.sqlite"
_COLUMNS = ("id", "file", "title", "date", "language", "authors", "url", "byline", "content_hash", "text")
_SCHEMA = """
CREATE TABLE articles (
    id INTEGER PRIMARY KEY, file TEXT NOT NULL UNIQUE, title TEXT NOT NULL, date TEXT, language TEXT NOT NULL,
    authors TEXT NOT NULL, url TEXT, byline TEXT, content_hash TEXT NOT NULL, text TEXT NOT NULL
)"""


class ArticleWriter:
    """A new database, filled article by article (ids 0, 1, ... in the order added), so a
    build never holds every article's text; `close` commits (the caller fsyncs the folder)."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path)
        self.db.execute(_SCHEMA)
        self.count = 0

    def add(self, articles: Iterable[Article]) -> None:
        rows = []
        for a in articles:
            rows.append((self.count, a.file, a.title, a.date, a.language,
                         json.dumps(list(a.authors), ensure_ascii=False), a.url,
                         json.dumps(list(a.byline)) if a.byline else None, a.content_hash, a.text))
            self.count += 1
        self.db.executemany(
            f"INSERT INTO articles ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})", rows)

    def close(self) -> None:
        self.db.commit()
        self.db.close()

    def abandon(self) -> None:
        self.db.close()


def _article(row: tuple) -> Article:
    _, file, title, date, language, authors, url, byline, content_hash, text = row
    span = json.loads(byline) if byline else None
    return Article(file=file, title=title, date=date, language=language, text=text, content_hash=content_hash,
                   authors=tuple(json.loads(authors)), url=url, byline=(span[0], span[1]) if span else None)


class ArticleTable:
    """A read-only sequence of Articles (article id = position), fetched one at a time."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()  # sqlite3 connections belong to one thread
        self._len = int(self._query("SELECT COUNT(*) FROM articles")[0][0])
        self.fetch = lru_cache(maxsize=256)(self._fetch)

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            self._local.db = db
        return db

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self._connection().execute(sql, params).fetchall()

    def _fetch(self, article_id: int) -> Article:
        rows = self._query(f"SELECT {', '.join(_COLUMNS)} FROM articles WHERE id = ?", (int(article_id),))
        if not rows:
            raise IndexError(article_id)
        return _article(rows[0])

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, article_id: int) -> Article:
        if not 0 <= int(article_id) < self._len:
            raise IndexError(article_id)
        return self.fetch(int(article_id))

    def __iter__(self) -> Iterator[Article]:
        for row in self._connection().execute(f"SELECT {', '.join(_COLUMNS)} FROM articles ORDER BY id"):
            yield _article(row)

    @cached_property
    def files(self) -> list[str]:
        return [r[0] for r in self._query("SELECT file FROM articles ORDER BY id")]

    @cached_property
    def languages(self) -> np.ndarray:
        return np.array([r[0] for r in self._query("SELECT language FROM articles ORDER BY id")])

    def hashes(self) -> dict[str, str]:
        return dict(self._query("SELECT file, content_hash FROM articles"))

