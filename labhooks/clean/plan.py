"""What a clean will remove, from where, and what it saves: computed before anything changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from labhooks import fit
from labhooks.clean.refs import Ref, list_refs, stash_entries
from labhooks.clean.verify import tree_listing
from labhooks.errors import LabhooksError
from labhooks.git.history import find_blob_origins
from labhooks.git.objects import blobs_at_least
from labhooks.git.process import run_git
from labhooks.git.records import GITLINK_MODE, BlobOrigin
from labhooks.git.repo import disk_usage, head_commit
from labhooks.git.store import store_blobs_at_least
from labhooks.sizes import format_size
from labhooks.text import printable


@dataclass
class DoomedBlob:
    oid: str
    size: int
    disk_size: int  # bytes it takes in the object store now (compressed, maybe a delta)
    origin: BlobOrigin | None


@dataclass
class Plan:
    max_bytes: int
    refs: dict[str, Ref]  # every ref now (pins excluded)
    stash: list[tuple[str, str]]  # (commit, message), newest first
    blobs: list[DoomedBlob]  # reachable from a ref or stash entry, over max
    kept_at_head: set[str] = field(default_factory=set)  # over max but protected (bfg --protect-head)
    changing_refs: list[str] = field(default_factory=list)
    unreachable_big: int = 0  # over max but only in reflogs or loose garbage: gc removes them
    store_bytes: int = 0

    @property
    def saving(self) -> int:
        return sum(blob.disk_size for blob in self.blobs)


def store_size(cwd) -> int:
    """Bytes the object store takes on disk: packs plus loose objects."""
    usage = disk_usage(cwd)
    return usage.pack_bytes + usage.loose_bytes


def head_blobs(cwd) -> dict[str, str]:
    """path -> blob id in HEAD's tree (empty when HEAD is unborn)."""
    head = head_commit(cwd)
    if head is None:
        return {}
    return {path: oid for path, (mode, oid) in tree_listing(head, cwd).items() if mode != GITLINK_MODE}


def _disk_sizes(oids: list[str], cwd) -> dict[str, int]:
    if not oids:
        return {}
    out = run_git(["cat-file", "--batch-check=%(objectname) %(objectsize:disk)"], cwd,
                  input="".join(o + "\n" for o in oids)).stdout
    sizes = {}
    for line in out.splitlines():
        oid, size = line.split(" ")
        sizes[oid] = int(size)
    return sizes


def history_revs(stash: list[tuple[str, str]]) -> list[str]:
    """Every ref plus every stash entry (older entries live only in the stash's reflog)."""
    return ["--all", *[oid for oid, _ in stash]]


def make_plan(root: Path, max_bytes: int, protect_head: bool = False) -> Plan:
    refs = list_refs(root)
    stash = stash_entries(root)
    revs = history_revs(stash)
    query = blobs_at_least(revs, max_bytes, root)
    if query.missing:
        raise LabhooksError(
            f"{query.missing} object(s) are missing locally (a partial clone?): their sizes are unknown, "
            "so the plan would be incomplete; fetch them first (git fetch --refetch or a full clone)", 2
        )
    protected: set[str] = set()
    if protect_head:
        protected = set(head_blobs(root).values()) & {b.oid for b in query.blobs}
    records = [record for record in query.blobs if record.oid not in protected]
    oids = [record.oid for record in records]
    origins = find_blob_origins(oids, revs, root)
    disk = _disk_sizes(oids, root)
    # every listed blob has a size: missing objects were refused above
    blobs = [DoomedBlob(r.oid, r.size or 0, disk.get(r.oid, r.size or 0), origins.get(r.oid)) for r in records]
    plan = Plan(max_bytes, refs, stash, blobs, kept_at_head=protected, store_bytes=store_size(root))
    origin_commits = sorted({blob.origin.commit.oid for blob in blobs if blob.origin})
    if origin_commits:
        args = ["for-each-ref", "--format=%(refname)"]
        for commit in origin_commits:
            args += ["--contains", commit]
        plan.changing_refs = [name for name in run_git(args, root).stdout.splitlines() if name in refs]
    everything = store_blobs_at_least(max_bytes, root)
    reachable = {r.oid for r in query.blobs}
    plan.unreachable_big = sum(1 for r in everything.blobs if r.oid not in reachable)
    return plan


# The plan's blob rows on a terminal: size and id first (a figure is never cut, the id
# only abbreviated), then the path, which gives way in the middle, then where it came
# from, which loses its end first.
_BLOB_COLUMNS = [
    fit.Column("", right=True, label="size"),
    fit.Column("", fit.PREFIX, least=7, label="blob"),
    fit.Column("", fit.MIDDLE, least=20, label="path"),
    fit.Column("", fit.END, least=20, drop=1, label="commit"),
]
_INDENT = "  "


def render(plan: Plan, backend_name: str, width: int | None = None) -> list[str]:
    """The plan as lines; ``width``: a terminal's, every line fitted to it (None: whole)."""
    verb = "become Git LFS objects" if backend_name == "lfs" else "will be removed from history"
    lines = [f"{len(plan.blobs)} blob(s) over {format_size(plan.max_bytes)} {verb}:"]
    rows = []
    for blob in plan.blobs:
        if blob.origin:
            commit = blob.origin.commit
            paths = [printable(p) for p in blob.origin.paths]
            where = f"added in {commit.short} ({commit.date[:10]}, {printable(commit.subject)})"
        else:
            paths, where = ["(path unknown)"], "(only in a stash or tag)"
        if width is not None and len(paths) > 1:
            paths = [f"{paths[0]}{fit.MORE_MARK}{len(paths) - 1} more"]
        rows.append([format_size(blob.size), blob.oid[:10], ", ".join(paths), where])
    if width is None:
        lines += [f"  {size:>10}  {oid}  {paths}  {where}" for size, oid, paths, where in rows]
    else:
        fitted = fit.fit(_BLOB_COLUMNS, rows, width - len(_INDENT))
        lines += [_INDENT + line for line in fit.plain_lines(fitted)[1:]]
    if plan.kept_at_head:
        lines.append(f"{len(plan.kept_at_head)} blob(s) over the limit are kept: they are in HEAD (--protect-head)")
    lines.append(f"{len(plan.changing_refs)} ref(s) will be rewritten:")
    lines += [_INDENT + (printable(name) if width is None else fit.shorten(printable(name), width - 2, fit.MIDDLE))
              for name in plan.changing_refs]
    if plan.stash:
        entries = "entry" if len(plan.stash) == 1 else "entries"
        lines.append(f"{len(plan.stash)} stash {entries} kept (rewritten where needed)")
    if plan.unreachable_big:
        lines.append(f"{plan.unreachable_big} more blob(s) over the limit are only in reflogs or unreachable: "
                     "gc removes them")
    lines.append(f"object store now {format_size(plan.store_bytes)}; expected saving about {format_size(plan.saving)}"
                 " (what those blobs take on disk)")
    if width is None:
        return lines
    return [folded for line in lines for folded in fit.fold(line, width, later="  ")]
