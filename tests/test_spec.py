"""The report spec is the one list of a report's sections: each notebook calls its steps by name,
in order, one a cell (``ctx.section(name)``); the notebook and the headless run compute a step
through one function (:func:`analysis.spec.run_step`); and the skips of parts reach metrics.json."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from analysis import spec as spec_mod
from analysis.errors import ParameterError, ReportRunError
from analysis.params import REPORTS, SalesTrendsParams
from analysis.reports.compute import _cells
from analysis.sections import SectionResult
from analysis.spec import ReportSpec, Step

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SECTION_CALL = re.compile(r'^ctx\.section\("([a-z][a-z0-9_]*)"\)$')


def _section_cells(sources: list[str]) -> list[str]:
    """The step names of the cells that call ``ctx.section``; a cell doing so does nothing else."""
    names = []
    for src in sources:
        code = src.strip()
        if "ctx.section(" not in code:
            continue
        m = SECTION_CALL.match(code)
        assert m, f"a section cell is one ctx.section(name) call, nothing else: {code!r}"
        names.append(m.group(1))
    return names


def _py_cells(path: Path) -> list[str]:
    """The code cells of a paired percent-format script."""
    cells, cur, code = [], [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            if code:
                cells.append("\n".join(cur))
            cur, code = [], "[markdown]" not in line
            continue
        cur.append(line)
    if code:
        cells.append("\n".join(cur))
    return cells


@pytest.mark.parametrize("report", sorted(n for n, s in REPORTS.items() if s.sections))
def test_each_notebook_calls_the_spec_steps_in_order(report):
    spec = REPORTS[report]
    nb = NOTEBOOKS / Path(spec.notebook).name
    steps = [s.name for s in spec.sections]
    sources = [src for _, src in _cells(nb)]
    assert _section_cells(sources) == steps
    assert _section_cells(_py_cells(nb.with_suffix(".py"))) == steps  # the paired script says the same
    # no section goes around the spec: no cell calls a section function and shows it by hand
    assert not [s for s in sources if "present.show(" in s], report
    assert sum("ctx.prepare()" in s for s in sources) == 1, report


def test_step_names_are_ids_and_distinct_within_a_report():
    assert Step("analysis.trends:headline").name == "headline"
    assert Step("analysis.retention:feature_curves", [0], name="feature_curves_1").args == (0,)
    with pytest.raises(ParameterError, match="The 'name' parameter of Step must be a lower-case ASCII id"):
        Step("analysis.trends:headline", name="Head line")
    with pytest.raises(ParameterError, match="must have distinct names"):
        ReportSpec("x", "x.ipynb", SalesTrendsParams, sections=(Step("m:f", (0,)), Step("m:f", (1,))))
    with pytest.raises(ParameterError, match="must be a step of report 'sales_trends'"):
        REPORTS["sales_trends"].step("no_such_step")
    for name, spec in REPORTS.items():
        names = [s.name for s in spec.sections]
        assert len(set(names)) == len(names), name


def test_retention_spec_runs_every_curve_and_dose_of_the_package():
    from analysis import retention

    steps = REPORTS["incentive_retention"].sections
    curves = [s.args for s in steps if s.section.endswith(":feature_curves")]
    doses = [s.args for s in steps if s.section.endswith(":dose_section")]
    assert curves == [(i,) for i in range(len(retention.CURVE_FEATURES))]
    assert doses == [(f,) for f in retention.DOSE_FEATURES]


# ----------------------------------------------- one function for the notebook and compute()
@dataclass(kw_only=True)
class FakeSection(SectionResult):
    report: ClassVar[str] = "sales_trends"
    value: int = 0

    def metrics(self) -> dict[str, Any]:
        return {f"value_{self.code}": self.value}


def fake_prepare(con: Any, params: Any) -> dict:
    return {"base": 10, "month": params.month}


def fake_section(scope: dict, k: int) -> FakeSection:
    res = FakeSection(code={1: "headline", 2: "trend"}[k], value=scope["base"] + k)
    return res.skipped_part("test", "too_short", needed=24, got=k) if k == 2 else res


def nothing(scope: dict) -> None:
    return None


FAKE = ReportSpec(
    "sales_trends", "fake.ipynb", SalesTrendsParams, prepare=f"{__name__}:fake_prepare",
    sections=(Step(f"{__name__}:fake_section", (1,), name="one"), Step(f"{__name__}:fake_section", (2,), name="two"),
              Step(f"{__name__}:nothing", optional=True)))


def test_compute_and_the_notebook_compute_a_step_through_one_function(tmp_path, monkeypatch):
    import duckdb

    from analysis import display, notebook
    from analysis.recorder import Recorder
    from analysis.reports.compute import compute

    monkeypatch.setitem(REPORTS, "sales_trends", FAKE)
    calls: list[tuple[str, str]] = []
    real = spec_mod.run_step

    def counting(step: Step, scope: Any) -> Any:
        calls.append((who, step.name))
        return real(step, scope)

    monkeypatch.setattr(spec_mod, "run_step", counting)
    store = tmp_path / "empty.duckdb"
    duckdb.connect(str(store)).close()
    who = "compute"
    headless = compute("sales_trends", store, {"month": "2026-10"})

    shown: list[str] = []
    monkeypatch.setattr(display, "html", shown.append)
    who = "notebook"
    ctx = notebook.Context("sales_trends", SalesTrendsParams.of(month="2026-10"), None,
                           Recorder("sales_trends", tmp_path / "metrics.json"))
    with pytest.raises(ParameterError, match="call ctx.prepare"):
        ctx.section("one")
    assert ctx.prepare() == {"base": 10, "month": "2026-10"}
    assert [ctx.section(s.name) for s in FAKE.sections] == [None, None, None]  # a cell shows, returns nothing
    ctx.finish()
    names = [s.name for s in FAKE.sections]
    assert calls == [("compute", n) for n in names] + [("notebook", n) for n in names]
    assert [s.code for s in ctx.present.sections] == [s.code for s in headless.sections] == ["headline", "trend"]
    written = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    own = ("generated_at", "parameters")  # the time; the parameters notebook.start records
    assert {k: v for k, v in written.items() if k not in own} == \
        {k: v for k, v in headless.metrics.items() if k not in own}
    assert written["skipped_parts"] == [{"section": "trend", "part": "test", "reason": "too_short",
                                         "details": {"needed": 24, "got": 2}}]
    assert shown[0].startswith("<h2>")
    with pytest.raises(ParameterError, match="must be a step of report"):
        ctx.section("three")


def test_a_step_that_is_not_optional_must_return_a_section():
    with pytest.raises(ReportRunError, match="only an optional step may"):
        spec_mod.run_step(Step(f"{__name__}:nothing"), {})
    assert spec_mod.run_step(Step(f"{__name__}:nothing", optional=True), {}) is None


def test_the_shared_function_is_the_only_call_of_a_section():
    """compute() and Context.section call run_step; neither calls a step's function itself."""
    src = Path(spec_mod.__file__).parent
    for rel in ("reports/compute.py", "notebook.py"):
        text = (src / rel).read_text(encoding="utf-8")
        assert "spec_mod.run_step(" in text, rel
        assert "ref(step.section)" not in text, rel


# ------------------------------------------------- a part's skip in the notebook's metrics.json
def test_the_notebook_writes_the_skipped_parts_to_metrics_json(tmp_path):
    """20 months of monthly data: the trends report runs, its trend section without the trend test
    (part ``test``, too short); the notebook's cells (ctx.section …, ctx.finish) write it."""
    import ibis

    from analysis.reports.compute import compute_cells

    store = tmp_path / "short.duckdb"
    con = ibis.duckdb.connect(str(store))
    months = pd.date_range("2024-01-01", periods=20, freq="MS")
    con.create_table("orders", pd.DataFrame({"order_date": months, "amount": np.arange(20.0) + 100}))
    con.disconnect()
    out = compute_cells("sales_trends", store, {"lang": "en"})
    parts = out.metrics["skipped_parts"]
    assert any(p["section"] == "trend" and p["part"] == "test" and p["reason"] == "too_short" for p in parts)
    assert out.metrics["skipped_parts"] == [p for s in out.sections for p in
                                            [{"section": s.code, "part": k, **v.as_dict()} for k, v in s.parts.items()]]
