"""Built-in header and value aliases used by :mod:`analysis.ingest`.

Exports from sales systems carry Chinese headers (订单日期, 客户编码, 卷烟规格, 数量(条),
金额(元) …) and Chinese category values (城镇/农村, 大户/中户/小户 …). This module maps them to
the canonical names of :mod:`analysis.contracts`. Headers are compared after
:func:`header_key` (NFKC, trimmed, lower case, inner spaces removed), so ``数量（条）`` and
``数量(条)`` or ``Order_Date`` and ``order_date`` are the same header.

Some headers mean different columns in different tables: 卷烟规格 names the product of an
order line (``sku_id`` in orders/feedback) but is the product's name in the products table
(``sku_name``, next to 卷烟编码 → ``sku_id``). Table-specific aliases override the common ones.

Examples
--------
>>> canonical_header("orders", "数量（条）")
'qty'
>>> canonical_header("products", "卷烟规格")
'sku_name'
>>> canonical_value("area_type", "农村")
'rural'
"""
from __future__ import annotations

import functools
import unicodedata

# Common aliases, canonical name -> headers in priority order (earlier wins when a file has
# several headers for one column; the others are treated as extra columns).
COMMON: dict[str, tuple[str, ...]] = {
    "order_id": ("订单编号", "订单号", "订单id", "单据编号", "单号"),
    "line_no": ("行号", "明细行号", "序号"),
    "order_date": ("订单日期", "订货日期", "下单日期", "销售日期", "日期"),
    "customer_id": ("客户编码", "客户编号", "客户代码", "零售户编码", "零售客户编码", "客户id", "许可证号"),
    "sku_id": ("卷烟编码", "商品编码", "规格编码", "产品编码", "卷烟代码", "卷烟规格", "规格", "商品"),
    "rep_id": ("客户经理编码", "客户经理编号", "员工编号", "工号", "人员编码", "客户经理"),
    "region": ("区域", "地区", "市场部", "片区", "所属区域"),
    "brand": ("品牌", "卷烟品牌"),
    "price_class": ("价类", "价格类别", "价位段", "档位类别"),
    "channel": ("渠道", "业态", "销售渠道"),
    "qty": ("数量(条)", "数量", "销量(条)", "销量", "订购量(条)", "订购量", "订货量(条)", "订货量"),
    "amount": ("金额(元)", "金额", "销售额(元)", "销售额", "订购金额(元)", "订购金额", "销售金额(元)", "销售金额"),
    "is_return": ("是否退货", "退货", "退货标志", "退货标识"),
    "name": ("名称", "姓名", "客户名称"),
    "area_type": ("城乡", "城乡类型", "市场类型", "城乡属性"),
    "size_class": ("客户规模", "规模", "客户类型", "户型"),
    "grade": ("客户档位", "档位", "零售户档位", "客户等级", "等级"),
    "opened_on": ("开户日期", "建档日期", "开业日期"),
    "sku_name": ("卷烟名称", "商品名称", "规格名称", "产品名称"),
    "unit_price": ("单价(元/条)", "单价", "批发价(元/条)", "批发价", "价格"),
    "pack_unit": ("包装单位", "计量单位", "单位"),
    "launch_date": ("上市日期", "投放日期"),
    "hire_date": ("入职日期", "入职时间", "聘用日期"),
    "role": ("岗位", "职务", "角色"),
    "manager_id": ("上级编码", "上级工号", "直属上级"),
    "exit_date": ("离职日期", "离职时间"),
    "exit_reason": ("离职原因", "离职类型"),
    "period": ("月份", "期间", "年月", "考核月份"),
    "level": ("层级", "级别", "分解层级"),
    "key": ("对象", "对象编码", "分解对象"),
    "measure": ("指标", "口径", "计量口径"),
    "value": ("目标值", "目标", "任务量", "任务"),
    "visit_date": ("拜访日期", "走访日期", "服务日期"),
    "kind": ("拜访类型", "服务类型", "类型"),
    "effective": ("是否有效", "有效", "有效指导"),
    "response_date": ("反馈日期", "评价日期", "调查日期"),
    "rating": ("评分", "打分", "满意度评分"),
    "repurchase_intent": ("复购意愿", "是否复购", "再次购买意愿"),
    "comment": ("评价", "意见", "评价内容", "消费者意见", "备注"),
    "base_pay": ("基本工资", "底薪", "基础工资"),
    "individual_bonus": ("个人奖金", "个人绩效", "个人提成"),
    "team_bonus": ("团队奖金", "团队绩效", "团队提成"),
    "due_date": ("应发日期", "应兑现日期"),
    "paid_date": ("实发日期", "兑现日期", "发放日期"),
    "training_hours": ("培训时长", "培训学时", "培训小时"),
    "promoted": ("是否晋升", "晋升"),
    "award": ("是否获奖", "获奖", "竞赛获奖"),
    "person_id": ("人员编号", "员工编号", "工号", "员工id"),
    "tenure": ("司龄", "工龄", "在职时长"),
    "left": ("是否离职", "离职", "已离职"),
    # master histories (<table>_history): the days a version of a row was valid
    "valid_from": ("生效日期", "起始日期", "开始日期", "有效期起"),
    "valid_to": ("失效日期", "截止日期", "结束日期", "有效期止"),
    # the agency profile (life-insurance agents)
    "agent_id": ("代理人编码", "代理人工号", "代理人代码", "业务员编码", "业务员工号", "工号", "人员编码"),
    "team": ("营业组", "所属营业组", "组别", "营销组", "团队"),
    "branch": ("营业部", "所属营业部", "营销服务部", "营业区"),
    "rank": ("职级", "当前职级", "代理人职级"),
    "recruiter_id": ("增员人", "增员人编码", "增员人工号", "推荐人", "推荐人编码", "推荐人工号"),
    "policy_id": ("保单号", "保单号码", "投保单号"),
    "issue_date": ("承保日期", "签单日期", "生效日期", "出单日期"),
    "product": ("险种", "险种名称", "产品", "产品名称"),
    "premium_type": ("缴费方式", "缴费类型", "交费方式"),
    "fyp": ("首年保费(元)", "首年保费", "规模保费(元)", "规模保费", "新单保费"),
    "fyc": ("fyc(元)", "fyc", "首年佣金(元)", "首年佣金"),
    "status": ("保单状态", "状态"),
    "lapse_date": ("失效日期", "退保日期", "终止日期"),
    "policy_year": ("保单年度", "缴费年度"),
    "amount_due": ("应收保费(元)", "应收保费", "应缴保费"),
    "amount_received": ("实收保费(元)", "实收保费", "实缴保费"),
    "received_date": ("实收日期", "缴费日期", "到账日期"),
    "month": ("月份", "统计月份", "年月"),
    "attendance_days": ("出勤天数", "出勤", "早会出勤天数"),
    "allowance": ("津贴(元)", "津贴", "底薪", "新人津贴"),
    "leads_given": ("客户资源", "分配客户数", "分配名单数", "客户资源数"),
    "activities_attended": ("参加活动次数", "活动次数", "参加活动"),
}

