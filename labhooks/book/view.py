from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

from labhooks.book.bibtex import bibtex_entries
from labhooks.book.markdown import Source, read_source
from labhooks.book.quarto import (
    CHAPTER_SUFFIXES,
    Entry,
    config_file,
    find_part,
    iter_entries,
    load_round_trip,
    normalise_chapter,
    plain_load,
    validate_config,
)
from labhooks.errors import LabhooksError
from labhooks.text import printable

DEFAULT_PART_FOLDERS = {"tools": "Tools", "papers": "Papers"}


PAPERS = ("Papers", "papers")


def ls_files(where: Path, *args: str) -> list[str] | None:
    """``git ls-files -z ARGS`` run in ``where``; None without git or outside a work tree
    (ls-files fails there, in a bare repository and in a .git folder alike, so no
    separate rev-parse is needed: one git process per hook run)."""
    from labhooks.git.process import run_git

    try:
        out = run_git(["ls-files", "-z", *args], where, check=False, text=False)
    except LabhooksError:
        return None  # no git at all
    if out.returncode != 0:
        return None
    return [n for n in out.stdout.decode("utf-8", "surrogateescape").split("\0") if n]


def _git_files(root: Path, staged_only: bool = False) -> list[str] | None:
    """Files under ``root`` (relative, '/') that git has staged or tracks, plus, unless
    ``staged_only``, untracked ones it does not ignore; None outside a work tree."""
    which = ["--cached"] if staged_only else ["--cached", "--others", "--exclude-standard"]
    names = ls_files(root, *which, "--", ".")
    if names is None:
        return None  # look at the files on disk instead
    return sorted(n for n in set(names) if (root / n).is_file() or (root / n).is_symlink())


def _walk_files(root: Path, skip: set[str]) -> list[str]:
    files = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if rel.parts and (rel.parts[0] in skip or ".git" in rel.parts):
            continue
        if path.is_file():
            files.append(rel.as_posix())
    return sorted(files)


def _file_names(value) -> list[str]:
    """A ``bibliography:`` value (one name or a list of them) as a list; others ignored."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


@dataclass
class BookView:
    """Everything the checks look at, read once."""

    root: Path
    files: list[str]
    in_git: bool
    staged_only: bool
    config_name: str
    config_text: str
    tree: Any = None  # the parsed _quarto.yml: any YAML value until validated
    config_problems: list[Problem] = field(default_factory=list)
    _front_matter: dict = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, root: Path, *, staged_only: bool = False) -> "BookView":
        root = Path(root)
        config = config_file(root)
        if config is None:
            raise LabhooksError(f"{root} has no _quarto.yml")
        text = config.read_text(encoding="utf-8", errors="replace")
        git_files = _git_files(root, staged_only)
        view = cls(
            root=root,
            files=[],
            in_git=git_files is not None,
            staged_only=staged_only and git_files is not None,
            config_name=config.name,
            config_text=text,
        )
        try:
            view.tree = load_round_trip(text)
        except LabhooksError as exc:
            view.config_problems.append(
                Problem(config.name, 0, exc.message.replace("_quarto.yml ", "", 1), "fix the YAML syntax")
            )
        else:
            for line, message, fix in validate_config(view.tree):
                view.config_problems.append(Problem(config.name, line, message, fix))
        view.files = git_files if git_files is not None else _walk_files(root, {".git", ".quarto", view.output_dir})
        return view

    @property
    def config_ok(self) -> bool:
        return self.tree is not None and not self.config_problems

    @cached_property
    def output_dir(self) -> str:
        project = self.tree.get("project") if isinstance(self.tree, dict) else None
        out = project.get("output-dir") if isinstance(project, dict) else None
        return normalise_chapter(out) if isinstance(out, str) and out.strip() else "_book"

    @cached_property
    def entries(self) -> list[Entry]:
        return iter_entries(self.tree["book"]) if self.config_ok else []

    @cached_property
    def listed(self) -> set[str]:
        return {normalise_chapter(e.path) for e in self.entries}

    @cached_property
    def file_set(self) -> set[str]:
        return set(self.files)

    @cached_property
    def rendered_output(self) -> dict[str, tuple[str, str, str]]:
        """file -> (what to report, the path to report it on, fix), for rendered output."""
        reasons = {}
        for rel in self.files:
            reason = rendered_reason(self, rel)
            if reason is not None:
                reasons[rel] = reason
        return reasons

    @cached_property
    def part_folders(self) -> dict[str, str]:
        """folder -> the part its minutes belong to."""
        folders: dict[str, str] = {}
        for entry in self.entries:
            parts = PurePosixPath(normalise_chapter(entry.path)).parts
            if entry.part is not None and len(parts) > 1:
                folders.setdefault(parts[0], entry.part)
        for folder, part in DEFAULT_PART_FOLDERS.items():
            if (self.root / folder).is_dir():
                folders.setdefault(folder, part)
        return folders

    @cached_property
    def minute_files(self) -> list[str]:
        """Files that look like chapters inside the part folders."""
        found = []
        for rel in self.files:
            parts = PurePosixPath(rel).parts
            if len(parts) < 2 or parts[0] not in self.part_folders:
                continue
            if not rel.endswith(CHAPTER_SUFFIXES):
                continue
            if any(p.startswith(("_", ".")) or p.endswith("_files") for p in parts):
                continue  # Quarto skips '_' files; dot files and output folders are not chapters
            found.append(rel)
        return found

    @cached_property
    def chapter_files(self) -> list[str]:
        """Listed chapters that exist, plus the minutes in the part folders."""
        present = {p for p in self.listed if (self.root / p).is_file()}
        return sorted(present | set(self.minute_files))

    @cached_property
    def sources(self) -> dict[str, Source]:
        out = {}
        for rel in self.chapter_files:
            source = read_source(self.root, rel)
            if source is not None:
                out[rel] = source
        return out

    @cached_property
    def paper_files(self) -> list[str]:
        papers_part = None
        if self.config_ok:
            index = find_part(self.tree["book"]["chapters"], *PAPERS)
            if index is not None:
                papers_part = str(self.tree["book"]["chapters"][index]["part"])
        chosen = set()
        for entry in self.entries:
            if papers_part is not None and entry.part == papers_part and entry.path != papers_part:
                chosen.add(normalise_chapter(entry.path))
        for rel in self.minute_files:
            if PurePosixPath(rel).parts[0] == "papers":
                chosen.add(rel)
        return sorted(p for p in chosen if p in self.sources)

    def front_matter(self, rel: str) -> tuple[dict | None, str | None]:
        """(parsed front matter, error) for a chapter, parsed once."""
        if rel not in self._front_matter:
            self._front_matter[rel] = self._parse_front_matter(rel)
        return self._front_matter[rel]

    def _parse_front_matter(self, rel: str) -> tuple[dict | None, str | None]:
        import yaml

        source = self.sources.get(rel)
        if source is None or source.front_matter is None:
            return None, None
        try:
            data = plain_load(source.front_matter)
        except yaml.YAMLError as exc:
            return None, str(exc).splitlines()[0]
        return (data if isinstance(data, dict) else {}), None

    def root_bibliographies(self) -> list[str]:
        value = self.tree.get("bibliography") if isinstance(self.tree, dict) else None
        return [normalise_chapter(v) for v in _file_names(value)]

    def chapter_bibliographies(self, rel: str) -> list[str]:
        data, _ = self.front_matter(rel)
        base = PurePosixPath(rel).parent
        resolved = []
        for v in _file_names(data.get("bibliography") if data else None):
            joined = (self.root / base / v).resolve()
            try:
                resolved.append(joined.relative_to(self.root.resolve()).as_posix())
            except ValueError:
                resolved.append(str(joined))
        return resolved

    @cached_property
    def bib_keys(self) -> dict[str, list[tuple[str, int]]]:
        """bibliography file -> its (key, line) entries; only files that exist."""
        wanted = set(self.root_bibliographies())
        for rel in self.sources:
            wanted.update(self.chapter_bibliographies(rel))
        keys = {}
        for rel in sorted(wanted):
            path = self.root / rel
            if path.is_file():
                keys[rel] = bibtex_entries(path.read_text(encoding="utf-8", errors="replace"))
        return keys


@dataclass(frozen=True)
class Problem:
    path: str  # relative to the book root
    line: int  # 1-based; 0 when there is no useful line
    message: str
    fix: str

    def format(self) -> str:
        """One line, whatever the file names hold."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        return printable(f"{where}: {self.message} (fix: {self.fix})")




