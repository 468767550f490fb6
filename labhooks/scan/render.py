from __future__ import annotations

import csv
import io
import json
import os
import sys
from dataclasses import asdict

from labhooks.scan.records import (
    SCHEMA_VERSION,
    BlobRecord,
    GroupRecord,
    ScanResult,
    Summary,
)
from labhooks.sizes import format_size
from labhooks.text import printable

FORMATS = ("table", "json", "csv")


_BAR_WIDTH = 24


_SUBJECT_WIDTH = 40


def blob_dict(rank: int, record: BlobRecord) -> dict:
    return {
        "record": "blob",
        "rank": rank,
        "oid": record.oid,
        "size": record.size,
        "paths": list(record.paths),
        "at_head": record.at_head,
        "lfs_pointer": record.lfs_pointer,
        "commit": record.commit.as_dict() if record.commit else None,
    }


def group_dict(rank: int, record: GroupRecord) -> dict:
    return {"record": "group", "rank": rank, **asdict(record)}


def summary_dict(summary: Summary) -> dict:
    over = None
    if summary.max is not None:
        over = {"blobs": summary.over_max_blobs, "bytes": summary.over_max_bytes,
                "unknown": summary.over_max_unknown}
    return {
        "record": "summary",
        "schema": SCHEMA_VERSION,
        "revs": list(summary.revs),
        "by": summary.by,
        "max": summary.max,
        "walked": summary.walked,
        "store_objects": summary.store_objects,
        "pack_bytes": summary.pack_bytes,
        "loose_bytes": summary.loose_bytes,
        "blobs": summary.blobs,
        "blob_bytes": summary.blob_bytes,
        "unknown_blobs": summary.unknown_blobs,
        "over_max": over,
    }


def record_dicts(result: ScanResult) -> list[dict]:
    return [
        blob_dict(rank, r) if isinstance(r, BlobRecord) else group_dict(rank, r)
        for rank, r in enumerate(result.records, 1)
    ]


