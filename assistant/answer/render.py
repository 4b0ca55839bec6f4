"""The answer as plain text, in the question's language (the chat renders HTML from the same
structured quotes in web/view.py)."""

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
METADATA = {"en": "The page's metadata names the author: {value} ({title}, {source}, page metadata, not the text)",
            "de": "Die Metadaten der Seite nennen als Autor: {value} ({title}, {source}, Seiten-Metadaten, nicht der Text)"}
IN_LANGUAGE = {"en": {"de": "in German", "en": "in English"}, "de": {"de": "auf Deutsch", "en": "auf Englisch"}}
CHARS = {"en": "characters", "de": "Zeichen"}


def headline(language: str, abstained: bool) -> str:
    """The answer's first line: the framing of the quotes, or the refusal."""
    return (ABSTAIN if abstained else FRAMING)[language]


def citation(quote: Quote, language: str) -> str:
    date = f", {quote.date}" if quote.date else ""
    return f"[{quote.number}] {quote.title}{date} ({quote.source}, {CHARS[language]} {quote.start}-{quote.end})"


def short_answer_line(language: str, short: ShortAnswer, quotes: list[Quote]) -> str:
    """"65 Prozent [1]", with the source's language when it is not the question's."""
    quote = next((q for q in quotes if q.number == short.quote), None)
    other = f" ({IN_LANGUAGE[language][quote.language]})" if quote and quote.language != language else ""
    return f"{short.text} [{short.quote}]{other}"


def render(language: str, quotes: list[Quote], abstained: bool, short: ShortAnswer | None = None,
           metadata: MetadataCitation | None = None) -> str:
    if metadata is not None:
        return METADATA[language].format(value=", ".join(metadata.value), title=metadata.title,
                                         source=metadata.source)
    if abstained:
        return headline(language, True)
    lines = [short_answer_line(language, short, quotes), ""] if short else []
    lines.append(headline(language, False))
    lines += [f'[{q.number}] "{q.text}"' for q in quotes]
    lines += ["", SOURCES_HEADING[language]]
    lines += [citation(q, language) for q in quotes]
    return "\n".join(lines)
