"""The answer model on its real shipped weights: it reads a question with one candidate sentence
(its article's title and the sentence before it), says whether the sentence holds the answer
and where; spans are exact slices of the sentence. Span decoding is also checked on hand-made
logits, where the right answer is known exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.ingest.passages import split_sentences
from assistant.ingest.sources import parse_article
from assistant.models.reader.model import (
    FORMAT,
    WEIGHTS_DIR,
    Reader,
    ReaderConfig,
    ReaderError,
    ReaderInput,
    Reading,
    best_span,
    clean_span,
    whole_words,
    encode_inputs,
)

from conftest import SHIPPED_FILES

VODACOM_QUESTION = "Wie viel Prozent an Vodacom hält Vodafone?"

pytestmark = pytest.mark.model


def sentence_with(sources: Path, marker: str) -> ReaderInput:
    """The shipped sentence containing `marker`, read as the product reads it: with its
    article's title and the sentence before it in its paragraph."""
    for path in sorted(sources / name for name in SHIPPED_FILES):
        article = parse_article(path.name, path.read_bytes())
        title = article.title
        for block in article.text.split("\n\n"):
            sentences = split_sentences(block, "de")
            for k, (a, b) in enumerate(sentences):
                if marker in block[a:b]:
                    before = block[slice(*sentences[k - 1])] if k else ""
                    return ReaderInput(block[a:b], title, before)
    raise AssertionError(f"no shipped sentence contains {marker!r}")


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader.load()


@pytest.fixture(scope="module")
def vodacom(shipped_sources: Path) -> ReaderInput:
    return sentence_with(shipped_sources, "Die Vodacom Group ist")


@pytest.fixture(scope="module")
def telekom(shipped_sources: Path) -> ReaderInput:
    return sentence_with(shipped_sources, "T-Systems-Chef Adel Al-Saleh")


def test_shipped_weights_are_small_and_of_this_format() -> None:
    weights = WEIGHTS_DIR / "reader.safetensors"
    assert weights.exists() and (WEIGHTS_DIR / "reader_config.json").exists()
    assert weights.stat().st_size < 8_000_000  # adapters, layer norms and heads only
    config = ReaderConfig.from_dict(json.loads((WEIGHTS_DIR / "reader_config.json").read_text()))
    assert config.format == FORMAT and 1 <= config.num_layers <= 12
    assert config.calibration.get("gold_first") is not None  # what training measured on its dev split


def test_weights_of_another_format_are_refused(tmp_path: Path) -> None:
    (tmp_path / "reader_config.json").write_text(json.dumps({"format": "news-assistant-reader/1"}))
    with pytest.raises(ReaderError, match="format"):
        Reader.load(tmp_path)


def test_vodacom_share_is_found_as_a_short_exact_span(reader: Reader, vodacom: ReaderInput) -> None:
    reading = reader.read(VODACOM_QUESTION, [vodacom])[0]
    span = best_span(reading, reader.max_answer_tokens)
    assert span is not None
    answer = vodacom.candidate[span.start:span.end]
    assert "65 Prozent" in answer and len(answer) <= 40, answer
    assert reading.holds > 0  # more likely than not to hold the answer


def test_the_sentence_holding_the_answer_outscores_one_that_does_not(
        reader: Reader, vodacom: ReaderInput, telekom: ReaderInput) -> None:
    holding, other = reader.read(VODACOM_QUESTION, [vodacom, telekom])
    assert holding.holds > other.holds
    assert holding.margin(best_span(holding)) > other.margin(best_span(other))


def test_spans_are_exact_stripped_slices_of_the_candidate(
        reader: Reader, vodacom: ReaderInput, telekom: ReaderInput) -> None:
    questions = [VODACOM_QUESTION, "Wie viele Kunden hat Vodacom?", "Wer ist der Chef von T-Systems?"]
    for question in questions:
        for item, reading in zip([vodacom, telekom], reader.read(question, [vodacom, telekom])):
            assert reading.text == item.candidate
            assert reading.start_logits.shape == reading.end_logits.shape == (len(reading.token_spans),)
            span = best_span(reading)
            if span is None:
                continue
            text = item.candidate[span.start:span.end]
            assert 0 <= span.start < span.end <= len(item.candidate)
            assert text == text.strip() and text[-1] not in ",;:"


