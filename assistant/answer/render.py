"""The answer's words, in the question's language: the plain-text answer (`render`) and the
pieces the chat page shows (web/view.py escapes them and wraps them in HTML; it words nothing
itself), so the text answer, Copy and the page always say the same.
"""

from __future__ import annotations

from .types import MetadataCitation, Quote, ShortAnswer

FRAMING = {
    "en": "The articles say:",
    "de": "Die Artikel sagen dazu:",
}
ABSTAIN = {
    "en": "The articles do not answer this question.",
    "de": "Die Artikel beantworten diese Frage nicht.",
}
SOURCES_HEADING = {"en": "Sources:", "de": "Quellen:"}
CONFLICT = {"en": "The articles disagree:", "de": "Die Artikel widersprechen sich:"}
METADATA = {"en": "The page's metadata names the author: {value} ({title}, {source}, page metadata, not the text)",
            "de": "Die Metadaten der Seite nennen als Autor: {value} ({title}, {source}, Seiten-Metadaten, nicht der Text)"}
IN_LANGUAGE = {"en": {"de": "in German", "en": "in English"}, "de": {"de": "auf Deutsch", "en": "auf Englisch"}}
CHARS = {"en": "characters", "de": "Zeichen"}


def headline(language: str, abstained: bool) -> str:
    """The answer's first line: the framing of the quotes, or the refusal."""
    return (ABSTAIN if abstained else FRAMING)[language]


# Characters that open or close a quotation. A quote whose own text starts or ends with one
# already shows where it begins or ends, so no marks are added around it (`"„Das ..." sagte er"`
# would show doubled marks).
QUOTE_MARKS = "\"'“”„‚‘’«»‹›"


def carries_own_marks(text: str) -> bool:
    return text[:1] in QUOTE_MARKS or text[-1:] in QUOTE_MARKS


def quoted(text: str) -> str:
    """The quote's exact text in quotation marks, unless it carries its own."""
    return text if carries_own_marks(text) else f'"{text}"'


def quote_line(quote: Quote) -> str:
    return f"[{quote.number}] {quoted(quote.text)}"


def in_language(language: str, source_language: str) -> str | None:
    """"in German" / "auf Englisch" when the source is in another language than the answer."""
    if source_language == language:
        return None
    names = IN_LANGUAGE.get(language, IN_LANGUAGE["en"])
    return names.get(source_language, source_language)


def metadata_sentence(language: str, cited: MetadataCitation) -> str:
    """An author known only from the page's metadata, and where that came from."""
    return METADATA.get(language, METADATA["en"]).format(value=", ".join(cited.value), title=cited.title,
                                                         source=cited.source)


def citation(quote: Quote, language: str) -> str:
    date = f", {quote.date}" if quote.date else ""
    return f"[{quote.number}] {quote.title}{date} ({quote.source}, {CHARS[language]} {quote.start}-{quote.end})"


def short_answer_line(language: str, short: ShortAnswer, quotes: list[Quote]) -> str:
    """"65 Prozent [1]", with the source's language when it is not the question's."""
    quote = next((q for q in quotes if q.number == short.quote), None)
    note = in_language(language, quote.language) if quote else None
    return f"{short.text} [{short.quote}]" + (f" ({note})" if note else "")


def side_source(side: ShortAnswer, quotes: list[Quote]) -> str:
    """The title and date of the article a conflict's side comes from."""
    quote = next((q for q in quotes if q.number == side.quote), None)
    if quote is None:
        return side.source
    return f"{quote.title}, {quote.date}" if quote.date else quote.title


def conflict_lines(language: str, sides: list[ShortAnswer], quotes: list[Quote]) -> list[str]:
    """"The articles disagree:", then each different answer with its quote number, title and date."""
    return [CONFLICT[language]] + [f"- {short_answer_line(language, side, quotes)} — {side_source(side, quotes)}"
                                   for side in sides]


def render(language: str, quotes: list[Quote], abstained: bool, short: ShortAnswer | None = None,
           metadata: MetadataCitation | None = None, sides: list[ShortAnswer] | None = None) -> str:
    """The answer as plain text: the short answer, or the conflict's sides; the quotes; the sources."""
    if metadata is not None:
        return metadata_sentence(language, metadata)
    if abstained:
        return headline(language, True)
    lines = [short_answer_line(language, short, quotes), ""] if short else []
    if sides:
        lines += conflict_lines(language, sides, quotes) + [""]
    lines.append(headline(language, False))
    lines += [quote_line(q) for q in quotes]
    lines += ["", SOURCES_HEADING[language]]
    lines += [citation(q, language) for q in quotes]
    return "\n".join(lines)
