"""The demo world as the files a department has (``sales-analysis demo --export DIR``).

A county or city department does not have a store: it has exports. The order system gives
order lines as a large CSV in GBK; masters, plans and payroll live in spreadsheets. This module
writes a demo store that way, with the Chinese headers (and category values) the ingest aliases
accept (:mod:`analysis.aliases`), so that ``sales-analysis ingest <table> FILE``, file by file in
the order of :data:`LAYOUT`, rebuilds the store.

Formats (what systems give): the transaction tables (orders, visits, consumer feedback) are GBK
CSV files (an order export of a city company has millions of lines, beyond a worksheet's
1,048,576 rows); the masters (reps, products, customers, the customer reassignment list), the
targets and the payroll are XLSX workbooks.

Shapes:

- ``slim`` — order lines as ordering systems export them: order, line, date, customer, SKU,
  quantity, amount, return flag. Region, serving account manager and channel come from the
  customers file; brand and price class from the products file. The serving account manager
  changes when a rep leaves, so the reassignment list (客户调整: every version of a customer row
  with 生效日期 / 失效日期, table ``customers_history``) says who served whom on each day.
- ``full`` — order lines also carry 客户经理编码, 片区, 品牌, 价类 and 业态 (the state at the time
  of sale), as a data warehouse extract does.

Examples
--------
>>> [f.table for f in LAYOUT]
['reps', 'products', 'customers', 'customers_history', 'orders', 'targets', 'visits', 'feedback', 'compensation']
>>> LAYOUT[4].columns("slim")[:3]
['order_id', 'line_no', 'order_date']
"""
from __future__ import annotations

import codecs
import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ParameterError

__all__ = ["SHAPES", "LAYOUT", "AGENCY_LAYOUT", "ExportFile", "export", "export_world", "export_agency",
           "export_agency_world", "ingest_commands"]

SHAPES = ("slim", "full")
ENCODING = "gbk"

#: Category values written in Chinese (the values :data:`analysis.aliases.VALUES` maps back).
VALUE_WORDS: dict[str, dict[str, str]] = {
    "area_type": {"urban": "城镇", "rural": "农村"},
    "size_class": {"large": "大户", "medium": "中户", "small": "小户"},
    "exit_reason": {"voluntary": "主动离职", "involuntary": "被动离职"},
    "kind": {"visit": "拜访", "guidance": "指导"},
    "level": {"company": "公司", "region": "区域", "rep": "客户经理", "price_class": "价类",
              "branch": "营业部", "team": "营业组", "agent": "代理人"},
    "measure": {"amount": "金额", "qty": "数量", "fyc": "首年佣金", "fyp": "首年保费", "recruits": "增员人数"},
    "premium_type": {"regular": "期缴", "single": "趸缴"},
    "status": {"in_force": "有效", "lapsed": "失效", "surrendered": "退保", "cancelled": "犹豫期撤单"},
}
BOOL_WORDS = ("是", "否")

_CUSTOMER_HEADERS = {
    "customer_id": "客户编码", "name": "客户名称", "region": "片区", "area_type": "城乡类型",
    "size_class": "客户规模", "rep_id": "客户经理编码", "opened_on": "开户日期", "channel": "业态",
}


@dataclass(frozen=True)
class ExportFile:
    """One file of the export: the table it loads into, its name and format, and its headers.

    Attributes
    ----------
    table : str
        The canonical table (``sales-analysis ingest <table> FILE``).
    name : str
        File name inside the export folder.
    fmt : {"csv", "xlsx"}
    headers : dict
        Canonical column → header, in the file's column order.
    full_only : tuple of str
        Columns written only in the ``full`` shape.
    bools : tuple of str
        Boolean columns (written 是 / 否).
    dates : tuple of str
        Date columns (``YYYY-MM-DD`` in CSV, date cells in XLSX).
    """

    table: str
    name: str
    fmt: str
    headers: dict[str, str]
    full_only: tuple[str, ...] = ()
    bools: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()

    def columns(self, shape: str) -> list[str]:
        """The canonical columns written in ``shape``."""
        return [c for c in self.headers if shape == "full" or c not in self.full_only]


