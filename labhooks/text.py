"""The one rule for text that must stay on one line, shown and accepted alike.

Shown: a file name or commit subject is printed with every character that could break
the line or hide what it is escaped (``\\n``, ``\\x1b``), so one finding is one line.
Accepted: a title, author or name that goes into files, YAML, LaTeX and commit messages
has no control characters, line breaks or bidirectional overrides (which make text
display as something other than what it is); other format characters stay allowed,
since names need zero-width joiners. Surrounding blanks are dropped.
"""

from __future__ import annotations

from labhooks.errors import LabhooksError

# U+202A-U+202E embeddings/overrides and U+2066-U+2069 isolates
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    """``text`` as one line: characters that are not printable are written escaped."""
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
        for ch in text
    )


def breaks_a_line(text: str) -> bool:
    """Whether ``text`` holds a character that the single-line rule refuses."""
    import unicodedata

    return any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI_CONTROLS for ch in text)


def single_line(value: str | None, what: str, *, if_empty: str | None = None) -> str:
    """``value`` without surrounding blanks; one line (exit 2) when empty or not one line."""
    text = (value or "").strip()
    if not text:
        raise LabhooksError(if_empty or f"invalid {what}: it is empty")
    if breaks_a_line(text):
        raise LabhooksError(
            f"invalid {what} {printable(text)!r}: control characters and line breaks are not allowed")
    return text
