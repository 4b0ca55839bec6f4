"""What a question must be before it is searched for: one rule for every way a question comes in.

The CLI, the Python API (`Assistant.ask`), the chat page, its `/chat` API, the warm server and
the evaluation's question files all reach `check_question` (through `answering.clean_question`,
or directly where a file is read), so each refuses the same questions with the same message:

- an empty question;
- one longer than `Settings.max_question_chars`: refused, never cut silently (a cut question
  is answered as another question, and a 100,000-character one costs seconds of embedding);
- one that is not valid text (a lone surrogate: an undecodable byte or half a UTF-16 pair);
- one without a single content word: emoji, `" OR 1=1 --`, `$(id)`. Retrieval always finds
  *some* closest sentence, so such input would get three confident-looking quotes.
"""

from __future__ import annotations

import re

from ..ingest.language import ENGLISH, GERMAN, WORD, function_words
from .types import QuestionError

_STOP = function_words(GERMAN) | function_words(ENGLISH)
# A lone surrogate: what Python makes of a byte that is not UTF-8 in a command-line argument
# ($'\xff'), or what a JSON "\ud800" becomes. No encoder takes it (the warm socket, the log,
# the page), so it is refused here rather than failing later with a codec error.
_SURROGATE = re.compile("[\ud800-\udfff]")


class QuestionTooLong(QuestionError):
    """Longer than Settings.max_question_chars."""


class NoContentWords(QuestionError):
    """Nothing in the question to search for."""


def is_content_word(word: str) -> bool:
    """A word that names something: at least one letter, not a function word ("the", "und"), and
    three characters or more, unless it is an acronym ("KI", "EU") or holds a digit ("5G").
    So "id" in `$(id)` and "OR" in `" OR 1=1 --` are not; "Vodacom", "KI" and "5G" are."""
    if not any(ch.isalpha() for ch in word) or word.lower() in _STOP:
        return False
    return len(word) >= 3 or (len(word) == 2 and (word.isupper() or any(ch.isdigit() for ch in word)))


def content_words(text: str) -> list[str]:
    return [w for w in WORD.findall(text) if is_content_word(w)]


def too_long_message(length: int, max_chars: int) -> str:
    return (f"the question is too long: {length:,} characters, at most {max_chars:,}; "
            "ask about one thing at a time")


def check_quote_count(value: object, limit: int) -> int | None:
    """The number of quotes asked for: None (the default) or a whole number from 1 to `limit`;
    QuestionError for anything else. The one rule for the CLI's -k, Python's ask(), the warm
    server and the /chat API: more than the limit is refused, never cut."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise QuestionError(f"the number of quotes must be a whole number from 1 to {limit}, not {str(value)[:20]}")
    return value


def check_question(question: object, max_chars: int, topic: str | None = None) -> str:
    """The question with its whitespace collapsed; QuestionError (with the message to show)
    when it is empty, longer than `max_chars`, or has no content word. A follow-up with none
    ("Und wann?") passes when the conversation's `topic` has them: it is read with the topic."""
    if not isinstance(question, str) or not question.strip():
        raise QuestionError("the question is empty")
    if len(question) > max_chars:  # measured before any copy: a huge question costs nothing more
        length = len(question.strip())
        if length > max_chars:
            raise QuestionTooLong(too_long_message(length, max_chars))
    bad = _SURROGATE.search(question)
    if bad:
        raise QuestionError(f"the question is not valid text: character {bad.start() + 1} is a byte that is not "
                            "UTF-8 (or half of a character pair); type it again in a UTF-8 terminal or page")
    text = " ".join(question.split())
    if not content_words(text) and not (topic and content_words(topic)):
        raise NoContentWords("the question has no words to search for (only symbols, numbers or words such "
                             "as 'the' or 'und'): ask with the names or things it is about")
    return text
