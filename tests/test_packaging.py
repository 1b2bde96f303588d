"""Packaging: environment.yml agrees with pyproject.toml; the lock avoids the ibis/sqlglot trap."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from pipeline_helpers import ROOT

# conda-forge names that differ from the PyPI names
CONDA_TO_PYPI = {"python-duckdb": "duckdb"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_deps() -> dict[str, Requirement]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    reqs = [Requirement(r) for r in data["project"]["dependencies"]]
    return {_norm(r.name): r for r in reqs}


def _environment_deps() -> dict[str, SpecifierSet]:
    """{normalised PyPI name: version specifier} of environment.yml (conda entries and the pip section)."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert "conda-forge" in env["channels"]
    out: dict[str, SpecifierSet] = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for pip_dep in dep.get("pip", []):
                req = Requirement(pip_dep)
                out[_norm(req.name)] = req.specifier
            continue
        name, spec = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", dep).groups()
        if name in ("python", "pip"):
            continue
        out[_norm(CONDA_TO_PYPI.get(name, name))] = SpecifierSet(spec.replace(" ", ""))
    return out


def _lock() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, ver = line.split("==", 1)
            pins[_norm(name)] = Version(ver.strip())
    return pins


def test_environment_names_agree_with_pyproject():
    assert set(_environment_deps()) == set(_pyproject_deps())


def test_environment_versions_agree_with_pyproject():
    env = _environment_deps()
    for name, req in _pyproject_deps().items():
        assert env[name] == req.specifier, f"{name}: environment.yml {env[name]}, pyproject {req.specifier}"


def test_lock_pins_ibis_with_a_compatible_sqlglot_and_safe_nbconvert():
    pins = _lock()
    assert Version("12") <= pins["ibis-framework"] < Version("13")
    assert pins["sqlglot"] < Version("28")
    assert Version("1.1") <= pins["duckdb"] < Version("2")
    assert pins["pandas"] >= Version("3")  # the current pandas major is the one tested
    assert pins["nbconvert"] >= Version("7.17.1")  # CVE-2026-39378 (embed_images path traversal)
    for name, req in _pyproject_deps().items():
        assert name in pins, f"{name} is not in requirements.lock"
        assert req.specifier.contains(pins[name], prereleases=True), f"lock pins {name} {pins[name]}, wants {req.specifier}"


def test_installed_versions_are_the_locked_ones():
    from importlib.metadata import version

    pins = _lock()
    for name in ("ibis-framework", "sqlglot", "nbconvert", "papermill", "nbformat", "duckdb"):
        assert Version(version(name)) == pins[name], name


def test_store_refuses_an_incompatible_duckdb(tmp_path):
    """The ceilings of pyproject.toml are enforced where a store is opened, in one line."""
    from analysis import store
    from analysis.errors import StoreError

    store.check_driver_versions()  # the installed (locked) versions pass
    for name, bad in (("duckdb", "2.0.1"), ("ibis-framework", "13.0.0"), ("sqlglot", "28.0.0"), ("duckdb", "1.0.0")):
        with pytest.raises(StoreError) as err:
            store.check_driver_versions({name: bad})
        msg = str(err.value)
        assert "\n" not in msg and f"{name} {bad}" in msg and "requirements.lock" in msg
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {_norm(Requirement(r).name): Requirement(r).specifier for r in data["project"]["dependencies"]}
    for name, (low, high, _why) in store.COMPATIBLE.items():  # one statement of each range
        assert declared[name] == SpecifierSet(f">={low},<{high}"), name


def test_create_table_works_on_duckdb(tmp_path):
    import ibis
    import pandas as pd

    con = ibis.duckdb.connect(str(tmp_path / "t.duckdb"))
    t = con.create_table("orders", pd.DataFrame({"region": ["市区", "北县", "市区"], "amount": [1.0, 2.0, 4.0]}))
    got = t.group_by("region").agg(total=t.amount.sum()).order_by("region").to_pandas()
    assert got.to_dict("list") == {"region": ["北县", "市区"], "total": [2.0, 5.0]}
    con.disconnect()


# --------------------------------------------------------------------------- outside the repository


def test_python_m_analysis_is_the_command():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "analysis", "--help"], capture_output=True, text=True, cwd="/")
    assert r.returncode == 0, r.stderr
    for command in ("run", "run-batch", "notebooks", "kernel", "index"):
        assert command in r.stdout


def test_the_notebooks_ship_inside_the_package():
    """analysis/notebooks holds every report's notebook (a link to notebooks/ in the checkout;
    pyproject's package-data puts them in the wheel)."""
    from analysis.params import REPORTS
    from analysis.reports import packaged_notebooks

    shipped = packaged_notebooks()
    in_repo = [spec for spec in REPORTS.values() if (ROOT / spec.notebook).is_file()]
    assert len(in_repo) >= 3
    for spec in in_repo:
        assert (shipped / Path(spec.notebook).name).is_file(), spec.notebook
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = data["tool"]["setuptools"]["package-data"]["analysis"]
    if "notebooks/*.ipynb" not in package_data:
        pytest.xfail("pyproject.toml's package-data does not list notebooks/*.ipynb yet")


