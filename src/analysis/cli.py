"""The ``sales-analysis`` command.

Every command takes ``--store PATH_OR_URL`` (default ``$SALES_ANALYSIS_STORE`` or
data/warehouse.duckdb). Errors print as one line, without a traceback, unless ``--debug``.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from .errors import AnalysisError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Sales-team analytics reports.")
STATE = {"debug": False}

StoreOpt = typer.Option(None, "--store", envvar="SALES_ANALYSIS_STORE", help="DuckDB file or URL of the store.")
ProgressOpt = typer.Option(None, "--progress/--no-progress",
                           help="Progress bars (default: only when the output is a terminal).")


@app.callback()
def _main(debug: bool = typer.Option(False, "--debug", help="Show tracebacks.")) -> None:
    STATE["debug"] = debug


@app.command()
def demo(
    seed: int = typer.Option(42, help="Random seed (same seed, identical world)."),
    scale: float = typer.Option(1.0, help="Size: 1 = 30,000 retailers (about 4M order lines); the workforce is fixed."),
    store: Optional[str] = StoreOpt,
    truth: Optional[Path] = typer.Option(None, help="Where to write the truth record (default data/demo_truth.json)."),
    null: bool = typer.Option(False, "--null", help="Null world: no incentive affects leaving, sales have no trend."),
    export: Optional[Path] = typer.Option(
        None, "--export", help="Write the world as a department's export files (GBK CSV and XLSX) into this folder "
                               "instead of a store (the store is left as it is)."),
    shape: Optional[str] = typer.Option(
        None, "--shape", help="With --export: slim (order lines without region/rep/brand/price class, the default) "
                              "or full."),
    profile: str = typer.Option(
        "tobacco", "--profile", help="The world: tobacco (order lines, retailers, SKUs; the default) or agency "
                                     "(a life-insurance branch: agents, policies, added to the store beside its other tables)."),
) -> None:
    """Build the demo world into the store and write its truth record (``--null``: the null world);
    with ``--export DIR``, write it as export files and print the ingest commands that load them."""
    from . import demo as demo_mod

    if profile not in demo_mod.PROFILES:
        from .errors import ParameterError

        raise ParameterError(f"The 'profile' parameter of demo must be one of {', '.join(demo_mod.PROFILES)}. "
                             f"Got {profile!r} instead.")
    if export is not None:
        from . import demo_export

        if profile == "agency":
            if shape is not None:
                from .errors import ParameterError

                raise ParameterError(f"The 'shape' parameter of demo applies to the tobacco profile only. "
                                     f"Got {shape!r} with --profile agency.")
            summary = demo_export.export_agency_world(export, seed=seed, scale=scale, null=null)
        else:
            summary = demo_export.export_world(export, shape or "slim", seed=seed, scale=scale, null=null)
        commands = summary.pop("commands")
        files = summary.pop("files")
        for k, v in summary.items():
            typer.echo(f"{k}: {v}")
        typer.echo("files: " + ", ".join(f"{name} ({rows:,} rows)" for name, rows in files.items()))
        typer.echo("load them, in this order (also in README.txt):")
        for c in commands:
            typer.echo(c)
        return
    if shape is not None:
        from .errors import ParameterError

        raise ParameterError(f"The 'shape' parameter of demo applies with --export only. Got {shape!r} without it.")
    summary = demo_mod.build_profile(profile, store=store, seed=seed, scale=scale, truth_path=truth, null=null)
    for k, v in summary.items():
        typer.echo(f"{k}: {v}")


@app.command()
def ingest(
    table: str = typer.Argument(..., help="Canonical table: orders, customers, products, reps, targets, ..."),
    file: Path = typer.Argument(..., help="CSV/text (UTF-8, GBK, UTF-16), XLSX, XLS, XLSB, ODS or Parquet file."),
    mapping: Optional[Path] = typer.Option(None, "--mapping", help="YAML: {source column: canonical name}."),
    replace_period: Optional[str] = typer.Option(
        None, "--replace-period", help="A month (2026-10): replace that month's rows with the file's, in one transaction."),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="Sheet of a spreadsheet (default: the first)."),
    header_row: Optional[str] = typer.Option(
        None, "--header-row", help="The header's row, as the sheet numbers it (3, or 2-3 over two rows); default: found."),
    date_min: Optional[str] = typer.Option(
        None, "--date-min", help="Earliest plausible date (default 1990-01-01); earlier dates are quarantined."),
    grade_bands: Optional[str] = typer.Option(
        None, "--grade-bands", help="Grade bands for customers' size class (default 1-10:small,11-20:medium,21-30:large)."),
    force: bool = typer.Option(
        False, "--force", help="With --replace-period: replace even when the month would lose more than half its rows."),
    update: bool = typer.Option(
        False, "--update", help="customers, products, reps: apply a newer export (add, update, keep; history kept)."),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="With --update: the day changes take effect (default: the first day after the "
                              "month of the latest stored order)."),
    quarantine: Optional[Path] = typer.Option(
        None, "--quarantine", help="Folder of the quarantine file <table>.csv (default: beside the store file; "
                                   "a PostgreSQL store: a folder named after it in the user's data folder)."),
    store: Optional[str] = StoreOpt,
) -> None:
    """Read, normalise and validate a file; append accepted rows in one transaction, quarantine the rest."""
    from . import ingest as ingest_mod

    result = ingest_mod.ingest_file(table, file, store=store, mapping=mapping, replace_period=replace_period,
                                    sheet=sheet, date_min=date_min, grade_bands=grade_bands, force=force,
                                    update=update, as_of=as_of, header_row=header_row,
                                    quarantine_path=quarantine / f"{table}.csv" if quarantine else None)
    typer.echo(result.summary())


@app.command()
def history(store: Optional[str] = StoreOpt) -> None:
    """List the loads of the store: id, time, table, mode, rows added and replaced, file."""
    from . import ingest as ingest_mod

    typer.echo(ingest_mod.history_text(ingest_mod.history(store)))


@app.command()
def undo(
    load: Optional[int] = typer.Argument(None, help="The load to take back (default: the latest not undone)."),
    store: Optional[str] = StoreOpt,
) -> None:
    """Take back one load in one transaction: remove what it added, restore what it replaced."""
    from . import ingest as ingest_mod

    typer.echo(ingest_mod.undo(store, load).summary())


@app.command()
def check(
    store: Optional[str] = StoreOpt,
    date_min: Optional[str] = typer.Option(None, "--date-min", help="Earliest plausible date (default 1990-01-01)."),
) -> None:
    """Validate the whole store against the contracts (the rules ingest runs); print a per-table summary."""
    import datetime as dt

    from . import ingest as ingest_mod
    from .contracts import Settings
    from .errors import ParameterError

    settings = None
    if date_min:
        try:
            settings = Settings(date_min=dt.date.fromisoformat(date_min))
        except ValueError:
            raise ParameterError(f"The 'date_min' parameter of check must be a date like 1990-01-01. "
                                 f"Got {date_min!r} instead.") from None
    ok, text = ingest_mod.check_store(store=store, settings=settings)
    typer.echo(text)
    from . import model
    from . import store as store_mod

    loc = store_mod.resolve_store(store)
    con = store_mod.connect(loc, read_only=not store_mod.is_url(loc))
    try:
        attribution = model.check(con) if store_mod.has_rows(con, "orders") else None
    finally:
        con.disconnect()
    if attribution is not None:
        typer.echo("\n".join(attribution.lines()))
        ok = ok and attribution.ok
    if not ok:
        raise typer.Exit(1)


@app.command(context_settings={"help_option_names": []})
def run(
    ctx: typer.Context,
    report: Optional[str] = typer.Argument(
        None, help="sales_trends, launch_review, incentive_retention, rep_scorecard or target_plan"),
    param: List[str] = typer.Option([], "-p", "--param", help="name=value (repeatable); see run REPORT --help."),
    param_file: Optional[Path] = typer.Option(None, "-f", "--param-file", help="YAML file of parameters."),
    store: Optional[str] = StoreOpt,
    out: Path = typer.Option(Path("reports"), "--out", help="Output folder."),
    timeout: int = typer.Option(600, "--timeout", help="Per-cell execution timeout in seconds."),
    name: Optional[str] = typer.Option(None, "--name", help="Output name (default: the report name)."),
    pdf: bool = typer.Option(False, "--pdf", help="Also write a PDF of the HTML (needs headless Chromium)."),
    docx: bool = typer.Option(False, "--docx", help="Also write a Word document of the report (.docx)."),
    progress: Optional[bool] = ProgressOpt,
    show_help: bool = typer.Option(False, "--help", "-h",
                                   help="Show this message and exit; with REPORT, also the report's parameters."),
) -> None:
    """Run one report: validate parameters (and check them against the store), execute the notebook,
    export HTML + metrics.json. `run REPORT --help` lists the report's parameters."""
    import click

    from . import reports

    if show_help:
        typer.echo(ctx.get_help())
        if report is not None:
            typer.echo("")
            typer.echo(reports.parameter_help(report))
        raise typer.Exit(0)
    if report is None:
        raise click.UsageError("Missing argument 'REPORT'.", ctx=ctx)
    result = reports.run_report(
        report, params=param, param_file=param_file, store=store, out=out, timeout=timeout, output_name=name,
        pdf=pdf, docx=docx, progress=progress,
    )
    typer.echo(result.summary())
    if not result.ok:
        raise typer.Exit(1)


