"""Property tests of the sentence splitter and passage builder on hostile text: offsets are
valid and in order, and every non-whitespace character is covered exactly once (no text lost
or duplicated). Example counts: 150 per property (pysbd is the slow part)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.ingest.passages import build_passages, split_sentences

PIECES = ["Der", "Bund", "zahlt", "1,5", "Mio.", "Euro", "z. B.", "Dr.", "Nr.", "16. Januar 2024", "U.S.", "Mr.",
          "said", "Kassel", "e.g.", "...", ".", "!", "?", "?!", ",", ";", ":", "\"", "„", "“", "«", "»", "'", "(", ")",
          "–", "-", "ä", "ß", "É", "中文", "😀", "\u00a0", "\u2028", "\u200b", "\t", " ", "  ", "\n", "\n\n", "\n \n",
          "\r\n", "\x0c", "#", "*", "1.", "2)", "http://x.de/a.b", "3.14", "A.", "b.", "..."]

hostile_text = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=80).map(" ".join),
    st.lists(st.sampled_from(PIECES), max_size=80).map("".join),
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from(list(".!?,;:\"' \n\tabcXYZ0123äß")), max_size=300),
)
LANGUAGE = st.sampled_from(["de", "en"])
PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def non_space_positions(text: str) -> set[int]:
    return {i for i, ch in enumerate(text) if not ch.isspace()}


def check_spans(text: str, spans, lo: int = 0, hi: int | None = None) -> None:
    hi = len(text) if hi is None else hi
    previous_end = lo
    for start, end in spans:
        assert lo <= previous_end <= start < end <= hi, (spans, lo, hi)
        assert not text[start].isspace() and not text[end - 1].isspace()
        previous_end = end


def covered(spans) -> list[int]:
    return [i for start, end in spans for i in range(start, end)]


@PROFILE
@given(hostile_text, LANGUAGE)
def test_sentences_cover_every_character_once(text, language):
    spans = split_sentences(text, language)
    check_spans(text, spans)
    positions = covered(spans)
    assert len(positions) == len(set(positions))  # nothing twice
    assert non_space_positions(text) <= set(positions)  # nothing lost


@PROFILE
@given(hostile_text, LANGUAGE, st.integers(min_value=1, max_value=400))
def test_passages_hold_their_sentences_in_order_and_lose_nothing(text, language, max_chars):
    passages = build_passages(text, language, max_chars)
    check_spans(text, [(p.start, p.end) for p in passages])
    sentences = []
    for p in passages:
        assert p.sentences and p.sentences[0][0] == p.start and p.sentences[-1][1] == p.end
        check_spans(text, p.sentences, p.start, p.end)
        sentences.extend(p.sentences)
    positions = covered(sentences)
    assert len(positions) == len(set(positions))
    # Nothing lost but the sentences that repeat an earlier one word for word (build_passages).
    kept = {" ".join(text[a:b].split()) for a, b in sentences}
    lost = non_space_positions(text) - set(positions)
    for a, b in split_sentences(text, language):
        if any(a <= i < b for i in lost):
            assert " ".join(text[a:b].split()) in kept, (text[a:b], kept)
