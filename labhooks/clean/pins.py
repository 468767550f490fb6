"""Refs that rewriting tools mishandle, pinned under one namespace for the rewrite.

git-lfs leaves remote-tracking refs and the stash alone, filter-repo turns
``refs/remotes/origin/*`` into local branches, and older stash entries are not refs at
all (they live in the stash's reflog, which ``reflog expire --all`` would wipe). Copying
them to ``refs/labhooks-clean/...`` makes every backend rewrite them as ordinary refs;
afterwards the originals are set from the rewritten pins and the stash is rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from labhooks.clean.refs import list_refs, update_refs
from labhooks.git.process import run_git

PIN_NAMESPACE = "refs/labhooks-clean/"
_REMOTES = "refs/remotes/"


@dataclass
class Pins:
    remotes: dict[str, str] = field(default_factory=dict)  # pin ref -> remote-tracking ref
    stash: list[tuple[str, str]] = field(default_factory=list)  # (pin ref, message), newest first


def existing_pins(root: Path) -> list[str]:
    return list(list_refs(root, PIN_NAMESPACE))


def pin(root: Path, stash: list[tuple[str, str]]) -> Pins:
    pins = Pins()
    lines = []
    for name, ref in list_refs(root, _REMOTES).items():
        pinned = PIN_NAMESPACE + "remotes/" + name[len(_REMOTES):]
        pins.remotes[pinned] = name
        lines.append(f"update {pinned} {ref.oid}")
    for index, (oid, message) in enumerate(stash):
        pinned = f"{PIN_NAMESPACE}stash/{index}"
        pins.stash.append((pinned, message))
        lines.append(f"update {pinned} {oid}")
    update_refs(root, lines)
    return pins


def restore_remote_refs(root: Path, pins: Pins) -> None:
    current = list_refs(root, PIN_NAMESPACE)
    update_refs(root, [f"update {name} {current[pinned].oid}" for pinned, name in pins.remotes.items()
                       if pinned in current])


def rebuild_stash(root: Path, pins: Pins) -> None:
    """Recreate refs/stash and its reflog from the (rewritten) pinned entries, oldest first.

    Run after ``reflog expire --all``, which empties the stash's reflog.
    """
    if not pins.stash:
        return
    current = list_refs(root, PIN_NAMESPACE)
    run_git(["update-ref", "-d", "refs/stash"], root, check=False)
    for pinned, message in reversed(pins.stash):
        run_git(["stash", "store", "-m", message, current[pinned].oid], root)


def drop_pins(root: Path) -> None:
    update_refs(root, [f"delete {name}" for name in existing_pins(root)])
