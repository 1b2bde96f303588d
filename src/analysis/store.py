"""The store: where canonical tables live, reached through Ibis.

``connect()`` opens the DuckDB file ``data/warehouse.duckdb`` of the project by default;
another ``.duckdb`` path, or a URL (``duckdb://…``, ``postgresql://…``, ``spark://local``,
``spark://host:7077``, ``sc://host:15002``) selects another store. The environment variable ``SALES_ANALYSIS_STORE`` sets the default.

Nothing here loads a whole table into pandas: callers build Ibis expressions and
execute aggregates.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import ibis

from .errors import MissingColumnError, MissingTableError, StoreError

ENV_VAR = "SALES_ANALYSIS_STORE"
LOCK_TIMEOUT_ENV = "SALES_ANALYSIS_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT_S = 30.0
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
        if s.split("://", 1)[0].lower() in ("spark", "pyspark", "sc") and "warehouse=" in s:
            # a relative warehouse folder means the caller's folder, wherever the report runs
            head, _, wh = s.partition("warehouse=")
            wh, amp, tail = wh.partition("&")
            if wh and not Path(wh).is_absolute():
                s = head + "warehouse=" + str((Path.cwd() / wh).resolve()) + amp + tail
        return s
    p = Path(s)
    if not p.is_absolute():
        p = (Path.cwd() / p).resolve()
    return str(p)


def is_url(store: str) -> bool:
    return "://" in store


#: The driver versions the store works with, and why each ceiling is there (pyproject.toml says the
#: same beside the dependency). An incompatible driver otherwise shows up much later and much
#: vaguer, e.g. as every table "missing" because listing tables fails.
COMPATIBLE = {
    "duckdb": ("1.1", "2", "duckdb 2 removed fetch_arrow_table, which ibis 12 calls on every query"),
    "ibis-framework": ("12", "13", "a new ibis major changes the backend API the metric modules use"),
    "sqlglot": ("25", "28", "ibis 12 fails to compile create_table with sqlglot 28 and newer"),
}


def check_driver_versions(installed: dict[str, str] | None = None) -> None:
    """Refuse, in one line, a store driver outside the versions the project works with.

    Parameters
    ----------
    installed : dict, optional
        ``{distribution: version}`` to check instead of the installed packages (for tests).

    Raises
    ------
    StoreError
        When a driver's version is outside :data:`COMPATIBLE`, naming the version found, the range
        allowed and why.
    """
    from importlib.metadata import PackageNotFoundError, version as dist_version

    from packaging.version import Version

    for name, (low, high, why) in COMPATIBLE.items():
        if installed is not None:
            found = installed.get(name)
        else:
            try:
                found = dist_version(name)
            except PackageNotFoundError:
                found = None
        if found is None:
            continue
        if not (Version(low) <= Version(found) < Version(high)):
            raise StoreError(
                f"The installed {name} {found} does not work with this project: it needs {name} >= {low}, "
                f"< {high} ({why}). Install the locked versions: pip install -r requirements.lock."
            )


def connect(store: str | os.PathLike | None = None, read_only: bool = False) -> Any:
    """Open a store and return its Ibis backend.

    Parameters
    ----------
    store : str or path, optional
        A ``.duckdb`` file path, or a URL: ``duckdb:///path``, ``postgresql://user@host:port/db``,
        ``spark://local``, ``spark://host:7077`` (standalone cluster), ``sc://host:15002`` (Spark
        Connect); a Spark URL may end in ``?warehouse=DIR`` (see :func:`spark_location`). Default: ``$SALES_ANALYSIS_STORE`` or ``data/warehouse.duckdb``.
    read_only : bool
        Open a DuckDB file read-only (so several report runs can read at once).

    Examples
    --------
    >>> con = connect(":memory:")  # doctest: +SKIP
    """
    loc = resolve_store(store)
    check_driver_versions()
    try:
        if loc.endswith(":memory:"):
            return ibis.duckdb.connect(**duckdb_config())
        if not is_url(loc):
            path = Path(loc)
            if read_only and not path.exists():
                raise StoreError(
                    f"The store file {path} does not exist. Build it with `sales-analysis demo` "
                    "or load data with `sales-analysis ingest`."
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            return with_lock_wait(lambda: ibis.duckdb.connect(str(path), read_only=read_only, **duckdb_config()),
                                  path)
        scheme = loc.split("://", 1)[0].lower()
        if scheme in ("spark", "pyspark", "sc"):
            return _connect_spark(loc)
        if scheme == "postgres":
            loc = "postgresql" + loc[len("postgres"):]
        if scheme == "duckdb":
            path = loc.split("://", 1)[1]
            if path.startswith("/") and not path.startswith("//"):
                return with_lock_wait(lambda: ibis.duckdb.connect(path, read_only=read_only, **duckdb_config()), path)
        return ibis.connect(loc)
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - the driver's own error, made one line
        raise StoreError(f"Cannot open store {loc!r}: {type(exc).__name__}: {exc}".splitlines()[0]) from exc


def lock_timeout(timeout: float | None = None) -> float:
    """Seconds to wait for a DuckDB store held by another process (``$SALES_ANALYSIS_LOCK_TIMEOUT``, default 30)."""
    if timeout is not None:
        return float(timeout)
    try:
        return float(os.environ.get(LOCK_TIMEOUT_ENV) or DEFAULT_LOCK_TIMEOUT_S)
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT_S


def _is_lock_conflict(exc: BaseException) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def with_lock_wait(open_fn: Any, path: str | os.PathLike, timeout: float | None = None) -> Any:
    """Call ``open_fn()``; while DuckDB says another process holds the file, retry for a bounded time.

    DuckDB allows one writing process per file, and no other process may open it (even
    read-only) meanwhile. Ingest holds the write lock only for its final transaction, so a
    report or a second ingest waits a little and then proceeds; past ``timeout`` seconds
    the error is one line (StoreError).
    """
    limit = lock_timeout(timeout)
    deadline = time.monotonic() + limit
    delay = 0.05
    while True:
        try:
            return open_fn()
        except Exception as exc:  # noqa: BLE001 - the driver's lock error, retried
            if not _is_lock_conflict(exc):
                raise
            if time.monotonic() >= deadline:
                m = re.search(r"PID (\d+)", str(exc))
                who = f" (process {m.group(1)})" if m else ""
                raise StoreError(f"The store file {path} is in use by another process{who}; waited {limit:g} s "
                                 f"for it (set {LOCK_TIMEOUT_ENV} to wait longer).") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def duckdb_connect(path: str | os.PathLike, read_only: bool = False, timeout: float | None = None,
                   config: dict[str, Any] | None = None) -> Any:
    """A raw ``duckdb`` connection to a store file, waiting (bounded) while another process holds it."""
    import duckdb

    cfg = {**duckdb_config(), **(config or {})}
    p = str(path)
    if not p.endswith(":memory:"):
        if read_only and not Path(p).exists():
            raise StoreError(f"The store file {p} does not exist. Build it with `sales-analysis demo` "
                             "or load data with `sales-analysis ingest`.")
        Path(p).parent.mkdir(parents=True, exist_ok=True)
    return with_lock_wait(lambda: duckdb.connect(p, read_only=read_only, config=cfg), p, timeout)


def duckdb_config() -> dict[str, str]:
    """DuckDB settings from the environment, passed to every DuckDB connection.

    ``SALES_ANALYSIS_DUCKDB_MEMORY_LIMIT`` (e.g. ``4GB``) caps DuckDB's buffer pool (it spills to
    disk beyond it); ``SALES_ANALYSIS_DUCKDB_THREADS`` sets its threads. Unset: DuckDB's own
    defaults (80 % of RAM, one thread per core), which suit the default world.

    Examples
    --------
    >>> isinstance(duckdb_config(), dict)
    True
    """
    cfg: dict[str, str] = {}
    mem = os.environ.get("SALES_ANALYSIS_DUCKDB_MEMORY_LIMIT")
    if mem:
        cfg["memory_limit"] = mem
    threads = os.environ.get("SALES_ANALYSIS_DUCKDB_THREADS")
    if threads:
        cfg["threads"] = threads
    return cfg


def spark_location(loc: str) -> tuple[str, Path]:
    """Split a Spark store URL into (Spark master or Connect URL, warehouse folder).

    ``spark://local`` (or ``spark://local[N]``) runs Spark in local mode, in the report's own
    process; ``spark://host:7077`` is a standalone cluster's master (the report's process is the
    driver); ``sc://host:15002`` is a Spark Connect server (the report's process is a thin client,
    the server is the driver). ``?warehouse=DIR`` names the folder of Parquet tables
    (``DIR/<table>.parquet``, written by :mod:`analysis.engines`) that are registered as tables;
    default ``$SALES_ANALYSIS_SPARK_WAREHOUSE`` or ``data/spark`` of the project. On a cluster
    or through Connect, DIR must be at the same path for this process and for the executors
    (a shared folder).

    Examples
    --------
    >>> spark_location("spark://local?warehouse=/srv/wh")
    ('local[2]', PosixPath('/srv/wh'))
    >>> spark_location("spark://node1:7077")[0]
    'spark://node1:7077'
    >>> spark_location("sc://node1:15002/;token=abc?warehouse=/srv/wh")
    ('sc://node1:15002/;token=abc', PosixPath('/srv/wh'))
    """
    from urllib.parse import parse_qs

    scheme, rest = loc.split("://", 1)
    host, _, query = rest.partition("?")
    if scheme.lower() == "sc":
        # Spark Connect's own options (``/;token=…;use_ssl=true``) stay in the URL it is given
        master = "sc://" + (host[:-1] if host.endswith("/") else host)
    else:
        host = host.rstrip("/")
        if host in ("", "local"):
            master = "local[2]"
        elif host.startswith("local"):
            master = host
        else:
            master = "spark://" + host
    opts = parse_qs(query)
    wh = (opts.get("warehouse") or [os.environ.get("SALES_ANALYSIS_SPARK_WAREHOUSE", "")])[0]
    warehouse = Path(wh) if wh else project_root() / "data" / "spark"
    return master, warehouse.resolve()


def _on_loopback(master: str) -> bool:
    host = master.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    return master.startswith("local") or host in ("127.0.0.1", "localhost", "[::1]")


def _connect_spark(loc: str) -> Any:
    """A Spark session with the warehouse's Parquet tables as temporary views, as an Ibis backend.

    Local mode and a standalone master: the classic session of this process (one per process;
    reused when it runs on the same master, refused when it runs on another). Spark Connect: a
    new server-side session of its own (its views are its own), through
    ``SparkSession.builder.remote``.
    """
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    master, warehouse = spark_location(loc)
    if _on_loopback(master):
        # executors on this machine reach the driver on loopback; a real cluster's driver keeps
        # the address Spark picks (or $SPARK_LOCAL_IP)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    runtime = {"spark.sql.session.timeZone": "UTC", "spark.sql.shuffle.partitions": "8"}
    if master.startswith("sc://"):
        builder = SparkSession.builder.remote(master)
        # a fresh session, not the process's default one: two Connect stores never share views
        session = builder.create() if hasattr(builder, "create") else builder.getOrCreate()
        # no reattachable execution: its release thread pool is one per process, and closing one
        # session shuts it down under the others' feet (pyspark 4.0: "cannot schedule new futures
        # after shutdown" in the next report; SPARK-55406 reworks it). A query whose stream breaks
        # then fails with the server's message instead of reattaching.
        session.client.disable_reattachable_execute()
        for key, value in runtime.items():
            session.conf.set(key, value)
    else:
        from pyspark import SparkContext

        running = SparkContext._active_spark_context
        if running is not None and running.master != master:
            raise StoreError(
                f"This process already runs a Spark session on {running.master}; Spark allows one per "
                f"process, so {master} cannot be opened here (disconnect the other store first)."
            )
        builder = SparkSession.builder.master(master).appName("sales-analysis")
        for key, value in {**runtime, "spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
                           "spark.sql.execution.arrow.pyspark.enabled": "true"}.items():
            builder = builder.config(key, value)
        if _on_loopback(master):
            builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
    names = []
    if warehouse.is_dir():
        for f in sorted(warehouse.glob("*.parquet")):
            names.append(f.name[: -len(".parquet")])
            session.read.parquet(str(f)).createOrReplaceTempView(names[-1])
    con = ibis.pyspark.connect(session)
    # the views are this connection's and fixed (ingest into Spark is refused): look them up here,
    # not with a SHOW TABLES job per question (a report asks dozens of times)
    setattr(con, FIXED_TABLES, {name: None for name in names})
    return con


# The attribute of a backend whose tables cannot change while connected (a Spark warehouse's
# views): {table: has rows (None until asked)}.
FIXED_TABLES = "_sales_analysis_fixed_tables"


def reused(expr: Any) -> Any:
    """``expr``, materialised once on engines where re-running it per query costs more than keeping it.

    A report runs about a hundred queries on the same resolved order lines. DuckDB plans the
    joins of each in milliseconds and materialising 20M lines would cost memory, so it (and
    PostgreSQL) gets the expression as is. Spark runs every query as jobs that re-read the
    Parquet files and re-join the masters (0.3-1 s each even on a small world), so there the
    lines are cached (``DataFrame.cache``: memory, spilling to disk) the first time a query
    reads them; an equal expression built again finds the same cache.
    """
    try:
        backend = expr._find_backend()
    except Exception:  # noqa: BLE001 - an unbound expression: nothing to cache on
        return expr
    if getattr(backend, "name", "") != "pyspark":
        return expr
    return expr.cache()


def has_table(con: Any, name: str) -> bool:
    """True when the store has a table ``name`` (rows or not)."""
    fixed = getattr(con, FIXED_TABLES, None)
    if fixed is not None:
        return name in fixed
    try:
        return name in con.list_tables()
    except Exception:  # noqa: BLE001 - a driver that cannot list tables: ask for the table itself
        try:
            con.table(name)
            return True
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
    fixed = getattr(con, FIXED_TABLES, None)
    if fixed is not None:
        if fixed[name] is None:
            fixed[name] = bool(con.table(name).limit(1).count().execute())
        return fixed[name]
    return bool(con.table(name).limit(1).count().execute())


def columns(con: Any, name: str) -> list[str]:
    """Column names of table ``name`` (empty when it does not exist)."""
    return list(con.table(name).columns) if has_table(con, name) else []
