"""LoRA adapters for the embedding model (training/train_retriever.py trains them), merged into
its weights when it loads, so every engine (torch float32/bfloat16, OpenVINO) runs them and
nothing at answer time knows an adapter was there.

Two kinds:
- the **encoder adapter** (Settings.encoder_adapter, ASSISTANT_ENCODER_ADAPTER): trained on both
  sides, it changes how passages, sentences and questions are embedded, so the model's identity
  (and every index's manifest) carries its digest and an index built without it is rebuilt.
  None ships: those trained so far did not beat e5 in every language pair (benchmarks/README.md).
- a **question adapter** (Settings.query_adapter, ASSISTANT_QUERY_ADAPTER): merged into a copy
  of the encoder that only questions run through; passages and indexes stay as they are, so
  trying one rebuilds nothing, and the question model's identity carries its digest.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
# Every linear layer of the encoder: attention's query/key/value and output, and the feed-forward
# pair (all named "dense" apart from the attention projections).
LORA_TARGETS = ("query", "key", "value", "dense")


def holds_adapter(folder: Path) -> bool:
    """Does the folder hold every file of an adapter?"""
    return all((folder / name).is_file() for name in ADAPTER_FILES)


def adapter_digest(folder: Path) -> str | None:
    """sha256 over the adapter's files, or None when the folder holds no adapter."""
    if not holds_adapter(folder):
        return None
    digest = hashlib.sha256()
    for name in ADAPTER_FILES:
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


def merge_adapter(transformer, folder: Path):
    """The transformer with the adapter's low-rank updates added into its weights (peft's
    merge_and_unload): the result is a plain transformers model, as fast as the base."""
    from peft import PeftModel

    return PeftModel.from_pretrained(transformer, str(folder)).merge_and_unload()
