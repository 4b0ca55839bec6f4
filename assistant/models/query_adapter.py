"""A question adapter for the first stage: LoRA weights for the embedding model that change how
questions are embedded, never passages (training/train_retriever.py trains one).

Set with ASSISTANT_QUERY_ADAPTER=FOLDER (Settings.query_adapter). It is merged into a copy of
the encoder when the model loads (models/embedding.py), so every engine (torch float32/bfloat16,
OpenVINO) runs it and nothing at answer time knows an adapter was there. Passages, sentences and
every index stay e5's own, so trying one rebuilds nothing; the question model's identity carries
the adapter's digest. None ships: the adapters trained so far lost recall on the development
split (benchmarks/README.md, "First stage").
"""

from __future__ import annotations

import hashlib
from pathlib import Path

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
# Every linear layer of the encoder: attention's query/key/value and output, and the feed-forward
# pair (all named "dense" apart from the attention projections).
LORA_TARGETS = ("query", "key", "value", "dense")


def adapter_digest(folder: Path) -> str | None:
    """sha256 over the adapter's files, or None when none is shipped."""
    if not all((folder / name).is_file() for name in ADAPTER_FILES):
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
