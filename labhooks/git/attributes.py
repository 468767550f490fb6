"""Attributes as a commit's own ``.gitattributes`` files set them, for many paths at once.

What matters for a blob in a history is what the commit that holds it says, not the
working tree: a file committed while ``.gitattributes`` said ``filter=lfs`` was meant to
be a pointer even if a later commit dropped the rule. ``git check-attr --source`` reads a
tree directly, but only from git 2.40 on; before that the same answer comes from a
scratch index holding that commit's tree (``read-tree`` then ``check-attr --cached``).
Either way every path of one commit goes through one ``check-attr`` process.

Only the files in the tree count: system-wide and per-user attribute files are left out,
since no clone of the repository sees them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from labhooks.git.process import NO_FETCH_ENV, GitError, last_line, run_git

# .gitattributes at the top and in any folder below it (a pathspec's '*' crosses '/')
ATTRIBUTES_PATHSPEC = (".gitattributes", "*/.gitattributes")
ATTRIBUTES_NAME = ".gitattributes"

_CHECK_ATTR_SOURCE = (2, 40)  # git check-attr --source=<tree-ish>
# the tree's own files only: no /etc/gitattributes, no core.attributesFile
_TREE_ONLY_ENV = {**NO_FETCH_ENV, "GIT_ATTR_NOSYSTEM": "1"}
_TREE_ONLY_CONFIG = ["-c", f"core.attributesFile={os.devnull}"]
# git grep's exit status when nothing matched
_NO_MATCH = 1
# commits per git grep: far under any argument-length limit
_GREP_BATCH = 500

_version: tuple[int, ...] | None = None


def git_version(cwd=None) -> tuple[int, ...]:
    """git's version as numbers (``git version 2.39.5`` -> ``(2, 39, 5)``), asked once."""
    global _version
    if _version is None:
        words = run_git(["version"], cwd).stdout.split()
        numbers = words[2].split(".") if len(words) > 2 else []
        parsed = []
        for number in numbers:
            if not number.isdigit():
                break
            parsed.append(int(number))
        _version = tuple(parsed)
    return _version


def commits_whose_attributes_mention(commits: Iterable[str], needle: str, cwd=None) -> set[str]:
    """The commits among ``commits`` whose tree holds a ``.gitattributes`` file, at any
    depth, containing ``needle``: one ``git grep`` per batch of commits, reading only
    those files' blobs."""
    commits = list(dict.fromkeys(commits))
    found: set[str] = set()
    for start in range(0, len(commits), _GREP_BATCH):
        batch = commits[start:start + _GREP_BATCH]
        proc = run_git(["grep", "-l", "-z", "-F", "--no-color", "--no-textconv", "-e", needle, *batch,
                        "--", *ATTRIBUTES_PATHSPEC], cwd, check=False, env=NO_FETCH_ENV)
        if proc.returncode == _NO_MATCH:
            continue
        if proc.returncode != 0:
            raise GitError(f"git grep failed: {last_line(proc.stderr, f'exit {proc.returncode}')}")
        # each hit is "<commit>:<path>"; the commit id holds no ':'
        found.update(hit.split(":", 1)[0] for hit in proc.stdout.split("\0") if hit)
    return found


def attribute_at(source: str, paths: Iterable[bytes], attribute: str, cwd=None) -> dict[bytes, bytes]:
    """``attribute``'s value for each path as commit ``source``'s ``.gitattributes`` files
    set it (b"unspecified", b"set", b"unset" or the value), from one ``check-attr``."""
    paths = list(dict.fromkeys(paths))
    if not paths:
        return {}
    payload = b"".join(path + b"\0" for path in paths)
    if git_version(cwd) >= _CHECK_ATTR_SOURCE:
        out = _check_attr(["--source", source], attribute, payload, cwd, None)
    else:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="labhooks-attr-") as scratch:
            index = {"GIT_INDEX_FILE": os.path.join(scratch, "index")}
            proc = run_git(["read-tree", source], cwd, check=False, env={**_TREE_ONLY_ENV, **index})
            if proc.returncode != 0:
                raise GitError(f"git read-tree {source} failed: {last_line(proc.stderr, f'exit {proc.returncode}')}")
            out = _check_attr(["--cached"], attribute, payload, cwd, index)
    fields = out.split(b"\0")
    # "<path>\0<attribute>\0<value>\0" per path
    return {fields[i]: fields[i + 2] for i in range(0, len(fields) - 2, 3)}


def _check_attr(where: list[str], attribute: str, payload: bytes, cwd, extra_env: dict | None) -> bytes:
    env = {**_TREE_ONLY_ENV, **(extra_env or {})}
    proc = run_git([*_TREE_ONLY_CONFIG, "check-attr", *where, "--stdin", "-z", attribute], cwd,
                   input=payload, text=False, check=False, env=env)
    if proc.returncode != 0:
        raise GitError(f"git check-attr failed: {last_line(proc.stderr, f'exit {proc.returncode}')}")
    return proc.stdout