@app.command("run-batch")
def run_batch(
    schedule: Path = typer.Argument(..., help="YAML schedule of reports."),
    store: Optional[str] = StoreOpt,
    out: Path = typer.Option(Path("reports"), "--out", help="Output folder."),
    jobs: int = typer.Option(2, "--jobs", help="Reports run at once."),
    timeout: int = typer.Option(600, "--timeout", help="Per-cell execution timeout in seconds."),
    pdf: bool = typer.Option(False, "--pdf", help="Also write a PDF of each report (needs headless Chromium)."),
    progress: Optional[bool] = ProgressOpt,
    log_format: str = typer.Option("text", "--log-format",
                                   help="The log on stdout: text lines, or json (JSON Lines for log collectors)."),
) -> None:
    """Run a schedule of reports; keep going past failures; exit non-zero if any failed.

    The log holds a header line (time, schedule, store, out), one line per report (start time,
    duration, status, output or error and FAILED notebook) and an end line.
    """
    from . import reports

    ok = reports.run_batch(schedule, store=store, out=out, jobs=jobs, timeout=timeout, pdf=pdf, progress=progress,
                           log_format=log_format)
    if not ok:
        raise typer.Exit(1)


@app.command()
def meeting(
    month: str = typer.Option("last", "--month", help="The month YYYY-MM (default: the last complete month of the data)."),
    store: Optional[str] = StoreOpt,
    out: Path = typer.Option(Path("reports"), "--out", help="Output folder (the pack goes to <out>/meeting/<month>/)."),
    lang: str = typer.Option("zh", "--lang", help="Language of the pack (a catalogue: zh, en)."),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Also print the PDF (needs headless Chromium)."),
    weekly: bool = typer.Option(False, "--weekly", help="The weekly flash (周报) instead: the month to date on --as-of."),
    as_of: str = typer.Option("", "--as-of", help="With --weekly: the day YYYY-MM-DD (default: the last order date)."),
    profile: str = typer.Option("auto", "--profile", help="Whose pack: sales, agency (a life-insurance branch: "
                                "agency monthly report, team scorecard, agency targets, agent retention), or auto "
                                "(agency on a store with agents and policies and no order lines)."),
) -> None:
    """The monthly meeting pack: summary, launch reviews, scorecard, next month's targets (HTML, PDF, DOCX).

    With --weekly: the weekly flash for the weekly meeting (month to date against target and time
    elapsed in working days, week on week, who is furthest behind pace)."""
    if weekly:
        from .meeting.weekly import build_flash

        res = build_flash(as_of=as_of, store=store, out=out, lang=lang, pdf=pdf)
        typer.echo(f"weekly flash {res['metrics']['period']}: {res['html']}\n  docx: {res['docx']}\n  "
                   + (f"pdf: {res['pdf']}" if res["pdf"] else str(res["pdf_note"])))
        return
    from .meeting import build_pack

    typer.echo(build_pack(month=month, store=store, out=out, lang=lang, pdf=pdf, profile=profile).summary())


