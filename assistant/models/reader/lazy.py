"""The answer model, loaded on its first question (torch and the weights take seconds to load)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path


class LazyReader:
    """Stands for models/reader/model.Reader until it is needed; thread-safe."""

    def __init__(self, base_folder: Callable[[], Path], weights_dir: Path | None = None, precision: str = "auto"):
        self.base_folder = base_folder  # called at load: the converted e5 folder is made on first use
        self.weights_dir = weights_dir
        self.precision = precision
        self._loaded = None
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    from .model import Reader as Loaded

                    self._loaded = Loaded.load(self.weights_dir, self.base_folder(), self.precision)
        return self._loaded

    @property
    def max_answer_tokens(self) -> int:
        return self.model.max_answer_tokens

    def read(self, question: str, inputs: Sequence):
        """One models.reader.model.Reading per ReaderInput."""
        return self.model.read(question, inputs)
