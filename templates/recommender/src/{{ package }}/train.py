"""train: embeddings + labels -> a ranker trained by Lightning, tested on the held-out
rows: ``<run>/rankers/<ranker>/ranker.ckpt`` (what ``rank`` reads) and ``metrics.json``;
the run's own folder (``logs/train/runs/<date>/``) keeps its checkpoints and logs.

    python -m <package>.train [ranker=single_task] [trainer.max_epochs=100]
    python -m <package>.train -m ranker=mmoe,single_task                 # compare
    python -m <package>.train ckpt_path=logs/train/runs/<run>/checkpoints/last.ckpt   # resume

Everything built comes from the configs (``_target_``); this file only instantiates,
fits and tests.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from .artifacts import write_text
from .entry import step_main

log = logging.getLogger(__name__)

# ${dims:NAME} in a ranker config: a size the data decides (input width, tasks).
_DATA: list = []
OmegaConf.register_new_resolver("dims", lambda name: _DATA[-1].dims[name], replace=True)


def build_ranker(ranker_cfg: DictConfig, datamodule):
    """Instantiate ``ranker_cfg``; the module keeps the resolved config (YAML) it was
    built from, so that its checkpoints rebuild it alone."""
    _DATA.append(datamodule)
    try:
        resolved = OmegaConf.to_yaml(OmegaConf.to_container(ranker_cfg, resolve=True))
        return hydra.utils.instantiate(ranker_cfg, build_config=resolved)
    finally:
        _DATA.pop()


def instantiate_group(group: DictConfig | None) -> list:
    """Every entry of a callbacks/ or logger/ group that has a ``_target_``."""
    return [hydra.utils.instantiate(c) for c in (group or {}).values() if isinstance(c, DictConfig) and "_target_" in c]


def test_metrics(trainer, model, datamodule) -> dict:
    """``test/loss`` and ``test/<task>/mae|r2`` of ``trainer.test``, or nothing without test rows."""
    if not datamodule.rows["test"]:
        return {}
    (results,) = trainer.test(model, datamodule=datamodule, verbose=False)
    return {k: float(v) for k, v in results.items()}


def run(cfg: DictConfig) -> dict:
    import lightning as L

    from .cores import set_up_torch
    from .models.ranker_module import property_metrics

    L.seed_everything(cfg.seed, workers=True)
    set_up_torch(cfg.get("torch_threads"))
    datamodule = hydra.utils.instantiate(cfg.datamodule)
    datamodule.setup()
    model = build_ranker(cfg.ranker, datamodule)
    trainer = hydra.utils.instantiate(cfg.trainer, callbacks=instantiate_group(cfg.get("callbacks")),
                                      logger=instantiate_group(cfg.get("logger")) or False)
    trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}  # train/loss, val/loss
    metrics.update(test_metrics(trainer, model, datamodule))
    x, y = datamodule.split("train")
    train_fit = property_metrics(model.predict_properties(x), y, datamodule.tasks)
    metrics.update({f"train/{task}/{key}": value for task, values in train_fit.items()
                    for key, value in values.items() if key != "n"})
    summary = {"ranker": model.hparams.name, "tasks": datamodule.tasks, "epochs": int(trainer.current_epoch),
               "n_train": len(datamodule.rows["train"]), "n_val": len(datamodule.rows["val"]),
               "n_test": len(datamodule.rows["test"]), "metrics": metrics}
    out = Path(cfg.paths.ranker)
    trainer.save_checkpoint(out / "ranker.ckpt")  # the final weights: what `rank` reads
    for folder in (out, Path(cfg.paths.output_dir)):
        write_text(folder / "metrics.json", json.dumps(summary, indent=2))
    shown = "; ".join(f"{t} MAE {metrics.get(f'test/{t}/mae', metrics[f'train/{t}/mae']):.3g}"
                      for t in datamodule.tasks)
    print(f"trained {model.hparams.name} for {summary['epochs']} epochs on {summary['n_train']} "
          f"(tested on {summary['n_test']}): {shown} -> {out / 'ranker.ckpt'}")
    return metrics


def metric_value(metrics: dict, name: str) -> float:
    """What a sweeper optimises: ``test/loss``, ``val/loss``, ``test/<task>/mae`` ..."""
    if name not in metrics:
        raise KeyError(f"optimized_metric {name!r} was not measured (known: {sorted(metrics)})")
    return metrics[name]


def main_task(cfg: DictConfig) -> float | None:
    from .checkpoints import run_training

    metrics = run_training(run, cfg, f"{__package__}.train")
    return metric_value(metrics, cfg.optimized_metric) if cfg.get("optimized_metric") else None


main = step_main(main_task)

if __name__ == "__main__":
    main()
