"""`Assistant`: the one object the CLI, the chat, the evaluation and library users work with.

    from assistant import Assistant
    assistant = Assistant()                     # sources/ and index/, read-only
    answer = assistant.ask("Wie viele Kunden hat Vodacom?")
    print(answer.answer)

Opening is read-only unless asked otherwise (`update=True`, or `index()`), so answering never
imports or runs the write path. The loaded state is an immutable `Snapshot`; `index()` builds
the next one and swaps it in with one assignment, so a question asked during an update is
answered entirely from the old index or entirely from the new one.
"""

from __future__ import annotations

import shlex
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .answer.answering import answer_question, answer_with_passages
from .answer.types import Answer
from .config import ConfigError, ReaderPolicy, Settings
from .index.retrieval import PassageHit
from .index.snapshot import Snapshot
from .index.store import IndexMissing
from .index.view import UnknownArticle
from .ingest.sources import Article
from .models.embedding import Embedder, default_model_folder
from .models.reader.lazy import LazyReader

if TYPE_CHECKING:  # the write path is imported only when indexing
    from .index.indexer import UpdateReport

__all__ = ["Assistant", "UnknownArticle"]


def index_command(settings: Settings) -> str:
    """The command that builds the index of these folders (both named: a hint that leaves out
    --sources would index the default folder instead)."""
    return (f"assistant index --sources {shlex.quote(str(settings.sources_dir))} "
            f"--index {shlex.quote(str(settings.index_dir))}")


def _reader(settings: Settings) -> LazyReader | None:
    """The second stage, loaded on its first question; None when switched off."""
    if not settings.reader:
        return None
    return LazyReader(lambda: default_model_folder(settings), settings.reader_weights,
                      fitted_to=settings.reader_policy.reader_weights_sha256)


def check_policy_fits(policy: ReaderPolicy, embedder: Embedder) -> None:
    """The answer policy's `first_stage` feature and thresholds are similarities of the question
    model it was fitted with: with another one (ASSISTANT_MODEL, an encoder or question adapter)
    they mean something else, so the assistant refuses to start rather than answer miscalibrated."""
    if policy.first_stage_model != embedder.query_identity:
        raise ConfigError(f"the answer policy was fitted with the first stage {policy.first_stage_model}, "
                          f"not {embedder.query_identity}: refit it (benchmarks/fit_answer_policy.py --weights DIR, "
                          "then ASSISTANT_READER_WEIGHTS=DIR) or answer without the answer model (ASSISTANT_READER=0)")


class Assistant:
    def __init__(self, sources_dir: str | Path | None = None, index_dir: str | Path | None = None,
                 settings: Settings | None = None, *, update: bool = False, progress: bool = False,
                 embedder: Embedder | None = None):
        """Open the index of `sources_dir` (default sources/) in `index_dir` (default index/).

        With `update=True` the index is first built or brought up to date with the sources
        folder (`last_update` then says what changed); otherwise a missing index is an error
        (store.IndexMissing) that names the command which builds it."""
        self.settings = (settings or Settings()).with_paths(sources_dir, index_dir)
        self.embedder = embedder or Embedder(self.settings)
        if self.settings.reader:
            check_policy_fits(self.settings.reader_policy, self.embedder)
        self.reader = _reader(self.settings)
        self._write_lock = threading.Lock()
        self.last_update: UpdateReport | None = None
        if update:
            self._update(rebuild=False, progress=progress, only_if_stale=True)
        try:
            self._snapshot = Snapshot.load(self.settings, self.embedder, self.reader)
        except IndexMissing as exc:
            raise IndexMissing(f"no index in {self.settings.index_dir}; build it with: "
                               f"{index_command(self.settings)}, or open it with Assistant(..., update=True)") from exc

    @property
    def snapshot(self) -> Snapshot:
        """The index as it is now; hold on to it to answer several questions from one state."""
        return self._snapshot

    def ask(self, question: str, max_quotes: int | None = None, files: list[str] | None = None,
            topic: str | None = None) -> Answer:
        """Answer from all articles, or only from `files`; raises QuestionError for an empty question.

        In a conversation, `topic` is the last question answered on its own (see
        answer/conversation.py: `next_topic`): a follow-up is then also read together with it."""
        return answer_question(self._snapshot, question, max_quotes, files, topic)

    def ask_citing(self, question: str, max_quotes: int | None = None, files: list[str] | None = None,
                   topic: str | None = None) -> tuple[Answer, dict[str, Article]]:
        """`ask`, and the articles its quotes cite, both from one state of the index (an upload
        may swap in another meanwhile). `files` no longer indexed (removed since a page listed
        them) are left out; none left: all articles are searched."""
        snapshot = self._snapshot
        known = {a.file for a in snapshot.view.articles}
        chosen = [f for f in (files or []) if f in known] or None
        answer = answer_question(snapshot, question, max_quotes, chosen, topic)
        cited: dict[str, Article] = {}
        for quote in answer.quotes + answer.related:
            if quote.source not in cited:
                cited[quote.source] = snapshot.view.article_by_file(quote.source)
        return answer, cited

    def ask_with_passages(self, question: str, max_quotes: int | None = None,
                          files: list[str] | None = None) -> tuple[Answer, list[PassageHit]]:
        """The answer and the ranked passages it was drawn from (for evaluating retrieval)."""
        return answer_with_passages(self._snapshot, question, max_quotes, files)

    def sources(self) -> tuple[Article, ...]:
        """The indexed articles with their metadata and kept text."""
        return tuple(self._snapshot.view.articles)

    def article(self, file: str) -> Article:
        """An indexed article by file name; UnknownArticle when there is none."""
        return self._snapshot.view.article_by_file(file)

    def index(self, rebuild: bool = False, progress: bool = False) -> UpdateReport:
        """Bring the index in line with the sources folder, then answer from the new state."""
        report = self._update(rebuild=rebuild, progress=progress, only_if_stale=False)
        return report

    def remove(self, file: str) -> UpdateReport:
        """Delete an article from the sources folder and drop it from the index. An article that
        is a link loses the link, never the file it points to (which may be another article,
        or lie outside the folder)."""
        article = self.article(file)  # UnknownArticle unless it is indexed
        folder = self.settings.sources_dir.resolve()
        # The folder holding the name is resolved, the name itself is not: unlink removes a link.
        path = (folder / article.file).parent.resolve() / Path(article.file).name
        if not path.parent.is_relative_to(folder):
            raise UnknownArticle(file)
        path.unlink(missing_ok=True)
        return self.index()

    def _update(self, rebuild: bool, progress: bool, only_if_stale: bool) -> UpdateReport:
        from .index.indexer import UpdateReport, index_is_current, update_index

        with self._write_lock:
            if only_if_stale and not rebuild and index_is_current(self.settings):
                return UpdateReport()
            report = update_index(self.settings, self.embedder, rebuild=rebuild, progress=progress)
            self.last_update = report
            if report.wrote and hasattr(self, "_snapshot"):
                self._snapshot = Snapshot.load(self.settings, self.embedder, self.reader)  # one assignment
            return report
