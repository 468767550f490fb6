import subprocess
import sys

import pytest
from helpers import labhooks

from labhooks import __version__
from labhooks.cli import COMMANDS, main


def run(*args, **kw):
    return labhooks(*args, **kw)


def test_version_through_python_m():
    proc = run("--version")
    assert proc.returncode == 0
    assert __version__ in proc.stdout


def test_console_script_matches_module(tmp_path):
    proc = subprocess.run(["labhooks", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and __version__ in proc.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name, capsys):
    assert main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage" in out.lower()


def test_unknown_command_is_a_usage_error():
    proc = run("no-such-command")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("entry, heavy", [
    # through click, as a test or another tool may call it
    ("labhooks.cli", ("polars", "git", "jinja2", "rich", "ruamel")),
    # the `labhooks` console script: check-large does not even start click
    ("labhooks.__main__", ("polars", "git", "jinja2", "rich", "ruamel", "click", "dataclasses")),
])
def test_guard_startup_does_not_import_heavy_modules(entry, heavy, repo):
    code = (
        "import sys\n"
        f"from {entry} import main\n"
        "code = main(['check-large', '--all'])\n"
        f"heavy = [m for m in {heavy!r} if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy), 'EXIT=%s' % code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY= EXIT=0\n" in proc.stdout, proc.stdout[-200:]


@pytest.mark.parametrize("args, message", [
    (["--all", "--max", "100Q"], "labhooks: "),  # refused after the store listing started
    (["--all", "extra-file"], "labhooks: FILE arguments are for commit mode"),
])
def test_check_large_all_refusals_are_one_line(args, message, repo):
    proc = run("check-large", *args, cwd=repo.path)
    assert proc.returncode == 2 and proc.stderr.startswith(message) and proc.stderr.count("\n") == 1, proc.stderr


def test_check_large_all_outside_a_repository(tmp_path):
    proc = run("check-large", "--all", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("labhooks: not a git repository") and proc.stderr.count("\n") == 1


def test_check_large_all_without_git_is_one_line(repo):
    import os

    proc = run("check-large", "--all", cwd=repo.path, env={**os.environ, "PATH": str(repo.path / "no-bin")})
    assert proc.returncode == 2
    assert proc.stderr == "labhooks: git is not installed or not on PATH: install git and try again\n"
