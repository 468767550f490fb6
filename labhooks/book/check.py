from __future__ import annotations

import argparse
import sys
from pathlib import Path

from labhooks import errors
from labhooks.book.checks import CHECKS
from labhooks.book.quarto import find_book_root
from labhooks.book.view import BookView, Problem, ls_files
from labhooks.errors import LabhooksError
from labhooks.text import printable


def check_book(root: Path | str, *, staged_only: bool = False) -> list[Problem]:
    """Every problem in the book at ``root``; ``staged_only`` looks at what git has
    staged or tracks (what a commit holds), else also at untracked files not ignored."""
    view = BookView.load(Path(root), staged_only=staged_only)
    problems = []
    for check in CHECKS:
        problems.extend(check(view))
    return problems


def _books_in_repo(start: Path) -> list[Path]:
    """Every book config git knows under ``start`` (tracked or not ignored)."""
    configs = ls_files(start, "--cached", "--others", "--exclude-standard", "--",
                        "_quarto.yml", "*/_quarto.yml", "_quarto.yaml", "*/_quarto.yaml")
    roots = []
    for name in configs or []:
        try:
            roots.append(find_book_root(explicit=(start / name).parent))
        except LabhooksError:
            continue
    return sorted(set(roots))


def find_books(paths: list[str], cwd: Path | None = None) -> list[Path]:
    cwd = Path(cwd or Path.cwd())
    if not paths:
        try:
            return [find_book_root(cwd)]
        except LabhooksError:
            roots = _books_in_repo(cwd)
            if roots:
                return roots
            raise
    found: set[Path] = set()
    for raw in paths:
        path = cwd / raw
        if path.is_dir():
            found.add(find_book_root(path))
        elif path.exists():
            # a file pre-commit passed: it may belong to no book at all
            try:
                found.add(find_book_root(path.parent))
            except LabhooksError:
                continue
        else:
            raise LabhooksError(f"{raw} does not exist")
    return sorted(found)


def run(paths: list[str], *, staged_only: bool = False, out=None, cwd: Path | None = None) -> int:
    out = out or sys.stdout
    here = Path(cwd or Path.cwd()).resolve()
    total = 0
    for root in find_books(paths, cwd):
        problems = check_book(root, staged_only=staged_only)
        prefix = "" if root == here else _display(root, here)
        if problems and prefix:
            print(printable(f"check-book: in the book {prefix}/ (run the fixes there):"), file=out)
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
    parser.add_argument("--book", metavar="DIR", action="append", default=[],
                        help="a book's root folder (same as giving it as a path)")
    args = parser.parse_args(argv)
    # As a hook, an untracked draft must not block an unrelated commit.
    return errors.run(lambda: run([*args.paths, *args.book], staged_only=not args.include_untracked))


if __name__ == "__main__":
    sys.exit(main())