def test_a_sentence_longer_than_the_budget_is_cut_not_refused(reader: Reader, vodacom: ReaderInput) -> None:
    long = ReaderInput(" ".join([vodacom.candidate] * 12), vodacom.title, vodacom.context)
    reading = reader.read(VODACOM_QUESTION, [long])[0]
    assert len(reading.token_spans) == reader.config.max_candidate_tokens
    span = best_span(reading)
    assert span is not None and span.end <= reading.token_spans[-1, 1]


def test_empty_inputs(reader: Reader) -> None:
    assert reader.read("Wer?", []) == []
    reading = reader.read("Wer?", [ReaderInput("")])[0]
    assert best_span(reading) is None


def test_window_layout_and_budgets(reader: Reader) -> None:
    tokenizer, config = reader.tokenizer, reader.config
    long_question = "Wer " * 200 + "?"
    item = ReaderInput("Vodafone kauft Vodacom.", "Titel", "Davor " * 100)
    encoded = encode_inputs(tokenizer, config, long_question, [item])[0]
    ids = encoded.input_ids
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert encoded.candidate_start == 1 + config.max_question_tokens + 2  # <s> q </s></s>
    candidate = ids[encoded.candidate_start:encoded.candidate_start + len(encoded.offsets)]
    assert tokenizer.decode(candidate).strip() == item.candidate
    assert item.candidate[encoded.offsets[0][0]:encoded.offsets[-1][1]] == item.candidate
    budget = 1 + config.max_question_tokens + 2 + len(candidate) + 2 + config.max_title_tokens + 1 \
        + config.max_context_tokens + 1
    assert len(ids) <= budget


def _reading(text: str, spans: list[tuple[int, int]], start: list[float], end: list[float]) -> Reading:
    return Reading(text, 0.0, 0.0, np.array(start, dtype=np.float32), np.array(end, dtype=np.float32),
                   np.array(spans, dtype=np.int64))


def test_best_span_on_known_logits() -> None:
    text = "Vodafone hält 65 Prozent."
    spans = [(0, 8), (9, 13), (14, 16), (17, 24), (24, 25)]
    reading = _reading(text, spans, [0, 0, 5, 0, 0], [0, 0, 1, 4, 0])
    span = best_span(reading)
    assert text[span.start:span.end] == "65 Prozent" and span.score == pytest.approx(9.0)
    assert reading.margin(span) == pytest.approx(9.0)
    # a span longer than max_answer_tokens is not taken: the best one-token span is
    short = best_span(_reading(text, spans, [5, 0, 0, 0, 0], [1, 0, 0, 4, 0]), max_answer_tokens=2)
    assert text[short.start:short.end] == "Vodafone"
    # asked for a figure: the best span that holds one, with its own (lower) score
    figure = best_span(_reading(text, spans, [5, 0, 2, 0, 0], [5, 0, 0, 1, 0]), 2, accept=lambda t: any(c.isdigit() for c in t))
    assert text[figure.start:figure.end] == "65 Prozent" and figure.score == pytest.approx(3.0)
    assert best_span(reading, accept=lambda t: False) is None


def test_best_span_skips_spans_of_punctuation_only() -> None:
    text = "Er sagt: „Ja“."
    spans = [(0, 2), (3, 7), (7, 8), (9, 10), (10, 12), (12, 13), (13, 14)]
    reading = _reading(text, spans, [0, 0, 9, 0, 3, 0, 0], [0, 0, 9, 0, 3, 0, 0])
    span = best_span(reading)
    assert text[span.start:span.end] == "Ja"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" 65 Prozent, ", "65 Prozent"),
        ("(1823)", "1823"),
        ("„Diese Partnerschaft“", "Diese Partnerschaft"),
        ("in the U.S.", "in the U.S."),
        ("Jahr 2018.", "Jahr 2018"),
        ("(mehrheitlich) dem", "(mehrheitlich) dem"),
        ("Microsoft)", "Microsoft"),
        (".,;", ""),
    ],
)
def test_clean_span(text: str, expected: str) -> None:
    start, end = clean_span(text, 0, len(text))
    assert text[start:end] == expected


