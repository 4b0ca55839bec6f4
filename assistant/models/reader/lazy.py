"""The answer model, loaded on its first question (torch and the weights take seconds to load)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path


class LazyReader:
    """Stands for models/reader/model.Reader until it is needed; thread-safe."""

    def __init__(self, base_folder: Callable[[], Path], weights_dir: Path | None = None, precision: str = "auto",
                 fitted_to: str | None = None):
        self.base_folder = base_folder  # called at load: the converted e5 folder is made on first use
        self.weights_dir = weights_dir
        self.fitted_to = fitted_to  # sha256 of the weights the answer policy was fitted to
        self.precision = precision
        self._loaded = None
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    from .model import WEIGHTS_DIR
                    from .model import Reader as Loaded

                    self._check_policy(self.weights_dir or WEIGHTS_DIR)
                    self._loaded = Loaded.load(self.weights_dir, self.base_folder(), self.precision)
        return self._loaded

    def _check_policy(self, weights_dir: Path) -> None:
        """Refuse weights other than those the answer policy was fitted to: its thresholds and
        weights would mean nothing for them."""
        from ...config import weights_digest
        from .model import ReaderError

        if self.fitted_to is None:
            return
        digest = weights_digest(weights_dir)
        if digest != self.fitted_to:
            raise ReaderError(f"the answer policy was fitted to reader weights {self.fitted_to[:12]}, not to {weights_dir} "
                        f"({digest[:12]}): fit one to them with benchmarks/fit_answer_policy.py --weights DIR "
                        "(it writes policy.json beside them)")

    @property
    def max_answer_tokens(self) -> int:
        return self.model.max_answer_tokens

    def read(self, question: str, inputs: Sequence):
        """One models.reader.model.Reading per ReaderInput."""
        return self.model.read(question, inputs)
