"""Copy a store's canonical tables into another engine: PostgreSQL or Spark.

The metric modules run unchanged on any Ibis backend; this module puts the same data there.
Rows travel in chunks, never as one whole table in memory:

- DuckDB → PostgreSQL: each table is created from its Ibis schema, then streamed with
  ``COPY … FROM STDIN (FORMAT csv)`` through psycopg, one Arrow record batch (``chunk_rows``
  rows) at a time. (DuckDB's postgres extension would need a download, which is not possible on
  every machine, so it is not used.)
- DuckDB → Spark: each table is written by DuckDB as ``<warehouse>/<table>.parquet`` (streamed
  by DuckDB itself, written then renamed); :func:`analysis.store.connect` registers those files
  as Spark tables, in local mode, on a standalone cluster and through Spark Connect alike.

From the command line::

    python -m analysis.engines data/warehouse.duckdb postgresql://sa@127.0.0.1:54329/sales
    python -m analysis.engines data/warehouse.duckdb "spark://local?warehouse=data/spark"
"""
from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any, Iterable

from .contracts import TABLES
from .errors import ParameterError, StoreError
from .store import is_url, resolve_store, spark_location

DEFAULT_CHUNK_ROWS = 250_000


def _source_duckdb(source: Any):
    """A raw duckdb connection for ``source`` (a path/URL string or an Ibis DuckDB backend)."""
    import duckdb

    if isinstance(source, (str, Path)):
        loc = resolve_store(str(source))
        if is_url(loc):
            if not loc.startswith("duckdb://"):
                raise ParameterError(
                    f"The 'source' parameter of copy_store must be a DuckDB store. Got {loc!r} instead."
                )
            loc = loc.split("://", 1)[1]
        if not Path(loc).exists():
            raise StoreError(f"The store file {loc} does not exist.")
        return duckdb.connect(loc, read_only=True), True
    raw = getattr(source, "con", None)
    if raw is None or not hasattr(raw, "execute"):
        raise ParameterError(
            "The 'source' parameter of copy_store must be a DuckDB store path or an Ibis DuckDB "
            f"backend. Got {type(source).__name__} instead."
        )
    return raw, False


