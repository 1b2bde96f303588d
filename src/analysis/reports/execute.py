"""Executing a report notebook, and checking that it really ran.

papermill runs the notebook in a kernel started from *this* Python (``sys.executable -m
ipykernel_launcher``): a run needs no registered Jupyter kernel, and the kernel always has the
same packages as the command that started it. :func:`check_executed` then looks at every code
cell, because papermill does not notice a cell that called ``sys.exit(0)``, a cell timeout that
nbclient turned into an interrupt, or a kernel that died.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping

from .. import store as store_mod

KERNEL_NAME = "sales-analysis"
"""The kernel name written into executed notebooks (and registered by ``sales-analysis kernel install``
for JupyterLab); runs do not look it up."""


def kernel_spec() -> Any:
    """A kernel spec for a Python kernel of the running interpreter.

    Examples
    --------
    >>> kernel_spec().argv[:3] == [sys.executable, "-m", "ipykernel_launcher"]
    True
    """
    from jupyter_client.kernelspec import KernelSpec

    return KernelSpec(
        argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        display_name="Python (sales-analysis)",
        language="python",
        metadata={"debugger": False},
    )


def kernel_manager_class(extra_env: Mapping[str, str], ipc_dir: str | None = None) -> type:
    """A kernel manager class for one run.

    Its kernel is this interpreter (:func:`kernel_spec`, whatever kernel name is asked for),
    started with ``extra_env`` added to the environment (per run, thread-safe: ``os.environ`` of
    this process is not touched). With ``ipc_dir`` the kernel talks over Unix sockets in that
    private folder instead of TCP ports.
    """
    from jupyter_client.manager import AsyncKernelManager

    class RunKernelManager(AsyncKernelManager):
        def __init__(self, **kw: Any) -> None:
            if ipc_dir:
                kw.setdefault("transport", "ipc")
                kw.setdefault("ip", os.path.join(ipc_dir, "k"))
            super().__init__(**kw)
            self._kernel_spec = kernel_spec()

        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            env = dict(os.environ)
            env.update(kw.pop("env", None) or {})
            env.update(extra_env)
            kw["env"] = env
            await AsyncKernelManager.start_kernel(self, **kw)

    return RunKernelManager


def execute_notebook(
    notebook: Path,
    output: Path,
    parameters: dict[str, Any],
    env: Mapping[str, str],
    timeout: int,
    progress: bool,
) -> BaseException | None:
    """Execute ``notebook`` into ``output`` with papermill.

    Returns
    -------
    BaseException or None
        What papermill raised (inspected by :func:`check_executed`), None when it returned.
    """
    import logging

    import papermill as pm

    logging.getLogger("papermill").setLevel(logging.WARNING)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    # a short private folder for the kernel's sockets (Unix socket paths are limited to ~100 bytes)
    ipc_dir = tempfile.mkdtemp(prefix="sa-k-") if os.name == "posix" else None
    try:
        pm.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            execution_timeout=timeout,
            progress_bar=progress,
            request_save_on_cell_execute=True,
            log_output=False,
            cwd=None,  # papermill's cwd chdirs the whole process; the kernel gets it below instead
            resources={"metadata": {"path": str(store_mod.project_root())}},
            kernel_manager_class=kernel_manager_class(env, ipc_dir),
        )
    except BaseException as exc:  # noqa: BLE001 - every way a run can end is inspected later
        if isinstance(exc, KeyboardInterrupt):
            raise
        return exc
    finally:
        if ipc_dir:
            shutil.rmtree(ipc_dir, ignore_errors=True)
    return None


def cell_label(nb: Any, index: int) -> int:
    """1-based position of cell ``index`` in the source notebook (the injected cell not counted)."""
    added = {"injected-parameters", "papermill-error-cell-tag"}  # cells papermill inserted
    inserted = [i for i, c in enumerate(nb.cells) if added & set(c.get("metadata", {}).get("tags", []))]
    return index + 1 - sum(1 for i in inserted if i < index)


def first_line(text: str) -> str:
    """The first line of ``text`` without ANSI colours.

    Examples
    --------
    >>> first_line("\\x1b[31mValueError\\x1b[0m: x\\nmore")
    'ValueError: x'
    """
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(text or "")).strip()
    return text.splitlines()[0] if text else ""


def check_executed(nb: Any, exc: BaseException | None = None, timeout: int | None = None) -> tuple[int | None, str | None]:
    """Find the first problem in an executed notebook.

    A code cell is a problem when it has an ``error`` output, or when it never ran
    (no execution_count: the run stopped early through sys.exit(), a dead kernel or a timeout).
    ``exc`` (what papermill raised) refines the message.

    Returns
    -------
    (int or None, str or None)
        The cell number (1-based, as in the source notebook) and one line of error, or
        ``(None, None)`` when every cell ran cleanly.
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue  # nbclient skips empty cells
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            e = errors[0]
            ename, evalue = e.get("ename", "Error"), first_line(e.get("evalue", ""))
            if isinstance(exc, CellTimeoutError) or (ename == "KeyboardInterrupt" and exc is not None):
                return cell_label(nb, i), f"the cell timed out after {timeout} s (execution_timeout)"
            if ename == "SystemExit":
                return cell_label(nb, i), f"the cell called sys.exit({evalue}); the remaining cells did not run"
            return cell_label(nb, i), f"{ename}: {evalue}" if evalue else ename
        if cell.get("execution_count") is None:
            # a cell that never finished. When the run was stopped (dead kernel, timeout), the
            # culprit is the last cell papermill started (its start_time is set), which may already
            # have an execution count if the kernel died after acknowledging it.
            if exc is not None:
                started = [
                    j for j, c in enumerate(nb.cells)
                    if c.cell_type == "code" and c.get("metadata", {}).get("papermill", {}).get("start_time")
                ]
                if started:
                    i = started[-1]
            if isinstance(exc, DeadKernelError):
                why = "the kernel died while the cell ran (killed, os._exit or out of memory)"
            elif isinstance(exc, CellTimeoutError):
                why = f"the cell timed out after {timeout} s (execution_timeout)"
            elif exc is not None:
                why = f"{type(exc).__name__}: {first_line(str(exc))}"
            else:
                why = "the cell did not run (the run ended early)"
            return cell_label(nb, i), why
    if exc is not None:
        return None, f"{type(exc).__name__}: {first_line(str(exc))}"
    return None, None


def last_executed_cell(nb: Any) -> int | None:
    """Index of the last code cell with an execution count (the cell running when a run stopped)."""
    last = None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.get("execution_count") is not None:
            last = i
    return last
