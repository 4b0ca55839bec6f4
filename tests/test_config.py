"""assistant/config.py: the answer policy lives beside the reader weights it was fitted to, with
the digest of those weights and the first-stage thresholds it assumes; a mismatch is refused."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.config import (READER_WEIGHTS_DIR, AbstentionPolicy, ConfigError, Settings, ShortAnswerGate,
                              load_reader_policy, weights_digest, write_reader_policy)
from assistant.environment import settings_from_env
from assistant.models.reader.lazy import LazyReader


def test_the_shipped_policy_was_fitted_to_the_shipped_weights():
    policy = Settings().reader_policy
    assert policy.reader_weights_sha256 == weights_digest(READER_WEIGHTS_DIR)
    assert policy.first_stage_thresholds == (Settings().abstention.threshold,
                                             Settings().abstention.threshold_cross_language)


def test_a_policy_round_trips_through_its_file(tmp_path: Path):
    policy = replace(Settings().reader_policy, refuse_below=0.5, weights=(1.0, 2.0, 3.0, 4.0, 5.0),
                     short_answer=(ShortAnswerGate("de", 0.6, 3.0), ShortAnswerGate("en", 0.2, 1.0)))
    write_reader_policy(policy, tmp_path)
    assert load_reader_policy(tmp_path) == policy


def test_the_short_answer_bar_is_the_quote_languages_own():
    policy = replace(Settings().reader_policy,
                     short_answer=(ShortAnswerGate("de", 0.6, 3.0), ShortAnswerGate("en", 0.2, 1.0)))
    assert policy.allows_short_answer("en", 0.3, 1.5)
    assert not policy.allows_short_answer("de", 0.3, 1.5)  # the German bar is higher
    assert not policy.allows_short_answer("de", 0.7, 2.0)  # sure of the quote, not of the span
    assert policy.allows_short_answer("de", 0.7, 3.0)
    assert not policy.allows_short_answer("fr", 0.99, 9.0)  # never measured: never a short answer


def test_a_policy_naming_a_language_twice_is_refused():
    with pytest.raises(ConfigError, match="names a language twice"):
        replace(Settings().reader_policy, short_answer=(ShortAnswerGate("de", 0.6, 3.0), ShortAnswerGate("de", 0.2, 1.0)))


def test_the_shipped_policy_has_a_short_answer_bar_for_german_and_english():
    policy = Settings().reader_policy
    assert {gate.language for gate in policy.short_answer} == {"de", "en"}


def test_other_weights_are_refused_before_they_are_loaded(tmp_path: Path):
    other = tmp_path / "weights"
    shutil.copytree(READER_WEIGHTS_DIR, other)
    data = bytearray((other / "reader.safetensors").read_bytes())
    data[-1] ^= 1  # one bit of one weight: another model as far as the policy knows
    (other / "reader.safetensors").write_bytes(bytes(data))
    reader = LazyReader(lambda: tmp_path / "no-base-needed", other,
                        fitted_to=Settings().reader_policy.reader_weights_sha256)
    with pytest.raises(Exception, match="the answer policy was fitted to reader weights .*fit_answer_policy"):
        reader.model  # noqa: B018


def test_first_stage_thresholds_other_than_the_policy_assumes_are_refused():
    moved = replace(AbstentionPolicy(), threshold=1.0)
    with pytest.raises(ConfigError, match="fitted with first-stage thresholds"):
        Settings(abstention=moved)


def test_other_reader_weights_bring_their_own_policy(tmp_path: Path):
    with pytest.raises(ConfigError, match="no answer policy at"):
        settings_from_env({"ASSISTANT_READER_WEIGHTS": str(tmp_path)})
    fitted = replace(Settings().reader_policy, keep_share=0.5)
    write_reader_policy(fitted, tmp_path)
    settings = settings_from_env({"ASSISTANT_READER_WEIGHTS": str(tmp_path)})
    assert settings.reader_weights == tmp_path and settings.reader_policy == fitted
