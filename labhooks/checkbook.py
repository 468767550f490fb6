"""check-book: the mistakes in a Quarto minutes book that Quarto itself does not catch.

Each check is a function from a ``BookView`` to a list of ``Problem``s: minutes
missing from ``_quarto.yml``, listed files that do not exist, duplicate entries,
rendered output in the repository, image folders Quarto would treat as its own,
duplicate or missing BibTeX keys, paper minutes without author or ISO date, and
``.md`` minutes with executable cells.

``main(argv) -> int`` is the pre-commit entry: 0 clean, 1 problems, 2 usage. It
checks what a commit holds (staged and tracked files); ``labhooks check-book``
also looks at untracked files that git does not ignore, unless given ``--staged``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath

from labhooks import book
from labhooks.errors import LabhooksError

# Quarto's cross-reference prefixes: @fig-x is a reference, not a citation.
CROSSREF_PREFIXES = (
    "fig", "tbl", "lst", "tip", "nte", "wrn", "imp", "cau", "thm", "lem", "cor", "prp",
    "cnj", "def", "exm", "exr", "sol", "rem", "sec", "eq",
)
CROSSREF = re.compile(r"(?:%s)-" % "|".join(CROSSREF_PREFIXES))
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
EXECUTABLE_INFO = re.compile(r"^\s*\{\s*([A-Za-z][\w-]*)")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
BRACKETED = re.compile(r"\[([^\[\]]*@[^\[\]]*)\](?!\()")
CITATION = re.compile(r"(?:^|[\s;\[~-])-?@(\{[^}\s]+\}|[A-Za-z0-9_][\w:.#$%&+?<>~/-]*)")
BIB_ENTRY = re.compile(r"^\s*@\s*([A-Za-z]+)\s*[{(]\s*([^,\s]+)\s*,", re.MULTILINE)
BIB_NON_ENTRIES = {"comment", "string", "preamble"}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DEFAULT_PART_FOLDERS = {"tools": "Tools", "papers": "Papers"}
PAPERS = ("Papers", "papers")


@dataclass(frozen=True)
class Problem:
    path: str  # relative to the book root
    line: int  # 1-based; 0 when there is no useful line
    message: str
    fix: str

    def format(self) -> str:
        """One line, whatever the file names hold."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        return _one_line(f"{where}: {self.message} (fix: {self.fix})")


def _one_line(text: str) -> str:
    """Control characters (a newline in a committed file name) shown escaped."""
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


# --- reading the book ------------------------------------------------------------------


def _ls_files(where: Path, *args: str) -> list[str] | None:
    """``git ls-files -z ARGS`` run in ``where``; None without git or outside a work tree
    (ls-files fails there, in a bare repository and in a .git folder alike, so no
    separate rev-parse is needed: one git process per hook run)."""
    from labhooks.plumbing import run_git

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
    names = _ls_files(root, *which, "--", ".")
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


def split_front_matter(text: str) -> tuple[str | None, int]:
    """The YAML between the opening and closing '---', and the line the body starts on."""
    lines = text.splitlines()
    if not lines or lines[0].lstrip("\ufeff").rstrip() != "---":
        return None, 1
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return "\n".join(lines[1:index]), index + 2
    return None, 1


def bibtex_entries(text: str) -> list[tuple[str, int]]:
    """(key, line) of every entry in a BibTeX file; @comment/@string/@preamble skipped."""
    entries = []
    for match in BIB_ENTRY.finditer(text):
        if match.group(1).lower() in BIB_NON_ENTRIES:
            continue
        line = text.count("\n", 0, match.start(2)) + 1
        entries.append((match.group(2), line))
    return entries


@dataclass
class Source:
    """A chapter's markdown: whole text for .md/.qmd, markdown cells for .ipynb."""

    path: str
    front_matter: str | None
    front_line: int  # line of the opening '---' (1) or 0 for notebooks
    blocks: list[tuple[str, int, str]]  # (text, first line, label)


