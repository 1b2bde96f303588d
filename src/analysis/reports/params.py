"""Parameters of a run: from ``-p name=value``, ``-f file.yml`` or a mapping to a validated model.

Everything here happens before a kernel starts: an unknown name or a wrong type is a
:class:`~analysis.errors.ParameterError`, never a half-run notebook. So is everything that can be
checked against the store (:data:`STORE_CHECKS`): the store exists; a relative month (``last-1``,
``current``, ``next``; the report's own default keyword excepted) is resolved to ``YYYY-MM`` and
must lie inside the data (a plan month: after its first month); the filters' columns and values
exist in the sales lines; the launch review's SKU, brand, benchmarks and price class exist in
the products. A "No … match" message names the values that exist (up to ten, the closest to
what was typed first). Order lines are read only through :mod:`analysis.model`.
"""
from __future__ import annotations

import datetime as dt
import os
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

from .. import periods
from .. import store as store_mod
from ..errors import ParameterError, ReportRunError
from ..params import REPORTS, ReportSpec
from ..params.base import ReportParams, coerce_text_value, load_param_file, resolve_relative, validate_params

#: The reports of the agency profile: their data window is the policies' (not the order lines'),
#: and their store must have the agency tables :data:`AGENCY_TABLES` before any kernel starts.
AGENCY_REPORTS = frozenset({"agency_monthly", "agent_retention", "agency_scorecard", "agency_target_plan"})

#: The tables every agency report needs (premium_receipts, agent_month and agency_targets are
#: optional: without them a report skips what they give, with a note).
AGENCY_TABLES = ("agents", "policies")

#: How many existing values a "No … match" message names.
SHOWN_VALUES = 10


def report_spec(report: str) -> ReportSpec:
    """The registered :class:`ReportSpec` of ``report``.

    Raises
    ------
    ParameterError
        When ``report`` is not a registered report.
    """
    if report not in REPORTS:
        allowed = ", ".join(repr(r) for r in sorted(REPORTS))
        raise ParameterError(f"The 'report' parameter of run must be one of {allowed}. Got {report!r} instead.")
    return REPORTS[report]


def notebook_path(spec: ReportSpec) -> Path:
    """The notebook a run executes.

    An absolute path is used as it is. A relative one (``notebooks/sales_trends.ipynb``) is looked
    up in the project folder first (a checkout, or a folder filled by
    ``sales-analysis notebooks --copy``), then among the notebooks shipped inside the package,
    so an installed package runs reports from any folder.

    Raises
    ------
    ReportRunError
        When neither exists.
    """
    path = Path(spec.notebook)
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = [store_mod.project_root() / path, packaged_notebooks() / path.name]
    for c in candidates:
        if c.exists():
            return c
    raise ReportRunError(f"The notebook of {spec.name} does not exist: {candidates[0]}")


def packaged_notebooks() -> Path:
    """The folder of the report notebooks shipped inside the package (``analysis/notebooks``)."""
    return Path(str(resources.files("analysis") / "notebooks"))


def parse_assignments(model: type[ReportParams], items: Iterable[str], where: str) -> dict[str, Any]:
    """Parse ``name=value`` strings, typing each value by the model field's annotation.

    A value for a ``str`` field stays the raw text ("01234" stays "01234", unlike papermill's
    ``-p`` guessing); other fields read the value as YAML (``12``, ``true``, ``[a, b]``,
    ``{region: [市区]}``). Unknown names are rejected with the model's message.

    Examples
    --------
    >>> from analysis.params import LaunchReviewParams
    >>> parse_assignments(LaunchReviewParams, ["sku=01234", "window_days=30"], "launch_review")
    {'sku': '01234', 'window_days': 30}
    """
    values: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ParameterError(
                f"The parameters of {where} must be written name=value. Got {item!r} instead."
            )
        name, raw = item.split("=", 1)
        name = name.strip()
        if name in model.model_fields:
            values[name] = coerce_text_value(model.model_fields[name].annotation, raw)
        else:
            values[name] = raw  # rejected by validate_params with the list of allowed names
    return values


