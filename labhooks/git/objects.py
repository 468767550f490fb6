"""Object listings and look-ups, streamed: ``git rev-list --objects`` piped straight into
``git cat-file --batch-check`` (an OS pipe, no Python in between), never a process per
object.
"""

from __future__ import annotations

from labhooks.git.process import (
    NO_FETCH_ENV,
    GitError,
    git_executable,
    last_line,
    line_blocks,
    no_fetch_env,
    run_git,
    split_revs,
)
from labhooks.git.records import ObjectRecord, Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    import re


_BATCH_FORMAT = "%(objecttype) %(objectsize) %(objectname) %(rest)"


def _parse_batch_line(line: str) -> ObjectRecord:
    if line.endswith(" missing"):
        oid = line[: -len(" missing")].lstrip("?")
        return ObjectRecord(oid, None, None, None)
    obj_type, size, oid, *rest = line.split(" ", 3)
    return ObjectRecord(oid, obj_type, int(size), rest[0] if rest and rest[0] else None)


class _ObjectPipeline:
    """``git rev-list --objects --missing=print --stdin | git cat-file --batch-check``.

    Revisions go in on stdin so a push of many refs never hits the argument limit.
    A missing object is printed by rev-list as ``?<oid>``, which cat-file cannot resolve
    and so reports as missing without trying to fetch it.
    """

    def __init__(self, revs: Iterable[str], cwd=None, extra_args: Iterable[str] = (),
                 batch_format: str = _BATCH_FORMAT):
        import subprocess  # not at import: the commit hook never streams objects

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


def _size_regex(threshold: int, tail: bytes, head: bytes = b"") -> re.Pattern:
    # A size with fewer digits than the threshold cannot reach it. Starting the pattern
    # with a literal byte lets the regex engine skip from candidate to candidate in C,
    # so a listing of hundreds of thousands of objects costs milliseconds to filter.
    import re

    return re.compile(rb"\n" + head + rb"(\d{%d,})" % _digits(threshold) + tail)


def _digits(threshold: int) -> int:
    """How many digits a size needs at least to reach ``threshold``."""
    return max(1, len(str(max(threshold, 0))))


class BlobQuery(Record):
    __slots__ = ("blobs", "missing", "objects", "commits", "blob_count", "disk_bytes", "attribute_files")

    def __init__(self, blobs: list[ObjectRecord], missing: int, objects: int | None = None):
        self.blobs = blobs  # at or over the threshold, biggest first
        self.missing = missing  # objects that could not be sized (partial clone)
        self.objects = objects  # objects looked at, when counted
        self.commits: int | None = None  # commits walked, when counted
        self.blob_count: int | None = None  # blobs walked (with repeats across paths), when counted
        self.disk_bytes: int | None = None  # the walked objects' size in the store, when asked
        self.attribute_files: list[str] = []  # blobs walked at a path named .gitattributes, when asked


def blobs_at_least(revs: Iterable[str], threshold: int, cwd=None, *, disk_size: bool = False,
                   attribute_files: bool = False) -> BlobQuery:
    """Blobs of at least ``threshold`` bytes reachable from ``revs`` (deduplicated), with
    counts of the commits and blobs walked; ``disk_size``: also the walked objects' total
    size in the object store (compressed, deltified: what a pack of them comes near; the
    sum ``git rev-list --disk-usage`` prints for the same objects); ``attribute_files``:
    also the ids of the blobs walked under a path named ``.gitattributes``."""
    # The type leads each line, so "\ncommit " and "\nblob " count exactly (a path comes
    # last and git cuts it at a newline) with a substring count in C, and the size regex
    # starts from a literal.
    pattern = _size_regex(threshold, rb" ([0-9a-f]+) ?([^\n]*)", b"blob " + (rb"\d+ " if disk_size else b""))
    found: dict[str, ObjectRecord] = {}
    query_attributes: list[str] = []
    missing = commits = blob_count = disk = 0
    fmt = "%(objecttype) %(objectsize:disk) %(objectsize) %(objectname) %(rest)" if disk_size else \
        "%(objecttype) %(objectsize) %(objectname) %(rest)"
    pipe = _ObjectPipeline(revs, cwd, batch_format=fmt)
    if disk_size:
        import re

        disk_sizes = re.compile(rb"\n[a-z]+ (\d+)")
    try:
        for chunk in pipe.chunks():
            block = b"\n" + chunk
            missing += chunk.count(b" missing\n")
            commits += block.count(b"\ncommit ")
            blob_count += block.count(b"\nblob ")
            if disk_size:
                disk += sum(map(int, disk_sizes.findall(block)))
            if attribute_files:
                _attribute_blobs(block, query_attributes, 3 if disk_size else 2)
            for match in pattern.finditer(block):
                size = int(match.group(1))
                if size >= threshold:
                    oid = match.group(2).decode()
                    if oid not in found:
                        path = match.group(3).decode("utf-8", "surrogateescape") or None
                        found[oid] = ObjectRecord(oid, "blob", size, path)
    finally:
        pipe.close()
    query = BlobQuery(biggest_first(found.values()), missing)
    query.commits, query.blob_count = commits, blob_count
    query.disk_bytes = disk if disk_size else None
    query.attribute_files = query_attributes
    return query


_ATTRIBUTES_LINE_END = b".gitattributes\n"


def _attribute_blobs(block: bytes, into: list[str], oid_at: int) -> None:
    """Blob ids of the lines of ``block`` (``\nblob ... <oid> <path>``) whose path is a
    ``.gitattributes`` file: a substring search in C, then a look at each hit's line."""
    pos = block.find(_ATTRIBUTES_LINE_END)
    while pos >= 0:
        start = block.rfind(b"\n", 0, pos) + 1
        # "blob [disk size] size oid path": ``oid_at`` says which word the oid is, and what
        # follows it is the path up to its last ".gitattributes": nothing, or a folder
        words = block[start:pos].split(b" ", oid_at + 1)
        folder = words[-1]
        if words[0] == b"blob" and len(words) == oid_at + 2 and (not folder or folder.endswith(b"/")):
            into.append(words[oid_at].decode())
        pos = block.find(_ATTRIBUTES_LINE_END, pos + 1)


def biggest_first(records: Iterable[ObjectRecord]) -> list[ObjectRecord]:
    """Sized records biggest first, equal sizes by id, so every listing reads the same."""
    return sorted(records, key=lambda r: (-(r.size or 0), r.oid))


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


def is_lfs_pointer(content: bytes) -> bool:
    """Whether a blob's content is a Git LFS pointer file (not the file it stands for)."""
    return (len(content) < LFS_POINTER_MAX and content.startswith(LFS_POINTER_PREFIX + b"\n")
            and b"\noid sha256:" in content)


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


def raw_blob_sizes(oids: Iterable[str], cwd=None) -> dict[str, int]:
    """The size of each of these blobs that is raw content, not an LFS pointer, judged
    from one ``cat-file --batch-check`` and the content of only those small enough to be
    a pointer; a blob not here to read (partial clone) is left out, nothing fetched."""
    sizes = batch_check(oids, cwd=cwd)
    small = [oid for oid, record in sizes.items() if record.size is not None and record.size < LFS_POINTER_MAX]
    contents = blob_contents(small, cwd=cwd)
    return {oid: record.size for oid, record in sizes.items()
            if record.size is not None and not (oid in contents and is_lfs_pointer(contents[oid]))}


