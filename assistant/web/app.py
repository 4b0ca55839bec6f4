"""`assistant chat`: the Gradio web chat around `Assistant`.

The chat only arranges what `answer_question` returns (see view.py for the HTML); it does
no retrieval of its own. Layout: the conversation on the left; on the right the sources of the
last answer, the article view, adding articles, and settings.
"""


import ipaddress
import os
import sys
import threading
import time
from pathlib import Path

from ..config import Settings

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
EXAMPLES = [
    "What share of Vodacom does Vodafone own?",
    "Wer ist Chef von T-Systems?",
    "How much will Vodafone invest in AI and cloud?",
    "Wie viele Kunden hat Vodacom?",
]
MAX_QUESTION_CHARS = 2000  # longer messages are refused, not silently cut
TOO_LONG = f"The question is too long: at most {MAX_QUESTION_CHARS} characters."
MAX_QUOTES = 10
STREAM_PAUSE_S = 0.03  # between streamed pieces of an answer, so they arrive as a stream

CSS = """
.gradio-container {max-width: 1400px !important}
#chatbot .message-content, #chatbot .message {font-size: 15px; line-height: 1.45}
.qt.marks::before {content: "“"} .qt.marks::after {content: "”"}
.quote {margin: 6px 0}
.framing, .abstain {font-weight: 600; margin-bottom: 4px}
.abstain {color: #9a3412}
.resolved {font-size: 12px; color: #6b7280; margin-bottom: 4px}
.status {color: #6b7280; font-style: italic}
.sources {margin-top: 8px; font-size: 13px; color: #374151}
.sources-head, .related-head {font-weight: 600; margin-top: 6px}
.related {margin-top: 8px; padding: 6px 10px; border-left: 4px solid #d1d5db; background: #f9fafb; color: #4b5563}
.related-head {color: #6b7280; font-size: 13px; font-style: italic}
.file {color: #6b7280}
a.cite {font-weight: 700; text-decoration: none; color: #1d4ed8; cursor: pointer}
a.cite:hover {text-decoration: underline}
.scroll-box {max-height: 620px; overflow-y: auto; padding-right: 4px}
.card {border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px 12px; margin-bottom: 10px; background: #fff}
.card.related {background: #f9fafb; border-style: dashed}
.card-title {text-align: left; font-size: 15px; font-weight: 600; color: #111827; text-decoration: none; display: block}
.card-title:hover {text-decoration: underline}
.meta {font-size: 12px; color: #6b7280; margin: 2px 0 6px}
.passage {font-size: 13px; line-height: 1.5; margin: 6px 0; color: #374151}
mark {background: #fde68a; color: #111827; padding: 0 1px}
mark.hl {background: #fbbf24; outline: 2px solid #f59e0b}
.article h3 {margin: 0 0 2px; text-align: left}
.article-text {white-space: pre-wrap; font-size: 14px; line-height: 1.55; color: #1f2937}
.panel-empty {color: #6b7280; font-size: 14px; padding: 8px}
.ok {color: #166534} .err {color: #b91c1c; font-weight: 600}
.welcome {text-align: center; padding: 0 48px; color: #4b5563; font-size: 15px; line-height: 1.6}
"""

# Clicks on citation links anywhere (chat or panels) become a "click" event of the sources panel.
CITE_JS = """
if (window.__citeHandler) document.removeEventListener('click', window.__citeHandler, true);
window.__citeHandler = (e) => {
  const a = e.target.closest ? e.target.closest('a[href^="#cite:"]') : null;
  if (!a) return;
  e.preventDefault(); e.stopPropagation();
  trigger('click', {cite: a.getAttribute('href').slice(6)});
};
document.addEventListener('click', window.__citeHandler, true);
"""
SCROLL_JS = """
watch('value', () => setTimeout(() => {
  const m = element.querySelector('mark.hl');
  if (m) m.scrollIntoView({block: 'center'});
}, 150));
"""

