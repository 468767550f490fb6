from __future__ import annotations

import subprocess
import threading
from array import array
from typing import Callable, Iterable

from labhooks.errors import LabhooksError
from labhooks.git.history import added_blobs, boundary_objects
from labhooks.git.objects import (
    LFS_POINTER_PREFIX,
    blob_contents,
    stream_objects,
)
from labhooks.git.process import (
    NO_FETCH_ENV,
    git_executable,
    last_line,
    line_blocks,
    no_fetch_env,
    run_git,
)
from labhooks.git.repo import (
    head_commit,
    refs_to_trees_or_blobs,
)
from labhooks.git.store import StoreListing
from labhooks.scan.records import _EXCLUDED, _UNKNOWN
from labhooks.scan.table import BlobTable


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
        for header, oids, paths in added_blobs(revs, cwd, on_chunk=on_progress):
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
    boundary = boundary_objects(revs, cwd)
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
