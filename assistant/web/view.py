"""HTML for the web chat: answer messages, the sources panel and the article view.

Every piece of article, question or file-name text goes through `html.escape` here and nowhere
else builds HTML from it, so an article holding `<script>` shows as text and runs nothing.
Citations are links `#cite:START:END:FILE[:ASTART:AEND]`; a click handler in the page (static/cite.js) turns
them into an "open this article at this quote" event.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote as url_quote

from typing import NamedTuple

from ..answer.render import CONFLICT, carries_own_marks, headline, in_language, metadata_sentence
from ..answer.types import Answer, Quote, ShortAnswer
from ..ingest.sources import Article

CONTEXT_CHARS = 220  # shown on each side of a quote in the sources panel

TEXT = {
    "en": {"related": "Closest passages — not an answer", "sources": "Sources", "open": "open article",
           "resolved": "Understood as", "searching": "Searching the articles…", "quote": "quote",
           "source_in": "source", "agrees": "agrees with",
           "copy": "Copy", "copy_title": "Copy the answer as plain text"},
    "de": {"related": "Nächste Passagen — keine Antwort", "sources": "Quellen", "open": "Artikel öffnen",
           "resolved": "Verstanden als", "searching": "Suche in den Artikeln…", "quote": "Zitat",
           "source_in": "Quelle", "agrees": "bestätigt",
           "copy": "Kopieren", "copy_title": "Die Antwort als reinen Text kopieren"},
}
LANGUAGE_NAMES = {"de": "German", "en": "English"}
LANGUAGE_NAMES_DE = {"de": "Deutsch", "en": "Englisch"}


def _t(language: str, key: str) -> str:
    return TEXT.get(language, TEXT["en"])[key]


def _text(value: str) -> str:
    """Escaped text whose line breaks survive the chat's markdown step (no blank lines)."""
    return escape(value).replace("\r", "").replace("\n", "&#10;")


class Cite(NamedTuple):
    """A parsed citation link: the quote's span, and the short answer's span inside it if any."""

    file: str
    start: int
    end: int
    answer: tuple[int, int] | None = None


def _answer_span(quote: Quote, short: ShortAnswer | None) -> tuple[int, int] | None:
    """The short answer's article span when it lies inside this quote (same article, within it)."""
    if short is None or short.quote != quote.number or short.source != quote.source:
        return None
    return (short.start, short.end) if quote.start <= short.start < short.end <= quote.end else None


def _with_answer(text: str, start: int, end: int, answer: tuple[int, int] | None) -> str:
    """text[start:end] escaped, the short answer's span in it (when inside) in mark.answer; the
    visible text stays text[start:end] character for character."""
    if answer is None or not start <= answer[0] < answer[1] <= end:
        return _text(text[start:end])
    a, b = answer
    return f'{_text(text[start:a])}<mark class="answer">{_text(text[a:b])}</mark>{_text(text[b:end])}'


def cite_href(quote: Quote, short: ShortAnswer | None = None) -> str:
    """#cite:START:END:FILE, plus :ASTART:AEND when the quote holds the short answer."""
    href = f"#cite:{quote.start}:{quote.end}:{url_quote(quote.source, safe='')}"
    span = _answer_span(quote, short)
    return href + (f":{span[0]}:{span[1]}" if span else "")


def parse_cite(value: str) -> Cite | None:
    """The citation link's tail "START:END:FILE[:ASTART:AEND]", None when malformed."""
    from urllib.parse import unquote

    parts = (value or "").removeprefix("#cite:").split(":")
    if len(parts) not in (3, 5) or not all(p.isdigit() for p in parts[:2] + parts[3:]):
        return None
    answer = (int(parts[3]), int(parts[4])) if len(parts) == 5 else None
    return Cite(unquote(parts[2]), int(parts[0]), int(parts[1]), answer)


def sentence(message: str) -> str:
    """A library message ("the question is empty") as a sentence on the page."""
    return message[:1].upper() + message[1:]


