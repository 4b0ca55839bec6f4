"""Stored vectors compressed with FAISS's standalone codecs (`sa_encode` / `sa_decode`).

The two sentence vectors are most of an index's bytes (a news passage has 6-7 sentences: 20 KB
of float32 vectors). A codec turns each vector into a few bytes and back: "SQ8" (8 bits a
dimension, 384 bytes for e5-small, range per dimension learnt from the index's own vectors)
keeps a quarter of that at the same first-quote rate (benchmarks/README.md: index size). Any
FAISS factory string with a standalone codec is accepted; "none" keeps the vectors as they are.

A codec is trained once, from the vectors in hand, and kept with the index: an incremental
update encodes new articles with it, so old rows never need re-encoding; `--rebuild` trains
afresh. A later article's values beyond the learnt range are clipped to it, which is why the
indexer trains only once an index holds enough vectors (Settings.codec_min_sentences).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

NONE = "none"
TRAIN_SAMPLE = 200_000  # vectors the indexer draws to learn a codec from (a scalar range needs few)


class CodecError(ValueError):
    """A codec name FAISS cannot make or use as a standalone codec; the message says which."""


def _make(spec: str, dimension: int):
    import faiss

    try:
        codec = faiss.index_factory(dimension, spec, faiss.METRIC_INNER_PRODUCT)
        codec.sa_code_size()
    except RuntimeError as exc:
        reason = str(exc).strip().splitlines()[-1].rsplit(": ", 1)[-1]
        raise CodecError(f"{spec!r} is not a FAISS vector codec ({reason}); "
                         "use e.g. SQ8, SQ4, SQfp16 or none") from exc
    return codec


def check_spec(spec: str, dimension: int = 1536) -> None:
    """Raise CodecError now rather than at the end of an hour of embedding (1536 divides into
    the sub-vector counts product quantisers usually take; training checks the real one)."""
    if spec != NONE:
        _make(spec, dimension)


class VectorCodec:
    """One trained FAISS codec: float32 rows in, `code_size` uint8 bytes a row out, and back."""

    def __init__(self, index, spec: str):
        self.index = index
        self.spec = spec

    @classmethod
    def train(cls, spec: str, vectors: np.ndarray) -> "VectorCodec":
        """Learn the codec from all of `vectors` (the caller draws a sample of a big index)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(vectors) == 0:
            raise CodecError(f"cannot train {spec} on no vectors")
        codec = _make(spec, vectors.shape[1])
        codec.train(vectors)
        return cls(codec, spec)

    @property
    def dimension(self) -> int:
        return self.index.d

    @property
    def code_size(self) -> int:
        return int(self.index.sa_code_size())

    def encode(self, vectors: np.ndarray) -> np.ndarray:
        if len(vectors) == 0:
            return np.zeros((0, self.code_size), np.uint8)
        return self.index.sa_encode(np.ascontiguousarray(vectors, dtype=np.float32))

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Unit vectors again: every coded array holds unit vectors (scores are cosines), and a
        product quantiser's reconstructions are shorter than the originals, which lowered every
        cosine (MaxSim scores fell by 0.026 at PQ32) and made the abstention thresholds refuse far more."""
        if len(codes) == 0:
            return np.zeros((0, self.dimension), np.float32)
        vectors = self.index.sa_decode(np.ascontiguousarray(codes, dtype=np.uint8))
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, spec: str) -> "VectorCodec":
        import faiss

        return cls(faiss.read_index(str(path)), spec)
