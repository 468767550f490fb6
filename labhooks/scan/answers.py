"""From the table of every blob to the rows a report shows: the biggest blobs, or totals per group."""

from __future__ import annotations

import heapq
from array import array

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
    GroupRecord,
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
        keyer = {"path": str, "ext": extension_of, "dir": directory_of}[by]
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