def prepare_parameters(
    spec: ReportSpec,
    params: Iterable[str] | Mapping[str, Any] | None = None,
    param_file: str | os.PathLike | None = None,
    store: str | os.PathLike | None = None,
    today: dt.date | None = None,
    check_store: bool = False,
) -> ReportParams:
    """Merge the ``-f`` file, then ``-p`` values (they win), then ``store``; resolve and validate;
    then, with ``check_store`` (a run does), for a report of :data:`STORE_CHECKS` check the values
    against the store.

    Raises
    ------
    ParameterError
        Before anything runs, when a name is unknown, a value has the wrong type, the store does
        not exist, or a value names something the store does not have (one line).
    """
    values: dict[str, Any] = {}
    if param_file is not None:
        values.update(load_param_file(spec.params, param_file, spec.name))
    if params:
        if isinstance(params, Mapping):
            values.update(dict(params))
        else:
            values.update(parse_assignments(spec.params, list(params), spec.name))
    if store is not None and str(store) != "":
        values["store"] = str(store)
    if values.get("store"):
        values["store"] = store_mod.resolve_store(values["store"])
    values = resolve_relative(spec.params, values, today=today)
    if spec.name not in STORE_CHECKS or not check_store:
        return validate_params(spec.params, values, spec.name)
    # every error a value can have on its own first, then what only the store can tell
    validate_params(spec.params, _month_placeholder(spec, values), spec.name)
    with StoreFacts.open(spec, values.get("store")) as facts:
        checks = STORE_CHECKS[spec.name]
        for check in checks:  # the tables first: a month is resolved against them
            if check in STORE_ONLY_CHECKS:
                check(spec, None, facts)
        values = resolve_months(spec, values, facts)
        model = validate_params(spec.params, values, spec.name)
        for check in checks:
            if check not in STORE_ONLY_CHECKS:
                check(spec, model, facts)
    return model


def papermill_parameters(model: ReportParams) -> dict[str, Any]:
    """The values handed to papermill: only names the model declares (papermill writes
    ``name = value`` into code, so a name must never come from the caller unchecked)."""
    declared = type(model).model_fields
    dumped = model.model_dump(mode="json")
    out = {}
    for k, v in dumped.items():
        if k not in declared or not k.isidentifier():  # pragma: no cover - guarded by the model
            raise ParameterError(f"'{k!r}' is not a parameter of {type(model).__name__}.")
        out[k] = v
    return out


# --------------------------------------------------------------------------- checks against the store


class StoreFacts:
    """What the checks need from the store, read once and lazily: the connection, the data window
    and the grain of the order days, the sales lines (:func:`analysis.model.sales_lines`)."""

    def __init__(self, spec: ReportSpec, con: Any, location: str) -> None:
        self.spec, self.con, self.location = spec, con, location
        self._window: tuple[dt.date, dt.date] | None = None
        self._grain: str | None = None
        self._lines: Any = None
        self.typed: dict[str, Any] = {}  # values as given, before resolve_months (for messages)

    @classmethod
    def open(cls, spec: ReportSpec, store: str | None) -> "StoreFacts":
        """Open ``store`` read-only; a store that does not exist is a one-line ParameterError."""
        location = store_mod.resolve_store(store)
        if not store_mod.is_url(location) and not Path(location).is_file():
            raise ParameterError(f"The 'store' parameter of {spec.name} must be an existing store. "
                                 f"Got {location!r} instead (no such file).")
        return cls(spec, store_mod.connect(location, read_only=not store_mod.is_url(location)), location)

    def __enter__(self) -> "StoreFacts":
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.con.disconnect()
        except Exception:  # noqa: BLE001 - closing a read-only connection cannot lose anything
            pass

    @property
    def window(self) -> tuple[dt.date, dt.date]:
        """(first, last) order day; for an agency report, the policies' first and last issue day."""
        if self._window is None:
            if self.spec.name in AGENCY_REPORTS:
                from ..agency import model as agency_model

                self._window = agency_model.data_window(self.con)
                return self._window
            from .. import model

            self._window = model.data_window(self.con)
        return self._window

    @property
    def grain(self) -> str:
        """The grain of the order days (daily, weekly, monthly, yearly), as the trends report reads it
        (an agency report: daily, the policies' issue days)."""
        if self.spec.name in AGENCY_REPORTS:
            return "daily"
        if self._grain is None:
            from .. import model
            from ..periods import detect_grain

            self._grain = detect_grain(model.order_days(self.con).execute()["order_date"])
        return self._grain

    @property
    def lines(self) -> Any:
        """The analysed sales lines (an Ibis table)."""
        if self._lines is None:
            from .. import model

            self._lines = model.sales_lines(self.con)
        return self._lines


def _month_default(spec: ReportSpec) -> Any:
    field = spec.params.model_fields.get("month")
    return None if field is None else field.default


