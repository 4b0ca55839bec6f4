"""answer/stages.py and answering.stages_of: the stages an answer runs, each keeping its contract,
and a stage added through the contract alone (on the shipped articles)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from assistant.answer.answering import answer_with_passages, stages_of
from assistant.answer.candidates import Candidate, Retrieved, SimilarityFirstStage
from assistant.answer.judging import AnswerModelJudge, SimilarityJudge
from assistant.answer.short_answer import SpanShortAnswer
from assistant.answer.stages import FirstStage, Judge, ShortAnswerer, Stages

GOLEM, ENGLISH = "000_ce0777626153ace7.txt", "001_1885b208a7ea917e.txt"


def test_the_answer_model_brings_its_judge_and_the_short_answer(shipped_assistant):
    stages = stages_of(shipped_assistant.snapshot)
    assert isinstance(stages.first_stage, SimilarityFirstStage) and isinstance(stages.first_stage, FirstStage)
    assert isinstance(stages.judge, AnswerModelJudge) and isinstance(stages.judge, Judge)
    assert isinstance(stages.short_answer, SpanShortAnswer) and isinstance(stages.short_answer, ShortAnswerer)
    # the judge and the short answer read with the same model, index and policy
    assert stages.judge.reading is stages.short_answer.reading
    assert stages.judge.reading.policy == shipped_assistant.settings.reader_policy


def test_without_the_answer_model_similarity_judges_and_no_short_answer_is_given(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    stages = stages_of(replace(snapshot, reader=None))
    assert isinstance(stages.judge, SimilarityJudge) and stages.short_answer is None
    rules = stages.judge.rules  # the similarity mode's slice of the settings, and only that
    settings = snapshot.settings
    assert (rules.abstention, rules.support_margin, rules.neighbour_tie_margin) == \
        (settings.abstention, settings.support_margin, settings.neighbour_tie_margin)


def test_the_first_stage_takes_its_slice_of_the_settings(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    fewer = replace(snapshot, settings=replace(snapshot.settings, quote_passages=1))
    stage, narrow = SimilarityFirstStage.of(snapshot), SimilarityFirstStage.of(fewer)
    retrieved = stage.retrieve("Wie viele Kunden hat Vodacom?")
    assert narrow.quote_passages == 1 and narrow.weights == stage.weights
    assert {c.passage_id for c in narrow.rank(retrieved)} == {retrieved.hits[0].passage_id}
    assert len({c.passage_id for c in stage.rank(retrieved)}) > 1


@dataclass(frozen=True)
class OnlyArticle:
    """A stage added through the FirstStage contract alone: it keeps the first stage's passages
    and candidates of one article (as a re-ranker or a filter over the first stage would)."""

    inner: FirstStage
    article_id: int

    def retrieve(self, question: str, files: list[str] | None = None, language: str | None = None) -> Retrieved:
        retrieved = self.inner.retrieve(question, files, language)
        return replace(retrieved, hits=[h for h in retrieved.hits if h.article_id == self.article_id])

    def rank(self, retrieved: Retrieved) -> list[Candidate]:
        return [c for c in self.inner.rank(retrieved) if c.article_id == self.article_id]


def test_a_stage_added_through_its_contract_changes_the_answer_and_nothing_else_is_touched(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    question = "How much will Vodafone invest?"
    plain, _ = answer_with_passages(snapshot, question)
    assert plain.quotes and plain.quotes[0].source == ENGLISH  # the English article answers first
    default = stages_of(snapshot)
    golem = int(snapshot.view.article_ids([GOLEM])[0])
    narrowed = Stages(OnlyArticle(default.first_stage, golem), default.judge, default.short_answer)
    assert isinstance(narrowed.first_stage, FirstStage)
    answer, hits = answer_with_passages(snapshot, question, stages=narrowed)
    assert hits and {h.article_id for h in hits} == {golem}
    assert answer.quotes and {q.source for q in answer.quotes} == {GOLEM}
    assert any("1,5 Milliarden" in q.text for q in answer.quotes), [q.text for q in answer.quotes]
    assert answer_with_passages(snapshot, question, stages=default)[0] == plain  # the default is stages_of
