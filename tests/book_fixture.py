"""A minutes book like the lab's, built in a temporary git repository for the tests.

It follows the lab's conventions on purpose, including the details a careless YAML
rewrite would destroy: a comment line, a blank line before the next top-level key,
single- and double-quoted scalars, .qmd, .md and .ipynb chapters, a chapter in a
sub-folder, and an image folder beside a minute.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gitutil import Repo

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
    "tools/git_basics.qmd": "---\nauthor: Ada Lovelace\n---\n\n# Git basics\n\n```{python}\nprint('cells are fine in .qmd')\n```\n",
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


def snapshot(folder: Path) -> dict[str, bytes | None]:
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


def labhooks(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The real console script, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "labhooks", *args], cwd=cwd, capture_output=True, text=True)
