"""The chat's event handlers: one method per page event, apart from the layout (app.py), so each
can be read on its own. Imported only when the page is built, because it imports gradio.

Each answer and its sources panel come from one state of the index (Assistant.ask_citing: an
upload may swap in another meanwhile), and the panel is built from the cited articles only. The
chat answers through `Assistant` as the CLI and the evaluation do. Adding and removing articles check `EditAccess` in the
event itself (access.py); a failure the page reports in one line is logged with its traceback.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import gradio as gr

from . import view
from .access import EditAccess, WrongPasswordGate
from ..answer.conversation import next_topic
from ..answer.question import check_question, check_quote_count
from ..answer.types import Answer, QuestionError
from ..index.indexer import SKIPPED_BEFORE
from ..index.view import UnknownArticle
from ..ingest.language import GERMAN, detect_language
from ..ingest.titles import ELLIPSIS, sentence_title
from ..ingest.uploads import MAX_UPLOAD_BYTES, UploadError, store_upload

log = logging.getLogger(__name__)
STREAM_PAUSE_S = 0.03  # between streamed pieces of an answer, so they arrive as a stream
# The conversation an answer sends back: the newest messages only (25 questions and answers).
# The page sends the whole conversation with every question, so it must not grow without end;
# the follow-up topic is kept apart (`asked`) and is not cut.
MAX_HISTORY_MESSAGES = 50


def _assistant_message(html: str) -> dict:
    return {"role": "assistant", "content": html}


def discard_upload(path: str) -> None:
    """Delete a file gradio received into its upload folder (and its folder, when empty): once
    read, stored or refused, it is not needed, and refused ones would stay there for good."""
    from gradio.utils import get_upload_folder

    file = Path(path).resolve()
    if not file.is_relative_to(Path(get_upload_folder()).resolve()):
        return  # not gradio's copy: never delete anything else
    try:
        file.unlink(missing_ok=True)
        file.parent.rmdir()
    except OSError:
        pass  # the folder holds other files, or it went already


def quotes_wanted(value: object, limit: int) -> int | None:
    """The /chat API's `max_quotes`: 0 or none is the default, a whole number (also written as
    "3" or 3.0) must be from 1 to `limit` (question.check_quote_count, the rule everywhere);
    QuestionError for anything else ("abc", [3], NaN, 50), so the caller gets the documented
    `{"error": ...}` and not a server error."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().removeprefix("-").isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return None if value == 0 and not isinstance(value, bool) else check_quote_count(value, limit)


def client_of(request: gr.Request | None) -> str:
    """The address a page event came from ("" when called without one, as in tests)."""
    client = getattr(request, "client", None)
    return getattr(client, "host", None) or ""


def encodable(text: str) -> str:
    """`text` with lone surrogates (which no encoder takes, so gradio could not send it) as "?"."""
    return text.encode("utf-8", "replace").decode("utf-8")


def echo(message: object) -> str | None:
    """The start of a refused question, to send back with its error."""
    return encodable(message[:200]) if isinstance(message, str) else None


def short_title(title: str, language: str, max_chars: int) -> str:
    """A title for a narrow list: whole when it fits, else cut at a word and marked with "…"
    (never mid-word, as every title of the product)."""
    if len(title) <= max_chars:
        return title
    return sentence_title(title, language, max_chars) or title[: max_chars - 1] + ELLIPSIS


