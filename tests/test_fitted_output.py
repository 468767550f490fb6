"""check-large's findings and clean-large's plan under a real pseudo-terminal: every line
fits the terminal, the biggest blob's file name and size stay in view, a fix command
folded over several lines still runs when pasted, and output that is not a terminal
(a pipe, a CI log) keeps every path whole."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import MiB, Repo, in_terminal, labhooks

from labhooks.fit import ELLIPSIS, cell_width, shell_words
from labhooks.sizes import format_size

# long unicode paths; one with blanks and a quote, so its fix needs quoting to paste
BIG_FILES = {
    "data/expériences/2024-春/run-with-a-rather-long-name-1/checkpoints/модель-весов.bin": 3 * MiB,
    "data/expériences/2024-春/run-with-a-rather-long-name-2/checkpoints/second weights'.bin": 2 * MiB + 512 * 1024,
    "results/figures/an-even-longer-folder-name-for-the-paper/final-draft/研究データ.h5": 2 * MiB,
    "tmp/dump.npy": 3 * MiB // 2,
}
TOP = next(iter(BIG_FILES))
TOP_NAME = TOP.rpartition("/")[2]
WIDTHS = [60, 80, 120]
BFG_JAR = os.environ.get("LABHOOKS_BFG_JAR", "")


def staged_lab(repo: Repo) -> Repo:
    repo.write("README.md", "# lab\n")
    repo.commit("first")
    for seed, (path, size) in enumerate(BIG_FILES.items(), 1):
        repo.big(path, size, seed=seed)
    repo.git("add", "-A")
    return repo


def assert_fits(out: str, columns: int) -> list[str]:
    """Every line fits, but one word too long for any line (a long quoted path): in a
    command it goes on a line of its own after a backslash (the shell joins it back), in
    a remark on a comment line of its own."""
    lines = out.splitlines()
    assert lines, out
    for i, line in enumerate(lines):
        if cell_width(line) > columns:
            word = line.strip().removesuffix(" \\")
            if word.startswith("# "):  # a remark after a command, as a shell comment
                assert len(word[2:].split()) == 1, line
                continue
            assert i and lines[i - 1].endswith(" \\"), f"line {i} is {cell_width(line)} cells:\n{out}"
            assert len(shell_words(word)) == 1, line
    return lines


def top_row(lines: list[str]) -> str:
    rows = [line for line in lines if format_size(BIG_FILES[TOP]) in line and TOP_NAME in line]
    assert rows, "\n".join(lines)
    return rows[0]


@pytest.mark.parametrize("columns", WIDTHS)
def test_commit_mode_fits(repo, columns):
    lab = staged_lab(repo)
    out = in_terminal(lab, columns, "check-large", "--max", "1M", "--warn", "0", *BIG_FILES, returncodes=(1,))
    lines = assert_fits(out, columns)
    row = top_row(lines)
    if TOP not in row:  # shortened in the middle: the start and the file name stay
        shown = row.strip().rsplit("  ", 1)[0].strip()
        head, _, tail = shown.partition(ELLIPSIS)
        assert TOP.startswith(head) and TOP.endswith(tail) and tail.endswith(TOP_NAME), row
    assert sum("fix:" in line for line in lines) == len(BIG_FILES)  # one fix per finding


@pytest.mark.parametrize("columns", [60, 80])
def test_a_folded_fix_runs_when_pasted(repo, columns):
    lab = staged_lab(repo)
    quoted = next(path for path in BIG_FILES if "'" in path)
    out = in_terminal(lab, columns, "check-large", "--max", "1M", "--warn", "0", quoted, returncodes=(1,))
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if "fix:" in line)
    block = [lines[start].split("fix:", 1)[1]]
    while block[-1].endswith("\\"):
        block.append(lines[start + len(block)])
    assert len(block) > 1, out  # it did not fit on one line, so it was folded
    pasted = "\n".join(block)  # what a terminal hands the shell when the lines are pasted
    subprocess.run(["bash", "-c", pasted], cwd=lab.path, check=True, capture_output=True)
    assert quoted not in lab.git("diff", "--cached", "--name-only", "-z").split("\0")
    assert (lab.path / quoted).exists()  # unstaged, not deleted


@pytest.mark.parametrize("columns", WIDTHS)
def test_all_mode_fits(repo, columns):
    lab = staged_lab(repo)
    lab.git("commit", "-q", "--no-verify", "-m", "add the checkpoints, the figures data and a dump of the "
            "intermediate arrays that nobody meant to commit")
    out = in_terminal(lab, columns, "check-large", "--all", "--max", "1M", "--warn", "0", returncodes=(1,))
    lines = assert_fits(out, columns)
    row = top_row(lines)
    assert lab.rev("HEAD")[:7] in row or columns == 60 and "introduced" not in row


def test_not_a_terminal_keeps_every_path_whole(repo):
    lab = staged_lab(repo)
    proc = labhooks("check-large", "--max", "1M", "--warn", "0", *BIG_FILES, cwd=lab.path, env={"COLUMNS": "60"})
    assert proc.returncode == 1
    for path in BIG_FILES:
        assert path in proc.stdout
    assert ELLIPSIS not in proc.stdout


def test_wide_keeps_every_path_whole_on_a_terminal(repo):
    lab = staged_lab(repo)
    out = in_terminal(lab, 60, "check-large", "--wide", "--max", "1M", "--warn", "0", *BIG_FILES, returncodes=(1,))
    for path in BIG_FILES:
        assert path in out
    assert ELLIPSIS not in out


def committed_lab(repo: Repo) -> Repo:
    lab = staged_lab(repo)
    lab.git("commit", "-q", "--no-verify", "-m", "add the checkpoints and the figures data")
    for path in BIG_FILES:
        lab.git("rm", "-q", "--cached", "--", path)
        (lab.path / path).unlink()
    lab.git("commit", "-q", "--no-verify", "-m", "drop them again")
    return lab


BACKENDS = [
    pytest.param("filter-repo", {"LABHOOKS_BFG_JAR": ""}, id="filter-repo"),
    pytest.param("bfg", {"LABHOOKS_BFG_JAR": BFG_JAR}, id="bfg", marks=pytest.mark.skipif(
        not (BFG_JAR and Path(BFG_JAR).is_file()), reason="LABHOOKS_BFG_JAR does not name a BFG jar")),
]


@pytest.mark.parametrize("backend,env", BACKENDS)
@pytest.mark.parametrize("columns", WIDTHS)
def test_clean_large_plan_fits(repo, backend, env, columns):
    lab = committed_lab(repo)
    before = lab.refs()
    out = in_terminal(lab, columns, "clean-large", "--max", "1M", "--dry-run", "--backend", backend, env=env)
    lines = assert_fits(out, columns)
    row = top_row(lines)
    records = json.loads(labhooks("scan", "--format", "json", "--top", "1", cwd=lab.path).stdout)
    assert records[0]["oid"][:7] in row  # the id, abbreviated at most to 7 digits
    assert "Dry run: nothing was changed." in out
    assert lab.refs() == before
    if TOP not in row:
        assert ELLIPSIS in row and f"/{TOP_NAME}" in row


def test_clean_large_plan_wide_and_piped_keep_paths_whole(repo):
    lab = committed_lab(repo)
    env = {"LABHOOKS_BFG_JAR": ""}
    wide = in_terminal(lab, 60, "clean-large", "--max", "1M", "--dry-run", "--backend", "filter-repo", "--wide",
                       env=env)
    piped = labhooks("clean-large", "--max", "1M", "--dry-run", "--backend", "filter-repo", cwd=lab.path,
                     env={**env, "COLUMNS": "60"}).stdout
    for out in (wide, piped):
        for path in BIG_FILES:
            assert path in out


def test_the_guard_imports_no_third_party_module(repo):
    """The fitting code sits on the hook path: importing and running the guard pulls in
    labhooks' own modules and the standard library only."""
    lab = staged_lab(repo)
    probe = (
        "import sys\n"
        "before = set(sys.modules)  # what the interpreter's site hooks loaded\n"
        "sys.argv = ['labhooks-check-large', '--max', '1M', '--warn', '0', *sys.argv[1:]]\n"
        "from labhooks.__main__ import check_large\n"
        "try:\n    check_large()\nexcept SystemExit:\n    pass\n"
        "stdlib = sys.stdlib_module_names\n"
        "print('\\n'.join(sorted({m.split('.')[0] for m in set(sys.modules) - before} - stdlib - {'labhooks', '__main__'})),"
        " file=sys.stderr)\n"
    )
    import pty

    for on_terminal in (False, True):  # fitted (a terminal) and whole (a pipe)
        master, slave = pty.openpty() if on_terminal else (None, subprocess.PIPE)
        proc = subprocess.run([sys.executable, "-c", probe, *BIG_FILES], cwd=lab.path, stdout=slave,
                              stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "60"})
        if on_terminal:
            shown = os.read(master, 65536).decode()
            os.close(master)
            os.close(slave)
        else:
            shown = proc.stdout
        assert "fix:" in shown, shown + proc.stderr
        assert proc.stderr.strip() == "", proc.stderr