def _relative(spec: ReportSpec, values: Mapping[str, Any]) -> str | None:
    """The month of ``values`` when it is a relative keyword other than the report's own default."""
    if "month" not in spec.params.model_fields or values.get("month") is None:
        return None
    try:
        text = periods.parse_month_text(values["month"])
    except ParameterError:
        return None  # the model says what is wrong with it
    return text if periods.is_relative_month(text) and text != _month_default(spec) else None


def _month_placeholder(spec: ReportSpec, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with a relative month the model cannot take yet replaced by its default (for
    the checks that need no store)."""
    return {**values, "month": _month_default(spec)} if _relative(spec, values) else values


def resolve_months(spec: ReportSpec, values: dict[str, Any], facts: StoreFacts) -> dict[str, Any]:
    """Resolve a relative month other than the report's default keyword (``last-1``, ``current``,
    ``next``) to ``YYYY-MM`` against the store's data window."""
    text = _relative(spec, values)
    if text is None:
        return values
    facts.typed["month"] = values["month"]
    first, last = facts.window
    month = periods.resolve_month(text, first, last, facts.grain, owner=spec.name)
    return {**values, "month": f"{month:%Y-%m}"}


def _shown(values: list[Any], typed: Any = None) -> str:
    """Up to :data:`SHOWN_VALUES` values, the closest to ``typed`` first, then the rest in order."""
    import difflib

    texts = [str(v) for v in values]
    near = difflib.get_close_matches(str(typed), texts, n=3, cutoff=0.5) if typed is not None else []
    ordered = near + [t for t in texts if t not in near]
    shown = ", ".join(ordered[:SHOWN_VALUES])
    more = len(ordered) - SHOWN_VALUES
    return shown + (f" (and {more} more)" if more > 0 else "")


def check_month(spec: ReportSpec, params: ReportParams, facts: StoreFacts) -> None:
    """The report's month lies inside the data (a month of the window)."""
    text = getattr(params, "month", None)
    if text is None:
        return
    first, last = facts.window
    month = periods.resolve_month(text, first, last, facts.grain, owner=spec.name)
    if periods.add_months(month, 1) <= first or month > last:
        typed = facts.typed.get("month", text)
        shown = typed if str(typed) == f"{month:%Y-%m}" else f"{typed} ({month:%Y-%m})"
        raise ParameterError(f"The 'month' parameter of {spec.name} must be a month inside the data "
                             f"({first:%Y-%m} … {last:%Y-%m}). Got {shown!r} instead.")


def check_plan_month(spec: ReportSpec, params: ReportParams, facts: StoreFacts) -> None:
    """A plan month has at least one complete month of history before it."""
    text = getattr(params, "month", None)
    if text is None:
        return
    first, last = facts.window
    month = periods.resolve_month(text, first, last, facts.grain, owner=spec.name)
    history_end = min(periods.add_months(month, -1), periods.last_complete_month(last, facts.grain))
    if history_end < periods.month_start(first):
        typed = facts.typed.get("month", text)
        shown = typed if str(typed) == f"{month:%Y-%m}" else f"{typed} ({month:%Y-%m})"
        raise ParameterError(f"The 'month' parameter of {spec.name} must be a month after the first month of the "
                             f"data ({first:%Y-%m}), with history before it. Got {shown!r} instead.")


def check_plan_total(spec: ReportSpec, params: ReportParams, facts: StoreFacts) -> None:
    """Without a ``total`` the plan splits the store's company-level target of its month: one must exist."""
    if getattr(params, "total", None) is not None or getattr(params, "month", None) is None:
        return
    import pandas as pd

    from ..target_plan import company_target

    first, last = facts.window
    month = periods.resolve_month(params.month, first, last, facts.grain, owner=spec.name)
    t = company_target(facts.con, pd.Period(month, "M"), params.measure)
    if t is None or not t > 0:
        raise ParameterError(
            f"The 'total' parameter of {spec.name} is required: the store has no company-level "
            f"{params.measure} target for {month:%Y-%m}. Got None instead (give -p total=…, e.g. 3400万).")


