"""Tool and paper minutes in the lab's Quarto book, and new books to hold them.

A minute is a template of kind ``minute`` (``templates/minute-<kind>/``) whose
``template.yaml`` says which part of ``_quarto.yml`` it belongs to, which folder it
lives in and its default format. Adding one renders the file and its image folder
(all or nothing) and then lists it, last in its part, in ``_quarto.yml``.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from pathlib import Path

from labhooks.book.quarto import (
    CHAPTER_SUFFIXES,
    ChapterEdit,
    apply_edit,
    find_book_root,
    plan_add_chapter,
    yaml_scalar,
)
from labhooks.errors import LabhooksError
from labhooks.scaffold import repository
from labhooks.scaffold.context import base_context, git_user_name
from labhooks.scaffold.render import (
    RenderResult,
    list_templates,
    missing_folders,
    render,
    template_info,
    validate_name,
)
from labhooks.scaffold.repository import Repository
from labhooks.text import single_line, words_slug

MAX_SLUG_LENGTH = 60
FORMATS = ("md", "qmd")
SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")
# Pandoc's citation keys: a letter, digit or _ first; inner punctuation allowed.
CITEKEY_PATTERN = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_:.#$%&+?<>~/-]*[A-Za-z0-9_])?")
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
# Quarto writes <stem>_files/ beside each rendered page; a minute must never own one.
QUARTO_OUTPUT_SUFFIX = "_files"


# --- names ---------------------------------------------------------------------------


def make_slug(title: str, max_length: int = MAX_SLUG_LENGTH) -> str:
    """``Attention Is All You Need!`` -> ``attention_is_all_you_need`` (ASCII, '_')."""
    slug = words_slug(title)
    if len(slug) > max_length:
        cut = slug[:max_length]
        # end on a whole word when one ends in the second half
        if "_" in cut[max_length // 2 :] and slug[max_length] != "_":
            cut = cut[: cut.rfind("_")]
        slug = cut.strip("_")
    if slug.endswith(QUARTO_OUTPUT_SUFFIX):
        slug += "_minute"
    return slug


def validate_slug(slug: str) -> str:
    if not SLUG_PATTERN.fullmatch(slug or ""):
        raise LabhooksError(
            f"invalid slug {slug!r}: use lowercase ASCII letters and digits separated by '_'"
        )
    if slug.endswith(QUARTO_OUTPUT_SUFFIX):
        raise LabhooksError(
            f"invalid slug {slug!r}: names ending in '_files' clash with Quarto's output folders"
        )
    if len(slug) > MAX_SLUG_LENGTH:
        raise LabhooksError(f"invalid slug {slug[:20]!r}...: longer than {MAX_SLUG_LENGTH} characters")
    return slug




def validate_title(title: str) -> str:
    title = single_line(title, "title")
    if re.search(r"(^|[/\\])\.\.([/\\]|$)", title):
        raise LabhooksError(f"invalid title {title!r}: it looks like a path ('..')")
    return title


def validate_author(author: str) -> str:
    return single_line(author, "author", if_empty="no author: pass --author NAME or set 'git config user.name'")


def validate_citekey(key: str) -> str:
    if not CITEKEY_PATTERN.fullmatch(key or ""):
        raise LabhooksError(
            f"invalid citation key {key!r}: use letters, digits and _ (inner : . - / allowed)"
        )
    return key


def parse_date(text: str | None) -> _dt.date:
    if text is None:
        return _dt.date.today()
    try:
        if not DATE_PATTERN.fullmatch(text):
            raise ValueError
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise LabhooksError(f"invalid date {text!r}: use YYYY-MM-DD") from None


# --- new-minute ----------------------------------------------------------------------


def minute_kinds() -> dict[str, dict]:
    """kind -> metadata of ``templates/minute-<kind>``."""
    kinds = {}
    for name in list_templates("minute"):
        info = template_info(name)
        meta = info.get("minute") or {}
        kind = name.removeprefix("minute-")
        kinds[kind] = {"template": name, **meta}
    return kinds


@dataclass
class MinuteResult:
    root: Path
    kind: str
    chapter: str  # e.g. papers/attention.md
    image_folder: str
    files: list[Path]
    edit: ChapterEdit
    citekey: str | None = None
    citekey_known: bool = False


def _refuse_existing(root: Path, folder: str, slug: str) -> None:
    for suffix in CHAPTER_SUFFIXES:
        existing = root / folder / f"{slug}{suffix}"
        if existing.exists() or existing.is_symlink():
            raise LabhooksError(f"{folder}/{slug}{suffix} already exists: nothing was written")
    image_folder = root / folder / slug
    if image_folder.exists() or image_folder.is_symlink():
        raise LabhooksError(f"{folder}/{slug}/ already exists: nothing was written")


def new_minute(
    title: str,
    kind: str,
    *,
    author: str | None = None,
    date: str | None = None,
    slug: str | None = None,
    fmt: str | None = None,
    citekey: str | None = None,
    book_dir: Path | None = None,
    cwd: Path | None = None,
    dry_run: bool = False,
) -> MinuteResult:
    kinds = minute_kinds()
    kind = (kind or "").strip().lower()
    if kind not in kinds:
        raise LabhooksError(f"unknown minute kind {kind!r} (known: {', '.join(sorted(kinds))})")
    meta = kinds[kind]
    part, folder = meta["part"], meta["folder"]
    title = validate_title(title)
    if slug is None:
        slug = make_slug(title)
        if not slug:
            raise LabhooksError(f"cannot make a file name from {title!r}: pass --slug")
    validate_slug(slug)
    extension = fmt or meta.get("format", "qmd")
    if extension not in FORMATS:
        raise LabhooksError(f"invalid format {extension!r}: use one of {', '.join(FORMATS)}")
    when = parse_date(date)
    root = find_book_root(cwd, explicit=book_dir)
    author = validate_author(author if author is not None else git_user_name(root) or "")
    if meta.get("cites"):
        citekey = validate_citekey(citekey if citekey is not None else slug)
    elif citekey is not None:
        raise LabhooksError(f"--citekey is for minutes that cite a paper, not {kind} minutes")

    _refuse_existing(root, folder, slug)
    chapter = f"{folder}/{slug}.{extension}"
    edit = plan_add_chapter(root, chapter, part=part, folder=folder)

    context = base_context(author=author, today=when)
    context.update(
        title=title,
        slug=slug,
        folder=folder,
        extension=extension,
        citekey=citekey or "",
        author_yaml=yaml_scalar(author),
    )
    rendered = render(meta["template"], root, context, dry_run=dry_run, allow_existing_dir=True)
    result = MinuteResult(
        root=root,
        kind=kind,
        chapter=chapter,
        image_folder=f"{folder}/{slug}",
        files=rendered.files,
        edit=edit,
        citekey=citekey,
        citekey_known=bool(citekey) and citekey in _bib_keys(root),
    )
    if dry_run:
        return result
    try:
        apply_edit(edit)
    except BaseException:
        _remove_rendered(root, rendered)
        raise
    return result


def _remove_rendered(root: Path, rendered: RenderResult) -> None:
    """Undo a render whose files were all new: they and the folders made for them."""
    for rel in rendered.files:
        (root / rel).unlink(missing_ok=True)
    for rel in sorted(rendered.folders, key=lambda p: len(p.parts), reverse=True):
        try:
            (root / rel).rmdir()
        except OSError:
            pass


def _bib_keys(root: Path) -> set[str]:
    from labhooks.book.bibtex import bibtex_entries

    path = root / "references.bib"
    if not path.is_file():
        return set()
    return {key for key, _line in bibtex_entries(path.read_text(encoding="utf-8", errors="replace"))}


# --- new-book ------------------------------------------------------------------------


@dataclass
class BookResult:
    target: Path
    files: list[Path]
    git: Repository
    message: str  # the first commit's subject


def new_book(
    target: Path | str,
    *,
    title: str | None = None,
    author: str | None = None,
    git: bool = True,
    dry_run: bool = False,
) -> BookResult:
    target = Path(target)
    validate_name(target.resolve().name, what="book folder name")
    if target.exists() and not target.is_dir():
        raise LabhooksError(f"{target} exists and is not a folder: choose a new folder")
    if target.is_dir() and any(target.iterdir()):
        raise LabhooksError(f"{target} exists and is not empty: choose a new folder")
    title = validate_title(title if title is not None else "Lab minutes")
    author = validate_author(author if author is not None else git_user_name() or "")
    where = repository.plan(target, git=git)
    created = missing_folders(target)
    context = base_context(author=author)
    context.update(title=title, title_yaml=yaml_scalar(title), author_yaml=yaml_scalar(author))
    rendered = render("book", target, context, dry_run=dry_run, allow_existing_dir=False)
    result = BookResult(target, rendered.files, where, f"Start the minutes book: {title}")
    if not dry_run:
        repository.record(where, target, rendered.files,
                          f"{result.message}\n\nScaffolded by labhooks new-book.", created)
    return result