def render_json(result: ScanResult) -> str:
    records = [*record_dicts(result), summary_dict(result.summary)]
    text = json.dumps(records, indent=2, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A path that is not valid UTF-8 (kept as surrogate escapes) cannot be written as
        # UTF-8: escape everything non-ASCII instead, which is still valid JSON.
        text = json.dumps(records, indent=2, ensure_ascii=True)
    return text


def _printable(text: str) -> str:
    """``text`` with bytes that were not UTF-8 shown as ``\\xNN``, so it can be written."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


BLOB_CSV_FIELDS = ["record", "rank", "oid", "size", "at_head", "lfs_pointer", "commit", "date",
                   "author", "email", "subject", "paths"]


GROUP_CSV_FIELDS = ["record", "rank", "by", "key", "count", "bytes", "head_bytes", "unknown", "share"]


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def render_csv(result: ScanResult) -> str:
    """The same records as JSON, one row each; several paths are joined by newlines."""
    out = io.StringIO()
    if result.summary.by == "blob":
        writer = csv.DictWriter(out, BLOB_CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in record_dicts(result):
            commit = row.pop("commit") or {}
            row["paths"] = "\n".join(_printable(p) for p in row["paths"])
            row["commit"] = commit.get("oid")
            for key in ("date", "author", "email", "subject"):
                row[key] = commit.get(key)
            writer.writerow({k: _csv_value(v) for k, v in row.items()})
    else:
        writer = csv.DictWriter(out, GROUP_CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in record_dicts(result):
            row["key"] = _printable(row["key"])
            writer.writerow({k: _csv_value(v) for k, v in row.items()})
    return out.getvalue()


def use_rich(stream) -> bool:
    """Rich tables only for a terminal that has not asked for NO_COLOR (FORCE_COLOR forces)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def summary_line(summary: Summary) -> str:
    parts = [f"objects: {summary.store_objects:,} in the object store"]
    if summary.walked:
        parts.append(f"blobs: {summary.blobs:,} reachable, {format_size(summary.blob_bytes)} in total")
        if summary.unknown_blobs:
            parts.append(f"{summary.unknown_blobs:,} of unknown size (missing locally, not fetched)")
    else:
        parts.append("history not walked (nothing in the object store is that big)")
    disk = f"pack size on disk: {format_size(summary.pack_bytes)}"
    if summary.loose_bytes:
        disk += f" (+ {format_size(summary.loose_bytes)} loose)"
    parts.append(disk)
    line = "; ".join(parts)
    if summary.max is not None:
        count = summary.over_max_blobs
        line += (f"\nstripping blobs over {format_size(summary.max)} would remove "
                 f"{count:,} blob{'' if count == 1 else 's'}, {format_size(summary.over_max_bytes)}")
        if summary.over_max_unknown:
            line += f" (and maybe some of the {summary.over_max_unknown:,} of unknown size)"
    return line


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _short_date(date: str) -> str:
    return date[:10]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


_BLOB_HEADERS = ["#", "SIZE", "BLOB", "AT HEAD", "LFS", "COMMIT", "DATE", "AUTHOR", "SUBJECT", "PATHS"]


def _blob_rows(records: list[BlobRecord]) -> list[list[str]]:
    rows = []
    for rank, r in enumerate(records, 1):
        c = r.commit
        rows.append([
            str(rank), format_size(r.size), r.oid[:10], _yes(r.at_head), _yes(r.lfs_pointer),
            c.oid[:10] if c else "", _short_date(c.date) if c else "", c.author if c else "",
            _clip(c.subject, _SUBJECT_WIDTH) if c else "",
            ", ".join(printable(_printable(p)) for p in r.paths),
        ])
    return rows


def _group_rows(records: list[GroupRecord]) -> list[list[str]]:
    rows = []
    for rank, r in enumerate(records, 1):
        size = format_size(r.bytes)
        if r.unknown:
            size += f" (+{r.unknown} unknown)"
        rows.append([str(rank), printable(_printable(r.key)), f"{r.count:,}", size, format_size(r.head_bytes),
                     f"{r.share * 100:.1f}%"])
    return rows


def _group_headers(by: str) -> list[str]:
    return ["#", by.upper(), "BLOBS", "BYTES", "AT HEAD", "SHARE"]


def _plain_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    lines = []
    for row in [headers, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def render_plain(result: ScanResult) -> str:
    summary = result.summary
    if result.records:
        if summary.by == "blob":
            body = _plain_table(_BLOB_HEADERS, _blob_rows(result.records))
        else:
            body = _plain_table(_group_headers(summary.by), _group_rows(result.records))
    else:
        body = "no blobs to show"
    return f"{body}\n{summary_line(summary)}\n"


def print_rich(result: ScanResult, stream) -> None:
    from rich.bar import Bar
    from rich.console import Console
    from rich.table import Table

    console = Console(file=stream, highlight=False)
    summary = result.summary
    if not result.records:
        console.print("no blobs to show")
    elif summary.by == "blob":
        table = Table(title="Biggest blobs", title_justify="left")
        for header in _BLOB_HEADERS:
            justify = "right" if header in ("#", "SIZE") else "left"
            table.add_column(header, justify=justify, overflow="fold")
        for row in _blob_rows(result.records):
            table.add_row(*row)
        console.print(table)
    else:
        table = Table(title=f"Weight by {summary.by}", title_justify="left")
        for header in _group_headers(summary.by):
            table.add_column(header, justify="left" if header == summary.by.upper() else "right", overflow="fold")
        table.add_column("", width=_BAR_WIDTH, no_wrap=True)
        for row, record in zip(_group_rows(result.records), result.records):
            table.add_row(*row, Bar(1.0, 0.0, record.share, width=_BAR_WIDTH, color="magenta"))
        console.print(table)
    console.print(summary_line(summary), markup=False)


def write_report(result: ScanResult, fmt: str, stream=None) -> None:
    stream = stream or sys.stdout
    _write(result, fmt, stream)
    stream.flush()


def _write(result: ScanResult, fmt: str, stream) -> None:
    if fmt == "json":
        stream.write(render_json(result) + "\n")
    elif fmt == "csv":
        stream.write(render_csv(result))
    elif use_rich(stream):
        print_rich(result, stream)
    else:
        stream.write(render_plain(result))
