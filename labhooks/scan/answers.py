"""From the table of every blob to the rows a report shows: the biggest blobs, or totals per group."""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Callable

from labhooks.git.objects import (
    LFS_POINTER_MAX,
)
from labhooks.git.records import Commit
from labhooks.scan.records import (
    _EXCLUDED,
    _UNKNOWN,
    NO_COMMIT,
    NO_EXTENSION,
    TOP_DIR,
    BlobRecord,
    CommitWeight,
    Figures,
    GroupRecord,
    Period,
)
from labhooks.scan.table import BlobTable
from labhooks.scan.walk import lfs_pointers
from labhooks.sizes import reaches


def _rows_over(table: BlobTable, threshold: int | None) -> list[int]:
    sizes = table.sizes
    if threshold is None:
        return [row for row in range(len(sizes)) if sizes[row] != _EXCLUDED]
    return [row for row in range(len(sizes)) if reaches(sizes[row], threshold)]


def top_blobs(table: BlobTable, rows: list[int], top: int | None, cwd=None) -> list[BlobRecord]:
    """The biggest blobs first (ties by oid); blobs of unknown size last."""
    sizes = table.sizes
    known = [row for row in rows if sizes[row] != _UNKNOWN]

    def rank(row: int) -> tuple[int, bytes]:
        return -sizes[row], table.oid_bytes(row)

    if top:
        chosen = heapq.nlargest(top, known, key=sizes.__getitem__)
        if len(chosen) == top:
            # Equal sizes at the cut are ranked by blob id, so the rows are reproducible.
            cut = sizes[chosen[-1]]
            chosen = [r for r in chosen if sizes[r] > cut] + [r for r in known if sizes[r] == cut]
        chosen = sorted(chosen, key=rank)[:top]
    else:
        chosen = sorted(known, key=rank)
    if top is None or len(chosen) < top:
        unknown = sorted((row for row in rows if sizes[row] == _UNKNOWN), key=table.oid_bytes)
        chosen += unknown[: None if top is None else top - len(chosen)]
    small = [table.oid_of(r) for r in chosen if 0 <= sizes[r] < LFS_POINTER_MAX]
    pointers = lfs_pointers(small, cwd)
    return [
        BlobRecord(
            oid=table.oid_of(row),
            size=table.size_of(row),
            paths=table.paths_of(row),
            commit=table.commit_of(row),
            at_head=bool(table.at_head[row]),
            lfs_pointer=table.oid_of(row) in pointers,
        )
        for row in chosen
    ]


def extension_of(path: str) -> str:
    name = path.rpartition("/")[2]
    _, dot, ext = name[1:].rpartition(".")  # a leading dot names a dotfile, not a type
    return f".{ext.lower()}" if dot and ext else NO_EXTENSION


def directory_of(path: str) -> str:
    return path.rpartition("/")[0] or TOP_DIR


def group_blobs(table: BlobTable, rows: list[int], by: str, top: int | None) -> list[GroupRecord]:
    """Totals per group (count, bytes, bytes still at HEAD), biggest first, with polars."""
    if not rows:
        return []
    import polars as pl  # only a grouped scan pays for polars

    if by == "author":
        authors = []
        for raw in table.headers:
            header = Commit.parse(raw)
            authors.append(f"{header.author} <{header.email}>")
        authors.append(NO_COMMIT)
        key_of_id = authors
        ids = array("l", (i if i >= 0 else len(authors) - 1 for i in table.commit_ids))
    else:
        keyers: dict[str, Callable[[str], str]] = {"path": str, "ext": extension_of, "dir": directory_of}
        keyer = keyers[by]
        # Group keys are text for polars: bytes that are not UTF-8 become \xNN.
        key_of_id = [keyer(p.decode("utf-8", "backslashreplace")) for p in table.paths]
        ids = table.path_ids
    picked = pl.Series("row", rows, dtype=pl.Int64)
    frame = pl.DataFrame({
        "key": pl.Series("key", key_of_id, dtype=pl.String).gather(pl.Series(ids, dtype=pl.Int64).gather(picked)),
        "size": pl.Series("size", table.sizes, dtype=pl.Int64).gather(picked),
        "at_head": pl.Series("at_head", table.at_head, dtype=pl.UInt8).gather(picked).cast(pl.Boolean),
    })
    known = pl.col("size") != _UNKNOWN
    totals = (
        frame.lazy()
        .group_by("key")
        .agg(
            count=pl.len(),
            bytes=pl.when(known).then(pl.col("size")).otherwise(0).sum(),
            head_bytes=pl.when(known & pl.col("at_head")).then(pl.col("size")).otherwise(0).sum(),
            unknown=(~known).sum(),
        )
        .sort(["bytes", "count", "key"], descending=[True, True, False])
        .collect()
    )
    grand = int(totals["bytes"].sum())
    if top:
        totals = totals.head(top)
    return [
        GroupRecord(by, key, int(count), int(size), int(head), int(unknown),
                    (size / grand) if grand else 0.0)
        for key, count, size, head, unknown in totals.iter_rows()
    ]


