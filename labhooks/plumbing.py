"""Git plumbing shared by the guard, the scan and the cleaner.

Everything streams: object listings come from ``git rev-list --objects`` piped
straight into ``git cat-file --batch-check`` (an OS pipe, no Python in between), never
a process per object. Nothing here ever fetches: missing objects of a partial clone
are reported, not downloaded.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator

from labhooks.errors import LabhooksError

# The guard imports this module on every commit and push, and every import is start-up
# time: typing, pathlib, shutil, tempfile, dataclasses and even re stay out (each is
# imported where it is used; records are written out by hand). ``check-large --all``
# starts its store listing right after importing this module.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from pathlib import Path

_CHUNK = 1 << 20
# Below this many commits per slice, a second git process costs more than it saves.
MIN_COMMITS_PER_SLICE = 2000
_BATCH_FORMAT = "%(objecttype) %(objectsize) %(objectname) %(rest)"


class GitError(LabhooksError):
    pass


# Lazy fetching of a missing object goes through a transport; with no transport allowed
# it fails instead of downloading (GIT_NO_LAZY_FETCH only exists from git 2.44 on).
NO_FETCH_ENV = {"GIT_ALLOW_PROTOCOL": "labhooks-never-fetch", "GIT_NO_LAZY_FETCH": "1"}


def git_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    # Never turn a check into a download: honoured by git >= 2.44, harmless before.
    env["GIT_NO_LAZY_FETCH"] = "1"
    env.setdefault("GIT_TERMINAL_PROMPT", "0")
    if extra:
        env.update(extra)
    return env


def no_fetch_env() -> dict:
    """The environment for commands that only read objects: nothing is ever fetched."""
    return git_env(NO_FETCH_ENV)


def git_executable() -> str:
    path = _which("git")
    if not path:
        raise GitError("git is not installed or not on PATH: install git and try again")
    return path


def _which(name: str) -> str | None:
    if os.name == "nt":  # PATHEXT and friends: leave Windows to shutil
        from shutil import which

        return which(name)
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or os.curdir, name)
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            return candidate
    return None


def last_line(stderr: str | bytes, fallback: str) -> str:
    """The last non-empty line of a command's error output (git says why there), or ``fallback``."""
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else fallback


def walk_jobs() -> int:
    """How many git processes share a long walk: two where there are two cores."""
    return max(1, min(2, os.cpu_count() or 1))


def run_git(
    args: list[str],
    cwd: Path | str | None = None,
    *,
    input: str | bytes | None = None,
    check: bool = True,
    text: bool = True,
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    """Run one git command and capture its output; a failure becomes one GitError line."""
    cmd = [git_executable(), *args]
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            input=input,
            capture_output=True,
            text=text,
            env=git_env(env),
            **({"encoding": "utf-8", "errors": "surrogateescape"} if text else {}),
        )
    except FileNotFoundError as exc:
        raise GitError(f"cannot run git in {cwd}: {exc.strerror}") from None
    if check and proc.returncode != 0:
        raise GitError(f"git {args[0]} failed: {last_line(proc.stderr, f'exit {proc.returncode}')}")
    return proc


def git_output(args: list[str], cwd: Path | str | None = None, **kw) -> str:
    return run_git(args, cwd, **kw).stdout.rstrip("\n")


def not_a_repository(cwd=None) -> GitError:
    where = os.path.realpath(cwd or os.curdir)
    return GitError(f"not a git repository: {where} (run this inside a git repository)")


def _rev_parse(flag: str, cwd) -> str:
    proc = run_git(["rev-parse", flag], cwd, check=False)
    if proc.returncode != 0:
        raise not_a_repository(cwd)
    return proc.stdout.strip()


def repo_root(cwd=None) -> Path:
    """Top of the working tree; refuses bare repositories and non-repositories."""
    from pathlib import Path

    root = _rev_parse("--show-toplevel", cwd)
    if not root:
        raise GitError(f"{os.path.realpath(cwd or os.curdir)} is a bare repository: run this in a working tree")
    return Path(root)


def git_dir(cwd=None) -> Path:
    from pathlib import Path

    return Path(_rev_parse("--absolute-git-dir", cwd))


def common_dir(cwd=None) -> Path:
    from pathlib import Path

    path = Path(_rev_parse("--git-common-dir", cwd))
    return path if path.is_absolute() else (Path(cwd or ".") / path).resolve()


