"""The extractive reader on its real shipped weights: spans are exact slices of the passage,
the Vodacom share is found in the German article, and a passage that does not answer scores
below one that does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.ingest.passages import split_sentences
from assistant.models.reader.model import Reader, best_span, clean_span
from assistant.models.reader.model import WEIGHTS_DIR, ReaderConfig

from conftest import SHIPPED_FILES

VODACOM_QUESTION = "What share of Vodacom does Vodafone own?"


def paragraph_with(sources: Path, marker: str) -> str:
    """The blank-line-separated paragraph of a shipped article that contains `marker`."""
    for path in sorted(sources / name for name in SHIPPED_FILES):
        for block in path.read_text(encoding="utf-8").split("\n\n"):
            if marker in block:
                return block.strip()
    raise AssertionError(f"no shipped paragraph contains {marker!r}")


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader.load()


@pytest.fixture(scope="module")
def vodacom(shipped_sources: Path) -> str:
    return paragraph_with(shipped_sources, "Die Vodacom Group ist")


@pytest.fixture(scope="module")
def telekom(shipped_sources: Path) -> str:
    return paragraph_with(shipped_sources, "T-Systems-Chef Adel Al-Saleh")


def test_shipped_weights_are_small_and_complete() -> None:
    weights = WEIGHTS_DIR / "reader.safetensors"
    assert weights.exists() and (WEIGHTS_DIR / "reader_config.json").exists()
    assert weights.stat().st_size < 8_000_000  # adapters, layer norms and head only
    config = ReaderConfig.from_dict(__import__("json").loads((WEIGHTS_DIR / "reader_config.json").read_text()))
    assert 1 <= config.num_layers <= 12 and np.isfinite(config.no_answer_threshold)


def test_vodacom_share_is_an_exact_span_holding_65_prozent(reader: Reader, vodacom: str) -> None:
    reading = reader.read(VODACOM_QUESTION, [vodacom])[0]
    span = best_span(reading)
    assert span is not None
    answer = vodacom[span.start:span.end]
    assert "65 Prozent" in answer
    assert len(answer) <= 40, answer  # a short answer, not the sentence
    assert reading.margin(span) > reader.threshold


def test_passage_that_does_not_answer_scores_below_one_that_does(reader: Reader, vodacom: str, telekom: str) -> None:
    answering, other = reader.read(VODACOM_QUESTION, [vodacom, telekom])
    margin_answering = answering.margin(best_span(answering))
    margin_other = other.margin(best_span(other))
    assert margin_other < margin_answering
    assert margin_other <= reader.threshold  # refused


def test_best_span_per_sentence_is_an_exact_slice_inside_it(reader: Reader, vodacom: str, telekom: str) -> None:
    questions = [VODACOM_QUESTION, "Wie viele Kunden hat Vodacom?", "Wer ist der Chef von T-Systems?"]
    for question in questions:
        for passage, reading in zip([vodacom, telekom], reader.read(question, [vodacom, telekom])):
            assert reading.text == passage
            assert reading.start_logits.shape == reading.end_logits.shape == (len(reading.token_spans),)
            for start, end in split_sentences(passage, "de"):
                span = best_span(reading, start, end)
                if span is None:
                    continue
                assert start <= span.start < span.end <= end
                text = passage[span.start:span.end]
                assert text == text.strip() and text[-1] not in ",;:"


def test_one_forward_pass_reads_like_separate_calls(reader: Reader, vodacom: str, telekom: str) -> None:
    together = reader.read(VODACOM_QUESTION, [vodacom, telekom])
    alone = reader.read(VODACOM_QUESTION, [telekom])[0]
    np.testing.assert_allclose(together[1].start_logits, alone.start_logits, atol=1e-3)
    assert together[1].no_answer_score == pytest.approx(alone.no_answer_score, abs=1e-3)


def test_long_passage_is_read_in_windows_to_its_end(reader: Reader, vodacom: str, telekom: str) -> None:
    filler = " ".join([telekom] * 8)
    passage = filler + "\n\n" + vodacom
    assert len(reader.tokenizer(passage)["input_ids"]) > reader.config.max_length
    reading = reader.read("Wie viel Prozent an Vodacom hält Vodafone?", [passage])[0]
    assert reading.token_spans[-1, 1] >= len(passage) - 2  # the last token is covered
    assert np.all(np.diff(reading.token_spans[:, 0]) > 0)
    # The Vodacom paragraph is only in the last window; its share sentence is read there.
    share = passage.index("Die Vodacom Group ist")
    start, end = next((a, b) for a, b in split_sentences(passage, "de") if a == share)
    span = best_span(reading, start, end)
    assert span is not None and "65" in passage[span.start:span.end]


def test_empty_inputs(reader: Reader) -> None:
    assert reader.read("Wer?", []) == []
    reading = reader.read("Wer?", [""])[0]
    assert best_span(reading) is None


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
