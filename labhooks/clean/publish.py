"""After a clean: the push that cannot hurt a collaborator, and what each forge keeps.

The remotes are listed (``git ls-remote``) while planning, before anything changes. The
push then names exactly the branches and tags each remote has, each leased
(``--force-with-lease=<ref>:<id>``) on the id the remote had when this repository last saw
it, which is the id the rewrite replaced: a collaborator's newer commit makes the push of
that ref fail instead of vanishing. Refs the remote has moved since are left out and said.
"""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from labhooks.clean.refs import Ref
from labhooks.git.process import git_env, git_executable, last_line, run_git

_HEADS, _TAGS, _REMOTES = "refs/heads/", "refs/tags/", "refs/remotes/"
LIST_TIMEOUT_SECONDS = 60


@dataclass
class Listing:
    """A remote's branches and tags as the remote itself said, when the plan was made."""

    remote: str
    url: str
    refs: dict[str, str] | None  # ref name -> id; None when the remote could not be asked
    error: str = ""


def remote_names(root: Path) -> list[str]:
    return run_git(["remote"], root).stdout.split()


def list_remote(root: Path, remote: str) -> Listing:
    url = run_git(["remote", "get-url", remote], root, check=False).stdout.strip()
    try:
        proc = subprocess.run(
            [git_executable(), "ls-remote", "--heads", "--tags", "--refs", remote], cwd=root,
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=LIST_TIMEOUT_SECONDS,
            env=git_env({"GIT_TERMINAL_PROMPT": "0"}),
        )
    except subprocess.TimeoutExpired:
        return Listing(remote, url, None, f"no answer in {LIST_TIMEOUT_SECONDS} s")
    if proc.returncode != 0:
        return Listing(remote, url, None, last_line(proc.stderr, f"git ls-remote exit {proc.returncode}"))
    refs = {}
    for line in proc.stdout.splitlines():
        oid, _, name = line.partition("\t")
        refs[name] = oid
    return Listing(remote, url, refs)


def list_remotes(root: Path) -> list[Listing]:
    return [list_remote(root, name) for name in remote_names(root)]


@dataclass
class Update:
    remote_ref: str
    source: str  # the local ref whose rewritten id goes there
    new: str
    old: str  # the id the remote has and the rewrite replaced: the lease


@dataclass
class RemotePush:
    listing: Listing
    updates: list[Update] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # why a ref of the remote is not pushed

    def command(self, with_ids: bool = False) -> list[str]:
        """``git push`` with a lease per ref; with_ids pushes the ids themselves (what --push runs)."""
        cmd = ["git", "push"]
        cmd += [f"--force-with-lease={u.remote_ref}:{u.old}" for u in self.updates]
        cmd.append(self.listing.remote)
        cmd += [f"{u.new if with_ids else u.source}:{u.remote_ref}" for u in self.updates]
        return cmd


@dataclass
class PushPlan:
    remotes: list[RemotePush]
    local_only: list[str]  # rewritten branches and tags that no remote has


def _source_for(remote: str, remote_ref: str, before: dict[str, Ref]) -> str | None:
    if remote_ref.startswith(_HEADS):
        branch = remote_ref[len(_HEADS):]
        for candidate in (_HEADS + branch, f"{_REMOTES}{remote}/{branch}"):
            if candidate in before:
                return candidate
        return None
    return remote_ref if remote_ref in before else None


def _known_id(remote: str, remote_ref: str, before: dict[str, Ref]) -> str | None:
    """The id this repository last saw on the remote for that ref (before the rewrite)."""
    if remote_ref.startswith(_HEADS):
        tracking = before.get(f"{_REMOTES}{remote}/{remote_ref[len(_HEADS):]}")
        return tracking.oid if tracking else None
    tag = before.get(remote_ref)
    return tag.oid if tag else None


