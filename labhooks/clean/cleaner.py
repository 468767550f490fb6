"""The order of a clean: 1 refuse, 2 plan, 3 back up, 4 rewrite, 5 finish, 6 verify,
7 report, 8 push (only when asked).

Every step that changes the repository comes after the backup. Whatever stops the run
(a failure, Ctrl-C, SIGTERM), labhooks stops its child processes, puts back what it set
aside (held files, pins, the stash, its id list) and says truthfully where the
repository stands: unchanged (before step 4), to be restored from the backup (during
step 4), or rewritten and only to be finished (after step 4).
"""

from __future__ import annotations

import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from labhooks import fit
from labhooks.clean import backends, backup, bfg, children, held, pins, preflight, publish, verify
from labhooks.clean import plan as planning
from labhooks.errors import LabhooksError
from labhooks.git.process import git_executable, run_git
from labhooks.git.repo import common_dir
from labhooks.sizes import format_size
from labhooks.text import printable

# The usual "git reflog expire --expire=now --all && git gc --prune=now --aggressive", except
# that it keeps the stash: every stash entry but the newest lives only in the stash's reflog.
FINISH_COMMAND = ("git -c gc.reflogExpire=now -c gc.reflogExpireUnreachable=now -c gc.refs/stash.reflogExpire=never "
                  "-c gc.refs/stash.reflogExpireUnreachable=never gc --prune=now --aggressive")


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
    keep_placeholders: bool = False
    push: bool = False
    wide: bool = False  # the plan's paths and ids whole on a terminal too


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


BEFORE, DURING, AFTER = "before", "during", "after"


class _ChecksFailed(LabhooksError):
    """The result was judged and found wrong (as opposed to: could not be judged)."""


class _Run:
    """Where a clean stands, and the scratch state to remove on every way out of it."""

    def __init__(self, root: Path, job: backends.Job, backup_dir: Path | None):
        self.root = root
        self.job = job
        self.backup_dir = backup_dir
        self.phase = BEFORE
        self.pins: pins.Pins | None = None
        self.keep: held.HeldFiles | None = None
        self.bundle: Path | None = None
        self.reflogs_touched = False  # from here the stash lives only in the pins until rebuilt
        self.stash_rebuilt = False
        self.kept: list[str] = []
        self.excluded: held.Excluded | None = None
        self.remotes_restored = False

    def tidy(self) -> None:
        """Labhooks' own state goes on every exit path, so no run ever blocks the next."""
        with children.signals_held():
            problems = []
            if self.keep is not None:
                try:
                    held.put_back(self.keep)
                except OSError as exc:
                    problems.append(f"could not put back held files from {self.keep.hold_dir}: {exc}")
            try:
                if self.pins is not None and self.reflogs_touched and not self.stash_rebuilt:
                    pins.rebuild_stash(self.root, self.pins)
                pins.drop_pins(self.root)
            except LabhooksError as exc:
                problems.append(f"could not remove the refs under {pins.PIN_NAMESPACE}: {exc}")
            self.job.ids_file.unlink(missing_ok=True)
            for problem in problems:
                _say(problem)

    def interrupted(self) -> LabhooksError:
        if self.phase == BEFORE:
            kept = f" (the backup {self.bundle} is complete; keep it or delete it)" if self.bundle else ""
            return LabhooksError(f"interrupted before the rewrite: nothing was changed{kept}", 130)
        if self.phase == DURING:
            return LabhooksError("interrupted during the rewrite: the repository may be half rewritten; "
                                 f"{backup.restore_hint(self.bundle, self.root)}", 130)
        saved = f"; the old history is in {self.bundle}" if self.bundle else ""
        return LabhooksError("interrupted after the rewrite was complete (the old blobs may still be stored and "
                             f"the checks did not run): finish with {FINISH_COMMAND}{saved}", 130)

    def failed(self, message: str) -> LabhooksError:
        if self.phase == BEFORE:
            return LabhooksError(f"{message}; nothing was changed", 1)
        if self.phase == DURING:
            return LabhooksError(f"{message}; {backup.restore_hint(self.bundle, self.root)}", 1)
        saved = f"; the old history is in {self.bundle}" if self.bundle else ""
        return LabhooksError(f"{message}; the rewrite itself is complete: finish with {FINISH_COMMAND}{saved}", 1)


