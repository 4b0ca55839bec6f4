"""web/handlers.py without a browser: the chat's event handlers called as Gradio calls them, on a
tiny corpus (the browser tests in test_chat.py drive the same handlers through the page)."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.web.access import EditAccess
from assistant.web.handlers import ChatHandlers


@pytest.fixture()
def handlers(tiny_settings, embedder) -> ChatHandlers:
    """Handlers of a chat started with --edit (the removal test changes the articles)."""
    return ChatHandlers(Assistant(settings=tiny_settings, update=True, embedder=embedder), EditAccess(open=True))


def test_respond_streams_the_question_a_note_then_the_cited_answer(handlers):
    steps = list(handlers.respond("How many containers did the Port of Hamburg handle?", [], [], 3, []))
    first_history, _, box, _ = steps[0]
    assert [m["role"] for m in first_history] == ["user", "assistant"] and box == ""
    history, sources, box, asked = steps[-1]
    assert len(history) == 2 and "8.7 million containers" in history[-1]["content"]
    assert "harbour.md" in sources and box == ""
    assert asked == ["How many containers did the Port of Hamburg handle?"]  # the follow-up topic


def test_respond_refuses_a_too_long_question_and_keeps_it_in_the_box(handlers):
    long = "Wie warm wird es? " * (handlers.max_chars // 10)
    [(history, _, box, asked)] = list(handlers.respond(long, [], ["earlier topic"], 3, []))
    assert "too long" in history[-1]["content"] and box == long and asked == ["earlier topic"]  # kept as typed
    [(history, _, box, _)] = list(handlers.respond("   ", [], [], 3, []))
    assert history == [] and box == ""


def test_removal_deletes_only_on_confirmation(handlers, tiny_settings):
    pending, status, *_ = handlers.ask_removal("harbour.md")
    assert pending == "harbour.md" and "confirm or cancel" in status
    assert (tiny_settings.sources_dir / "harbour.md").exists()
    pending, status, *_ = handlers.cancel_removal()
    assert pending is None and "nothing removed" in status and (tiny_settings.sources_dir / "harbour.md").exists()
    pending, status, *_ = handlers.confirm_removal("harbour.md", ["harbour.md", "wetter.txt"])
    assert pending is None and "removed harbour.md" in status
    assert not (tiny_settings.sources_dir / "harbour.md").exists()
    assert [file for _, file in handlers.article_choices()] == ["wetter.txt"]


def test_api_chat_checks_its_input_and_refuses_too_many_quotes(handlers):
    assert handlers.api_chat("  ")["error"] == "the question is empty"
    assert "too long" in handlers.api_chat("x" * (handlers.max_chars + 1))["error"]
    limit = handlers.assistant.settings.max_quotes_limit
    assert handlers.api_chat("Wie warm wird es in Berlin am Freitag?", max_quotes=10_000)["error"] == \
        f"the number of quotes must be a whole number from 1 to {limit}, not 10000"
    answer = handlers.api_chat("Wie warm wird es in Berlin am Freitag?", max_quotes=limit)
    assert any("28 Grad" in q["text"] for q in answer["quotes"])


def test_respond_sends_back_a_bounded_conversation(handlers):
    """The page sends the whole conversation with each question; a long (or forged) one is cut to
    the newest messages, so no request grows the next one without end (issue 27, item 11)."""
    from assistant.web.handlers import MAX_HISTORY_MESSAGES

    old = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"message {i}"} for i in range(400)]
    history, _, _, _ = list(handlers.respond("Wie warm wird es in Berlin am Freitag?", old, [], 3, []))[-1]
    assert len(history) == MAX_HISTORY_MESSAGES and history[:2] == old[-(MAX_HISTORY_MESSAGES - 2):][:2]
    assert "28 Grad" in history[-1]["content"]


def test_a_question_that_is_not_text_is_refused_and_can_be_sent_back(handlers):
    """"\\ud800" no encoder takes: refused with the rule's message, and what goes back to the page
    (the box, the API's echo) is encodable (issue 27, item 10)."""
    [(history, _, box, _)] = list(handlers.respond("\ud800 Vodacom", [], [], 3, []))
    assert "not valid text" in history[-1]["content"]
    box.encode("utf-8")
    reply = handlers.api_chat("\ud800 Vodacom")
    assert "not valid text" in reply["error"] and reply["question"].encode("utf-8")
    for quotes in ("abc", [3], float("nan"), True):
        assert "the number of quotes must be a whole number" in handlers.api_chat("Wie warm wird es?", quotes)["error"]


def test_long_titles_are_cut_at_a_word_and_marked():
    from assistant.web.handlers import short_title

    title = "KI, Cloud und IoT: Vodafone schließt 1,5-Milliarden-Vertrag mit Microsoft über zehn Jahre"
    shown = short_title(title, "de", 70)
    assert shown.endswith("…") and len(shown) <= 71
    assert title.startswith(shown[:-1]) and title[len(shown) - 1] in " ,:"  # the cut falls between words
    assert short_title("Kurz", "de", 70) == "Kurz"
    assert short_title("x" * 90, "de", 70) == "x" * 69 + "…"
