"""Read an evaluation question file (JSONL or CSV), reporting bad rows by line number.

One question per row:

- `question` (required): the question text;
- `answer` (required): a string or a list of acceptable strings; an empty string, an empty
  list or null means the articles do not answer the question and the assistant should abstain;
- `source` (optional): the file name, or a list of file names, of the articles that hold the answer;
- `id` (optional): a name for the row (default: `line-N`);
- any other column (`lang`, `type`, `category`, `notes`, ...) is kept as it is (`EvalRow.extra`):
  it is carried into results.jsonl and `assistant eval --by COLUMN` breaks the metrics down by it.

In CSV the first line names the columns; a list-valued cell of `answer` or `source` is written
as a JSON list (`["65", "65 Prozent"]`); an empty cell of another column means no value. Files
ending in `.csv` are read as CSV, `.jsonl`/`.json`/`.ndjson` as JSON lines; anything else by its
first character (`{` means JSON lines).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

FIELDS = ("id", "question", "answer", "source")
# A row longer than this is skipped unread (a 100 MB line took 209 s and 13.9 GB before); a
# question is at most Settings.max_question_chars, so a good row is far shorter.
MAX_ROW_CHARS = 100_000


class EvalDataError(ValueError):
    """The file cannot be used at all (missing, unreadable, no good rows)."""


@dataclass(frozen=True)
class EvalRow:
    line: int  # where the row starts in the file, 1-based
    id: str
    question: str
    answers: tuple[str, ...]  # empty: the articles do not answer it
    sources: tuple[str, ...]  # empty: not given
    extra: dict = field(default_factory=dict, hash=False)  # the other columns, as written (None: empty)

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class EvalSet:
    path: Path
    format: str  # "jsonl" or "csv"
    rows: list[EvalRow]
    bad: list[BadRow]
    warnings: list[str]
    columns: list[str] = field(default_factory=list)  # the extra columns, in order of appearance
    notes: list[str] = field(default_factory=list)  # worth saying once, not a problem


class _Bad(ValueError):
    pass


def _strings(value, name: str, json_cell: bool = False) -> tuple[str, ...]:
    """A string, a number or a list of them -> stripped, non-empty, de-duplicated strings."""
    if json_cell and isinstance(value, str) and value.strip().startswith("["):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise _Bad(f"{name!r} looks like a JSON list but is not one ({exc.msg})") from exc
    if value is None:
        return ()
    if isinstance(value, bool):
        raise _Bad(f"{name!r} must be a string or a list of strings, not {json.dumps(value)}")
    if isinstance(value, (str, int, float)):
        value = [value]
    if not isinstance(value, list):
        raise _Bad(f"{name!r} must be a string or a list of strings, not a {type(value).__name__}")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise _Bad(f"{name!r} must be a string or a list of strings; it holds {json.dumps(item)}")
        text = str(item).strip()
        if text and text not in out:
            out.append(text)
    return tuple(out)


def _is_text(record: dict) -> bool:
    """False when a value holds a lone surrogate ("\\ud800" in JSON): not text, and it would end
    the run when the results are written."""
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _row(record: dict, line: int, json_cells: bool, max_question_chars: int) -> EvalRow:
    from ..answer.question import check_question
    from ..answer.types import QuestionError

    if not _is_text(record):
        raise _Bad("holds a lone surrogate (such as \\ud800), which is not text")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise _Bad("no question" if question in (None, "") or isinstance(question, str)
                   else f"'question' must be a string, not {json.dumps(question)}")
    try:  # the rule every question is asked under (answer/question.py)
        check_question(question, max_question_chars)
    except QuestionError as exc:
        raise _Bad(str(exc)) from None
    if "answer" not in record:
        raise _Bad("no 'answer' (write [] or \"\" when the articles do not answer the question)")
    answers = _strings(record["answer"], "answer", json_cells)
    sources = _strings(record.get("source"), "source", json_cells)
    ident = record.get("id")
    if isinstance(ident, bool) or not isinstance(ident, (str, int, type(None))):
        raise _Bad(f"'id' must be a string or a number, not {json.dumps(ident)}")
    ident = str(ident).strip() if ident is not None and str(ident).strip() else f"line-{line}"
    extra = {k: (None if json_cells and v == "" else v) for k, v in record.items() if k not in FIELDS}
    return EvalRow(line=line, id=ident, question=" ".join(question.split()), answers=answers, sources=sources,
                   extra=extra)


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as exc:
        raise EvalDataError(f"no such question file: {path}") from exc
    except IsADirectoryError as exc:
        raise EvalDataError(f"{path} is a folder, not a question file") from exc
    except UnicodeDecodeError as exc:
        raise EvalDataError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise EvalDataError(f"cannot read {path}: {exc.strerror}") from exc


def detect_format(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    return "jsonl" if text.lstrip().startswith("{") else "csv"


def _too_long(number: int, length: int) -> BadRow:
    return BadRow(number, f"{length:,} characters, more than the {MAX_ROW_CHARS:,} a row may have: skipped unread")


def _jsonl(text: str, max_question_chars: int) -> tuple[list[EvalRow], list[BadRow], list[str]]:
    rows, bad = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if len(line) > MAX_ROW_CHARS:
            bad.append(_too_long(number, len(line)))
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            bad.append(BadRow(number, f"unreadable JSON ({getattr(exc, 'msg', exc)})"))
            continue
        if not isinstance(record, dict):
            bad.append(BadRow(number, f"expected a JSON object, got a {type(record).__name__}"))
            continue
        try:
            rows.append(_row(record, number, False, max_question_chars))
        except _Bad as exc:
            bad.append(BadRow(number, str(exc)))
    return rows, bad, []


def _csv(text: str, max_question_chars: int) -> tuple[list[EvalRow], list[BadRow], list[str]]:
    """Rows of a CSV file. Quotes are read strictly: a quotation mark that is never closed (or
    closed in the wrong place) makes its row bad, and reading goes on at the next line, so it
    cannot swallow the rows after it; a quoted cell that does run over several lines is kept
    but named in a warning."""
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows, bad, warnings = [], [], []
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
    except csv.Error as exc:
        return [], [BadRow(reader.line_num, f"unreadable CSV ({exc})")], []
    if header is None:
        return [], [], []
    header_line = reader.line_num
    # The four known columns are matched case-insensitively; other names are kept as written.
    columns = [c.strip().lower() if c.strip().lower() in FIELDS else c.strip() for c in header]
    duplicated = sorted({c for c in columns if c and columns.count(c) > 1})
    if duplicated or "question" not in columns:
        reason = (f"repeated column(s) {', '.join(map(repr, duplicated))}" if duplicated
                  else "no 'question' column")
        return [], [BadRow(header_line, f"header: {reason}; the columns are {', '.join(FIELDS)} "
                                        "and any others you like")], []
    offset, previous_end = 0, header_line  # offset: lines before the text the reader reads
    while True:
        start = previous_end + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            bad.append(BadRow(start, f"unreadable CSV ({exc}): a quotation mark that is not closed, or not "
                                     "where a cell ends? The lines after it are read as rows of their own"))
            offset = previous_end = start
            reader = csv.reader(io.StringIO("".join(lines[start:]), newline=""), strict=True)
            continue
        previous_end = offset + reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if previous_end > start and any("\n" in cell or "\r" in cell for cell in cells):
            warnings.append(f"line {start}: a quoted cell runs on to line {previous_end}; check its quotation marks "
                            "if that row was not meant to hold line breaks")
        if sum(map(len, cells)) > MAX_ROW_CHARS:
            bad.append(_too_long(start, sum(map(len, cells))))
            continue
        if len(cells) > len(columns):
            bad.append(BadRow(start, f"{len(cells)} cells but the header names {len(columns)} columns"))
            continue
        record = {c: cell for c, cell in zip(columns, cells) if c}  # a column with no name is ignored
        try:
            rows.append(_row(record, start, True, max_question_chars))
        except _Bad as exc:
            bad.append(BadRow(start, str(exc)))
    return rows, bad, warnings


def load_eval_set(path: Path, max_question_chars: int | None = None) -> EvalSet:
    """The good rows and the bad ones; raises EvalDataError when there is no good row. A row whose
    question would be refused (answer/question.py, with `max_question_chars`, by default the
    Settings default) is a bad row."""
    path = Path(path)
    if max_question_chars is None:
        from ..config import Settings

        max_question_chars = Settings.max_question_chars
    text = _read_text(path)
    fmt = detect_format(path, text)
    rows, bad, warnings = (_csv if fmt == "csv" else _jsonl)(text, max_question_chars)
    if not rows:
        if bad:
            listed = "; ".join(str(b) for b in bad[:5]) + ("; ..." if len(bad) > 5 else "")
            raise EvalDataError(f"{path}: no usable question, {len(bad)} bad row(s): {listed}")
        raise EvalDataError(f"{path}: no questions in the file")
    seen: dict[str, int] = {}
    for row in rows:
        if row.id in seen:
            warnings.append(f"line {row.line}: id {row.id!r} repeats line {seen[row.id]}")
        seen.setdefault(row.id, row.line)
    columns = list(dict.fromkeys(k for row in rows for k in row.extra))
    notes = [f"extra column(s) {', '.join(map(repr, columns))} kept: carried into results.jsonl; "
             f"break the metrics down with --by {columns[0]}"] if columns else []
    return EvalSet(path=path, format=fmt, rows=rows, bad=bad, warnings=warnings, columns=columns, notes=notes)
