"""Evaluate a Lightning checkpoint of a training run on a data split.

    python -m <package>.eval ckpt_path=logs/train/runs/<run>/checkpoints/last.ckpt data=buchwald_hartwig data.split=Test1

The checkpoint holds the config its model was built from and the data module's
vocabulary and yield scaling, so the path is all that is needed.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parents[2]
if (_SOURCE_ROOT / "configs").is_dir():
    os.environ.setdefault("PROJECT_ROOT", str(_SOURCE_ROOT))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

log = logging.getLogger(__name__)


def load_checkpoint(path):
    """(model with trained weights, the data module state) from a Lightning checkpoint."""
    from .checkpoints import load_rebuilt
    from .data import DataError
    from .datamodule import ReactionDataModule

    model, checkpoint = load_rebuilt(path, DataError, made_by="train.py",
                                     missing=f"train first (python -m {__package__}.train), or give ckpt_path=")
    return model, checkpoint.get(ReactionDataModule.__qualname__, {})


def run(cfg: DictConfig) -> dict:
    from .cores import set_up_torch
    from .metrics import write_run_outputs
    from .uncertainty import DEFAULT_MEAN_FROM, mc_dropout_predict

    set_up_torch(cfg.get("torch_threads"))
    model, data_state = load_checkpoint(cfg.ckpt_path)
    datamodule = hydra.utils.instantiate(cfg.data)
    datamodule.load_state_dict(data_state)
    datamodule.setup("test")
    split, p = datamodule.load(), datamodule.prepared
    samples = int(cfg.mc_samples if cfg.mc_samples is not None else model.hparams.mc_samples)
    mean_from = cfg.get("mean_from") or model.hparams.get("mean_from", DEFAULT_MEAN_FROM)
    predictions = mc_dropout_predict(model.net, datamodule.test_dataloader(), samples=samples, y_mean=p.y_mean,
                                     y_std=p.y_std, mean_from=mean_from, description="MC-dropout on test")
    extra = {"checkpoint": str(cfg.ckpt_path), "data": datamodule.name, "split": split.name, "mc_samples": samples,
             "mean_from": mean_from}
    metrics = write_run_outputs(cfg.paths.output_dir, split.test["rxn"], split.test["yield"].to_numpy(),
                                predictions, extra)
    log.info("%s on %s/%s: R2 %.4f MAE %.2f", cfg.ckpt_path, datamodule.name, split.name, metrics["r2"], metrics["mae"])
    return metrics


@hydra.main(version_base="1.3", config_path=str(_SOURCE_ROOT / "configs"), config_name="eval")
def main(cfg: DictConfig) -> float:
    from .data import DataError

    try:
        return run(cfg)["r2"]
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
