"""The launcher the check-large hooks run (hooks/labhooks-check-large, language: script):
the guard from this checkout under whatever python3 is on PATH, with nothing but the
standard library, one clear line for a Python too old, and never a labhooks found in the
folder a hook happens to run in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO_ROOT, MiB, add_then_delete, clone_pair, notebook, text

LAUNCHER = REPO_ROOT / "hooks" / "labhooks-check-large"  # sh: python3 -E -S hooks/check_large.py
GUARD = REPO_ROOT / "hooks" / "check_large.py"
PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"


def python_first_on_path(tmp_path: Path, python: Path) -> dict:
    """PATH with ``python`` as the first python3, as a user's own PATH would have it."""
    folder = tmp_path / "python-first"
    folder.mkdir(exist_ok=True)
    (folder / "python3").unlink(missing_ok=True)
    (folder / "python3").symlink_to(python)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def pyenv_python(version_prefix: str) -> Path:
    found = sorted(PYENV.glob(f"{version_prefix}.*/bin/python"))
    if not found:
        pytest.skip(f"no Python {version_prefix} under {PYENV}")
    return found[-1]


def launch(cwd: Path, *args: str, env: dict | None = None, input: bytes | None = None):
    return subprocess.run([str(LAUNCHER), *args], cwd=cwd, capture_output=True, input=input,
                          env=env or os.environ)


def imported_outside_stdlib(importtime_stderr: str) -> set[str]:
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip().split(".")[0]
            if name != "imported package" and name not in sys.stdlib_module_names and name != "labhooks":
                names.add(name)
    return names


def test_the_guard_imports_nothing_outside_the_standard_library(tmp_path):
    """Every mode, run isolated (-I: no PYTHONPATH, no user site; -S: no site-packages at
    all), imports labhooks' own modules and the standard library only: a third-party
    import would fail here, and -X importtime names every module that was loaded."""
    work, _ = clone_pair(tmp_path)

    def isolated(*args: str, stdin: str | None = None) -> set[str]:
        proc = subprocess.run([sys.executable, "-I", "-S", "-X", "importtime", str(GUARD), *args],
                              cwd=work.path, capture_output=True, text=True, input=stdin)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr[-2000:])  # each run finds something
        assert "labhooks.guard.main" in proc.stderr and "labhooks.guard.notebooks" in proc.stderr
        return imported_outside_stdlib(proc.stderr)

    work.write("yields.ipynb", notebook(images=3, side=400))
    work.big("model.ckpt", 101 * MiB)
    work.git("add", "-A")
    assert isolated("--notebook-max", "1M") == set()
    work.git("rm", "-q", "--cached", "model.ckpt")
    work.commit("notebook", no_verify=True)
    add_then_delete(work, no_verify=True)
    assert isolated("--all") == set()
    line = f"refs/heads/main {work.rev('HEAD')} refs/heads/main {'0' * 40}\n"
    assert isolated("--push", "--remote", "origin", stdin=line) == set()


def test_a_clean_commit_loads_no_process_or_pattern_machinery(tmp_path):
    """The commit hook's common case (every staged file small) starts git with
    posix_spawn and parses its options and sizes by hand: subprocess, re, argparse and
    contextlib, a tenth of its time when imported (docs/guard.md), stay unloaded."""
    work, _ = clone_pair(tmp_path)
    for i in range(50):
        work.write(f"src/m{i}.py", f"VALUE = {i}\n")
    work.git("add", "-A")
    names = work.git("diff", "--cached", "--name-only").splitlines()
    proc = subprocess.run([sys.executable, "-I", "-S", "-X", "importtime", str(GUARD), "--max=50M", *names],
                          cwd=work.path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
              if line.startswith("import time:") and "|" in line}
    assert "labhooks.guard.checks" in loaded
    assert loaded.isdisjoint({"subprocess", "re", "argparse", "contextlib", "threading"}), \
        sorted(loaded & {"subprocess", "re", "argparse", "contextlib", "threading"})


@pytest.mark.parametrize("version", ["2.7", "3.6", "3.9"])
def test_a_python3_too_old_gets_one_clear_line(tmp_path, repo, version):
    env = python_first_on_path(tmp_path, pyenv_python(version))
    proc = launch(repo.path, env=env)
    assert proc.returncode == 2
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and proc.stdout == b""
    assert lines[0].startswith(f"labhooks: the check-large hook needs Python 3.10 or newer; python3 on PATH is {version}.")


def test_python_3_10_runs_the_guard(tmp_path, repo):
    env = python_first_on_path(tmp_path, pyenv_python("3.10"))
    repo.big("model.ckpt", 101 * MiB)
    repo.write("yields.ipynb", notebook(images=3, side=400))
    repo.git("add", "-A")
    proc = launch(repo.path, env=env)
    assert proc.returncode == 1, text(proc)
    out = proc.stdout.decode()
    assert "model.ckpt  101.0 MiB" in out and "yields.ipynb  1.8 MiB of outputs" in out


def test_a_labhooks_folder_where_the_hook_runs_is_never_imported(repo):
    """A repository that holds a package called labhooks (this one's own clones do), with
    PYTHONPATH naming the current folder: the launcher still runs its own checkout."""
    repo.write("labhooks/__init__.py", "raise SystemExit('the wrong labhooks was imported')\n")
    repo.write("labhooks/__main__.py", "raise SystemExit('the wrong labhooks was imported')\n")
    repo.big("data.bin", 101 * MiB)
    repo.git("add", "-A")
    for pythonpath in (".", str(repo.path), ""):
        proc = launch(repo.path, env={**os.environ, "PYTHONPATH": pythonpath})
        assert proc.returncode == 1, text(proc)
        assert "data.bin  101.0 MiB" in proc.stdout.decode()


def test_no_python3_on_path_gets_one_clear_line(tmp_path, repo):
    empty = tmp_path / "empty-path"
    empty.mkdir()
    proc = subprocess.run(["/bin/sh", str(LAUNCHER)], cwd=repo.path, capture_output=True, text=True,
                          env={**os.environ, "PATH": str(empty)})
    assert proc.returncode == 2
    assert proc.stderr == "labhooks: the check-large hook needs python3 (3.10 or newer) on PATH\n"
