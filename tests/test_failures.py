"""When the world misbehaves, every command fails the same way: one line on stderr, the
documented exit code (2 environment, 130 interrupt, 141 closed pipe), never a traceback.

Each case is real: output to /dev/full, a pipe whose reader is gone, a PATH without git,
a target path that cannot be created, SIGINT to a waiting process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import MiB, Repo, labhooks, make_book

from labhooks.errors import EXIT_CLOSED_PIPE, EXIT_INTERRUPTED, EXIT_USAGE


@pytest.fixture
def world(tmp_path) -> dict:
    """A repository with a 2 MiB blob in its history and a minutes book beside it, so that
    every command has something to print."""
    repo = Repo.init(tmp_path / "work")
    repo.write("README.md", "hello\n")
    repo.big("data/big.bin", 2 * MiB)
    repo.commit("add big.bin", no_verify=True)
    book = make_book(tmp_path / "book")
    book.write("papers/unlisted.md", "# A minute nobody listed\n")  # check-book reports it
    (tmp_path / "plain-file").write_text("not a folder\n")
    return {"repo": repo.path, "book": book.path, "tmp": tmp_path}


# (command line, where it runs); every one of them prints something on success
PRINTING = {
    "check-large": (["check-large", "--max", "1M"], "repo"),
    "check-large --all": (["check-large", "--all", "--max", "1M"], "repo"),
    "scan": (["scan"], "repo"),
    "scan json": (["scan", "--format", "json"], "repo"),
    "clean-large --dry-run": (["clean-large", "--max", "1M", "--dry-run"], "repo"),
    "install-hooks": (["install-hooks"], "repo"),
    "check-book": (["check-book"], "book"),
    "new-minute --dry-run": (["new-minute", "Deep Sets", "--kind", "paper", "--dry-run"], "book"),
    "new-book --dry-run": (["new-book", "{tmp}/new-book", "--dry-run"], "tmp"),
    "new-paper --dry-run": (["new-paper", "{tmp}/new-paper", "--dry-run"], "tmp"),
    "new-project --dry-run": (["new-project", "yield-model", "{tmp}/proj", "--dry-run"], "tmp"),
    "new-project --list": (["new-project", "--list"], "tmp"),
    "--help": (["--help"], "tmp"),
    "--version": (["--version"], "tmp"),
}


def run(world: dict, name: str, **kw) -> subprocess.CompletedProcess:
    args, where = PRINTING[name]
    return labhooks(*[a.format(tmp=world["tmp"]) for a in args], cwd=world[where], **kw)


def one_line(stderr: str) -> bool:
    return stderr.count("\n") == 1 and stderr.startswith("labhooks: ") and "Traceback" not in stderr


@pytest.mark.parametrize("name", PRINTING)
def test_a_full_disk_is_one_line_and_exit_2(world, name):
    with open("/dev/full", "w") as full:
        proc = run(world, name, stdout=full)
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert one_line(proc.stderr) and "No space left on device" in proc.stderr, proc.stderr


@pytest.mark.parametrize("name", PRINTING)
def test_a_closed_pipe_ends_quietly_with_141(world, name):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written, as after `| head -0`
    try:
        proc = run(world, name, stdout=write_end)
    finally:
        os.close(write_end)
    assert proc.returncode == EXIT_CLOSED_PIPE, proc.stderr
    assert proc.stderr == ""


NEEDS_GIT = ["check-large", "check-large --all", "scan", "clean-large --dry-run", "install-hooks", "check-book"]


@pytest.mark.parametrize("name", NEEDS_GIT)
def test_no_git_on_path_is_one_line_and_exit_2(world, name, tmp_path):
    bare_path = tmp_path / "empty-bin"
    bare_path.mkdir()
    env = {"PATH": str(bare_path)}
    proc = run(world, name, env=env)
    if name == "check-book":  # reads files without git, and says what it found
        assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr
        return
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert one_line(proc.stderr) and "git" in proc.stderr, proc.stderr


@pytest.mark.parametrize("args", [
    ["new-book", "{tmp}/plain-file/book"],
    ["new-paper", "{tmp}/plain-file/paper"],
    ["new-project", "yield-model", "{tmp}/plain-file/proj"],
    ["clean-large", "--max", "1M", "--yes", "--backup-dir", "{tmp}/plain-file/backups"],
], ids=["new-book", "new-paper", "new-project", "clean-large backup"])
def test_a_path_that_cannot_be_created_is_one_line_naming_it(world, args):
    args = [a.format(tmp=world["tmp"]) for a in args]
    cwd = world["repo"] if args[0] == "clean-large" else world["tmp"]
    before = sorted(p.name for p in Path(world["tmp"]).iterdir())
    proc = labhooks(*args, cwd=cwd)
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert one_line(proc.stderr), proc.stderr
    assert "plain-file" in proc.stderr and ".labhooks-" not in proc.stderr, proc.stderr
    assert sorted(p.name for p in Path(world["tmp"]).iterdir()) == before


def test_install_hooks_into_a_hooks_folder_that_cannot_be_created(world):
    repo = Repo(world["repo"])
    repo.git("config", "core.hooksPath", str(world["tmp"] / "plain-file" / "hooks"))
    proc = labhooks("install-hooks", cwd=repo.path)
    assert proc.returncode == EXIT_USAGE and one_line(proc.stderr), proc.stderr
    assert "plain-file/hooks" in proc.stderr


def test_a_bad_size_setting_is_named_as_the_setting(world):
    repo = Repo(world["repo"])
    repo.git("config", "labhooks.maxsize", "0")
    proc = labhooks("check-large", "--all", cwd=repo.path)
    assert proc.returncode == EXIT_USAGE and one_line(proc.stderr), proc.stderr
    assert "git config labhooks.maxsize" in proc.stderr and "--max" not in proc.stderr


@pytest.mark.parametrize("entry", [["-m", "labhooks", "check-large"], ["-m", "labhooks.cli", "check-large"]],
                         ids=["entry point", "click group"])
def test_ctrl_c_is_one_line_and_exit_130(world, entry):
    # --push with an open, silent stdin waits for the pre-push hook's input: interrupt it there
    proc = subprocess.Popen([sys.executable, *entry, "--push"], cwd=world["repo"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    proc.stdin.close()
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert err == "labhooks: interrupted\n"
