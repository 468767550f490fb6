"""Reading a chapter's Markdown as Quarto does: front matter, prose outside code fences and
HTML comments, code fences, and Pandoc citations.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

# Quarto's cross-reference prefixes: @fig-x is a reference, not a citation.
CROSSREF_PREFIXES = (
    "fig", "tbl", "lst", "tip", "nte", "wrn", "imp", "cau", "thm", "lem", "cor", "prp",
    "cnj", "def", "exm", "exr", "sol", "rem", "sec", "eq",
)


CROSSREF = re.compile(r"(?:%s)-" % "|".join(CROSSREF_PREFIXES))


FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")


BRACKETED = re.compile(r"\[([^\[\]]*@[^\[\]]*)\](?!\()")


CITATION = re.compile(r"(?:^|[\s;\[~-])-?@(\{[^}\s]+\}|[A-Za-z0-9_][\w:.#$%&+?<>~/-]*)")


def split_front_matter(text: str) -> tuple[str | None, int]:
    """The YAML between the opening and closing '---', and the line the body starts on."""
    lines = text.splitlines()
    if not lines or lines[0].lstrip("\ufeff").rstrip() != "---":
        return None, 1
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return "\n".join(lines[1:index]), index + 2
    return None, 1


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
