"""A Quarto book's ``_quarto.yml``: find it, read its chapter list, add one chapter.

Adding a chapter must leave the rest of the file exactly as the author wrote it, so
that the diff is the one added line. ruamel.yaml's round trip usually manages that;
where it would touch anything else (a comment it re-attaches, an indentation it
normalises, CRLF line ends), a line-based insert at the position ruamel reports is
used instead. Either candidate is accepted only if re-parsing it gives the old data
plus the new chapter, and the text diff holds nothing but added lines.
"""

from __future__ import annotations

import difflib
import functools
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from labhooks.errors import LabhooksError

CONFIG_NAMES = ("_quarto.yml", "_quarto.yaml")
CHAPTER_SUFFIXES = (".qmd", ".md", ".ipynb")


# --- finding the book -------------------------------------------------------------


def config_file(folder: Path) -> Path | None:
    for name in CONFIG_NAMES:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=1)
def _tolerant_loader():
    import yaml

    # libyaml's parser when PyYAML has it: check-book parses every minute's front matter
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):
        pass

    def untagged(loader, _suffix, node):
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_mapping(node, deep=True)

    Loader.add_multi_constructor("!", untagged)
    return Loader


def plain_load(text: str):
    """PyYAML's safe load, but a tag it does not know (Quarto's ``!expr``) keeps its value."""
    import yaml

    return yaml.load(text, Loader=_tolerant_loader())  # noqa: S506 - a SafeLoader subclass


def _is_book_config(path: Path) -> bool:
    """True for a book's config, and for one too broken to tell: the caller then
    reports what is wrong with it instead of 'no book here'."""
    import yaml

    try:
        data = plain_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return True
    except (OSError, UnicodeDecodeError):
        return False
    project = data.get("project") if isinstance(data, dict) else None
    return isinstance(project, dict) and project.get("type") == "book"


def find_book_root(start: Path | None = None, *, explicit: Path | None = None) -> Path:
    """The book root: ``explicit`` itself, else the nearest book folder at or above ``start``."""
    if explicit is not None:
        folder = Path(explicit)
        if not folder.is_dir():
            raise LabhooksError(f"{folder} is not a folder")
        config = config_file(folder)
        if config is None or not _is_book_config(config):
            raise LabhooksError(
                f"{folder} is not a Quarto book: it needs a _quarto.yml with 'project: type: book'"
            )
        return folder.resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        config = config_file(folder)
        if config is not None and _is_book_config(config):
            return folder
    raise LabhooksError(
        f"no Quarto book at or above {here}: run this inside the book, pass --book DIR, "
        "or start one with 'labhooks new-book DIR'"
    )


# --- reading the chapter list --------------------------------------------------------


def normalise_chapter(path: str) -> str:
    """Chapter paths as Quarto resolves them: relative to the book root, '/'-separated."""
    text = str(path).strip().replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return str(PurePosixPath(text))


@dataclass(frozen=True)
class Entry:
    path: str  # as written in _quarto.yml
    line: int  # 1-based line in _quarto.yml, 0 when unknown
    part: str | None  # the part's title (or file), None outside parts


