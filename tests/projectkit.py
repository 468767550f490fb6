"""Shared steps for the starter-project tests: the real CLI, and the rendered project's
own suite run in a subprocess with this interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def labhooks(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "labhooks.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def assert_no_template_residue(target: Path, max_file_size: int) -> list[Path]:
    """Every file rendered (no ``.jinja`` left, no unrendered markers) and small."""
    files = [p for p in target.rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.endswith(".jinja") or "{{" in str(p)]
    for path in files:
        if path.suffix in (".py", ".yaml", ".toml", ".md", ".cfg", ".txt"):
            text = path.read_text(encoding="utf-8")
            assert "{{" not in text and "{%" not in text, path
        assert path.stat().st_size < max_file_size, path  # only small files ship
    return files


def run_own_suite(target: Path, timeout: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH"))}
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"],
        cwd=target, env=env, capture_output=True, text=True, timeout=timeout,
    )
    tail = tests.stdout[-4000:] + tests.stderr[-2000:]
    assert tests.returncode == 0, tail
    assert " passed" in tests.stdout and "failed" not in tests.stdout, tail