def user_message(question: str) -> str:
    return f'<div class="q">{_text(question)}</div>'


def searching_message(language: str) -> str:
    return f'<span class="status">{escape(_t(language, "searching"))}</span>'


def _citation_link(quote: Quote, short: ShortAnswer | None = None) -> str:
    return (f'<a class="cite" href="{escape(cite_href(quote, short))}" title="{escape(quote.title)}">'
            f'[{quote.number}]</a>')


def _quote_text(quote: Quote, short: ShortAnswer | None) -> str:
    """The quote escaped, the short answer inside it marked; the visible text stays the exact span."""
    span = _answer_span(quote, short)
    shifted = (span[0] - quote.start, span[1] - quote.start) if span else None
    return _with_answer(quote.text, 0, len(quote.text), shifted)


def _quote_line(quote: Quote, short: ShortAnswer | None = None, language: str = "en", with_title: bool = False) -> str:
    """Quotation marks are added around the exact span unless it carries its own (render.py)."""
    title = f' <span class="quote-title">— {escape(quote.title)}</span>' if with_title else ""
    marked = "" if carries_own_marks(quote.text) else " marks"
    agrees = (f' <span class="agrees">{escape(_t(language, "agrees"))} [{quote.confirms}]</span>'
              if quote.confirms is not None else "")
    return (f'<div class="quote">{_citation_link(quote, short)} '
            f'<span class="qt{marked}">{_quote_text(quote, short)}</span>{agrees}{title}</div>')


def _short_answer_line(answer: Answer) -> str:
    """The answer first: the short answer, its citation, and the source's language when it differs."""
    short = answer.short_answer
    quote = next((q for q in answer.quotes if q.number == short.quote), None)
    link = _citation_link(quote, short) if quote else f"[{short.quote}]"
    note = in_language(answer.language, quote.language) if quote is not None else None
    other = (f' <span class="in-language">({escape(_t(answer.language, "source_in"))} {escape(note)})</span>'
             if note else "")
    return f'<div class="short-answer"><span class="sa-text">{_text(short.text)}</span> {link}{other}</div>'


def _conflict_block(answer: Answer) -> str:
    """The articles disagree: render.py's sentence, then each different answer with its citation,
    its article's title and date (newest first, as answering.py ordered them), all escaped."""
    lines = []
    for side in answer.sides:
        quote = next((q for q in answer.quotes if q.number == side.quote), None)
        link = _citation_link(quote, side) if quote else f"[{side.quote}]"
        source = f"{quote.title}, {quote.date}" if quote and quote.date else (quote.title if quote else side.source)
        lines.append(f'<li><span class="sa-text">{_text(side.text)}</span> {link} '
                     f'<span class="side-source">— {_text(source)}</span></li>')
    return (f'<div class="conflict"><div class="conflict-head">{_text(CONFLICT[answer.language])}</div>'
            f'<ul>{"".join(lines)}</ul></div>')


def _side_of(answer: Answer, quote: Quote) -> ShortAnswer | None:
    """The conflict's side shown in this quote (its answer is marked there like a short answer)."""
    return next((side for side in answer.sides if side.quote == quote.number), None)


def _metadata_line(answer: Answer) -> str:
    """An author known only from the page's metadata: render.py's sentence, and the article to open."""
    cited = answer.metadata
    text = metadata_sentence(answer.language, cited)
    href = f"#cite:0:0:{url_quote(cited.source, safe='')}"  # an empty span: the article opens unmarked
    return (f'<div class="framing metadata">{_text(text)}</div><div class="sources"><div class="src">'
            f'<a class="cite" href="{escape(href)}">{escape(cited.title)}</a> '
            f'<span class="file">({escape(cited.source)})</span></div></div>')


def _by_article(quotes: list[Quote]) -> dict[str, list[Quote]]:
    """The quotes per article file, articles in the order of their first quote."""
    groups: dict[str, list[Quote]] = {}
    for q in quotes:
        groups.setdefault(q.source, []).append(q)
    return groups