# Table-specific aliases: these override COMMON for the listed canonical names.
BY_TABLE: dict[str, dict[str, tuple[str, ...]]] = {
    "products": {
        "sku_id": ("卷烟编码", "商品编码", "规格编码", "产品编码", "卷烟代码"),
        "sku_name": ("卷烟规格", "规格", "卷烟名称", "商品名称", "规格名称", "产品名称"),
        "name": (),
    },
    "customers": {"name": ("客户名称", "名称", "零售户名称", "店名")},
    "reps": {
        "rep_id": ("客户经理编码", "客户经理编号", "员工编号", "工号", "人员编码"),
        "name": ("姓名", "客户经理", "名称"),
    },
    "targets": {"value": ("目标值", "目标", "任务量", "任务", "数值")},
    # the pack's 改善行动点 sheet (headers: the labels meeting.actions.column.* of every catalogue)
    "actions": {
        "meeting_month": ("会议月份", "meeting month", "月份"),
        "item_kind": ("类别", "kind", "事项类别"),
        "item_key": ("编码", "code", "事项编码"),
        "item": ("事项", "item", "改善事项"),
        "figure": ("当时完成率", "attainment then", "完成率"),
        "threshold": ("达标线", "threshold", "标准"),
        "owner": ("负责人", "owner", "责任人"),
        "action": ("改善措施", "action", "改善行动点", "行动点"),
        "due_date": ("完成期限", "due date", "截止日期"),
    },
    "agents": {
        "name": ("姓名", "代理人姓名", "名称"),
        "hire_date": ("签约日期", "入司日期", "入职日期", "聘用日期"),
        "exit_date": ("解约日期", "离司日期", "离职日期"),
        "exit_reason": ("解约原因", "离司原因", "离职原因"),
        "manager_id": ("主管", "主管编码", "主管工号", "直属主管", "上级编码", "直属上级"),
    },
    "premium_receipts": {"due_date": ("应收日期", "应缴日期", "应收时间")},
    "agency_targets": {"value": ("目标值", "目标", "任务量", "任务", "数值"),
                       "level": ("层级", "级别", "分解层级"), "key": ("对象", "对象编码", "分解对象"),
                       "measure": ("指标", "口径")},
}