def load_round_trip(text: str):
    """ruamel's round-trip tree (keeps line numbers); LabhooksError on bad YAML."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    try:
        return yaml.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise LabhooksError(f"_quarto.yml is not valid YAML{where}: {problem}") from None


def item_line(seq, index: int) -> int:
    try:
        return seq.lc.item(index)[0] + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return 0


def key_line(mapping, key) -> int:
    try:
        return mapping.lc.key(key)[0] + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return 0


def iter_entries(book) -> list[Entry]:
    """Every chapter file listed under ``book.chapters`` and ``book.appendices``."""
    entries: list[Entry] = []

    def walk(seq, part):
        if not isinstance(seq, list):
            return
        for index, item in enumerate(seq):
            if isinstance(item, str):
                entries.append(Entry(item, item_line(seq, index), part))
            elif isinstance(item, dict):
                if isinstance(item.get("href"), str):
                    entries.append(Entry(item["href"], item_line(seq, index), part))
                title = item.get("part")
                if isinstance(title, str):
                    if title.endswith(CHAPTER_SUFFIXES):
                        # a part may be a page of its own
                        entries.append(Entry(title, key_line(item, "part"), title))
                    walk(item.get("chapters"), title)

    if isinstance(book, dict):
        walk(book.get("chapters"), None)
        walk(book.get("appendices"), None)
    return entries


def part_matches(title: str, wanted_title: str, folder: str) -> bool:
    """A part called 'Papers', or one whose page is ``papers.qmd``, is the papers part."""
    name = str(title).strip()
    if name.casefold() == wanted_title.casefold():
        return True
    pure = PurePosixPath(name)
    return pure.suffix in CHAPTER_SUFFIXES and pure.stem.casefold() in {
        folder.casefold(),
        wanted_title.casefold(),
    }


def find_part(chapters, wanted_title: str, folder: str) -> int | None:
    """Index in ``book.chapters`` of the part for ``folder``: by title, else by contents."""
    if not isinstance(chapters, list):
        return None
    parts = [
        (i, item)
        for i, item in enumerate(chapters)
        if isinstance(item, dict) and isinstance(item.get("part"), str)
    ]
    for index, item in parts:
        if part_matches(item["part"], wanted_title, folder):
            return index
    prefix = folder.rstrip("/") + "/"
    for index, item in parts:
        listed = item.get("chapters")
        if isinstance(listed, list) and listed and all(
            isinstance(c, str) and normalise_chapter(c).startswith(prefix) for c in listed
        ):
            return index
    return None


# --- adding a chapter --------------------------------------------------------------


@dataclass
class ChapterEdit:
    config: Path
    old_text: str
    new_text: str
    chapter: str
    part: str
    part_created: bool
    method: str  # "round-trip" or "line"
    added_lines: list[tuple[int, str]]  # (1-based line number in the new file, text)


def _newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _expected_data(old_data: dict, chapter: str, part: str, part_index: int | None, insert_at: int):
    """What the file must parse to after the edit: the old data plus the chapter."""
    import copy

    data = copy.deepcopy(old_data)
    chapters = data["book"]["chapters"]
    if part_index is None:
        chapters.insert(insert_at, {"part": part, "chapters": [chapter]})
    else:
        if chapters[part_index].get("chapters") is None:
            chapters[part_index]["chapters"] = []
        chapters[part_index]["chapters"].append(chapter)
    return data


def _only_added(old_text: str, new_text: str) -> list[tuple[int, str]] | None:
    """The added lines (1-based, in the new text) if the diff adds lines and changes nothing else.

    A file without a final newline cannot grow at the end without its last line gaining
    one; that alone does not count as a change.
    """
    if old_text and not old_text.endswith(("\n", "\r")):
        old_text += _newline_of(old_text)
    old_lines = old_text.splitlines(keepends=True)
    new_lines = new_text.splitlines(keepends=True)
    added: list[tuple[int, str]] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag != "insert":
            return None
        added.extend((j + 1, new_lines[j].rstrip("\r\n")) for j in range(j1, j2))
    return added


def yaml_scalar(text: str) -> str:
    """``text`` as a one-line YAML scalar, quoted only when plain would not read back."""
    import json

    import yaml

    try:
        if yaml.safe_load(text) == text and "\n" not in text and text.strip() == text:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)


def _guess_indents(text: str) -> tuple[int, int]:
    """(mapping indent, dash offset) as the file uses them, from the first 'key:' blocks."""
    mapping_indent = dash_offset = None
    lines = [line for line in text.splitlines() if _is_content(line)]
    for line, following in zip(lines, lines[1:]):
        if not line.split(" #")[0].rstrip().endswith(":"):
            continue
        step = _indent_of(following) - _indent_of(line)
        if following.lstrip().startswith("- ") or following.strip() == "-":
            if dash_offset is None and step >= 0:
                dash_offset = step
        elif mapping_indent is None and step > 0:
            mapping_indent = step
        if mapping_indent is not None and dash_offset is not None:
            break
    return mapping_indent or 2, 2 if dash_offset is None else dash_offset


def _round_trip_candidate(text, chapter, part, part_index, insert_at) -> str | None:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.error import YAMLError

    mapping_indent, dash_offset = _guess_indents(text)
    try:
        yaml = YAML(typ="rt")
        yaml.preserve_quotes = True
        yaml.width = 1 << 16
        yaml.indent(mapping=mapping_indent, sequence=dash_offset + 2, offset=dash_offset)
        data = yaml.load(text)
        chapters = data["book"]["chapters"]
        if part_index is None:
            seq = CommentedSeq([chapter])
            chapters.insert(insert_at, CommentedMap([("part", part), ("chapters", seq)]))
        else:
            seq = chapters[part_index].get("chapters")
            if not isinstance(seq, CommentedSeq):
                return None
            last = len(seq) - 1
            seq.append(chapter)
            # A blank line or comment after the old last item belongs after the new one.
            if last >= 0 and last in seq.ca.items:
                seq.ca.items[last + 1] = seq.ca.items.pop(last)
        out = io.StringIO()
        yaml.dump(data, out)
        return out.getvalue()
    except (YAMLError, KeyError, TypeError, AttributeError, ValueError):
        return None


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _item_end(lines: list[str], first: int, dash_col: int) -> int:
    """Index of the last line of the sequence item that starts on line ``first``."""
    end = first
    for index in range(first + 1, len(lines)):
        line = lines[index]
        if not _is_content(line):
            continue
        if _indent_of(line) > dash_col:
            end = index
        else:
            break
    return end


def _dash_col(lines: list[str], seq, index: int) -> int | None:
    try:
        line_no, col = seq.lc.item(index)
    except (AttributeError, KeyError, IndexError, TypeError):
        return None
    line = lines[line_no]
    dash = line.rfind("-", 0, col)
    if dash < 0 or line[:dash].strip():
        return None  # flow style or something unusual: no line-based insert
    return dash


def _line_candidate(text, tree, chapter, part, part_index, insert_at) -> str | None:
    newline = _newline_of(text)
    lines = text.splitlines()
    trailing_newline = text.endswith(("\n", "\r"))
    chapters = tree["book"]["chapters"]
    if part_index is not None:
        part_map = chapters[part_index]
        seq = part_map.get("chapters")
        if isinstance(seq, list) and len(seq) > 0:
            dash = _dash_col(lines, seq, len(seq) - 1)
            if dash is None:
                return None
            line_no = seq.lc.item(len(seq) - 1)[0]  # type: ignore[attr-defined]  # ruamel's CommentedSeq
            after = _item_end(lines, line_no, dash)
            new = [" " * dash + "- " + yaml_scalar(chapter)]
        elif seq is None and "chapters" in part_map:
            # 'chapters:' with nothing after it
            key_row, key_col = part_map.lc.key("chapters")
            if lines[key_row].rstrip().split("#")[0].strip() != "chapters:":
                return None
            outer = _dash_col(lines, chapters, part_index)
            offset = (outer - _key_col(tree["book"], "chapters")) if outer is not None else 2
            after = key_row
            new = [" " * (key_col + max(offset, 0)) + "- " + yaml_scalar(chapter)]
        else:
            return None
    else:
        if not chapters:
            return None
        dash = _dash_col(lines, chapters, 0)
        if dash is None:
            return None
        offset = dash - _key_col(tree["book"], "chapters")
        if insert_at == 0:
            return None
        previous = insert_at - 1
        line_no = chapters.lc.item(previous)[0]
        after = _item_end(lines, line_no, dash)
        key_col = dash + 2
        new = [
            " " * dash + "- part: " + yaml_scalar(part),
            " " * key_col + "chapters:",
            " " * (key_col + max(offset, 0)) + "- " + yaml_scalar(chapter),
        ]
    result = lines[: after + 1] + new + lines[after + 1 :]
    joined = newline.join(result)
    if trailing_newline or after + 1 >= len(lines):
        joined += newline
    return joined


def _key_col(mapping, key) -> int:
    return mapping.lc.key(key)[1]


def _insert_position(chapters) -> int:
    """Where a new part goes: after the last part, else before a closing references page."""
    last_part = None
    for index, item in enumerate(chapters):
        if isinstance(item, dict) and "part" in item:
            last_part = index
    if last_part is not None:
        return last_part + 1
    if chapters and isinstance(chapters[-1], str) and PurePosixPath(
        normalise_chapter(chapters[-1])
    ).stem.casefold() in {"references", "bibliography"}:
        return len(chapters) - 1
    return len(chapters)


def _refuse_read_only(config: Path) -> None:
    """A read-only config says "leave me alone"; replacing it would succeed regardless
    (the folder decides, not the file), and root could always write it."""
    import stat

    if not config.stat().st_mode & stat.S_IWUSR or not os.access(config, os.W_OK):
        raise LabhooksError(
            f"{config} is read-only: nothing was written; make it writable (chmod u+w) to add minutes"
        )


def plan_add_chapter(root: Path, chapter: str, *, part: str, folder: str) -> ChapterEdit:
    """Compute the new ``_quarto.yml`` with ``chapter`` last in ``part``; write nothing."""
    import yaml

    config = config_file(root)
    if config is None:
        raise LabhooksError(f"{root} has no _quarto.yml")
    with open(config, encoding="utf-8", newline="") as fh:
        old_text = fh.read()
    _refuse_read_only(config)
    tree = load_round_trip(old_text)
    problems = validate_config(tree)
    if problems:
        line, message, _fix = problems[0]
        where = f" line {line}" if line else ""
        raise LabhooksError(f"{config.name}{where}: {message}")
    chapter = normalise_chapter(chapter)
    for entry in iter_entries(tree["book"]):
        listed = normalise_chapter(entry.path)
        if listed == chapter or PurePosixPath(listed).with_suffix("") == PurePosixPath(chapter).with_suffix(""):
            raise LabhooksError(
                f"{config.name} line {entry.line} already lists {entry.path}: nothing was written"
            )

    chapters = tree["book"]["chapters"]
    part_index = find_part(chapters, part, folder)
    part_title = part if part_index is None else str(chapters[part_index]["part"])
    insert_at = _insert_position(chapters)
    old_data = plain_load(old_text)
    expected = _expected_data(old_data, chapter, part, part_index, insert_at)
    wanted_added = 1 if part_index is not None else 3

    def acceptable(candidate: str | None):
        if candidate is None:
            return None
        try:
            if plain_load(candidate) != expected:
                return None
        except yaml.YAMLError:
            return None
        added = _only_added(old_text, candidate)
        if added is None or len(added) != wanted_added:
            return None
        return added

    for method, build in (
        ("round-trip", lambda: _round_trip_candidate(old_text, chapter, part, part_index, insert_at)),
        ("line", lambda: _line_candidate(old_text, tree, chapter, part, part_index, insert_at)),
    ):
        candidate = build()
        added = acceptable(candidate)
        if candidate is not None and added is not None:
            return ChapterEdit(
                config=config,
                old_text=old_text,
                new_text=candidate,
                chapter=chapter,
                part=part_title,
                part_created=part_index is None,
                method=method,
                added_lines=added,
            )
    raise LabhooksError(
        f"cannot add {chapter} to part {part_title!r} of {config.name} without rewriting other lines "
        f"(flow-style list?): nothing was written; list it there by hand"
    )


def apply_edit(edit: ChapterEdit) -> None:
    """Replace ``_quarto.yml`` atomically, and only if nobody changed it since it was read."""
    with open(edit.config, encoding="utf-8", newline="") as fh:
        if fh.read() != edit.old_text:
            raise LabhooksError(f"{edit.config} changed while labhooks was editing it: try again")
    mode = edit.config.stat().st_mode & 0o7777
    temp = None
    try:
        fd, temp = tempfile.mkstemp(prefix=".labhooks-", suffix=".yml", dir=edit.config.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(edit.new_text)
        os.chmod(temp, mode)
        os.replace(temp, edit.config)
    except BaseException as exc:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise LabhooksError(f"cannot write {edit.config}: {exc.strerror or exc}; it was left as it was") from None
        raise
    with open(edit.config, encoding="utf-8", newline="") as fh:
        if fh.read() != edit.new_text:
            raise LabhooksError(f"{edit.config} does not read back as written: check it by hand")


# --- the small schema of the keys labhooks reads or writes --------------------------


def validate_config(tree) -> list[tuple[int, str, str]]:
    """(line, problem, fix) for each way ``tree`` breaks what labhooks relies on.

    Quarto's own schema accepts things like ``chapters: 42``; this one checks only the
    keys labhooks reads or writes, and says how to fix each.
    """
    problems: list[tuple[int, str, str]] = []
    if not isinstance(tree, dict):
        return [(1, "the file is not a mapping of keys", "start from 'labhooks new-book'")]
    project = tree.get("project")
    if not isinstance(project, dict) or project.get("type") != "book":
        line = key_line(tree, "project") or 1
        problems.append((line, "'project: type: book' is missing", "add 'project:' with 'type: book'"))
    book = tree.get("book")
    if not isinstance(book, dict):
        line = key_line(tree, "book") or 1
        problems.append((line, "'book:' must be a mapping", "add 'book:' with 'title:' and 'chapters:'"))
        return problems
    for section in ("chapters", "appendices"):
        if section not in book:
            if section == "chapters":
                problems.append(
                    (key_line(tree, "book"), "'book: chapters:' is missing",
                     "list the chapters under 'book: chapters:'")
                )
            continue
        seq = book[section]
        if not isinstance(seq, list):
            problems.append(
                (key_line(book, section), f"'book: {section}:' must be a list",
                 f"write one '- file.qmd' per line under '{section}:'")
            )
            continue
        if section == "chapters" and not seq:
            problems.append(
                (key_line(book, section), "'book: chapters:' is empty",
                 "list index.qmd (the book's first page) under it")
            )
        _validate_items(seq, section, problems, allow_parts=True)
    bibliography = tree.get("bibliography")
    if bibliography is not None and not (
        isinstance(bibliography, str)
        or (isinstance(bibliography, list) and all(isinstance(b, str) for b in bibliography))
    ):
        problems.append(
            (key_line(tree, "bibliography"), "'bibliography:' must be a file name or a list of them",
             "write 'bibliography: references.bib'")
        )
    return problems


def _validate_items(seq, section, problems, *, allow_parts):
    for index, item in enumerate(seq):
        line = item_line(seq, index)
        if isinstance(item, str):
            if not item.strip():
                problems.append((line, f"empty entry in '{section}:'", "remove it"))
            continue
        if isinstance(item, dict) and "part" in item:
            if not allow_parts:
                problems.append((line, "a part inside a part", "move it to the top level of 'chapters:'"))
                continue
            if not isinstance(item["part"], str) or not item["part"].strip():
                problems.append((line, "'part:' needs a title or a .qmd file", "write 'part: Papers'"))
            unknown = sorted(str(k) for k in item if k not in ("part", "chapters"))
            if unknown:
                problems.append((line, f"unknown key(s) in part: {', '.join(unknown)}",
                                 "keep only 'part:' and 'chapters:'"))
            listed = item.get("chapters")
            if listed is not None and not isinstance(listed, list):
                problems.append(
                    (key_line(item, "chapters") or line, f"'chapters:' of part {item['part']!r} must be a list",
                     "write one '- folder/file.qmd' per line")
                )
            elif isinstance(listed, list):
                _validate_items(listed, f"part {item['part']!r}", problems, allow_parts=False)
            continue
        if isinstance(item, dict) and isinstance(item.get("href"), str):
            continue
        problems.append(
            (line, f"entry {index + 1} of '{section}:' is neither a file nor a part",
             "write a file path, or 'part:' with 'chapters:'")
        )
