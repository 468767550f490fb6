"""What each forge documents about how big files, pushes and repositories may be.

One table, so the guard's limits and the scan's report quote the same figures. Sizes
are bytes, read the way the forge reports them: GitHub's "100.00 MB" refusal is
104,857,600 bytes (see labhooks.sizes), so its GB and MB are powers of 1024 here too.
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024**2
GiB = 1024**3


@dataclass(frozen=True)
class ForgeLimits:
    name: str
    file_warning: int | None  # a push holding a file this big or bigger gets a warning
    file_limit: int  # a push holding a file this big or bigger is refused (labhooks.sizes.reaches)
    push_limit: int | None  # one push may carry at most this much
    repo_recommended: int | None  # the size the forge asks repositories to stay under
    source: str  # where the forge documents these figures


GITHUB = ForgeLimits(
    name="GitHub",
    file_warning=50 * MiB,
    file_limit=100 * MiB,
    push_limit=2 * GiB,
    repo_recommended=1 * GiB,  # "ideally less than 1 GB, and less than 5 GB is strongly recommended"
    source="docs.github.com: About large files on GitHub; Repository limits",
)


FORGES = {"github": GITHUB}
