"""Running report notebooks and exporting them for managers.

One module per concern, papermill-style:

| module | concern |
|---|---|
| :mod:`~analysis.reports.params` | ``-p``/``-f``/mapping → a validated parameter model checked against the store, the notebook to run, ``--help`` |
| :mod:`~analysis.reports.execute` | the kernel run, and the checks papermill misses |
| :mod:`~analysis.reports.sanitize` | the allow-list HTML sanitiser |
| :mod:`~analysis.reports.export` | executed notebook → one self-contained HTML page, no machine paths |
| :mod:`~analysis.reports.pdf` | the page → PDF with headless Chromium (``--pdf``) |
| :mod:`~analysis.reports.outputs` | output folders: names, periods, atomic replacement |
| :mod:`~analysis.reports.index` | ``index.html``: runs by report, headline figures, history charts, failed and missing reports |
| :mod:`~analysis.reports.run` | one run (:func:`run_report`) |
| :mod:`~analysis.reports.batch` | schedules, ``for_each``, worker processes, the batch log (:func:`run_batch`) |

``from analysis import reports`` gives the public names of all of them.
"""
from __future__ import annotations

from .batch import ForEach, Job, format_event, load_schedule, run_batch, store_values, worker_main
from .execute import KERNEL_NAME, check_executed, execute_notebook, kernel_manager_class, kernel_spec
from .export import export_html, redact_paths, strip_for_export
from .index import HEADLINES, Figure, Headline, write_index
from .outputs import TMP_DIRNAME, read_json, run_period, safe_component
from .params import (
    notebook_path, packaged_notebooks, papermill_parameters, parameter_help, parse_assignments, prepare_parameters,
    report_spec,
)
from .pdf import find_chromium, write_pdf
from .run import DEFAULT_TIMEOUT, RunResult, run_report, show_progress
from .sanitize import sanitize_html

__all__ = [
    "DEFAULT_TIMEOUT", "HEADLINES", "KERNEL_NAME", "TMP_DIRNAME", "Figure", "ForEach", "Headline", "Job",
    "RunResult", "check_executed", "execute_notebook", "export_html", "find_chromium", "kernel_manager_class",
    "kernel_spec", "load_schedule", "notebook_path", "packaged_notebooks", "papermill_parameters",
    "parameter_help", "parse_assignments", "prepare_parameters", "read_json", "redact_paths", "report_spec", "run_batch",
    "run_period", "run_report", "safe_component", "sanitize_html", "show_progress", "store_values",
    "strip_for_export", "format_event", "worker_main", "write_index", "write_pdf",
]