def read_source(root: Path, rel: str) -> Source | None:
    path = root / rel
    try:
        raw = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if rel.endswith(".ipynb"):
        try:
            notebook = json.loads(raw)
        except json.JSONDecodeError:
            return Source(rel, None, 0, [])
        blocks = []
        front = None
        for number, cell in enumerate(notebook.get("cells", []), start=1):
            text = cell.get("source", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            if cell.get("cell_type") in ("raw", "markdown") and front is None and number == 1:
                front, _ = split_front_matter(text)
                if front is not None:
                    continue
            if cell.get("cell_type") == "markdown":
                blocks.append((text, 0, f"cell {number}"))
        return Source(rel, front, 0, blocks)
    front, body_line = split_front_matter(raw)
    body = "\n".join(raw.splitlines()[body_line - 1 :]) if front is not None else raw
    return Source(rel, front, 1 if front is not None else 0, [(body, body_line, "")])


def _closes(fence: str, match) -> bool:
    """Whether a FENCE match closes the block ``fence`` opened: same character, at
    least as long, nothing after it."""
    return (
        match is not None
        and match.group(1)[0] == fence[0]
        and len(match.group(1)) >= len(fence)
        and not match.group(2).strip()
    )


def iter_prose_lines(text: str, first_line: int):
    """(line number, text) outside fenced code and HTML comments, inline code blanked out."""
    fence = None
    in_comment = False
    for offset, line in enumerate(text.splitlines()):
        match = FENCE.match(line)
        if fence is None and match and not in_comment:
            fence = match.group(1)
            continue
        if fence is not None:
            if _closes(fence, match):
                fence = None
            continue
        visible = []
        rest = line
        while rest:
            if in_comment:
                end = rest.find("-->")
                if end < 0:
                    rest = ""
                else:
                    in_comment, rest = False, rest[end + 3 :]
            else:
                start = rest.find("<!--")
                if start < 0:
                    visible.append(rest)
                    rest = ""
                else:
                    visible.append(rest[:start])
                    in_comment, rest = True, rest[start + 4 :]
        yield first_line + offset if first_line else 0, INLINE_CODE.sub(" ", " ".join(visible))


def iter_fences(text: str, first_line: int):
    """(line number, info string) of every opening code fence."""
    fence = None
    for offset, line in enumerate(text.splitlines()):
        match = FENCE.match(line)
        if not match:
            continue
        if fence is None:
            fence = match.group(1)
            yield (first_line + offset if first_line else 0), match.group(2)
        elif _closes(fence, match):
            fence = None


def citations(line: str) -> list[str]:
    keys = []
    for bracket in BRACKETED.finditer(line):
        for match in CITATION.finditer(bracket.group(1)):
            key = match.group(1)
            key = key[1:-1] if key.startswith("{") else key.rstrip(".:#$%&+?<>~/-")
            if key and not CROSSREF.match(key):
                keys.append(key)
    return keys


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
    tree: object = None
    config_problems: list[Problem] = field(default_factory=list)
    _front_matter: dict = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, root: Path, *, staged_only: bool = False) -> "BookView":
        root = Path(root)
        config = book.config_file(root)
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
            view.tree = book.load_round_trip(text)
        except LabhooksError as exc:
            view.config_problems.append(
                Problem(config.name, 0, exc.message.replace("_quarto.yml ", "", 1), "fix the YAML syntax")
            )
        else:
            for line, message, fix in book.validate_config(view.tree):
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
        return book.normalise_chapter(out) if isinstance(out, str) and out.strip() else "_book"

    @cached_property
    def entries(self) -> list[book.Entry]:
        return book.iter_entries(self.tree["book"]) if self.config_ok else []

    @cached_property
    def listed(self) -> set[str]:
        return {book.normalise_chapter(e.path) for e in self.entries}

    @cached_property
    def file_set(self) -> set[str]:
        return set(self.files)

    @cached_property
    def rendered_output(self) -> dict[str, tuple[str, str, str]]:
        """file -> (what to report, the path to report it on, fix), for rendered output."""
        reasons = {}
        for rel in self.files:
            reason = _rendered_reason(self, rel)
            if reason is not None:
                reasons[rel] = reason
        return reasons

    @cached_property
    def part_folders(self) -> dict[str, str]:
        """folder -> the part its minutes belong to."""
        folders = {}
        for entry in self.entries:
            parts = PurePosixPath(book.normalise_chapter(entry.path)).parts
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
            if not rel.endswith(book.CHAPTER_SUFFIXES):
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
            index = book.find_part(self.tree["book"]["chapters"], *PAPERS)
            if index is not None:
                papers_part = str(self.tree["book"]["chapters"][index]["part"])
        chosen = set()
        for entry in self.entries:
            if papers_part is not None and entry.part == papers_part and entry.path != papers_part:
                chosen.add(book.normalise_chapter(entry.path))
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
            data = book.plain_load(source.front_matter)
        except yaml.YAMLError as exc:
            return None, str(exc).splitlines()[0]
        return (data if isinstance(data, dict) else {}), None

    def root_bibliographies(self) -> list[str]:
        value = self.tree.get("bibliography") if isinstance(self.tree, dict) else None
        return [book.normalise_chapter(v) for v in _file_names(value)]

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


