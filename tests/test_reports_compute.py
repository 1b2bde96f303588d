"""The headless run from the report spec (prepare + sections + finish, no kernel) gives the
metrics of the notebook's own cells, key for key, for every report; and the spec is complete."""
from __future__ import annotations

import json

import pytest

from analysis.params import REPORTS
from analysis.spec import ref

SCALE = 0.02
SEED = 11


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    from analysis import demo

    d = tmp_path_factory.mktemp("compute_world")
    store = d / "w.duckdb"
    demo.build(store=str(store), seed=SEED, scale=SCALE, truth_path=d / "truth.json")
    # the agency profile's tables beside the tobacco world's, for the agency reports
    demo.build_profile("agency", store=str(store), seed=SEED, scale=0.3, truth_path=d / "agency_truth.json")
    return store


def _plain(m: dict) -> str:
    return json.dumps({k: v for k, v in m.items() if k != "generated_at"}, sort_keys=True)


def test_every_report_declares_a_complete_spec():
    for name, spec in REPORTS.items():
        assert spec.headless and spec.headline is not None, name
        assert callable(ref(spec.prepare)), name
        for step in spec.sections:
            assert callable(ref(step.section)), step
        assert spec.narrative and isinstance(spec.texts(), dict), name


@pytest.mark.slow
@pytest.mark.parametrize("report", sorted(REPORTS))
def test_compute_from_the_spec_equals_the_notebook_cells(small_store, report):
    from analysis.reports.compute import compute, compute_cells

    spec_run = compute(report, small_store)
    cells_run = compute_cells(report, small_store)
    assert _plain(spec_run.metrics) == _plain(cells_run.metrics)
    assert [s.code for s in spec_run.sections] == [s.code for s in cells_run.sections]
