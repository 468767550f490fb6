"""Lightning checkpoints that rebuild their own model.

Every module a project trains keeps the resolved config it was built from
(``build_config``) in its checkpoint, so evaluating or ranking needs the file alone, not
the command line the training ran with.
"""

from __future__ import annotations

import shlex
import signal
import sys
from pathlib import Path


def load_rebuilt(path, error: type[Exception], *, missing: str, made_by: str):
    """(the model rebuilt from its checkpoint's config, with the trained weights; the
    whole checkpoint, for whatever else the project saved in it).

    ``error`` is the project's own one-line error; ``missing`` says what to run when there
    is no file, ``made_by`` names what writes these checkpoints.
    """
    import hydra
    import torch
    from omegaconf import OmegaConf

    path = Path(path)
    if not path.is_file():
        raise error(f"{path} not found: {missing}")
    # our own checkpoint: it holds the optimizer partials, which need full unpickling
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    if not checkpoint.get("build_config"):
        raise error(f"{path} is not a checkpoint of this project's {made_by} (no build_config)")
    model = hydra.utils.instantiate(OmegaConf.create(checkpoint["build_config"]))
    model.load_state_dict(checkpoint["state_dict"])
    return model, checkpoint


def exit_143_on_sigterm(run, cfg, module: str):
    """``run(cfg)``. When SIGTERM (``kill``, a scheduler's time limit) stopped its fit: one
    line saying what is left and the command that resumes it, and exit status 143 (128 +
    SIGTERM, as a shell reports a killed command). Lightning ends such a fit with
    SystemExit(None), status 0, which a scheduler or a shell's ``&&`` would take for a
    finished run. ``module`` is what ``python -m`` runs, ``PACKAGE.train``."""
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    try:
        return run(cfg)
    except SIGTERMException:
        print(f"error: {_stopped_by_sigterm(cfg, module)}", file=sys.stderr)
        sys.exit(128 + signal.SIGTERM)


def _stopped_by_sigterm(cfg, module: str) -> str:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    last = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    if not last.is_file():
        return "training stopped by SIGTERM before its first checkpoint: nothing to resume from"
    job = HydraConfig.get()
    overrides = [o for o in job.overrides.task if not o.startswith("ckpt_path=")]
    if job.mode == RunMode.MULTIRUN:
        overrides.append("hydra.mode=RUN")  # this job alone, not its sweep again
    command = shlex.join(["python", "-m", module, *overrides, f"ckpt_path={last}"])
    return f"training stopped by SIGTERM; its last finished epoch is in {last}; resume it with: {command}"
