"""Staff and pay snapshots: one row per person, read from a file or the store's ``hr_snapshot``
table (:func:`read_snapshot`, :func:`load_snapshot`), or derived from the store's reps and
compensation independently of the panel (:func:`snapshot_from_store`).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Sequence

import ibis
import pandas as pd
from pandas.api.types import is_object_dtype, is_string_dtype

from .. import store
from ..errors import ParameterError
from ..periods import month_start as _month_start
from ..sections import Note
from .data import (
    CATEGORICAL_CONTROLS, DAYS_PER_MONTH, HEADLINE_MONTHS, RetentionData, headline_window_start,
    _lump_small_levels, _resolve, _table, _to_date,
)
from .panel import _bool_int, data_bounds, _rep_attainment


SNAPSHOT_ALIASES = {
    "person_id": ("person_id", "employeenumber", "employee_number", "employee_id", "emp_id", "id", "员工编号", "工号"),
    "tenure": ("tenure", "yearsatcompany", "years_at_company", "tenure_months", "tenure_years", "司龄", "工龄"),
    "left": ("left", "attrition", "exited", "is_left", "离职", "是否离职"),
}


def snapshot_from_store(con: Any, as_of: Any = "", window_months: int = HEADLINE_MONTHS) -> pd.DataFrame:
    """An hr_snapshot (one row per person) derived from the store's reps and compensation.

    Computed independently of the panel, from reps directly in the engine: the people
    employed at any time in the ``window_months`` to ``as_of``; ``tenure`` in months
    (hire day to exit day or as_of, both counted), ``left`` (exit in the window),
    region, role, and the person's mean features over the window months before the exit
    month (the exit month's attainment and pay fall with the exit itself).

    Examples
    --------
    >>> snap = snapshot_from_store(con, "2026-10-31")  # doctest: +SKIP
    >>> snap.columns[:3].tolist()  # doctest: +SKIP
    ['person_id', 'tenure', 'left']
    """
    data_start, data_end = data_bounds(con)
    as_of_d = _to_date(as_of, "as_of") or data_end
    w_start = headline_window_start(as_of_d, data_start, window_months)
    reps = _table(con, "reps", required=("rep_id", "hire_date"))
    ex = reps.exit_date.cast("date") if "exit_date" in reps.columns else ibis.null("date")
    r = reps.mutate(_exit=ibis.ifelse(ex > as_of_d, ibis.null("date"), ex), _hire=reps.hire_date.cast("date"))
    r = r.filter(r._hire <= as_of_d, r._exit.isnull() | (r._exit >= w_start))
    end = ibis.coalesce(r._exit, ibis.literal(as_of_d, type="date"))
    # the exit month's attainment and pay fall with the exit itself: its months are left out
    exit_month = r.select(person_id=r.rep_id, _exit_month=r._exit.truncate("M"))

    def before_exit(t: Any, id_col: str) -> Any:
        j = t.left_join(exit_month, t[id_col] == exit_month.person_id)
        j = j.filter(j._exit_month.isnull() | (j.period < j._exit_month))
        return j.select(*t.columns)

    r = r.select(
        person_id=r.rep_id,
        tenure=(end.delta(r._hire, unit="day") + 1).cast("float64") / DAYS_PER_MONTH,
        left=r._exit.notnull(),
        region=r.region if "region" in reps.columns else ibis.null("string"),
        role=r.role if "role" in reps.columns else ibis.null("string"),
        exit_reason=r.exit_reason if "exit_reason" in reps.columns else ibis.null("string"),
    )
    if store.has_rows(con, "compensation"):
        c = con.table("compensation")
        c = c.filter(c.period >= _month_start(w_start), c.period <= as_of_d)
        c = before_exit(c.mutate(period=c.period.cast("date")), "rep_id")
        ind, team = c.individual_bonus.cast("float64"), c.team_bonus.cast("float64")
        feats = c.group_by(person_id=c.rep_id).aggregate(
            team_bonus_share=ibis.ifelse((ind + team) > 0, team / (ind + team), 0.0).mean(),
            payout_delay_days=ibis.greatest(c.paid_date.delta(c.due_date, unit="day").cast("float64"), 0.0).mean(),
            training_hours=c.training_hours.cast("float64").mean(),
            bonus_per_month=(ind + team).mean(),
            promoted_last_12m=_bool_int(c.promoted).max().cast("float64"),
        )
        r = r.left_join(feats, "person_id").drop("person_id_right")
    att = _rep_attainment(con, _month_start(w_start), as_of_d)
    if att is not None:
        att = before_exit(att, "rep_id")
        a = att.group_by(person_id=att.rep_id).aggregate(attainment=att.attainment.mean())
        r = r.left_join(a, "person_id").drop("person_id_right")
    out = r.to_pandas().sort_values("person_id").reset_index(drop=True)
    out["left"] = out["left"].astype(bool)
    return out


def _find_col(df: pd.DataFrame, names: Sequence[str]) -> str | None:
    lower = {str(c).strip().lower(): c for c in df.columns}
    for n in names:
        if n.lower() in lower:
            return lower[n.lower()]
    return None


def _as_bool(s: pd.Series) -> pd.Series:
    if s.dtype == bool:
        return s
    txt = s.astype(str).str.strip().str.lower()
    mapping = {"yes": True, "y": True, "true": True, "1": True, "1.0": True, "是": True, "离职": True,
               "no": False, "n": False, "false": False, "0": False, "0.0": False, "否": False, "在职": False}
    out = txt.map(mapping)
    if out.isna().any():
        bad = s[out.isna()].iloc[0]
        raise ParameterError(f"The 'left' column of the snapshot must be bool or Yes/No. Got {bad!r} instead.")
    return out.astype(bool)


def read_snapshot(source: Any, tenure_unit: str = "years") -> pd.DataFrame:
    """Read an hr_snapshot from a file path or the store's ``hr_snapshot`` table.

    Columns are found by name, case-insensitively, with aliases (EmployeeNumber →
    person_id, YearsAtCompany → tenure, Attrition → left). ``left`` may be bool, 0/1 or
    Yes/No; tenure is converted to months. Yes/No covariates become 0/1.

    Examples
    --------
    >>> snap = read_snapshot("WA_Fn-UseC_-HR-Employee-Attrition.csv", tenure_unit="years")  # doctest: +SKIP
    """
    if tenure_unit not in ("years", "months"):
        raise ParameterError(f"The 'tenure_unit' parameter must be 'years' or 'months'. Got {tenure_unit!r} instead.")
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise ParameterError(f"The 'snapshot' parameter must be an existing file. Got {str(source)!r} instead.")
        suf = path.suffix.lower()
        if suf in (".xlsx", ".xls"):
            df = pd.read_excel(path)
        elif suf == ".parquet":
            df = pd.read_parquet(path)
        else:
            try:
                df = pd.read_csv(path)
            except UnicodeDecodeError:
                df = pd.read_csv(path, encoding="gbk")
    else:
        t = _table(source, "hr_snapshot", required=())
        df = t.to_pandas()  # one row per person: an HR export, not a fact table
    ren = {}
    for canon, names in SNAPSHOT_ALIASES.items():
        col = _find_col(df, names)
        if col is None:
            raise ParameterError(
                f"The snapshot must have a '{canon}' column (or one of {', '.join(names[1:4])}). "
                f"Got columns {list(df.columns)[:12]} instead."
            )
        ren[col] = canon
    df = df.rename(columns=ren)
    df["person_id"] = df["person_id"].astype(str)
    df["left"] = _as_bool(df["left"])
    df["tenure"] = pd.to_numeric(df["tenure"], errors="coerce").astype(float) * (12.0 if tenure_unit == "years" else 1.0)
    for c in df.columns:
        # text columns are object on pandas 2 and the str dtype on pandas 3
        if c in ("person_id", "left", "tenure") or not (is_object_dtype(df[c].dtype) or is_string_dtype(df[c].dtype)):
            continue
        vals = set(df[c].dropna().astype(str).str.strip().str.lower().unique())
        if vals and vals <= {"yes", "no", "y", "n", "true", "false"}:
            df[c] = _as_bool(df[c]).astype(float)
    return df


def load_snapshot(source: Any, as_of: Any = "", cohort_start: Any = "", horizon_months: int = 12,
                  features: Sequence[str] | None = None, controls: Sequence[str] | None = None,
                  min_group_size: int = 5, tenure_unit: str = "years") -> RetentionData:
    """Report data from an hr_snapshot (file path, or a store connection with table hr_snapshot).

    Features and controls are whatever requested columns exist (missing ones are skipped
    with a note). "Left within the horizon" is the snapshot's own ``left`` flag.

    Examples
    --------
    >>> data = load_snapshot("hr.csv", features=["OverTime"], controls=["JobLevel"])  # doctest: +SKIP
    """
    from ..params.incentive_retention import DEFAULT_CONTROLS, DEFAULT_FEATURES

    df = read_snapshot(source, tenure_unit)
    notes: list[Note] = []
    df = df.dropna(subset=["tenure"])
    if cohort_start and "hire_date" in df.columns:
        df = df[pd.to_datetime(df["hire_date"]) >= pd.Timestamp(_to_date(cohort_start, "cohort_start"))]
    lower = {str(c).lower(): c for c in df.columns}
    # requested names match columns case-insensitively
    feats_req = [lower.get(f.lower(), f) for f in (features if features is not None else DEFAULT_FEATURES)]
    ctrls_req = [lower.get(c.lower(), c) for c in (controls if controls is not None else DEFAULT_CONTROLS)]
    avail = [c for c in df.columns if c not in ("person_id", "tenure", "left") and df[c].notna().any()]
    feats = _resolve(feats_req, avail, "feature", notes)
    ctrls = _resolve(ctrls_req, avail, "control", notes)
    for c in feats:
        if is_string_dtype(df[c].dtype):
            df[c] = pd.to_numeric(df[c], errors="coerce")
    feats = [f for f in feats if df[f].notna().any()]
    categorical = [c for c in ctrls if is_string_dtype(df[c].dtype) or c in CATEGORICAL_CONTROLS]
    df = _lump_small_levels(df, categorical, "person_id", min_group_size, notes)
    as_of_d = _to_date(as_of, "as_of") or dt.date.today()
    people = df.copy()
    people["entry"] = 0.0
    if "region" not in people.columns:
        people["region"] = None
    if "role" not in people.columns:
        people["role"] = None
    if "exit_reason" not in people.columns:
        people["exit_reason"] = None
    if "hire_cohort" not in people.columns:
        people["hire_cohort"] = None
    horizon = people[["person_id", "region", "role"] + [c for c in feats + ctrls if c not in ("region", "role")]].copy()
    horizon["left_within_horizon"] = people["left"].astype(float)
    notes.append(Note("snapshot"))
    window = people[["person_id", "tenure", "left"]].copy()
    return RetentionData(
        source="snapshot", as_of=as_of_d, data_start=None, people=people.reset_index(drop=True), window=window,
        horizon=horizon.reset_index(drop=True), panel=None, features=feats, controls=ctrls, categorical=categorical,
        horizon_months=horizon_months, min_group_size=min_group_size, notes=notes,
    )