def rendered_reason(view: BookView, rel: str) -> tuple[str, str, str] | None:
    """(what to report, the path to report it on, fix) when ``rel`` is rendered output."""
    pure = PurePosixPath(rel)
    parts = pure.parts
    if pure.name == ".DS_Store":
        return ("macOS Finder metadata (.DS_Store) is committed", rel,
                f"git rm --cached {rel} and add '.DS_Store' to .gitignore")
    if parts[0] in (view.output_dir, ".quarto") and len(parts) > 1:
        return (f"rendered output in {parts[0]}/ is committed", parts[0] + "/",
                f"git rm -r --cached {parts[0]} and add '{parts[0]}/' to .gitignore; CI renders the book")
    for index, part in enumerate(parts[:-1]):
        if part.endswith("_files") and index + 1 < len(parts) - 1 and parts[index + 1] == "libs":
            folder = "/".join(parts[: index + 1])
            return (f"Quarto's rendered support files ({folder}/libs/) are committed", folder + "/",
                    f"git rm -r --cached {folder} and add '*_files/' to .gitignore")
    if pure.suffix == ".html":
        for suffix in CHAPTER_SUFFIXES:
            sibling = pure.with_suffix(suffix).as_posix()
            if sibling in view.file_set or (view.root / sibling).is_file():
                return (f"rendered page beside its source {pure.with_suffix(suffix).name} is committed", rel,
                        f"git rm --cached {rel} and add '*.html' to .gitignore")
    if pure.name.endswith(".quarto_ipynb"):
        return ("Quarto's intermediate notebook is committed", rel,
                f"git rm --cached {rel} and add '**/*.quarto_ipynb' to .gitignore")
    return None


def looks_rendered(folder: Path) -> bool:
    """Quarto's own <stem>_files/ holds libs/ or figure-<format>/ folders."""
    try:
        return any(
            child.is_dir() and (child.name == "libs" or child.name.startswith("figure-"))
            for child in folder.iterdir()
        )
    except OSError:
        return False
