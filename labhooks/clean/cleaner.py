"""The order of a clean: refuse, plan, back up, rewrite, tidy, verify, report.

Every step that changes the repository comes after the backup, and every failure after
that point names the backup and how to restore from it.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from labhooks.clean import backends, backup, held, pins, preflight, verify
from labhooks.clean import plan as planning
from labhooks.errors import LabhooksError
from labhooks.git.process import git_executable, run_git
from labhooks.git.repo import common_dir
from labhooks.sizes import format_size
from labhooks.text import printable


@dataclass
class Options:
    max_size: str
    backend: str = "auto"
    bfg_jar: str | None = None
    dry_run: bool = False
    yes: bool = False
    backup_dir: Path | None = None
    no_backup: bool = False
    protect_head: bool = False


@dataclass
class Result:
    exit_code: int
    bundle: Path | None = None
    size_before: int = 0
    size_after: int = 0


def _say(message: str) -> None:
    print(f"labhooks: {message}", file=sys.stderr, flush=True)


class _Step:
    """Progress on stderr: a line when a slow step starts and its time when it ends."""

    def __init__(self, what: str):
        self.what = what

    def __enter__(self):
        self.start = time.perf_counter()
        _say(f"{self.what} ...")
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            _say(f"{self.what}: done in {time.perf_counter() - self.start:.1f} s")
        return False


def run(options: Options, cwd=None, out: Callable[[str], None] = print,
        confirm: Callable[[str], bool] | None = None) -> Result:
    # 1. preflight: nothing is written before all of these pass
    max_bytes = preflight.parse_max(options.max_size)
    root, gitdir = preflight.find_repository(cwd)
    preflight.ensure_nothing_in_progress(gitdir)
    preflight.ensure_complete_history(root)
    preflight.ensure_on_branch(root)
    preflight.ensure_clean(root)
    backend = backends.resolve(options.backend, options.bfg_jar)
    if options.protect_head and backend.name != "bfg":
        raise LabhooksError(f"--protect-head only applies to the bfg backend, not {backend.name}", 2)
    if options.no_backup and options.backup_dir:
        raise LabhooksError("--backup-dir and --no-backup contradict each other: give one", 2)
    leftovers = pins.existing_pins(root)
    if leftovers:
        raise LabhooksError(
            f"{len(leftovers)} ref(s) under {pins.PIN_NAMESPACE} are left from an interrupted clean or a restore: "
            "once the repository is as you want it, delete them with git for-each-ref "
            f"--format='delete %(refname)' {pins.PIN_NAMESPACE} | git update-ref --stdin, and run again", 2
        )
    backup_dir = None
    if not options.no_backup:
        backup_dir = backup.check_directory(options.backup_dir or backup.default_dir(root), gitdir, common_dir(root))

    # 2. plan
    the_plan = planning.make_plan(root, max_bytes, options.protect_head)
    shown = backend.command(max_bytes, options.protect_head, gitdir)
    out(f"Repository {root}; backend {backend.name}: {' '.join(shown)}")
    if not the_plan.blobs:
        out(f"Nothing to do: no blob over {preflight.describe_limit(max_bytes)} is reachable from any ref or stash entry.")
        if the_plan.unreachable_big:
            out(f"{the_plan.unreachable_big} blob(s) over the limit are only in reflogs or unreachable: "
                "git reflog expire --expire=now --all && git gc --prune=now removes them.")
        return Result(0, size_before=the_plan.store_bytes, size_after=the_plan.store_bytes)
    for line in planning.render(the_plan, backend.name):
        out(line)
    if options.dry_run:
        out("Dry run: nothing was changed.")
        return Result(0, size_before=the_plan.store_bytes, size_after=the_plan.store_bytes)
    if not options.yes:
        if confirm is None or not sys.stdin.isatty():
            raise LabhooksError("refusing to rewrite history without confirmation: "
                                "stdin is not a terminal; re-run with --yes", 2)
        if not confirm("Rewrite history as shown above?"):
            raise LabhooksError("cancelled: nothing was changed", 1)
    if backup_dir is not None:
        backup_dir.mkdir(parents=True, exist_ok=True)
        backup.ensure_room(backup_dir, the_plan.store_bytes)

    before = verify.take(root)
    the_pins = pins.pin(root, the_plan.stash)
    bundle = None
    try:
        # 3. backup
        if backup_dir is not None:
            target = backup.bundle_path(root, backup_dir)
            with _Step(f"backing up {len(before.refs)} ref(s) to {target}"):
                bundle = backup.create(root, target)
            out(f"Backup: {bundle} (verified with git bundle verify)")
    except BaseException:
        pins.drop_pins(root)
        raise
    restore = backup.restore_hint(bundle, root)

    # 4. rewrite: from here on every failure points at the backup
    doomed = {blob.oid: blob.size for blob in the_plan.blobs}
    # HEAD is on a branch, so its tree is already in the snapshot
    head_paths = [p for p, (_mode, oid) in before.trees.get(before.head_commit, {}).items() if oid in doomed]
    keep = held.hold(root, gitdir, head_paths)
    try:
        backend.prepare(root)
        with _Step(f"rewriting every ref with {backend.name}"):
            status = backend.run(root, gitdir, max_bytes, options.protect_head)
        if status != 0 and backend.name != "bfg":
            raise LabhooksError(f"{backend.name} failed (exit {status}, see above)", 1)
        kept = held.put_back(keep)
        held.sync_index(root)
        if backend.name == "lfs" and kept:
            _ensure_lfs_filter(root)
            # the index holds the stat of the pointer file LFS checked out; re-adding the
            # restored file yields the same pointer blob and records the real file's stat
            run_git(["add", "--", *[f":(literal){p}" for p in kept]], root)
        remotes_restored = verify.restore_remotes(root, before)
        pins.restore_remote_refs(root, the_pins)
        # 5. finish
        with _Step("expiring reflogs"):
            run_git(["reflog", "expire", "--expire=now", "--all"], root)
        pins.rebuild_stash(root, the_pins)
        pins.drop_pins(root)
        with _Step("git gc --prune=now --aggressive"):
            _gc(root)
    except KeyboardInterrupt:
        _put_back_quietly(keep)
        raise LabhooksError(f"interrupted during the rewrite: the repository may be half rewritten; {restore}", 130) from None
    except LabhooksError as exc:
        _put_back_quietly(keep)
        raise LabhooksError(f"{exc.message}; {restore}", 1) from None
    except OSError as exc:
        _put_back_quietly(keep)
        raise LabhooksError(f"{exc}; {restore}", 1) from None

    # 6. verify
    after = verify.take(root, with_trees=False)
    problems = verify.compare_refs(before, after)
    protected_commit = before.head_commit if options.protect_head else None
    # BFG protects HEAD's commit only: the same blob elsewhere in history is still stripped
    over_limit = {**doomed, **{oid: 0 for oid in the_plan.kept_at_head}}
    problems += verify.compare_trees(before, after, over_limit, root, lfs=backend.name == "lfs",
                                     protected_commit=protected_commit)
    leftover, objects_left = verify.leftover_blobs(root, max_bytes, the_plan.kept_at_head)
    problems += leftover
    problems += verify.worktree_changes(root)
    size_after = planning.store_size(root)
    if problems:
        for problem in problems:
            _say(f"check failed: {problem}")
        raise LabhooksError(f"the rewrite did not give the expected result ({len(problems)} problem(s) above); {restore}", 1)

    excluded = None
    if kept and backend.strips:
        excluded = held.exclude(root, kept, format_size(max_bytes))
    _report(out, root, backend, the_plan, before, after, objects_left, size_after, bundle, kept, excluded,
            remotes_restored)
    return Result(0, bundle, the_plan.store_bytes, size_after)


def _put_back_quietly(keep: held.HeldFiles) -> None:
    """After a failure, working-tree files held aside go back before anything else is said."""
    try:
        held.put_back(keep)
    except OSError as exc:
        _say(f"could not put back held files from {keep.hold_dir}: {exc}")


def _gc(root: Path) -> None:
    status = backends.run_showing_output([git_executable(), "gc", "--prune=now", "--aggressive"], root)
    if status != 0:
        raise LabhooksError(f"git gc failed (exit {status})", 1)


def _ensure_lfs_filter(root: Path) -> None:
    """Without the LFS filter configured, git would see the restored real files as changes."""
    configured = run_git(["config", "filter.lfs.process"], root, check=False).stdout.strip()
    if not configured:
        run_git(["lfs", "install", "--local", "--skip-repo"], root)
        _say("configured the Git LFS filter in this repository's .git/config (git lfs install --local --skip-repo)")


def _report(out, root, backend, the_plan, before, after, objects_left, size_after, bundle, kept, excluded,
            remotes_restored) -> None:
    out(f"Done with {backend.name}: {len(the_plan.blobs)} blob(s) "
        f"{'moved to Git LFS' if not backend.strips else 'removed'}; {objects_left} objects left, "
        f"none over {format_size(the_plan.max_bytes)}; every other path at every ref tip checked unchanged.")
    out(f"Object store: {format_size(the_plan.store_bytes)} before, {format_size(size_after)} after.")
    if bundle:
        out(f"Backup of the old history: {bundle}")
    if kept:
        if excluded:
            out(f"Kept in the working tree as untracked files, listed in {excluded}:")
        else:
            out("Kept in the working tree (now stored in Git LFS):")
        out("".join(f"  {printable(p)}\n" for p in kept).rstrip("\n"))
    if remotes_restored:
        out("Remote settings were removed by the backend and have been put back.")
    remotes = sorted(verify.remote_names(after.remotes))
    remote = "origin" if "origin" in remotes else (remotes[0] if remotes else "<remote>")
    out("Next steps:")
    out(f"  1. Force-push every branch and tag: git push --force {remote} --all && "
        f"git push --force {remote} --tags")
    out("  2. Collaborators must re-clone (or hard-reset every branch to the new history); "
        "a pull or merge of their old clones brings the big blobs back.")
    out("  3. Forges keep hidden refs (pull-request refs such as refs/pull/*) that still hold the old "
        "history until their support removes them or the pull requests are deleted.")
    if backend.name == "lfs":
        out("  4. Push the LFS objects too: git lfs push --all " + remote)
