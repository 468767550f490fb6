"""The records a scan produces; their JSON and CSV forms are documented in docs/scan.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from labhooks.git.records import Commit

GROUPINGS = ("blob", "path", "ext", "dir", "author")


DEFAULT_TOP = 20


SCHEMA_VERSION = 1


NO_EXTENSION = "(none)"


NO_COMMIT = "(no commit)"  # a blob reached only through a tag of a tree or blob


TOP_DIR = "."


_UNKNOWN = -1


_EXCLUDED = -2  # reached by the walk but already held by the range's boundary


@dataclass
class BlobRecord:
    oid: str
    size: int | None  # None: missing locally (partial clone), never fetched
    paths: list[str]  # every path it was added under, first one first
    commit: Commit | None  # the commit that introduced it
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
class ForgeSize:
    """The repository's size against the recommendations of the forge it goes to."""
    key: str  # forges.FORGES key
    name: str
    why: str  # what chose it: "remote origin is github.com"
    repo_bytes: int  # packed (+ loose) size on disk: what the forges measure
    recommended: int | None  # the forge asks repositories to stay under this
    limit: int | None  # strongly recommended, or enforced, ceiling

    @property
    def verdict(self) -> str:
        """"under", "over recommended" (between the two figures) or "over limit"."""
        from labhooks.sizes import reaches

        if self.limit is not None and reaches(self.repo_bytes, self.limit):
            return "over limit"
        if self.recommended is not None and reaches(self.repo_bytes, self.recommended):
            return "over recommended"
        return "under"


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
    forge: ForgeSize | None = None


@dataclass
class CommitWeight:
    commit: Commit
    bytes: int  # of the blobs it introduced (known sizes)
    blobs: int


@dataclass
class Period:
    key: str  # "YYYY-MM" of the introducing commits' author dates ("YYYY" for long spans)
    bytes: int  # added in this period
    cumulative: int  # added up to and including it
    top: list[CommitWeight]  # the commits that added the most in it, most first


@dataclass
class Figures:
    """What the HTML report draws, over every blob of known size the walk reached."""

    paths: list[tuple[str, int, int]]  # (first path, bytes, bytes still at HEAD), biggest first
    periods: list[Period]  # oldest first, empty periods included
    top_commits: list[CommitWeight]  # the commits that added the most, most first
    undated_bytes: int  # blobs no commit adds (reached through a tag of a tree or blob)


@dataclass
class ScanResult:
    records: Sequence[BlobRecord | GroupRecord]  # all of one kind, as summary.by says
    summary: Summary
    figures: Figures | None = None  # only for --format html