def test_runs_outside_the_project_use_the_shipped_notebooks(tmp_path, monkeypatch):
    """From a folder that is no project, a run finds the packaged notebook; `notebooks --copy`
    gives an analyst copies there, which runs from that folder then use."""
    import subprocess
    import sys

    from analysis.reports import notebook_path, packaged_notebooks, report_spec

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SALES_ANALYSIS_HOME", str(tmp_path))
    spec = report_spec("sales_trends")
    assert notebook_path(spec) == packaged_notebooks() / "sales_trends.ipynb"
    env = {**__import__("os").environ, "SALES_ANALYSIS_HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "analysis", "notebooks", "--copy", "notebooks"],
                       capture_output=True, text=True, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    from analysis.params import REPORTS

    expected = sorted(Path(s.notebook).name for s in REPORTS.values() if (packaged_notebooks() / Path(s.notebook).name).is_file())
    assert {"incentive_retention.ipynb", "launch_review.ipynb", "sales_trends.ipynb"} <= set(expected)
    assert sorted(p.name for p in (tmp_path / "notebooks").iterdir()) == expected
    assert notebook_path(spec) == tmp_path / "notebooks" / "sales_trends.ipynb"
    same = subprocess.run([sys.executable, "-m", "analysis", "notebooks", "--copy", "notebooks"],
                          capture_output=True, text=True, cwd=tmp_path, env=env)
    assert same.returncode == 0, same.stderr  # they are the ones in use: nothing to do
    for expected in (0, 2):  # a second copy into another folder would overwrite edits: refused
        r = subprocess.run([sys.executable, "-m", "analysis", "notebooks", "--copy", "mine"],
                           capture_output=True, text=True, cwd=tmp_path, env=env)
        assert r.returncode == expected, r.stderr
    assert "pass --force" in r.stderr


def test_a_run_needs_no_registered_kernel():
    import sys

    from analysis.reports import kernel_manager_class

    km = kernel_manager_class({})(kernel_name="no-such-kernel")
    assert km.kernel_spec.argv[:3] == [sys.executable, "-m", "ipykernel_launcher"]


# --------------------------------------------------------------------------- docs that stand alone

USER_DOCS = ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")),
             "schedules/demo.yml", "schedules/monthly.yml", "params/launch.yml", "my_columns.yml"]
GENERATED = ("data/", "reports/", "build/", "exports/", ".venv/", "logs/reports.log", "notebooks/X.")


def test_docs_point_only_inside_the_repository():
    for name in USER_DOCS:
        text = (ROOT / name).read_text(encoding="utf-8")
        assert "../" not in text, f"{name} points outside the repository"
        assert not re.search(r"\bissues?\s+#?\d+|(?<![\w&#])#\d+\b", text, re.I), f"{name} names an issue number"


def test_files_the_readme_and_docs_name_exist():
    named = set()
    for name in USER_DOCS:
        text = (ROOT / name).read_text(encoding="utf-8")
        for token in re.findall(r"`([^`\s]+)`", text):
            token = token.rstrip(".,:")
            if re.fullmatch(r"[\w.\-]+/[\w.\-/]*\.(yml|yaml|md|py|ipynb|sh|toml|cfg|lock)|[\w.\-]+/|my_columns\.yml",
                            token):
                named.add(token)
    assert {"params/launch.yml", "my_columns.yml", "docs/CONTRACTS.md", "schedules/monthly.yml"} <= named
    for token in sorted(named):
        if token.startswith(GENERATED) or token.startswith("/") or "<" in token:
            continue
        assert (ROOT / token).exists() or (ROOT / "src" / token).exists(), f"{token} is named but does not exist"
    assert (ROOT / "logs").is_dir()  # the cron example appends to logs/reports.log


def test_the_example_files_are_valid():
    from analysis.reports import prepare_parameters, report_spec

    model = prepare_parameters(report_spec("launch_review"), None, ROOT / "params" / "launch.yml")
    assert model.sku == "S044" and model.window_days == 30
    model = prepare_parameters(report_spec("sales_trends"), None, ROOT / "params" / "sales_trends.yml")
    assert model.filters == {"region": ["市区"]}
    from analysis.contracts import TABLES

    mapping = yaml.safe_load((ROOT / "my_columns.yml").read_text(encoding="utf-8"))
    assert set(mapping.values()) <= set(TABLES["customers"].names)


def test_contracts_doc_is_current():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "contracts_doc.py"), "--check"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
