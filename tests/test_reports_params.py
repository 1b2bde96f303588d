"""Checks of a run's parameters against the store, before any kernel starts
(analysis.reports.params): the store exists, a relative month resolves and lies inside the data,
filter values, SKUs and brands exist; "No … match" names the values that exist."""
from __future__ import annotations

import pandas as pd
import pytest

from analysis import reports, store
from analysis.errors import AnalysisError, ParameterError
from analysis.params import REPORTS
from analysis.reports import prepare_parameters


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    """Orders from 2025-01-01 to 2026-10-15 (the last complete month is 2026-09) in 12 regions, products."""
    path = tmp_path_factory.mktemp("store") / "w.duckdb"
    days = pd.date_range("2025-01-01", "2026-10-15", freq="D")
    regions = [f"区{i:02d}" for i in range(12)]
    con = store.connect(str(path))
    con.create_table("orders", pd.DataFrame({
        "order_date": days, "amount": 100.0, "qty": 1.0,
        "region": [regions[i % 12] for i in range(len(days))],
        "brand": ["甲" if i % 3 else "乙" for i in range(len(days))],
        "sku_id": ["S01" if i % 2 else "S02" for i in range(len(days))],
        "customer_id": "c1", "rep_id": "r1",
    }))
    con.create_table("products", pd.DataFrame({
        "sku_id": ["S01", "S02", "S03"], "brand": ["甲", "乙", "丙"], "price_class": ["一类", "二类", "二类"],
        "launch_date": pd.to_datetime(["2024-01-01", "2026-09-01", "2026-10-01"]).date}))
    con.disconnect()
    return str(path)


def check(report, *params, store_path):
    return prepare_parameters(REPORTS[report], list(params), store=store_path, check_store=True)


def test_relative_months_resolve_against_the_store(small_store):
    assert check("sales_trends", "month=last-1", store_path=small_store).month == "2026-08"
    assert check("sales_trends", "month=current", store_path=small_store).month == "2026-10"
    assert check("rep_scorecard", "month=last-12", store_path=small_store).month == "2025-09"
    assert check("target_plan", "month=last", "total=3400万", store_path=small_store).month == "2026-09"
    # the report's own default keyword stays (the report resolves it as it always has)
    assert check("sales_trends", "month=last", store_path=small_store).month == "last"
    assert check("target_plan", "total=3400万", store_path=small_store).month == "next"
    assert check("sales_trends", "month=2026年6月", store_path=small_store).month == "2026-06"


def test_a_month_outside_the_data_is_one_line(small_store):
    with pytest.raises(ParameterError) as e:
        check("sales_trends", "month=2030-01", store_path=small_store)
    assert str(e.value) == ("The 'month' parameter of sales_trends must be a month inside the data (2025-01 … 2026-10). "
                            "Got '2030-01' instead.")
    with pytest.raises(ParameterError, match=r"Got 'last-30 \(2024-03\)' instead"):
        check("rep_scorecard", "month=last-30", store_path=small_store)
    with pytest.raises(ParameterError, match="must be a month after the first month of the data"):
        check("target_plan", "month=2025-01", store_path=small_store)
    assert check("target_plan", "month=2025-02", "total=3400万", store_path=small_store).month == "2025-02"
    # a plan month the store has no company target for, and no total: said before any kernel starts
    with pytest.raises(ParameterError, match=r"^The 'total' parameter of target_plan is required: the store has no "
                                             r"company-level amount target for 2030-01\."):
        check("target_plan", "month=2030年1月", store_path=small_store)
    assert check("target_plan", "month=2030-01", "total=3400万", store_path=small_store).total == 34_000_000


def test_filter_values_that_do_not_exist_name_those_that_do(small_store):
    with pytest.raises(ParameterError) as e:
        check("sales_trends", "filters={region: [区1]}", store_path=small_store)
    msg = str(e.value)
    assert msg.startswith("No orders match region='区1' in the filters of sales_trends; the values of region are: ")
    assert msg.endswith("(and 2 more).") and msg.count("区") == 1 + 10 and "\n" not in msg
    with pytest.raises(ParameterError, match=r"No orders match brand='丁' in the filters of sales_trends; the values "
                                             r"of brand under the filters before it are: "):
        check("sales_trends", "filters={region: [区00], brand: [丁]}", store_path=small_store)
    with pytest.raises(ParameterError, match="must name columns of the sales lines. Got 'territory' instead"):
        check("sales_trends", "filters={territory: [x]}", store_path=small_store)
    ok = check("sales_trends", "filters={region: 区01, brand: [甲, 丁]}", store_path=small_store)
    assert ok.filters == {"region": ["区01"], "brand": ["甲", "丁"]}  # one value that exists is enough


