"""Where the weight in a history is: the records behind ``labhooks scan``.

One history walk (:mod:`labhooks.history`) names every distinct blob reachable from the
revisions, the commit that introduced it and every path it was added under; sizes are
joined on afterwards from the object store, without a process per object and without
ever fetching: a blob that a partial clone lacks keeps an unknown size.

Per blob only a few integers are kept (columnar arrays; paths and commit headers are
stored once and shared), so memory grows with the number of distinct blobs and
commits, never with how often a blob is met. A blob belongs to the group of the first
path it was added under, so the groups of any ``--by`` add up exactly to the total.
"""

from __future__ import annotations

import heapq
import subprocess
import threading
from array import array
from dataclasses import dataclass
from itertools import repeat
from typing import Callable, Iterable

from labhooks import history
from labhooks.errors import LabhooksError
from labhooks.plumbing import (
    LFS_POINTER_MAX,
    LFS_POINTER_PREFIX,
    NO_FETCH_ENV,
    StoreListing,
    blob_contents,
    disk_usage,
    ensure_repo,
    git_executable,
    head_commit,
    is_partial_clone,
    last_line,
    line_blocks,
    no_fetch_env,
    refs_to_trees_or_blobs,
    run_git,
    stream_objects,
)

GROUPINGS = ("blob", "path", "ext", "dir", "author")
DEFAULT_TOP = 20
SCHEMA_VERSION = 1
NO_EXTENSION = "(none)"
NO_COMMIT = "(no commit)"  # a blob reached only through a tag of a tree or blob
TOP_DIR = "."

_UNKNOWN = -1
_EXCLUDED = -2  # reached by the walk but already held by the range's boundary


@dataclass
class CommitRef:
    oid: str
    date: str
    author: str
    email: str
    subject: str


@dataclass
class BlobRecord:
    oid: str
    size: int | None  # None: missing locally (partial clone), never fetched
    paths: list[str]  # every path it was added under, first one first
    commit: CommitRef | None  # the commit that introduced it
    at_head: bool
    lfs_pointer: bool


@dataclass
class GroupRecord:
    by: str
    key: str
    count: int
    bytes: int  # known sizes only
    head_bytes: int  # of those, blobs still in HEAD's tree
    unknown: int  # blobs of unknown size in the group
    share: float  # bytes / bytes of all groups shown or not


@dataclass
class Summary:
    revs: list[str]
    by: str
    max: int | None
    walked: bool  # False: the store alone proved nothing reaches --max
    store_objects: int  # objects in the object store, reachable or not
    pack_bytes: int
    loose_bytes: int
    blobs: int | None  # distinct blobs reachable from revs (None when not walked)
    blob_bytes: int | None  # their total size, unknown sizes excluded
    unknown_blobs: int | None
    over_max_blobs: int | None = None
    over_max_bytes: int | None = None
    over_max_unknown: int | None = None


@dataclass
class ScanResult:
    records: list[BlobRecord] | list[GroupRecord]
    summary: Summary