# --- the checks ------------------------------------------------------------------------


def check_config(view: BookView) -> list[Problem]:
    return list(view.config_problems)


def check_listed_files_exist(view: BookView) -> list[Problem]:
    problems = []
    for entry in view.entries:
        rel = book.normalise_chapter(entry.path)
        if rel in view.file_set:
            continue
        if (view.root / rel).is_file():
            if view.staged_only:
                problems.append(Problem(
                    view.config_name, entry.line,
                    f"{rel} is listed but not added to git, so the commit would lack it",
                    f"git add {rel} (with -f if .gitignore hides it)",
                ))
            elif view.in_git:
                problems.append(Problem(
                    view.config_name, entry.line,
                    f"{rel} is listed but git ignores it, so it will not be committed",
                    f"remove the .gitignore rule that matches it, or 'git add -f {rel}'",
                ))
            continue
        problems.append(Problem(
            view.config_name, entry.line, f"{rel} is listed but does not exist",
            "create the file, or remove this line",
        ))
    return problems


def check_no_duplicate_entries(view: BookView) -> list[Problem]:
    problems = []
    first_seen: dict[str, int] = {}
    for entry in view.entries:
        rel = book.normalise_chapter(entry.path)
        if rel in first_seen:
            problems.append(Problem(
                view.config_name, entry.line,
                f"{rel} is listed twice (first on line {first_seen[rel]})",
                "remove one of the two lines",
            ))
        else:
            first_seen[rel] = entry.line
    return problems


def check_minutes_listed(view: BookView) -> list[Problem]:
    if not view.config_ok:
        return []
    problems = []
    for rel in view.minute_files:
        if rel in view.listed:
            continue
        part = view.part_folders[PurePosixPath(rel).parts[0]]
        problems.append(Problem(
            rel, 0, f"this minute is not listed in {view.config_name}, so the book leaves it out",
            f"add '- {rel}' as the last chapter of part {part!r} in {view.config_name} "
            "(or start its name with '_' if it is not a chapter)",
        ))
    return problems


def _rendered_reason(view: BookView, rel: str) -> tuple[str, str, str] | None:
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
        for suffix in book.CHAPTER_SUFFIXES:
            sibling = pure.with_suffix(suffix).as_posix()
            if sibling in view.file_set or (view.root / sibling).is_file():
                return (f"rendered page beside its source {pure.with_suffix(suffix).name} is committed", rel,
                        f"git rm --cached {rel} and add '*.html' to .gitignore")
    if pure.name.endswith(".quarto_ipynb"):
        return ("Quarto's intermediate notebook is committed", rel,
                f"git rm --cached {rel} and add '**/*.quarto_ipynb' to .gitignore")
    return None


def check_no_rendered_output(view: BookView) -> list[Problem]:
    problems = []
    reported = set()
    for message, where, fix in view.rendered_output.values():
        if where in reported:
            continue
        reported.add(where)
        if not view.in_git:
            fix = fix.replace("git rm --cached", "delete").replace("git rm -r --cached", "delete")
        problems.append(Problem(where, 0, message, fix))
    return problems


def _looks_rendered(folder: Path) -> bool:
    """Quarto's own <stem>_files/ holds libs/ or figure-<format>/ folders."""
    try:
        return any(
            child.is_dir() and (child.name == "libs" or child.name.startswith("figure-"))
            for child in folder.iterdir()
        )
    except OSError:
        return False


