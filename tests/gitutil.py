"""A thin driver for real git repositories in tests (real git, nothing mocked)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

MiB = 1024 * 1024


class Repo:
    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def init(cls, path: Path, *args: str) -> "Repo":
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "-q", *args, str(path)], check=True)
        return cls(path)

    def git(self, *args: str, check: bool = True, input: str | None = None, env: dict | None = None) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=self.path, capture_output=True, text=True, input=input,
            env={**os.environ, **(env or {})},
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def write(self, rel: str, data: str | bytes = "x\n") -> Path:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        target.write_bytes(data)
        return target

    def big(self, rel: str, size: int, seed: int = 0) -> Path:
        """A file of ``size`` bytes that git stores at full size: sparse zeros compress to
        nothing in a pack but a loose blob's ``cat-file -s`` is still the full size.
        A distinct header byte pattern per seed keeps blobs distinct."""
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as fh:
            fh.write(f"seed={seed}\n".encode())
            fh.truncate(size)
        return target

    def commit(self, message: str = "commit", *paths: str, no_verify: bool = False) -> str:
        """``no_verify`` skips the commit hooks, as a commit made before they were installed would."""
        self.git("add", "-A", *(["--", *paths] if paths else []))
        self.git("commit", "-q", "--allow-empty", *(["--no-verify"] if no_verify else []), "-m", message)
        return self.rev("HEAD")

    def rev(self, name: str) -> str:
        return self.git("rev-parse", name).strip()

    def refs(self) -> dict[str, str]:
        out = self.git("for-each-ref", "--format=%(refname) %(objectname)")
        return dict(line.split(" ", 1) for line in out.splitlines() if line)


def bare(path: Path, *args: str) -> Repo:
    return Repo.init(path, "--bare", *args)
