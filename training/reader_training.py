"""What only training does to the answer model (models/reader/model.py holds what the product
runs): which parameters learn, and writing the learnt ones as the shipped weights file."""

from __future__ import annotations

from pathlib import Path

import torch

from assistant.models.reader.model import CONFIG_FILE, FORMAT, WEIGHTS_FILE, ReaderConfig, ReaderNet


def set_trainable(net: ReaderNet) -> None:
    """Only ReaderNet.trainable_names learn; the rest (the embedding matrix, base weights) is frozen."""
    keep = set(net.trainable_names())
    for name, param in net.named_parameters():
        param.requires_grad = name in keep


def trained_state(net: ReaderNet) -> dict[str, torch.Tensor]:
    params = dict(net.named_parameters())
    return {name: params[name].detach().clone().contiguous() for name in net.trainable_names()}


def save_weights(net: ReaderNet, config: ReaderConfig, out_dir: Path, dtype: torch.dtype = torch.float16) -> Path:
    """Write only what training changed (safetensors) and the config (JSON)."""
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {name: t.to(dtype) for name, t in trained_state(net).items()}
    save_file(state, str(out_dir / WEIGHTS_FILE), metadata={"format": FORMAT})
    (out_dir / CONFIG_FILE).write_text(config.to_json() + "\n", encoding="utf-8")
    return out_dir / WEIGHTS_FILE
