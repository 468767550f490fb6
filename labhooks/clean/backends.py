"""The history-rewriting tools: finding them, their exact command lines, running them.

Each backend is judged by the repository it leaves behind (see verify.py), never by
its exit status alone: BFG exits 0 after refusing to work, for one.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from labhooks.clean import bfg, children
from labhooks.errors import LabhooksError
from labhooks.git.process import git_executable, run_git
from labhooks.git.repo import git_dir
from labhooks.sizes import bigger_than_arg

BACKENDS = ("auto", "bfg", "filter-repo", "lfs")
BFG_JAR_ENV = "LABHOOKS_BFG_JAR"
BLOB_IDS_FILE = "labhooks-clean-blob-ids"  # in the git dir, for the time of the rewrite


@dataclass
class Job:
    """One rewrite: what goes and how, everything a backend's command line depends on."""

    max_bytes: int
    gitdir: Path
    blob_ids: list[str]  # every blob over the limit that is reachable (BFG protection decides about HEAD's)
    store_bytes: int = 0
    protect_head: bool = False
    keep_placeholders: bool = False

    @property
    def ids_file(self) -> Path:
        return self.gitdir / BLOB_IDS_FILE


@dataclass
class Backend:
    name: str
    launcher: list[str]  # the program (and java -jar JAR) before the backend's own options
    strips: bool = True  # False: big files become LFS pointers instead of disappearing
    jar: Path | None = None

    def command(self, job: Job) -> list[str]:
        if self.name == "bfg":
            cmd = list(self.launcher)
            if self.jar is not None:
                cmd.insert(1, bfg.heap_option(job.store_bytes))
            if job.keep_placeholders:
                cmd += ["--strip-blobs-bigger-than", bfg.size_arg(bigger_than_arg(job.max_bytes))]
            else:
                cmd += ["--strip-blobs-with-ids", str(job.ids_file)]
            cmd.append("--private")
            if not job.protect_head:
                cmd.append("--no-blob-protection")
            cmd.append(str(job.gitdir))  # BFG's <repo>: named, rather than trusting its working directory
            return cmd
        if self.name == "filter-repo":
            # --partial keeps filter-repo from deleting the origin remote, from turning
            # refs/remotes/origin/* into local branches and from its own gc; every ref is
            # still rewritten (it defaults to --refs --all). Nothing is pruned: a commit
            # that only added a big file stays, emptied, so every other commit keeps its place.
            return [
                *self.launcher, "--strip-blobs-bigger-than", bigger_than_arg(job.max_bytes),
                "--force", "--partial", "--prune-empty", "never", "--prune-degenerate", "never",
            ]
        if self.name == "lfs":
            # git-lfs reads --above as "at least", labhooks' own rule, in plain bytes ("b").
            return [*self.launcher, "migrate", "import", "--everything", "--skip-fetch", "--yes",
                    f"--above={job.max_bytes}b"]
        raise AssertionError(self.name)

    def prepare(self, root: Path, job: Job) -> None:
        if self.name == "bfg":
            if job.keep_placeholders:
                # BFG finds big blobs by size in packs only: a loose one would survive unseen.
                children.run_showing_output([git_executable(), "repack", "-a", "-d", "-q"], root)
            else:
                job.ids_file.write_text("".join(oid + "\n" for oid in job.blob_ids), encoding="ascii")
        elif self.name == "filter-repo":
            # A leftover marker from an earlier run makes filter-repo treat this run as a
            # continuation (and older than a day, stop to ask on stdin).
            marker = git_dir(root) / "filter-repo" / "already_ran"
            marker.unlink(missing_ok=True)

    def run(self, root: Path, job: Job) -> int:
        return children.run_showing_output(self.command(job), root)


def find_filter_repo() -> list[str] | None:
    """git-filter-repo on PATH, or beside this Python (a venv whose bin is not on PATH)."""
    found = shutil.which("git-filter-repo")
    if found:
        return [found]
    beside = Path(sys.executable).parent / "git-filter-repo"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    return None


def find_bfg(bfg_jar: str | None, environ=None) -> tuple[list[str], Path | None] | None:
    """(``java -jar JAR``, JAR) from --bfg-jar or LABHOOKS_BFG_JAR, else a ``bfg`` launcher on PATH.

    A jar that was named but is unusable is an error, not a reason to fall back silently.
    """
    environ = os.environ if environ is None else environ
    jar, source = (bfg_jar, "--bfg-jar") if bfg_jar else (environ.get(BFG_JAR_ENV) or None, BFG_JAR_ENV)
    if jar:
        jar_path = Path(jar).expanduser()
        if not jar_path.is_file():
            raise LabhooksError(f"BFG jar not found: {jar} (from {source})", 2)
        return bfg.java_launcher(jar_path), jar_path.resolve()
    launcher = shutil.which("bfg")
    return ([launcher], None) if launcher else None


def lfs_available() -> bool:
    return run_git(["lfs", "version"], check=False).returncode == 0


def resolve(name: str, bfg_jar: str | None = None, environ=None) -> Backend:
    """The backend to use; refuses (exit 2) when the chosen one is not installed."""
    if name not in BACKENDS:
        raise LabhooksError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}", 2)
    if name in ("auto", "bfg"):
        found = find_bfg(bfg_jar, environ)
        if found:
            return Backend("bfg", found[0], jar=found[1])
        if name == "bfg":
            raise LabhooksError(
                f"BFG not found: pass --bfg-jar PATH, set {BFG_JAR_ENV}, or put a bfg launcher on PATH", 2
            )
    elif bfg_jar:
        raise LabhooksError(f"--bfg-jar only applies to --backend bfg or auto, not {name}", 2)
    if name in ("auto", "filter-repo"):
        filter_repo = find_filter_repo()
        if not filter_repo:
            raise LabhooksError("git-filter-repo is not installed: pip install git-filter-repo", 2)
        return Backend("filter-repo", filter_repo)
    if not lfs_available():
        raise LabhooksError("git-lfs is not installed: install git-lfs (e.g. apt-get install git-lfs)", 2)
    return Backend("lfs", [git_executable(), "lfs"], strips=False)


def check_runtime(backend: Backend) -> None:
    """Ask the tool itself before anything changes (BFG: java and jar versions)."""
    if backend.name == "bfg":
        bfg.check(backend.launcher, backend.jar)


# Only these backends can read a repository whose objects are named by SHA-256.
SHA256_BACKENDS = ("lfs",)


def ensure_can_rewrite(backend: Backend, object_format: str) -> None:
    if object_format != "sha1" and backend.name not in SHA256_BACKENDS:
        raise LabhooksError(
            f"this repository names its objects with {object_format.upper()}, which {backend.name} cannot rewrite: "
            "--backend lfs can (it turns the big files into Git LFS pointers instead of removing them)", 2)