def ensure_repo(cwd=None) -> None:
    """One clear line unless ``cwd`` is in a repository (bare or not)."""
    _rev_parse("--absolute-git-dir", cwd)


def hooks_dir(cwd=None) -> Path:
    """Where git runs hooks from, honouring core.hooksPath."""
    from pathlib import Path

    path = Path(git_output(["rev-parse", "--git-path", "hooks"], cwd))
    if not path.is_absolute():
        path = (Path(cwd or ".").resolve() / path).resolve()
    return path


def is_null_oid(oid: str) -> bool:
    return bool(oid) and set(oid) == {"0"}


def head_commit(cwd=None) -> str | None:
    proc = run_git(["rev-parse", "--verify", "-q", "HEAD^{commit}"], cwd, check=False)
    return proc.stdout.strip() or None


def is_partial_clone(cwd=None) -> bool:
    """True when objects may be missing locally and git would fetch them on demand."""
    proc = run_git(
        ["config", "--get-regexp", r"^(extensions\.partialclone|remote\..*\.promisor)$"],
        cwd, check=False,
    )
    return any(line.split(" ", 1)[-1].strip() not in ("", "false") for line in proc.stdout.splitlines())


def refs_to_trees_or_blobs(cwd=None) -> list[str]:
    """Refs that point (maybe through tags) at a tree or a blob instead of a commit.

    What they reach is pushed and kept like any commit's content, yet no commit adds it,
    so a walk over commits alone never sees it.
    """
    out = git_output(["for-each-ref", "--format=%(objectname) %(objecttype) %(*objecttype)"], cwd)
    tips = []
    for line in out.splitlines():
        oid, kind, peeled = (line.split(" ") + ["", ""])[:3]
        if (peeled or kind) in ("tree", "blob"):
            tips.append(oid)
    return tips


class Record:
    """A slotted record with the ``repr`` and ``==`` a dataclass would have."""

    __slots__ = ()
    __hash__ = None

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)


class ObjectRecord(Record):
    __slots__ = ("oid", "type", "size", "path")

    def __init__(self, oid: str, type: str | None, size: int | None, path: str | None):
        self.oid = oid
        self.type = type  # None: missing locally (partial clone), size unknown
        self.size = size
        self.path = path  # first path rev-list saw it under, cut at a newline by git


def _parse_batch_line(line: str) -> ObjectRecord:
    if line.endswith(" missing"):
        oid = line[: -len(" missing")].lstrip("?")
        return ObjectRecord(oid, None, None, None)
    obj_type, size, oid, *rest = line.split(" ", 3)
    return ObjectRecord(oid, obj_type, int(size), rest[0] if rest and rest[0] else None)


def line_blocks(stream) -> Iterator[bytes]:
    """Whole lines from a binary stream, about a MiB at a time (each block ends in a newline).

    Reading in big blocks and handing whole blocks to C-level splitting or regex search
    is what keeps listings of hundreds of thousands of objects cheap in Python.
    """
    carry = b""
    read = stream.read
    while True:
        block = read(_CHUNK)
        if not block:
            break
        block = carry + block
        cut = block.rfind(b"\n") + 1
        carry = block[cut:]
        if cut:
            yield block[:cut]
    if carry:
        yield carry + b"\n"


