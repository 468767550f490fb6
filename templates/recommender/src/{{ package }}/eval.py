"""eval: a ranker checkpoint -> its test metrics, written beside nothing of the training run.

    python -m <package>.eval ckpt_path=logs/train/runs/<run>/checkpoints/last.ckpt
    python -m <package>.eval            # the pipeline's ranker, <run>/rankers/<ranker>/ranker.ckpt

The checkpoint holds the config its ranker was built from and the label scaling, so the
path is all it needs; the data settings say which rows are the test rows.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import hydra
from omegaconf import DictConfig

from .artifacts import write_text
from .entry import step_main

log = logging.getLogger(__name__)


def run(cfg: DictConfig) -> dict:
    from .models.ranker_module import load_ranker
    from .train import test_metrics

    path = Path(cfg.get("ckpt_path") or Path(cfg.paths.ranker) / "ranker.ckpt")
    datamodule = hydra.utils.instantiate(cfg.datamodule)
    datamodule.setup()
    model = load_ranker(path, datamodule.embeddings_digest)
    trainer = hydra.utils.instantiate(cfg.trainer, callbacks=[], logger=False, enable_progress_bar=False)
    metrics = test_metrics(trainer, model, datamodule)
    write_text(Path(cfg.paths.output_dir) / "metrics.json",
               json.dumps({"checkpoint": str(path), "ranker": model.hparams.name, "metrics": metrics}, indent=2))
    shown = ", ".join(f"{k} {v:.3g}" for k, v in metrics.items())
    print(f"evaluated {path} on {len(datamodule.rows['test'])} test rows: {shown}")
    return metrics


main = step_main(run)

if __name__ == "__main__":
    main()