#: The files, in the order they are ingested (masters before the lines that reference them).
LAYOUT: tuple[ExportFile, ...] = (
    ExportFile("reps", "01_客户经理.xlsx", "xlsx", {
        "rep_id": "客户经理编码", "name": "姓名", "region": "片区", "role": "岗位", "manager_id": "上级编码",
        "hire_date": "入职日期", "exit_date": "离职日期", "exit_reason": "离职原因"},
        dates=("hire_date", "exit_date")),
    ExportFile("products", "02_卷烟规格.xlsx", "xlsx", {
        "sku_id": "卷烟编码", "sku_name": "卷烟规格", "brand": "品牌", "price_class": "价类",
        "unit_price": "单价(元/条)", "pack_unit": "计量单位", "launch_date": "上市日期"},
        dates=("launch_date",)),
    ExportFile("customers", "03_零售客户.xlsx", "xlsx", dict(_CUSTOMER_HEADERS), dates=("opened_on",)),
    ExportFile("customers_history", "04_客户调整.xlsx", "xlsx",
               {**_CUSTOMER_HEADERS, "valid_from": "生效日期", "valid_to": "失效日期"},
               dates=("opened_on", "valid_from", "valid_to")),
    ExportFile("orders", "05_订单明细.csv", "csv", {
        "order_id": "订单编号", "line_no": "行号", "order_date": "订单日期", "customer_id": "客户编码",
        "sku_id": "卷烟编码", "rep_id": "客户经理编码", "region": "片区", "brand": "品牌", "price_class": "价类",
        "channel": "业态", "qty": "数量(条)", "amount": "金额(元)", "is_return": "是否退货"},
        full_only=("rep_id", "region", "brand", "price_class", "channel"), bools=("is_return",),
        dates=("order_date",)),
    ExportFile("targets", "06_销售目标.xlsx", "xlsx", {
        "period": "月份", "level": "层级", "key": "对象", "measure": "指标", "value": "目标值"},
        dates=("period",)),
    ExportFile("visits", "07_拜访记录.csv", "csv", {
        "visit_date": "拜访日期", "rep_id": "客户经理编码", "customer_id": "客户编码", "kind": "拜访类型",
        "effective": "是否有效"}, bools=("effective",), dates=("visit_date",)),
    ExportFile("feedback", "08_消费者反馈.csv", "csv", {
        "response_date": "反馈日期", "sku_id": "卷烟编码", "rating": "评分", "customer_id": "客户编码",
        "region": "片区", "repurchase_intent": "复购意愿", "comment": "评价内容"},
        bools=("repurchase_intent",), dates=("response_date",)),
    ExportFile("compensation", "09_薪酬.xlsx", "xlsx", {
        "period": "月份", "rep_id": "客户经理编码", "base_pay": "基本工资", "individual_bonus": "个人奖金",
        "team_bonus": "团队奖金", "due_date": "应发日期", "paid_date": "实发日期", "training_hours": "培训时长",
        "promoted": "是否晋升", "award": "是否获奖"},
        bools=("promoted", "award"), dates=("period", "due_date", "paid_date")),
)


_AGENT_HEADERS = {
    "agent_id": "代理人编码", "name": "姓名", "branch": "营业部", "team": "营业组", "rank": "职级",
    "hire_date": "签约日期", "exit_date": "解约日期", "exit_reason": "解约原因", "recruiter_id": "增员人编码",
    "manager_id": "主管编码"}

