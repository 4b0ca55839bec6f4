"""Writing files so that a crash never leaves a half-written one behind."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str, durable: bool = False) -> None:
    """Write beside `path`, then rename over it: readers see the old file or the new one.

    `durable` also flushes the file and its folder to disk (for the index pointer, which must
    survive a power cut; reports only need to be whole)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)
    if durable:
        fsync_dir(path.parent)


def save_array(path: Path, array) -> None:
    """An .npy file (numpy's format, no pickle), flushed to disk."""
    import numpy as np

    with open(path, "wb") as handle:
        np.save(handle, array, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())
