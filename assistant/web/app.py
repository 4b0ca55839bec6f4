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
from importlib import resources
from types import SimpleNamespace

from . import view
from ..config import Settings

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
EXAMPLES = [
    "What share of Vodacom does Vodafone own?",
    "Wer ist Chef von T-Systems?",
    "How much will Vodafone invest in AI and cloud?",
    "Wie viele Kunden hat Vodacom?",
]
# Answers computed at once; the rest wait in Gradio's queue. Two: one a core of the two-core
# machine the chat was measured on, each answer using one torch thread (Settings.query_threads,
# reader_threads); 50 questions at once were all answered, p95 1.35 s (benchmarks/README.md: Chat).
ANSWERS_AT_ONCE = 2
# What Gradio accepts into its temporary folder, as a multiple of the article limit
# (ingest/uploads.MAX_UPLOAD_BYTES): a file somewhat over the limit still reaches add_articles,
# whose message names the limit, instead of Gradio's generic refusal; a far bigger one is
# refused by Gradio before it is written to disk.
UPLOAD_ACCEPT_FACTOR = 4
STATIC = "static"  # chat.css and the page's scripts, shipped as package data


def static_text(name: str) -> str:
    """A file of web/static: CSS and JS live in files of their own, not in Python strings."""
    return resources.files(__package__).joinpath(STATIC, name).read_text(encoding="utf-8")


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


WELCOME = ("<div class='welcome'><b>Ask about the articles, in German or English.</b><br>"
           "Every answer is made of exact quotes from them; click a citation [n] to read "
           "the quote in its article.</div>")


def _chat_column(gr, settings: Settings) -> SimpleNamespace:
    """The conversation, the question box and its buttons."""
    chatbot = gr.Chatbot(
        elem_id="chatbot", height="calc(100vh - 190px)", min_height=360,  # the window's height, not a fixed one
        show_label=False, sanitize_html=True, render_markdown=True, line_breaks=False, feedback_options=None,
        latex_delimiters=[],  # "$$x^2$$" in an article is text: KaTeX would change the quote
        buttons=[],  # gradio's copy would copy the HTML; answers carry their own (view.copy_button)
        examples=[{"text": q} for q in EXAMPLES], placeholder=WELCOME,
    )
    with gr.Row():
        box = gr.Textbox(elem_id="question", show_label=False, scale=5, autofocus=True, container=False,
                         max_length=settings.max_question_chars,
                         placeholder="Ask a question (German or English) and press Enter")
        send = gr.Button("Ask", variant="primary", scale=0, min_width=90, elem_id="ask")
        clear = gr.Button("New chat", scale=0, min_width=130, elem_id="new-chat")
    return SimpleNamespace(chatbot=chatbot, box=box, send=send, clear=clear)


def _side_column(gr, handlers, settings: Settings) -> SimpleNamespace:
    """The tabs beside the chat: sources, article, adding articles, settings."""
    from ..ingest.uploads import MAX_UPLOAD_BYTES

    with gr.Tabs(selected="sources") as tabs:
        with gr.Tab("Sources", id="sources"):
            sources = gr.HTML(view.sources_panel(None, {}), elem_id="sources-panel",
                              js_on_load=static_text("cite.js") + static_text("copy.js"))
        with gr.Tab("Article", id="article"):
            article = gr.HTML(view.empty_article_view(), elem_id="article-panel",
                              js_on_load=static_text("scroll_mark.js"))
        with gr.Tab("Add articles", id="upload"):
            gr.Markdown(f"Upload `.txt`, `.md` or `.html` articles (at most "
                        f"{MAX_UPLOAD_BYTES // 1024 // 1024} MiB each). They are checked, added to "
                        "the sources folder and indexed; existing articles are never replaced.")
            # No file_types filter: a wrong file should get this page's own clear message.
            upload = gr.File(file_count="multiple", type="filepath", label="Articles", elem_id="upload")
            upload_status = gr.HTML("", elem_id="upload-status")
        with gr.Tab("Library", id="library"):
            library = _library_tab(gr, handlers)
        with gr.Tab("Settings", id="settings"):
            quotes = gr.Slider(1, settings.max_quotes_limit, value=settings.max_quotes, step=1,
                               label="Quotes per answer", elem_id="max-quotes")
            files = gr.Dropdown(choices=handlers.article_choices(), value=[], multiselect=True,
                                label="Search only these articles (none chosen: all)", elem_id="article-filter")
    return SimpleNamespace(tabs=tabs, sources=sources, article=article, upload=upload,
                           upload_status=upload_status, quotes=quotes, files=files, library=library)


