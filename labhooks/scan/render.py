from __future__ import annotations

import csv
import io
import json
import os
import sys
from dataclasses import asdict

from labhooks.errors import LabhooksError
from labhooks.fit import (
    END,
    GAP,
    MIDDLE,
    MORE_MARK,
    PREFIX,
    Column,
    Fitted,
    dropped_note,
    fit,
    fold,
    plain_lines,
    terminal_width,
)
from labhooks.scan.records import (
    SCHEMA_VERSION,
    BlobRecord,
    ForgeSize,
    GroupRecord,
    ScanResult,
    Summary,
)
from labhooks.sizes import format_size
from labhooks.text import printable

FORMATS = ("table", "json", "csv", "html")


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
        "forge": forge_dict(summary.forge) if summary.forge else None,
    }


def forge_dict(forge: ForgeSize) -> dict:
    return {"key": forge.key, "name": forge.name, "why": forge.why, "repo_bytes": forge.repo_bytes,
            "recommended": forge.recommended, "limit": forge.limit, "verdict": forge.verdict}


_VERDICT_WORDS = {"under": "this repository is under it", "over recommended": "this repository is over the "
                  "recommended size", "over limit": "this repository is over the limit"}


def forge_line(forge: ForgeSize) -> str:
    """The repository's size against its forge's recommendations, in words."""
    size = f"repository: {format_size(forge.repo_bytes)} packed"
    if forge.recommended is None and forge.limit is None:
        return f"{size}; {forge.name} gives no figure for a repository's size ({forge.why})"
    if forge.recommended is not None:
        rule = f"{forge.name} recommends under {format_size(forge.recommended)}"
        if forge.limit is not None:
            rule += f" and strongly under {format_size(forge.limit)}"
    else:
        rule = f"{forge.name}'s limit is {format_size(forge.limit or 0)}"
    return f"{size}; {rule}: {_VERDICT_WORDS[forge.verdict]} ({forge.why})"


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
    if summary.forge is not None:
        line += "\n" + forge_line(summary.forge)
    if summary.max is not None:
        count = summary.over_max_blobs
        line += (f"\nstripping blobs of {format_size(summary.max)} or more would remove "
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


# Dropped in rising ``drop`` order when the terminal is too narrow; the paths, the size
# and the rank always stay, since they say what is heavy and where it is.
_BLOB_COLUMNS = [
    Column("#", right=True),
    Column("SIZE", right=True),
    Column("BLOB", PREFIX, least=7, drop=4),
    Column("AT HEAD", drop=6),
    Column("LFS", drop=1),
    Column("COMMIT", PREFIX, least=7, drop=7),
    Column("DATE", drop=5),
    Column("AUTHOR", END, least=8, drop=2),
    Column("SUBJECT", END, least=10, drop=3),
    Column("PATHS", MIDDLE, least=24),
]


_ID_WIDTH = 10


_FULL_VALUES = "--wide, --format json or csv show every column in full"


def _paths_cell(paths: list[str], all_paths: bool) -> str:
    shown = [printable(_printable(p)) for p in paths]
    if all_paths or len(shown) < 2:
        return ", ".join(shown)
    # One path, shortened if need be, and how many more: the table stays one line.
    return f"{shown[0]}{MORE_MARK}{len(shown) - 1} more"


def _blob_rows(records: list[BlobRecord], full: bool, fitted: bool) -> list[list[str]]:
    """``full``: whole ids and subjects (--wide); ``fitted``: one path and a count of the
    others, since the row must fit a terminal line."""
    rows = []
    for rank, r in enumerate(records, 1):
        c = r.commit
        rows.append([
            str(rank), format_size(r.size), r.oid if full else r.oid[:_ID_WIDTH], _yes(r.at_head),
            _yes(r.lfs_pointer), (c.oid if full else c.oid[:_ID_WIDTH]) if c else "",
            _short_date(c.date) if c else "", printable(c.author) if c else "",
            (printable(c.subject) if full else _clip(printable(c.subject), _SUBJECT_WIDTH)) if c else "",
            _paths_cell(r.paths, all_paths=not fitted),
        ])
    return rows


def _group_rows(records: list[GroupRecord]) -> list[list[str]]:
    rows = []
    for rank, r in enumerate(records, 1):
        size = format_size(r.bytes)
        if r.unknown:
            size += f" (+{r.unknown} unknown)"
        rows.append([str(rank), printable(_printable(r.key)), f"{r.count:,}", size, format_size(r.head_bytes),
                     f"{r.share * 100:.1f}%", " " * _BAR_WIDTH])
    return rows


def _group_columns(by: str, bars: bool) -> list[Column]:
    key = Column(by.upper(), MIDDLE if by in ("path", "dir") else END, least=16)
    columns = [Column("#", right=True), key, Column("BLOBS", right=True, drop=3),
               Column("BYTES", right=True), Column("AT HEAD", right=True, drop=2),
               Column("SHARE", right=True, drop=4)]
    if bars:
        columns.append(Column("", drop=1, label="share bars"))
    return columns


def _table(result: ScanResult, width: int | None, bars: bool, full: bool) -> tuple[str, Fitted]:
    """The title and the table fitted to ``width`` (None: not fitted)."""
    by = result.summary.by
    if by == "blob":
        title, columns = "Biggest blobs", _BLOB_COLUMNS
        blobs = [r for r in result.records if isinstance(r, BlobRecord)]
        rows = _blob_rows(blobs, full=full, fitted=width is not None)
    else:
        groups = [r for r in result.records if isinstance(r, GroupRecord)]
        title, columns, rows = f"Weight by {by}", _group_columns(by, bars), _group_rows(groups)
        if not bars:
            rows = [row[:-1] for row in rows]
    return title, fit(columns, rows, width)


def _wrapped(text: str, width: int | None) -> str:
    return "\n".join(folded for line in text.splitlines() for folded in fold(line, width))


def render_plain(result: ScanResult, width: int | None = None, full: bool = False) -> str:
    summary = result.summary
    note = ""
    if result.records:
        _, fitted = _table(result, width, bars=False, full=full)
        body = "\n".join(plain_lines(fitted))
        note = dropped_note(fitted.dropped, _FULL_VALUES)
    else:
        body = "no blobs to show"
    tail = "\n".join(line for line in (note, summary_line(summary)) if line)
    return f"{body}\n{_wrapped(tail, width)}\n"


def print_rich(result: ScanResult, stream, width: int | None = None, full: bool = False) -> None:
    from rich import box
    from rich.bar import Bar
    from rich.console import Console
    from rich.table import Table

    summary = result.summary
    if not result.records:
        Console(file=stream, highlight=False, width=width).print("no blobs to show")
        Console(file=stream, highlight=False, width=width).print(summary_line(summary), markup=False)
        return
    title, fitted = _table(result, width, bars=True, full=full)
    # Unfitted (--wide, or not a terminal): as wide as the table, so rich folds nothing.
    table_width = sum(fitted.widths) + GAP * (len(fitted.widths) - 1)
    console = Console(file=stream, highlight=False, width=width)
    if width is None:
        console.width = max(table_width, console.width)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False, padding=(0, GAP - 1, 0, 0))  # + the box's one-blank divider = GAP
    for column, column_width in zip(fitted.columns, fitted.widths):
        table.add_column(column.header, justify="right" if column.right else "left",
                         width=column_width, no_wrap=True, overflow="crop")
    bar_at = next((i for i, c in enumerate(fitted.columns) if c.header == ""), None)
    for row, record in zip(fitted.rows, result.records):
        cells: list = list(row)  # text, and a rich Bar in the bar column
        if bar_at is not None:
            share = record.share if isinstance(record, GroupRecord) else 0.0
            cells[bar_at] = Bar(1.0, 0.0, share, width=_BAR_WIDTH, color="magenta")
        table.add_row(*cells)
    console.print(table)
    note = dropped_note(fitted.dropped, _FULL_VALUES)
    if note:
        console.print(note, markup=False, style="dim")
    console.print(summary_line(summary), markup=False)