def _source_line(quotes: list[Quote], language: str, short: ShortAnswer | None = None) -> str:
    """One article: title, date, authors, language, the numbers of its quotes; the file name small."""
    first = quotes[0]
    names = LANGUAGE_NAMES_DE if language == "de" else LANGUAGE_NAMES
    details = [first.date, ", ".join(first.authors), names.get(first.language, first.language)]
    meta = "".join(f", {escape(x)}" for x in details if x)
    links = " ".join(_citation_link(q, short) for q in quotes)
    return (f'<div class="src">{links} <span class="src-title">{escape(first.title)}</span>{meta} '
            f'<span class="file">({escape(first.source)})</span></div>')


def copy_button(answer: Answer) -> str:
    """A button and the plain-text answer (render.py) beside it, hidden: copying gives text with
    numbered citations. The text is an element, not a data- attribute: the chat's sanitizer drops those."""
    return (f'<div class="copy-row"><button type="button" class="copy-answer" '
            f'title="{escape(_t(answer.language, "copy_title"))}">{escape(_t(answer.language, "copy"))}</button>'
            f'<span class="copy-text">{_text(answer.answer)}</span></div>')


def answer_chunks(answer: Answer, resolved: str | None = None) -> list[str]:
    """The answer message in the order it is streamed; the copy button comes with the last piece."""
    chunks = _answer_pieces(answer, resolved)
    chunks[-1] += copy_button(answer)
    return chunks


def _answer_pieces(answer: Answer, resolved: str | None) -> list[str]:
    """The short answer, framing, each quote, the sources; or the refusal and the closest passages."""
    language = answer.language
    head = ""
    if resolved:
        head = f'<div class="resolved">{escape(_t(language, "resolved"))}: “{_text(resolved)}”</div>'
    if answer.metadata is not None:
        return [head + _metadata_line(answer)]
    if answer.abstained:
        chunks = [f'{head}<div class="abstain">{_text(headline(language, True))}</div>']
        if answer.related:
            lines = "".join(_quote_line(q, None, language, with_title=True) for q in answer.related)
            chunks.append(f'<div class="related"><div class="related-head">{escape(_t(language, "related"))}'
                          f'</div>{lines}</div>')
        return chunks
    if answer.short_answer is not None:
        head += _short_answer_line(answer)
    if answer.conflict:
        head += _conflict_block(answer)
    short = answer.short_answer
    chunks = [f'{head}<div class="framing">{_text(headline(language, False))}</div>']
    chunks += [_quote_line(q, _side_of(answer, q) or short, language) for q in answer.quotes]
    chunks.append(f'<div class="sources"><div class="sources-head">{escape(_t(language, "sources"))}:</div>'
                  f'{"".join(_source_line(qs, language, short) for qs in _by_article(answer.quotes).values())}</div>')
    return chunks


def _context(text: str, start: int, end: int, answer: tuple[int, int] | None = None) -> str:
    """The passage around a quote, the quote itself marked (and the short answer in it); cut at
    spaces, with ellipses."""
    left = max(0, start - CONTEXT_CHARS)
    right = min(len(text), end + CONTEXT_CHARS)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    before = ("…" if left > 0 else "") + text[left:start]
    after = text[end:right] + ("…" if right < len(text) else "")
    return f'{_text(before)}<mark>{_with_answer(text, start, end, answer)}</mark>{_text(after)}'


