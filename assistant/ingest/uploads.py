"""Check and store articles uploaded through the web chat.

An upload comes from a stranger's browser, so nothing about it is trusted: the name is reduced
to a plain file name inside the sources folder, only article extensions are taken, the size is
capped, the content must parse as an article, and an existing article is never overwritten.
"""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from .sources import SourceError, content_hash, parse_article

UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm")
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_NAME_CHARS = 100
LOCK_FILE = ".uploads.lock"  # in the sources folder; a dot file, so never read as an article
LOCK_TIMEOUT_S = 60.0


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
    for path in folder.iterdir():  # not links: the file a link points to may lie outside the folder
        if not path.is_symlink() and path.is_file() and path.suffix.lower() in UPLOAD_SUFFIXES and path.stat().st_size <= MAX_UPLOAD_BYTES:
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
    target = folder / file
    if target.parent != folder:  # cannot happen after safe_file_name; checked anyway
        raise UploadError(f"{name!r}: not a plain file name")
    # One upload at a time looks for a duplicate and writes: two identical files sent at once
    # under two names would otherwise both pass the check and both be stored.
    with FileLock(folder / LOCK_FILE, timeout=LOCK_TIMEOUT_S):
        duplicate = _existing_with_hash(folder, article.content_hash)
        if duplicate is not None:
            return StoredUpload(duplicate, article.title, duplicate_of=duplicate)
        _write_new(folder, target, data)
    return StoredUpload(file, article.title)


def _write_new(folder: Path, target: Path, data: bytes) -> None:
    """Write the whole file under a hidden name (article_files skips dot files), then link it
    under its own: an index run never reads half an article, and the link fails when the name
    exists, so an article (even one written a moment ago) is never replaced."""
    tmp = folder / f".upload-{secrets.token_hex(8)}.tmp"
    try:
        with open(tmp, "xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise UploadError(f"{target.name}: an article with this name already exists; rename the file and "
                              "try again") from None
    finally:
        tmp.unlink(missing_ok=True)
