from __future__ import annotations

from collections.abc import Sequence
from typing import Callable, Iterable

from labhooks import forges
from labhooks.errors import LabhooksError
from labhooks.git.repo import (
    config_values,
    disk_usage,
    ensure_repo,
    is_partial_clone,
)
from labhooks.git.store import StoreListing
from labhooks.scan.answers import _rows_over, group_blobs, history_figures, top_blobs
from labhooks.scan.records import (
    _EXCLUDED,
    _UNKNOWN,
    DEFAULT_TOP,
    GROUPINGS,
    BlobRecord,
    ForgeSize,
    GroupRecord,
    ScanResult,
    Summary,
)
from labhooks.scan.walk import collect, resolve_revs


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
    figures: bool = False,
) -> ScanResult:
    """The whole report. ``top``: None = default (20, or every blob over ``max_size``), 0 = all.

    ``store_listing``: a sizes-only listing of the store the caller started early, used
    with ``max_size`` and closed once read (closing it again is harmless). ``figures``:
    also what the HTML report draws (the whole history's weight, whatever ``max_size``).
    """
    if by not in GROUPINGS:
        raise LabhooksError(f"--by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    if top is not None and top < 0:
        raise LabhooksError(f"--top must be 0 (all) or more, not {top}")
    if max_size is not None and max_size <= 0:
        raise LabhooksError("--max must be more than 0 bytes")
    # With --max, the store listing may answer everything: start it first, so git lists
    # on another core while the repository, the revisions and the disk usage are read.
    if figures and store_listing is not None:
        store_listing.close()  # the figures need the whole walk whatever the store holds
        store_listing = None
    listing = (store_listing or StoreListing(cwd=cwd)) if max_size is not None and not figures else None
    try:
        ensure_repo(cwd)
        walk_revs = resolve_revs(revs, all_refs, cwd)
        usage = disk_usage(cwd)
        partial = is_partial_clone(cwd)
        # Nothing in the whole store reaches the limit: no reachable blob can either,
        # so the answer needs no history walk at all (a partial clone's store cannot say).
        nothing_that_big = (listing is not None and max_size is not None and not partial
                            and not listing.sizes_at_least(max_size))
    finally:
        # Closed before the walk, so its spool file is not held through the whole scan.
        if listing is not None:
            listing.close()
    if top is None:
        top = 0 if max_size is not None else DEFAULT_TOP
    forge = forge_size(usage.pack_bytes + usage.loose_bytes, cwd)
    if nothing_that_big:
        summary = Summary(walk_revs, by, max_size, False, usage.objects, usage.pack_bytes,
                          usage.loose_bytes, None, None, None, 0, 0, 0, forge)
        return ScanResult([], summary)

    table = collect(walk_revs, partial, cwd, on_progress)
    sizes = table.sizes
    unknown = sizes.count(_UNKNOWN)
    excluded = sizes.count(_EXCLUDED)
    summary = Summary(
        walk_revs, by, max_size, True, usage.objects, usage.pack_bytes, usage.loose_bytes,
        # the sum counts each -1 / -2 marker: add them back
        len(sizes) - excluded, sum(sizes) + unknown + 2 * excluded, unknown, forge=forge,
    )
    rows = _rows_over(table, max_size)
    if max_size is not None:
        summary.over_max_blobs = len(rows)
        summary.over_max_bytes = sum(sizes[r] for r in rows)
        summary.over_max_unknown = unknown
        # A blob of unknown size might be over the limit: keep it in view.
        rows += [r for r in range(len(sizes)) if sizes[r] == _UNKNOWN]
    records: Sequence[BlobRecord | GroupRecord]
    if by == "blob":
        records = top_blobs(table, rows, top or None, cwd)
    else:
        records = group_blobs(table, rows, by, top or None)
    return ScanResult(records, summary, history_figures(table) if figures else None)


def forge_size(repo_bytes: int, cwd=None) -> ForgeSize:
    """The forge chosen as the guard chooses it outside a push (``git config
    labhooks.forge``, else the strictest forge among the remotes' URLs, else GitHub),
    with its recommended repository size. URLs are only read, never contacted."""
    choice = forges.choose(config_values(forges.SETTINGS_PATTERN, cwd))
    forge = choice.forge
    return ForgeSize(forge.key, forge.name, choice.why, repo_bytes, forge.repo_recommended, forge.repo_limit)
