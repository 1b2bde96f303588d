"""Shared fixtures. The demo world is built once per test session (scale 1, seed 42)."""
from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PG_SH = ROOT / "scripts" / "pg.sh"


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


# --------------------------------------------------------------------------- servers


def _free_port(start: int = 54329) -> int:
    for port in range(start, start + 50):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port for PostgreSQL")


@pytest.fixture(scope="session")
def pg_url():
    """URL of a throwaway PostgreSQL server, started for this session and stopped after."""
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb") and not shutil.which("initdb"):
        pytest.skip("PostgreSQL is not installed (make test installs it: scripts/sysdeps.sh postgresql)")
    # Under /tmp itself: the server may run as the 'postgres' user, who cannot enter pytest's
    # root-only temp folders.
    d = tempfile.mkdtemp(prefix="sa-pg-")
    port = _free_port()
    proc = subprocess.run(["bash", str(PG_SH), "start", d, str(port)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    url = proc.stdout.strip().splitlines()[-1]
    try:
        yield url
    finally:
        subprocess.run(["bash", str(PG_SH), "stop", d], capture_output=True, timeout=120)
        shutil.rmtree(d, ignore_errors=True)