def split_revs(revs: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split rev-list arguments into (options for argv, plain revisions for ``--stdin``).

    Older git (< 2.42) refuses options on stdin, while a long list of tips must not go on
    the command line; ``--not`` is folded into ``^`` prefixes so meaning is unchanged.
    """
    options: list[str] = []
    plain: list[str] = []
    negate = False
    for rev in revs:
        if rev == "--not":
            negate = not negate
            options.append(rev)
        elif rev.startswith("-"):
            options.append(rev)
        elif negate:
            plain.append(rev[1:] if rev.startswith("^") else "^" + rev)
        else:
            plain.append(rev)
    return options, plain


class _ObjectPipeline:
    """``git rev-list --objects --missing=print --stdin | git cat-file --batch-check``.

    Revisions go in on stdin so a push of many refs never hits the argument limit.
    A missing object is printed by rev-list as ``?<oid>``, which cat-file cannot resolve
    and so reports as missing without trying to fetch it.
    """

    def __init__(self, revs: Iterable[str], cwd=None, extra_args: Iterable[str] = (),
                 batch_format: str = _BATCH_FORMAT):
        git = git_executable()
        env = no_fetch_env()
        options, self.revs = split_revs(revs)
        self.rev_list = subprocess.Popen(
            [git, "rev-list", "--objects", "--missing=print", *extra_args, "--stdin", *options],
            cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )
        # --buffer: no flush per object; safe because rev-list, not us, feeds it
        self.cat_file = subprocess.Popen(
            [git, "cat-file", "--buffer", f"--batch-check={batch_format}"],
            cwd=cwd, stdin=self.rev_list.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )
        self.rev_list.stdout.close()  # cat-file owns the read end now
        payload = "".join(rev + "\n" for rev in self.revs)
        try:
            self.rev_list.stdin.write(payload.encode("utf-8", "surrogateescape"))
            self.rev_list.stdin.close()
        except BrokenPipeError:
            pass  # rev-list died early (bad revision, not a repository): close() reports why

    def chunks(self) -> Iterator[bytes]:
        """Whole lines, about a MiB at a time."""
        return line_blocks(self.cat_file.stdout)

    def close(self) -> None:
        self.cat_file.stdout.close()
        cat_rc = self.cat_file.wait()
        rev_err = self.rev_list.stderr.read()
        rev_rc = self.rev_list.wait()
        self.cat_file.stderr.close()
        self.rev_list.stderr.close()
        if rev_rc != 0:
            raise GitError(f"git rev-list failed: {last_line(rev_err, f'exit {rev_rc}')}")
        if cat_rc != 0:
            raise GitError(f"git cat-file failed with exit {cat_rc}")


def stream_objects(revs: Iterable[str], cwd=None, extra_args: Iterable[str] = ()) -> Iterator[ObjectRecord]:
    """Every object reachable from ``revs`` (rev-list syntax, ``--not`` allowed), streamed."""
    pipe = _ObjectPipeline(revs, cwd, extra_args)
    try:
        for chunk in pipe.chunks():
            for line in chunk.decode("utf-8", "surrogateescape").splitlines():
                if line:
                    yield _parse_batch_line(line)
    finally:
        pipe.close()


def _size_regex(threshold: int, tail: bytes) -> re.Pattern:
    # A size with fewer digits than the threshold cannot reach it. Starting the pattern
    # with a literal byte lets the regex engine skip from candidate to candidate in C,
    # so a listing of hundreds of thousands of objects costs milliseconds to filter.
    import re

    return re.compile(rb"\n(\d{%d,})" % _digits(threshold) + tail)


def _digits(threshold: int) -> int:
    """How many digits a size needs at least to reach ``threshold``."""
    return max(1, len(str(max(threshold, 0))))


class BlobQuery(Record):
    __slots__ = ("blobs", "missing", "objects")

    def __init__(self, blobs: list[ObjectRecord], missing: int, objects: int | None = None):
        self.blobs = blobs  # at or over the threshold, biggest first
        self.missing = missing  # objects that could not be sized (partial clone)
        self.objects = objects  # objects looked at, when counted


def blobs_at_least(revs: Iterable[str], threshold: int, cwd=None) -> BlobQuery:
    """Blobs of at least ``threshold`` bytes reachable from ``revs`` (deduplicated)."""
    pattern = _size_regex(threshold, rb" blob ([0-9a-f]+) ?([^\n]*)")
    found: dict[str, ObjectRecord] = {}
    missing = 0
    pipe = _ObjectPipeline(revs, cwd, batch_format="%(objectsize) %(objecttype) %(objectname) %(rest)")
    try:
        for chunk in pipe.chunks():
            missing += chunk.count(b" missing\n")
            for match in pattern.finditer(b"\n" + chunk):
                size = int(match.group(1))
                if size >= threshold:
                    oid = match.group(2).decode()
                    if oid not in found:
                        path = match.group(3).decode("utf-8", "surrogateescape") or None
                        found[oid] = ObjectRecord(oid, "blob", size, path)
    finally:
        pipe.close()
    return BlobQuery(sorted(found.values(), key=lambda r: (-r.size, r.oid)), missing)


_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")


def scratch_file():
    """An unnamed read-write file that is gone once closed."""
    flag = getattr(os, "O_TMPFILE", 0)  # Linux: no name, no tempfile import
    if flag:
        try:
            fd = os.open(os.environ.get("TMPDIR") or "/tmp", flag | os.O_RDWR, 0o600)
            return os.fdopen(fd, "w+b")
        except OSError:
            pass  # a file system without O_TMPFILE
    import tempfile

    return tempfile.TemporaryFile(prefix="labhooks-")


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
        objects = listing.lines
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
    return BlobQuery(sorted(found, key=lambda r: (-r.size, r.oid)), 0, objects)


def batch_check(oids: Iterable[str], cwd=None) -> dict[str, ObjectRecord]:
    """Type and size of each object, in one cat-file process; missing ones have size None."""
    oids = list(dict.fromkeys(oids))
    if not oids:
        return {}
    out = run_git(
        ["cat-file", "--buffer", f"--batch-check={_BATCH_FORMAT}"], cwd,
        input="\n".join(oids) + "\n", env=NO_FETCH_ENV,
    ).stdout
    result = {}
    for oid, line in zip(oids, out.splitlines()):
        record = _parse_batch_line(line)
        record.oid = oid
        result[oid] = record
    return result


LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/v1"
LFS_POINTER_MAX = 1024  # the LFS spec keeps pointer files under 1 KiB


def blob_contents(oids: Iterable[str], cwd=None) -> dict[str, bytes]:
    """The content of each of these objects that is a blob here, from one ``cat-file
    --batch`` (nothing fetched). Everything is held in memory: meant for small blobs."""
    oids = list(dict.fromkeys(oids))
    if not oids:
        return {}
    out = run_git(["cat-file", "--batch"], cwd, input="".join(oid + "\n" for oid in oids).encode(),
                  text=False, env=NO_FETCH_ENV).stdout
    contents = {}
    pos = 0
    for oid in oids:  # each answer: "<oid> <type> <size>\n", the content, "\n"; or "<oid> missing\n"
        end = out.index(b"\n", pos)
        header = out[pos:end].split(b" ")
        pos = end + 1
        if len(header) < 3 or header[-1] == b"missing":
            continue
        size = int(header[2])
        if header[1] == b"blob":
            contents[oid] = out[pos:pos + size]
        pos += size + 1
    return contents


class DiskUsage(Record):
    __slots__ = ("objects", "pack_bytes", "loose_bytes")

    def __init__(self, objects: int, pack_bytes: int, loose_bytes: int):
        self.objects = objects  # packed + loose, as ``git count-objects -v`` counts them
        self.pack_bytes = pack_bytes
        self.loose_bytes = loose_bytes


def disk_usage(cwd=None) -> DiskUsage:
    values = {}
    for line in run_git(["count-objects", "-v"], cwd).stdout.splitlines():
        key, _, value = line.partition(": ")
        if value.strip().isdigit():
            values[key] = int(value)
    return DiskUsage(values.get("in-pack", 0) + values.get("count", 0),
                     values.get("size-pack", 0) * 1024, values.get("size", 0) * 1024)


class IndexEntry(Record):
    __slots__ = ("mode", "oid", "stage", "path")

    def __init__(self, mode: str, oid: str, stage: int, path: str):
        self.mode = mode
        self.oid = oid
        self.stage = stage
        self.path = path


def staged_entries(paths: Iterable[str] | None = None, cwd=None) -> list[IndexEntry]:
    """Index entries (the staged blobs), for the given paths or all of them."""
    args = ["ls-files", "--stage", "-z"]
    paths = list(paths or [])
    if paths:
        args += ["--", *[f":(literal){p}" for p in paths]]
    out = run_git(args, cwd).stdout
    entries = []
    for record in out.split("\0"):
        if not record:
            continue
        meta, path = record.split("\t", 1)
        mode, oid, stage = meta.split(" ")
        entries.append(IndexEntry(mode, oid, int(stage), path))
    return entries


class CommitInfo(Record):
    __slots__ = ("oid", "short", "author", "date", "subject")

    def __init__(self, oid: str, short: str, author: str, date: str, subject: str):
        self.oid = oid
        self.short = short
        self.author = author
        self.date = date
        self.subject = subject


class BlobOrigin(Record):
    __slots__ = ("commit", "paths")

    def __init__(self, commit: CommitInfo, paths: list[str]):
        self.commit = commit
        self.paths = paths  # every path the blob was added or modified under in the walked commits


def commit_slices(revs: Iterable[str], jobs: int, cwd=None,
                  min_slice: int = MIN_COMMITS_PER_SLICE) -> list[list[str]]:
    """Extra ``git log`` arguments that cut the walk over ``revs`` into up to ``jobs``
    consecutive slices of git's own commit order, each of at least ``min_slice`` commits;
    ``[[]]`` (one whole walk) when the history is too short to be worth it."""
    min_slice = max(1, min_slice)
    if jobs < 2:
        return [[]]
    options, plain = split_revs(revs)
    total = int(run_git(["rev-list", "--count", "--stdin", *options], cwd,
                        input="".join(r + "\n" for r in plain), env=NO_FETCH_ENV).stdout.strip() or 0)
    if total < 2 * min_slice:
        return [[]]
    jobs = min(jobs, total // min_slice)
    step = -(-total // jobs)
    return [[f"--max-count={step}"]] + [[f"--skip={step * i}", f"--max-count={step}"] for i in range(1, jobs)]


def find_blob_origins(blob_oids: Iterable[str], revs: Iterable[str], cwd=None) -> dict[str, BlobOrigin]:
    """The earliest commit in ``revs`` that adds each blob, with full paths, in one walk.

    Uses ``git log --raw -z`` so paths with newlines or odd bytes survive; merges are
    diffed against each parent so a blob first seen in a merge is still found.
    """
    wanted = set(blob_oids)
    if not wanted:
        return {}
    git = git_executable()
    options, plain = split_revs(revs)
    # Each --find-object adds to one set inside git, so git's own diff machinery drops
    # every change that does not touch a wanted blob and the output stays tiny. In a
    # partial clone git prefetches every blob a pickaxe diff touches, so not there.
    find = []
    if len(wanted) <= 2000 and not is_partial_clone(cwd):
        find = [f"--find-object={oid}" for oid in sorted(wanted)]
    # The pickaxe diff of every commit is the whole cost; two git processes, each
    # diffing half of the commits, finish in about half the time on two cores.
    slices = commit_slices(revs, walk_jobs(), cwd) if find else [[]]
    procs = [
        subprocess.Popen(
            [git, "log", "--reverse", "--raw", "-z", "--no-abbrev", "--no-renames", "--root",
             "--diff-merges=separate", "--diff-filter=AMT", *find, *extra,
             "--format=%x1e%H%x1f%an%x1f%aI%x1f%s", "--stdin", *options],
            cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=no_fetch_env(),
        )
        for extra in slices
    ]
    payload = "".join(r + "\n" for r in plain).encode("utf-8", "surrogateescape")
    for proc in procs:
        proc.stdin.write(payload)
        proc.stdin.close()
    outputs = []
    for proc in procs:
        out = proc.stdout.read()
        err = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
        if proc.wait() != 0:
            raise GitError(f"git log failed: {last_line(err, str(proc.returncode))}")
        outputs.append(out)
    # slices run newest first and each lists its own commits oldest first: read the
    # oldest slice first so the first commit seen adding a blob is the one that introduced it
    out = b"".join(reversed(outputs))
    origins: dict[str, BlobOrigin] = {}
    for record in out.split(b"\x1e"):
        if not record:
            continue
        header, _, raw = record.partition(b"\0")
        fields = header.decode("utf-8", "replace").split("\x1f")
        if len(fields) < 4:
            continue
        parts = raw.lstrip(b"\n").split(b"\0")
        commit = None
        for meta, path in zip(parts[0::2], parts[1::2]):
            if not meta.startswith(b":"):
                continue
            new_oid = meta.split(b" ")[3].decode()
            if new_oid not in wanted:
                continue
            commit = commit or CommitInfo(fields[0], fields[0][:10], *fields[1:4])
            path_text = path.decode("utf-8", "surrogateescape")
            origin = origins.get(new_oid)
            if origin is None:
                origins[new_oid] = BlobOrigin(commit, [path_text])
            elif path_text not in origin.paths:
                origin.paths.append(path_text)
    return origins


def quote_path(path: str) -> str:
    """A path made safe to print on one line (newlines and control bytes escaped)."""
    if path.isprintable():
        return path
    return repr(path)[1:-1]