class BlobTable:
    """Every distinct blob the walk met, in columns; row i is the i-th blob first seen."""

    def __init__(self) -> None:
        self.index: dict[bytes, int] = {}
        self.sizes = array("q")
        self.path_ids = array("l")
        self.commit_ids = array("l")
        self.path_index: dict[bytes, int] = {}  # path -> id, ids counting up from 0
        self._paths: list[bytes] = []
        self.headers: list[bytes] = []  # raw commit headers, see history.CommitHeader
        self.extra_paths: dict[int, list[int]] = {}
        self.at_head = bytearray()
        self._oids: list[bytes] = []

    def __len__(self) -> int:
        return len(self.sizes)

    def add_commit(self, header: bytes, oids: list[bytes], paths: list[bytes]) -> None:
        """One commit of the walk, newest first: a blob met again in an older commit was
        introduced there (or earlier), under the path it had there."""
        index = self.index
        rows = len(index)
        commit_id = len(self.headers)
        self.headers.append(header)
        fresh: list[bytes] = []
        for oid, path in zip(oids, paths):
            row = index.setdefault(oid, rows)
            if row == rows:
                rows += 1
                fresh.append(path)
            else:
                if fresh:  # the rows it may refer to must exist first
                    self._append(fresh, commit_id)
                    fresh = []
                self._seen_again(row, path, commit_id)
        if fresh:
            self._append(fresh, commit_id)

    def _append(self, paths: list[bytes], commit_id: int) -> None:
        intern, known = self.path_index.setdefault, self.path_index
        self.path_ids.extend([intern(path, len(known)) for path in paths])
        self.sizes.extend(repeat(_UNKNOWN, len(paths)))
        self.commit_ids.extend(repeat(commit_id, len(paths)))

    def _path_id(self, path: bytes) -> int:
        return self.path_index.setdefault(path, len(self.path_index))

    def _seen_again(self, row: int, path: bytes, commit_id: int) -> None:
        path_id = self._path_id(path)
        first_id = self.path_ids[row]
        if self.commit_ids[row] == commit_id:
            # The same commit adds it under a second path: the first one stays first.
            if path_id != first_id:
                extra = self.extra_paths.setdefault(row, [])
                if path_id not in extra:
                    extra.append(path_id)
            return
        self.commit_ids[row] = commit_id
        if path_id == first_id:
            return
        extra = self.extra_paths.setdefault(row, [])
        if path_id in extra:
            extra.remove(path_id)
        extra.insert(0, first_id)
        self.path_ids[row] = path_id

    @property
    def paths(self) -> list[bytes]:
        """Every distinct path, by id (dict order is id order)."""
        if len(self._paths) != len(self.path_index):
            self._paths = list(self.path_index)
        return self._paths

    def add_without_commit(self, oid: bytes, path: bytes, size: int | None) -> None:
        self.index[oid] = len(self.sizes)
        self.sizes.append(_UNKNOWN if size is None else size)
        self.path_ids.append(self._path_id(path))
        self.commit_ids.append(-1)

    def fill_sizes(self, blocks: Iterable[list[bytes]]) -> None:
        """Sizes from the store listing's words (``oid, size, oid, size, ...``)."""
        get, sizes = self.index.get, self.sizes
        for words in blocks:
            # Only blob ids are in the index, so trees and commits simply miss.
            for row, size in zip(map(get, words[0::2]), words[1::2]):
                if row is not None:
                    sizes[row] = int(size)

    def mark_head(self, head_blobs: Iterable[bytes]) -> None:
        self.at_head = bytearray(len(self.sizes))
        for oid in head_blobs:
            row = self.index.get(oid)
            if row is not None:
                self.at_head[row] = 1

    # -- reading rows back -------------------------------------------------------------

    def oids(self) -> list[bytes]:
        """Every blob id, by row (dict order is row order)."""
        if len(self._oids) != len(self.index):
            self._oids = list(self.index)
        return self._oids

    def oid_bytes(self, row: int) -> bytes:
        return self.oids()[row]

    def oid_of(self, row: int) -> str:
        return self.oid_bytes(row).decode()

    def paths_of(self, row: int) -> list[str]:
        ids = [self.path_ids[row], *self.extra_paths.get(row, ())]
        return [self.paths[i].decode("utf-8", "surrogateescape") for i in ids]

    def commit_of(self, row: int) -> CommitRef | None:
        if self.commit_ids[row] < 0:
            return None
        header = history.CommitHeader.parse(self.headers[self.commit_ids[row]])
        return CommitRef(header.oid, header.date, header.author, header.email, header.subject)

    def size_of(self, row: int) -> int | None:
        size = self.sizes[row]
        return None if size == _UNKNOWN else size


# -- inputs ---------------------------------------------------------------------------


