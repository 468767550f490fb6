"""Values every scaffold may use: who, when, and which labhooks to hook up."""

from __future__ import annotations

import datetime as _dt
import re

from labhooks import __version__
from labhooks.errors import LabhooksError
from labhooks.git.process import run_git

LABHOOKS_REPO = "https://github.com/labhooks/labhooks"


def git_user_name(cwd=None) -> str | None:
    try:
        out = run_git(["config", "user.name"], cwd, check=False)
    except (LabhooksError, OSError):
        return None
    name = out.stdout.strip()
    return name or None


def base_context(*, author: str | None = None, today: _dt.date | None = None, cwd=None) -> dict:
    today = today or _dt.date.today()
    return {
        "author": author or git_user_name(cwd) or "Your Name",
        "date": today.isoformat(),
        "year": today.year,
        "labhooks_version": __version__,
        "labhooks_repo": LABHOOKS_REPO,
        "labhooks_rev": f"v{__version__}",
    }


def python_package_name(name: str) -> str:
    """``My Yield-Model 2`` -> ``my_yield_model_2``; the caller validates the result."""
    return re.sub(r"[^0-9a-zA-Z]+", "_", name.strip()).strip("_").lower()