#: The agency profile's files (``demo --profile agency --export DIR``), in the order they are ingested:
#: masters as XLSX, the policy and receipt lines as GBK CSV, as agency systems export them.
AGENCY_LAYOUT: tuple[ExportFile, ...] = (
    ExportFile("agents", "01_代理人.xlsx", "xlsx", dict(_AGENT_HEADERS), dates=("hire_date", "exit_date")),
    ExportFile("agents_history", "02_职级变动.xlsx", "xlsx",
               {**_AGENT_HEADERS, "valid_from": "生效日期", "valid_to": "失效日期"},
               dates=("hire_date", "exit_date", "valid_from", "valid_to")),
    ExportFile("policies", "03_承保清单.csv", "csv", {
        "policy_id": "保单号", "agent_id": "代理人编码", "issue_date": "承保日期", "product": "险种名称",
        "premium_type": "缴费方式", "fyp": "首年保费(元)", "fyc": "FYC(元)", "status": "保单状态",
        "lapse_date": "失效日期"}, dates=("issue_date", "lapse_date")),
    ExportFile("premium_receipts", "04_续期收费.csv", "csv", {
        "policy_id": "保单号", "policy_year": "保单年度", "due_date": "应收日期", "amount_due": "应收保费(元)",
        "amount_received": "实收保费(元)", "received_date": "实收日期"}, dates=("due_date", "received_date")),
    ExportFile("agent_month", "05_代理人月度.xlsx", "xlsx", {
        "month": "月份", "agent_id": "代理人编码", "attendance_days": "出勤天数", "allowance": "津贴(元)",
        "leads_given": "分配客户数", "training_hours": "培训时长", "activities_attended": "参加活动次数"},
        dates=("month",)),
    ExportFile("agency_targets", "06_营业目标.xlsx", "xlsx", {
        "period": "月份", "level": "层级", "key": "对象", "measure": "指标", "value": "目标值"},
        dates=("period",)),
)


def _check_shape(shape: Any, func: str) -> str:
    if shape not in SHAPES:
        raise ParameterError(f"The 'shape' parameter of {func} must be one of {', '.join(SHAPES)}. "
                             f"Got {shape!r} instead.")
    return shape


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _select_sql(f: ExportFile, shape: str, present: set[str], csv: bool) -> tuple[str, list[str]]:
    """SELECT of the file's columns with Chinese headers and values (the columns the table has)."""
    cols = [c for c in f.columns(shape) if c in present]
    parts = []
    for c in cols:
        e = _q(c)
        if c in VALUE_WORDS:
            cases = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in VALUE_WORDS[c].items())
            e = f"CASE {e} {cases} ELSE {e} END"
        elif c in f.bools:
            e = f"CASE WHEN {e} THEN {_lit(BOOL_WORDS[0])} WHEN NOT {e} THEN {_lit(BOOL_WORDS[1])} END"
        elif c in f.dates and csv:
            e = f"strftime({e}, '%Y-%m-%d')"
        parts.append(f"{e} AS {_q(f.headers[c])}")
    return ", ".join(parts), cols


def _order_by(table: str, cols: list[str]) -> str:
    keys = {"orders": ["order_date", "order_id", "line_no"], "visits": ["visit_date", "rep_id", "customer_id"],
            "feedback": ["response_date", "sku_id", "customer_id"], "customers_history": ["customer_id", "valid_from"],
            "targets": ["period", "level", "key", "measure"], "compensation": ["period", "rep_id"],
            "agents_history": ["agent_id", "valid_from"], "policies": ["issue_date", "policy_id"],
            "premium_receipts": ["due_date", "policy_id", "policy_year"], "agent_month": ["month", "agent_id"],
            "agency_targets": ["period", "level", "key", "measure"]}
    by = [c for c in keys.get(table, cols[:1]) if c in cols]
    return " ORDER BY " + ", ".join(f"{_q(c)} NULLS FIRST" for c in by) if by else ""