def run(options: Options, cwd=None, out: Callable[[str], None] = print,
        confirm: Callable[[str], bool] | None = None) -> Result:
    with children.terminate_as_interrupt():
        try:
            return _clean(options, cwd, out, confirm)
        except KeyboardInterrupt:  # the later steps say for themselves where they stopped
            raise LabhooksError("interrupted before the rewrite: nothing was changed", 130) from None


def _clean(options: Options, cwd, out: Callable[[str], None], confirm: Callable[[str], bool] | None) -> Result:
    # 1. preflight: nothing is written before all of these pass
    max_bytes = preflight.parse_max(options.max_size)
    root, gitdir = preflight.find_repository(cwd)
    preflight.ensure_nothing_in_progress(gitdir)
    preflight.ensure_complete_history(root)
    preflight.ensure_on_branch(root)
    preflight.ensure_clean(root)
    backend = backends.resolve(options.backend, options.bfg_jar)
    backends.ensure_can_rewrite(backend, preflight.object_format(root))
    for flag, wanted in (("--protect-head", options.protect_head), ("--keep-placeholders", options.keep_placeholders)):
        if wanted and backend.name != "bfg":
            raise LabhooksError(f"{flag} only applies to the bfg backend, not {backend.name}", 2)
    if options.no_backup and options.backup_dir:
        raise LabhooksError("--backup-dir and --no-backup contradict each other: give one", 2)
    leftovers = pins.existing_pins(root)
    if leftovers:
        raise LabhooksError(
            f"{len(leftovers)} ref(s) under {pins.PIN_NAMESPACE} were brought back from a backup or left by a "
            "killed clean: once the repository is as you want it, delete them with git for-each-ref "
            f"--format='delete %(refname)' {pins.PIN_NAMESPACE} | git update-ref --stdin, and run again", 2
        )
    backup_dir = None
    if not options.no_backup:
        backup_dir = backup.check_directory(options.backup_dir or backup.default_dir(root), gitdir, common_dir(root))
    backends.check_runtime(backend)

    # 2. plan
    the_plan = planning.make_plan(root, max_bytes, options.protect_head)
    job = backends.Job(max_bytes, gitdir, sorted({b.oid for b in the_plan.blobs} | the_plan.kept_at_head),
                       the_plan.store_bytes, options.protect_head, options.keep_placeholders)
    # Fitted to a terminal (stdout, where the command's out writes); a pipe gets it whole.
    width = None if options.wide else fit.terminal_width(sys.stdout)
    command = shlex.join(backend.command(job))
    shown_root = str(root) if width is None else fit.shorten(str(root), max(20, width - 12), fit.MIDDLE)
    for line in fit.fold(f"Repository {shown_root}; backend {backend.name}: {command}", width, keep=command,
                         later="  "):
        out(line)
    if not the_plan.blobs:
        out(f"Nothing to do: no blob over {preflight.describe_limit(max_bytes)} is reachable from any ref "
            "or stash entry.")
        if the_plan.unreachable_big:
            out(f"{the_plan.unreachable_big} blob(s) over the limit are only in reflogs or unreachable: "
                f"{FINISH_COMMAND} removes them (and keeps the stash).")
        return Result(0, size_before=the_plan.store_bytes, size_after=the_plan.store_bytes)
    for line in planning.render(the_plan, backend.name, width):
        out(line)
    if options.dry_run:
        out("Dry run: nothing was changed.")
        return Result(0, size_before=the_plan.store_bytes, size_after=the_plan.store_bytes)
    listings = publish.list_remotes(root)  # the state a later --push must still find
    if not options.yes:
        if confirm is None or not sys.stdin.isatty():
            raise LabhooksError("refusing to rewrite history without confirmation: "
                                "stdin is not a terminal; re-run with --yes", 2)
        if not confirm("Rewrite history as shown above?"):
            raise LabhooksError("cancelled: nothing was changed", 1)
    if backup_dir is not None:
        backup_dir.mkdir(parents=True, exist_ok=True)
        backup.ensure_room(backup_dir, the_plan.store_bytes)

    state = _Run(root, job, backup_dir)
    try:
        before = _rewrite(state, options, backend, the_plan, out)
    except KeyboardInterrupt:
        raise state.interrupted() from None
    except (LabhooksError, OSError) as exc:
        if isinstance(exc, LabhooksError) and state.phase == BEFORE:
            raise
        raise state.failed(exc.message if isinstance(exc, LabhooksError) else str(exc)) from None
    finally:
        state.tidy()

    # 6. verify
    try:
        after, objects_left, size_after = _verify(state, options, backend, the_plan, before)
    except _ChecksFailed:
        raise
    except LabhooksError as exc:
        raise LabhooksError(f"could not check the result ({exc.message}); "
                            f"{backup.restore_hint(state.bundle, root)}", 1) from None

    # 7. report
    push_plan = publish.plan_pushes(listings, before.refs, after.refs)
    _report(out, root, backend, the_plan, objects_left, size_after, state, push_plan)

    # 8. push, only when asked
    if options.push:
        try:
            _push(out, root, push_plan, backend, options.yes, confirm)
        except KeyboardInterrupt:
            raise LabhooksError("interrupted while pushing: the rewrite is complete and checked, some refs may "
                                "be pushed already: see git ls-remote, then push the rest with the commands above",
                                130) from None
    return Result(0, state.bundle, the_plan.store_bytes, size_after)


