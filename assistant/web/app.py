"""`assistant chat`: the Gradio web chat around `Assistant`.

The chat only arranges what `Assistant.ask_citing` returns (see view.py for the HTML); it does
no retrieval of its own. Layout: the conversation on the left; on the right the sources of the
last answer, the article view, adding articles, and settings.
"""


import errno
import ipaddress
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

from . import view
from .access import EditAccess, slow_login
from ..config import Settings

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
EXAMPLES = [
    "What share of Vodacom does Vodafone own?",
    "Wer ist Chef von T-Systems?",
    "How much will Vodafone invest in AI and cloud?",
    "Wie viele Kunden hat Vodacom?",
]
QUESTION_BOX_LINES = 3  # the question box grows to this many lines, then scrolls inside (more would push it below the window)
# Answers computed at once; the rest wait in Gradio's queue. Two: one a core of the two-core
# machine the chat was measured on, each answer using one torch thread (Settings.query_threads,
# reader_threads); 50 questions at once were all answered, p95 1.35 s (benchmarks/README.md: Chat).
ANSWERS_AT_ONCE = 2
# What Gradio accepts into its temporary folder, as a multiple of the article limit
# (ingest/uploads.MAX_UPLOAD_BYTES): a file somewhat over the limit still reaches add_articles,
# whose message names the limit, instead of Gradio's generic refusal; a far bigger one is
# refused by Gradio before it is written to disk. Only when the chat may add articles: a
# read-only chat takes no files at all (limits.py).
UPLOAD_ACCEPT_FACTOR = 4
UPLOAD_FILES_AT_ONCE = 16  # files per upload request, for the request's size limit
# The most a request without files may carry: a question (2,000 characters) and the conversation
# the page sends with it (handlers.MAX_HISTORY_MESSAGES; an answer's HTML is a few kB). A 20 MB
# history cost 431 s of server work (issue 27, item 11).
MAX_REQUEST_BYTES = 1024 * 1024
# Files Gradio received but no event took (sent straight to /gradio_api/upload) are deleted
# after this long; the whole folder of this run goes when the chat stops.
UPLOAD_KEEP_S = 600
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


def exposure_warning(host: str, auth: tuple[str, str] | None, edits: EditAccess = EditAccess()) -> str | None:
    """The warning printed when the chat is reachable from other machines without a password."""
    if _is_loopback(host) or auth is not None:
        return None
    can = ("read the articles and ADD AND DELETE articles (--edit)" if edits.open
           else "read the articles" + (" (changing them needs the edit password)" if edits.allowed else ""))
    return (f"WARNING: the chat listens on {host}, reachable from other machines, WITHOUT a password: "
            f"anyone who can reach it can {can}. "
            "Use --auth USER:PASSWORD (or ASSISTANT_AUTH), or --host 127.0.0.1.")


