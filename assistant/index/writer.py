"""Arrays written to disk as they are made, so an index build holds one chunk in memory.

An `NpyAppender` writes an .npy file row block by row block: a fixed-size header first, with
the shape filled in when the file is closed. numpy reads the result like any .npy file (the
header is padded with spaces, which the format allows), memory-mapped or not.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

HEADER_BYTES = 128  # magic, version, length and the header dict, padded: a multiple of 64 (numpy's alignment)


def _header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    body = repr({"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape})
    prefix = np.lib.format.MAGIC_PREFIX + bytes([1, 0])
    room = HEADER_BYTES - len(prefix) - 2
    if len(body) + 1 > room:
        raise ValueError(f"an .npy header for shape {shape} does not fit in {HEADER_BYTES} bytes")
    text = body.ljust(room - 1) + "\n"
    return prefix + len(text).to_bytes(2, "little") + text.encode("latin1")


class NpyAppender:
    """Append rows of a fixed width and dtype to an .npy file; `close` writes the final shape."""

    def __init__(self, path: Path, dtype, width: int):
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self.width = width
        self.rows = 0
        self._file = open(self.path, "wb")
        self._file.write(_header(self.dtype, (0, width)))

    def append(self, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, dtype=self.dtype)
        if rows.size == 0:
            return
        rows = rows.reshape(1, -1) if rows.ndim == 1 else rows.reshape(len(rows), -1)
        if rows.shape[1] != self.width:
            raise ValueError(f"rows of width {rows.shape[1]} appended to {self.path.name} of width {self.width}")
        self._file.write(rows.tobytes())
        self.rows += len(rows)

    def close(self) -> None:
        """Write the real shape and flush the file to disk."""
        if self._file.closed:
            return
        self._file.seek(0)
        self._file.write(_header(self.dtype, (self.rows, self.width)))
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def abandon(self) -> None:
        if not self._file.closed:
            self._file.close()