def _library_tab(gr, handlers) -> SimpleNamespace:
    """The indexed articles, and removing one in two explicit steps (Remove, then Confirm)."""
    listing = gr.HTML(view.library_list(handlers.assistant.sources()), elem_id="library-list")
    choice = gr.Dropdown(choices=handlers.article_choices(), value=None, label="Article to remove",
                         elem_id="remove-file")
    with gr.Row():
        remove = gr.Button("Remove", variant="stop", elem_id="remove")
        confirm = gr.Button("Confirm removal", variant="stop", visible=False, elem_id="confirm-remove")
        cancel = gr.Button("Cancel", visible=False, elem_id="cancel-remove")
    status = gr.HTML("", elem_id="remove-status")
    return SimpleNamespace(listing=listing, choice=choice, remove=remove, confirm=confirm, cancel=cancel,
                           status=status, pending=gr.State(None))


def _wire_library(handlers, side: SimpleNamespace) -> None:
    """Remove asks, Confirm deletes, Cancel or choosing another article asks again."""
    lib, private = side.library, {"api_visibility": "private"}
    steps = [lib.pending, lib.status, lib.remove, lib.confirm, lib.cancel]
    lib.remove.click(handlers.ask_removal, lib.choice, steps, **private)
    lib.cancel.click(handlers.cancel_removal, None, steps, **private)
    lib.choice.input(handlers.cancel_removal, None, steps, **private)
    lib.confirm.click(handlers.confirm_removal, [lib.pending, side.files],
                      steps + [lib.listing, lib.choice, side.files], **private)


def _wire(gr, handlers, chat: SimpleNamespace, side: SimpleNamespace, asked) -> None:
    """Each event to its handler; only the /chat API is public."""
    inputs = [chat.box, chat.chatbot, asked, side.quotes, side.files]
    outputs = [chat.chatbot, side.sources, chat.box, asked]
    private = {"api_visibility": "private"}
    to_answer = {"js": static_text("scroll_answer.js")}
    chat.box.submit(handlers.respond, inputs, outputs, **private).then(None, **to_answer)
    chat.send.click(handlers.respond, inputs, outputs, **private).then(None, **to_answer)
    chat.chatbot.example_select(handlers.example_text, None, chat.box, **private).then(
        handlers.respond, inputs, outputs, **private).then(None, **to_answer)
    cleared = outputs + [side.article, side.tabs]
    chat.clear.click(handlers.new_chat, None, cleared, **private)
    chat.chatbot.clear(handlers.new_chat, None, cleared, **private)  # the chat's own bin button
    side.sources.click(handlers.open_citation, None, [side.article, side.tabs], **private).then(
        None, js=static_text("scroll_after.js"))
    side.upload.upload(handlers.add_articles, side.upload, [side.upload_status, side.files, side.upload,
                                                             side.library.listing, side.library.choice], **private)
    _wire_library(handlers, side)
    gr.api(handlers.api_chat, api_name="chat")


def build_app(assistant):
    """The Gradio Blocks app for an open Assistant: the layout, wired to `ChatHandlers`."""
    import gradio as gr

    from .handlers import ChatHandlers

    handlers = ChatHandlers(assistant)
    with gr.Blocks(title="News assistant", analytics_enabled=False) as app:
        asked = gr.State([])
        gr.Markdown("### News assistant — answers are verbatim quotes from the articles, each cited")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = _chat_column(gr, assistant.settings)
            with gr.Column(scale=2):
                side = _side_column(gr, handlers, assistant.settings)
        _wire(gr, handlers, chat, side, asked)
        # The layout was built once; a page opened later lists the articles indexed since then.
        app.load(handlers.library_now, None, [side.library.listing, side.library.choice], api_visibility="private")
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
    app.queue(default_concurrency_limit=ANSWERS_AT_ONCE)
    warm.join()
    print(f"index ready in {time.monotonic() - started:.1f} s; "
          f"chat on http://{host}:{port}/ (Ctrl+C stops it)", file=sys.stderr, flush=True)
    from ..ingest.uploads import MAX_UPLOAD_BYTES

    try:
        # quiet: the line above says where the chat is; gradio's own banner adds a "share=True"
        # hint that a command-line user cannot act on
        app.launch(server_name=host, server_port=port, auth=auth, css=static_text("chat.css"), show_error=True,
                   max_file_size=UPLOAD_ACCEPT_FACTOR * MAX_UPLOAD_BYTES, quiet=True, footer_links=[], ssr_mode=False)
    except OSError as exc:  # port taken, address not available: one line, not a traceback
        print(f"error: cannot serve on {host}:{port}: {exc}", file=sys.stderr)
        return 2
    return 0
