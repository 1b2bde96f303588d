"""The report spec: what a report is, declared once per report in :data:`analysis.params.REPORTS`.

A :class:`ReportSpec` names

- ``params``: the parameter model (validated before any kernel starts);
- ``prepare``: ``prepare(con, params: Model) -> scope``, the one contract of every report;
- ``sections``: the ordered :class:`Step` list, each a section function of the report's metric
  module called as ``fn(scope, *args)`` and (optionally) the name of its text function in the
  report's narrative module (default: ``narrative.TEXTS[result.code]``);
- ``finish``: what the last cell adds to metrics.json besides the sections' metrics
  (``fn(scope, output_path) -> dict``);
- ``headline``: its headline figures on the index (:class:`Headline`);
- ``period``: its period key, the run's folder (``period(parameters, metrics) -> str``).

The notebook (``notebook.start`` validates with ``params``), ``reports.outputs.run_period``, the
index (:data:`analysis.reports.index.HEADLINES`) and the headless run
(:func:`analysis.reports.compute.compute`, which calls ``prepare`` and the sections without a
kernel) all read it. Functions are named ``"module:attribute"`` and imported when first used
(:func:`ref`), so reading the registry (the CLI's ``--help``, the index) imports no metric module.

Registering a report is one entry::

    REPORTS["agency_monthly"] = ReportSpec(
        "agency_monthly", "notebooks/agency_monthly.ipynb", AgencyMonthlyParams,
        prepare="analysis.agency:prepare", narrative="analysis.narrative.agency",
        sections=(Step("analysis.agency:headline"), Step("analysis.agency:by_agency")),
        headline=Headline((Figure("total_amount", "amount", "money_wan"),), history="total_amount"),
        period=period_from("month"),
    )

A spec with only the first three fields (an older report, a test fixture) still runs; its
headless run executes the notebook's cells instead.

Examples
--------
>>> period_from("month")({"month": "2026-10"}, None)
'2026-10'
>>> Step("analysis.trends:headline").name
'headline'
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .errors import ParameterError

_NAME_RE = re.compile(r"[a-z][a-z0-9_]*")


def ref(name: str) -> Any:
    """The object ``"package.module:attribute"`` names (imported on first use).

    Raises
    ------
    ParameterError
        When ``name`` is not ``module:attribute`` or names nothing.
    """
    module, _, attr = str(name).partition(":")
    if not module or not attr:
        raise ParameterError(f"A report spec must name a function as 'module:attribute'. Got {name!r} instead.")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        raise ParameterError(f"A report spec names {name!r}, which does not exist.") from None


@dataclass(frozen=True)
class Step:
    """One section of a report, in order: ``section(scope, *args)`` and its text function.

    ``section`` is ``"module:function"``; ``text`` a function name of the report's narrative
    module (default: ``TEXTS`` by the result's code); ``optional``: the function may return
    None (nothing is shown, e.g. the payout outside the manager version); ``name``: the step's
    name in its report, the notebook's ``ctx.section(name)`` (default: the function's name; two
    steps of one function with different ``args`` need their own, ``"feature_curves_1"``).
    """

    section: str
    args: tuple = ()
    text: str | None = None
    optional: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", tuple(self.args))
        if not self.name:
            object.__setattr__(self, "name", str(self.section).partition(":")[2])
        if not _NAME_RE.fullmatch(self.name):
            raise ParameterError(f"The 'name' parameter of Step must be a lower-case ASCII id such as "
                                 f"'feature_curves_1'. Got {self.name!r} instead.")


def run_step(step: Step, scope: Any) -> Any:
    """The section of ``step`` computed on ``scope``: ``section(scope, *args)``.

    The one call of a section function from a spec, used by the notebook
    (:meth:`analysis.notebook.Context.section`, which then shows the result) and by the headless
    run (:func:`analysis.reports.compute.compute`).

    Returns
    -------
    SectionResult or None
        None only for an optional step whose function returned None (nothing to show).

    Raises
    ------
    ReportRunError
        A step that is not optional returned None.
    """
    res = ref(step.section)(scope, *step.args)
    if res is None and not step.optional:
        from .errors import ReportRunError

        raise ReportRunError(f"The section {step.section!r} returned nothing; only an optional step may.")
    return res


@dataclass(frozen=True)
class Figure:
    """One headline figure: a metrics.json key (dots reach into mappings), its label (the
    catalogue label ``index.figure.<label>``) and its format: a value kind of the catalogues
    (``money_wan``, ``rate``, ``change``, ``f2``, ``int``, …, see :data:`analysis.i18n.KINDS`),
    or ``"measure"`` for money or volume as the run's metrics.json ``measure`` says."""

    key: str
    label: str
    fmt: str


