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
        return d

    def summary(self) -> str:
        """A few lines for the terminal: source, accounting, columns, conversions, reasons, notes."""
        enc = f", encoding {self.encoding}" if self.encoding else ""
        sheet = f", sheet '{self.sheet}'" if self.sheet else ""
        lines = [f"ingest {self.table} <- {self.source} ({self.file_format}{enc}{sheet})"]
        if self.already_ingested:
            lines.append(f"already ingested on {self.already_ingested}: nothing added "
                         "(the store's ingest log holds this file's content hash)")
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
