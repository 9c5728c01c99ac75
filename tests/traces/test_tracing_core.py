"""The framework-free rules: run metadata, the merge, and the span headers."""

from __future__ import annotations

import logging

import pytest

from portkey_integrations._adapters.tracing import merge_metadata, run_metadata, trace_options


def test_run_metadata_rules(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "portkey_integrations")
    got = run_metadata(
        {
            "env": "prod",
            "n": 2,
            "ratio": 0.5,
            "flag": False,
            "_user": "u",
            "_private": "x",
            "ls_provider": "portkey",
            "langgraph_step": 1,
            "checkpoint_ns": "a",
            "thread_id": "t",
            "list": [1],
            "long": "y" * 129,
            "edge": "z" * 128,
        }
    )
    assert got == {
        "env": "prod",
        "n": "2",
        "ratio": "0.5",
        "flag": "false",
        "_user": "u",
        "thread_id": "t",
        "edge": "z" * 128,
    }
    assert "'list' left out" in caplog.text and "'long' left out" in caplog.text


def test_model_metadata_wins_and_empty_run_adds_nothing() -> None:
    assert merge_metadata({"a": "run", "b": "run"}, {"a": "model"}) == {"a": "model", "b": "run"}
    assert merge_metadata({"ls_x": "y"}, {"a": "model"}) is None


def test_span_name_is_kept_ascii() -> None:
    headers = trace_options(trace_id="t", span_id="s", span_name="café\nrun").headers()
    assert headers["x-portkey-span-name"] == "caf??run"
    assert headers["x-portkey-trace-id"] == "t" and "x-portkey-parent-span-id" not in headers
