"""Notebooks whose saved outputs are big, in commit mode: real git, real notebooks with
base64 PNG outputs, through labhooks-check-large; the printed fix run as pasted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from helpers import MiB, labhooks, notebook, text

from labhooks.guard.notebooks import output_bytes


def check(repo, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["labhooks-check-large", *args], cwd=repo.path, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def test_output_bytes_counts_the_outputs_not_the_code():
    plotted = notebook(images=3, side=400)
    measured = output_bytes(plotted.encode())
    stripped = notebook(images=0)
    # three 400x400 noise PNGs: 3 * 480,000 bytes, base64 4/3 of that
    assert 3 * 480_000 * 4 / 3 < measured < len(plotted) - len(stripped) + 1000
    assert output_bytes(stripped.encode()) == 0


def test_a_staged_notebook_with_big_outputs_gets_a_warning_naming_it_the_bytes_and_the_fix(repo):
    repo.write("analysis/yields.ipynb", notebook(images=3, side=400))  # about 1.9 MiB of outputs
    repo.write("analysis/small.ipynb", notebook(images=1, side=100))
    repo.git("add", "-A")
    proc = check(repo)
    assert proc.returncode == 0, text(proc)
    out = text(proc)
    assert "warning: 1 notebook(s) staged with 1.0 MiB or more of saved outputs" in out
    assert "analysis/yields.ipynb  1.8 MiB of outputs" in out
    assert "fix: nbstripout -- analysis/yields.ipynb && git add -- analysis/yields.ipynb" in out
    assert "jupyter nbconvert --clear-output --inplace -- analysis/yields.ipynb" in out
    assert "small.ipynb" not in out


def test_refusal_is_opt_in_by_option_or_git_config(repo):
    repo.write("yields.ipynb", notebook(images=3, side=400))
    repo.git("add", "-A")
    assert check(repo).returncode == 0
    proc = check(repo, "--notebook-max", "1.5M")
    assert proc.returncode == 1 and "1 notebook(s) staged with 1.5 MiB or more" in text(proc)
    assert "warning" not in text(proc)
    repo.git("config", "labhooks.notebookmax", "1M")
    assert check(repo).returncode == 1
    assert check(repo, "--notebook-max", "0").returncode == 0  # the option wins over git config
    repo.git("config", "--unset", "labhooks.notebookmax")
    repo.git("config", "labhooks.notebookwarn", "0")
    proc = check(repo)
    assert proc.returncode == 0 and text(proc) == ""
    proc = check(repo, "--notebook-warn", "lots")
    assert proc.returncode == 2 and text(proc).startswith("labhooks: --notebook-warn: invalid size 'lots'")


def test_the_staged_blob_is_measured_not_the_file_on_disk(repo):
    repo.write("run.ipynb", notebook(images=3, side=400))
    repo.git("add", "-A")
    repo.write("run.ipynb", notebook(images=0))  # stripped on disk, not added again
    assert "run.ipynb  1.8 MiB of outputs" in text(check(repo))
    repo.git("add", "-A")
    repo.write("run.ipynb", notebook(images=3, side=400))
    assert text(check(repo)) == ""


def test_a_notebook_that_is_not_json_gets_a_clear_word_not_a_traceback(repo):
    repo.write("broken.ipynb", '{"cells": [' + "x" * (2 * MiB))
    repo.write("binary.ipynb", b"\xff\xfe" * MiB)
    repo.git("add", "-A")
    proc = check(repo)
    assert proc.returncode == 0, text(proc)
    assert "labhooks: note: broken.ipynb is not valid JSON (Expecting value at line 1 column 12)" in proc.stderr
    assert "labhooks: note: binary.ipynb is not UTF-8 text" in proc.stderr
    assert "Traceback" not in text(proc)


def test_only_notebook_blobs_are_read(repo, tmp_path):
    """The commit hook reads blob contents only when a notebook is staged, in one process:
    git's own trace shows no `cat-file --batch` (contents; --batch-check is sizes) without one."""
    def contents_reads() -> int:
        trace = tmp_path / "trace"
        trace.unlink(missing_ok=True)
        proc = check(repo, env={"GIT_TRACE": str(trace)})
        assert proc.returncode == 0, text(proc)
        return sum(line.endswith(" cat-file --batch") for line in trace.read_text().replace("'", "").splitlines())

    for number in range(20):
        repo.write(f"data/{number}.csv", "a,b\n" * 1000)
    repo.git("add", "-A")
    assert contents_reads() == 0
    repo.write("notes.ipynb", notebook(images=3, side=400))
    repo.write("more/notes.ipynb", notebook(images=1, side=400))
    repo.git("add", "-A")
    assert contents_reads() == 1


NAMES = ["-rf.ipynb", "my results.ipynb", "it's \"done\".ipynb", "Ausbeute ü.ipynb", "two\nlines.ipynb"]


@pytest.mark.parametrize("tool", ["nbstripout", "jupyter-nbconvert"])
def test_the_printed_fix_strips_every_name_when_pasted(repo, tool):
    # both are test extras: a missing one is a broken install, not a reason to skip
    assert shutil.which(tool), f"{tool} is not installed: pip install -e '.[test]'"
    for number, name in enumerate(NAMES):
        repo.write(name, notebook(images=3, side=400, seed=number))
    repo.git("add", "-A")
    out = check(repo).stdout
    fixes = [line.split("fix: ", 1)[1] for line in out.splitlines() if "fix: " in line]
    assert len(fixes) == len(NAMES)
    for fix in fixes:
        first, alternative = fix.split("   # or: ")
        command = first if tool == "nbstripout" else alternative.rstrip(")")
        proc = subprocess.run(["bash", "-c", command], cwd=repo.path, capture_output=True, text=True)
        assert proc.returncode == 0, (command, text(proc))
    assert text(check(repo)) == ""
    for name in NAMES:
        assert output_bytes((repo.path / name).read_bytes()) == 0
        assert json.loads((repo.path / name).read_text())["cells"][0]["source"] == ["# Yields\n", "By batch."]


def test_labhooks_check_large_reads_notebooks_too(repo):
    repo.write("yields.ipynb", notebook(images=3, side=400))
    repo.git("add", "-A")
    proc = labhooks("check-large", "--notebook-max", "1M", cwd=repo.path)
    assert proc.returncode == 1 and "yields.ipynb  1.8 MiB of outputs" in text(proc)