def check_image_folders(view: BookView) -> list[Problem]:
    candidates: set[str] = set()
    for rel in view.files:
        if rel in view.rendered_output:
            continue
        parts = PurePosixPath(rel).parts
        for index, part in enumerate(parts[:-1]):
            if part.endswith("_files"):
                candidates.add("/".join(parts[: index + 1]))
                break
    # The book's .gitignore hides '*_files/', so an image folder named that way never
    # reaches git and its images go missing: look on disk too.
    for folder in view.part_folders:
        base = view.root / folder
        if base.is_dir():
            for path in base.rglob("*_files"):
                if path.is_dir() and not _looks_rendered(path):
                    candidates.add(path.relative_to(view.root).as_posix())
    problems = []
    for folder in sorted(candidates):
        if any(folder.startswith(other + "/") for other in candidates):
            continue
        pure = PurePosixPath(folder)
        stem = pure.name[: -len("_files")] or "images"
        problems.append(Problem(
            folder + "/", 0,
            "image folder named like Quarto's output (<name>_files/): .gitignore hides it "
            "and rendering may delete it",
            f"rename it to {(pure.parent / stem).as_posix()}/ and update the image links",
        ))
    return problems


def check_bibtex_duplicates(view: BookView) -> list[Problem]:
    problems = []
    for bib, entries in view.bib_keys.items():
        first: dict[str, tuple[str, int]] = {}
        for key, line in entries:
            folded = key.casefold()
            if folded in first:
                other, other_line = first[folded]
                same = "the same key" if other == key else f"the key {other!r} (BibTeX ignores case)"
                problems.append(Problem(
                    bib, line, f"duplicate BibTeX key {key!r}: line {other_line} has {same}",
                    "keep one entry, or give this one a new key and update its citations",
                ))
            else:
                first[folded] = (key, line)
    return problems


def check_citations(view: BookView) -> list[Problem]:
    problems = []
    root_bibs = view.root_bibliographies() if view.config_ok else []
    for bib in root_bibs:
        if not (view.root / bib).is_file():
            problems.append(Problem(
                view.config_name, book.key_line(view.tree, "bibliography"),
                f"bibliography {bib} does not exist", f"create {bib}, or fix the file name",
            ))
    for rel, source in view.sources.items():
        bibs = set(root_bibs) | set(view.chapter_bibliographies(rel))
        known = {key for bib in bibs for key, _ in view.bib_keys.get(bib, [])}
        for bib in sorted(bibs - set(root_bibs)):
            if not (view.root / bib).is_file():
                problems.append(Problem(rel, source.front_line, f"bibliography {bib} does not exist",
                                        "fix the 'bibliography:' path in the front matter"))
        target = " or ".join(sorted(bibs)) or "any bibliography"
        for text, first_line, label in source.blocks:
            for line_no, line in iter_prose_lines(text, first_line):
                for key in citations(line):
                    if key in known:
                        continue
                    where = f" ({label})" if label else ""
                    problems.append(Problem(
                        rel, line_no, f"citation [@{key}]{where} is not in {target}",
                        f"add the BibTeX entry with key {key!r} to {sorted(bibs)[0] if bibs else 'references.bib'}, "
                        "or correct the key",
                    ))
    return problems


def _is_iso_date(value) -> bool:
    if isinstance(value, _dt.datetime):
        return False
    if isinstance(value, _dt.date):
        return True
    if isinstance(value, str) and ISO_DATE.fullmatch(value.strip()):
        try:
            _dt.date.fromisoformat(value.strip())
            return True
        except ValueError:
            return False
    return False


def check_paper_front_matter(view: BookView) -> list[Problem]:
    problems = []
    for rel in view.paper_files:
        source = view.sources[rel]
        data, error = view.front_matter(rel)
        line = source.front_line
        if error is not None:
            problems.append(Problem(rel, line, f"front matter is not valid YAML: {error}", "fix the YAML between the '---' lines"))
            continue
        if data is None:
            problems.append(Problem(
                rel, 1, "paper minute has no front matter",
                "start the file with '---', 'author: Your Name', 'date: YYYY-MM-DD', "
                "'bibliography: ../references.bib', '---'",
            ))
            continue
        author = data.get("author")
        if not author or (isinstance(author, str) and not author.strip()):
            problems.append(Problem(rel, line, "paper minute has no 'author:'", "add 'author: Your Name' to the front matter"))
        if "date" not in data:
            problems.append(Problem(rel, line, "paper minute has no 'date:'", "add 'date: YYYY-MM-DD' to the front matter"))
        elif not _is_iso_date(data["date"]):
            problems.append(Problem(
                rel, line, f"paper minute's date {data['date']!s} is not an ISO date",
                "write it as 'date: YYYY-MM-DD', unquoted",
            ))
    return problems


