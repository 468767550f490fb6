"""What the BFG Repo-Cleaner needs, and what it leaves, as read in its source (1.12 to 1.15).

* ``--strip-blobs-bigger-than`` swaps each stripped file for ``<name>.REMOVED.git-id`` (a
  100644 blob holding the old blob id in hex, no newline) and only sees blobs in packs.
  ``--strip-blobs-with-ids FILE`` drops the entries outright, reads loose objects too, and
  takes exactly the blobs labhooks planned: the default, so the trees come out as
  filter-repo's do. ``--keep-placeholders`` uses the size option, after a repack.
* ``--private`` keeps commit messages free of ``Former-commit-id:`` footers and
  ``[formerly ...]`` notes (filter-repo adds neither); a footer would also make the next
  BFG run start with a gc of its own.
* Protection (BFG's default, ``--protect-head`` here) freezes the root tree of HEAD's commit,
  and with it every commit that has the same root tree; the same blobs elsewhere go.
* Options are the same from 1.12 to 1.15; 1.15 is built for Java 11.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from labhooks.errors import LabhooksError

PLACEHOLDER_SUFFIX = ".REMOVED.git-id"
PLACEHOLDER_MODE = "100644"
OLDEST_TESTED = (1, 12)
_MiB = 1024 * 1024
_JAVA_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')
_BFG_VERSION = re.compile(r"\bbfg (\d+)\.(\d+)(?:\.(\d+))?")
_CLASS_VERSION = re.compile(r"class file version (\d+)")


def size_arg(git_size: str) -> str:
    """A size as BFG's ``ByteSize.parse`` reads it: always with a unit (B, K, M, G, powers of
    1024); a plain byte count, which it refuses ("Size unit is missing"), gets a B."""
    return git_size + "B" if git_size.isdigit() else git_size


def placeholder_blob(oid: str) -> str:
    """The id of the blob BFG writes in place of ``oid`` (SHA-1 repositories: all BFG reads)."""
    content = oid.encode()
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def java_major(version_text: str) -> int | None:
    """17 from 'openjdk version "17.0.15"', 8 from 'java version "1.8.0_292"'."""
    match = _JAVA_VERSION.search(version_text)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def bfg_version(output: str) -> tuple[int, ...] | None:
    match = _BFG_VERSION.search(output)
    return tuple(int(part) for part in match.groups() if part is not None) if match else None


def built_with_java(jar: Path) -> int | None:
    """The JDK that packed the jar (its manifest's Created-By), None when it does not say."""
    try:
        with zipfile.ZipFile(jar) as archive:
            manifest = archive.read("META-INF/MANIFEST.MF").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    for line in manifest.splitlines():
        if line.lower().startswith("created-by:"):
            return java_major('version "' + line.split(":", 1)[1].strip())
    return None


def java_needed(version: tuple[int, ...], created_by: int | None) -> int:
    """The oldest Java that runs this BFG.

    1.15 is compiled for Java 11. Older releases target Java 8, but a jar whose classes
    were compiled against a Java 9 or later class library (Created-By 9+) calls
    ``ByteBuffer`` methods that Java 8 lacks, and fails only in the middle of a rewrite.
    """
    if version >= (1, 15):
        return 11
    return 9 if created_by is not None and created_by >= 9 else 8


def _run_quietly(cmd: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LabhooksError(f"cannot run {cmd[0]}: {exc}", 2) from None


@dataclass
class Runtime:
    """A BFG that was asked for its version: a jar with the java that runs it, or a launcher."""

    launcher: list[str]
    version: tuple[int, ...]
    java: int | None = None  # major version of the java that runs the jar (None: a launcher)

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))


def check(launcher: list[str], jar: Path | None) -> Runtime:
    """Refuse (exit 2, nothing changed) a java too old for the jar, or something that is no BFG."""
    java = None
    if jar is not None:
        shown = _run_quietly([launcher[0], "-version"])
        java = java_major(shown.stderr + shown.stdout)
        if java is None:
            raise LabhooksError(f"cannot tell the version of {launcher[0]} (java -version printed nothing usable)", 2)
    probe = _run_quietly([*launcher, "--version"])
    said = probe.stdout + probe.stderr
    too_new = _CLASS_VERSION.search(said)
    if too_new:
        raise LabhooksError(
            f"{jar} needs Java {int(too_new.group(1)) - 44} or later, {launcher[0]} is Java {java}: "
            "install a newer Java runtime or put it first on PATH", 2)
    version = bfg_version(said)
    if version is None:
        raise LabhooksError(f"{' '.join(launcher)} --version did not print a BFG version: is it the BFG jar?", 2)
    if version[:2] < OLDEST_TESTED:
        raise LabhooksError(f"BFG {'.'.join(map(str, version))} is older than 1.12, the oldest labhooks works with: "
                            "use BFG 1.12 or later", 2)
    if jar is not None and java is not None:
        needed = java_needed(version, built_with_java(jar))
        if java < needed:
            raise LabhooksError(f"BFG {'.'.join(map(str, version))} in {jar} needs Java {needed} or later, "
                                f"{launcher[0]} is Java {java}: install a newer Java runtime or put it first on PATH",
                                2)
    return Runtime(launcher, version, java)


def heap_bytes(store_bytes: int, memory_bytes: int | None = None) -> int:
    """BFG's heap: twice the object store (its maps of old to new ids and JGit's pack windows
    grow with the history), at least 512 MiB, at most half the machine's memory."""
    if memory_bytes is None:
        try:
            memory_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (OSError, ValueError, AttributeError):
            memory_bytes = 4096 * _MiB
    wanted = max(512 * _MiB, 2 * store_bytes)
    return max(256 * _MiB, min(wanted, memory_bytes // 2)) // _MiB * _MiB


def heap_option(store_bytes: int) -> str:
    return f"-Xmx{heap_bytes(store_bytes) // _MiB}m"


def java_launcher(jar: Path) -> list[str]:
    java = shutil.which("java")
    if not java:
        raise LabhooksError("java is not installed or not on PATH: BFG needs a Java runtime", 2)
    return [java, "-jar", str(jar.resolve())]


def report_dir(root: Path) -> Path:
    """Where BFG writes its report (with object-id-map.old-new.txt): beside the work tree."""
    return root.parent / f"{root.name}.bfg-report"
