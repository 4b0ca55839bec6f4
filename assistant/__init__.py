"""Question answering over news articles with verbatim, cited quotes.

    from assistant import Assistant
    answer = Assistant().ask("What share of Vodacom does Vodafone own?")

The names below are imported on first use (PEP 562), not with the package: `assistant.core`
imports torch (1-2 s), and the command line, whose `--help` and warm `ask` need none of it,
imports this package first.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .answer.types import Answer, QuestionError, Quote, ShortAnswer
    from .config import Settings
    from .core import Assistant, UnknownArticle

_WHERE = {"Answer": ".answer.types", "QuestionError": ".answer.types", "Quote": ".answer.types",
          "ShortAnswer": ".answer.types", "Settings": ".config", "Assistant": ".core", "UnknownArticle": ".core"}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    """`assistant.Assistant` and the other public names, imported when first asked for."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