SCROLL_AFTER_JS = """() => setTimeout(() => {
  const m = document.querySelector('#article-panel mark.hl');
  if (m) m.scrollIntoView({block: 'center'});
}, 200)"""


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, auth: tuple[str, str] | None) -> str | None:
    """The warning printed when the chat is reachable from other machines without a password."""
    if _is_loopback(host) or auth is not None:
        return None
    return (f"WARNING: the chat listens on {host}, reachable from other machines, WITHOUT a password: "
            "anyone who can reach it can read the articles and add new ones. "
            "Use --auth USER:PASSWORD (or ASSISTANT_AUTH), or --host 127.0.0.1.")


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """USER:PASSWORD -> (user, password); None when not given. Raises ValueError when malformed."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth / ASSISTANT_AUTH must look like USER:PASSWORD")
    return user, password


def build_app(assistant):
    """The Gradio Blocks app for an open Assistant."""
    import gradio as gr

    from . import view
    from ..answer.answering import answer_question
    from ..answer.types import QuestionError
    from ..index.view import UnknownArticle
    from ..answer.conversation import next_topic
    from ..ingest.language import GERMAN, detect_language
    from ..ingest.uploads import MAX_UPLOAD_BYTES, UploadError, store_upload

    def article_choices() -> list[tuple[str, str]]:
        return [(f"{a.title[:70]} ({a.file})", a.file) for a in assistant.sources()]

    def articles_by_file() -> dict[str, dict]:
        return {a.file: a for a in assistant.sources()}

    def run_answer(question: str, max_quotes: int | float | None, files: list[str] | None,
                   topic: str | None = None):
        # One snapshot for the whole answer: an upload swaps in a new one meanwhile.
        snapshot = assistant.snapshot
        known = {a.file for a in snapshot.view.articles}
        chosen = [f for f in (files or []) if f in known] or None  # nothing chosen: search all
        return answer_question(snapshot, question, max_quotes=int(max_quotes) if max_quotes else None, files=chosen,
                               topic=topic)

    def respond(message: str, history: list, asked: list[str], max_quotes, files):
        """Stream one answer: the question, a searching note, then the answer piece by piece."""
        history = list(history or [])
        asked = list(asked or [])
        message = (message or "").strip()
        if not message:
            yield history, gr.skip(), "", asked
            return
        if len(message) > MAX_QUESTION_CHARS:
            history.append({"role": "assistant", "content": view.user_message(TOO_LONG)})
            yield history, gr.skip(), message, asked
            return
        default = GERMAN if assistant.snapshot.mostly_german else "en"
        topic = asked[-1] if asked else None
        history.append({"role": "user", "content": view.user_message(message)})
        history.append({"role": "assistant", "content": view.searching_message(detect_language(message, default))})
        yield history, gr.skip(), "", asked
        try:
            answer = run_answer(message, max_quotes, files, topic)
        except QuestionError as exc:
            history[-1] = {"role": "assistant", "content": view.user_message(str(exc))}
            yield history, gr.skip(), "", asked
            return
        chunks = view.answer_chunks(answer, answer.understood_as)
        shown = ""
        for chunk in chunks[:-1]:
            shown += chunk
            history[-1] = {"role": "assistant", "content": shown}
            yield history, gr.skip(), "", asked
            time.sleep(STREAM_PAUSE_S)
        # The last piece and the sources panel arrive together.
        history[-1] = {"role": "assistant", "content": shown + chunks[-1]}
        topic = next_topic(topic, answer.question, answer.understood_as is not None, answer.abstained)
        yield history, view.sources_panel(answer, articles_by_file()), "", [topic] if topic else []

    def open_citation(evt: gr.EventData):
        """A clicked citation or source: the whole article, the quote marked, in the Article tab."""
        data = getattr(evt, "_data", None) or {}
        cite = view.parse_cite(str(data.get("cite", "")) if isinstance(data, dict) else "")
        if cite is None:
            return gr.skip(), gr.skip()
        file, start, end = cite
        try:
            article = assistant.article(file)
        except UnknownArticle:
            return view.upload_report([(False, f"{file} is no longer indexed")]), gr.Tabs(selected="article")
        return view.article_view(article, start, end), gr.Tabs(selected="article")

    def add_articles(paths: list[str] | None, progress=gr.Progress(track_tqdm=True)):
        """Check and store the uploaded files, then index them; the report says what happened to each."""
        lines: list[tuple[bool, str]] = []
        stored = 0
        for path in paths or []:
            name = Path(path).name
            try:
                size = os.path.getsize(path)
                if size > MAX_UPLOAD_BYTES:
                    raise UploadError(f"{name}: {size / 1024 / 1024:.1f} MiB is over the "
                                      f"{MAX_UPLOAD_BYTES // 1024 // 1024} MiB limit")
                result = store_upload(assistant.settings.sources_dir, name, Path(path).read_bytes())
            except (UploadError, OSError) as exc:
                lines.append((False, str(exc)))
                continue
            if result.duplicate_of:
                lines.append((True, f"{name}: already there as {result.duplicate_of}"))
            else:
                stored += 1
                lines.append((True, f"added {result.file}: {result.title}"))
        if stored:
            progress(0, desc="Indexing the new articles…")
            try:
                report = assistant.index(progress=True)
            except Exception as exc:  # the page says so; the previous index stays in use
                lines.append((False, f"indexing failed, the previous index is still used: {exc}"))
            else:
                lines.append((True, report.summary()))
                lines += [(False, f"{s.file}: {s.reason}") for s in report.skipped
                          if s.reason != "skipped before (unchanged)"]
        if not lines:
            lines.append((False, "no file was received"))
        return view.upload_report(lines), gr.Dropdown(choices=article_choices()), None

    def example_text(evt: gr.SelectData) -> str:
        return evt.value["text"]

    def api_chat(message: str, max_quotes: int = 0) -> dict:
        """Answer one question: the answer text (with its numbered quotes and sources) and the quotes."""
        if not (message or "").strip():
            return {"question": message, "error": "the question is empty"}
        if len(message) > MAX_QUESTION_CHARS:
            return {"question": message[:200], "error": TOO_LONG}
        return run_answer(message, min(max(int(max_quotes or 0), 0), MAX_QUOTES) or None, None).to_dict()

    with gr.Blocks(title="News assistant", analytics_enabled=False) as app:
        asked = gr.State([])
        gr.Markdown("### News assistant — answers are verbatim quotes from the articles, each cited")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    elem_id="chatbot", height=560, show_label=False, sanitize_html=True, render_markdown=True,
                    line_breaks=False, feedback_options=None, buttons=["copy"],
                    examples=[{"text": q} for q in EXAMPLES],
                    placeholder="<div class='welcome'><b>Ask about the articles, in German or English.</b><br>"
                                "Every answer is made of exact quotes from them; click a citation [n] to read "
                                "the quote in its article.</div>",
                )
                with gr.Row():
                    box = gr.Textbox(elem_id="question", show_label=False, scale=5, autofocus=True, container=False,
                                     max_length=MAX_QUESTION_CHARS,
                                     placeholder="Ask a question (German or English) and press Enter")
                    send = gr.Button("Ask", variant="primary", scale=0, min_width=90, elem_id="ask")
                    clear = gr.Button("New chat", scale=0, min_width=130)
            with gr.Column(scale=2):
                with gr.Tabs(selected="sources") as tabs:
                    with gr.Tab("Sources", id="sources"):
                        sources = gr.HTML(view.sources_panel(None, {}), elem_id="sources-panel", js_on_load=CITE_JS)
                    with gr.Tab("Article", id="article"):
                        article = gr.HTML(view.empty_article_view(), elem_id="article-panel", js_on_load=SCROLL_JS)
                    with gr.Tab("Add articles", id="upload"):
                        gr.Markdown(f"Upload `.txt`, `.md` or `.html` articles (at most "
                                    f"{MAX_UPLOAD_BYTES // 1024 // 1024} MiB each). They are checked, added to "
                                    "the sources folder and indexed; existing articles are never replaced.")
                        # No file_types filter: a wrong file should get this page's own clear message.
                        upload = gr.File(file_count="multiple", type="filepath", label="Articles", elem_id="upload")
                        upload_status = gr.HTML("", elem_id="upload-status")
                    with gr.Tab("Settings", id="settings"):
                        quotes = gr.Slider(1, MAX_QUOTES, value=assistant.settings.max_quotes, step=1,
                                           label="Quotes per answer", elem_id="max-quotes")
                        files = gr.Dropdown(choices=article_choices(), value=[], multiselect=True,
                                            label="Search only these articles (none chosen: all)",
                                            elem_id="article-filter")

        inputs = [box, chatbot, asked, quotes, files]
        outputs = [chatbot, sources, box, asked]
        private = {"api_visibility": "private"}
        box.submit(respond, inputs, outputs, **private)
        send.click(respond, inputs, outputs, **private)
        chatbot.example_select(example_text, None, box, **private).then(respond, inputs, outputs, **private)
        clear.click(lambda: ([], view.sources_panel(None, {}), "", []), None, outputs, **private)
        sources.click(open_citation, None, [article, tabs], **private).then(None, js=SCROLL_AFTER_JS)
        upload.upload(add_articles, upload, [upload_status, files, upload], **private)
        gr.api(api_chat, api_name="chat")
    return app


def _warm_up(assistant) -> None:
    assistant.ask(EXAMPLES[0])


def run_chat(settings: Settings, host: str = "127.0.0.1", port: int = 7860,
             auth: tuple[str, str] | None = None) -> int:
    """Open (and if needed build) the index with progress in the terminal, then serve the chat."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    warning = exposure_warning(host, auth)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    from ..core import Assistant

    started = time.monotonic()
    assistant = Assistant(settings=settings, update=True, progress=True)
    if assistant.last_update is not None:
        print(assistant.last_update.summary(), file=sys.stderr)
    # Load the model and answer one question while gradio is imported and the page is built,
    # so the first person to ask does not wait for the model (cold start, issue 5).
    warm = threading.Thread(target=_warm_up, args=(assistant,), daemon=True)
    warm.start()
    app = build_app(assistant)
    app.queue(default_concurrency_limit=2)
    warm.join()
    print(f"index ready in {time.monotonic() - started:.1f} s; "
          f"chat on http://{host}:{port}/ (Ctrl+C stops it)", file=sys.stderr, flush=True)
    from ..ingest.uploads import MAX_UPLOAD_BYTES

    try:
        app.launch(server_name=host, server_port=port, auth=auth, css=CSS, show_error=True,
                   max_file_size=4 * MAX_UPLOAD_BYTES, quiet=False, footer_links=[], ssr_mode=False)
    except OSError as exc:  # port taken, address not available: one line, not a traceback
        print(f"error: cannot serve on {host}:{port}: {exc}", file=sys.stderr)
        return 2
    return 0