def check_filters(spec: ReportSpec, params: ReportParams, facts: StoreFacts) -> None:
    """Every filter names a column of the sales lines, each value exists there, and the filters
    together leave some lines; else one line naming the values that exist."""
    filters = getattr(params, "filters", None) or {}
    if not filters:
        return
    from ..trends import LEVEL_COLUMNS

    lines = facts.lines
    t = lines
    for col, wanted in filters.items():
        c = LEVEL_COLUMNS.get(col, col)
        if c not in lines.columns:
            raise ParameterError(f"The 'filters' parameter of {spec.name} must name columns of the sales lines. "
                                 f"Got {col!r} instead; columns: {', '.join(sorted(lines.columns))}.")
        if not wanted:
            continue
        import ibis

        vals = t.select(v=t[c].cast("string"))
        vals = vals.filter(vals.v.notnull())
        counts = vals.group_by("v").aggregate(n=vals.v.count()).order_by([ibis.desc("n"), "v"]).execute()
        existing = [str(v) for v in counts["v"]]
        missing = [str(w) for w in wanted if str(w) not in set(existing)]
        if len(missing) == len(wanted):
            where = "" if t is lines else " under the filters before it"
            raise ParameterError(f"No orders match {col}={_one(missing)} in the filters of {spec.name}; "
                                 f"the values of {col}{where} are: {_shown(existing, missing[0])}.")
        t = t.filter(t[c].cast("string").isin([str(w) for w in wanted]))


def _one(values: list[str]) -> str:
    return repr(values[0]) if len(values) == 1 else "[" + ", ".join(repr(v) for v in values) + "]"


def check_launch(spec: ReportSpec, params: ReportParams, facts: StoreFacts) -> None:
    """The launch review's SKU, brand, benchmarks and price class exist among the products, and
    its launch date is not after the data."""
    sku, brand = getattr(params, "sku", ""), getattr(params, "brand", "")
    if sku and brand:
        raise ParameterError(f"The 'sku' and 'brand' parameters of {spec.name} must not both be set. "
                             f"Got sku={sku!r}, brand={brand!r} instead.")
    products = store_mod.table(facts.con, "products", needed_by=spec.name, required=("sku_id", "brand"))
    cols = [c for c in ("sku_id", "brand", "price_class", "launch_date") if c in products.columns]
    frame = products.select(*cols).execute()
    if "launch_date" in frame.columns:  # the newest launches first: the likeliest to be meant
        frame = frame.sort_values("launch_date", ascending=False, na_position="last", kind="stable")

    def known(column: str) -> list[str]:
        return list(dict.fromkeys(str(v) for v in frame[column].dropna()))

    skus = known("sku_id")
    if sku and sku not in skus:
        raise ParameterError(f"No product matches sku={sku!r} ({spec.name}); the sku_ids of products are: "
                             f"{_shown(skus, sku)}.")
    if brand and brand not in known("brand"):
        raise ParameterError(f"No product matches brand={brand!r} ({spec.name}); the brands of products are: "
                             f"{_shown(known('brand'), brand)}.")
    bench = getattr(params, "benchmarks", "auto")
    if isinstance(bench, list):
        unknown = [b for b in bench if b not in skus]
        if unknown:
            raise ParameterError(f"No product matches benchmarks={_one(unknown)} ({spec.name}); the sku_ids of "
                                 f"products are: {_shown(skus, unknown[0])}.")
    compare = getattr(params, "compare_class", "")
    if compare and "price_class" in frame.columns and compare not in known("price_class"):
        raise ParameterError(f"No product matches compare_class={compare!r} ({spec.name}); the price classes are: "
                             f"{_shown(known('price_class'), compare)}.")
    launch = getattr(params, "launch_date", "")
    if launch:
        first, last = facts.window
        day = periods.to_date(launch, "launch_date", spec.name)
        if day > last:
            raise ParameterError(f"The 'launch_date' parameter of {spec.name} must be a day inside the data "
                                 f"({first} … {last}). Got {launch!r} instead.")


def check_orders(spec: ReportSpec, params: ReportParams, facts: StoreFacts) -> None:
    """The store has order lines (the data window exists)."""
    facts.window  # noqa: B018 - MissingTableError / MissingColumnError in one line when not


def check_agency_store(spec: ReportSpec, params: ReportParams | None, facts: StoreFacts) -> None:
    """The store has rows in the agency tables (:data:`AGENCY_TABLES`); else one line naming the
    first missing one and the tables the store has."""
    for t in AGENCY_TABLES:
        if store_mod.has_rows(facts.con, t):
            continue
        why = f"no rows in '{t}'" if store_mod.has_table(facts.con, t) else f"no table '{t}'"
        try:
            tables = sorted(str(n) for n in facts.con.list_tables())
        except Exception:  # noqa: BLE001 - a driver that cannot list its tables: say so
            tables = []
        raise ParameterError(f"The 'store' parameter of {spec.name} must be a store with the agency tables "
                             f"{' and '.join(AGENCY_TABLES)} (`sales-analysis demo --profile agency` builds them). "
                             f"Got {facts.location!r}, which has {why}; its tables: {_shown(tables) or 'none'}.")


