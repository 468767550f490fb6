"""Big files checked out at HEAD survive the rewrite in the working tree.

filter-repo ends with ``git reset --hard`` and git-lfs checks out pointer files, either
of which would delete or replace the only local copy of a file the user still has. Each
such file is hard-linked (copied where links are impossible) into the git dir first and
put back afterwards: instant, and no second copy on disk.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from labhooks.clean.bfg import PLACEHOLDER_SUFFIX
from labhooks.git.process import git_output, run_git

HOLD_DIR = "labhooks-clean-held"


@dataclass
class HeldFiles:
    root: Path
    hold_dir: Path
    paths: list[str] = field(default_factory=list)  # relative to root, as git names them

    def _slot(self, index: int) -> Path:
        return self.hold_dir / str(index)


def hold(root: Path, gitdir: Path, paths: list[str]) -> HeldFiles:
    held = HeldFiles(root, gitdir / HOLD_DIR)
    if not paths:
        return held
    held.hold_dir.mkdir(exist_ok=True)
    for path in paths:
        source = root / path
        if not source.is_file() or source.is_symlink():
            continue
        slot = held._slot(len(held.paths))
        slot.unlink(missing_ok=True)
        try:
            os.link(source, slot)
        except OSError:
            shutil.copy2(source, slot)
        held.paths.append(path)
    return held


def put_back(held: HeldFiles) -> list[str]:
    """Return every held file to its place; the paths restored are returned."""
    restored = []
    for index, path in enumerate(held.paths):
        slot, target = held._slot(index), held.root / path
        if not os.path.lexists(slot):
            continue  # already put back
        if target.exists() and not target.is_symlink() and os.path.samefile(slot, target):
            slot.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(slot, target)
        restored.append(path)
    if held.hold_dir.is_dir() and not any(held.hold_dir.iterdir()):
        held.hold_dir.rmdir()
    return restored




def exclude_pattern(path: str) -> str | None:
    """A gitignore line that matches exactly this one path from the top of the tree, or
    None when gitignore syntax cannot express the name: a line ends at a newline, and git
    drops a carriage return before it whatever escapes it.

    The leading slash anchors it (so a leading ``#`` or ``!`` is no comment or negation);
    ``\\ * ? [`` are escaped; a trailing space is escaped, since git drops trailing spaces.
    """
    if "\n" in path or path.endswith("\r"):
        return None
    escaped = "".join("\\" + ch if ch in "\\*?[" else ch for ch in path)
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return "/" + escaped


@dataclass
class Excluded:
    file: Path
    paths: list[str]  # excluded now (or already were)
    inexpressible: list[str]  # could not be written as a pattern: reported, not written


def exclude(root: Path, paths: list[str], limit_text: str) -> Excluded:
    """Add each path to .git/info/exclude so ``git add -A`` does not put it straight back."""
    exclude_file = Path(git_output(["rev-parse", "--git-path", "info/exclude"], root))
    if not exclude_file.is_absolute():
        exclude_file = root / exclude_file
    patterns = {path: exclude_pattern(path) for path in paths}
    result = Excluded(exclude_file, [p for p, pat in patterns.items() if pat is not None],
                      [p for p, pat in patterns.items() if pat is None])
    if not result.paths:
        return result
    exclude_file.parent.mkdir(parents=True, exist_ok=True)
    existing = exclude_file.read_text("utf-8", "surrogateescape").splitlines() if exclude_file.exists() else []
    new = [pattern for pattern in (patterns[p] for p in result.paths) if pattern and pattern not in existing]
    if new:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        with open(exclude_file, "a", encoding="utf-8", errors="surrogateescape") as fh:
            if existing and existing[-1] != "":
                fh.write("\n")
            fh.write(f"# labhooks clean-large {stamp}: over {limit_text}, removed from history, kept on disk\n")
            fh.write("".join(line + "\n" for line in new))
    return result


def sync_index(root: Path) -> None:
    """Make the index match the rewritten HEAD without touching the working tree; then
    write out BFG's placeholder files, which are new in HEAD and so missing on disk."""
    run_git(["reset", "-q", "--mixed"], root, check=False)
    missing = [p for p in run_git(["ls-files", "-z", "--deleted"], root).stdout.split("\0")
               if p.endswith(PLACEHOLDER_SUFFIX)]
    if missing:
        run_git(["checkout-index", "-f", "-z", "--stdin"], root, input="".join(p + "\0" for p in missing))
