"""Reading BibTeX files: which keys they define, and where."""

from __future__ import annotations

import re

BIB_ENTRY = re.compile(r"^\s*@\s*([A-Za-z]+)\s*[{(]\s*([^,\s]+)\s*,", re.MULTILINE)


BIB_NON_ENTRIES = {"comment", "string", "preamble"}


def bibtex_entries(text: str) -> list[tuple[str, int]]:
    """(key, line) of every entry in a BibTeX file; @comment/@string/@preamble skipped."""
    entries = []
    for match in BIB_ENTRY.finditer(text):
        if match.group(1).lower() in BIB_NON_ENTRIES:
            continue
        line = text.count("\n", 0, match.start(2)) + 1
        entries.append((match.group(2), line))
    return entries
