"""Shared fixtures. The demo world is built once per test session (scale 1, seed 42)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory):
    """(store path, truth dict) of the default demo world, built into a temp folder.

    Set SALES_ANALYSIS_TEST_STORE to reuse an existing store (with its demo_truth.json beside it).
    """
    from analysis import demo

    reuse = os.environ.get("SALES_ANALYSIS_TEST_STORE")
    if reuse:
        store = Path(reuse)
        truth = json.loads((store.parent / "demo_truth.json").read_text(encoding="utf-8"))
        return store, truth
    d = tmp_path_factory.mktemp("demo")
    store = d / "warehouse.duckdb"
    truth_path = d / "demo_truth.json"
    demo.build(store=str(store), seed=42, scale=1.0, truth_path=truth_path)
    return store, json.loads(truth_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def demo_con(demo_world):
    """A read-only Ibis connection to the session's demo world."""
    from analysis import store

    con = store.connect(str(demo_world[0]), read_only=True)
    yield con
    con.disconnect()
