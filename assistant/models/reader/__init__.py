"""The answer model: for a question and candidate sentences, how likely each holds the answer
and where the answer is (model card: MODEL_CARD.md here).

    from assistant.models.reader.model import Reader, ReaderInput, best_span   # imports torch

    reader = Reader.load()                      # the shipped weights (weights/)
    reading = reader.read(question, [ReaderInput(...)])[0]
    span = best_span(reading)                   # Span | None: the best answer span, whole words

`lazy.LazyReader` stands for it until the first question (torch and the weights take seconds);
answer/reading.py turns readings into the quotes' order, the refusal and the short answer.
"""
