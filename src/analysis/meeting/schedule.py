"""What a schedule needs from the meeting pack: a ``report: meeting`` entry and ``for_each: launch``.

``analysis.reports.batch`` calls these (see docs/MEETING.md, "Schedules"):

- :func:`check_params` when it loads a ``report: meeting`` entry (before anything runs);
- :func:`run_scheduled` in the worker process that runs it (a ``RunResult`` like any report's);
- :func:`launch_runs` to expand ``for_each: launch`` (or ``{launch: MONTH}``) on a
  ``launch_review`` entry into one run per launch whose first window ended in the month.

Examples
--------
>>> check_params({"month": "2026-10"}, "entry 4 of monthly.yml")
{'month': '2026-10', 'lang': 'zh', 'pdf': None}
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping

from ..errors import ParameterError
from ..i18n import DEFAULT_LANG, languages
from ..periods import parse_month
from .launches import launch_params, launches_ending

__all__ = ["PARAMS", "check_params", "run_scheduled", "launch_month", "launch_runs", "is_launch_for_each"]

PARAMS = ("month", "lang", "pdf")
"""The parameters of a ``report: meeting`` entry."""


def check_params(params: Mapping[str, Any] | None, where: str = "the meeting entry") -> dict[str, Any]:
    """The parameters of a ``report: meeting`` schedule entry, checked and typed.

    ``month``: "last" (default) or "YYYY-MM"; ``lang``: a catalogue language (default zh);
    ``pdf``: true/false (default: the batch's ``--pdf``).

    Raises
    ------
    ParameterError
        An unknown parameter or a wrong value, in one line.
    """
    params = dict(params or {})
    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise ParameterError(f"The params of {where} (report meeting) must be among {', '.join(PARAMS)}. "
                             f"Got {unknown} instead.")
    month = str(params.get("month", "last")).strip() or "last"
    if month.lower() != "last":
        month = parse_month(month, "month", f"{where} (report meeting)").strftime("%Y-%m")
    else:
        month = "last"
    lang = str(params.get("lang", DEFAULT_LANG))
    if lang not in languages():
        raise ParameterError(f"The 'lang' of {where} (report meeting) must be one of {', '.join(languages())}. "
                             f"Got {lang!r} instead.")
    pdf = params.get("pdf")
    if isinstance(pdf, str):
        if pdf.lower() not in ("true", "false", "yes", "no"):
            raise ParameterError(f"The 'pdf' of {where} (report meeting) must be true or false. Got {pdf!r} instead.")
        pdf = pdf.lower() in ("true", "yes")
    return {"month": month, "lang": lang, "pdf": None if pdf is None else bool(pdf)}


def run_scheduled(params: Mapping[str, Any], store: str | None, out: str | Path, pdf: bool = False,
                  name: str = "meeting") -> Any:
    """Build the pack for a schedule entry and report it as a :class:`analysis.reports.run.RunResult`
    (ok when the pack was written; missing parts are notes, not a failure)."""
    from ..reports.run import RunResult
    from .pack import build_pack

    p = check_params(params)
    t0 = time.monotonic()
    try:
        pack = build_pack(month=p["month"], store=store, out=out, lang=p["lang"],
                          pdf=pdf if p["pdf"] is None else p["pdf"])
    except Exception as exc:  # noqa: BLE001 - reported in the batch's summary table
        line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return RunResult(report="meeting", name=name, ok=False, parameters=dict(params),
                         error=f"{type(exc).__name__}: {line}", seconds=round(time.monotonic() - t0, 1))
    notes = [f"missing: {t.render('en')}: {r.render('en')}" for t, r in pack.missing]
    if pack.pdf_note and pack.pdf is None and (pdf or p["pdf"]):
        notes.append(pack.pdf_note)
    return RunResult(report="meeting", name=name, ok=True, parameters=dict(params), period=pack.month,
                     out_dir=pack.folder, html=pack.html, metrics=pack.record, pdf=pack.pdf, notes=notes,
                     seconds=round(time.monotonic() - t0, 1))


def is_launch_for_each(value: Any) -> bool:
    """True for ``for_each: launch`` and ``for_each: {launch: MONTH}``."""
    return value == "launch" or (isinstance(value, Mapping) and set(value) == {"launch"})


def launch_month(con: Any, value: Any) -> str:
    """The month of a ``for_each: launch`` ("last", the default, is the last complete month of the data)."""
    from .pack import resolve_month

    month = value.get("launch") if isinstance(value, Mapping) else "last"
    return resolve_month(con, str(month or "last"))


def launch_runs(con: Any, value: Any, params: Mapping[str, Any], name: str | None = None,
                report: str = "launch_review") -> list[tuple[str, dict[str, Any]]]:
    """``for_each: launch`` expanded: ``(name, params)`` per launch whose first window ended in
    the month, the name ``<name or report>_<sku>`` (or ``name`` with ``{sku}`` replaced), the
    parameters the entry's with ``sku``, ``launch_date`` and ``window_days`` set.

    Raises
    ------
    ParameterError
        A report other than launch_review, or an entry that names a ``sku`` or ``brand`` itself.
    """
    if report != "launch_review":
        raise ParameterError(f"The 'for_each: launch' of a schedule entry needs report launch_review. Got {report!r} instead.")
    if params.get("sku") or params.get("brand"):
        raise ParameterError("The 'for_each: launch' of a schedule entry chooses the sku itself; "
                             f"remove sku/brand from its params. Got {dict(params)!r} instead.")
    window = int(params.get("window_days", 30))
    month = launch_month(con, value)
    out = []
    for la in launches_ending(con, month, window):
        base = name or report
        run_name = base.replace("{sku}", la.sku_id) if "{sku}" in base else f"{base}_{la.sku_id}"
        out.append((run_name, {**dict(params), **launch_params(la, window)}))
    return out