# More periods than this and months become years: a bar per month stays readable to here.
_MAX_MONTHS = 360


_TOP_PER_PERIOD = 3


_TOP_COMMITS = 10


def history_figures(table: BlobTable) -> Figures:
    """Bytes per first path (all and still at HEAD) and per introducing commit and month,
    over every blob of known size (a range's boundary blobs excluded): what the HTML
    report's treemap and growth chart draw."""
    sizes, path_ids, commit_ids, at_head = table.sizes, table.path_ids, table.commit_ids, table.at_head
    path_bytes: dict[int, int] = {}
    path_head: dict[int, int] = {}
    commit_bytes: dict[int, int] = {}
    commit_blobs: dict[int, int] = {}
    for row, size in enumerate(sizes):
        if size < 0:
            continue
        path = path_ids[row]
        path_bytes[path] = path_bytes.get(path, 0) + size
        if at_head[row]:
            path_head[path] = path_head.get(path, 0) + size
        commit = commit_ids[row]
        commit_bytes[commit] = commit_bytes.get(commit, 0) + size
        commit_blobs[commit] = commit_blobs.get(commit, 0) + 1
    names = table.paths
    paths = sorted(
        ((names[p].decode("utf-8", "surrogateescape"), size, path_head.get(p, 0)) for p, size in path_bytes.items()),
        key=lambda item: (-item[1], item[0]),
    )
    undated = commit_bytes.pop(-1, 0)  # then also commits whose date has no month
    commit_blobs.pop(-1, None)
    weights = [CommitWeight(Commit.parse(table.headers[c]), size, commit_blobs[c]) for c, size in commit_bytes.items()]
    rank = lambda w: (-w.bytes, w.commit.oid)  # noqa: E731
    dated = [w for w in weights if _month_number(w.commit.date) is not None]
    undated += sum(w.bytes for w in weights) - sum(w.bytes for w in dated)
    return Figures(paths, _periods(dated, rank), sorted(weights, key=rank)[:_TOP_COMMITS], undated)


def _periods(weights: list[CommitWeight], rank) -> list[Period]:
    months = sorted({w.commit.date[:7] for w in weights})
    if not months:
        return []
    start, end = (_month_number(m) or 0 for m in (months[0], months[-1]))  # dated: never None
    span = end - start + 1
    by_year = span > _MAX_MONTHS
    width = 4 if by_year else 7
    grouped: dict[str, list[CommitWeight]] = {}
    for weight in weights:
        grouped.setdefault(weight.commit.date[:width], []).append(weight)
    if by_year:
        first, last = int(months[0][:4]), int(months[-1][:4])
        keys = [f"{year:04d}" for year in range(first, last + 1)]
    else:
        keys = [f"{(start + i) // 12:04d}-{(start + i) % 12 + 1:02d}" for i in range(span)]
    periods, cumulative = [], 0
    for key in keys:
        members = grouped.get(key, [])
        added = sum(w.bytes for w in members)
        cumulative += added
        periods.append(Period(key, added, cumulative, sorted(members, key=rank)[:_TOP_PER_PERIOD]))
    return periods


def _month_number(date: str) -> int | None:
    """An ISO date's ``YYYY-MM`` as months since year 0; None if it is not one."""
    year, month = date[:4], date[5:7]
    if not (year.isdigit() and month.isdigit() and date[4:5] == "-" and 1 <= int(month) <= 12):
        return None
    return int(year) * 12 + int(month) - 1