def port_problem(host: str, port: int) -> str | None:
    """Why the chat cannot listen on host:port (taken by another chat, say), found before the
    model loads for half a minute; None when it can. Bound and released at once, with
    SO_REUSEADDR as the server binds, so a port in TIME_WAIT after a stopped chat counts as free."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return f"cannot serve on {host}:{port}: the port is in use (another chat?); choose another with --port N"
        return f"cannot serve on {host}:{port}: {exc.strerror or exc}; check --host"
    return None


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
        # No max_length: the browser would cut a longer paste silently; the handler refuses it
        # with the library's message instead. It grows to a few lines, then scrolls.
        box = gr.Textbox(elem_id="question", show_label=False, scale=5, autofocus=True, container=False,
                         lines=1, max_lines=QUESTION_BOX_LINES,
                         placeholder="Ask a question (German or English) and press Enter")
        send = gr.Button("Ask", variant="primary", scale=0, min_width=90, elem_id="ask")
        clear = gr.Button("New chat", scale=0, min_width=130, elem_id="new-chat")
    return SimpleNamespace(chatbot=chatbot, box=box, send=send, clear=clear)


def _password_box(gr, elem_id: str):
    return gr.Textbox(type="password", label="Edit password", elem_id=elem_id, max_lines=1,
                      placeholder="needed to add or remove articles")


def _side_column(gr, handlers, settings: Settings) -> SimpleNamespace:
    """The tabs beside the chat: sources, article, adding articles, the library, settings."""
    from ..ingest.uploads import MAX_UPLOAD_BYTES

    edits = handlers.edits
    upload = upload_status = upload_password = None
    with gr.Tabs(selected="sources") as tabs:
        with gr.Tab("Sources", id="sources"):
            sources = gr.HTML(view.sources_panel(None, {}), elem_id="sources-panel",
                              js_on_load=static_text("cite.js") + static_text("copy.js"))
        with gr.Tab("Article", id="article"):
            article = gr.HTML(view.empty_article_view(), elem_id="article-panel",
                              js_on_load=static_text("scroll_mark.js"))
        with gr.Tab("Add articles", id="upload"):
            if not edits.allowed:
                gr.HTML(view.read_only_note("adding articles"), elem_id="upload-read-only")
            else:
                gr.Markdown(f"Upload `.txt`, `.md` or `.html` articles (at most "
                            f"{MAX_UPLOAD_BYTES // 1024 // 1024} MiB each). They are checked, added to "
                            "the sources folder and indexed; existing articles are never replaced.")
                if edits.needs_password:
                    upload_password = _password_box(gr, "upload-password")
                # No file_types filter: a wrong file should get this page's own clear message.
                upload = gr.File(file_count="multiple", type="filepath", label="Articles", elem_id="upload")
                upload_status = gr.HTML("", elem_id="upload-status")
        with gr.Tab("Library", id="library") as library_tab:
            library = _library_tab(gr, handlers)
        with gr.Tab("Settings", id="settings") as settings_tab:
            quotes = gr.Slider(1, settings.max_quotes_limit, value=settings.max_quotes, step=1,
                               label="Quotes per answer", elem_id="max-quotes")
            files = gr.Dropdown(choices=handlers.article_choices(), value=[], multiselect=True,
                                label="Search only these articles (none chosen: all)", elem_id="article-filter")
    return SimpleNamespace(tabs=tabs, sources=sources, article=article, upload=upload,
                           upload_status=upload_status, upload_password=upload_password, quotes=quotes,
                           files=files, library=library, library_tab=library_tab, settings_tab=settings_tab)


def _library_tab(gr, handlers) -> SimpleNamespace:
    """The indexed articles, and removing one in two explicit steps (Remove, then Confirm)."""
    listing = gr.HTML(view.library_list(handlers.assistant.sources()), elem_id="library-list")
    if not handlers.edits.allowed:
        gr.HTML(view.read_only_note("removing articles"), elem_id="remove-read-only")
        return SimpleNamespace(listing=listing, choice=None)
    choice = gr.Dropdown(choices=handlers.article_choices(), value=None, label="Article to remove",
                         elem_id="remove-file")
    password = _password_box(gr, "remove-password") if handlers.edits.needs_password else None
    with gr.Row():
        remove = gr.Button("Remove", variant="stop", elem_id="remove")
        confirm = gr.Button("Confirm removal", variant="stop", visible=False, elem_id="confirm-remove")
        cancel = gr.Button("Cancel", visible=False, elem_id="cancel-remove")
    status = gr.HTML("", elem_id="remove-status")
    return SimpleNamespace(listing=listing, choice=choice, remove=remove, confirm=confirm, cancel=cancel,
                           status=status, pending=gr.State(None), password=password)


def _wire_changes(handlers, side: SimpleNamespace) -> None:
    """Uploads, and removal in two steps (Remove asks, Confirm deletes, Cancel or choosing another
    article asks again). Only when the chat allows changes at all: read-only, these events do not
    exist, so no client can call them; with a password, the events check it themselves."""
    lib, private = side.library, {"api_visibility": "private"}
    side.upload.upload(handlers.add_articles, [side.upload] + ([side.upload_password] if side.upload_password else []),
                       [side.upload_status, side.files, side.upload, lib.listing, lib.choice], **private)
    steps = [lib.pending, lib.status, lib.remove, lib.confirm, lib.cancel]
    lib.remove.click(handlers.ask_removal, lib.choice, steps, **private)
    lib.cancel.click(handlers.cancel_removal, None, steps, **private)
    lib.choice.input(handlers.cancel_removal, None, steps, **private)
    lib.confirm.click(handlers.confirm_removal, [lib.pending, side.files] + ([lib.password] if lib.password else []),
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
    # Another page may have added or removed articles since this one was built: the filter and
    # the library list follow when their tab is opened. (The removal choice is not refreshed
    # there: an update while it opens closes it; removing an article gone since is refused.)
    side.settings_tab.select(handlers.filter_now, side.files, side.files, **private)
    side.library_tab.select(handlers.library_listing, None, side.library.listing, **private)
    if handlers.edits.allowed:
        _wire_changes(handlers, side)
    gr.api(handlers.api_chat, api_name="chat")


def build_app(assistant, edits: EditAccess = EditAccess()):
    """The Gradio Blocks app for an open Assistant: the layout, wired to `ChatHandlers`; `edits`
    says who may add and remove articles (access.py; read-only by default)."""
    import gradio as gr

    from .handlers import ChatHandlers

    handlers = ChatHandlers(assistant, edits)
    # delete_cache: files sent to gradio's upload route that no event took go after a while.
    with gr.Blocks(title="News assistant", analytics_enabled=False,
                   delete_cache=(UPLOAD_KEEP_S, UPLOAD_KEEP_S)) as app:
        asked = gr.State([])
        gr.Markdown("### News assistant — answers are verbatim quotes from the articles, each cited")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = _chat_column(gr, assistant.settings)
            with gr.Column(scale=2):
                side = _side_column(gr, handlers, assistant.settings)
        _wire(gr, handlers, chat, side, asked)
        # The layout was built once; a page opened later lists the articles indexed since then.
        app.load(handlers.library_listing, None, side.library.listing, api_visibility="private")
        app.load(handlers.filter_now, side.files, side.files, api_visibility="private")
        if side.library.choice is not None:
            app.load(handlers.removal_choices, None, side.library.choice, api_visibility="private")
    return app


def theme():
    """gradio's default look with fonts that have every weight the page uses. gradio ships Source
    Sans Pro (and IBM Plex Mono) SemiBold as a subset of 55 glyphs, so semi-bold text took "A"
    and "B" from it and every other letter from a fallback font ("Die ᴀrtikel", "ᴀsk"); with
    only the complete Regular and Bold files declared, weight 600 is drawn with the Bold one."""
    import gradio as gr

    fonts = gr.themes.LocalFont("Source Sans Pro", weights=(400, 700))
    mono = gr.themes.LocalFont("IBM Plex Mono", weights=(400, 700))
    return gr.themes.Default(font=[fonts, "ui-sans-serif", "system-ui", "sans-serif"],
                             font_mono=[mono, "ui-monospace", "Consolas", "monospace"])


def _warm_up(assistant) -> None:
    assistant.ask(EXAMPLES[0])


def upload_folder() -> Path:
    """A folder of this run for the files gradio receives (GRADIO_TEMP_DIR, read when gradio is
    imported), inside the one the user set or the system's; removed when the chat stops, so
    nothing sent to it outlives the chat."""
    base = os.environ.get("GRADIO_TEMP_DIR") or None
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="news-assistant-chat-", dir=base))
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    return folder


def request_limits(edits: EditAccess):
    """The middleware that refuses files on a read-only chat and caps every request (limits.py)."""
    from starlette.middleware import Middleware

    from ..ingest.uploads import MAX_UPLOAD_BYTES
    from .limits import RequestLimits

    files = UPLOAD_FILES_AT_ONCE * UPLOAD_ACCEPT_FACTOR * MAX_UPLOAD_BYTES if edits.allowed else None
    return Middleware(RequestLimits, max_body=MAX_REQUEST_BYTES, max_files_body=files)


def run_chat(settings: Settings, host: str = "127.0.0.1", port: int = 7860,
             auth: tuple[str, str] | None = None, edits: EditAccess = EditAccess()) -> int:
    """Open (and if needed build) the index with progress in the terminal, then serve the chat."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    warning = exposure_warning(host, auth, edits)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    problem = port_problem(host, port)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    uploads = upload_folder()
    if threading.current_thread() is threading.main_thread():
        # SIGTERM stops the chat as Ctrl+C does (gradio closes its server), so the folder goes too.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _serve(settings, host, port, auth, edits)
    finally:
        shutil.rmtree(uploads, ignore_errors=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _serve(settings: Settings, host: str, port: int, auth: tuple[str, str] | None, edits: EditAccess) -> int:
    from ..core import Assistant

    started = time.monotonic()
    assistant = Assistant(settings=settings, update=True, progress=True)
    if assistant.last_update is not None:
        for line in [*assistant.last_update.skipped_lines(), assistant.last_update.summary()]:
            print(line, file=sys.stderr)
    # Load the model and answer one question while gradio is imported and the page is built,
    # so the first person to ask does not wait for the model.
    warm = threading.Thread(target=_warm_up, args=(assistant,), daemon=True)
    warm.start()
    app = build_app(assistant, edits)
    app.queue(default_concurrency_limit=ANSWERS_AT_ONCE)
    warm.join()
    print(f"index ready in {time.monotonic() - started:.1f} s; adding and removing articles: {edits.describe()}",
          file=sys.stderr)
    print(f"chat on http://{host}:{port}/ (Ctrl+C stops it)", file=sys.stderr, flush=True)
    from ..ingest.uploads import MAX_UPLOAD_BYTES

    try:
        # quiet: the line above says where the chat is; gradio's own banner adds a "share=True"
        # hint that a command-line user cannot act on
        app.launch(server_name=host, server_port=port, auth=slow_login(*auth) if auth else None,
                   css=static_text("chat.css"), theme=theme(), show_error=True,
                   max_file_size=UPLOAD_ACCEPT_FACTOR * MAX_UPLOAD_BYTES if edits.allowed else 1,
                   app_kwargs={"middleware": [request_limits(edits)]},
                   quiet=True, footer_links=[], ssr_mode=False)
    except OSError as exc:  # taken since port_problem looked, address not available: one line, not a traceback
        print(f"error: cannot serve on {host}:{port}: {exc}; choose another port with --port N", file=sys.stderr)
        return 2
    return 0