@app.command()
def index(
    out: Path = typer.Option(Path("reports"), "--out", help="Output folder of the runs."),
    lang: Optional[str] = typer.Option(None, "--lang", help="A language with a catalogue (default: the runs' own "
                                       "when they share one, else zh)."),
) -> None:
    """Rebuild <out>/index.html from the runs found there."""
    from . import i18n, reports

    if lang is not None and lang not in i18n.languages():
        raise typer.BadParameter(f"--lang must be one of {', '.join(i18n.languages())}. Got {lang!r} instead.")
    typer.echo(reports.write_index(out, lang=lang))


@app.command()
def notebooks(
    copy: Optional[Path] = typer.Option(None, "--copy", help="Copy the report notebooks into this folder."),
    force: bool = typer.Option(False, "--force", help="With --copy: replace notebooks already there."),
) -> None:
    """List the report notebooks a run uses, or copy them to a folder to open in JupyterLab.

    A run uses DIR/notebooks/<report>.ipynb when it runs in DIR (the project folder), else the
    copy shipped inside the package: `--copy notebooks` in a fresh folder gives analysts
    notebooks to edit, and runs from that folder then use them.
    """
    import shutil

    from .errors import ParameterError, ReportRunError
    from .params import REPORTS
    from .reports import notebook_path

    paths = {}
    for name, spec in sorted(REPORTS.items()):
        try:
            paths[name] = notebook_path(spec)
        except ReportRunError:
            typer.echo(f"{name}: (no notebook in this installation)")
    if copy is None:
        for name, p in paths.items():
            typer.echo(f"{name}: {p}")
        return
    copy.mkdir(parents=True, exist_ok=True)
    for name, p in paths.items():
        target = copy / p.name
        if target.exists() and not force and target.resolve() != p.resolve():
            raise ParameterError(f"{target} exists; pass --force to replace it.")
        if target.resolve() != p.resolve():
            shutil.copyfile(p, target)
        typer.echo(f"{name}: {target}")


