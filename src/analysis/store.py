"""The store: where canonical tables live, reached through Ibis.

``connect()`` opens the DuckDB file ``data/warehouse.duckdb`` of the project by default;
another ``.duckdb`` path, or a URL (``duckdb://…``, ``postgresql://…``, ``spark://local``)
selects another store. The environment variable ``SALES_ANALYSIS_STORE`` sets the default.

Nothing here loads a whole table into pandas: callers build Ibis expressions and
execute aggregates.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import ibis

from .errors import MissingColumnError, MissingTableError, StoreError

ENV_VAR = "SALES_ANALYSIS_STORE"
DEFAULT_STORE = Path("data") / "warehouse.duckdb"


def project_root() -> Path:
    """The project folder: ``$SALES_ANALYSIS_HOME``, else the nearest parent holding
    ``pyproject.toml`` and ``src/analysis``, else the current directory."""
    env = os.environ.get("SALES_ANALYSIS_HOME")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for p in (here, *here.parents):
        if (p / "pyproject.toml").exists() and (p / "src" / "analysis").is_dir():
            return p
    pkg = Path(__file__).resolve().parents[2]
    if (pkg / "pyproject.toml").exists():
        return pkg
    return here


def resolve_store(store: str | os.PathLike | None = None) -> str:
    """Return the store location that :func:`connect` would open, as a string.

    Examples
    --------
    >>> resolve_store("postgresql://u@localhost:5432/sales")
    'postgresql://u@localhost:5432/sales'
    """
    if store is None or str(store) == "":
        store = os.environ.get(ENV_VAR) or str(project_root() / DEFAULT_STORE)
    s = str(store)
    if "://" in s:
        return s
    p = Path(s)
    if not p.is_absolute():
        p = (Path.cwd() / p).resolve()
    return str(p)


def is_url(store: str) -> bool:
    return "://" in store


def connect(store: str | os.PathLike | None = None, read_only: bool = False) -> Any:
    """Open a store and return its Ibis backend.

    Parameters
    ----------
    store : str or path, optional
        A ``.duckdb`` file path, or a URL: ``duckdb:///path``, ``postgresql://user@host:port/db``,
        ``spark://local``. Default: ``$SALES_ANALYSIS_STORE`` or ``data/warehouse.duckdb``.
    read_only : bool
        Open a DuckDB file read-only (so several report runs can read at once).

    Examples
    --------
    >>> con = connect(":memory:")  # doctest: +SKIP
    """
    loc = resolve_store(store)
    try:
        if loc.endswith(":memory:"):
            return ibis.duckdb.connect()
        if not is_url(loc):
            path = Path(loc)
            if read_only and not path.exists():
                raise StoreError(
                    f"The store file {path} does not exist. Build it with `sales-analysis demo` "
                    "or load data with `sales-analysis ingest`."
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            return ibis.duckdb.connect(str(path), read_only=read_only)
        scheme = loc.split("://", 1)[0].lower()
        if scheme in ("spark", "pyspark"):
            return _connect_spark(loc)
        if scheme == "postgres":
            loc = "postgresql" + loc[len("postgres"):]
        return ibis.connect(loc)
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - the driver's own error, made one line
        raise StoreError(f"Cannot open store {loc!r}: {type(exc).__name__}: {exc}".splitlines()[0]) from exc


def _connect_spark(loc: str) -> Any:
    from pyspark.sql import SparkSession

    master = loc.split("://", 1)[1] or "local"
    master = "local[2]" if master in ("local", "") else master
    session = (
        SparkSession.builder.master(master)
        .appName("sales-analysis")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    return ibis.pyspark.connect(session)


def has_table(con: Any, name: str) -> bool:
    """True when the store has a table ``name`` (rows or not)."""
    try:
        return name in con.list_tables()
    except Exception:  # noqa: BLE001
        return False


def table(con: Any, name: str, needed_by: str = "", required: tuple[str, ...] = ()) -> Any:
    """Return the Ibis table ``name``; raise MissingTableError / MissingColumnError.

    Examples
    --------
    >>> orders = table(con, "orders", required=("order_date",))  # doctest: +SKIP
    """
    if not has_table(con, name):
        raise MissingTableError(name, needed_by)
    t = con.table(name)
    for col in required:
        if col not in t.columns:
            raise MissingColumnError(name, col, list(t.columns))
    return t


def has_rows(con: Any, name: str) -> bool:
    """True when table ``name`` exists and holds at least one row."""
    if not has_table(con, name):
        return False
    return bool(con.table(name).limit(1).count().execute())


def columns(con: Any, name: str) -> list[str]:
    """Column names of table ``name`` (empty when it does not exist)."""
    return list(con.table(name).columns) if has_table(con, name) else []