# Category values: column -> {alias (compared after header_key) -> canonical value}.
VALUES: dict[str, dict[str, str]] = {
    "area_type": {"城镇": "urban", "城市": "urban", "城区": "urban", "市区": "urban", "城": "urban",
                  "农村": "rural", "乡村": "rural", "乡镇": "rural", "农": "rural"},
    "size_class": {"大户": "large", "大": "large", "中户": "medium", "中": "medium",
                   "小户": "small", "小": "small"},
    "exit_reason": {"主动离职": "voluntary", "主动": "voluntary", "辞职": "voluntary",
                    "被动离职": "involuntary", "被动": "involuntary", "辞退": "involuntary",
                    "主动解约": "voluntary", "个人原因": "voluntary",
                    "考核解约": "involuntary", "公司解约": "involuntary", "清退": "involuntary"},
    "premium_type": {"期缴": "regular", "期交": "regular", "年缴": "regular", "年交": "regular",
                     "趸缴": "single", "趸交": "single"},
    "status": {"有效": "in_force", "承保有效": "in_force", "失效": "lapsed", "停效": "lapsed", "中止": "lapsed",
               "退保": "surrendered", "撤单": "cancelled", "犹豫期撤单": "cancelled", "犹豫期退保": "cancelled"},
    "kind": {"拜访": "visit", "走访": "visit", "指导": "guidance", "经营指导": "guidance"},
    "level": {"公司": "company", "全市": "company", "区域": "region", "客户经理": "rep",
              "品牌": "brand", "价类": "price_class", "规格": "sku",
              "营业部": "branch", "营业组": "team", "组": "team", "代理人": "agent", "业务员": "agent"},
    "measure": {"金额": "amount", "销售额": "amount", "数量": "qty", "销量": "qty",
                "首年佣金": "fyc", "首年保费": "fyp", "规模保费": "fyp", "新单保费": "fyp",
                "增员": "recruits", "增员人数": "recruits", "新增人力": "recruits"},
    "item_kind": {"区域": "region", "客户经理": "rep", "account manager": "rep"},
}

# Headers that name a tobacco grade (1–30) or a size class (大户/中户/小户) depending on the
# file: ingest looks at the values (numbers or "25档" → grade, else size_class).
GRADE_OR_SIZE = ("客户档位", "档位", "零售户档位")

# Units a header may carry, e.g. 金额(万元) or 销量(箱): unit -> factor to the contract's unit.
# Money is in yuan; volume in cartons (条): a case (箱, also 件) is 250 cartons (50,000
# cigarettes), a pack (盒, 包) 1/10 carton, a stick (支) 1/200 carton.
MONEY_UNITS: dict[str, str] = {"元": "1", "千元": "1000", "万元": "10000", "百万元": "1000000", "亿元": "100000000",
                               "yuan": "1", "cny": "1", "rmb": "1"}
VOLUME_UNITS: dict[str, str] = {"条": "1", "箱": "250", "件": "250", "大箱": "250", "盒": "0.1", "包": "0.1",
                                "支": "0.005", "万支": "50", "carton": "1", "cartons": "1", "case": "250",
                                "cases": "250", "pack": "0.1", "packs": "0.1", "stick": "0.005", "sticks": "0.005"}

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "1.0", "是", "真", "对", "有", "√", "退货"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "0.0", "否", "假", "错", "无", "×", "正常"})


def header_key(text: object) -> str:
    """Comparable form of a header: NFKC, trimmed, lower case, no inner spaces.

    Examples
    --------
    >>> header_key(" 金额（元） ")
    '金额(元)'
    """
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return "".join(s.split())