def resolve_revs(revs: Iterable[str], all_refs: bool, cwd=None) -> list[str]:
    """Revision arguments for the walk; every ref when none are given."""
    revs = list(revs)
    if revs and all_refs:
        raise LabhooksError("give a revision range or --all, not both")
    if not revs:
        return ["--all"]
    for rev in revs:
        if not rev or rev.startswith("-") or "\n" in rev:
            raise LabhooksError(f"bad revision or range: {rev!r}")
    proc = run_git(["rev-parse", "--end-of-options", *revs, "--"], cwd, check=False)
    if proc.returncode != 0:
        why = last_line(proc.stderr, "not a revision").removeprefix("fatal: ")
        raise LabhooksError(f"bad revision or range: {' '.join(revs)} ({why})")
    resolved = [line for line in proc.stdout.splitlines() if line and not line.startswith("-")]
    if not resolved:
        raise LabhooksError(f"bad revision or range: {' '.join(revs)}")
    return resolved


def head_blob_oids(cwd=None) -> list[bytes]:
    if head_commit(cwd) is None:
        return []  # unborn branch: nothing is "still at HEAD"
    out = run_git(["ls-tree", "-r", "-z", "--full-tree", "HEAD"], cwd, text=False,
                  env=NO_FETCH_ENV).stdout
    oids = []
    for entry in out.split(b"\0"):
        meta, _, _ = entry.partition(b"\t")
        parts = meta.split(b" ")
        if len(parts) == 3 and parts[1] == b"blob":
            oids.append(parts[2])
    return oids


def lfs_pointers(oids: list[str], cwd=None) -> set[str]:
    """Which of these (present, small) blobs are Git LFS pointer files."""
    return {oid for oid, content in blob_contents(oids, cwd).items() if content.startswith(LFS_POINTER_PREFIX)}


# -- the walk ---------------------------------------------------------------------------


def collect(revs: list[str], partial: bool, cwd=None,
            on_progress: Callable[[int], None] | None = None) -> BlobTable:
    """Walk ``revs`` once and join sizes onto every blob met.

    In a partial clone sizes come from a listing of the store made during the walk (the
    store alone knows what is missing without trying to fetch it); otherwise from one
    ``cat-file`` lookup per distinct blob after the walk, which costs git less than
    listing every object and costs Python almost nothing.
    """
    table = BlobTable()
    listing = None
    if partial:
        # started first, it runs on another core meanwhile
        listing = StoreListing("%(objectname) %(objectsize)", cwd)
    try:
        for header, oids, paths in history.added_blobs(revs, cwd, on_chunk=on_progress):
            table.add_commit(header, oids, paths)
        if listing is not None:
            table.fill_sizes(block.split() for block in listing.blocks())
        else:
            table.sizes = blob_sizes(table.oids(), cwd)
    finally:
        if listing is not None:
            listing.close()
    if "--all" in revs:
        _add_blobs_without_commits(table, cwd)
    boundary = history.boundary_objects(revs, cwd)
    if boundary:
        for oid in boundary.intersection(table.index):
            table.sizes[table.index[oid]] = _EXCLUDED
    table.mark_head(head_blob_oids(cwd))
    return table


def blob_sizes(oids: list[bytes], cwd=None) -> array:
    """Size of each object in ``oids``, in order (-1: missing), from one ``cat-file``.

    The ids are fed from a thread while the sizes are read back, so neither pipe can
    fill up and neither side ever holds the whole exchange. ``--buffer`` lets git write
    its answers in big blocks instead of flushing once per object: about half the time
    for a history's blobs (docs/scan.md).
    """
    proc = subprocess.Popen(
        [git_executable(), "cat-file", "--buffer", "--batch-check=%(objectsize)"], cwd=cwd,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=no_fetch_env(),
    )

    def feed() -> None:
        try:
            for start in range(0, len(oids), 1 << 16):
                proc.stdin.write(b"\n".join(oids[start:start + (1 << 16)]) + b"\n")
            proc.stdin.close()
        except (BrokenPipeError, ValueError):
            pass  # cat-file died; its exit status says so below

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    sizes = array("q")
    try:
        for block in line_blocks(proc.stdout):
            lines = block.splitlines()
            try:
                values = list(map(int, lines))
            except ValueError:  # "<oid> missing" somewhere in this block: go line by line
                values = [_UNKNOWN if line.endswith(b" missing") else int(line) for line in lines]
            sizes.extend(values)
    finally:
        writer.join()
        err = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
        rc = proc.wait()
    if rc != 0 or len(sizes) != len(oids):
        raise LabhooksError(f"git cat-file --batch-check failed: {last_line(err, str(rc))}")
    return sizes


