"""What can go wrong with an index, as exceptions whose message says how to recover.

In a module of their own so that the store, the vector stores and Milvus can all raise them
without importing one another. The CLI prints an `IndexProblem` as one line (exit status 2);
ASSISTANT_DEBUG=1 also shows its cause.
"""

from __future__ import annotations

from pathlib import Path


class IndexProblem(Exception):
    """The index is missing, corrupt or unusable; the message says how to recover."""


class IndexMissing(IndexProblem):
    pass


class IndexCorrupt(IndexProblem):
    """Part of the index is damaged or inconsistent: rebuilding it helps."""


class IndexBusy(IndexProblem):
    pass


class IndexOutdated(IndexCorrupt):
    """A whole index in another format version: `assistant index` rebuilds it by itself."""


class IndexUnreadable(IndexProblem):
    """The index may be whole, but this process cannot read it (a permission, too many open
    files, a library that is not installed): rebuilding would not help; the message says what does."""


def rebuild_hint(index_dir: Path) -> str:
    return f"rebuild it with: assistant index --rebuild --index {index_dir}"


class IndexResources(IndexProblem):
    """The machine lacks the disk space or memory an update needs; the previous index still
    answers, and the message says how much is missing."""
