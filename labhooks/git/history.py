"""One streaming walk over a history, and the one rule for which commit introduced a blob.

The rule (docs/architecture.md): a blob is *introduced* by the oldest commit, in the
order ``git log`` walks, whose diff against its **first parent** adds or modifies a path
to that blob (a root commit diffs against the empty tree). Merges are diffed against
their first parent only, so a blob that only a merge brings in is still seen, while a
side branch's commits are walked as commits of their own. The guard, the scan and
clean-large all ask this module, so all three name the same commit for the same blob.

``git rev-list --objects`` names each blob under the first path it meets only, so it
cannot say that a blob was also stored elsewhere, nor which commit brought it in.
``git log --raw`` can: only trees are read, never blob contents, so a blob-filtered
partial clone is walked without fetching.

The tree diffs are the whole cost, and they are independent per commit, so a long
history is cut in two at a point of git's own commit order, over the same pinned tips,
and two git processes diff the halves at the same time. The newer half streams through
a pipe; the older one goes to an unnamed file so that it never waits for the reader,
and is read back afterwards.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Generator, Iterable, Iterator

from labhooks.git.process import (
    CHUNK,
    NO_FETCH_ENV,
    GitError,
    git_executable,
    last_line,
    line_blocks,
    no_fetch_env,
    run_git,
    scratch_file,
    split_revs,
    widen_pipe,
)
from labhooks.git.records import GITLINK_MODE, BlobOrigin, Commit
from labhooks.git.repo import is_partial_clone

# Below this many commits per slice, a second git process costs more than it saves.
MIN_COMMITS_PER_SLICE = 2000
# Above this many wanted blobs, one --find-object each costs git more than it saves.
_FIND_OBJECT_LIMIT = 2000


def walk_jobs() -> int:
    """How many git processes share a long walk: two where there are two cores."""
    return max(1, min(2, os.cpu_count() or 1))


# the raw header that records.Commit.parse reads
_LOG_FORMAT = "%x1e%H%x1f%an%x1f%ae%x1f%aI%x1f%s"
# Pinned so that no user setting changes what the walk sees: log.showRoot=false would
# hide the root commit's files, log.showSignature would verify every signature.
_LOG_ARGS = ["-c", "log.showSignature=false", "log", "--root", "--raw", "-z", "--no-abbrev",
             "--no-renames", "--diff-merges=first-parent",
             "--diff-filter=AMT", "--no-ext-diff", "--no-textconv", "--no-color",
             f"--format={_LOG_FORMAT}"]
# Every commit record starts with \x1e right after the NUL that ends the previous one;
# a path cannot hold a NUL, so only a path that itself starts with \x1e could fool this.
_RECORD_START = b"\0\x1e"
_GITLINK = GITLINK_MODE.encode() + b" "


def pin_tips(revs: Iterable[str], cwd=None) -> list[str]:
    """Plain revisions (``oid`` / ``^oid``) for ``revs``, so that every slice of the walk
    sees the same history even if a ref moves meanwhile."""
    options, plain = split_revs(revs)
    if not options:
        return plain
    if set(options) != {"--all"}:
        return list(revs)  # nothing to pin safely; walk in one slice
    out = run_git(["rev-list", "--no-walk=unsorted", "--all"], cwd, env=NO_FETCH_ENV).stdout
    return [*out.split(), *plain]


def boundary_objects(revs: Iterable[str], cwd=None) -> set[bytes]:
    """Objects in the trees of the commits just outside a range (``A..B``: A's side).

    A commit in the range may add a blob that the boundary already holds (a copy, a
    revert); ``rev-list --objects`` leaves such blobs out of the range, and so do we.
    Empty when nothing is excluded (no ``^rev``), so ``--all`` pays nothing.
    """
    options, plain = split_revs(revs)
    if not any(rev.startswith("^") for rev in plain):
        return set()
    listing = run_git(["rev-list", "--boundary", "--stdin", *options], cwd,
                      input="".join(r + "\n" for r in plain), env=NO_FETCH_ENV).stdout
    edges = [line[1:] for line in listing.splitlines() if line.startswith("-")]
    if not edges:
        return set()
    out = run_git(["rev-list", "--objects", "--no-walk", "--missing=print", "--stdin"], cwd,
                  input="".join(e + "\n" for e in edges).encode(), text=False, env=NO_FETCH_ENV).stdout
    return {line.split(b" ", 1)[0].lstrip(b"?") for line in out.splitlines()}


def added_blobs(
    revs: Iterable[str],
    cwd=None,
    *,
    jobs: int | None = None,
    on_chunk: Callable[[int], None] | None = None,
    min_slice: int = MIN_COMMITS_PER_SLICE,
    chunk_size: int = CHUNK,
    only: Iterable[str] = (),
) -> Iterator[tuple[bytes, list[bytes], list[bytes]]]:
    """Yield ``(raw header, blob oids, paths)`` per commit, newest first (git log order).

    ``oids[i]`` was added or modified at ``paths[i]``; the last commit that yields a
    blob is the one that introduced it. The raw header is
    ``oid\\x1fauthor\\x1femail\\x1fdate\\x1fsubject`` (see :meth:`records.Commit.parse`);
    oids and paths stay bytes so the caller decodes only what it shows. Commits that add
    no blob are skipped. Merges are diffed against their first parent, so a blob that
    only a merge brings in is still seen, while a side branch's commits are walked as
    commits of their own. ``on_chunk`` gets the number of commits seen so far, about
    once per ``chunk_size`` bytes of log output. With ``jobs`` > 1, a history of at least
    ``2 * min_slice`` commits is diffed in two slices at once (not with ``only``). ``only``: blob ids
    that git's own diff machinery keeps (``--find-object``), dropping every other change
    before it reaches us: the same walk, far less output.
    """
    revs = list(revs)
    jobs = walk_jobs() if jobs is None else max(1, jobs)
    find = [f"--find-object={oid}" for oid in only]
    if jobs > 1:
        tips = pin_tips(revs, cwd)
        if not tips:
            return  # no refs at all: an empty repository or an unborn branch
        options, _ = split_revs(tips)
        # Only pinned tips slice safely (both slices must see one history), and only a
        # walk that prints most commits can see where the newer slice has got to.
        if not options and not find:
            yield from _walk_in_two_slices(tips, cwd, min_slice, chunk_size, on_chunk)
            return
    walker = _LogSlice(revs, find, cwd, to_file=False, chunk_size=chunk_size)
    try:
        yield from walker.records(0, on_chunk)
    finally:
        walker.close()


# The newer slice's share of the commits: newer commits have bigger trees, and the
# older slice must first walk past every commit it skips (measured on git.git,
# docs/scan.md).
NEWER_SLICE_SHARE = 0.48
# How often (in records) the newer slice looks whether the older one has begun.
_PEEK_EVERY = 16


def _walk_in_two_slices(tips: list[str], cwd, min_slice: int, chunk_size: int,
                        on_chunk) -> Iterator[tuple[bytes, list[bytes], list[bytes]]]:
    """The whole walk, diffed by two git processes at once when it is long enough.

    The newer slice is a complete walk, streamed and started at once. Meanwhile the
    commits are counted (:class:`_CommitCount`), and the older slice starts with ``--skip=CUT``
    (git skips walked commits, so any CUT is exact; ``--max-count`` counts only commits
    that print a diff and cannot cut a log walk exactly). The newer slice stops at the
    older slice's first commit. Should it have passed that commit already (the count was
    far off), the older slice is dropped and the newer one runs to the end alone.
    """
    newer = _LogSlice(tips, [], cwd, to_file=False, chunk_size=chunk_size)
    count = _CommitCount(tips, cwd)
    older: _LogSlice | None = None
    records = newer.records(0, on_chunk)
    seen = 0
    try:
        decided = False
        first_older: bytes | None = None  # the older slice's first commit, once it is known
        # what the newer slice gave while that was unknown (None: nothing to compare with)
        yielded: set[bytes] | None = set()
        for item in records:
            header = item[0]
            commit = header[:header.find(b"\x1f")]
            if not decided and count.done():
                decided = True
                cut = int(count.commits * NEWER_SLICE_SHARE)
                if min(cut, count.commits - cut) >= min_slice:
                    older = _LogSlice(tips, [f"--skip={cut}"], cwd, to_file=True, chunk_size=chunk_size)
                else:
                    yielded = None
            if older is not None and first_older is None and seen % _PEEK_EVERY == 0:
                first_older = older.first_commit()
                if first_older is not None:
                    assert yielded is not None
                    if not first_older or first_older in yielded:
                        older.close()  # nothing past the cut, or the newer slice is past it already
                        older = None
                    yielded = None
            if older is not None and commit == first_older:
                break  # from here on the older slice has every commit
            if yielded is not None:
                yielded.add(commit)
            seen += 1
            yield item
        else:
            return  # the newer slice ran to the end: it had the whole history
        records.close()
        newer.close()
        assert older is not None
        yield from older.records(seen, on_chunk)
    finally:
        records.close()
        count.close()
        newer.close()
        if older is not None:
            older.close()


class _CommitCount:
    """About how many commits the walk has, counted by a thread while it runs: exactly,
    by ``rev-list --count``, where a commit-graph makes that cheap; otherwise the
    commits in the object store (``rev-list --count`` would cost a walk of its own)."""

    def __init__(self, tips: list[str], cwd):
        self.commits = 0
        self.proc: subprocess.Popen | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._count, args=(tips, cwd), daemon=True)
        self._thread.start()

    def _count(self, tips: list[str], cwd) -> None:
        graphs = run_git(["rev-parse", "--git-path", "objects/info/commit-graph",
                          "--git-path", "objects/info/commit-graphs"], cwd, check=False).stdout.split("\n")
        root = cwd or "."
        if any(path and os.path.exists(os.path.join(root, path)) for path in graphs[:2]):
            args, payload = ["rev-list", "--count", "--stdin"], "".join(r + "\n" for r in tips).encode()
        else:
            args, payload = ["cat-file", "--batch-all-objects", "--unordered", "--batch-check=%(objecttype)"], None
        with self._lock:
            if self._closed:
                return
            self.proc = subprocess.Popen(
                [git_executable(), *args], cwd=cwd, stdin=subprocess.PIPE if payload else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=no_fetch_env())
        try:
            if payload is not None:
                out = self.proc.communicate(payload)[0]
                if self.proc.returncode == 0:
                    self.commits = int(out.strip() or 0)
                return
            commits = sum(block.count(b"commit\n") for block in line_blocks(self.proc.stdout))
            if self.proc.wait() == 0:
                self.commits = commits
        except (OSError, ValueError):
            pass  # closed meanwhile: no count, so the walk is not cut

    def done(self) -> bool:
        return not self._thread.is_alive()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
        self._thread.join()
        if self.proc is not None:
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream is not None:
                    stream.close()
            self.proc.wait()


class _LogSlice:
    def __init__(self, tips: list[str], extra: list[str], cwd, to_file: bool, chunk_size: int = CHUNK):
        self.chunk_size = chunk_size
        options, plain = split_revs(tips)
        self.spool = scratch_file() if to_file else None
        self.proc = subprocess.Popen(
            [git_executable(), *_LOG_ARGS, *extra, "--stdin", *options],
            cwd=cwd, stdin=subprocess.PIPE, stdout=self.spool or subprocess.PIPE,
            stderr=subprocess.PIPE, env=no_fetch_env(),
        )
        if self.spool is None:
            widen_pipe(self.proc.stdout.fileno())
        try:
            self.proc.stdin.write("".join(r + "\n" for r in plain).encode("utf-8", "surrogateescape"))
            self.proc.stdin.close()
        except BrokenPipeError:
            pass  # git refused its arguments; its stderr says why when the slice is read
        self.closed = False

    def records(self, seen: int, on_chunk) -> Generator[tuple[bytes, list[bytes], list[bytes]], None, None]:
        if self.spool is not None:
            self._finish()
            self.spool.seek(0)
            read = self.spool.read
        else:
            read = self.proc.stdout.read
        pending: list[bytes] = []  # the pieces of a record not finished yet
        while True:
            block = read(self.chunk_size)
            if block:
                # Cut at the last record start so that no record straddles two blocks;
                # pieces are joined once, so one huge commit costs no quadratic copying.
                cut = block.rfind(_RECORD_START)
                if cut < 0:
                    straddles = pending and pending[-1].endswith(b"\0") and block.startswith(b"\x1e")
                    if not straddles:
                        pending.append(block)
                        continue
                    # the separator's NUL ends the previous piece: cut = -1
                done, rest = block[:cut + 1], block[cut + 1:]
                block = b"".join([*pending, done])
                pending = [rest]
            else:
                block = b"".join(pending)
                pending = []
                if not block:
                    break
            for record in block.split(_RECORD_START):
                item = _parse_record(record)
                if item is not None:
                    seen += 1
                    yield item
            if on_chunk is not None:
                on_chunk(seen)
        if self.spool is None:
            self._finish()

    def first_commit(self) -> bytes | None:
        """A spooled slice's first commit id, read without moving git's write offset:
        None while git has not written it yet, b"" when the slice has no commit at all."""
        assert self.spool is not None
        head = os.pread(self.spool.fileno(), 128, 0)
        end = head.find(b"\x1f")
        if end > 0:
            return head[1:end]
        return b"" if self.proc.poll() is not None and not head else None

    def _finish(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        err = self.proc.stderr.read().decode("utf-8", "replace").strip()
        self.proc.stderr.close()
        rc = self.proc.wait()
        if rc != 0:
            raise GitError(_log_failure(err, rc))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.proc.kill()
            self.proc.wait()
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    stream.close()
        if self.spool is not None:
            self.spool.close()


def _parse_record(record: bytes) -> tuple[bytes, list[bytes], list[bytes]] | None:
    header, _, raw = record.partition(b"\0")
    tokens = raw.split(b"\0")
    metas, paths = tokens[0:-1:2], tokens[1::2]
    if not metas:
        return None
    header = header.lstrip(b"\x1e")
    width = header.find(b"\x1f")  # the commit id's length: 40 (SHA-1) or 64 (SHA-256)
    # ":oldmode newmode oldoid newoid S", so fields sit at fixed offsets from the end.
    if b" " + _GITLINK in raw:
        mode_at = slice(-10 - 2 * width, -3 - 2 * width)
        keep = [i for i, meta in enumerate(metas) if meta[mode_at] != _GITLINK]
        metas = [metas[i] for i in keep]
        paths = [paths[i] for i in keep]
    return header, [meta[-2 - width:-2] for meta in metas], paths


def _log_failure(err: str, rc: int) -> str:
    last = last_line(err, f"exit {rc}").removeprefix("fatal: ")
    if "transport" in last and "not allowed" in last:
        return ("the history walk needs objects that are missing locally (a partial clone "
                "filtered by tree?); labhooks never fetches them: fetch them first")
    if "ambiguous argument" in last or "bad revision" in last or "unknown revision" in last:
        return f"bad revision or range: {last}"
    return f"git log failed: {last}"


def find_blob_origins(blob_oids: Iterable[str], revs: Iterable[str], cwd=None) -> dict[str, BlobOrigin]:
    """The commit that introduced each blob (the module's rule) and every path the walked
    commits add it under, the introducing commit's first; blobs no walked commit adds are
    left out."""
    wanted = {oid.encode(): oid for oid in blob_oids}
    if not wanted:
        return {}
    # In a partial clone git prefetches every blob a pickaxe diff touches, so not there.
    only: list[str] = []
    if len(wanted) <= _FIND_OBJECT_LIMIT and not is_partial_clone(cwd):
        only = sorted(wanted.values())
    origins: dict[str, BlobOrigin] = {}
    for header, oids, paths in added_blobs(revs, cwd, only=only):
        commit = None
        seen_here: set[str] = set()
        for oid_bytes, path_bytes in zip(oids, paths):
            oid = wanted.get(oid_bytes)
            if oid is None:
                continue
            commit = commit or Commit.parse(header)
            path = path_bytes.decode("utf-8", "surrogateescape")
            origin = origins.get(oid)
            if origin is None:
                origins[oid] = BlobOrigin(commit, [path])
            elif oid in seen_here:  # a second path in the same commit goes after the first
                if path not in origin.paths:
                    origin.paths.append(path)
            else:  # an older commit adds it too: that one introduced it, its path first
                origin.commit = commit
                if path in origin.paths:
                    origin.paths.remove(path)
                origin.paths.insert(0, path)
            seen_here.add(oid)
    return origins


class CommitChanges:
    """One commit of a walk with its parents and every path its first-parent diff touches."""

    __slots__ = ("oid", "header", "parents", "changes")

    def __init__(self, oid: str, header: bytes, parents: list[str], changes: list[tuple[bytes, bytes, bytes]]):
        self.oid = oid
        self.header = header  # what records.Commit.parse reads
        self.parents = parents
        self.changes = changes  # (new mode, new blob id, path); a deletion has mode b"000000"


# The same walk as added_blobs' (same diff rule), with the parents in the header and
# deletions kept: whoever follows a file's state from commit to commit needs both.
_CHANGES_ARGS = [arg for arg in _LOG_ARGS if not arg.startswith(("--diff-filter=", "--format="))] + [
    f"--format={_LOG_FORMAT}%x1f%P"]


def commit_changes(revs: Iterable[str], cwd=None) -> list[CommitChanges]:
    """Every commit of ``revs``, newest first (git log order), from one ``git log``; the
    whole answer is held in memory, so this is for ranges and for repositories that
    need it (not the scan's walk)."""
    options, plain = split_revs(revs)
    proc = run_git([*_CHANGES_ARGS, "--stdin", *options], cwd, check=False, text=False, env=NO_FETCH_ENV,
                   input="".join(r + "\n" for r in plain).encode("utf-8", "surrogateescape"))
    if proc.returncode != 0:
        raise GitError(_log_failure(proc.stderr.decode("utf-8", "replace"), proc.returncode))
    commits = []
    for record in (b"\0" + proc.stdout).split(_RECORD_START):
        if not record:
            continue
        header, _, raw = record.partition(b"\0")
        fields = header.split(b"\x1f")
        parents = fields[-1].decode().split() if len(fields) > 5 else []
        tokens = raw.lstrip(b"\n").split(b"\0")
        changes = []
        for meta, path in zip(tokens[0:-1:2], tokens[1::2]):
            # ":oldmode newmode oldoid newoid S"
            parts = meta.split(b" ")
            if len(parts) >= 5:
                changes.append((parts[1], parts[3], path))
        commits.append(CommitChanges(fields[0].decode(), b"\x1f".join(fields[:5]), parents, changes))
    return commits
