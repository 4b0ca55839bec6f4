"""`Assistant`, the one object the CLI, chat and evaluation wrap: opening read-only, updating,
removing, and answers that each come from one whole index state while it changes (also one
that is still in flight after two updates in a row)."""

from __future__ import annotations

import gc
import threading
import time

import pytest

from assistant import Assistant, QuestionError
from assistant.index.store import IndexMissing
from assistant.index.view import UnknownArticle
from assistant.answer.answering import answer_with_passages

NEW_ARTICLE = (
    "Zoo Leipzig meldet Besucherrekord\n\n"
    "Der Zoo Leipzig hat im Jahr 2023 genau 1,93 Millionen Besucher gezählt, teilte Zoodirektor "
    "Jörg Junhold am Dienstag mit. Das ist der höchste Wert in der Geschichte des Zoos."
)


def test_opening_is_read_only_unless_asked_to_update(tiny_settings, embedder):
    with pytest.raises(IndexMissing):
        Assistant(settings=tiny_settings, embedder=embedder)
    assert not tiny_settings.index_dir.exists() or not any(tiny_settings.index_dir.iterdir())
    assistant = Assistant(settings=tiny_settings, update=True, embedder=embedder)
    assert {a.file for a in assistant.sources()} == {"wetter.txt", "harbour.md"}
    assert assistant.last_update is not None and assistant.last_update.wrote
    with pytest.raises(QuestionError):
        assistant.ask("  ")


def test_remove_drops_the_article_from_the_folder_and_the_answers(tiny_settings, embedder):
    assistant = Assistant(settings=tiny_settings, update=True, embedder=embedder)
    before = assistant.ask("How many containers did the Port of Hamburg handle?")
    assert any(q.source == "harbour.md" for q in before.quotes)
    assistant.remove("harbour.md")
    assert not (tiny_settings.sources_dir / "harbour.md").exists()
    assert [a.file for a in assistant.sources()] == ["wetter.txt"]
    after = assistant.ask("How many containers did the Port of Hamburg handle?")
    assert all(q.source == "wetter.txt" for q in after.quotes + after.related)
    with pytest.raises(UnknownArticle):
        assistant.remove("harbour.md")


SECOND_ARTICLE = (
    "Neuer Fahrplan für die S-Bahn Leipzig\n\n"
    "Ab Dezember fahren die Züge der S-Bahn Leipzig alle 15 Minuten, teilte der Verkehrsverbund am "
    "Mittwoch mit. Die Linie S3 wird bis nach Halle verlängert."
)
DEADLINE_S = 300.0  # a hanging or failing asker fails the test instead of hanging the suite


