"""Parameters of a run: from ``-p name=value``, ``-f file.yml`` or a mapping to a validated model.

Everything here happens before a kernel starts: an unknown name or a wrong type is a
:class:`~analysis.errors.ParameterError`, never a half-run notebook.
"""
from __future__ import annotations

import datetime as dt
import os
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

from .. import store as store_mod
from ..errors import ParameterError, ReportRunError
from ..params import REPORTS, ReportSpec
from ..params.base import ReportParams, coerce_text_value, load_param_file, resolve_relative, validate_params


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
) -> ReportParams:
    """Merge the ``-f`` file, then ``-p`` values (they win), then ``store``; resolve and validate.

    Raises
    ------
    ParameterError
        Before anything runs, when a name is unknown or a value has the wrong type.
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
    return validate_params(spec.params, values, spec.name)


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