@pytest.mark.parametrize("text, start, end, expected", [
    ("eine zehnjährige Partnerschaft", 5, 9, "zehnjährige"),  # a token that ends inside a word
    ("eine zehnjährige Partnerschaft", 9, 16, "zehnjährige"),  # ... or starts inside one
    ("investing $1.5 billion", 10, 22, "$1.5 billion"),  # already whole words
    ("1,5-Milliarden-Vertrag", 0, 3, "1,5"),  # a hyphen ends a word
])
def test_spans_are_widened_to_whole_words(text: str, start: int, end: int, expected: str) -> None:
    s, e = whole_words(text, start, end)
    assert text[s:e] == expected


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_a_sentence_reads_the_same_alone_and_with_others(reader, vodacom, telekom, precision) -> None:
    # Read in one padded batch, the shorter sentence's logits moved in the 7th digit (float32),
    # enough to change a rounded score: an answer must not depend on what else is read with it.
    question = VODACOM_QUESTION
    longer = ReaderInput(f"{telekom.candidate} {telekom.candidate}", telekom.title, telekom.context)
    saved, reader.precision = reader.precision, precision
    try:
        alone = reader.read(question, [vodacom])[0]
        together = reader.read(question, [longer, vodacom, telekom])[1]  # padded to the longer one
    finally:
        reader.precision = saved
    assert alone.holds == together.holds
    assert np.array_equal(alone.start_logits, together.start_logits)
    assert np.array_equal(alone.end_logits, together.end_logits)


def test_auto_precision_is_a_property_of_the_cpu_not_a_timing(reader) -> None:
    # Timed at each load, two processes on one machine could pick different precisions and give
    # one question two scores (eval 0.2184, ask --json 0.2191).
    from assistant.models.reader.model import auto_precision, cpu_flags

    assert auto_precision(frozenset({"avx512f", "avx512_bf16"})) == "bfloat16"
    assert auto_precision(frozenset({"amx_bf16", "amx_tile"})) == "bfloat16"
    assert auto_precision(frozenset({"avx2", "avx512f"})) == "float32"
    assert auto_precision(frozenset()) == "float32"
    assert reader.precision == auto_precision(cpu_flags())


def test_saved_adapters_merged_at_load_read_as_the_unmerged_net(tmp_path: Path, vodacom: ReaderInput) -> None:
    """What training writes (training/reader_training.py) is what the product loads: the
    adapters merged into the base weights give the unmerged net's logits on a batch."""
    import sys

    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from assistant.models.reader.model import build_net, default_base_folder, pad_batch
    from training.reader_training import save_weights, set_trainable

    config = ReaderConfig(num_layers=2, lora_rank=4, lora_alpha=8.0)
    net, tokenizer = build_net(default_base_folder(), config)
    set_trainable(net)
    torch.manual_seed(0)
    with torch.no_grad():  # adapters as training leaves them: not the zero they start from
        for name, param in net.named_parameters():
            if ".lora_" in name:
                param.normal_(0.0, 0.05)
    save_weights(net, config, tmp_path, dtype=torch.float32)
    question = "Wie viel Prozent an Vodacom hält Vodafone?"
    other = ReaderInput("Vodafone hat seinen Sitz in Newbury.", "Vodafone", "")
    encoded = encode_inputs(tokenizer, config, question, [vodacom, other])
    ids, mask = pad_batch([e.input_ids for e in encoded], tokenizer.pad_token_id)
    with torch.no_grad():
        unmerged = [t.numpy() for t in net.eval()(ids, mask)]
    loaded = Reader.load(tmp_path, precision="float32")
    assert not any(".lora_" in name for name, _ in loaded.net.named_parameters())  # merged away
    with torch.no_grad():
        merged = [t.numpy() for t in loaded.net(ids, mask)]
    assert np.abs(unmerged[2]).max() > 0  # a real reading, not zeros
    for a, b in zip(unmerged, merged):
        np.testing.assert_allclose(a, b, atol=1e-4)
