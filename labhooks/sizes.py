"""Parse and format byte sizes; every size option and every size printed goes through here.

The one threshold rule: **over SIZE means SIZE or more.** The guard refuses, the scan
lists and clean-large strips exactly the blobs of at least SIZE bytes, so a blob of
exactly the limit is judged alike by all three (GitHub refuses a file of exactly 100 MiB
too). Tools that count "bigger than" (BFG, git-filter-repo) are handed SIZE - 1.

K, M, G and T are powers of 1024 whatever the suffix: GitHub's "100.00 MB" push limit
is 104,857,600 bytes, so reading ``100MB`` as 10^8 would let a 99 MiB+ blob through.
"""

from __future__ import annotations

from labhooks.errors import LabhooksError

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
# a number, then nothing, a lone B, or K/M/G/T with an optional B or iB
_SIZE_PATTERN = r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(?:([KMGT])(?:I?B)?|B)?\s*$"


class SizeError(LabhooksError):
    def __init__(self, text: str):
        super().__init__(
            f"invalid size {text!r}: use a number with an optional K, M, G or T suffix "
            "(powers of 1024), e.g. 100M, 1.5G, 512KiB or 1048576",
            exit_code=2,
        )


def parse_size(text: str | int) -> int:
    """Return the number of bytes that ``text`` names (``100M`` -> 104857600)."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise SizeError(str(text))
        return text
    if isinstance(text, str):
        # "100M", "1048576": what defaults and most settings are, read without importing
        # re (the commit hook's start-up); the pattern below reads these the same way
        plain = text.strip()
        digits, unit = (plain, "") if plain.isdecimal() else (plain[:-1], plain[-1:].upper())
        if digits.isdecimal() and unit in _UNITS:
            return int(round(float(digits) * _UNITS[unit]))
    import re

    match = re.match(_SIZE_PATTERN, text, re.IGNORECASE) if isinstance(text, str) else None
    if not match:
        raise SizeError(text if isinstance(text, str) else repr(text))
    number, unit = match.group(1), (match.group(2) or "").upper()
    if not unit and "." in number:
        raise SizeError(str(text))  # a fraction of a byte is meaningless
    return int(round(float(number) * _UNITS[unit]))


def format_size(num_bytes: int | None) -> str:
    """Human size with binary units: ``123.0 MiB``; ``unknown`` for None."""
    if num_bytes is None:
        return "unknown"
    if num_bytes < 1024:
        return f"{num_bytes} B"
    value = float(num_bytes)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def reaches(size: int, limit: int) -> bool:
    """Whether a blob of ``size`` bytes is over ``limit`` in labhooks' sense (SIZE or more)."""
    return size >= limit


def bigger_than_arg(limit: int) -> str:
    """``limit`` for a tool's ``--strip-blobs-bigger-than`` (strictly bigger), so that it
    strips what labhooks calls over ``limit``: SIZE or more."""
    return git_size_arg(max(limit - 1, 0))


def git_size_arg(num_bytes: int) -> str:
    """Spell a byte count in the K/M/G form git tools accept, exactly when possible.

    git-filter-repo and BFG read ``100M`` as 100 * 1024**2, the same as we do; a count
    that is not a whole number of K/M/G is passed as plain bytes.
    """
    for suffix, factor in (("G", 1024**3), ("M", 1024**2), ("K", 1024)):
        if num_bytes and num_bytes % factor == 0:
            return f"{num_bytes // factor}{suffix}"
    return str(num_bytes)
