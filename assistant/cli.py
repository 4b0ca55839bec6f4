"""`assistant` command line: index, ask, sources, show, chat, eval, import-xquad.

Heavy libraries (torch, sentence-transformers, gradio) are imported inside the commands that
need them, so `assistant --help` and `assistant show` start quickly.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from .config import Settings

EXIT_ERROR = 2


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def _settings(args: argparse.Namespace) -> Settings:
    return Settings().with_paths(args.sources, args.index)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def cmd_index(args: argparse.Namespace) -> int:
    from .indexer import update_index

    report = update_index(_settings(args), rebuild=args.rebuild, progress=not args.quiet)
    for skipped in report.skipped:
        print(f"skipped {skipped.file}: {skipped.reason}", file=sys.stderr)
    print(report.summary())
    return 0


def open_engine(args: argparse.Namespace, progress: bool = True):
    from .engine import Engine

    engine, report = Engine.open(_settings(args), progress=progress)
    if report is not None:
        print(report.summary(), file=sys.stderr)
    return engine


def cmd_ask(args: argparse.Namespace) -> int:
    from .answer import answer_question

    if not args.question.strip():
        raise CommandError("the question is empty")
    engine = open_engine(args, progress=not args.json)
    answer = answer_question(engine, args.question, max_quotes=args.k)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(answer.answer)
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    rows = [{k: a.get(k) for k in ("file", "title", "date", "language", "content_hash")} for a in engine.data.articles]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        print(f"{row['file']}\t{row['date'] or '-'}\t{row['language']}\t{row['title']}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from .engine import UnknownArticle

    engine = open_engine(args)
    try:
        text = engine.article(args.file)["text"]
    except UnknownArticle:
        raise CommandError(f"no indexed article named {args.file!r}; see: assistant sources") from None
    sys.stdout.write(text)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from .chat import run_chat

    return run_chat(args, _settings(args))


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluation import run_eval_command

    return run_eval_command(args, _settings(args))


def cmd_import_xquad(args: argparse.Namespace) -> int:
    from .xquad import import_command

    return import_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler, help_text: str, corpus: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if corpus:
            p.add_argument("--sources", type=Path, default=None, help="articles folder (default: sources/)")
            p.add_argument("--index", type=Path, default=None, help="index folder (default: index/)")
        p.set_defaults(handler=handler)
        return p

    p = command("index", cmd_index, "build or update the index of the sources folder")
    p.add_argument("--rebuild", action="store_true", help="discard the index and build it from scratch")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = command("ask", cmd_ask, "answer a question with quotes from the articles")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("-k", type=_positive, default=None, help="at most this many quotes (default 3)")

    p = command("sources", cmd_sources, "list the indexed articles and their metadata")
    p.add_argument("--json", action="store_true")

    p = command("show", cmd_show, "print an article's kept text (what quote offsets index into)")
    p.add_argument("file")

    p = command("chat", cmd_chat, "start the web chat")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", default=None, help="USER:PASSWORD (or set ASSISTANT_AUTH)")

    p = command("eval", cmd_eval, "score a question/answer file")
    p.add_argument("file", nargs="?", type=Path)
    p.add_argument("--report", type=Path, default=None, help="write results.jsonl, summary.json, report.html here")
    p.add_argument("-k", type=_positive, default=None, help="quotes per answer (default 3)")
    p.add_argument("--min", action="append", default=[], metavar="METRIC=VALUE",
                   help="exit non-zero when METRIC falls below VALUE (repeatable)")
    p.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"), help="metric differences of two reports")

    p = command("import-xquad", cmd_import_xquad, "turn an XQuAD/SQuAD file into a corpus and a question file",
                corpus=False)
    p.add_argument("xquad", type=Path)
    p.add_argument("--questions", type=Path, default=None, help="parallel file in another language (by id)")
    p.add_argument("--out", type=Path, required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .embedding import ModelError
    from .engine import UnknownArticle
    from .sources import SourceError
    from .store import IndexProblem

    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (CommandError, SourceError, IndexProblem, ModelError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except UnknownArticle as exc:
        print(f"error: unknown article {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # e.g. an --index path that cannot be created or written
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot use{where}: {exc.strerror or exc}", file=sys.stderr)
    except Exception as exc:  # never a traceback for the user; ASSISTANT_DEBUG=1 shows it
        if os.environ.get("ASSISTANT_DEBUG"):
            raise
        message = " ".join(str(exc).split()) or "no details"
        print(f"error: unexpected {type(exc).__name__}: {message} (ASSISTANT_DEBUG=1 shows the traceback)",
              file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
