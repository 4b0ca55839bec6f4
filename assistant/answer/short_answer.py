"""The short answer (stages.ShortAnswerer): the best quote's answer span, shown in bold, only
when the answer model is sure enough of it.

Sure enough: the policy's gate for the quote's language (ReaderPolicy.allows_short_answer,
fitted for precision per text language on the development split), the span is the kind of thing
asked for (scoring.fits_the_question), and no other sure quote from another article answers
differently (selection.another_article_disagrees, the rule the fit uses too).
"""

from __future__ import annotations

from dataclasses import dataclass

from .abstention import min_coverage
from .candidates import Retrieved
from .reading import AnswerModelReading
from .scoring import fits_the_question, word_coverage
from .selection import another_article_disagrees, answers_agree, span_answer
from .stages import Judgement
from .types import ShortAnswer


@dataclass(frozen=True)
class SpanShortAnswer:
    reading: AnswerModelReading  # the model that found the span reads the follow-up alone

    def short_answer(self, judgement: Judgement, retrieved: Retrieved, question: str, with_topic: bool
                     ) -> ShortAnswer | None:
        if judgement.abstained or not judgement.read or not judgement.picked or judgement.sides:
            return None
        policy, view = self.reading.policy, self.reading.view
        best = judgement.picked[0]
        article = view.articles[best.article_id]
        if best.span is None or not policy.allows_short_answer(article.language, best.reader_score, best.span.margin):
            return None
        text = article.text[best.span.start:best.span.end]
        if not fits_the_question(question, text):
            return None
        if with_topic and not self._answers_as_asked(judgement, retrieved.language, question, text):
            return None
        if another_article_disagrees(policy, span_answer(view, best), [span_answer(view, c) for c in judgement.picked[1:]]):
            return None
        return ShortAnswer(text, article.file, best.span.start, best.span.end, 1)

    def _answers_as_asked(self, judgement: Judgement, language: str, question: str, text: str) -> bool:
        """A short answer found with the topic added must still answer the follow-up as asked:
        the names the follow-up asks about are in the quote ("And who runs Microsoft?" is not
        answered by "Margherita Della Valle, CEO of Vodafone Group"), and the answer model,
        reading the quote with the follow-up alone, is as sure of the same answer ("Und wie viel
        investiert Microsoft?" is not answered by Vodafone's 1,5 Milliarden US-Dollar)."""
        reading, view = self.reading, self.reading.view
        best = judgement.picked[0]
        quote = view.text(best.article_id, best.start, best.end)
        if word_coverage(question, language, quote) < min_coverage(reading.abstention, view, best, language):
            return False
        _, span, margin = reading.read_spans(question, [best])[0]
        article = view.articles[best.article_id]
        gate = reading.policy.short_answer_gate(article.language)
        if span is None or gate is None or margin < gate.margin:
            return False
        alone = view.text(best.article_id, span.start, span.end)
        return answers_agree(alone, article.language, text, article.language)