def write_report(result: ScanResult, fmt: str, stream=None, wide: bool = False) -> None:
    stream = stream or sys.stdout
    _write(result, fmt, stream, wide)
    stream.flush()


def write_report_file(result: ScanResult, fmt: str, path: str, force: bool = False) -> None:
    """The report in ``path``, whole or not at all: written beside it, then renamed over.

    An existing file is kept unless ``force``: a report is cheap to make again, whatever
    the file held may not be.
    """
    target = os.path.abspath(path)
    if os.path.isdir(target):
        raise LabhooksError(f"-o {path}: is a folder; name a file")
    if os.path.lexists(target) and not force:
        raise LabhooksError(f"-o {path}: the file exists; remove it, choose another name or add --force")
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise LabhooksError(f"-o {path}: no folder {folder}")
    import tempfile

    try:
        fd, scratch = tempfile.mkstemp(prefix=".labhooks-scan-", suffix=".part", dir=folder)
    except OSError as exc:
        raise LabhooksError(f"-o {path}: cannot write in {folder} ({exc.strerror})") from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(scratch, 0o666 & ~umask)  # what a plain redirect would make, not mkstemp's 0600
        with open(fd, "w", encoding="utf-8", errors="surrogateescape", newline="") as out:
            _write(result, fmt, out, wide=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(scratch, target)
    except BaseException:
        os.unlink(scratch)
        raise


def _write(result: ScanResult, fmt: str, stream, wide: bool) -> None:
    if fmt == "html":
        from labhooks.scan.html import render_html

        stream.write(render_html(result))
    elif fmt == "json":
        stream.write(render_json(result) + "\n")
    elif fmt == "csv":
        stream.write(render_csv(result))
    else:
        width = None if wide else terminal_width(stream)
        if use_rich(stream):
            print_rich(result, stream, width, full=wide)
        else:
            stream.write(render_plain(result, width, full=wide))
