"""What an ingest did: the accounting, the columns used, the notes."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field


@dataclass
class IngestResult:
    """The accounting of one ingest.

    ``rows_read == accepted + quarantined + duplicates`` always. ``identical_kept`` (rows of a
    table without a key identical to an earlier row of the file: distinct events, all kept),
    ``returns_inferred`` (negative qty and amount without an is_return column) and
    ``sizes_derived`` (size class from the grade) are breakdowns of ``accepted``.
    """

    table: str
    source: str
    file_format: str = ""
    encoding: str | None = None
    sheet: str | None = None
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates_in_file: int = 0
    duplicates_in_store: int = 0
    identical_kept: int = 0
    returns_inferred: int = 0
    sizes_derived: int = 0
    blank_rows: int = 0
    removed: int = 0  # rows of the replaced period removed from the store
    replace_period: str | None = None
    already_ingested: str | None = None  # when the same file was ingested before: its time
    already_quarantined: int = 0  # quarantined rows whose line the quarantine file already held
    content_hash: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # source header -> canonical
    conversions: dict[str, str] = field(default_factory=dict)  # source header -> "amount × 10,000"
    dropped_columns: list[str] = field(default_factory=list)  # not used
    extra_columns: list[str] = field(default_factory=list)  # kept (hr_snapshot)
    reasons: Counter = field(default_factory=Counter)  # reason text -> rows
    codes: Counter = field(default_factory=Counter)  # reason code -> rows
    notes: list[str] = field(default_factory=list)
    quarantine_path: str | None = None
    store: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase (read, stage, duplicates, commit)
    # loads (undo, history) and master updates
    load_id: int | None = None  # the id of this load in the store's ingest log (None: nothing stored)
    already_ingested_load: int | None = None  # the earlier load of the same file and settings
    settings: dict = field(default_factory=dict)  # what besides the content makes the load (sheet, mapping …)
    settings_key: str = ""
    other_loads: list[int] = field(default_factory=list)  # live loads of the same file with other settings
    mode: str = "append"  # append, replace, update
    as_of: object = None  # --update: the day the changes take effect (datetime.date)
    as_of_rule: str = ""  # how as_of was chosen
    updated: int = 0  # --update: stored rows changed (a breakdown of accepted)
    new_keys: int = 0  # --update: keys added (a breakdown of accepted)
    kept_keys: int = 0  # --update: stored keys absent from the file, kept
    changes: Counter = field(default_factory=Counter)  # --update: column -> keys whose value changed
    depends_on: list[int] = field(default_factory=list)  # earlier loads whose rows this load's outcome used

    @property
    def duplicates(self) -> int:
        return self.duplicates_in_file + self.duplicates_in_store

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.accepted + self.quarantined + self.duplicates

    def to_dict(self) -> dict:
        """The accounting as plain JSON-able values (kept in the store's ingest log)."""
        d = asdict(self)
        d["reasons"] = dict(self.reasons)
        d["codes"] = dict(self.codes)
        d["changes"] = dict(self.changes)
        d["as_of"] = self.as_of.isoformat() if self.as_of is not None else None
        return d

    #: the words of a change per column (``23 customers reassigned (rep_id)``); others: "changed"
    CHANGE_VERBS = {"rep_id": "reassigned", "region": "moved", "price_class": "moved", "brand": "moved",
                    "manager_id": "reassigned", "exit_date": "left"}

    def change_lines(self) -> list[str]:
        """One line per kind of change of a master update: ``23 customers reassigned (rep_id)``."""
        noun = self.table
        out = [f"{n:,} {noun} {self.CHANGE_VERBS.get(c, 'changed')} ({c})" for c, n in
               sorted(self.changes.items(), key=lambda x: (-x[1], x[0]))]
        out.append(f"{self.new_keys:,} new {noun}, {self.updated:,} updated, {self.duplicates_in_store:,} unchanged, "
                   f"{self.kept_keys:,} kept (not in the file)")
        return out

    def summary(self) -> str:
        """A few lines for the terminal: source, accounting, columns, conversions, reasons, notes."""
        enc = f", encoding {self.encoding}" if self.encoding else ""
        sheet = f", sheet '{self.sheet}'" if self.sheet else ""
        lines = [f"ingest {self.table} <- {self.source} ({self.file_format}{enc}{sheet})"]
        if self.already_ingested:
            load = (f" as load {self.already_ingested_load}; to load it again, undo that load first "
                    f"(sales-analysis undo {self.already_ingested_load}) or change its settings"
                    if self.already_ingested_load else "")
            lines.append(f"already ingested on {self.already_ingested}: nothing added "
                         f"(the store's ingest log holds this file's content hash and settings{load})")
            lines += [f"note: {n}" for n in self.notes]
            return "\n".join(lines)
        lines.append(
            f"rows read {self.rows_read} = accepted {self.accepted} + quarantined {self.quarantined}"
            f" + duplicates skipped {self.duplicates} (in file {self.duplicates_in_file},"
            f" already in store {self.duplicates_in_store})")
        parts = [f"{label} {n}" for label, n in (("identical rows kept", self.identical_kept),
                                                 ("returns inferred from negative qty and amount", self.returns_inferred),
                                                 ("size class derived from the grade", self.sizes_derived)) if n]
        if parts:
            lines.append("accepted includes: " + ", ".join(parts))
        if self.replace_period:
            lines.append(f"period {self.replace_period} replaced: removed {self.removed} rows, added {self.accepted}")
        if self.mode == "update":
            lines.append(f"update as of {self.as_of} ({self.as_of_rule}); changes:")
            lines += [f"  {x}" for x in self.change_lines()]
        if self.load_id is not None:
            lines.append(f"load {self.load_id} (sales-analysis history lists the loads; "
                         f"sales-analysis undo {self.load_id} takes this one back)")
        if self.other_loads and self.load_id is not None:
            ids = ", ".join(map(str, self.other_loads))
            built = [i for i in self.other_loads if i in self.depends_on]
            if built:
                fix = (f"this load builds on its rows; to keep only this one, undo both (sales-analysis undo "
                       f"{self.load_id}, then sales-analysis undo {built[-1]}) and ingest this file again")
            else:
                fix = f"if this load corrects it, undo that one: sales-analysis undo {self.other_loads[-1]}"
            lines.append(f"note: the same file is also in the store as load {ids}, with other settings; {fix}")
        if self.columns:
            lines.append("columns: " + ", ".join(
                h if h == c else f"{h} -> {c}" for h, c in self.columns.items()))
        for h, conv in self.conversions.items():
            lines.append(f"unit: {h} → {conv}")
        if self.dropped_columns:
            lines.append("not used: " + ", ".join(self.dropped_columns))
        if self.quarantined:
            again = f" ({self.already_quarantined} already there from an earlier ingest)" if self.already_quarantined else ""
            lines.append(f"quarantined rows written to {self.quarantine_path}{again}")
            for reason, n in self.reasons.most_common():
                lines.append(f"  {n} × {reason}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)
