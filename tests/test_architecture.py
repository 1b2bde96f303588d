"""The import rules of docs/ARCHITECTURE.md, checked on the source (every import, also inside functions).

Data move one way: store → metric modules (numbers and codes) → present (language) →
display / charts / excel. A case that today's code still breaks is marked
xfail(strict=True) with the module named, so the migration that fixes it flips the test.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "analysis"

METRIC_MODULES = ("trends", "launch", "retention", "scorecard", "target_plan", "flash")
ARITHMETIC_MODULES = ("allocation", "scheme", "scoring", "attainment", "scopes")  # shared by the metric modules
MODEL_MODULES = ("model",)  # the analysed sales lines every report reads
# the agency profile (analysis.agency): its model and report modules are metric modules; its text
# functions are narrative (the helper branch adds agency.retention* and agency.panel* to the metrics)
AGENCY_METRIC_MODULES = ("agency.model", "agency.monthly")
AGENCY_NARRATIVE = ("agency.monthly_text",)
PRESENTATION = ("analysis.display", "analysis.narrative", "analysis.present", "analysis.excel", "analysis.charts")
LANGUAGE = ("analysis.i18n",)
ENGINE = ("analysis.store", "analysis.engines", "ibis", "duckdb", "pyspark", "psycopg")


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Absolute names of every module imported by ``path`` (relative imports resolved; for
    ``from X import y`` both X and X.y, since y may be a submodule)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names if a.name != "*")
    return out


def modules(*names: str) -> list[Path]:
    """Source files of the named modules or packages under src/analysis (those that exist)."""
    found: list[Path] = []
    for n in names:
        p = PKG.joinpath(*n.split("."))
        if p.is_dir():
            found.extend(sorted(p.rglob("*.py")))
        elif p.with_suffix(".py").exists():
            found.append(p.with_suffix(".py"))
    return found


def offending(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(i for i in imports_of(path) if any(i == f or i.startswith(f + ".") for f in forbidden))


# (rule id, modules, forbidden imports)
RULES = [
    ("stats_takes_frames", ("stats",), ENGINE + PRESENTATION + LANGUAGE),
    ("charts_know_no_queries", ("charts",), ENGINE),
    ("metrics_do_no_presentation", METRIC_MODULES + ARITHMETIC_MODULES + MODEL_MODULES + AGENCY_METRIC_MODULES,
     PRESENTATION),
    ("metrics_carry_no_language", METRIC_MODULES + ARITHMETIC_MODULES + MODEL_MODULES + AGENCY_METRIC_MODULES,
     LANGUAGE),
    ("sections_are_language_free", ("sections",), ENGINE + PRESENTATION + LANGUAGE),
    ("i18n_is_data_only", ("i18n",), ENGINE + PRESENTATION),
    ("present_renders_frames", ("present", "excel"), ENGINE),
    ("narrative_reads_no_store", ("narrative",) + AGENCY_NARRATIVE, ENGINE),
]

# Known breaks of today's code, each fixed by the migration onto analysis.sections/present.
KNOWN = {
}

CASES = []
for rule, names, forbidden in RULES:
    for path in modules(*names):
        mod = module_name(path)
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN[(rule, mod)])] if (rule, mod) in KNOWN else []
        CASES.append(pytest.param(rule, path, forbidden, id=f"{rule}:{mod}", marks=marks))


@pytest.mark.parametrize("rule, path, forbidden", CASES)
def test_import_rule(rule, path, forbidden):
    bad = offending(path, forbidden)
    assert not bad, f"{module_name(path)} breaks rule {rule}: imports {', '.join(bad)}"


def test_the_rules_cover_the_modules_they_name():
    # the new framework and today's reports are all checked (a renamed module must not escape silently)
    checked = {module_name(p) for _, names, _ in RULES for p in modules(*names)}
    for mod in ("analysis.trends", "analysis.launch", "analysis.retention", "analysis.sections", "analysis.i18n",
                "analysis.model", "analysis.agency.model", "analysis.agency.monthly", "analysis.agency.monthly_text",
                "analysis.present", "analysis.excel", "analysis.stats.survival", "analysis.charts.trends"):
        assert mod in checked, mod


def test_imports_of_resolves_relative_and_lazy_imports(tmp_path):
    text = PKG.joinpath("notebook.py").read_text(encoding="utf-8")
    assert "        from .present import Presenter" in text  # imported inside a method
    found = imports_of(PKG / "notebook.py")
    assert {"analysis.present", "analysis.spec", "analysis.sections", "analysis.recorder"} <= found


def test_architecture_document_names_every_rule_and_module():
    doc = (SRC.parent / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for rule, _, _ in RULES:
        assert f"`{rule}`" in doc, rule
    for mod in ("sections", "i18n", "present", "excel", "display", "charts", "stats", "store", "narrative", "model"):
        assert f"analysis.{mod}" in doc, mod


# ------------------------------------------------------------------ the "may import" column
def _doc_rows() -> list[tuple[list[str], str]]:
    """(modules, may-import text) of each row of the document's module table."""
    import re

    doc = (SRC.parent / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = doc.split("## Modules", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith(("`", "metric")):
            continue
        mods = re.findall(r"`(analysis\.[a-z0-9_.]+)`", cells[0])
        rows.append((mods, re.sub(r"\([^)]*\)", "", cells[2])))
    return rows


def allowed_imports() -> dict[str, set[str]]:
    """module → the top-level ``analysis`` modules it may import.

    "nothing" allows nothing; "anything above" every module of an earlier row; "except x" takes
    x out; otherwise the names listed (``errors`` → ``analysis.errors``; other words are prose).
    The modules of one row may import one another."""
    import re

    name = r"[a-z_][a-z0-9_]*"
    out: dict[str, set[str]] = {}
    above: list[str] = []
    for mods, text in _doc_rows():
        words = set(re.findall(name, text.split("except")[0]))
        allowed = {f"analysis.{w}" for w in words} | set(mods)  # a row's modules may use one another
        if "anything" in words:
            allowed |= set(above)
        if "except" in text:
            allowed -= {f"analysis.{w}" for w in re.findall(name, text.split("except", 1)[1])}
        for m in mods:
            out[m] = allowed
        above.extend(mods)
    return out


def _top(name: str) -> str:
    parts = name.split(".")
    return ".".join(parts[:2])


def may_import_cases():
    cases = []
    for mod, allowed in allowed_imports().items():
        for path in modules(mod.split(".", 1)[1]):
            cases.append(pytest.param(mod, path, allowed, id=module_name(path)))
    return cases


@pytest.mark.parametrize("mod, path, allowed", may_import_cases())
def test_modules_import_only_what_the_document_allows(mod, path, allowed):
    own = {_top(mod)}
    used = {_top(i) for i in imports_of(path) if i.startswith("analysis.")} - own - {"analysis"}
    bad = sorted(used - allowed)
    assert not bad, f"{module_name(path)} imports {', '.join(bad)}; ARCHITECTURE.md allows {sorted(allowed) or 'nothing'}"


def test_the_document_lists_every_module():
    listed = set(allowed_imports())
    tops = {_top(module_name(p)) for p in PKG.rglob("*.py")} - {"analysis", "analysis.__main__"}
    missing = sorted(t for t in tops if t not in listed)
    assert not missing, f"ARCHITECTURE.md's module table omits {', '.join(missing)}"