kernel_app = typer.Typer(no_args_is_help=True, help="The Jupyter kernel for opening the notebooks in JupyterLab.")
app.add_typer(kernel_app, name="kernel")


@kernel_app.command("install")
def kernel_install(
    user: bool = typer.Option(False, "--user", help="Install for the user instead of this environment."),
) -> None:
    """Register this Python as the 'sales-analysis' Jupyter kernel (runs do not need it)."""
    import sys

    from ipykernel.kernelspec import install

    from .reports import KERNEL_NAME

    where = install(user=user, prefix=None if user else sys.prefix, kernel_name=KERNEL_NAME,
                    display_name="Python (sales-analysis)")
    typer.echo(f"kernel {KERNEL_NAME}: {where}")


@app.command()
def bench(
    sizes: str = typer.Option("1M,20M,100M", help="Order-line counts, comma separated."),
    workdir: Path = typer.Option(Path("data/bench"), help="Where the benchmark worlds are written."),
    variants: str = typer.Option(
        "project,pandas,polars,floor,ingest,ingest_floor",
        help="Variants: project, pandas, polars, floor (trends aggregates); ingest, ingest_floor (a GBK CSV); "
             "reports (the five reports on each engine of --engines)."),
    repeat: int = typer.Option(0, "--repeat", help="Runs per variant, best time kept (0: 2, pandas once above 20M, "
                                                   "reports once)."),
    engines: str = typer.Option("duckdb", help="For --variants reports: some of duckdb, postgresql, spark, "
                                               "spark-connect (servers started for the run)."),
) -> None:
    """Benchmark the trends metrics (vs pandas, Polars, a hand-written DuckDB query), ingest (vs DuckDB read_csv)
    and the five reports on DuckDB, PostgreSQL and a Spark cluster."""
    from . import bench as bench_mod

    bench_mod.main(sizes=sizes, workdir=workdir, variants=variants, repeat=repeat, engines=engines)


def main() -> None:
    """Entry point: run the app, print AnalysisError (and other failures) as one line."""
    debug = "--debug" in sys.argv
    try:
        rc = app(standalone_mode=False)  # click returns (not raises) typer.Exit codes here
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001
        import click

        if debug:
            raise
        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        kind = "error" if isinstance(exc, AnalysisError) else f"error ({type(exc).__name__})"
        typer.echo(f"sales-analysis: {kind}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", err=True)
        sys.exit(2 if isinstance(exc, AnalysisError) else 1)


if __name__ == "__main__":
    main()
