"""What every benchmark here does before timing labhooks."""

from __future__ import annotations

import compileall
import os
from pathlib import Path


def compile_labhooks() -> str:
    """Time labhooks the way an installed wheel runs it: from compiled bytecode.

    pip compiles a wheel's modules when it installs them; an editable install under
    PYTHONDONTWRITEBYTECODE (set on this lab's shared machines) never does, and would
    otherwise recompile every module on every run. Returns a line for the report.
    """
    import labhooks

    package = Path(labhooks.__file__).resolve().parent
    compileall.compile_dir(str(package), quiet=1)
    flag = os.environ.get("PYTHONDONTWRITEBYTECODE")
    return f"labhooks from {package}, compiled to bytecode first (PYTHONDONTWRITEBYTECODE={flag or 'unset'})"
