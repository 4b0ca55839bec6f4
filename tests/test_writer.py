"""index/writer.py: .npy files written block by block read back as ordinary arrays."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.index.writer import HEADER_BYTES, NpyAppender


def test_blocks_appended_read_back_whole_and_memory_mapped(tmp_path):
    path = tmp_path / "rows.npy"
    writer = NpyAppender(path, np.int64, 3)
    writer.append(np.arange(6).reshape(2, 3))
    writer.append(np.zeros((0, 3)))  # an empty block changes nothing
    writer.append(np.arange(6, 9))  # one row, flat
    writer.close()
    expected = np.arange(9).reshape(3, 3)
    np.testing.assert_array_equal(np.load(path), expected)
    mapped = np.load(path, mmap_mode="r")
    assert isinstance(mapped, np.memmap) and mapped.dtype == np.int64 and mapped.shape == (3, 3)
    assert path.stat().st_size == HEADER_BYTES + expected.nbytes


def test_an_empty_file_and_codes(tmp_path):
    empty = NpyAppender(tmp_path / "empty.npy", np.float32, 384)
    empty.close()
    assert np.load(tmp_path / "empty.npy").shape == (0, 384)
    codes = NpyAppender(tmp_path / "codes.npy", np.uint8, 4)
    codes.append(np.array([[1, 2, 3, 255]]))
    codes.close()
    codes.close()  # closing twice is harmless
    assert np.load(tmp_path / "codes.npy").tolist() == [[1, 2, 3, 255]]


def test_rows_of_another_width_are_refused(tmp_path):
    writer = NpyAppender(tmp_path / "rows.npy", np.float32, 4)
    with pytest.raises(ValueError):
        writer.append(np.zeros((2, 3)))
    with pytest.raises(ValueError):
        writer.append(np.zeros((3, 4)).T)  # 12 values, but rows of 3
    writer.abandon()


def test_a_file_that_was_never_closed_is_not_a_full_array(tmp_path):
    """A killed build leaves the header's 0 rows: nothing reads half-written rows as data."""
    writer = NpyAppender(tmp_path / "rows.npy", np.float32, 2)
    writer.append(np.ones((5, 2)))
    writer.abandon()
    assert np.load(tmp_path / "rows.npy", mmap_mode="r").shape == (0, 2)
