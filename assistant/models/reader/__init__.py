"""Extractive reader: scores answer spans and "no answer" for a question against passages.

    from assistant.models.reader.model import Reader, best_span   # imports torch

    reader = Reader.load()
    reading = reader.read("What share of Vodacom does Vodafone own?", [passage])[0]
    span = best_span(reading, sentence_start, sentence_end)   # Span(start, end, score) | None
    answers = reading.margin(span) > reader.threshold
"""
