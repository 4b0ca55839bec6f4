"""Question answering over news articles with verbatim, cited quotes.

    from assistant import Assistant
    answer = Assistant().ask("What share of Vodacom does Vodafone own?")
"""

from .answer.types import Answer, QuestionError, Quote, ShortAnswer
from .config import Settings
from .core import Assistant, UnknownArticle

__all__ = ["Answer", "Assistant", "QuestionError", "Quote", "Settings", "ShortAnswer", "UnknownArticle"]