def sources_panel(answer: Answer | None, articles: dict[str, Article]) -> str:
    """Per cited article: title, date, language, file, then each quote in its passage."""
    if answer is None:
        return ('<div class="panel-empty">Ask a question: the articles that answer it appear here, '
                'with each quote marked in its passage.</div>')
    quotes = answer.related if answer.abstained else answer.quotes
    if not quotes:
        return f'<div class="panel-empty">{_text(answer.answer)}</div>'
    parts = []
    short = None if answer.abstained else answer.short_answer
    if answer.abstained:
        parts.append(f'<div class="related-head">{escape(_t(answer.language, "related"))}</div>')
    for file, file_quotes in _by_article(quotes).items():
        article = articles.get(file)
        text = article.text if article else ""
        first = file_quotes[0]
        language = LANGUAGE_NAMES.get(first.language, first.language)
        meta = " · ".join(escape(x) for x in (first.date or "no date", language, file))
        passages = "".join(f'<div class="passage">{_citation_link(q, short)} '
                           f'{_context(text, q.start, q.end, _answer_span(q, short))}</div>'
                           for q in file_quotes)
        kind = " related" if answer.abstained else ""
        parts.append(f'<div class="card{kind}"><a class="card-title" href="{escape(cite_href(first))}">'
                     f'{escape(first.title)}</a><div class="meta">{meta}</div>{passages}</div>')
    return f'<div class="scroll-box">{"".join(parts)}</div>'


def _marked_body(text: str, start: int, end: int, answer: tuple[int, int] | None) -> str:
    """The article escaped, the quote in mark#hl and the short answer, when inside it, in mark.answer."""
    quote = _with_answer(text, start, end, answer)
    return f'{_text(text[:start])}<mark id="hl" class="hl">{quote}</mark>{_text(text[end:])}'


def article_view(article: Article, start: int | None = None, end: int | None = None,
                 answer: tuple[int, int] | None = None) -> str:
    """The whole article, the chosen quote marked (id="hl") so the page can scroll to it."""
    text = article.text
    meta = " · ".join(escape(x) for x in (article.date or "no date",
                                           LANGUAGE_NAMES.get(article.language, article.language),
                                           article.file))
    if start is not None and end is not None and 0 <= start < end <= len(text):
        body = _marked_body(text, start, end, answer)
    else:
        body = _text(text)
    return (f'<div class="article scroll-box"><h3>{escape(article.title)}</h3><div class="meta">{meta}</div>'
            f'<div class="article-text">{body}</div></div>')


def empty_article_view() -> str:
    return '<div class="panel-empty">Click a citation [n] or a source to read the whole article here.</div>'


def upload_report(lines: list[tuple[bool, str]]) -> str:
    """One line per file: ok (green) or refused (red), each message escaped."""
    return "".join(f'<div class="{"ok" if ok else "err"}">{"✓" if ok else "✗"} {escape(msg)}</div>'
                   for ok, msg in lines)


def library_list(articles) -> str:
    """Every indexed article, one line each: what the Library tab lists before a removal."""
    if not articles:
        return '<div class="panel-empty">No article is indexed yet: add some in the Add articles tab.</div>'
    rows = []
    for a in articles:
        details = [a.date or "no date", LANGUAGE_NAMES.get(a.language, a.language), ", ".join(a.authors)]
        meta = " · ".join(escape(x) for x in details if x)
        rows.append(f'<div class="lib-item"><span class="lib-title">{escape(a.title)}</span>'
                    f'<div class="meta">{meta} <span class="file">({escape(a.file)})</span></div></div>')
    count = f'<div class="lib-count">{len(articles)} article{"s" if len(articles) != 1 else ""} indexed</div>'
    return f'<div class="library scroll-box">{count}{"".join(rows)}</div>'


def removal_report(ok: bool, message: str) -> str:
    """The Library tab's status line, escaped like the upload report."""
    return upload_report([(ok, message)])


def pending_report(message: str) -> str:
    """A step that waits for the person (a removal to confirm): neither done (✓) nor failed (✗)."""
    return f'<div class="pending">⚠ {escape(message)}</div>'


def read_only_note(action: str) -> str:
    """Where adding or removing articles is not allowed: what to start the chat with instead."""
    return (f'<div class="panel-empty">This chat is read-only: {escape(action)} needs the chat to be started '
            'with <code>--edit</code> (anyone who can reach it) or <code>--edit-password PASSWORD</code>.</div>')