def plan_pushes(listings: list[Listing], before: dict[str, Ref], after: dict[str, Ref]) -> PushPlan:
    pushes = []
    published: set[str] = set()
    for listing in listings:
        push = RemotePush(listing)
        pushes.append(push)
        refs = listing.refs
        if refs is None:
            # Not reachable now: its remote-tracking branches are what is known; its tags are not.
            prefix = f"{_REMOTES}{listing.remote}/"
            refs = {_HEADS + name[len(prefix):]: ref.oid for name, ref in before.items()
                    if name.startswith(prefix) and name != prefix + "HEAD"}
            push.left_out.append(f"could not list {listing.remote} ({listing.error}): its tags are left out, "
                                 "its branches are taken from the remote-tracking refs")
        for remote_ref, remote_id in sorted(refs.items()):
            source = _source_for(listing.remote, remote_ref, before)
            if source is None:
                push.left_out.append(f"{remote_ref}: not in this repository (fetch it and clean again to rewrite it)")
                continue
            published.add(source)
            if before[source].oid == after.get(source, before[source]).oid:
                continue  # not rewritten: nothing to push
            known = _known_id(listing.remote, remote_ref, before)
            if known is None:
                push.left_out.append(f"{remote_ref}: never fetched from {listing.remote} here, so its history on "
                                     f"the remote was not rewritten (fetch it and clean again)")
                continue
            if known != remote_id:
                push.left_out.append(f"{remote_ref}: the remote has {remote_id[:12]}, not the {known[:12]} this "
                                     "repository rewrote: someone pushed since your last fetch (fetch, clean again)")
                continue
            push.updates.append(Update(remote_ref, source, after[source].oid, remote_id))
    local_only = sorted(name for name, ref in before.items()
                        if name.startswith((_HEADS, _TAGS)) and name not in published
                        and name in after and after[name].oid != ref.oid)
    return PushPlan(pushes, local_only)


def forge_notes(url: str) -> list[str]:
    """What the forge behind this URL still keeps after a force-push."""
    host = url.lower()
    if "github" in host:
        return ["GitHub keeps pull-request refs (refs/pull/*, which nobody can push to) and every uploaded "
                "LFS object until GitHub Support removes them: ask them, naming the rewritten repository"]
    if "gitlab" in host:
        return ["GitLab keeps the old objects until housekeeping: Settings > Repository > Repository cleanup "
                "with the commit map, then Settings > General > Advanced > Run housekeeping and prune; "
                "merge-request refs (refs/merge-requests/*) keep old commits"]
    if "huggingface" in host or "hf.co" in host:
        return ["Hugging Face keeps every pushed revision in storage: squash the history on the Hub "
                "(huggingface_hub's HfApi.super_squash_history) or delete and re-create the repository"]
    return ["the server may keep old objects (hidden refs, caches, LFS storage) until its own gc "
            "or its admin removes them"]


def next_steps(plan: PushPlan, lfs: bool) -> list[str]:
    lines = []
    if not plan.remotes:
        lines.append("No remote is configured: nothing to push.")
    for push in plan.remotes:
        name = push.listing.remote
        if push.updates:
            if lfs:
                lines.append(f"Push the LFS objects to {name}: git lfs push --all {shlex.quote(name)}")
            lines.append(f"Push to {name} ({len(push.updates)} ref(s), each only if {name} still has the id "
                         "the rewrite replaced):")
            lines.append("  " + shlex.join(push.command()))
        else:
            lines.append(f"Nothing of {name} was rewritten: nothing to push there.")
        lines += [f"  not pushed: {why}" for why in push.left_out]
        lines += [f"  {name} ({push.listing.url}): {note}" for note in forge_notes(push.listing.url)]
    if plan.local_only:
        lines.append(f"Rewritten here only, on no remote, not pushed: {', '.join(plan.local_only)}")
    return lines


def moved_since(push: RemotePush, root: Path) -> str | None:
    """Why this remote may not be pushed to now (its refs changed since the plan), or None."""
    now = list_remote(root, push.listing.remote)
    if now.refs is None:
        return f"cannot list {push.listing.remote} now ({now.error})"
    if push.listing.refs is not None and now.refs != push.listing.refs:
        changed = sorted(name for name in set(now.refs) | set(push.listing.refs)
                         if now.refs.get(name) != push.listing.refs.get(name))
        return f"{push.listing.remote} changed since the plan ({', '.join(changed[:5])})"
    return None