def aliases_for(table: str) -> dict[str, tuple[str, ...]]:
    """Canonical name -> alias headers for ``table`` (common aliases with table overrides); a
    master's history table (``agents_history``) reads its master's headers."""
    out = dict(COMMON)
    base = table.removesuffix("_history")
    out.update(BY_TABLE.get(base, {}))
    out.update(BY_TABLE.get(table, {}))
    return out


def canonical_header(table: str, header: object, names: list[str] | None = None) -> str | None:
    """The canonical column a header stands for in ``table`` (None when unknown).

    ``names`` limits the answer to those canonical names (default: the table's contract).
    """
    from .contracts import spec

    allowed = names if names is not None else spec(table).names
    k = header_key(header)
    for name in allowed:
        if k == header_key(name):
            return name
    for name in _alias_index(table).get(k, ()):
        if name in allowed:
            return name
    return None


@functools.lru_cache(maxsize=None)
def _alias_index(table: str) -> dict[str, tuple[str, ...]]:
    """Alias key -> canonical names listing it, in the order of :func:`aliases_for` (cached:
    header detection compares every cell of a file's first rows)."""
    out: dict[str, list[str]] = {}
    for name, alist in aliases_for(table).items():
        for a in alist:
            names = out.setdefault(header_key(a), [])
            if name not in names:
                names.append(name)
    return {k: tuple(v) for k, v in out.items()}


@functools.lru_cache(maxsize=None)
def _alias_keys(table: str, canonical: str) -> tuple[str, ...]:
    return tuple(header_key(a) for a in aliases_for(table).get(canonical, ()))


def header_priority(table: str, canonical: str, header: object) -> int:
    """Rank of ``header`` among the headers meaning ``canonical`` (0 = the canonical name)."""
    k = header_key(header)
    if k == header_key(canonical):
        return 0
    alist = _alias_keys(table, canonical)
    return alist.index(k) + 1 if k in alist else len(alist) + 1


_UNIT_SUFFIX = None


def split_unit(header: object) -> tuple[str, str | None]:
    """Split a header into (base, unit) when it ends with a bracketed part: ``金额（万元）`` →
    ``('金额', '万元')``; ``订单日期`` → ``('订单日期', None)``. Compared as :func:`header_key`.

    Examples
    --------
    >>> split_unit("销量【箱】")
    ('销量', '箱')
    >>> split_unit("单价(元/条)")
    ('单价', '元/条')
    """
    import re

    global _UNIT_SUFFIX
    if _UNIT_SUFFIX is None:
        _UNIT_SUFFIX = re.compile(r"^(.+?)[(\[【〔]([^()\[\]【】〔〕]+)[)\]】〕]$")
    k = header_key(header)
    m = _UNIT_SUFFIX.match(k)
    return (m.group(1), m.group(2)) if m else (k, None)


def unit_factor(kind: str, unit: str) -> str | None:
    """The factor (a decimal string) from ``unit`` to the contract's unit for a column of unit
    ``kind`` (``money``, ``volume``, ``money/volume``, ``money|volume``); None when unknown.

    Examples
    --------
    >>> unit_factor("money", "万元"), unit_factor("volume", "箱"), unit_factor("money/volume", "元/箱")
    ('10000', '250', '0.004')
    """
    from decimal import Decimal

    u = header_key(unit)
    if kind == "money":
        return MONEY_UNITS.get(u)
    if kind == "volume":
        return VOLUME_UNITS.get(u)
    if kind == "money|volume":
        return MONEY_UNITS.get(u) or VOLUME_UNITS.get(u)
    if kind == "money/volume":
        if u in MONEY_UNITS:
            return MONEY_UNITS[u]
        top, _, bottom = u.partition("/")
        if top in MONEY_UNITS and bottom in VOLUME_UNITS:
            return format(Decimal(MONEY_UNITS[top]) / Decimal(VOLUME_UNITS[bottom]), "f")
    return None


def unit_kind_of(unit: str) -> str | None:
    """``money`` or ``volume`` for a known unit, else None."""
    u = header_key(unit)
    return "money" if u in MONEY_UNITS else "volume" if u in VOLUME_UNITS else None


def canonical_value(column: str, value: str) -> str:
    """Map a category value to its canonical spelling (unchanged when unknown).

    English values are compared case-insensitively.
    """
    k = header_key(value)
    table = VALUES.get(column, {})
    return table.get(k, k)
