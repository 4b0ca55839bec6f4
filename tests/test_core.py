"""`Assistant`, the one object the CLI, chat and evaluation wrap: opening read-only, updating,
removing, and answers that each come from one whole index state while it changes."""

from __future__ import annotations

import threading

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


def test_answers_during_an_update_each_come_from_one_whole_snapshot(tiny_settings, embedder):
    assistant = Assistant(settings=tiny_settings, update=True, embedder=embedder)
    question = "Wie viele Besucher hatte der Zoo Leipzig 2023?"
    stop, seen, problems = threading.Event(), set(), []

    def ask_repeatedly() -> None:
        while not stop.is_set():
            snapshot = assistant.snapshot  # what a caller holding the assistant sees right now
            answer, hits = answer_with_passages(snapshot, question)
            view = snapshot.view
            files = {a.file for a in view.articles}
            seen.add(view.generation)
            for hit in hits:
                if not 0 <= hit.passage_id < view.passage_count:
                    problems.append(f"passage {hit.passage_id} outside generation {view.generation}")
            for quote in answer.quotes + answer.related:
                if quote.source not in files or view.article_by_file(quote.source).text[quote.start:quote.end] != quote.text:
                    problems.append(f"{quote.source} {quote.start}-{quote.end} not in generation {view.generation}")

    asker = threading.Thread(target=ask_repeatedly)
    asker.start()
    try:
        first = assistant.snapshot.view.generation
        (tiny_settings.sources_dir / "zoo.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        report = assistant.index()
        assert report.wrote
        while assistant.snapshot.view.generation not in seen:  # at least one answer from the new state
            stop.wait(0.05)
    finally:
        stop.set()
        asker.join()
    assert problems == []
    assert {first, assistant.snapshot.view.generation} <= seen
    answer = assistant.ask(question)
    assert any(q.source == "zoo.txt" and "1,93 Millionen" in q.text for q in answer.quotes)
