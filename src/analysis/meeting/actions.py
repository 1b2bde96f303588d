"""Action points (改善行动点), a closed loop from one monthly meeting to the next.

The month's summary flags items for action: the regions furthest off plan
(``attainment_by_level``, rows flagged ``action``) and the reps below target several months
running (``underperformers``). :func:`flagged_items` turns them into rows — item kind, key,
name, its figure, the threshold it is measured against, the owner — and the pack writes them
to the 改善行动点 sheet of its workbook (:func:`write_workbook`) with two columns left blank to
fill: the action and its due date.

The filled sheet comes back with ``sales-analysis ingest actions FILE`` (the ``actions``
contract of :mod:`analysis.contracts`: one row per meeting month, item kind and key). The
next month's pack opens with those rows beside each item's figure now
(:func:`review_previous`): recovered to the threshold or not. An action for an item that no
longer exists (a region renamed, a rep who left) is shown with status ``not_found``, never
dropped.

Figures are attainments (actual ÷ target) of the month, computed by the trends report's own
functions (:func:`analysis.trends.attainment_by_level`, :func:`analysis.trends.rep_attainment`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Iterable, Sequence

import pandas as pd

from ..i18n import label, message
from ..periods import add_months, parse_month
from ..sections import Column, Kind, SectionResult, Table

__all__ = ["ITEM_KINDS", "COLUMNS", "STATUSES", "flagged_items", "write_workbook", "previous_actions",
           "review_previous", "actions_table", "PreviousActions", "TABLE"]

TABLE = "actions"
"""The store table the filled sheet is ingested into."""
ITEM_KINDS = ("region", "rep")
"""The kinds of item a pack flags: a region off plan, a rep below target months running."""
COLUMNS = ("meeting_month", "item_kind", "item_key", "item", "figure", "threshold", "owner", "action", "due_date")
"""The sheet's columns, in order (headers: the labels ``meeting.actions.column.<name>``)."""
STATUSES = ("recovered", "not_recovered", "not_found")
"""How an item stands a month later (labels ``meeting.actions.status.<code>``)."""


# ------------------------------------------------------------------ flagging items
def _finite(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f if math.isfinite(f) else math.nan


def flagged_items(sections: Iterable[SectionResult], month: str) -> pd.DataFrame:
    """The items the month's summary flags for action, one row each (columns :data:`COLUMNS`).

    Parameters
    ----------
    sections : iterable of SectionResult
        The sales trends sections of the month (``attainment_by_level`` and
        ``underperformers`` are read; the others are ignored).
    month : str
        The meeting month, "YYYY-MM".

    Returns
    -------
    pandas.DataFrame
        Regions flagged ``action`` (figure: the month's attainment, threshold: the share of
        the month elapsed, 100 % for a complete month), then reps below target (figure: the
        last month's attainment, threshold: the report's threshold). ``action`` and
        ``due_date`` are empty.
    """
    first = parse_month(month, "month", "flagged_items")
    rows: list[dict[str, Any]] = []
    for s in sections:
        if s.skip is not None:
            continue
        if s.code == "attainment_by_level" and getattr(s, "level", None) == "region":
            df = getattr(s, "table", pd.DataFrame())
            if df.empty or "action" not in df.columns:
                continue
            threshold = _finite(getattr(s, "time_elapsed", 1.0))
            for r in df[df["action"].astype(bool)].itertuples(index=False):
                rows.append({"item_kind": "region", "item_key": str(r.key), "item": str(r.key),
                             "figure": _finite(r.attainment), "threshold": 1.0 if math.isnan(threshold) else threshold,
                             "owner": str(r.key)})
        elif s.code == "underperformers":
            df = getattr(s, "table", pd.DataFrame())
            if df.empty:
                continue
            months = [c for c in df.columns if isinstance(c, str) and len(c) == 7 and c[4] == "-"]
            last = max(months) if months else None
            for r in df.to_dict("records"):
                name = r.get("name")
                name = str(r["rep_id"]) if name is None or (isinstance(name, float) and math.isnan(name)) else str(name)
                rows.append({"item_kind": "rep", "item_key": str(r["rep_id"]), "item": name,
                             "figure": _finite(r.get(last)) if last else math.nan,
                             "threshold": _finite(getattr(s, "threshold", math.nan)), "owner": name})
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("meeting_month", "action", "due_date")])
    out.insert(0, "meeting_month", first)
    out["action"] = None
    out["due_date"] = None
    return out[list(COLUMNS)]