def check_agency_branch(spec: ReportSpec, params: ReportParams, facts: StoreFacts) -> None:
    """The branch, when given, is a branch of the agents table (else the branches that exist)."""
    branch = getattr(params, "branch", None)
    if branch is None:
        return
    a = facts.con.table("agents")
    known = sorted(str(v) for v in a.select("branch").distinct().execute()["branch"].dropna()) \
        if "branch" in a.columns else []
    if branch not in known:
        raise ParameterError(f"No branch matches {branch!r} in the agents table of {spec.name}'s store; "
                             f"branches: {_shown(known, branch) or 'none'}.")


def check_retention_store(spec: ReportSpec, params: ReportParams, facts: StoreFacts) -> None:
    """Nothing more than the store's existence: a snapshot run may read its own file."""


#: The checks each report's parameters get against the store before any kernel starts
#: (the store's existence is checked for every report listed).
STORE_CHECKS: dict[str, tuple[Any, ...]] = {
    "sales_trends": (check_orders, check_month, check_filters),
    "rep_scorecard": (check_orders, check_month),
    "target_plan": (check_orders, check_plan_month, check_plan_total),
    "launch_review": (check_orders, check_launch),
    "incentive_retention": (check_retention_store,),
    "agency_monthly": (check_agency_store, check_month, check_agency_branch),
    "agent_retention": (check_agency_store,),
    "agency_scorecard": (check_agency_store, check_month, check_agency_branch),
    "agency_target_plan": (check_agency_store, check_plan_month, check_agency_branch),
}


#: The checks that need the store only (not the parameters): run first, before a relative month
#: is resolved against the data (they get ``params=None``).
STORE_ONLY_CHECKS = frozenset({check_agency_store})


# --------------------------------------------------------------------------- --help


def _type_text(annotation: Any) -> str:
    import types
    import typing

    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        if any(getattr(m, "func", None) is not None and getattr(m.func, "__name__", "") == "_money" for m in args[1:]):
            return "amount"
        return _type_text(args[0])
    if origin is typing.Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        parts = [_type_text(a) for a in args if a is not type(None)]
        return " or ".join(parts) + (" or null" if type(None) in args else "")
    if origin is typing.Literal:
        return "choice"
    if origin in (list, tuple, set):
        return f"list of {_type_text(args[0])}" if args else "list"
    if origin is dict or annotation is dict:
        return "mapping"
    return {str: "text", int: "integer", float: "number", bool: "true/false"}.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _allowed_text(name: str, field: Any) -> str:
    import typing

    from .. import i18n
    from ..params.base import MONEY_FORMS

    def literals(a: Any) -> list[Any]:
        if typing.get_origin(a) is typing.Literal:
            return list(typing.get_args(a))
        return [x for sub in typing.get_args(a) for x in literals(sub)]

    lits = literals(field.annotation)
    if lits:
        return ", ".join(str(x) for x in lits)
    if name == "lang":
        return ", ".join(i18n.languages())
    if name == "month":
        return periods.MONTH_FORMS
    if _type_text(field.annotation).startswith("amount"):
        return MONEY_FORMS
    bounds = []
    for m in field.metadata:
        for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            if getattr(m, attr, None) is not None:
                bounds.append(f"{sign} {getattr(m, attr)}")
    return ", ".join(bounds)


def parameter_help(report: str) -> str:
    """The parameters of ``report`` as a table generated from its model: name, type, default,
    allowed values; then the model's own description.

    Examples
    --------
    >>> print(parameter_help("sales_trends").splitlines()[0])
    Parameters of sales_trends (-p name=value, or -f file.yml):
    """
    import inspect

    spec = report_spec(report)
    rows = [("name", "type", "default", "allowed")]
    for name, field in spec.params.model_fields.items():
        default = field.get_default(call_default_factory=True)
        rows.append((name, _type_text(field.annotation), "null" if default is None else repr(default) if default == "" else str(default),
                     _allowed_text(name, field)))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"Parameters of {spec.name} (-p name=value, or -f file.yml):", ""]
    for r in rows:
        lines.append("  " + "  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3])
    doc = inspect.cleandoc(spec.params.__doc__ or "").split("\nExamples\n")[0].strip()
    if doc:
        lines += [""] + ["  " + line if line else "" for line in doc.splitlines()]
    return "\n".join(line.rstrip() for line in lines)

