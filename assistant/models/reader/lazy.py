"""The reader, loaded on its first question (torch and the weights take seconds to load)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path


class Reader:
    """Stands for models/reader/model.Reader until it is needed; thread-safe."""

    def __init__(self, base_folder: Callable[[], Path], weights_dir: Path | None = None):
        self.base_folder = base_folder  # called at load: the converted e5 folder is made on first use
        self.weights_dir = weights_dir
        self._loaded = None
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    from .model import Reader as Loaded

                    self._loaded = Loaded.load(self.weights_dir, self.base_folder())
        return self._loaded

    @property
    def threshold(self) -> float:
        """The no-answer margin calibrated with the weights (on held-out training data)."""
        return self.model.threshold

    def read(self, question: str, passages: list[str]):
        return self.model.read(question, passages)