class ChatHandlers:
    """What the page's events do to an open Assistant; the layout only wires them."""

    def __init__(self, assistant, edits: EditAccess = EditAccess()):
        self.assistant = assistant
        self.edits = edits
        self.gate = WrongPasswordGate()
        # The library's one rule for questions (answer/question.py): too long, empty or without
        # words is refused with its message, here before anything else, never cut.
        self.max_chars = assistant.settings.max_question_chars

    def article_choices(self) -> list[tuple[str, str]]:
        return [(f"{short_title(a.title, a.language, 70)} ({a.file})", a.file) for a in self.assistant.sources()]

    def run_answer(self, question: str, max_quotes: int | float | None, files: list[str] | None,
                   topic: str | None = None) -> tuple[Answer, dict]:
        """The answer and the articles it cites (Assistant.ask_citing: one state of the index)."""
        return self.assistant.ask_citing(question, max_quotes=int(max_quotes) if max_quotes else None,
                                         files=files, topic=topic)

    def respond(self, message: str, history: list, asked: list[str], max_quotes, files):
        """Stream one answer: the question, a searching note, then the answer piece by piece."""
        history, asked = list(history or [])[-(MAX_HISTORY_MESSAGES - 2):], list(asked or [])
        if not (message or "").strip():
            yield history, gr.skip(), "", asked
            return
        topic = asked[-1] if asked else None
        try:
            message = check_question(message, self.max_chars, topic)
        except QuestionError as exc:  # the question stays in the box, to be shortened
            history.append(_assistant_message(view.user_message(view.sentence(str(exc)))))
            yield history, gr.skip(), encodable(message), asked
            return
        default = GERMAN if self.assistant.snapshot.mostly_german else "en"
        history.append({"role": "user", "content": view.user_message(message)})
        history.append(_assistant_message(view.searching_message(detect_language(message, default))))
        yield history, gr.skip(), "", asked
        try:
            answer, cited = self.run_answer(message, max_quotes, files, topic)
        except QuestionError as exc:
            history[-1] = _assistant_message(view.user_message(view.sentence(str(exc))))
            yield history, gr.skip(), "", asked
            return
        chunks = view.answer_chunks(answer, answer.understood_as)
        shown = ""
        for chunk in chunks[:-1]:
            shown += chunk
            history[-1] = _assistant_message(shown)
            yield history, gr.skip(), "", asked
            time.sleep(STREAM_PAUSE_S)
        # The last piece and the sources panel arrive together.
        history[-1] = _assistant_message(shown + chunks[-1])
        topic = next_topic(topic, answer.question, answer.understood_as is not None, answer.abstained)
        yield history, view.sources_panel(answer, cited), "", [topic] if topic else []

    def open_citation(self, evt: gr.EventData):
        """A clicked citation or source: the whole article, the quote marked, in the Article tab."""
        data = getattr(evt, "_data", None) or {}
        cite = view.parse_cite(str(data.get("cite", "")) if isinstance(data, dict) else "")
        if cite is None:
            return gr.skip(), gr.skip()
        try:
            article = self.assistant.article(cite.file)
        except UnknownArticle:
            return view.upload_report([(False, f"{cite.file} is no longer indexed")]), gr.Tabs(selected="article")
        return view.article_view(article, cite.start, cite.end, cite.answer), gr.Tabs(selected="article")

    # ------------------------------------------------------------------ changing the articles

    def edit_refusal(self, password: object, request: gr.Request | None) -> str | None:
        """None when this request may change the articles; else why not. Checked in the event
        itself, whatever the page shows; wrong passwords slow down only their client (access.py)."""
        if not self.edits.allowed:
            return "this chat is read-only: articles cannot be added or removed here"
        if self.edits.needs_password:
            return self.gate.refusal(client_of(request), password, self.edits.password)
        return None

    def _store(self, paths: list[str]) -> tuple[list[tuple[bool, str]], list[str]]:
        """Each uploaded file checked and stored: the report lines and the files stored."""
        lines: list[tuple[bool, str]] = []
        stored = []
        for path in paths:
            name = Path(path).name
            try:
                size = os.path.getsize(path)
                if size > MAX_UPLOAD_BYTES:
                    raise UploadError(f"{name}: {size / 1024 / 1024:.1f} MiB is over the "
                                      f"{MAX_UPLOAD_BYTES // 1024 // 1024} MiB limit")
                result = store_upload(self.assistant.settings.sources_dir, name, Path(path).read_bytes())
            except (UploadError, OSError) as exc:
                lines.append((False, str(exc)))
                continue
            finally:
                discard_upload(path)
            if result.duplicate_of:
                lines.append((True, f"{name}: already there as {result.duplicate_of}"))
            else:
                stored.append(result.file)
                lines.append((True, f"added {result.file}: {result.title}"))
        return lines, stored

    def _reindex(self, stored: list[str]) -> list[tuple[bool, str]]:
        """Index the new files; one the index refuses (too long, say) is taken out again."""
        try:
            report = self.assistant.index(progress=True)
            refused = [s for s in report.skipped if s.file in stored]
            for s in refused:
                (self.assistant.settings.sources_dir / s.file).unlink(missing_ok=True)
            if refused:
                report = self.assistant.index()
        except Exception as exc:  # the page says so; the previous index stays in use
            log.exception("indexing after an upload failed")
            return [(False, f"indexing failed, the previous index is still used: {exc}")]
        return ([(True, report.summary())]
                + [(False, f"{s.file}: {s.reason}; not kept") for s in refused]
                + [(False, f"{s.file}: {s.reason}") for s in report.skipped
                   if s.reason != SKIPPED_BEFORE and s.file not in stored])

    def _after_upload(self, lines: list[tuple[bool, str]]):
        choices = self.article_choices()
        return (view.upload_report(lines), gr.Dropdown(choices=choices), None,
                view.library_list(self.assistant.sources()), gr.Dropdown(choices=choices))

    def add_articles(self, paths: list[str] | None, password: str | None = None,
                     progress=gr.Progress(track_tqdm=True), request: gr.Request = None):
        """Check and store the uploaded files, then index them; the report says what happened to
        each. What was stored is reported before indexing starts, so a stop during indexing
        still shows which files are in the sources folder (they are indexed at the next start)."""
        paths = paths or []
        refusal = self.edit_refusal(password, request)
        if refusal:
            for path in paths:
                discard_upload(path)
            yield self._after_upload([(False, refusal)])
            return
        lines, stored = self._store(paths)
        if stored:
            pending = lines + [(True, "stored in the sources folder; indexing them now "
                                      "(if this is interrupted, they are indexed at the next start)…")]
            yield (view.upload_report(pending), gr.skip(), None, gr.skip(), gr.skip())
            progress(0, desc="Indexing the new articles…")
            lines += self._reindex(stored)
        if not lines:
            lines.append((False, "no file was received"))
        yield self._after_upload(lines)

    def library_listing(self) -> str:
        """The Library tab's list as the index is now (on page load and when the tab is opened:
        articles added or removed from another page since this one was built)."""
        return view.library_list(self.assistant.sources())

    def removal_choices(self):
        return gr.Dropdown(choices=self.article_choices())

    def filter_now(self, chosen: list[str] | None):
        """The article filter as the index is now, keeping the chosen articles still there."""
        choices = self.article_choices()
        known = {file for _, file in choices}
        return gr.Dropdown(choices=choices, value=[f for f in (chosen or []) if f in known])

    def _removal_buttons(self, pending: str | None):
        """Remove, or Confirm and Cancel while a removal waits for its second, explicit step."""
        label = "Confirm removal"
        if pending:
            article = next((a for a in self.assistant.sources() if a.file == pending), None)
            title = short_title(article.title, article.language, 80) if article else pending
            label = f"Confirm removal of {title}"
        return (gr.Button(visible=not pending), gr.Button(value=label, visible=bool(pending)),
                gr.Button(visible=bool(pending)))

    def ask_removal(self, file: str | None):
        """First step: remember the chosen article and ask for confirmation; nothing is deleted yet."""
        if not file:
            return (None, view.removal_report(False, "choose an article to remove first"),
                    *self._removal_buttons(None))
        message = f"{file} will be deleted from the sources folder: confirm or cancel"
        return (file, view.pending_report(message), *self._removal_buttons(file))

    def cancel_removal(self):
        return (None, view.removal_report(True, "nothing removed"), *self._removal_buttons(None))

    def confirm_removal(self, pending: str | None, chosen_filter: list[str] | None, password: str | None = None,
                        request: gr.Request = None):
        """Second step: delete the article and re-index; the list, both dropdowns and the status follow."""
        refusal = self.edit_refusal(password, request)
        if refusal:
            ok, message = False, refusal
        elif not pending:
            ok, message = False, "nothing to remove: choose an article and press Remove"
        else:
            try:
                ok, message = True, f"removed {pending}; {self.assistant.remove(pending).summary()}"
            except UnknownArticle:
                ok, message = False, f"{pending} is not indexed (already removed?): nothing removed"
            except Exception as exc:  # the page says so; the previous index stays in use
                log.exception("removing %s failed", pending)
                ok, message = False, f"removing {pending} failed: {exc}"
        choices = self.article_choices()
        known = {file for _, file in choices}
        return (None, view.removal_report(ok, message), *self._removal_buttons(None),
                view.library_list(self.assistant.sources()), gr.Dropdown(choices=choices, value=None),
                gr.Dropdown(choices=choices, value=[f for f in (chosen_filter or []) if f in known]))

    # ------------------------------------------------------------------ the rest

    def example_text(self, evt: gr.SelectData) -> str:
        return evt.value["text"]

    def new_chat(self):
        """An empty conversation: messages, sources, question box, follow-up topic and article cleared."""
        return [], view.sources_panel(None, {}), "", [], view.empty_article_view(), gr.Tabs(selected="sources")

    def api_chat(self, message: str, max_quotes: int = 0) -> dict:
        """Answer one question: the answer text (with its numbered quotes and sources) and the quotes.
        Bad input (the question, or a `max_quotes` that is no whole number) gets `{"error": ...}`."""
        try:
            check_question(message, self.max_chars)
            quotes = quotes_wanted(max_quotes, self.assistant.settings.max_quotes_limit)
        except QuestionError as exc:
            return {"question": echo(message), "error": str(exc)}
        return self.run_answer(message, quotes, None)[0].to_dict()
