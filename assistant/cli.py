"""`assistant`: ask questions about news articles and get verbatim, cited quotes as answers.

Commands: index, ask, stop, sources, show, chat, eval, import-xquad. Heavy libraries (torch,
sentence-transformers, gradio) are imported inside the commands that need them, so
`assistant --help` starts quickly. Each command turns its arguments into typed values and calls
the library (`Assistant`, the chat, the evaluation); no argparse object goes further than this
module.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from pathlib import Path

from .config import Settings
from .environment import chat_auth, chat_edit_open, chat_edit_password, debug, settings_from_env, warm_enabled

EXIT_ERROR = 2


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def _settings(args: argparse.Namespace) -> Settings:
    """The environment's settings (read here, once: environment.py), then the arguments'."""
    return settings_from_env(os.environ).with_paths(args.sources, args.index).with_vector_store(
        args.vector_store, args.milvus_uri)


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number (e.g. -k 3)") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is too small: at least 1")
    return number


def open_assistant(args: argparse.Namespace, progress: bool = True):
    """The assistant over --sources/--index, building or updating the index first."""
    from .core import Assistant

    assistant = Assistant(settings=_settings(args), update=True, progress=progress)
    if assistant.last_update is not None:
        for line in [*assistant.last_update.skipped_lines(), assistant.last_update.summary()]:
            print(line, file=sys.stderr)
    return assistant


def cmd_index(args: argparse.Namespace) -> int:
    from .index.indexer import update_index

    report = update_index(_settings(args), rebuild=args.rebuild, progress=not args.quiet)
    for line in report.skipped_lines(unchanged=True):
        print(line, file=sys.stderr)
    print(report.summary())
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    """Through the warm server for these settings (warm.py: started, or waited for while it
    starts, when there is none yet), else in-process."""
    from . import warm
    from .answer.question import check_question

    settings = _settings(args)
    check_question(args.question, settings.max_question_chars)  # before any model is loaded
    reply = None
    if warm_enabled(os.environ) and not args.cold:
        from .ingest.folder import article_files

        article_files(settings.sources_dir)  # a missing folder is said at once, not after a server failed
        reply = warm.ask(settings, args.question, args.k, notify=lambda line: print(line, file=sys.stderr))
    if reply is not None:
        if reply.get("update"):
            print(reply["update"], file=sys.stderr)
        answer = reply["answer"]
    else:
        answer = open_assistant(args, progress=not args.json).ask(args.question, max_quotes=args.k).to_dict()
    if args.json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        print(answer["answer"])
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    from . import warm

    stopped = warm.stop(settings_from_env(os.environ), everyone=args.all)
    whose = "of this user" if args.all else "of this checkout"
    print(f"stopped {stopped} warm assistant(s) {whose}")
    return 0


def source_record(article) -> dict:
    """What `assistant sources --json` prints for an article (`byline`: its span in `show`)."""
    meta = article.metadata()
    return {k: meta[k] for k in ("file", "title", "date", "language", "authors", "url", "byline", "content_hash")}


def cmd_sources(args: argparse.Namespace) -> int:
    """One article a line (file, date, language, title, authors, url; "-" when unknown), or JSON."""
    rows = [source_record(a) for a in open_assistant(args).sources()]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        authors = ", ".join(row["authors"]) or "-"
        print(f"{row['file']}\t{row['date'] or '-'}\t{row['language']}\t{row['title']}\t{authors}\t{row['url'] or '-'}")
    return 0


def article_name(given: str, sources_dir: Path) -> str:
    """The article's name in the sources folder, for a bare name or a path into that folder
    (`sources/x.txt`, `./sources/x.txt`, an absolute path)."""
    path = Path(given)
    if path.exists() or len(path.parts) > 1:
        try:
            return path.resolve().relative_to(sources_dir.resolve()).as_posix()
        except ValueError as exc:
            if path.exists():
                raise CommandError(f"{given} is not inside the sources folder {sources_dir}") from exc
    return given


def not_indexed(given: str, name: str, sources_dir: Path) -> str:
    """Why `show NAME` has no article: no such file, not an article file, or skipped (and why)."""
    from .ingest.sources import ARTICLE_SUFFIXES, SourceError, load_article

    path = sources_dir / name
    if not (path.is_file() or path.is_symlink()):
        return f"no indexed article named {given!r}; see: assistant sources"
    if path.suffix.lower() not in ARTICLE_SUFFIXES or any(p.startswith(".") for p in Path(name).parts):
        return (f"{name} is not indexed: only {', '.join(ARTICLE_SUFFIXES)} files whose names do not start "
                "with a dot are articles")
    try:
        load_article(sources_dir, name)
    except SourceError as exc:
        return f"{name} was skipped when indexing: {exc}"
    return f"{name} was skipped when indexing; assistant index says why"


def cmd_show(args: argparse.Namespace) -> int:
    from .core import UnknownArticle

    settings = _settings(args)
    name = article_name(args.file, settings.sources_dir)
    try:
        text = open_assistant(args).article(name).text
    except UnknownArticle as exc:
        raise CommandError(not_indexed(args.file, name, settings.sources_dir)) from exc
    # Offsets count characters of the text itself; the final newline is for the terminal.
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from .web.access import EditAccess
    from .web.app import parse_auth, run_chat

    auth = parse_auth(args.auth or chat_auth(os.environ))
    edits = EditAccess(open=args.edit or chat_edit_open(os.environ),
                       password=args.edit_password or chat_edit_password(os.environ))
    return run_chat(_settings(args), host=args.host, port=args.port, auth=auth, edits=edits)


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluation.runner import EvalOptions, run_eval_command

    options = EvalOptions(file=args.file, report=args.report, max_quotes=args.k, minimums=tuple(args.min),
                          by=tuple(args.by), compare=tuple(args.compare) if args.compare else None,
                          index_given=args.index is not None, sources_given=args.sources is not None)
    return run_eval_command(options, _settings(args))


def cmd_import_xquad(args: argparse.Namespace) -> int:
    from .evaluation.xquad import import_xquad

    articles, questions = import_xquad(args.xquad, args.out, args.questions)
    print(f"wrote {articles} articles to {args.out / 'sources'} and {questions} questions to "
          f"{args.out / 'questions.jsonl'}")
    return 0


def _add_commands(sub) -> None:
    def command(name: str, handler, help_text: str, corpus: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if corpus:
            p.add_argument("--sources", type=Path, default=None, help="articles folder (default: sources/)")
            p.add_argument("--index", type=Path, default=None, help="index folder (default: index/)")
            p.add_argument("--vector-store", default=None, metavar="{faiss,milvus}",
                           help="where passage vectors live (default: faiss, or ASSISTANT_VECTOR_STORE)")
            p.add_argument("--milvus-uri", default=None, metavar="URI",
                           help="with milvus: a .db file for embedded milvus-lite, or http://host:19530 for a server "
                                "(default: milvus-lite inside the index folder, or ASSISTANT_MILVUS_URI)")
        p.set_defaults(handler=handler)
        return p

    p = command("index", cmd_index, "build or update the index of the sources folder")
    p.add_argument("--rebuild", action="store_true", help="discard the index and build it from scratch")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = command("ask", cmd_ask, "answer a question with quotes from the articles")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("-k", type=_positive, default=None, help="at most this many quotes (default 3)")
    p.add_argument("--cold", action="store_true",
                   help="answer in this process only: no warm assistant is used or left behind (or ASSISTANT_WARM=0)")

    p = command("stop", cmd_stop, "stop the warm assistants that `ask` leaves running (this checkout's)",
                corpus=False)
    p.add_argument("--all", action="store_true", help="stop every warm assistant of this user, from any checkout")

    p = command("sources", cmd_sources, "list the indexed articles and their metadata")
    p.add_argument("--json", action="store_true")

    p = command("show", cmd_show, "print an article's kept text (what quote offsets index into)")
    p.add_argument("file", help="the article's name (see: assistant sources) or its path in the sources folder")

    p = command("chat", cmd_chat, "start the web chat (read-only unless --edit or --edit-password)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", default=None, help="USER:PASSWORD (or set ASSISTANT_AUTH)")
    p.add_argument("--edit", action="store_true",
                   help="let everyone who can open the chat add and remove articles (or ASSISTANT_EDIT=1); "
                        "without it or --edit-password the chat is read-only")
    p.add_argument("--edit-password", default=None, metavar="PASSWORD",
                   help="let whoever gives this password add and remove articles (or ASSISTANT_EDIT_PASSWORD)")

    p = command("eval", cmd_eval, "score a question/answer file")
    p.add_argument("file", nargs="?", type=Path)
    p.add_argument("--report", type=Path, default=None, help="write results.jsonl, summary.json, report.html here")
    p.add_argument("-k", type=_positive, default=None, help="quotes per answer (default 3)")
    p.add_argument("--min", action="append", default=[], metavar="METRIC=VALUE",
                   help="exit non-zero when METRIC falls below VALUE (repeatable)")
    p.add_argument("--by", action="append", default=[], metavar="COLUMN",
                   help="break every metric down by the values of this column of the question file (repeatable)")
    p.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"), help="metric differences of two reports")

    p = command("import-xquad", cmd_import_xquad, "turn an XQuAD/SQuAD file into a corpus and a question file",
                corpus=False)
    p.add_argument("xquad", type=Path)
    p.add_argument("--questions", type=Path, default=None, help="parallel file in another language (by id)")
    p.add_argument("--out", type=Path, required=True)


DESCRIPTION = """\
Ask questions about news articles (German and English) and get answers made of verbatim quotes,
each cited to its article (title, date, character range), or a plain statement that the articles
do not answer the question. The articles are the .txt, .md and .html files of a sources folder
(default: sources/); their index is kept in an index folder (default: index/)."""

EXAMPLES = """\
examples:
  assistant chat                                      the web chat on http://127.0.0.1:7860
  assistant ask "Wie viel Prozent an Vodacom hält Vodafone?"
  assistant ask --json -k 1 "Who heads T-Systems?"    one quote, as JSON
  assistant index --sources ~/articles --index ~/articles-index
  assistant eval eval/shipped_questions.jsonl         score a question file, write a report