@pytest.mark.skipif(shutil.which("nbstripout") is None, reason="nbstripout is not installed (the test extra)")
def test_a_notebook_finding_fits_and_its_folded_fix_runs(repo):
    from helpers import notebook

    name = "analysis/expériences-de-printemps/a-notebook-with-a-long-name/yields and plots.ipynb"
    repo.write("README.md", "# lab\n")
    repo.commit("first")
    repo.write(name, notebook(images=3, side=400))
    repo.git("add", "-A")
    out = in_terminal(repo, 60, "check-large", name)
    lines = assert_fits(out, 60)
    start = next(i for i, line in enumerate(lines) if "fix:" in line)
    block = [lines[start].split("fix:", 1)[1]]
    while block[-1].endswith("\\"):
        block.append(lines[start + len(block)])
    assert len(block) > 1 and "nbstripout" in block[0], out
    staged = repo.git("rev-parse", f":{name}")
    subprocess.run(["bash", "-c", "\n".join(block)], cwd=repo.path, check=True, capture_output=True)
    assert repo.git("rev-parse", f":{name}") != staged  # stripped and staged again


def test_a_remark_marker_inside_a_quoted_path_stays_in_the_command_it_keeps_whole():
    from labhooks.guard.report import _command_in

    line = "fix: git rm --cached -- 'a   # b.bin'   # the file stays on disk"
    assert _command_in(line) == "git rm --cached -- 'a   # b.bin'"
    assert _command_in("fix: git rm --cached -- plain.bin") == "git rm --cached -- plain.bin"
