"""Jupyter notebooks whose saved outputs are big: base64 images and widget state are
re-committed with every run, which is how most lab repositories grow.

Commit mode only, and cheap: only staged ``.ipynb`` blobs are read (one ``cat-file
--batch``), and only those at least as big as the smallest notebook size are parsed.
"""

from __future__ import annotations

from labhooks.errors import LabhooksError
from labhooks.git.objects import blob_contents, is_lfs_pointer
from labhooks.git.records import Record
from labhooks.sizes import SizeError, parse_size, reaches

# Outputs of 1 MiB are already several times what a notebook's code and prose weigh, and
# every re-run commits them again; a notebook's plots stay well under it.
DEFAULT_NOTEBOOK_WARN = "1M"
NOTEBOOK_KEYS = ("labhooks.notebookwarn", "labhooks.notebookmax")
NOTEBOOK_SUFFIX = ".ipynb"


class NotebookLimits(Record):
    __slots__ = ("warn_size", "max_size")

    def __init__(self, warn_size: int | None, max_size: int | None):
        self.warn_size = warn_size  # None: no warnings
        self.max_size = max_size  # None: never refused (the default)

    @property
    def smallest(self) -> int | None:
        sizes = [size for size in (self.warn_size, self.max_size) if size is not None]
        return min(sizes) if sizes else None


def notebook_limits(warn_option: str | None, max_option: str | None, settings: dict[str, str]) -> NotebookLimits:
    """``--notebook-warn``/``--notebook-max``, else ``git config labhooks.notebookwarn/
    notebookmax``, else warn from DEFAULT_NOTEBOOK_WARN and refuse nothing; 0 turns either off."""
    chosen: list[int | None] = []
    defaults: tuple[tuple[str, str, str | None], ...] = (
        ("--notebook-warn", NOTEBOOK_KEYS[0], DEFAULT_NOTEBOOK_WARN), ("--notebook-max", NOTEBOOK_KEYS[1], None))
    for option, key, default in defaults:
        given = warn_option if option == "--notebook-warn" else max_option
        text: str | None
        if given is not None:
            text, source = given, option
        elif key in settings:
            text, source = settings[key], f"git config {key}"
        else:
            text, source = default, "the default"
        if text is None:
            chosen.append(None)
            continue
        try:
            size = parse_size(text)
        except SizeError as exc:
            raise LabhooksError(f"{source}: {exc.message}") from None
        chosen.append(size if size > 0 else None)
    warn_size, max_size = chosen
    if warn_size is not None and max_size is not None and warn_size >= max_size:
        warn_size = None  # everything it would warn about is refused
    return NotebookLimits(warn_size, max_size)


class NotebookFinding(Record):
    __slots__ = ("path", "output_bytes")

    def __init__(self, path: str, output_bytes: int):
        self.path = path
        self.output_bytes = output_bytes


class NotebookReport(Record):
    __slots__ = ("limits", "refused", "warned", "unreadable")

    def __init__(self, limits: NotebookLimits):
        self.limits = limits
        self.refused: list[NotebookFinding] = []
        self.warned: list[NotebookFinding] = []
        self.unreadable: list[tuple[str, str]] = []  # (path, why its outputs could not be measured)


def check_notebooks(entries, limits: NotebookLimits, top: str, skip: set[str]) -> NotebookReport | None:
    """The staged notebooks among ``entries`` (index entries) whose outputs reach a limit;
    ``skip``: blob ids already refused for their size (not read again). None when no
    notebook is staged or both limits are off."""
    smallest = limits.smallest
    notebooks = [e for e in entries if e.path.endswith(NOTEBOOK_SUFFIX) and e.oid not in skip]
    if smallest is None or not notebooks:
        return None
    report = NotebookReport(limits)
    contents = blob_contents([e.oid for e in notebooks], cwd=top)
    measured: dict[str, int | str] = {}
    for entry in notebooks:
        content = contents.get(entry.oid)
        # outputs are part of the file: one smaller than the limit cannot hold more
        if content is None or len(content) < smallest or is_lfs_pointer(content):
            continue
        if entry.oid not in measured:
            try:
                measured[entry.oid] = output_bytes(content)
            except ValueError as exc:
                measured[entry.oid] = str(exc)
        size = measured[entry.oid]
        if isinstance(size, str):
            report.unreadable.append((entry.path, size))
        elif limits.max_size is not None and reaches(size, limits.max_size):
            report.refused.append(NotebookFinding(entry.path, size))
        elif limits.warn_size is not None and reaches(size, limits.warn_size):
            report.warned.append(NotebookFinding(entry.path, size))
    for found in (report.refused, report.warned):
        found.sort(key=lambda f: (-f.output_bytes, f.path))
    return report


def output_bytes(content: bytes) -> int:
    """Bytes of a notebook's saved outputs: every cell's ``outputs`` and the notebook's
    saved widget state, as compact JSON (what a stripped copy would no longer hold).
    ValueError, in words, for a file that is not a notebook's JSON."""
    import json  # only when a notebook is staged: the commit hook's start-up stays lean

    try:
        # nbformat files are UTF-8; json.loads would guess UTF-16/32 from the first bytes
        notebook = json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ValueError("is not UTF-8 text, so not a notebook's JSON") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(notebook, dict):
        raise ValueError("is JSON but not a notebook (no top-level object)")
    cells = notebook.get("cells")
    if cells is None:  # nbformat 3 kept its cells in worksheets
        worksheets = notebook.get("worksheets")
        cells = [c for w in worksheets if isinstance(w, dict) for c in w.get("cells") or []] \
            if isinstance(worksheets, list) else None
    if not isinstance(cells, list):
        raise ValueError("is JSON but not a notebook (no list of cells)")
    saved = [cell["outputs"] for cell in cells if isinstance(cell, dict) and cell.get("outputs")]
    metadata = notebook.get("metadata")
    if isinstance(metadata, dict) and metadata.get("widgets"):
        saved.append(metadata["widgets"])
    return sum(len(_compact(part)) for part in saved)


def _compact(value) -> bytes:
    import json

    # surrogatepass: a lone \ud800 escape in the file is still counted, not a crash
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
