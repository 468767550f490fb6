"""Text that fits a terminal: every row on one line at any width from 60 columns up.

Each column says how it may give way: a path loses its middle (the folder's start and
the file name stay readable), free text loses its end, an object id is cut to a shorter
prefix (still a valid abbreviation), a figure never changes. When shrinking every column
to its least width is not enough, whole columns go, least important first, and the
caller says which in a footer. Nothing here knows what the table is about: scan's
tables, check-large's findings and clean-large's plan are fitted by the same code.

Standard library only, and nothing imported until a terminal asks for it: the guard
imports this module on the hook path. Output that is not a terminal is never fitted
(a pipe or a CI log keeps every value whole).
"""

from __future__ import annotations

GAP = 2  # blanks between two columns

MIDDLE, END, PREFIX, FIXED = "middle", "end", "prefix", "fixed"

ELLIPSIS = "…"

MORE_MARK = "  +"  # "path  +2 more": a shortened path keeps its count of further paths


class Column:
    # A plain class, not a dataclass: the guard imports this module on the hook path,
    # where importing dataclasses costs start-up time.
    __slots__ = ("header", "shorten", "least", "drop", "right", "label")

    def __init__(self, header: str, shorten: str = FIXED, least: int = 0, drop: int = 0, right: bool = False,
                 label: str = ""):
        self.header = header
        self.shorten = shorten  # how a cell gives way: MIDDLE, END, PREFIX or FIXED
        self.least = least  # narrowest useful width (FIXED columns keep their natural width)
        self.drop = drop  # 0: never dropped; otherwise dropped in rising order (1 goes first)
        self.right = right  # right-aligned (figures)
        self.label = label  # its name in the footer, when the header is blank

    @property
    def name(self) -> str:
        return self.label or self.header


