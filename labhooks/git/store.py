"""Listings of the whole object store, reachable or not, without walking any history."""

from __future__ import annotations

import os
from collections.abc import Iterator

from labhooks.git.objects import BlobQuery, _digits, _size_regex, batch_check, biggest_first
from labhooks.git.process import (
    GitError,
    git_executable,
    last_line,
    line_blocks,
    no_fetch_env,
    scratch_file,
)
from labhooks.git.records import ObjectRecord

TYPE_CHECKING = False
if TYPE_CHECKING:
    pass


_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")


class StoreListing:
    """One ``git cat-file --batch-all-objects --unordered`` over the whole object store,
    reachable or not, started at construction so git works on another core while the
    caller goes on, and spooled to a file so git never waits for us and the listing can
    be read more than once.

    Listing the store reads pack indexes and object headers, no history: a fraction of
    a walk. Leave the type out of ``fmt`` where possible: it costs git a walk down every
    delta chain, while a size costs one delta header.
    """

    def __init__(self, fmt: str = "%(objectsize)", cwd=None):
        import subprocess  # not at import: the commit hook never lists the store

        self.file = scratch_file()
        try:
            self.proc = subprocess.Popen(
                [git_executable(), "cat-file", "--batch-all-objects", "--unordered", f"--batch-check={fmt}"],
                cwd=cwd, stdout=self.file, stderr=subprocess.PIPE, env=no_fetch_env(),
            )
        except BaseException:
            self.file.close()
            raise
        self.done = False
        self.lines: int | None = None  # objects listed, once counted

    def __enter__(self) -> "StoreListing":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def wait(self) -> None:
        if self.done:
            return
        self.done = True
        err = self.proc.stderr.read()
        self.proc.stderr.close()
        if self.proc.wait() != 0:
            raise GitError(f"git cat-file --batch-all-objects failed: {last_line(err, 'error')}")

    def blocks(self) -> Iterator[bytes]:
        """Whole lines, about a MiB at a time."""
        self.wait()
        self.file.seek(0)
        return line_blocks(self.file)

    def sizes_at_least(self, threshold: int) -> list[tuple[int, int]]:
        """``(line number, size)`` of every object of at least ``threshold`` bytes, for a
        listing of sizes alone; counts the lines into ``self.lines``."""
        pattern = _size_regex(threshold, b"")
        # A size long enough to matter is that many digits in a row. With every digit
        # mapped to "0", a block without such a run is ruled out by one substring search,
        # about three times faster than the regex, which then only runs on a hit.
        shortest = b"0" * _digits(threshold)
        found = []
        lines = 0
        for block in self.blocks():
            if shortest not in block.translate(_DIGITS_TO_ZERO):
                lines += block.count(b"\n")
                continue
            buf = b"\n" + block
            line, counted_to = lines, 0
            for match in pattern.finditer(buf):
                size = int(match.group(1))
                if size >= threshold:
                    line += buf.count(b"\n", counted_to, match.start())
                    counted_to = match.start()
                    found.append((line, size))
            lines += block.count(b"\n")
        self.lines = lines
        return found

    def close(self) -> None:
        """Stop git if it is still listing and drop the file; closing twice is harmless."""
        if not self.done:
            self.done = True
            self.proc.kill()
            self.proc.wait()
            self.proc.stderr.close()
        self.file.close()


def _names_at(lines: list[int], expected_lines: int, cwd=None) -> list[str] | None:
    """The ids on the given lines of a names-only store listing, which lists objects in
    the same order as any other listing of an unchanged store; None when the store
    changed in between (another line count)."""
    with StoreListing("%(objectname)", cwd) as names:
        names.wait()
        names.file.seek(0)  # git wrote through the same open file: the offset is at the end
        first = names.file.readline()  # every line has the same width: one id and a newline
        width = len(first)
        names.file.seek(0, os.SEEK_END)
        if not width or names.file.tell() != width * expected_lines:
            return None
        oids = []
        for line in lines:
            names.file.seek(line * width)
            oids.append(names.file.read(width - 1).decode())
        return oids


def _named_sizes_at_least(threshold: int, cwd=None) -> dict[str, int]:
    """Objects of at least ``threshold`` bytes from one listing of sizes and names."""
    pattern = _size_regex(threshold, rb" ([0-9a-f]+)")
    sizes = {}
    with StoreListing("%(objectsize) %(objectname)", cwd) as listing:
        for block in listing.blocks():
            for match in pattern.finditer(b"\n" + block):
                size = int(match.group(1))
                if size >= threshold:
                    sizes[match.group(2).decode()] = size
    return sizes


def store_blobs_at_least(threshold: int, cwd=None, listing: StoreListing | None = None) -> BlobQuery:
    """Blobs of at least ``threshold`` bytes anywhere in the object store, reachable or not.

    No history is walked, so "is anything that big here at all?" costs a fraction of a
    walk. Sizes alone are listed first (``listing``: a sizes-only StoreListing the caller
    started early, closed here once read); only when some object is that big are the
    candidates named from a second listing of ids and typed by ``batch_check``, whose
    sizes must agree, else the store changed in between and one listing of sizes and
    names settles it.
    """
    with listing or StoreListing(cwd=cwd) as listing:
        hits = listing.sizes_at_least(threshold)
        objects = listing.lines or 0
    if not hits:
        return BlobQuery([], 0, objects)
    oids = _names_at([line for line, _ in hits], objects, cwd)
    sizes = dict(zip(oids, (size for _, size in hits))) if oids else {}
    typed = batch_check(sizes, cwd)
    if not oids or any(typed[oid].size != size for oid, size in sizes.items()):
        sizes = _named_sizes_at_least(threshold, cwd)
        typed = batch_check(sizes, cwd)
    found = [ObjectRecord(oid, "blob", size, None)
             for oid, size in sizes.items() if typed[oid].type == "blob"]
    return BlobQuery(biggest_first(found), 0, objects)
