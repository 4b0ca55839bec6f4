"""Which files of a sources folder are articles, and which of them may be read at all.

Apart from sources.py (which parses them) so that `assistant ask`, before it hands its question
to the warm server, can say a missing folder at once without importing the cleaning code.
"""

from __future__ import annotations

from pathlib import Path

ARTICLE_SUFFIXES = (".txt", ".md", ".html", ".htm")


class SourceError(Exception):
    """An article file that cannot be used; the message names the file and why."""


class SourcesFolderMissing(SourceError):
    """The sources folder is not there (or not a folder): often a command run from another folder."""


def article_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        where = "" if folder.is_absolute() else f" (looked in {Path.cwd()})"
        raise SourcesFolderMissing(f"sources folder {folder} {problem}{where}")
    # A dangling link is listed too (is_file() is False for it), so it is reported, not ignored.
    # rglob does not descend into linked folders, so every listed path's folders are real ones.
    return sorted(p for p in folder.rglob("*") if (p.is_file() or p.is_symlink() and not p.is_dir())
                  and p.suffix.lower() in ARTICLE_SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def check_inside(folder: Path, path: Path) -> None:
    """SourceError when `path` leads out of `folder` through a link (the file's own, or a linked
    sub-folder's): whoever adds articles there must not make the assistant read (and quote to
    anyone who asks) any file its user can read. A link to a file inside is read like its target.
    A plain file directly in the folder is not resolved: this runs before every warm answer."""
    if path.parent == folder and not path.is_symlink():
        return
    if not path.resolve().is_relative_to(folder.resolve()):
        raise SourceError("a link to a file outside the sources folder: not read (links may only point "
                          "inside it; copy the file in instead)")
