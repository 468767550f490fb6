"""What every step's entry point shares: the configs of this checkout, and one line
with exit status 2 for an error the user can fix (a missing input, a bad setting)."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = _SOURCE_ROOT / "configs"
# ${paths.root_dir} resolves from this; set before Hydra reads the configs
if CONFIG_DIR.is_dir():
    os.environ.setdefault("PROJECT_ROOT", str(_SOURCE_ROOT))


def step_main(run):
    """``python -m PACKAGE.STEP [overrides]``: compose ``configs/config.yaml`` with the
    overrides and call ``run(cfg)``; its return value goes to a sweeper."""
    import hydra

    from .artifacts import StepError

    # wraps: Hydra names the job (logs/<step>/...) after the module that runs
    @functools.wraps(run)
    def task(cfg):
        try:
            return run(cfg)
        except StepError as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(2)

    def main():
        if not CONFIG_DIR.is_dir():
            print(f"error: configs not found at {CONFIG_DIR} (run from the project checkout)", file=sys.stderr)
            sys.exit(2)
        return hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")(task)()

    return main
