"""Render a template folder into a target folder, all or nothing.

A template is ``templates/<name>/``. Its ``template.yaml`` (metadata, never copied)
says what it is. Every other file is copied byte for byte, except files whose name
ends in ``.jinja``: those are rendered with jinja2 (strict undefined) and lose the
suffix. Every path segment may hold ``{{ variable }}`` and is rendered too. The
renderer knows nothing about what a template contains.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from labhooks.errors import LabhooksError
from labhooks.text import breaks_a_line

TEMPLATE_SUFFIX = ".jinja"
METADATA_FILE = "template.yaml"
# The common limit for one path segment (ext4, APFS, NTFS); longer names fail mid-write.
MAX_NAME_BYTES = 255
_STAGING_PREFIX = ".labhooks-render-"


def templates_root() -> Path:
    """Where the templates are: inside the installed package, else the source tree."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "templates", package.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise LabhooksError("labhooks templates not found: reinstall labhooks")


def template_dir(name: str) -> Path:
    validate_name(name, what="template name")
    path = templates_root() / name
    if not (path / METADATA_FILE).is_file():
        known = ", ".join(list_templates()) or "none"
        raise LabhooksError(f"no template named {name!r} (known: {known})")
    return path


def template_info(name: str) -> dict:
    import yaml

    with open(template_dir(name) / METADATA_FILE, encoding="utf-8") as fh:
        info = yaml.safe_load(fh) or {}
    info.setdefault("name", name)
    info.setdefault("description", "")
    info.setdefault("kind", "other")
    return info


def list_templates(kind: str | None = None) -> list[str]:
    root = templates_root()
    names = sorted(p.name for p in root.iterdir() if (p / METADATA_FILE).is_file())
    if kind is None:
        return names
    return [n for n in names if template_info(n).get("kind") == kind]




def validate_name(name: str, *, what: str = "name") -> str:
    """Refuse names that could escape a folder or confuse a terminal: one line, exit 2."""
    if not isinstance(name, str) or not name.strip():
        raise LabhooksError(f"invalid {what}: it is empty")
    if name in (".", "..") or ".." in Path(name).parts or name.startswith(".."):
        raise LabhooksError(f"invalid {what} {name!r}: '..' is not allowed")
    if "/" in name or "\\" in name or os.sep in name:
        raise LabhooksError(f"invalid {what} {name!r}: path separators are not allowed")
    if breaks_a_line(name):
        raise LabhooksError(f"invalid {what} {name!r}: control characters are not allowed")
    if name != name.strip():
        raise LabhooksError(f"invalid {what} {name!r}: leading or trailing blanks are not allowed")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise LabhooksError(f"invalid {what} {name[:40]!r}...: longer than {MAX_NAME_BYTES} bytes")
    return name


@dataclass
class RenderResult:
    target: Path
    files: list[Path] = field(default_factory=list)  # relative to target, sorted
    dry_run: bool = False
    folders: list[Path] = field(default_factory=list)  # created (or to create), relative, sorted