# ------------------------------------------------------------------ the workbook
def actions_table(items: pd.DataFrame) -> Table:
    """The 改善行动点 rows as a :class:`Table` (headers ``meeting.actions.column.<name>``)."""
    kinds = {"meeting_month": Kind.MONTH, "item_kind": Kind.CODE, "item_key": Kind.TEXT, "item": Kind.TEXT,
             "figure": Kind.RATE, "threshold": Kind.RATE, "owner": Kind.TEXT, "action": Kind.TEXT,
             "due_date": Kind.DATE}
    return Table("actions", items, [
        Column(c, kinds[c], f"meeting.actions.column.{c}", codes="meeting.actions.kind" if c == "item_kind" else None)
        for c in COLUMNS])


def write_workbook(path: str | Path, items: pd.DataFrame, lang: str, about: dict[str, Any] | None = None,
                   extra: Sequence[tuple[str, Table]] = ()) -> Path:
    """Write the pack's workbook: the 改善行动点 sheet first (the blank action and due-date
    columns ready to fill, a date check on the due date), then ``extra`` tables (next month's
    targets), then the about sheet.

    Parameters
    ----------
    path : path
        The .xlsx to write (written to a temporary name, then renamed).
    items : pandas.DataFrame
        :func:`flagged_items`' rows.
    lang : str
        The language of the headers and of the item kinds.
    about : dict, optional
        The about sheet's items (:func:`analysis.excel.write_workbook`).
    extra : sequence of (str, Table)
        Further sheets: (title, table).

    Returns
    -------
    Path
    """
    from openpyxl import load_workbook
    from openpyxl.worksheet.datavalidation import DataValidation

    from .. import excel

    path = Path(path)
    excel.write_workbook(path, about or {"report": "meeting"},
                         [(label("meeting.actions.sheet", lang), actions_table(items)), *extra], lang)
    wb = load_workbook(path)
    about_sheet = wb.worksheets[0]
    wb.move_sheet(about_sheet, offset=len(wb.worksheets) - 1)
    wb.active = 0
    ws = wb.worksheets[0]
    due = "I"
    for cell in ws[due][1:]:
        cell.number_format = "yyyy-mm-dd"
    if ws.max_row > 1:
        dv = DataValidation(type="date", operator="greaterThan", formula1="DATE(2000,1,1)", allow_blank=True)
        ws.add_data_validation(dv)
        dv.add(f"{due}2:{due}{ws.max_row}")
    ws.column_dimensions["H"].width = 40
    tmp = path.with_name(path.name + ".tmp.xlsx")
    wb.save(tmp)
    tmp.replace(path)
    return path


# ------------------------------------------------------------ last month's actions
def previous_actions(con: Any, month: str) -> pd.DataFrame | None:
    """The action points ingested for the meeting before ``month`` (None: no ``actions`` table).

    Rows of the ``actions`` table whose ``meeting_month`` is the month before ``month``, in
    the order of kind then key.
    """
    from .. import store

    if not store.has_table(con, TABLE):
        return None
    prev = add_months(parse_month(month, "month", "previous_actions"), -1)
    t = con.table(TABLE)
    df = t.filter(t.meeting_month == prev).execute()
    for c in COLUMNS:
        if c not in df.columns:
            df[c] = None
    kinds = {k: i for i, k in enumerate(ITEM_KINDS)}
    df = df.assign(_k=df["item_kind"].map(kinds).fillna(len(kinds))).sort_values(["_k", "item_key"])
    return df.drop(columns="_k").reset_index(drop=True)[list(COLUMNS)]


