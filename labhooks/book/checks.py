from __future__ import annotations

import datetime as _dt
import re
from pathlib import PurePosixPath

from labhooks.book.markdown import citations, iter_fences, iter_prose_lines
from labhooks.book.quarto import key_line, normalise_chapter
from labhooks.book.view import BookView, Problem, looks_rendered

EXECUTABLE_INFO = re.compile(r"^\s*\{\s*([A-Za-z][\w-]*)")


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")






def check_config(view: BookView) -> list[Problem]:
    return list(view.config_problems)


def check_listed_files_exist(view: BookView) -> list[Problem]:
    problems = []
    for entry in view.entries:
        rel = normalise_chapter(entry.path)
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
        rel = normalise_chapter(entry.path)
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
                if path.is_dir() and not looks_rendered(path):
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
                view.config_name, key_line(view.tree, "bibliography"),
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
            problems.append(Problem(rel, line, f"front matter is not valid YAML: {error}",
                                    "fix the YAML between the '---' lines"))
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
            problems.append(Problem(rel, line, "paper minute has no 'author:'",
                                    "add 'author: Your Name' to the front matter"))
        if "date" not in data:
            problems.append(Problem(rel, line, "paper minute has no 'date:'",
                                    "add 'date: YYYY-MM-DD' to the front matter"))
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