def _run_in_thread(target, timeout: float = DEADLINE_S):
    """target() on a thread of its own (its own SQLite connections); its result, or its error raised here."""
    result, errors = [], []
    thread = threading.Thread(target=lambda: _record(target, result, errors), daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"no result within {timeout} s"
    if errors:
        raise errors[0]
    return result[0]


def _record(target, result: list, errors: list) -> None:
    try:
        result.append(target())
    except BaseException as exc:  # noqa: BLE001 - raised again in the test's thread
        errors.append(exc)


def _problems(snapshot, question: str) -> list[str]:
    """Answer from `snapshot`; every passage and quote must lie in its generation, exactly."""
    answer, hits = answer_with_passages(snapshot, question)
    view, problems = snapshot.view, []
    files = {a.file for a in view.articles}
    for hit in hits:
        if not 0 <= hit.passage_id < view.passage_count:
            problems.append(f"passage {hit.passage_id} outside generation {view.generation}")
    for quote in answer.quotes + answer.related:
        if quote.source not in files or view.article_by_file(quote.source).text[quote.start:quote.end] != quote.text:
            problems.append(f"{quote.source} {quote.start}-{quote.end} not in generation {view.generation}")
    return problems


def test_answers_during_two_updates_each_come_from_one_whole_snapshot(tiny_settings, embedder):
    assistant = Assistant(settings=tiny_settings, update=True, embedder=embedder)
    question = "Wie viele Besucher hatte der Zoo Leipzig 2023?"
    stop, seen, problems, errors = threading.Event(), set(), [], []
    in_flight = assistant.snapshot  # an answer that started before both updates and is still running

    def ask_repeatedly() -> None:
        try:
            while not stop.is_set():
                snapshot = assistant.snapshot  # what a caller holding the assistant sees right now
                seen.add(snapshot.view.generation)
                problems.extend(_problems(snapshot, question))
        except BaseException as exc:  # noqa: BLE001 - reported by the test's thread
            errors.append(exc)

    asker = threading.Thread(target=ask_repeatedly, daemon=True)
    asker.start()
    try:
        first = in_flight.view.generation
        (tiny_settings.sources_dir / "zoo.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        assert assistant.index().wrote
        (tiny_settings.sources_dir / "sbahn.txt").write_text(SECOND_ARTICLE, encoding="utf-8")
        assert assistant.index().wrote  # two updates in a row: keep=2 alone would delete `first` now
        deadline = time.monotonic() + DEADLINE_S
        while assistant.snapshot.view.generation not in seen and not errors:  # an answer from the newest state
            assert time.monotonic() < deadline, "no answer from the new index within the deadline"
            stop.wait(0.05)
    finally:
        stop.set()
        asker.join(DEADLINE_S)
    assert not asker.is_alive(), "the asking thread did not stop"
    assert errors == [] and problems == []
    assert {first, assistant.snapshot.view.generation} <= seen
    # The in-flight answer finishes on its own generation, read by a thread with no open connection to it.
    assert _run_in_thread(lambda: _problems(in_flight, question)) == []
    assert (tiny_settings.index_dir / first).exists()
    answer = assistant.ask(question)
    assert any(q.source == "zoo.txt" and "1,93 Millionen" in q.text for q in answer.quotes)
    in_flight = None  # the answer is done: its generation is let go
    gc.collect()
    assistant.index(rebuild=True)  # let go of: the next update deletes it
    assert not (tiny_settings.index_dir / first).exists()


def test_removing_a_linked_article_removes_the_link_not_its_target(tiny_settings, embedder):
    """Issue 27, item 7: `remove` resolved the link and deleted the file it points to (here
    another article), leaving the link. Only the name in the sources folder goes."""
    folder = tiny_settings.sources_dir
    (folder / "hafen.md").symlink_to("harbour.md")
    assistant = Assistant(settings=tiny_settings, update=True, embedder=embedder)
    assert {"hafen.md", "harbour.md"} <= {a.file for a in assistant.sources()}
    assistant.remove("hafen.md")
    assert not (folder / "hafen.md").is_symlink() and (folder / "harbour.md").is_file()
    assert {a.file for a in assistant.sources()} == {"harbour.md", "wetter.txt"}


def test_ask_citing_gives_the_cited_articles_of_the_same_index_state(shipped_assistant):
    answer, cited = shipped_assistant.ask_citing("Wie viele Kunden hat Vodacom?")
    quoted = {q.source for q in answer.quotes + answer.related}
    assert quoted and set(cited) == quoted  # every cited article, and only those
    assert all(cited[f].file == f and cited[f].text for f in cited)
    # an article chosen on a page that has since been removed is left out: all articles are searched
    again, _ = shipped_assistant.ask_citing("Wie viele Kunden hat Vodacom?", files=["removed-meanwhile.txt"])
    assert [q.text for q in again.quotes] == [q.text for q in answer.quotes]


def test_an_answer_policy_fitted_to_another_first_stage_is_refused(tmp_path):
    """The policy's first_stage feature is a similarity of the question model it was fitted
    with: a question adapter (its digest is all the check reads, so its bytes here are any)
    makes the shipped policy refuse to start, and ASSISTANT_READER=0 runs without it."""
    from dataclasses import replace

    from assistant.config import ConfigError, Settings
    from assistant.core import check_policy_fits
    from assistant.models.adapters import ADAPTER_FILES
    from assistant.models.embedding import Embedder

    for name in ADAPTER_FILES:
        (tmp_path / name).write_bytes(b"an adapter's bytes")
    check_policy_fits(Settings().reader_policy, Embedder(Settings()))
    adapted = replace(Settings(), query_adapter=str(tmp_path))
    with pytest.raises(ConfigError, match="fitted with the first stage .*ASSISTANT_READER=0"):
        check_policy_fits(adapted.reader_policy, Embedder(adapted))
    with pytest.raises(ConfigError, match="fitted with the first stage"):
        Assistant(tmp_path / "sources", tmp_path / "index", adapted)
    with pytest.raises(IndexMissing):  # without the answer model the policy is not used
        Assistant(tmp_path / "sources", tmp_path / "index", replace(adapted, reader=False))