def _verify(state: _Run, options: Options, backend: backends.Backend, the_plan: planning.Plan,
            before: verify.Snapshot) -> tuple[verify.Snapshot, int, int]:
    """Judge the repository left behind; (its refs, objects left, store size) when it is right."""
    root = state.root
    after = verify.take(root, with_trees=False)
    problems = verify.compare_refs(before, after)
    protected_tree = before.root_trees.get(before.head_commit or "") if options.protect_head else None
    # BFG keeps HEAD's root tree; the same blobs elsewhere in history go
    over_limit = {**{b.oid: b.size for b in the_plan.blobs}, **{oid: 0 for oid in the_plan.kept_at_head}}
    placeholders = options.keep_placeholders and backend.name == "bfg"
    problems += verify.compare_trees(before, after, over_limit, root, lfs=backend.name == "lfs",
                                     protected_tree=protected_tree, placeholders=placeholders)
    leftover, objects_left = verify.leftover_blobs(root, state.job.max_bytes, the_plan.kept_at_head)
    problems += leftover
    problems += verify.worktree_changes(root)
    if problems:
        for problem in problems:
            _say(f"check failed: {problem}")
        raise _ChecksFailed(f"the rewrite did not give the expected result ({len(problems)} problem(s) above); "
                            f"{backup.restore_hint(state.bundle, root)}", 1)
    return after, objects_left, planning.store_size(root)


def _rewrite(state: _Run, options: Options, backend: backends.Backend, the_plan: planning.Plan,
             out: Callable[[str], None]) -> verify.Snapshot:
    """Steps 3 to 5; ``state.phase`` says at each moment what an interruption would leave."""
    root, job = state.root, state.job
    before = verify.take(root)
    state.pins = pins.pin(root, the_plan.stash)

    # 3. backup
    if state.backup_dir is not None:
        target = backup.bundle_path(root, state.backup_dir)
        with _Step(f"backing up {len(before.refs)} ref(s) to {target}"):
            state.bundle = backup.create(root, target)
        out(f"Backup: {state.bundle} (verified with git bundle verify)")

    # 4. rewrite
    doomed = {blob.oid for blob in the_plan.blobs}
    # HEAD is on a branch, so its tree is already in the snapshot
    head_paths = [p for p, (_mode, oid) in before.trees.get(before.head_commit or "", {}).items() if oid in doomed]
    state.phase = DURING
    state.keep = held.hold(root, job.gitdir, head_paths)
    backend.prepare(root, job)
    with _Step(f"rewriting every ref with {backend.name}"):
        status = backend.run(root, job)
    if status != 0 and backend.name != "bfg":
        raise LabhooksError(f"{backend.name} failed (exit {status}, see above)", 1)
    kept = held.put_back(state.keep)
    held.sync_index(root)
    if backend.name == "lfs" and kept:
        _ensure_lfs_filter(root)
        # the index holds the stat of the pointer file LFS checked out; re-adding the
        # restored file yields the same pointer blob and records the real file's stat
        run_git(["add", "--", *[f":(literal){p}" for p in kept]], root)
    state.remotes_restored = verify.restore_remotes(root, before)
    pins.restore_remote_refs(root, state.pins)
    state.kept = kept
    state.excluded = held.exclude(root, kept, format_size(job.max_bytes)) if kept and backend.strips else None
    state.phase = AFTER

    # 5. finish
    state.reflogs_touched = True
    with _Step("expiring reflogs"):
        run_git(["reflog", "expire", "--expire=now", "--all"], root)
    pins.rebuild_stash(root, state.pins)
    state.stash_rebuilt = True
    pins.drop_pins(root)
    with _Step("git gc --prune=now --aggressive"):
        status = children.run_showing_output([git_executable(), "gc", "--prune=now", "--aggressive"], root)
    if status != 0:
        raise LabhooksError(f"git gc failed (exit {status}, see above)", 1)
    return before


