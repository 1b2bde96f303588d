"""Base parameter model shared by the reports."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import ParameterError


class ReportParams(BaseModel):
    """Parameters every report takes. Unknown names are rejected.

    ``store``: a .duckdb path or URL (None: the default store).
    ``lang``: "zh" (default) or "en".
    """

    model_config = ConfigDict(extra="forbid", validate_default=True)

    store: str | None = None
    lang: Literal["zh", "en"] = "zh"


@dataclass(frozen=True)
class ReportSpec:
    name: str
    notebook: str
    params: type[ReportParams]


def validate_params(model: type[ReportParams], values: dict[str, Any], where: str = "") -> ReportParams:
    """Validate ``values`` against ``model``; raise ParameterError with one clear message.

    Examples
    --------
    >>> from analysis.params import SalesTrendsParams
    >>> validate_params(SalesTrendsParams, {"lang": "fr"})  # doctest: +SKIP
    ParameterError: The 'lang' parameter of sales_trends must be one of 'zh', 'en'. Got 'fr' instead.
    """
    where = where or model.__name__
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        msgs = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err.get("loc", ())) or "?"
            given = err.get("input")
            if err.get("type") == "extra_forbidden":
                allowed = ", ".join(sorted(model.model_fields))
                msgs.append(f"'{name}' is not a parameter of {where}; allowed: {allowed}.")
            else:
                msgs.append(
                    f"The '{name}' parameter of {where} {_describe(err)}. Got {given!r} instead."
                )
        raise ParameterError(" ".join(msgs)) from None


def _describe(err: dict) -> str:
    msg = err.get("msg", "is invalid")
    ctx = err.get("ctx") or {}
    if "expected" in ctx:
        return f"must be {ctx['expected']}"
    return "must satisfy: " + msg[0].lower() + msg[1:]
