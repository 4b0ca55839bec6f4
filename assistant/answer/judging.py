"""The judges (stages.Judge): which candidates become quotes, and whether they answer at all.

`SimilarityJudge` is the mode without the answer model (ASSISTANT_READER=0): the first stage's
best sentences, refused below thresholds calibrated on the first stage's similarity.
`AnswerModelJudge` has the answer model read the best sentences (reading.py): its probability
orders them, refuses, keeps further quotes and shows articles that disagree (conflict.py); a
sentence whose article speaks of other years than the question, or never names one of its
names, does not count (abstention.names_what_is_asked).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..index.snapshot import Snapshot
from ..index.view import IndexView
from .abstention import abstains, above_threshold, coverage, names_what_is_asked
from .candidates import Candidate, Retrieved
from .conflict import answers, conflict_sides, with_sides_first
from .reading import AnswerModelReading
from .scoring import answer_type
from .selection import SimilaritySelection, confirmations, is_the_headline, select, select_read
from .stages import Judgement

NOTHING = Judgement([], 0.0, True, -math.inf)  # no candidate at all: refused


@dataclass(frozen=True)
class SimilarityJudge:
    view: IndexView
    rules: SimilaritySelection

    @classmethod
    def of(cls, snapshot: Snapshot) -> "SimilarityJudge":
        settings = snapshot.settings
        return cls(snapshot.view, SimilaritySelection(settings.abstention, settings.support_margin,
                                                      settings.neighbour_tie_margin))

    def judge(self, retrieved: Retrieved, candidates: list[Candidate], limit: int) -> Judgement:
        picked = select(self.rules, self.view, candidates, limit, retrieved.language)
        if not picked:
            return NOTHING
        policy, top = self.rules.abstention, picked[0]
        top_coverage = coverage(self.view, retrieved, top)
        return Judgement(picked, top_coverage, abstains(policy, self.view, top, retrieved.language, top_coverage),
                         above_threshold(policy, self.view, top, retrieved.language))


def nothing_of_the_kind_asked(question: str, ranked: list[Candidate]) -> bool:
    """A "when" or "how many" question, and no sentence read holds a time or figure the answer
    model would give ("Wann wurde die Deutsche Telekom gegründet?" against sentences without a
    year): the articles do not answer it."""
    return answer_type(question) is not None and all(c.span is None for c in ranked)


@dataclass(frozen=True)
class AnswerModelJudge:
    reading: AnswerModelReading

    def judge(self, retrieved: Retrieved, candidates: list[Candidate], limit: int) -> Judgement:
        """The answer model's order, refusal and quotes (reading.py, selection.select_read)."""
        reading, view = self.reading, self.reading.view
        read = reading.read_candidates(retrieved, candidates)
        if not read:
            return NOTHING
        ranked = self._from_articles_naming_what_is_asked(retrieved, read)
        margin = reading.margin_above_refusal(ranked)
        if margin < 0 or nothing_of_the_kind_asked(retrieved.question, ranked):
            # the closest sentences, most likely first, not an answer: no headline that only
            # repeats its citation's title
            closest = sorted(read, key=lambda c: -c.reader_score)
            picked = [c for c in closest if not is_the_headline(view, c)][:limit] or closest[:1]
            return Judgement(picked, coverage(view, retrieved, picked[0]), True, margin, read=True)
        picked = select_read(reading.policy, view, ranked, limit)
        sides = self._sides(retrieved, candidates, ranked)
        if sides:
            picked = with_sides_first(sides, picked, limit)
        return Judgement(picked, coverage(view, retrieved, picked[0]), False, margin, confirmations(view, picked),
                         read=True, sides=len(sides))

    def _from_articles_naming_what_is_asked(self, retrieved: Retrieved, read: list[Candidate]) -> list[Candidate]:
        """The read sentences whose article may answer what the question names (its years and
        names: abstention.names_what_is_asked), each article looked at once: a long one costs
        milliseconds."""
        named: dict[int, bool] = {}
        for c in read:
            if c.article_id not in named:
                named[c.article_id] = names_what_is_asked(self.reading.abstention, self.reading.view,
                                                          retrieved.question, retrieved.language, c)
        return [c for c in read if named[c.article_id]]

    def _sides(self, retrieved: Retrieved, candidates: list[Candidate], ranked: list[Candidate]) -> list[Candidate]:
        """One quote per different answer when articles disagree (conflict.py). When two or more
        of the sentences read answer, copies of one claim may fill every place the answer model
        reads: then the next first-stage sentences are read too, so the other claim cannot stay
        unread."""
        policy, view = self.reading.policy, self.reading.view
        answering = sum(answers(policy, view, c, retrieved.question) for c in ranked)
        if answering >= 2:
            ranked = ranked + self._from_articles_naming_what_is_asked(retrieved, self.reading.read_further(retrieved, candidates))
        return conflict_sides(policy, view, ranked, retrieved.question) if answering else []