def _add_blobs_without_commits(table: BlobTable, cwd=None) -> None:
    """Blobs that a ref reaches only through a tag of a tree or a blob: no commit adds
    them, so the walk cannot see them; rev-list lists them (rarely more than a few)."""
    tips = refs_to_trees_or_blobs(cwd)
    if not tips:
        return
    for record in stream_objects(tips, cwd):
        if record.type in ("blob", None) and record.oid.encode() not in table.index:
            table.add_without_commit(record.oid.encode(), (record.path or "").encode(
                "utf-8", "surrogateescape"), record.size)


# -- answers ------------------------------------------------------------------------------


def _rows_over(table: BlobTable, threshold: int | None) -> list[int]:
    sizes = table.sizes
    if threshold is None:
        return [row for row in range(len(sizes)) if sizes[row] != _EXCLUDED]
    return [row for row in range(len(sizes)) if sizes[row] >= threshold]


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
            header = history.CommitHeader.parse(raw)
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


def scan(
    revs: Iterable[str] = (),
    *,
    all_refs: bool = False,
    max_size: int | None = None,
    top: int | None = None,
    by: str = "blob",
    cwd=None,
    on_progress: Callable[[int], None] | None = None,
    store_listing: StoreListing | None = None,
) -> ScanResult:
    """The whole report. ``top``: None = default (20, or every blob over ``max_size``), 0 = all.

    ``store_listing``: a sizes-only listing of the store the caller started early, used
    with ``max_size`` and closed once read (closing it again is harmless).
    """
    if by not in GROUPINGS:
        raise LabhooksError(f"--by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    if top is not None and top < 0:
        raise LabhooksError(f"--top must be 0 (all) or more, not {top}")
    if max_size is not None and max_size <= 0:
        raise LabhooksError("--max must be more than 0 bytes")
    # With --max, the store listing may answer everything: start it first, so git lists
    # on another core while the repository, the revisions and the disk usage are read.
    listing = (store_listing or StoreListing(cwd=cwd)) if max_size is not None else None
    try:
        ensure_repo(cwd)
        walk_revs = resolve_revs(revs, all_refs, cwd)
        usage = disk_usage(cwd)
        partial = is_partial_clone(cwd)
        # Nothing in the whole store reaches the limit: no reachable blob can either,
        # so the answer needs no history walk at all (a partial clone's store cannot say).
        nothing_that_big = listing is not None and not partial and not listing.sizes_at_least(max_size)
    finally:
        # Closed before the walk, so its spool file is not held through the whole scan.
        if listing is not None:
            listing.close()
    if top is None:
        top = 0 if max_size is not None else DEFAULT_TOP
    if nothing_that_big:
        summary = Summary(walk_revs, by, max_size, False, usage.objects, usage.pack_bytes,
                          usage.loose_bytes, None, None, None, 0, 0, 0)
        return ScanResult([], summary)

    table = collect(walk_revs, partial, cwd, on_progress)
    sizes = table.sizes
    unknown = sizes.count(_UNKNOWN)
    excluded = sizes.count(_EXCLUDED)
    summary = Summary(
        walk_revs, by, max_size, True, usage.objects, usage.pack_bytes, usage.loose_bytes,
        # the sum counts each -1 / -2 marker: add them back
        len(sizes) - excluded, sum(sizes) + unknown + 2 * excluded, unknown,
    )
    rows = _rows_over(table, max_size)
    if max_size is not None:
        summary.over_max_blobs = len(rows)
        summary.over_max_bytes = sum(sizes[r] for r in rows)
        summary.over_max_unknown = unknown
        # A blob of unknown size might be over the limit: keep it in view.
        rows += [r for r in range(len(sizes)) if sizes[r] == _UNKNOWN]
    if by == "blob":
        records = top_blobs(table, rows, top or None, cwd)
    else:
        records = group_blobs(table, rows, by, top or None)
    return ScanResult(records, summary)
