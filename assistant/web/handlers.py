"""The chat's event handlers: one method per page event, apart from the layout (app.py), so each
can be read on its own. Imported only when the page is built, because it imports gradio."""

from __future__ import annotations

import os
import time
from pathlib import Path

import gradio as gr

from . import view
from ..answer.answering import answer_question
from ..answer.conversation import next_topic
from ..answer.types import QuestionError
from ..index.view import UnknownArticle
from ..ingest.language import GERMAN, detect_language
from ..ingest.uploads import MAX_UPLOAD_BYTES, UploadError, store_upload

STREAM_PAUSE_S = 0.03  # between streamed pieces of an answer, so they arrive as a stream


def _assistant_message(html: str) -> dict:
    return {"role": "assistant", "content": html}


class ChatHandlers:
    """What the page's events do to an open Assistant; the layout only wires them."""

    def __init__(self, assistant):
        self.assistant = assistant
        # longer messages are refused, not silently cut (the limits are the library's, in Settings)
        self.max_chars = assistant.settings.max_question_chars
        self.too_long = f"The question is too long: at most {self.max_chars} characters."

    def article_choices(self) -> list[tuple[str, str]]:
        return [(f"{a.title[:70]} ({a.file})", a.file) for a in self.assistant.sources()]

    def articles_by_file(self) -> dict:
        return {a.file: a for a in self.assistant.sources()}

    def run_answer(self, question: str, max_quotes: int | float | None, files: list[str] | None,
                   topic: str | None = None):
        # One snapshot for the whole answer: an upload swaps in a new one meanwhile.
        snapshot = self.assistant.snapshot
        known = {a.file for a in snapshot.view.articles}
        chosen = [f for f in (files or []) if f in known] or None  # nothing chosen: search all
        return answer_question(snapshot, question, max_quotes=int(max_quotes) if max_quotes else None,
                               files=chosen, topic=topic)

    def respond(self, message: str, history: list, asked: list[str], max_quotes, files):
        """Stream one answer: the question, a searching note, then the answer piece by piece."""
        history, asked = list(history or []), list(asked or [])
        message = (message or "").strip()
        if not message:
            yield history, gr.skip(), "", asked
            return
        if len(message) > self.max_chars:
            history.append(_assistant_message(view.user_message(self.too_long)))
            yield history, gr.skip(), message, asked
            return
        default = GERMAN if self.assistant.snapshot.mostly_german else "en"
        topic = asked[-1] if asked else None
        history.append({"role": "user", "content": view.user_message(message)})
        history.append(_assistant_message(view.searching_message(detect_language(message, default))))
        yield history, gr.skip(), "", asked
        try:
            answer = self.run_answer(message, max_quotes, files, topic)
        except QuestionError as exc:
            history[-1] = _assistant_message(view.user_message(str(exc)))
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
        yield history, view.sources_panel(answer, self.articles_by_file()), "", [topic] if topic else []

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

    def _store(self, paths: list[str]) -> tuple[list[tuple[bool, str]], int]:
        """Each uploaded file checked and stored: the report lines and how many were new."""
        lines: list[tuple[bool, str]] = []
        stored = 0
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
            if result.duplicate_of:
                lines.append((True, f"{name}: already there as {result.duplicate_of}"))
            else:
                stored += 1
                lines.append((True, f"added {result.file}: {result.title}"))
        return lines, stored

    def _reindex(self) -> list[tuple[bool, str]]:
        try:
            report = self.assistant.index(progress=True)
        except Exception as exc:  # the page says so; the previous index stays in use
            return [(False, f"indexing failed, the previous index is still used: {exc}")]
        return [(True, report.summary())] + [(False, f"{s.file}: {s.reason}") for s in report.skipped
                                             if s.reason != "skipped before (unchanged)"]

    def add_articles(self, paths: list[str] | None, progress=gr.Progress(track_tqdm=True)):
        """Check and store the uploaded files, then index them; the report says what happened to each."""
        lines, stored = self._store(paths or [])
        if stored:
            progress(0, desc="Indexing the new articles…")
            lines += self._reindex()
        if not lines:
            lines.append((False, "no file was received"))
        choices = self.article_choices()
        return (view.upload_report(lines), gr.Dropdown(choices=choices), None,
                view.library_list(self.assistant.sources()), gr.Dropdown(choices=choices))

    def library_now(self):
        """The Library tab as the index is now (on page load: uploads since the page was built)."""
        return view.library_list(self.assistant.sources()), gr.Dropdown(choices=self.article_choices())

    def _removal_buttons(self, pending: str | None):
        """Remove, or Confirm and Cancel while a removal waits for its second, explicit step."""
        label = "Confirm removal"
        if pending:
            title = next((a.title for a in self.assistant.sources() if a.file == pending), pending)
            label = f"Confirm removal of {title[:80]}"
        return (gr.Button(visible=not pending), gr.Button(value=label, visible=bool(pending)),
                gr.Button(visible=bool(pending)))

    def ask_removal(self, file: str | None):
        """First step: remember the chosen article and ask for confirmation; nothing is deleted yet."""
        if not file:
            return (None, view.removal_report(False, "choose an article to remove first"),
                    *self._removal_buttons(None))
        message = f"{file} will be deleted from the sources folder: confirm or cancel"
        return (file, view.removal_report(True, message), *self._removal_buttons(file))

    def cancel_removal(self):
        return (None, view.removal_report(True, "nothing removed"), *self._removal_buttons(None))

    def confirm_removal(self, pending: str | None, chosen_filter: list[str] | None):
        """Second step: delete the article and re-index; the list, both dropdowns and the status follow."""
        if not pending:
            ok, message = False, "nothing to remove: choose an article and press Remove"
        else:
            try:
                ok, message = True, f"removed {pending}; {self.assistant.remove(pending).summary()}"
            except UnknownArticle:
                ok, message = False, f"{pending} is not indexed (already removed?): nothing removed"
            except Exception as exc:  # the page says so; the previous index stays in use
                ok, message = False, f"removing {pending} failed: {exc}"
        choices = self.article_choices()
        known = {file for _, file in choices}
        return (None, view.removal_report(ok, message), *self._removal_buttons(None),
                view.library_list(self.assistant.sources()), gr.Dropdown(choices=choices, value=None),
                gr.Dropdown(choices=choices, value=[f for f in (chosen_filter or []) if f in known]))

    def example_text(self, evt: gr.SelectData) -> str:
        return evt.value["text"]

    def new_chat(self):
        """An empty conversation: messages, sources, question box, follow-up topic and article cleared."""
        return [], view.sources_panel(None, {}), "", [], view.empty_article_view(), gr.Tabs(selected="sources")

    def api_chat(self, message: str, max_quotes: int = 0) -> dict:
        """Answer one question: the answer text (with its numbered quotes and sources) and the quotes."""
        if not (message or "").strip():
            return {"question": message, "error": "the question is empty"}
        if len(message) > self.max_chars:
            return {"question": message[:200], "error": self.too_long}
        limit = self.assistant.settings.max_quotes_limit
        return self.run_answer(message, min(max(int(max_quotes or 0), 0), limit) or None, None).to_dict()