@functools.lru_cache(maxsize=1)
def _environment():
    """Built once: plan() renders the names and render() the contents with it, and
    from_string keeps nothing of one template in it."""
    import jinja2

    return jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def _render_text(env, text: str, context: dict, where: str) -> str:
    import jinja2

    try:
        return env.from_string(text).render(**context)
    except jinja2.UndefinedError as exc:
        raise LabhooksError(f"template {where}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise LabhooksError(f"template {where}: {exc}") from None


def plan(template: str, context: dict) -> list[tuple[Path, Path, bool]]:
    """(source, relative destination, render?) for every file of the template."""
    src_root = template_dir(template)
    env = _environment()
    entries = []
    for dirpath, dirnames, filenames in os.walk(src_root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        rel_dir = Path(dirpath).relative_to(src_root)
        for filename in sorted(filenames):
            if rel_dir == Path(".") and filename == METADATA_FILE:
                continue
            if filename.endswith((".pyc", ".pyo")):
                continue
            source = Path(dirpath) / filename
            rel_parts = []
            for part in (*rel_dir.parts, filename):
                rendered = _render_text(env, part, context, str(source.relative_to(src_root)))
                validate_name(rendered, what=f"rendered path segment of {part!r}")
                rel_parts.append(rendered)
            render = rel_parts[-1].endswith(TEMPLATE_SUFFIX)
            if render:
                rel_parts[-1] = rel_parts[-1][: -len(TEMPLATE_SUFFIX)]
                validate_name(rel_parts[-1], what="rendered file name")
            entries.append((source, Path(*rel_parts), render))
    seen: set[Path] = set()
    for _, dest, _ in entries:
        if dest in seen:
            raise LabhooksError(f"template {template!r} renders two files to {dest}")
        seen.add(dest)
    return entries


def missing_folders(target: Path) -> list[Path]:
    """``target`` and those of its parents that do not exist yet, deepest first."""
    missing = []
    for folder in (target, *target.absolute().parents):
        if folder.exists():
            break
        missing.append(folder)
    return missing


def nearest_folder(path: Path) -> Path:
    """``path`` or its closest ancestor that is an existing folder: where git can be
    asked about a target that does not exist yet."""
    path = path.absolute()
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
    return Path(path.anchor)


def remove_new_folder(target: Path, created: list[Path]) -> None:
    """Undo a render into ``target`` after a later step failed.

    ``target`` was new or empty before; ``created`` is :func:`missing_folders` of it,
    taken before rendering.
    """
    if target in created:
        shutil.rmtree(target, ignore_errors=True)
    else:
        for child in target.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
    for folder in created:
        if folder != target:
            try:
                folder.rmdir()
            except OSError:
                break  # not empty any more: someone else is using it


def _check_destinations(target: Path, entries) -> list[Path]:
    """Refuse any collision with what is on disk; return the folders that would be created."""
    new_folders: set[Path] = set()
    for _, dest, _ in entries:
        for rel_parent in reversed(dest.parents[:-1]):
            folder = target / rel_parent
            if folder.exists() and not folder.is_dir():
                raise LabhooksError(f"{folder} exists and is not a folder: nothing was written")
            if folder.is_symlink() and not folder.exists():
                raise LabhooksError(f"{folder} is a broken link: nothing was written")
            if not folder.exists():
                new_folders.add(rel_parent)
        existing = target / dest
        if existing.exists() or existing.is_symlink():
            raise LabhooksError(f"{existing} already exists: nothing was written")
    return sorted(new_folders)


def _place(staged: Path, final: Path) -> None:
    """Move one staged file into place, refusing to replace anything that appeared meanwhile."""
    try:
        os.link(staged, final)
    except FileExistsError:
        raise
    except OSError:
        # No hard links on this file system: exclusive create still never overwrites.
        with open(staged, "rb") as src, open(final, "xb") as dst:
            shutil.copyfileobj(src, dst)
        shutil.copymode(staged, final)


def _as_the_user_named_it(path, target: Path) -> Path:
    """A failing path inside our staging folder, said as the file it was to become."""
    if path is None:
        return target
    path = Path(path)
    for depth, part in enumerate(path.parts):
        if part.startswith(_STAGING_PREFIX):
            return target.joinpath(*path.parts[depth + 1:])
    return path


def render(
    template: str,
    target: Path | str,
    context: dict,
    *,
    dry_run: bool = False,
    allow_existing_dir: bool = True,
) -> RenderResult:
    """Render ``template`` into ``target``; write everything or nothing.

    ``target`` may exist only as an empty folder (or, with ``allow_existing_dir``, a
    folder that none of the rendered paths collide with); files are created
    exclusively and never overwritten. A dry run renders every file in memory, so it
    fails exactly where the real run would, and writes nothing.
    """
    target = Path(target)
    entries = plan(template, context)
    if target.is_symlink() and not target.exists():
        raise LabhooksError(f"{target} is a broken link: choose a new folder")
    if target.exists() and not target.is_dir():
        raise LabhooksError(f"{target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not allow_existing_dir:
        raise LabhooksError(f"{target} exists and is not empty: choose a new folder")
    new_folders = _check_destinations(target, entries)

    env = _environment()
    contents: list[bytes | None] = []
    for source, dest, do_render in entries:
        if do_render:
            try:
                text = source.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise LabhooksError(f"template file {source} is not UTF-8 text") from None
            contents.append(_render_text(env, text, context, str(dest)).encode("utf-8"))
        else:
            contents.append(None)  # copied byte for byte from the template

    result = RenderResult(
        target=target,
        files=sorted(d for _, d, _ in entries),
        dry_run=dry_run,
        folders=new_folders,
    )
    if dry_run:
        return result

    created_ancestors = missing_folders(target)[1:]  # deepest first
    moved: list[Path] = []
    created_dirs: list[Path] = []
    staging: Path | None = None
    try:
        # Stage inside (or beside) the target: one file system, and no need for write
        # access anywhere else (a book's parent folder may be read-only).
        staging_parent = target if target.is_dir() else target.parent
        staging_parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=staging_parent))
        for (source, dest, _), content in zip(entries, contents):
            out = staging / dest
            out.parent.mkdir(parents=True, exist_ok=True)
            if content is None:
                with open(source, "rb") as src, open(out, "xb") as dst:
                    shutil.copyfileobj(src, dst)
            else:
                with open(out, "xb") as dst:
                    dst.write(content)
            shutil.copymode(source, out)
        if not target.exists():
            target.mkdir()
            created_dirs.append(target)
        for _, dest, _ in entries:
            for rel_parent in reversed(dest.parents[:-1]):
                folder = target / rel_parent
                if not folder.exists():
                    folder.mkdir()
                    created_dirs.append(folder)
            final = target / dest
            _place(staging / dest, final)
            moved.append(final)
    except BaseException as exc:
        for path in reversed(moved):
            path.unlink(missing_ok=True)
        for folder in reversed(created_dirs):
            try:
                folder.rmdir()
            except OSError:
                pass
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
            staging = None
        for folder in created_ancestors:
            try:
                folder.rmdir()
            except OSError:
                pass
        if isinstance(exc, FileExistsError):
            where = exc.filename2 or exc.filename
            raise LabhooksError(f"{where} appeared while writing: nothing was written") from None
        if isinstance(exc, OSError):
            where = _as_the_user_named_it(exc.filename2 or exc.filename, target)
            raise LabhooksError(f"cannot write {where}: {exc.strerror or exc}; nothing was written") from None
        raise
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return result