def _write_csv(db: Any, sql: str, path: Path) -> None:
    """DuckDB writes UTF-8; the file is transcoded to GBK in chunks (strict: a character GBK cannot
    hold is an error, never a replacement)."""
    tmp = path.with_name(path.name + ".utf8")
    try:
        db.execute(f"COPY ({sql}) TO {_lit(str(tmp))} (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"')")
        dec = codecs.getincrementaldecoder("utf-8")()
        with open(tmp, "rb") as src, open(path, "wb") as out:
            while chunk := src.read(1 << 24):
                out.write(dec.decode(chunk).encode(ENCODING))
            out.write(dec.decode(b"", final=True).encode(ENCODING))
    finally:
        tmp.unlink(missing_ok=True)


def _write_xlsx(db: Any, sql: str, path: Path, sheet: str) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    cur = db.execute(sql)
    headers = [d[0] for d in cur.description]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(headers)
    while rows := cur.fetchmany(10_000):
        for row in rows:
            out = []
            for v in row:
                if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
                    cell = WriteOnlyCell(ws, value=v)
                    cell.number_format = "yyyy-mm-dd"
                    out.append(cell)
                else:
                    out.append(v)
            ws.append(out)
    tmp = path.with_name(path.name + ".part")
    wb.save(tmp)
    os.replace(tmp, path)


def ingest_commands(directory: str | os.PathLike, store: str | None = None,
                    layout: tuple[ExportFile, ...] | None = None) -> list[str]:
    """The ``sales-analysis ingest`` commands that load an export folder, in order (``layout``:
    :data:`LAYOUT` by default, :data:`AGENCY_LAYOUT` for the agency profile)."""
    d = Path(directory)
    tail = f" --store {store}" if store else ""
    return [f"sales-analysis ingest {f.table} {d / f.name}{tail}" for f in (layout or LAYOUT) if (d / f.name).exists()]


def _readme(directory: Path, shape: str, written: list[ExportFile]) -> str:
    lines = [
        f"Demo world export ({shape} shape), written by `sales-analysis demo --export`.",
        "",
        "Load it into an empty store with the project's own ingest, one file per table, in this order",
        "(masters before the order lines that reference them; the reassignment list before the orders,",
        "so that every sale is attributed to the account manager serving the customer that day):",
        "",
    ]
    lines += [f"  sales-analysis ingest {f.table} {f.name} --store STORE" for f in written]
    lines += [
        "",
        "Files:",
        *[f"  {f.name}: table {f.table}, {'GBK CSV' if f.fmt == 'csv' else 'XLSX'}, headers "
          + ", ".join(f.headers[c] for c in f.columns(shape)) for f in written],
        "",
        "slim: order lines without 客户经理编码/片区/品牌/价类/业态 (resolved from the masters; the serving",
        "account manager from 04_客户调整.xlsx, valid from 生效日期 inclusive to 失效日期 exclusive).",
        "full: order lines also carry them (the state at the time of sale).",
        "Dates of the last month's payroll may lie after today's date when the export is loaded early:",
        "ingest counts dates after tomorrow as implausible (docs/INGEST.md).",
        "",
    ]
    return "\n".join(lines)


def export(store: str | os.PathLike, directory: str | os.PathLike, shape: str = "slim") -> dict[str, Any]:
    """Write the tables of a demo store (a DuckDB file) as a department's export files.

    Parameters
    ----------
    store : path
        A DuckDB store holding the demo tables (``sales-analysis demo``).
    directory : path
        The export folder (created; files of the same names are replaced).
    shape : {"slim", "full"}
        ``slim``: order lines without region, rep, brand, price class and channel; ``full``: with them.

    Returns
    -------
    dict
        ``directory``, ``shape``, ``files`` ({file name: rows}) and ``commands`` (the ingest
        commands, in order). A README.txt in the folder lists the same commands.

    Raises
    ------
    ParameterError
        ``shape`` is not slim or full, or ``store`` is not a DuckDB file.
    """
    _check_shape(shape, "export")
    src = Path(store)
    if not src.is_file():
        raise ParameterError(f"The 'store' parameter of export must be a DuckDB file of the demo world. "
                             f"Got {str(store)!r} instead.")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    files, written = _write_files(src, out, shape, LAYOUT)
    (out / "README.txt").write_text(_readme(out, shape, written), encoding="utf-8")
    return {"directory": str(out), "shape": shape, "files": files, "commands": ingest_commands(out)}


def _write_files(src: Path, out: Path, shape: str, layout: tuple[ExportFile, ...]) -> tuple[dict[str, int],
                                                                                           list[ExportFile]]:
    """Write the files of ``layout`` whose tables the DuckDB file ``src`` holds."""
    import duckdb

    db = duckdb.connect(str(src), read_only=True)
    files: dict[str, int] = {}
    written: list[ExportFile] = []
    try:
        tables = {r[0] for r in db.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_schema = 'main'").fetchall()}
        for f in layout:
            if f.table not in tables:
                continue
            present = {r[0] for r in db.execute(f"DESCRIBE {_q(f.table)}").fetchall()}
            select, cols = _select_sql(f, shape, present, csv=f.fmt == "csv")
            sql = f"SELECT {select} FROM {_q(f.table)}{_order_by(f.table, cols)}"
            path = out / f.name
            if f.fmt == "csv":
                _write_csv(db, sql, path)
            else:
                _write_xlsx(db, sql, path, sheet=Path(f.name).stem.split("_", 1)[-1])
            files[f.name] = int(db.execute(f"SELECT count(*) FROM {_q(f.table)}").fetchone()[0])
            written.append(f)
    finally:
        db.close()
    return files, written


def export_world(directory: str | os.PathLike, shape: str = "slim", *, seed: int = 42, scale: float = 1.0,
                 null: bool = False, store: str | None = None) -> dict[str, Any]:
    """Build the demo world and write it as export files (``sales-analysis demo --export DIR``).

    Parameters
    ----------
    directory : path
        The export folder; the truth record goes there too (``demo_truth.json``).
    shape : {"slim", "full"}
    seed, scale, null
        As for :func:`analysis.demo.build`.
    store : str, optional
        Also keep the built world in this DuckDB store; by default it is built in a temporary
        file that is removed (the project store is left as it is).

    Returns
    -------
    dict
        The summary of :func:`export` with the build's ``rows`` and ``seconds``.
    """
    from . import demo

    _check_shape(shape, "export_world")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    tmp = None if store else tempfile.mkdtemp(prefix="demo_export_", dir=str(out))
    try:
        loc = store or str(Path(tmp) / "world.duckdb")
        built = demo.build(store=loc, seed=seed, scale=scale, null=null, truth_path=out / "demo_truth.json")
        summary = export(built["store"], out, shape)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    summary.update({"rows": built["rows"], "seconds": built["seconds"]})
    return summary


def export_agency(store: str | os.PathLike, directory: str | os.PathLike) -> dict[str, Any]:
    """Write the agency tables of a store (a DuckDB file) as an agency system's export files
    (:data:`AGENCY_LAYOUT`: Chinese headers and values, masters as XLSX, policies and receipts
    as GBK CSV).

    Returns
    -------
    dict
        ``directory``, ``files`` ({file name: rows}) and ``commands`` (the ingest commands, in order).
    """
    src = Path(store)
    if not src.is_file():
        raise ParameterError(f"The 'store' parameter of export_agency must be a DuckDB file of the agency demo "
                             f"world. Got {str(store)!r} instead.")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    files, written = _write_files(src, out, "full", AGENCY_LAYOUT)
    lines = ["Agency demo world export, written by `sales-analysis demo --profile agency --export`.", "",
             "Load it into an empty store with the project's own ingest, in this order (agents before",
             "the policies that name them, policies before their premium receipts):", ""]
    lines += [f"  sales-analysis ingest {f.table} {f.name} --store STORE" for f in written]
    lines += ["", "Files:", *[f"  {f.name}: table {f.table}, {'GBK CSV' if f.fmt == 'csv' else 'XLSX'}, headers "
                              + ", ".join(f.headers.values()) for f in written], ""]
    (out / "README.txt").write_text("\n".join(lines), encoding="utf-8")
    return {"directory": str(out), "profile": "agency", "files": files,
            "commands": ingest_commands(out, layout=AGENCY_LAYOUT)}


def export_agency_world(directory: str | os.PathLike, *, seed: int = 42, scale: float = 1.0, null: bool = False,
                        store: str | None = None) -> dict[str, Any]:
    """Build the agency demo world and write it as export files (``demo --profile agency --export DIR``);
    the truth record goes to ``DIR/agency_truth.json``. Arguments as :func:`export_world`."""
    from .agency import demo as agency_demo

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    tmp = None if store else tempfile.mkdtemp(prefix="agency_export_", dir=str(out))
    try:
        loc = store or str(Path(tmp) / "agency.duckdb")
        built = agency_demo.build(store=loc, seed=seed, scale=scale, null=null, truth_path=out / "agency_truth.json")
        summary = export_agency(built["store"], out)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    summary.update({"rows": built["rows"], "seconds": built["seconds"]})
    return summary
