"""Write docs/CONTRACTS.md from analysis.contracts and analysis.aliases (the one place the
tables are defined), or check that it is current.

Usage: .venv/bin/python scripts/contracts_doc.py [--check]
(``--check`` exits 1 when the file differs from what the code gives; a test runs it.)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "CONTRACTS.md"

UNIT_TEXT = {
    "money": "yuan (元)",
    "volume": "cartons (条)",
    "money/volume": "yuan per carton",
    "money|volume": "yuan or cartons (by the row's measure)",
}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render() -> str:
    """The text of docs/CONTRACTS.md."""
    from analysis import aliases, contracts

    out = [
        "# Data contracts: the canonical tables",
        "",
        "Generated from `src/analysis/contracts.py` and `src/analysis/aliases.py` by",
        "`scripts/contracts_doc.py` (a test checks it is current): edit those, then run",
        "`.venv/bin/python scripts/contracts_doc.py`.",
        "",
        "Column names are English snake_case. `sales-analysis ingest TABLE FILE` also accepts the",
        "Chinese headers listed for each column (and a mapping file of your own: `--mapping",
        "my_columns.yml`, see the example at the repository root). Only *required* columns must",
        "exist; a report section that needs a missing table or column is skipped with a visible note.",
        "",
    ]
    for name, spec in contracts.TABLES.items():
        out += [f"## {name}", ""]
        facts = []
        if spec.key:
            facts.append(f"key: {' + '.join(f'`{k}`' for k in spec.key)}")
        for group in spec.one_of:
            facts.append("at least one of " + " or ".join(f"`{c}`" for c in group))
        if spec.references:
            facts.append("references: " + ", ".join(f"`{c}` → {t}" for c, t in spec.references.items()))
        if spec.keep_extra:
            facts.append("other columns are kept (incentive and control variables)")
        if spec.period_column:
            facts.append(f"period column (`--replace-period`): `{spec.period_column}`")
        if facts:
            out += ["; ".join(facts) + ".", ""]
        out += ["| column | type | required | values | unit | accepted headers |", "|---|---|---|---|---|---|"]
        names = aliases.aliases_for(name)
        for c in spec.columns:
            values = []
            if c.allowed:
                values.append(", ".join(str(v) for v in c.allowed))
            if c.min_value is not None or c.max_value is not None:
                lo = "" if c.min_value is None else f"{c.min_value:g}"
                hi = "" if c.max_value is None else f"{c.max_value:g}"
                values.append(f"{lo} – {hi}".strip())
            if not c.nullable:
                values.append("not empty")
            if c.grade:
                values.append("grade 1–30 (also 25档)")
            if c.free_text:
                values.append("free text, kept as written")
            if c.future_ok:
                values.append("may lie in the future")
            headers = ", ".join(names.get(c.name, ()))
            out.append("| " + " | ".join(_cell(x) for x in (
                f"`{c.name}`", c.dtype, "yes" if c.required else "", "; ".join(values),
                UNIT_TEXT.get(c.unit or "", c.unit or ""), headers)) + " |")
        out.append("")
    from analysis import model

    out += [
        "## How a sale is attributed",
        "",
        "Order exports are often slim (order, line, date, customer, SKU, quantity, amount): the region",
        "and the serving account manager live in the customers export, brand and price class in the",
        "products export. Every report, `check` and the batch's `for_each` read order lines through",
        "`analysis.model.sales_lines`, which resolves each dimension of a line by one rule, in order:",
        "",
        "1. a value written on the line (the state at the time of sale) wins;",
        "2. else the master row valid at the sale date, from `<master>_history` (`valid_from` ≤ sale",
        "   date < `valid_to`; empty = open); `ingest customers FILE --update` keeps that history;",
        "3. else the current master row (`customers`, `products`);",
        "4. else the line is *unattributed* for that dimension.",
        "",
        "| dimension | master (looked up by) | may be on the line |",
        "|---|---|---|",
    ]
    for d in model.DIMENSIONS.values():
        out.append(f"| `{d.name}` | {d.master} (`{d.key}`) | {'yes' if d.on_line else ''} |")
    out += [
        "",
        f"A report section grouping by a dimension shows unattributed lines as one row (未归属 /",
        f"unattributed) with a note naming the share and the most frequent unresolved codes; when the",
        f"dimension resolves for less than {model.MIN_COVERAGE:.0%} of the amount the section is skipped with",
        "a reason naming the missing table or column. metrics.json carries `coverage` {dimension: share}.",
        "Without a customers history, a line without a rep takes today's rep of its customer, and the",
        "reports say so. `sales-analysis check` prints every dimension's share, broken references",
        f"(codes not in their master, with samples) and lines whose own value contradicts the master; it",
        f"exits 1 when one of {', '.join(model.REQUIRED_DIMENSIONS)} resolves for less than {model.MIN_COVERAGE:.0%}.",
        "",
        "## Units in headers",
        "",
        "A header may carry its unit, for example `金额(万元)` or `销量(箱)`; ingest converts the values",
        "to the contract's unit and says so.",
        "",
        "| kind | unit → factor |",
        "|---|---|",
        "| money (to yuan) | " + ", ".join(f"{u} ×{f}" for u, f in aliases.MONEY_UNITS.items()) + " |",
        "| volume (to cartons) | " + ", ".join(f"{u} ×{f}" for u, f in aliases.VOLUME_UNITS.items()) + " |",
        "",
        "## Category values",
        "",
        "| column | accepted → stored |",
        "|---|---|",
    ]
    for col, mapping in aliases.VALUES.items():
        out.append(f"| `{col}` | " + _cell(", ".join(f"{k} → {v}" for k, v in mapping.items())) + " |")
    out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/CONTRACTS.md is not current")
    args = ap.parse_args(argv)
    text = render()
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print("docs/CONTRACTS.md is not current: run .venv/bin/python scripts/contracts_doc.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(TARGET.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
