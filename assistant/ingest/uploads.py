"""Check and store articles uploaded through the web chat.

An upload comes from a stranger's browser, so nothing about it is trusted: the name is reduced
to a plain file name inside the sources folder, only article extensions are taken, the size is
capped, the content must parse as an article, and an existing article is never overwritten.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .sources import SourceError, content_hash, parse_article

UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm")
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_NAME_CHARS = 100


class UploadError(ValueError):
    """An upload that was refused; the message is shown to the person who sent it."""


@dataclass(frozen=True)
class StoredUpload:
    file: str  # name inside the sources folder
    title: str
    duplicate_of: str | None = None  # same bytes already stored under this name: nothing written


def safe_file_name(name: str) -> str:
    """A plain, harmless file name from whatever the browser sent (`../../x.txt` -> `x.txt`)."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFKC", base)
    base = re.sub(r"[^\w.\-]+", "_", base, flags=re.ASCII).strip("._-")
    base = re.sub(r"\.{2,}", ".", base)
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem:
        raise UploadError(f"{name!r}: the file name needs a name and an extension ({', '.join(UPLOAD_SUFFIXES)})")
    suffix = "." + suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise UploadError(f"{name!r}: only {', '.join(UPLOAD_SUFFIXES)} files can be added")
    return stem[: MAX_NAME_CHARS - len(suffix)] + suffix


def _existing_with_hash(folder: Path, digest: str) -> str | None:
    for path in folder.iterdir():
        if path.is_file() and path.suffix.lower() in UPLOAD_SUFFIXES and path.stat().st_size <= MAX_UPLOAD_BYTES:
            if content_hash(path.read_bytes()) == digest:
                return path.name
    return None


def store_upload(sources_dir: Path, name: str, data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> StoredUpload:
    """Validate one uploaded file and write it into `sources_dir` (never over an existing file)."""
    file = safe_file_name(name)
    if len(data) > max_bytes:
        raise UploadError(f"{file}: {len(data) / 1024 / 1024:.1f} MiB is over the {max_bytes // 1024 // 1024} MiB limit")
    try:
        article = parse_article(file, data)
    except SourceError as exc:
        raise UploadError(f"{file}: {exc}") from None
    folder = sources_dir.resolve()
    duplicate = _existing_with_hash(folder, article.content_hash)
    if duplicate is not None:
        return StoredUpload(duplicate, article.title, duplicate_of=duplicate)
    target = folder / file
    if target.parent != folder:  # cannot happen after safe_file_name; checked anyway
        raise UploadError(f"{name!r}: not a plain file name")
    try:
        # O_EXCL: an article of that name (even one written a moment ago) is never replaced.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise UploadError(f"{file}: an article with this name already exists; rename the file and try again") from None
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return StoredUpload(file, article.title)
