"""The first stage's trained adapter: LoRA weights for multilingual-e5-small, learned from
question -> paragraph pairs (training/train_retriever.py; model card: MODEL_CARD.md here).

It is merged into the embedding model's weights when the model loads (models/embedding.py), so
every engine (torch float32/bfloat16, OpenVINO) runs the trained model and nothing at answer
time knows an adapter was there. Its digest is part of the model's identity: an index built
without it, or with another one, is rebuilt once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

ADAPTER_DIR = Path(__file__).resolve().parent / "weights"
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
# Every linear layer of the encoder: attention's query/key/value and output, and the feed-forward
# pair (all named "dense" apart from the attention projections).
LORA_TARGETS = ("query", "key", "value", "dense")


def adapter_digest(folder: Path = ADAPTER_DIR) -> str | None:
    """sha256 over the adapter's files, or None when none is shipped."""
    if not all((folder / name).is_file() for name in ADAPTER_FILES):
        return None
    digest = hashlib.sha256()
    for name in ADAPTER_FILES:
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


def merge_adapter(transformer, folder: Path = ADAPTER_DIR):
    """The transformer with the adapter's low-rank updates added into its weights (peft's
    merge_and_unload): the result is a plain transformers model, as fast as the base."""
    from peft import PeftModel

    return PeftModel.from_pretrained(transformer, str(folder)).merge_and_unload()