def check_md_executable_cells(view: BookView) -> list[Problem]:
    problems = []
    for rel, source in view.sources.items():
        if not rel.endswith(".md"):
            continue
        for text, first_line, _label in source.blocks:
            for line_no, info in iter_fences(text, first_line):
                match = EXECUTABLE_INFO.match(info)
                if match:
                    problems.append(Problem(
                        rel, line_no,
                        f"executable cell ```{{{match.group(1)}}} in a .md file: Quarto refuses to render it",
                        f"rename the file to {PurePosixPath(rel).with_suffix('.qmd').as_posix()} "
                        "and its entry in _quarto.yml",
                    ))
    return problems


CHECKS = (
    check_config,
    check_listed_files_exist,
    check_no_duplicate_entries,
    check_minutes_listed,
    check_no_rendered_output,
    check_image_folders,
    check_bibtex_duplicates,
    check_citations,
    check_paper_front_matter,
    check_md_executable_cells,
)


def check_book(root: Path | str, *, staged_only: bool = False) -> list[Problem]:
    """Every problem in the book at ``root``; ``staged_only`` looks at what git has
    staged or tracks (what a commit holds), else also at untracked files not ignored."""
    view = BookView.load(Path(root), staged_only=staged_only)
    problems = []
    for check in CHECKS:
        problems.extend(check(view))
    return problems


# --- entry point -------------------------------------------------------------------------


def _books_in_repo(start: Path) -> list[Path]:
    """Every book config git knows under ``start`` (tracked or not ignored)."""
    configs = _ls_files(start, "--cached", "--others", "--exclude-standard", "--",
                        "_quarto.yml", "*/_quarto.yml", "_quarto.yaml", "*/_quarto.yaml")
    roots = []
    for name in configs or []:
        try:
            roots.append(book.find_book_root(explicit=(start / name).parent))
        except LabhooksError:
            continue
    return sorted(set(roots))


def find_books(paths: list[str], cwd: Path | None = None) -> list[Path]:
    cwd = Path(cwd or Path.cwd())
    if not paths:
        try:
            return [book.find_book_root(cwd)]
        except LabhooksError:
            roots = _books_in_repo(cwd)
            if roots:
                return roots
            raise
    roots = set()
    for raw in paths:
        path = cwd / raw
        if path.is_dir():
            roots.add(book.find_book_root(path))
        elif path.exists():
            # a file pre-commit passed: it may belong to no book at all
            try:
                roots.add(book.find_book_root(path.parent))
            except LabhooksError:
                continue
        else:
            raise LabhooksError(f"{raw} does not exist")
    return sorted(roots)


def run(paths: list[str], *, staged_only: bool = False, out=None, cwd: Path | None = None) -> int:
    out = out or sys.stdout
    here = Path(cwd or Path.cwd()).resolve()
    total = 0
    for root in find_books(paths, cwd):
        problems = check_book(root, staged_only=staged_only)
        prefix = "" if root == here else _display(root, here)
        if problems and prefix:
            print(_one_line(f"check-book: in the book {prefix}/ (run the fixes there):"), file=out)
        for problem in problems:
            print((prefix + "/" if prefix else "") + problem.format(), file=out)
        total += len(problems)
    if total:
        print(f"check-book: {total} problem{'s' if total != 1 else ''} found", file=out)
    return 1 if total else 0


def _display(root: Path, here: Path) -> str:
    try:
        return root.relative_to(here).as_posix()
    except ValueError:
        return str(root)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="labhooks-check-book",
        description="Check a Quarto minutes book for the mistakes Quarto will not catch.",
    )
    parser.add_argument("paths", nargs="*", help="book folders, or files inside books (as pre-commit passes them)")
    parser.add_argument(
        "--include-untracked", action="store_true",
        help="also check untracked files git does not ignore (default: only what a commit holds)",
    )
    args = parser.parse_args(argv)
    try:
        # As a hook, an untracked draft must not block an unrelated commit.
        return run(args.paths, staged_only=not args.include_untracked)
    except LabhooksError as exc:
        print(f"labhooks: {exc.message}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