class Fitted:
    __slots__ = ("columns", "rows", "widths", "dropped")

    def __init__(self, columns: list[Column], rows: list[list[str]], widths: list[int], dropped: list[str]):
        self.columns = columns
        self.rows = rows
        self.widths = widths
        self.dropped = dropped  # headers of the columns left out, in table order


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes: wide East Asian characters take two, combining
    marks and zero-width characters none."""
    if text.isascii():
        return len(text)
    import unicodedata

    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def terminal_width(stream) -> int | None:
    """The width to fit output to: the terminal's (COLUMNS first), None when ``stream``
    is not a terminal, so that pipes and logs get every value whole."""
    if not (hasattr(stream, "isatty") and stream.isatty()):
        return None
    import shutil

    return shutil.get_terminal_size().columns


def fold(text: str, width: int | None, indent: str = "", keep: str = "", later: str | None = None) -> list[str]:
    """``text`` as lines of at most ``width`` cells (None: one line, as it is).

    Words are never cut. ``keep`` is a command to paste: it is never shortened, and when
    it does not fit after the words before it, it starts a line of its own, broken
    between shell words with a trailing backslash, so that the lines pasted together
    still run exactly it; only one word longer than the terminal (a long quoted path)
    makes a line wider than the terminal. Words after the command that need lines of
    their own become a shell comment (``# ...``), so pasting them too runs nothing more.
    ``later``: the indent of the lines after the first (default ``indent``).
    """
    if width is None:
        return [indent + text]
    later = indent if later is None else later
    if not keep or keep not in text:
        return _wrap(text, width, indent, later)
    before, _, after = text.partition(keep)
    lines = _wrap(before.rstrip(), width, indent, later) if before.strip() else []
    # the command goes on after the words before it, and breaks only where it must
    lines += command_lines(keep, width, lines.pop() if lines else indent, later + "  ")
    after = after.strip()
    if after.startswith("# "):  # already a shell comment: one marker is enough
        after = after[2:].lstrip()
    if after:
        if cell_width(f"{lines[-1]}   # {after}") <= width:
            lines[-1] += "   # " + after
        else:
            lines += _wrap(after, width, later + "# ", later + "# ")
    return lines


def command_lines(command: str, width: int, start: str = "", later: str = "  ") -> list[str]:
    """``command`` in lines of at most ``width`` cells where its words allow, each but
    the last ending in a backslash: pasted together, they are the same command.
    ``start``: what the first line holds before it (an indent, or words)."""
    lines: list[str] = []
    line = start
    for word in shell_words(command):
        if line.strip() and cell_width(f"{line} {word} \\") > width:
            lines.append(line + " \\")
            line = later + word
        else:
            line = f"{line} {word}" if line.strip() else line + word
    return [*lines, line]


def shell_words(command: str) -> list[str]:
    """``command`` split at the blanks a shell splits at (outside '...', "..." and
    $'...'), each word kept exactly as written."""
    words, word, quote, i = [], "", "", 0
    while i < len(command):
        ch = command[i]
        if quote:
            word += ch
            if ch == "\\" and quote != "'" and i + 1 < len(command):
                word += command[i + 1]
                i += 1
            elif ch == quote[-1]:
                quote = ""
        elif ch == " ":
            if word:
                words.append(word)
            word = ""
        elif ch == "\\" and i + 1 < len(command):
            word += command[i:i + 2]
            i += 1
        elif ch in "'\"":
            quote = "$'" if ch == "'" and word.endswith("$") else ch
            word += ch
        else:
            word += ch
        i += 1
    return [*words, word] if word else words


def _wrap(text: str, width: int, indent: str, later: str) -> list[str]:
    import textwrap

    # textwrap counts characters, not cells: where wide characters make a line too wide,
    # wrap again a little narrower
    lines: list[str] = []
    for limit in range(max(width, 10), 9, -1):
        lines = textwrap.wrap(text, limit, initial_indent=indent, subsequent_indent=later,
                              break_long_words=False, break_on_hyphens=False)
        # a line of one word (after a comment's "#") cannot be folded further
        if all(cell_width(line) <= width or " " not in line.strip().lstrip("#").strip() for line in lines):
            break
    return lines or [indent]


def _cut(text: str, width: int, keep_end: bool) -> str:
    """The longest start (or end) of ``text`` that takes at most ``width`` cells."""
    if keep_end:
        text = text[::-1]
    out, used = [], 0
    for ch in text:
        used += cell_width(ch)
        if used > width:
            break
        out.append(ch)
    piece = "".join(out)
    return piece[::-1] if keep_end else piece


def shorten(text: str, width: int, how: str) -> str:
    """``text`` in at most ``width`` cells, given way as ``how`` says."""
    if cell_width(text) <= width or how == FIXED:
        return text
    if width <= 1:
        return _cut(text, width, False)
    if how == PREFIX:
        return _cut(text, width, False)
    if how == END:
        return _cut(text, width - 1, False) + ELLIPSIS
    if MORE_MARK in text:
        head, mark, count = text.rpartition(MORE_MARK)
        room = width - cell_width(mark + count)
        if room >= 4:
            return shorten(head, room, how) + mark + count
    # Middle: the end matters more than the start (the top folder), and the file name
    # most: it stays whole whenever a little of the start can still be shown.
    tail = (width - 1) * 2 // 3
    name = "/" + text.rpartition("/")[2]
    if tail < cell_width(name) <= width - 4:
        tail = cell_width(name)
    return _cut(text, width - 1 - tail, False) + ELLIPSIS + _cut(text, tail, True)


def _natural(column: Column, cells: list[str]) -> int:
    return max([cell_width(column.header), *map(cell_width, cells)])


def fit(columns: list[Column], rows: list[list[str]], width: int | None) -> Fitted:
    """The columns and cells to show in ``width`` cells (None: everything, unshortened)."""
    keep = list(range(len(columns)))
    natural = [_natural(c, [row[i] for row in rows]) for i, c in enumerate(columns)]
    if width is None:
        return Fitted(columns, rows, natural, [])

    def least(i: int) -> int:
        column = columns[i]
        if column.shorten == FIXED:
            return natural[i]
        return min(natural[i], max(column.least, cell_width(column.header)))

    def total(widths: dict[int, int]) -> int:
        return sum(widths.values()) + GAP * (len(widths) - 1)

    droppable = sorted((i for i, c in enumerate(columns) if c.drop), key=lambda i: columns[i].drop)
    while True:
        floor = {i: least(i) for i in keep}
        if total(floor) <= width or not droppable:
            break
        keep.remove(droppable.pop(0))
    # The room left goes back to the columns that gave way, the most important first:
    # those never dropped (the paths), then in falling drop order.
    widths = dict(floor)
    room = width - total(widths)
    for i in sorted(keep, key=lambda i: -(columns[i].drop or len(columns) + 1)):
        grant = min(room, natural[i] - widths[i])
        if grant > 0:
            widths[i] += grant
            room -= grant
    shown = [columns[i] for i in keep]
    cells = [[shorten(row[i], widths[i], columns[i].shorten) for i in keep] for row in rows]
    dropped = [c.name for i, c in enumerate(columns) if i not in keep]
    return Fitted(shown, cells, [widths[i] for i in keep], dropped)


def plain_lines(fitted: Fitted) -> list[str]:
    """The fitted table as aligned text lines, header first."""
    lines = []
    for row in [[c.header for c in fitted.columns], *fitted.rows]:
        cells = []
        for cell, column, width in zip(row, fitted.columns, fitted.widths):
            pad = " " * (width - cell_width(cell))
            cells.append(pad + cell if column.right else cell + pad)
        lines.append((" " * GAP).join(cells).rstrip())
    return lines


def dropped_note(dropped: list[str], full: str) -> str:
    """The footer that says which columns this width left out and where they are."""
    if not dropped:
        return ""
    names = ", ".join(dropped)
    return f"not shown at this width: {names} ({full})"
