"""Values every scaffold may use: who, when, and which labhooks to hook up."""

from __future__ import annotations

import datetime as _dt

from labhooks import __version__
from labhooks.errors import LabhooksError
from labhooks.git.process import run_git


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
    }