'assistant COMMAND --help' describes a command and its options."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description=DESCRIPTION, epilog=EXAMPLES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def _quiet_broken_pipe() -> int:
    """The reader of our output went away (`| head`): stop quietly, as other tools do."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 0


def _loaded(*names: str) -> tuple[type, ...]:
    """The classes named "module:Class" (in this package) whose modules are imported: an error
    can only be of a class that was imported, so reporting one never imports more (the model's
    module imports torch, 1-2 s, for an error said before any model is needed)."""
    found = []
    for name in names:
        module, _, cls = name.partition(":")
        loaded = sys.modules.get(f"{__package__}.{module}")
        if loaded is not None:
            found.append(getattr(loaded, cls))
    return tuple(found)


def _report(exc: BaseException) -> int:
    """One line on stderr for a failure; the exit status."""
    if debug(os.environ):  # the traceback, with the causes chained to the error
        traceback.print_exception(exc)
    if isinstance(exc, _loaded("ingest.folder:SourcesFolderMissing")):
        print(f"error: {exc}; give the articles folder with --sources DIR", file=sys.stderr)
    elif isinstance(exc, (CommandError, ValueError) + _loaded(
            "warm:WarmError", "ingest.folder:SourceError", "index.store:IndexProblem", "models.embedding:ModelError")):
        print(f"error: {exc}", file=sys.stderr)
    elif isinstance(exc, _loaded("index.view:UnknownArticle")):
        print(f"error: unknown article {exc}", file=sys.stderr)
    elif isinstance(exc, OSError):  # e.g. an --index path that cannot be created or written
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot use{where}: {exc.strerror or exc}", file=sys.stderr)
    else:  # never a traceback for the user; ASSISTANT_DEBUG=1 shows it
        message = " ".join(str(exc).split()) or "no details"
        print(f"error: unexpected {type(exc).__name__}: {message} (ASSISTANT_DEBUG=1 shows the traceback)",
              file=sys.stderr)
    return EXIT_ERROR


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        status = args.handler(args)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        return _report(exc)


if __name__ == "__main__":
    sys.exit(main())