def _figures_now(con: Any, month: str) -> dict[tuple[str, str], float]:
    """(kind, key) → the month's attainment, for regions and reps (trends' own definitions)."""
    from .. import trends
    from ..params import SalesTrendsParams

    scope = trends.prepare(con, SalesTrendsParams.of(month=month, level="region"))
    out: dict[tuple[str, str], float] = {}
    reg = trends.attainment_by_level(scope, "region")
    if reg.skip is None and not reg.table.empty:
        out.update({("region", str(k)): _finite(a) for k, a in zip(reg.table["key"], reg.table["attainment"])})
    p = scope.period
    reps = trends.rep_attainment(scope, p.start, p.end)
    if reps is not None and not reps.empty:
        out.update({("rep", str(k)): _finite(a) for k, a in zip(reps["rep_id"], reps["attainment"])})
    return out


@dataclass(kw_only=True)
class PreviousActions(SectionResult):
    """Last month's action points beside each item's figure now (the pack's opening section)."""

    report: ClassVar[str] = "meeting"
    default_code: ClassVar[str] = "previous_actions"

    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    month: str = ""

    def metrics(self) -> dict[str, Any]:
        counts = self.table["status"].value_counts().to_dict() if "status" in self.table else {}
        return {"previous_actions": int(len(self.table)),
                **{f"previous_actions_{s}": int(counts.get(s, 0)) for s in STATUSES}}


def review_previous(con: Any, month: str) -> PreviousActions | None:
    """Last month's ingested action points with each item's figure in ``month`` and whether it
    recovered to its threshold (None when no actions were ingested for the month before).

    Parameters
    ----------
    con : Ibis backend
    month : str
        The meeting month, "YYYY-MM".
    """
    prev = previous_actions(con, month)
    if prev is None or prev.empty:
        return None
    now = _figures_now(con, month)
    df = prev.copy()
    df["figure_now"] = [now.get((str(k), str(key)), math.nan) for k, key in zip(df["item_kind"], df["item_key"])]
    found = [(str(k), str(key)) in now for k, key in zip(df["item_kind"], df["item_key"])]
    df["status"] = [
        "not_found" if not f else ("recovered" if _finite(v) >= _finite(t) else "not_recovered")
        for f, v, t in zip(found, df["figure_now"], df["threshold"])
    ]
    df["kind_label"] = df["item_kind"]
    res = PreviousActions(table=df, month=month)
    res.tables.append(Table("previous_actions", df, [
        Column("kind_label", Kind.CODE, "meeting.actions.column.item_kind", codes="meeting.actions.kind"),
        Column("item", Kind.TEXT, "meeting.actions.column.item"),
        Column("owner", Kind.TEXT, "meeting.actions.column.owner"),
        Column("action", Kind.TEXT, "meeting.actions.column.action"),
        Column("due_date", Kind.DATE, "meeting.actions.column.due_date"),
        Column("figure", Kind.RATE, "meeting.actions.column.figure"),
        Column("threshold", Kind.RATE, "meeting.actions.column.threshold"),
        Column("figure_now", Kind.RATE, "meeting.actions.column.figure_now"),
        Column("status", Kind.CODE, "meeting.actions.column.status", codes="meeting.actions.status"),
    ]))
    return res


def summary_text(res: PreviousActions) -> list[Any]:
    """The sentence above the table: how many of last month's items recovered."""
    from ..i18n import Msg

    m = res.metrics()
    return [Msg("meeting.actions.summary", {"n": m["previous_actions"], "recovered": m["previous_actions_recovered"],
                                            "not_recovered": m["previous_actions_not_recovered"],
                                            "not_found": m["previous_actions_not_found"]})]