def _tables_to_copy(raw, tables: Iterable[str] | None) -> list[str]:
    present = [r[0] for r in raw.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchall()]
    if tables is None:
        # canonical tables first, in contract order, then any others the store holds
        return [t for t in TABLES if t in present] + sorted(t for t in present if t not in TABLES)
    missing = [t for t in tables if t not in present]
    if missing:
        raise StoreError(f"The source store has no table {missing[0]!r}; tables found: {', '.join(present)}.")
    return list(tables)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def copy_store(
    source: Any,
    target: str,
    tables: Iterable[str] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> dict[str, int]:
    """Copy tables of a DuckDB store into PostgreSQL or Spark; replace tables of the same name.

    Parameters
    ----------
    source : str, path or Ibis DuckDB backend
        The DuckDB store to read.
    target : str
        ``postgresql://user@host:port/db``, or a Spark store with its warehouse folder:
        ``spark://local?warehouse=DIR``, ``spark://host:7077?warehouse=DIR`` (standalone
        cluster) or ``sc://host:15002?warehouse=DIR`` (Spark Connect). DIR must be where the
        executors read it too (a shared folder at the same path).
    tables : iterable of str, optional
        Which tables; default every table of the source (canonical ones first).
    chunk_rows : int
        Rows per chunk streamed to PostgreSQL.

    Returns
    -------
    dict
        {table: rows copied}, each checked against the count in the target.

    Examples
    --------
    >>> copy_store("data/warehouse.duckdb", "postgresql://sa@127.0.0.1:54329/sales")  # doctest: +SKIP
    {'orders': 1003512, 'customers': 1500, ...}
    """
    if not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ParameterError(f"The 'chunk_rows' parameter of copy_store must be a positive int. Got {chunk_rows!r} instead.")
    scheme = target.split("://", 1)[0].lower() if "://" in target else ""
    raw, owned = _source_duckdb(source)
    try:
        names = _tables_to_copy(raw, tables)
        if scheme in ("postgresql", "postgres"):
            return _to_postgres(raw, names, target, chunk_rows)
        if scheme in ("spark", "pyspark", "sc"):
            return _to_spark(raw, names, target)
        raise ParameterError(
            "The 'target' parameter of copy_store must be a postgresql://, spark:// or sc:// URL. "
            f"Got {target!r} instead."
        )
    finally:
        if owned:
            raw.close()


def _pg_type(dtype: Any) -> str:
    """PostgreSQL column type of an Ibis dtype (the canonical tables use only these)."""
    if dtype.is_string():
        return "TEXT"
    if dtype.is_boolean():
        return "BOOLEAN"
    if dtype.is_integer():
        return "BIGINT" if dtype.nbytes >= 8 else "INTEGER"
    if dtype.is_floating():
        return "DOUBLE PRECISION"
    if dtype.is_decimal():
        return "NUMERIC" if dtype.precision is None else f"NUMERIC({dtype.precision},{dtype.scale or 0})"
    if dtype.is_date():
        return "DATE"
    if dtype.is_timestamp():
        return "TIMESTAMPTZ" if dtype.timezone else "TIMESTAMP"
    raise StoreError(f"Cannot copy a column of type {dtype} to PostgreSQL.")


def _to_postgres(raw, names: list[str], target: str, chunk_rows: int) -> dict[str, int]:
    import ibis
    import psycopg
    import pyarrow.csv as pacsv

    url = "postgresql" + target[len("postgres"):] if target.startswith("postgres://") else target
    # Ibis only for the schema: the DuckDB types named in one place.
    schemas = {n: ibis.duckdb.from_connection(raw).table(n).schema() for n in names}
    counts: dict[str, int] = {}
    try:
        pg = psycopg.connect(url, autocommit=False)
    except Exception as exc:  # noqa: BLE001
        raise StoreError(f"Cannot open store {target!r}: {type(exc).__name__}: {exc}".splitlines()[0]) from exc
    with pg:
        for name in names:
            schema = schemas[name]
            cols = ", ".join(f"{_quote(c)} {_pg_type(t)}" for c, t in schema.items())
            with pg.cursor() as cur:
                cur.execute(f"DROP TABLE IF EXISTS {_quote(name)}")
                cur.execute(f"CREATE TABLE {_quote(name)} ({cols})")
                collist = ", ".join(_quote(c) for c in schema)
                # NULL is an empty unquoted field; every present value is quoted, so an empty
                # string stays an empty string.
                opts = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
                rel = raw.sql(f"SELECT {collist} FROM {_quote(name)}")
                # duckdb 1.5 renamed fetch_arrow_reader (deprecated there) to to_arrow_reader
                reader = getattr(rel, "to_arrow_reader", rel.fetch_arrow_reader)(chunk_rows)
                with cur.copy(f"COPY {_quote(name)} ({collist}) FROM STDIN (FORMAT csv)") as cp:
                    for batch in reader:
                        buf = io.BytesIO()
                        pacsv.write_csv(batch, buf, opts)
                        cp.write(buf.getvalue())
                cur.execute(f"ANALYZE {_quote(name)}")
                cur.execute(f"SELECT count(*) FROM {_quote(name)}")
                counts[name] = int(cur.fetchone()[0])
            pg.commit()
    _check_counts(raw, counts, target)
    return counts


def _to_spark(raw, names: list[str], target: str) -> dict[str, int]:
    _, warehouse = spark_location(target)
    warehouse.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name in names:
        dest = warehouse / f"{name}.parquet"
        tmp = warehouse / f".{name}.parquet.tmp"
        tmp.unlink(missing_ok=True)
        raw.execute(
            f"COPY {_quote(name)} TO '{str(tmp).replace(chr(39), chr(39) * 2)}' "
            "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)"
        )
        tmp.replace(dest)
        import pyarrow.parquet as pq

        counts[name] = pq.ParquetFile(dest).metadata.num_rows
    _check_counts(raw, counts, target)
    return counts


def _check_counts(raw, counts: dict[str, int], target: str) -> None:
    for name, n in counts.items():
        expected = raw.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()[0]
        if n != expected:
            raise StoreError(f"Copy of table '{name}' to {target} holds {n} rows, the source {expected}.")


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis.engines SOURCE TARGET [TABLE ...]``: copy and print the row counts."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2:
        print(__doc__.split("From the command line::")[1], file=sys.stderr)
        return 2
    counts = copy_store(args[0], args[1], tables=args[2:] or None)
    for name, n in counts.items():
        print(f"{name}: {n:,} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
