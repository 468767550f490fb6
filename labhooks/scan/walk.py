from __future__ import annotations

import queue
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
    ``cat-file`` lookup of each distinct blob, fed while the walk goes on, which costs
    git less than listing every object and lets it answer on whichever core is free.
    """
    table = BlobTable()
    listing = None
    lookup = None
    if partial:
        # started first, it runs on another core meanwhile
        listing = StoreListing("%(objectname) %(objectsize)", cwd)
    else:
        lookup = SizeLookup(cwd)
    try:
        fed = 0
        for header, oids, paths in added_blobs(revs, cwd, on_chunk=on_progress):
            table.add_commit(header, oids, paths)
            if lookup is not None and len(table) - fed >= _FEED_EVERY:
                lookup.feed(table.oids()[fed:])
                fed = len(table)
        if listing is not None:
            table.fill_sizes(block.split() for block in listing.blocks())
        elif lookup is not None:
            lookup.feed(table.oids()[fed:])
            table.sizes = lookup.sizes()
    finally:
        if listing is not None:
            listing.close()
        if lookup is not None:
            lookup.close()
    if "--all" in revs:
        _add_blobs_without_commits(table, cwd)
    boundary = boundary_objects(revs, cwd)
    if boundary:
        for oid in boundary.intersection(table.index):
            table.sizes[table.index[oid]] = _EXCLUDED
    table.mark_head(head_blob_oids(cwd))
    return table


# new blobs per batch handed to cat-file during the walk
_FEED_EVERY = 1 << 14


def blob_sizes(oids: list[bytes], cwd=None) -> array:
    """Size of each object in ``oids``, in order (-1: missing), from one ``cat-file``."""
    lookup = SizeLookup(cwd)
    try:
        lookup.feed(oids)
        return lookup.sizes()
    finally:
        lookup.close()


class SizeLookup:
    """One ``cat-file --batch-check`` that is handed ids in batches and answers in order.

    A thread writes the ids and another reads the sizes back, so neither pipe can fill
    up, no side ever holds the whole exchange, and git answers while the caller still
    walks. ``--buffer`` lets git write its answers in big blocks instead of flushing once
    per object: about half the time for a history's blobs (docs/scan.md).
    """

    def __init__(self, cwd=None):
        self.proc = subprocess.Popen(
            [git_executable(), "cat-file", "--buffer", "--batch-check=%(objectsize)"], cwd=cwd,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=no_fetch_env(),
        )
        self._batches: queue.SimpleQueue[list[bytes] | None] = queue.SimpleQueue()
        self._sizes = array("q")
        self._fed = 0
        self._writer = threading.Thread(target=self._write, daemon=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._writer.start()
        self._reader.start()
        self._closed = False

    def feed(self, oids: list[bytes]) -> None:
        if oids:
            self._fed += len(oids)
            self._batches.put(oids)

    def _write(self) -> None:
        stdin = self.proc.stdin
        try:
            while (oids := self._batches.get()) is not None:
                for start in range(0, len(oids), 1 << 16):
                    stdin.write(b"\n".join(oids[start:start + (1 << 16)]) + b"\n")
            stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            pass  # cat-file died, or the lookup was closed; sizes() says so

    def _read(self) -> None:
        sizes = self._sizes
        try:
            for block in line_blocks(self.proc.stdout):
                lines = block.splitlines()
                try:
                    values = list(map(int, lines))
                except ValueError:  # "<oid> missing" somewhere in this block: go line by line
                    values = [_UNKNOWN if line.endswith(b" missing") else int(line) for line in lines]
                sizes.extend(values)
        except (OSError, ValueError):
            pass  # closed meanwhile

    def sizes(self) -> array:
        """Every size fed, in order, once git has answered them all."""
        self._batches.put(None)
        self._writer.join()
        self._reader.join()
        err = self.proc.stderr.read()
        rc = self.proc.wait()
        if rc != 0 or len(self._sizes) != self._fed:
            raise LabhooksError(f"git cat-file --batch-check failed: {last_line(err, str(rc))}")
        return self._sizes

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.proc.poll() is None:
            self.proc.kill()
        self._batches.put(None)
        self._writer.join()
        self._reader.join()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


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