def _ensure_lfs_filter(root: Path) -> None:
    """Without the LFS filter configured, git would see the restored real files as changes."""
    configured = run_git(["config", "filter.lfs.process"], root, check=False).stdout.strip()
    if not configured:
        run_git(["lfs", "install", "--local", "--skip-repo"], root)
        _say("configured the Git LFS filter in this repository's .git/config (git lfs install --local --skip-repo)")


def _report(out, root: Path, backend: backends.Backend, the_plan: planning.Plan, objects_left: int,
            size_after: int, state: _Run, push_plan: publish.PushPlan) -> None:
    out(f"Done with {backend.name}: {len(the_plan.blobs)} blob(s) "
        f"{'moved to Git LFS' if not backend.strips else 'removed'}; {objects_left} objects left, "
        f"none over {format_size(the_plan.max_bytes)}"
        f"{' but those in HEAD (--protect-head)' if the_plan.kept_at_head else ''}; "
        "every other path at every ref tip checked unchanged.")
    out(f"Object store: {format_size(the_plan.store_bytes)} before, {format_size(size_after)} after.")
    if state.bundle:
        out(f"Backup of the old history: {state.bundle}")
    if backend.name == "bfg" and bfg.report_dir(root).is_dir():
        out(f"BFG's report (object-id-map.old-new.txt maps old commits to new): {bfg.report_dir(root)}")
    kept, excluded = state.kept, state.excluded
    if kept:
        if excluded is None:
            out("Kept in the working tree (now stored in Git LFS):")
            out("".join(f"  {printable(p)}\n" for p in kept).rstrip("\n"))
        else:
            if excluded.paths:
                out(f"Kept in the working tree as untracked files, listed in {excluded.file}:")
                out("".join(f"  {printable(p)}\n" for p in excluded.paths).rstrip("\n"))
            if excluded.inexpressible:
                out("Kept in the working tree, untracked, NOT excluded (gitignore cannot name a path with a "
                    "newline, or a carriage return at its end): rename or move them, or the next git add -A "
                    "commits them back:")
                out("".join(f"  {printable(p)}\n" for p in excluded.inexpressible).rstrip("\n"))
    if state.remotes_restored:
        out("Remote settings were removed by the backend and have been put back.")
    out("Next steps:")
    for line in publish.next_steps(push_plan, lfs=backend.name == "lfs"):
        out("  " + line)
    out("  Collaborators must re-clone (or hard-reset every branch to the new history); "
        "a pull or merge of their old clones brings the big blobs back.")


def _push(out, root: Path, push_plan: publish.PushPlan, backend: backends.Backend, yes: bool,
          confirm: Callable[[str], bool] | None) -> None:
    """--push: exactly the planned refs, leased, and never to a remote that moved since the plan."""
    pending = [push for push in push_plan.remotes if push.updates]
    if not pending:
        out("--push: nothing to push.")
        return
    if not yes:
        if confirm is None or not sys.stdin.isatty():
            raise LabhooksError("the rewrite is complete, but --push asks before pushing and stdin is not a "
                                "terminal: push with the commands above, or re-run with --yes", 1)
        if not confirm(f"Push the rewritten refs to {', '.join(p.listing.remote for p in pending)} as shown above?"):
            raise LabhooksError("not pushed (the rewrite is complete): push with the commands above", 1)
    refused = []
    for push in pending:
        moved = publish.moved_since(push, root)
        if moved:
            refused.append(f"{moved}: not pushed there")
            continue
        if backend.name == "lfs":
            children.run_showing_output([git_executable(), "lfs", "push", "--all", push.listing.remote], root)
        command = push.command(with_ids=True)
        with _Step(f"pushing {len(push.updates)} ref(s) to {push.listing.remote}"):
            status = children.run_showing_output([git_executable(), *command[1:]], root)
        if status != 0:
            refused.append(f"git push to {push.listing.remote} failed (exit {status}, see above)")
        else:
            out(f"Pushed {len(push.updates)} ref(s) to {push.listing.remote}.")
    if refused:
        raise LabhooksError("the rewrite is complete, but " + "; ".join(refused), 1)
