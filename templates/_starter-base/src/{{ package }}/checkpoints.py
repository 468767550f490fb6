"""Lightning checkpoints that rebuild their own model, written whole or not at all.

Every module a project trains keeps the resolved config it was built from
(``build_config``) in its checkpoint, so evaluating or ranking needs the file alone, not
the command line the training ran with.
"""

from __future__ import annotations

import errno
import os
import shlex
import signal
import sys
from pathlib import Path

import torch
from lightning.fabric.plugins import TorchCheckpointIO


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoints streamed by ``torch.save`` into a temporary file beside the target, then
    renamed over it: the previous checkpoint stays whole until the new one is.

    Lightning's own writer is atomic too, but it first builds the whole checkpoint in
    memory, writes it in one call to a file in the system's temp folder, and moves that
    into place: a full copy again when the logs are on another file system, as on
    clusters where /tmp is node-local. For the yield model's 53 MB checkpoint that was
    50 MiB more memory and 0.19 s against 0.02 s a save here
    (benchmarks/checkpoint_write_bench.py in labhooks). Remote paths (``s3://``) go to
    Lightning's writer.
    """

    def save_checkpoint(self, checkpoint, path, storage_options=None) -> None:
        if storage_options is not None or "://" in str(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = partial_path(path)
        try:
            # through a Python file: a full disk raises OSError(ENOSPC), where torch's own
            # writer raises a RuntimeError that does not say why
            with open(partial, "wb") as handle:
                torch.save(checkpoint, handle)
            os.replace(partial, path)
        except BaseException as exc:
            partial.unlink(missing_ok=True)
            if isinstance(exc, OSError):  # named after the checkpoint, not the temporary file
                raise OSError(exc.errno, exc.strerror, str(path)) from exc
            raise


def partial_path(path: Path) -> Path:
    """Where AtomicCheckpointIO writes ``path`` before renaming it into place."""
    return path.with_name(f".{path.name}.partial")


def load_rebuilt(path, error: type[Exception], *, missing: str, made_by: str):
    """(the model rebuilt from its checkpoint's config, with the trained weights; the
    whole checkpoint, for whatever else the project saved in it).

    ``error`` is the project's own one-line error; ``missing`` says what to run when there
    is no file, ``made_by`` names what writes these checkpoints.
    """
    import hydra
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


def run_training(run, cfg, module: str):
    """``run(cfg)``, ended by one line and a non-zero exit status where a training run is
    cut short by something other than a bug; ``module`` is what ``python -m`` runs
    (``PACKAGE.train``) in the resume command that line gives.

    - SIGTERM (``kill``, a scheduler's time limit): status 143 (128 + SIGTERM, as a shell
      reports a killed command). Lightning ends such a fit with SystemExit(None), status
      0, which a scheduler or a shell's ``&&`` would take for a finished run.
    - A full disk or quota: status 2, an error the user can fix. The checkpoint being
      written is dropped (AtomicCheckpointIO), the previous one is whole.
    """
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    try:
        return run(cfg)
    except SIGTERMException:
        _exit_resumable(cfg, module, 128 + signal.SIGTERM, "training stopped by SIGTERM", "", "nothing to resume from")
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        what = f"{exc.strerror} writing {exc.filename}" if exc.filename else exc.strerror
        _exit_resumable(cfg, module, 2, what, "free some space, then ", "free some space and run again")


def _exit_resumable(cfg, module: str, status: int, what: str, first: str, without_checkpoint: str):
    """One line: what stopped the run and the command that resumes it (``first``: what to
    do before that), or ``without_checkpoint`` before there is one; then exit ``status``."""
    last, resume = _resume_command(cfg, module)
    if last:
        print(f"error: {what}; its last finished epoch is in {last}; {first}resume it with: {resume}", file=sys.stderr)
    else:
        print(f"error: {what} before its first checkpoint: {without_checkpoint}", file=sys.stderr)
    sys.exit(status)


def _resume_command(cfg, module: str) -> tuple[Path | None, str | None]:
    """(last.ckpt, the command that resumes from it), or (None, None) before there is one."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    last = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    if not last.is_file():
        return None, None
    job = HydraConfig.get()
    overrides = [o for o in job.overrides.task if not o.startswith("ckpt_path=")]
    if job.mode == RunMode.MULTIRUN:
        overrides.append("hydra.mode=RUN")  # this job alone, not its sweep again
    return last, shlex.join(["python", "-m", module, *overrides, f"ckpt_path={last}"])
