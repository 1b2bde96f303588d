"""Re-execute the committed report notebooks in place, on the demo world, with default parameters.

The notebooks in notebooks/ are committed executed so an analyst opening them sees a full worked
example, and so nbval (``make test``) can check that a fresh run gives the same outputs. Run this
after a deliberate change of output (``make notebooks``), then review the diff of the paired
percent scripts and the notebooks.

What it does, for each notebooks/*.ipynb (or the notebooks named on the command line):
1. executes it with nbclient in the ``sales-analysis`` kernel, working directory notebooks/
   (as nbval does), with the default store (``$SALES_ANALYSIS_STORE`` or data/warehouse.duckdb)
   and metrics.json written to a temporary folder (not into the repo);
2. (before executing, syncs from the paired .py, so edits made there are taken up)
   refuses to write it back if any cell raised an error, or if anything was printed on stderr
   (nbval compares stderr, so it must stay clean);
3. writes it back without volatile metadata (no timing, no papermill metadata) and
4. syncs the jupytext pair (notebooks/X.py, percent format; see jupytext.toml).

Usage: .venv/bin/python scripts/execute_notebooks.py [notebooks/X.ipynb ...] [--timeout 900]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
KERNEL = "sales-analysis"


def execute_in_place(path: Path, timeout: int = 900) -> list[str]:
    """Execute ``path`` and write it back if clean; return the problems found (empty if none)."""
    nb = nbformat.read(str(path), as_version=4)
    from analysis.reports import kernel_manager_class

    with tempfile.TemporaryDirectory(prefix="nbexec-") as tmp:
        # metrics.json goes to a temporary folder, not into the repo; the kernel talks over
        # private Unix sockets (no TCP port)
        env = {"SALES_ANALYSIS_METRICS": str(Path(tmp) / "metrics.json")}
        client = NotebookClient(
            nb,
            kernel_name=KERNEL,
            timeout=timeout,
            record_timing=False,
            allow_errors=True,
            resources={"metadata": {"path": str(path.parent)}},
            kernel_manager_class=kernel_manager_class(env, tmp if os.name == "posix" else None),
        )
        client.execute()
    problems = []
    for i, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"cell {i}: {out.get('ename')}: {str(out.get('evalue', '')).splitlines()[:1]}")
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                problems.append(f"cell {i}: wrote to stderr: {out.get('text', '')[:200]!r}")
        if cell.source.strip() and cell.get("execution_count") is None:
            problems.append(f"cell {i}: did not run")
    nb.metadata.pop("papermill", None)
    if not problems:
        nbformat.write(nb, str(path))
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--timeout", type=int, default=900, help="per-cell timeout in seconds")
    ap.add_argument("--no-sync", action="store_true", help="do not sync the jupytext pairs")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    failed = 0
    for p in paths:
        p = p.resolve()
        jupytext = Path(sys.executable).with_name("jupytext")
        if not args.no_sync:  # take up edits made to the paired .py first
            subprocess.run([str(jupytext), "--sync", str(p)], check=True, cwd=ROOT)
        print(f"executing {os.path.relpath(p, ROOT)} …", flush=True)
        problems = execute_in_place(p, args.timeout)
        if problems:
            failed += 1
            print(f"  NOT written back ({len(problems)} problem(s)):")
            for msg in problems:
                print(f"  - {msg}")
        else:
            print("  ok")
        if not args.no_sync:
            subprocess.run([str(jupytext), "--sync", str(p)], check=True, cwd=ROOT)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