def test_launch_review_products_are_checked(small_store):
    with pytest.raises(ParameterError) as e:
        check("launch_review", "sku=S9", store_path=small_store)
    assert str(e.value) == ("No product matches sku='S9' (launch_review); the sku_ids of products are: "
                            "S03, S02, S01.")
    with pytest.raises(ParameterError, match=r"No product matches brand='丁' \(launch_review\); the brands of "
                                             r"products are: 丙, 乙, 甲."):
        check("launch_review", "brand=丁", store_path=small_store)
    with pytest.raises(ParameterError, match="No product matches benchmarks='S7'"):
        check("launch_review", "sku=S03", "benchmarks=[S01, S7]", store_path=small_store)
    with pytest.raises(ParameterError, match="No product matches compare_class='三类'"):
        check("launch_review", "compare_class=三类", store_path=small_store)
    with pytest.raises(ParameterError, match="must be a day inside the data"):
        check("launch_review", "sku=S03", "launch_date=2027-01-01", store_path=small_store)
    with pytest.raises(ParameterError, match="must not both be set"):
        check("launch_review", "sku=S03", "brand=丙", store_path=small_store)
    assert check("launch_review", "sku=S03", store_path=small_store).sku == "S03"


def test_a_store_that_does_not_exist(tmp_path):
    with pytest.raises(ParameterError) as e:
        check("sales_trends", store_path=str(tmp_path / "none.duckdb"))
    assert str(e.value) == (f"The 'store' parameter of sales_trends must be an existing store. "
                            f"Got '{tmp_path / 'none.duckdb'}' instead (no such file).")


def test_an_error_of_the_value_itself_comes_before_the_store(tmp_path):
    with pytest.raises(ParameterError, match="'lookback_months' parameter of sales_trends"):
        check("sales_trends", "lookback_months=1", "month=last-1", store_path=str(tmp_path / "none.duckdb"))


def test_run_stops_before_any_kernel_and_leaves_no_folder(small_store, tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(reports.execute, "execute_notebook", lambda *a, **k: started.append(a))
    out = tmp_path / "out"
    for params in (["month=2030-01"], ["filters={region: [区1]}"]):
        with pytest.raises(ParameterError):
            reports.run_report("sales_trends", params, store=small_store, out=out)
    with pytest.raises(AnalysisError):
        reports.run_report("launch_review", ["sku=S9"], store=small_store, out=out)
    assert not started and not out.exists()


AGENCY = ("agency_monthly", "agent_retention", "agency_scorecard", "agency_target_plan")


@pytest.fixture
def tobacco_store_with_agents(tmp_path):
    """A store with order lines and an agents table with rows, but no policies."""
    path = tmp_path / "no_policies.duckdb"
    con = store.connect(str(path))
    con.create_table("orders", pd.DataFrame({"order_date": pd.to_datetime(["2026-01-05"]), "amount": [1.0],
                                             "qty": [1.0], "customer_id": ["c1"], "sku_id": ["S01"]}))
    con.create_table("agents", pd.DataFrame({"agent_id": ["A1"], "team": ["T1"]}))
    con.disconnect()
    return str(path)


@pytest.mark.parametrize("report", AGENCY)
def test_an_agency_report_names_the_missing_table_and_what_the_store_has(report, tobacco_store_with_agents):
    # a relative month is not resolved against the order lines first: the missing table is the error
    params = ["month=last-1"] if "month" in REPORTS[report].params.model_fields else []
    with pytest.raises(ParameterError) as e:
        check(report, *params, store_path=tobacco_store_with_agents)
    assert str(e.value) == (
        f"The 'store' parameter of {report} must be a store with the agency tables agents and policies "
        f"(`sales-analysis demo --profile agency` builds them). Got {tobacco_store_with_agents!r}, which has "
        f"no table 'policies'; its tables: agents, orders.")


def test_an_empty_agents_table_is_named(tmp_path):
    path = tmp_path / "empty_agents.duckdb"
    con = store.connect(str(path))
    con.raw_sql("CREATE TABLE agents (agent_id VARCHAR)")
    con.disconnect()
    with pytest.raises(ParameterError, match=r"which has no rows in 'agents'; its tables: agents\.$"):
        check("agency_scorecard", store_path=str(path))


def test_run_of_an_agency_report_without_policies_exits_2_before_any_kernel(tobacco_store_with_agents, tmp_path,
                                                                          monkeypatch, capsys):
    """`sales-analysis run agency_monthly --store <no policies>`: exit 2, one line, no folder."""
    import sys

    from analysis.cli import main

    started = []
    monkeypatch.setattr(reports.execute, "execute_notebook", lambda *a, **k: started.append(a))
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", ["sales-analysis", "run", "agency_monthly", "--store", tobacco_store_with_agents,
                                      "--out", str(out)])
    with pytest.raises(SystemExit) as e:
        main()
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sales-analysis: error: The 'store' parameter of agency_monthly")
    assert err.rstrip().endswith("which has no table 'policies'; its tables: agents, orders.")
    assert not started and not out.exists()
