"""The tests' one set of helpers: real git repositories (nothing mocked), one way to run
the CLI, real pushes and remotes, real pre-commit, and the lab's minutes book."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

MiB = 1024 * 1024
# the checkout under test
REPO_ROOT = Path(__file__).resolve().parent.parent


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


def labhooks(*args: str, cwd: Path | str | None = None, input: bytes | str | None = None,
             env: dict | None = None, timeout: float | None = None, python: Path | str = sys.executable,
             stdin=None, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    """The real CLI as a user types it (``python -m labhooks ARGS``), output as text.

    ``python``: another interpreter (an installed wheel's); ``stdin``/``stdout``: a file or
    descriptor instead of ``input`` and a captured stdout (a terminal, /dev/full, a pipe)."""
    proc = subprocess.run(
        [str(python), "-m", "labhooks", *args], cwd=cwd,
        input=input.encode() if isinstance(input, str) else input, stdin=stdin, stdout=stdout,
        stderr=subprocess.PIPE, env={**os.environ, **(env or {})}, timeout=timeout,
    )
    if proc.stdout is not None:
        proc.stdout = proc.stdout.decode("utf-8", "replace")
    proc.stderr = proc.stderr.decode("utf-8", "replace")
    return proc


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def in_terminal(repo: Repo, columns: int, *args: str, env: dict | None = None, returncodes=(0,)) -> str:
    """``labhooks ARGS`` with stdout on a real pseudo-terminal ``columns`` wide (an empty
    NO_COLOR or COLUMNS in ``env`` counts as unset, for Python and rich alike); what the
    terminal showed, without colours."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    import threading

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    done: dict = {}
    environment = {"COLUMNS": str(columns), "TERM": "xterm-256color", **(env or {})}

    def run() -> None:
        done["proc"] = labhooks(*args, cwd=repo.path, env=environment, stdout=slave, timeout=120)

    worker = threading.Thread(target=run)
    worker.start()
    chunks = []
    try:
        # read while it writes: a terminal holds only a few KiB before the writer blocks
        while worker.is_alive() or select.select([master], [], [], 0)[0]:
            if select.select([master], [], [], 0.05)[0]:
                chunks.append(os.read(master, 65536))
    finally:
        worker.join()
        os.close(slave)
        os.close(master)
    proc = done["proc"]
    assert proc.returncode in returncodes, proc.stderr
    return _ANSI.sub("", b"".join(chunks).decode("utf-8")).replace("\r\n", "\n")


def text(proc: subprocess.CompletedProcess) -> str:
    return (proc.stdout or "") + proc.stderr


# -- pushes, remotes, hooks ---------------------------------------------------------


def push(repo: Repo, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """A real ``git push``; hooks run as they would for a user."""
    return subprocess.run(
        ["git", "push", "--porcelain", *args], cwd=repo.path, capture_output=True, text=True,
        env={**os.environ, **(env or {})},
    )


def clone_pair(tmp_path: Path, *init_args: str) -> tuple[Repo, Repo]:
    """A work repository with one small commit and an empty bare remote called origin."""
    remote = bare(tmp_path / "remote.git", *init_args)
    work = Repo.init(tmp_path / "work", *init_args)
    work.git("remote", "add", "origin", str(remote.path))
    work.write("README.md", "hello\n")
    work.commit("initial")
    return work, remote


def add_then_delete(work: Repo, rel: str = "data/cache.db", size: int = 101 * MiB, seed: int = 1,
                    no_verify: bool = False) -> str:
    """Commit a big file, then a commit that deletes it: HEAD is clean, history is not.
    With ``no_verify`` the commit hooks never see it: only a push-time check can catch it."""
    work.big(rel, size, seed=seed)
    added = work.commit(f"add {rel}", no_verify=no_verify)
    work.git("rm", "-q", "--", rel)
    work.commit(f"remove {rel}", no_verify=no_verify)
    return added


def partial_clone(src: Repo, target: Path) -> Repo:
    """A blob-less clone of ``src``: any blob it lacks would be fetched on first read, which
    the guard must never cause."""
    src.git("config", "uploadpack.allowFilter", "true")
    subprocess.run(["git", "clone", "-q", "--filter=blob:none", f"file://{src.path}", str(target)], check=True)
    return Repo(target)


def partial_clone_missing_a_dropped_blob(tmp_path: Path) -> Repo:
    """A partial clone whose history holds a 3 MiB blob, deleted again, that it never fetched."""
    src = Repo.init(tmp_path / "src")
    src.write("README.md")
    add_then_delete(src, "old.bin", 3 * MiB)
    return partial_clone(src, tmp_path / "clone")


def without_labhooks_on_path() -> dict:
    """An environment whose PATH finds no labhooks, as on a machine without it."""
    return {"PATH": os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                    if not os.path.isfile(os.path.join(p, "labhooks-check-large")))}


def install_hook_without_labhooks(repo: Repo) -> dict:
    """Install the pre-push hook pointed at a Python that does not exist and return an
    environment without labhooks on PATH: the hook is left with what git alone can prove."""
    from labhooks.guard import install

    install.install(repo.path, python=str(repo.path.parent / "gone/python"))
    return without_labhooks_on_path()


def precommit(repo: Repo, home: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    """Real ``pre-commit ARGS`` in ``repo``, its environments kept under ``home``."""
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=repo.path, capture_output=True,
                          text=True, check=check, env={**os.environ, "PRE_COMMIT_HOME": str(home)})


def hooks_config(source, rev: str, commit_args: str = "", push_args: str = "") -> str:
    """A .pre-commit-config.yaml (pre-commit's and prek's) using the guard's two hooks."""
    return (
        "repos:\n"
        f"- repo: {source}\n"
        f"  rev: {rev}\n"
        "  hooks:\n"
        "  - id: check-large\n"
        + (f"    args: [{commit_args}]\n" if commit_args else "")
        + "  - id: check-large-push\n"
        + (f"    args: [{push_args}]\n" if push_args else "")
    )



def png(side: int, seed: int = 0) -> bytes:
    """A real PNG of side x side noisy RGB pixels (noise: it compresses as little as a plot
    with photographs in it, so its size is predictable: about 3 * side**2 bytes)."""
    import random
    import struct
    import zlib

    rng = random.Random(seed)
    rows = b"".join(b"\0" + rng.randbytes(3 * side) for _ in range(side))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def notebook(images: int = 0, side: int = 400, seed: int = 0) -> str:
    """An nbformat 4.5 notebook as Jupyter saves it: one code cell per plot, each with its
    image output (base64 PNG), plus a markdown cell; ``images=0``: outputs stripped."""
    import base64

    cells = [{"cell_type": "markdown", "id": "intro", "metadata": {}, "source": ["# Yields\n", "By batch."]}]
    for number in range(max(images, 1)):
        outputs = [] if not images else [{
            "output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(png(side, seed * 1000 + number)).decode(),
                     "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
        }]
        cells.append({"cell_type": "code", "id": f"plot{number}", "metadata": {},
                      "execution_count": number + 1 if images else None,
                      "source": [f"plot_batch({number})"], "outputs": outputs})
    document = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
                "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                             "language_info": {"name": "python"}}}
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def copy_worktree(source: Path, target: Path) -> None:
    """Copy the files git would see in ``source`` (tracked and untracked, not ignored)."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=source, capture_output=True, check=True,
    ).stdout
    for rel in filter(None, listing.decode("utf-8", "surrogateescape").split("\0")):
        src = source / rel
        if not src.is_file():
            continue  # deleted in the working tree but still in the index
        dst = target / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)


# -- rendered projects -----------------------------------------------------------------


def file_contents(folder: Path) -> dict:
    """Every file under ``folder`` (``.git`` included) -> its bytes."""
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


# -- the lab's minutes book -------------------------------------------------------------

QUARTO_YML = """\
project:
  type: book
  output-dir: _book

# Seminar minutes of the lab: tools first, then papers.
book:
  title: "Seminar minutes"
  author: 'The Lab'
  chapters:
    - index.qmd
    - part: "Tools"
      chapters:
        - tools/git_basics.qmd
        - tools/slurm.md
        - tools/containers/apptainer.qmd
    - part: Papers
      chapters:
        - papers/attention.md
        - "papers/graph_networks.ipynb"
    - references.qmd

bibliography: references.bib

format:
  html:
    theme: cosmo
"""

# The same book written other ways people write YAML; each must still get a one-line diff.
LAYOUTS = {
    "lab": QUARTO_YML,
    # the papers part ends the chapter list: a blank line and a comment follow its last item
    "papers-last": QUARTO_YML.replace("    - references.qmd\n", "").replace(
        "\nbibliography:", "\n# references are appended by Quarto\nbibliography:"
    ),
    # dashes flush with their key, four-space mappings
    "indentless": """\
project:
    type: book

book:
    title: Seminar minutes
    chapters:
    - index.qmd
    - part: Tools
      chapters:
      - tools/git_basics.qmd
      - tools/slurm.md
      - tools/containers/apptainer.qmd
    - part: 'Papers'
      chapters:
      - papers/attention.md   # the first one
      - papers/graph_networks.ipynb
    - references.qmd
bibliography: references.bib
""",
    # a tag PyYAML does not know (Quarto evaluates !expr in R documents)
    "tagged": QUARTO_YML + "\nexecute:\n  freeze: !expr auto\n",
    # a comment at the end of the last paper's line: ruamel would carry it to the new line
    "eol-comment": QUARTO_YML.replace(
        '        - "papers/graph_networks.ipynb"\n', '        - "papers/graph_networks.ipynb"  # latest\n'
    ),
    # Windows line ends
    "crlf": QUARTO_YML.replace("\n", "\r\n"),
    # commented-out entries after the last paper
    "commented-tail": QUARTO_YML.replace(
        '        - "papers/graph_networks.ipynb"\n',
        '        - "papers/graph_networks.ipynb"\n        # - papers/draft.md\n\n',
    ),
}

BIB = """\
@article{vaswani2017,
  author = {Vaswani, Ashish and others},
  title  = {Attention Is All You Need},
  year   = {2017}
}

@article{battaglia2018,
  author = {Battaglia, Peter W. and others},
  title  = {Relational inductive biases, deep learning, and graph networks},
  year   = {2018}
}
"""

PAPER_MD = """\
---
author: Ada Lovelace
date: 2024-03-01
bibliography: ../references.bib
---

# Attention Is All You Need [@vaswani2017]

## Why did I choose this paper?

![The architecture](attention/architecture.png)

## References
"""

NOTEBOOK = {
    "cells": [
        {"cell_type": "raw", "metadata": {}, "source": [
            "---\n", "author: Grace Hopper\n", "date: 2024-04-12\n", "bibliography: ../references.bib\n", "---\n"]},
        {"cell_type": "markdown", "metadata": {}, "source": ["# Graph networks [@battaglia2018]\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": ["print(1)\n"]},
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}

FILES = {
    "index.qmd": "# Preface {.unnumbered}\n\nOur seminar minutes.\n",
    "references.qmd": "# References {.unnumbered}\n\n::: {#refs}\n:::\n",
    "references.bib": BIB,
    "tools/git_basics.qmd": (
        "---\nauthor: Ada Lovelace\n---\n\n# Git basics\n\n```{python}\nprint('cells are fine in .qmd')\n```\n"
    ),
    "tools/slurm.md": "---\nauthor: Alan Turing\n---\n\n# Slurm\n\n## Usage\n\n```bash\nsbatch job.sh\n```\n",
    "tools/containers/apptainer.qmd": "---\nauthor: Alan Turing\n---\n\n# Apptainer\n",
    "papers/attention.md": PAPER_MD,
    "papers/graph_networks.ipynb": json.dumps(NOTEBOOK, indent=1) + "\n",
    ".gitignore": "_book/\n.quarto/\n*_files/\n*.html\n.DS_Store\n**/*.quarto_ipynb\n",
}
BINARY_FILES = {"papers/attention/architecture.png": b"\x89PNG\r\n\x1a\n fake image"}


def make_book(path: Path, layout: str = "lab", commit: bool = True) -> Repo:
    """The lab-like book as a git repository at ``path`` (committed unless asked not to)."""
    repo = Repo.init(path)
    quarto = LAYOUTS[layout]
    (repo.path / "_quarto.yml").write_bytes(quarto.encode("utf-8"))
    for rel, text in FILES.items():
        repo.write(rel, text)
    for rel, data in BINARY_FILES.items():
        repo.write(rel, data)
    if commit:
        repo.commit("the book")
    return repo


def tree_state(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` except .git: bytes for files, None for folders."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if rel.parts[0] == ".git":
            continue
        out[rel.as_posix()] = None if path.is_dir() else path.read_bytes()
    return out


def numstat(repo: Repo, *paths: str) -> list[tuple[int, int, str]]:
    out = repo.git("diff", "--numstat", "--", *paths)
    rows = []
    for line in out.splitlines():
        added, removed, name = line.split("\t")
        rows.append((int(added), int(removed), name))
    return rows


# -- a scaffold's README, followed as a new user would -------------------------------

# Filled by .ci/install: wheels of labhooks' dependencies and of what the scaffolds'
# READMEs install, so fresh environments install offline.
WHEELHOUSE = Path(os.environ.get("LABHOOKS_WHEELHOUSE", Path.home() / ".cache/labhooks-ci/wheelhouse"))
# Where a README says a command needs what is not here (the network, conda, Quarto).
NEEDS_MARK = "# needs "
# git's default branch where no one chose one; the scaffolds must still use main
GIT_DEFAULT_BRANCH_MASTER = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "init.defaultBranch",
                             "GIT_CONFIG_VALUE_0": "master"}


def readme_commands(readme: Path) -> list[str]:
    """Every command of the README's ``sh`` blocks, in order, trailing comments kept."""
    commands, in_block = [], False
    for line in readme.read_text(encoding="utf-8").splitlines():
        fence = line.strip()
        if fence.startswith("```"):
            in_block = not in_block and fence[3:].strip() in ("sh", "bash", "shell")
            continue
        if in_block and fence and not fence.startswith("#"):
            commands.append(fence)
    return commands


def labhooks_wheel(folder: Path) -> Path:
    """A wheel of the checkout under test, built offline."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(folder), str(REPO_ROOT)], check=True, capture_output=True)
    (wheel,) = folder.glob("labhooks-*.whl")
    return wheel


def offline_venv(path: Path, wheel_dir: Path, *, system_site_packages: bool = False) -> dict:
    """A fresh virtual environment and the environment to run a README in it: pip finds
    only ``wheel_dir`` and the wheelhouse, every network address is a dead proxy, and PATH
    holds the environment and the system's tools (git, bash) but no other Python's scripts
    unless ``system_site_packages`` (where installed packages' scripts live there)."""
    if not WHEELHOUSE.is_dir():
        raise AssertionError(f"no wheelhouse at {WHEELHOUSE}: run bash .ci/install first")
    subprocess.run([sys.executable, "-m", "venv", *(["--system-site-packages"] if system_site_packages else []),
                    str(path)], check=True, capture_output=True)
    others = os.environ["PATH"] if system_site_packages else os.pathsep.join(
        ["/usr/local/sbin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"])
    dead = "http://127.0.0.1:9"
    return {
        **os.environ,
        "PATH": os.pathsep.join([str(path / "bin"), others]),
        "VIRTUAL_ENV": str(path),
        "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_FIND_LINKS": f"{wheel_dir} {WHEELHOUSE}",
        "http_proxy": dead, "https_proxy": dead, "HTTP_PROXY": dead, "HTTPS_PROXY": dead,
        "ALL_PROXY": dead, "no_proxy": "", "NO_PROXY": "",
        "PRE_COMMIT_HOME": str(path.parent / "pre-commit-home"),
        "PYTHONPATH": "",
    }


def sh(command: str, cwd: Path, env: dict, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def follow_readme(folder: Path, env: dict, timeout: float = 900, before: str | None = None) -> str | None:
    """Run the README's commands in order up to the first one it says needs what is not
    here (or, given ``before``, the first that starts with it); return that one (None if
    there is none). Each must succeed."""
    for command in readme_commands(folder / "README.md"):
        if NEEDS_MARK in command or (before is not None and command.startswith(before)):
            return command
        proc = sh(command, folder, env, timeout)
        assert proc.returncode == 0, f"README command failed: {command}\n{proc.stdout}\n{proc.stderr}"
    return None


def assert_hooks_guard_a_push(work: Repo, remote: Path, env: dict) -> None:
    """Through the hooks the README installed: a clean push is accepted, a 101 MiB blob is
    refused at commit and, committed without the hooks, at push, leaving the remote as it was."""
    Repo.init(remote, "--bare")
    work.git("remote", "add", "lab", str(remote), env=env)
    branch = work.git("branch", "--show-current").strip()
    accepted = sh(f"git push -q lab {branch}", work.path, env)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    pushed = work.rev("HEAD")
    work.big("data/raw.bin", 101 * MiB)
    work.git("add", "--force", "data/raw.bin", env=env)  # past a .gitignore that keeps data/ out
    refused = sh("git commit -q -m 'raw data'", work.path, env)
    assert refused.returncode != 0 and "data/raw.bin" in refused.stdout + refused.stderr
    work.git("commit", "-q", "--no-verify", "-m", "raw data", env=env)
    refused = sh(f"git push -q lab {branch}", work.path, env)
    assert refused.returncode != 0 and "data/raw.bin" in refused.stdout + refused.stderr
    assert Repo(remote).rev(branch) == pushed