@dataclass(frozen=True)
class Headline:
    """The headline figures of one report, the figure charted across periods (``history``) and
    the metrics.json key that orders its periods (``order_by``)."""

    figures: tuple[Figure, ...]
    history: str | None = None
    order_by: str = "period"


PeriodKey = Callable[[Mapping[str, Any], "Mapping[str, Any] | None"], str]


def period_from(*names: str, default: str = "latest") -> PeriodKey:
    """A period key: metrics.json ``period`` when the run recorded one, else the first of the
    parameters ``names`` that is set, else ``default`` (not yet made file-name safe)."""

    def key(parameters: Mapping[str, Any], metrics: Mapping[str, Any] | None = None) -> str:
        if metrics and metrics.get("period"):
            return str(metrics["period"])
        for n in names:
            if parameters.get(n):
                return str(parameters[n])
        return default

    return key


def launch_key(what: Any, when: Any) -> str:
    """The folder of a launch review: ``<code>-<launch date>``, ASCII and stable.

    The product's *name* (brand + specification) titles the page and the index entry; the
    folder keeps the code, which never changes when the products master renames a product (a
    name-derived folder would move, and split one launch's runs), and which a department's
    codes keep ASCII. A code or brand that is not ASCII-safe (a brand review of ``红梅``) is
    written as its ASCII letters, if any, and the first 8 hex digits of its SHA-1: still
    stable, never a character a file system or a URL might mangle.

    Examples
    --------
    >>> launch_key("6901028339568", "2026-09-15")
    '6901028339568-2026-09-15'
    >>> launch_key("红梅", "2026-09-15")
    'b-ee59007b-2026-09-15'
    """
    import hashlib
    import re

    text = str(what).strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,39}", text):
        slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:24]
        text = f"{slug or 'b'}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:8]}"
    return f"{text}-{when}"


def launch_period(parameters: Mapping[str, Any], metrics: Mapping[str, Any] | None = None) -> str:
    """The launch review's period key: the folder the run recorded (metrics.json ``period``,
    :func:`launch_key` of the reviewed SKU or brand and its launch date), else the same key of
    the SKU or brand asked for and the launch date (``auto`` when not given)."""
    if metrics and metrics.get("period"):
        return str(metrics["period"])
    what = parameters.get("sku") or parameters.get("brand") or "launch"
    when = parameters.get("launch_date") or "auto"
    return launch_key(what, when)


@dataclass(frozen=True)
class ReportSpec:
    """One report, declared once (see the module's docstring)."""

    name: str
    notebook: str
    params: type
    prepare: str | None = None
    narrative: str | None = None
    sections: tuple[Step, ...] = ()
    finish: str | None = None
    headline: Headline | None = None
    period: PeriodKey = field(default=period_from("month", "as_of", "period"))

    def __post_init__(self) -> None:
        names = [s.name for s in self.sections]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ParameterError(f"The steps of report {self.name!r} must have distinct names "
                                 f"(Step(..., name=...)). Got {', '.join(map(repr, twice))} twice.")

    def step(self, name: str) -> Step:
        """The step named ``name`` (:attr:`Step.name`).

        Raises
        ------
        ParameterError
            No step of the report has that name.
        """
        for s in self.sections:
            if s.name == name:
                return s
        raise ParameterError(f"The 'name' parameter of section must be a step of report {self.name!r} "
                             f"({', '.join(s.name for s in self.sections)}). Got {name!r} instead.")

    @property
    def headless(self) -> bool:
        """True when :func:`analysis.reports.compute.compute` can run it from the spec alone."""
        return self.prepare is not None and bool(self.sections)

    def period_key(self, parameters: Mapping[str, Any], metrics: Mapping[str, Any] | None = None) -> str:
        """The run's period (its folder, before it is made file-name safe)."""
        return self.period(parameters, metrics)

    def texts(self) -> dict[str, Any]:
        """The narrative module's ``TEXTS`` (section code → text function); {} without one."""
        if not self.narrative:
            return {}
        return dict(getattr(importlib.import_module(self.narrative), "TEXTS", {}) or {})

    def text_of(self, step: Step) -> Any:
        """The text function named by ``step.text`` (None: the presenter looks up ``TEXTS``)."""
        if step.text is None:
            return None
        return getattr(importlib.import_module(str(self.narrative)), step.text)
