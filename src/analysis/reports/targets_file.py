"""The target plan's files, ready for ``sales-analysis ingest targets``: a CSV with the canonical
headers and a workbook in the run's language (in Chinese the 任务分解表), its headers, sheet name,
levels and measures the catalogue's labels ``target_plan.file.*``, each one a header or value the
ingest reads.

Examples
--------
>>> names = write_targets(scope, ctx.output_path)  # doctest: +SKIP
>>> names["xlsx"]  # doctest: +SKIP
'targets_2026-11.xlsx'
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..excel import neutralise
from ..i18n import DEFAULT_LANG, label, name_label

#: the columns of the targets files, in order
TARGET_FILE_COLUMNS = ("period", "level", "key", "measure", "value")


def write_targets(scope: Any, path_for: Callable[[str], Path]) -> dict[str, str]:
    """Write the targets of the plan's month as CSV (canonical headers) and XLSX
    (:func:`write_targets_xlsx` in the run's language).

    Parameters
    ----------
    scope : analysis.target_plan.Scope
        What the target plan's ``prepare`` returned.
    path_for : callable
        File name → path in the run folder (``ctx.output_path`` in a notebook).

    Returns
    -------
    dict
        ``{"csv": name, "xlsx": name}``, the names relative to the run folder.
    """
    from ..target_plan import targets_file_names

    names = targets_file_names(scope)
    t = scope.plan.targets
    csv_path = Path(path_for(names["csv"]))
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = csv_path.with_name(csv_path.name + ".tmp")
    out = t.copy()
    out["value"] = [plain_number(v) for v in out["value"]]
    out.to_csv(tmp, index=False, encoding="utf-8-sig")
    tmp.replace(csv_path)
    write_targets_xlsx(t, Path(path_for(names["xlsx"])), scope.unit, getattr(scope.params, "lang", DEFAULT_LANG))
    return names


def plain_number(v: float) -> Any:
    """An integer when the value is whole, else the float to 10 significant digits."""
    return int(v) if float(v).is_integer() else float(f"{v:.10g}")


def write_targets_xlsx(targets: pd.DataFrame, path: Path, unit: float = 1.0, lang: str = DEFAULT_LANG) -> Path:
    """The targets workbook: one sheet, the five columns of :data:`TARGET_FILE_COLUMNS` under the
    headers of ``lang`` (in Chinese: 月份, 层级, 对象, 指标, 目标值), levels and measures in its
    words; the header row frozen; written to a temporary file, then renamed.

    Parameters
    ----------
    targets : pandas.DataFrame
        ``period, level, key, measure, value`` rows.
    path : Path
    unit : float, default 1.0
        The rounding unit of the plan (whole numbers are shown without decimals).
    lang : str
        A language with a catalogue.
    """
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = label("target_plan.file.sheet", lang)
    ws.append([label(f"target_plan.file.column.{c}", lang) for c in TARGET_FILE_COLUMNS])
    for r in targets.itertuples(index=False):
        ws.append([r.period, name_label("target_plan.file.level", r.level, lang), neutralise(str(r.key)),
                   name_label("target_plan.file.measure", r.measure, lang), plain_number(r.value)])
    fmt = "#,##0" if float(unit).is_integer() else "#,##0.00"
    for cell in ws["E"][1:]:
        cell.number_format = fmt
    for cell in ws["A"][1:]:
        cell.number_format = "@"
    ws.freeze_panes = "A2"
    for letter, width in zip("ABCDE", (10, 10, 18, 8, 16)):
        ws.column_dimensions[letter].width = width
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.xlsx")
    wb.save(tmp)
    tmp.replace(path)
    return path
