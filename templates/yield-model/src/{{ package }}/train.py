"""Train one model on one split and write its metrics, plots and predictions.

    python -m <package>.train experiment=full_model data=buchwald_hartwig data.split=FullCV_01
    python -m <package>.train -m experiment=rf_morgan sweep=fullcv
    python -m <package>.train ckpt_path=logs/train/runs/<run>/checkpoints/last.ckpt   # resume

Everything that is built comes from the configs (``_target_``); this file only
instantiates, fits and tests.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

# Hydra resolves ${paths.root_dir} from this; set before Hydra reads the configs.
_SOURCE_ROOT = Path(__file__).resolve().parents[2]
if (_SOURCE_ROOT / "configs").is_dir():
    os.environ.setdefault("PROJECT_ROOT", str(_SOURCE_ROOT))

import hydra  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402

log = logging.getLogger(__name__)

# ${dims:NAME} in a model config: a size the data decides (vocabulary, atom features).
_DATA = []
OmegaConf.register_new_resolver("dims", lambda name: _DATA[-1].dims[name], replace=True)


def build_model(model_cfg: DictConfig, datamodule):
    """Instantiate ``model_cfg``; modules that take ``build_config`` get the resolved
    config (YAML) they were built from, which their checkpoints keep for eval.py."""
    _DATA.append(datamodule)
    try:
        extra = {}
        if "build_config" in model_cfg:
            extra["build_config"] = OmegaConf.to_yaml(OmegaConf.to_container(model_cfg, resolve=True))
        return hydra.utils.instantiate(model_cfg, **extra)
    finally:
        _DATA.pop()


def instantiate_group(group: DictConfig | None) -> list:
    """Every entry of a callbacks/ or logger/ group that has a ``_target_``."""
    return [hydra.utils.instantiate(c) for c in (group or {}).values() if isinstance(c, DictConfig) and "_target_" in c]


def predict_and_calibrate(predict, datamodule, calibrate: bool, out_of_bag=None):
    """(test predictions, their extra metrics, validation predictions or None), the
    variances recalibrated, when asked, on the validation rows or, without any, on the
    model's own out-of-bag predictions of the training rows (``out_of_bag()``: y and
    predictions; the forest has them)."""
    from .metrics import regression_metrics
    from .uncertainty import Recalibration

    split = datamodule.load()
    test = predict("test")
    extra, val, held_out, source = {}, None, None, None
    if split.val is not None and len(split.val) >= 2:
        val = predict("val")
        y_val = split.val["yield"].to_numpy()
        extra.update({f"val_{k}": v for k, v in regression_metrics(y_val, val.mean, val.total_variance).items()})
        held_out, source = (y_val, val), "validation"
    elif calibrate and out_of_bag is not None:
        held_out, source = out_of_bag(), "out_of_bag"
    if calibrate and held_out is not None:
        recalibration = Recalibration.fit(*held_out)
        extra.update(recalibration.describe(), calibrated_on=source, calibration_rows=len(held_out[0]))
        test = recalibration(test)
        val = None if val is None else recalibration(val)
    return test, extra, val


def restore_best(trainer, model, monitor: str, extra: dict) -> None:
    """Predict with the weights of the best epoch when that was judged on held-out rows
    (a val/ monitor); on train/loss the last epoch is the best-trained one."""
    import torch

    if not monitor.startswith("val/"):
        return
    for callback in trainer.checkpoint_callbacks:
        if callback.monitor == monitor and callback.best_model_path:
            state = torch.load(callback.best_model_path, map_location=model.device, weights_only=False)
            model.load_state_dict(state["state_dict"])
            extra["best_epoch"] = int(state["epoch"])
            log.info("predicting with epoch %d, the best %s (%s)", state["epoch"], monitor,
                     Path(callback.best_model_path).name)
            return


def fit_lightning(cfg: DictConfig, model, datamodule, out_dir: Path):
    from .callbacks import EpochTimer
    from .uncertainty import mc_dropout_predict

    import numpy as np

    extra = {"n_parameters": int(sum(p.numel() for p in model.parameters()))}
    if cfg.get("pretrain") and cfg.get("pretrain_epochs"):
        pretrainer = hydra.utils.instantiate(cfg.pretrain)(net=model.net)
        # the same progress bar as the fit (a fresh one: a callback belongs to one trainer)
        bar = (cfg.get("callbacks") or {}).get("rich_progress_bar")
        t0 = time.perf_counter()
        hydra.utils.instantiate(
            cfg.trainer, max_epochs=int(cfg.pretrain_epochs), max_time=None,
            callbacks=[hydra.utils.instantiate(bar)] if bar else [], logger=False,
            enable_checkpointing=False, default_root_dir=str(out_dir / "pretrain"),
        ).fit(pretrainer, train_dataloaders=datamodule.train_dataloader())
        extra["pretrain_seconds"] = time.perf_counter() - t0
    callbacks, loggers = instantiate_group(cfg.get("callbacks")), instantiate_group(cfg.get("logger"))
    trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    t0 = time.perf_counter()
    trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    extra["train_seconds"] = time.perf_counter() - t0
    extra["epochs"] = int(trainer.current_epoch)
    timers = [c for c in trainer.callbacks if isinstance(c, EpochTimer) and c.durations]
    extra["epoch_seconds_median"] = float(np.median(timers[0].durations)) if timers else None
    extra["checkpoints"] = sorted({c.best_model_path for c in trainer.checkpoint_callbacks if c.best_model_path})
    print(f"rank {trainer.global_rank} of {trainer.world_size} finished training", file=sys.stderr, flush=True)
    if not trainer.is_global_zero:
        return trainer, None, extra
    restore_best(trainer, model, str(cfg.monitor), extra)
    p = datamodule.prepared
    loaders = {"test": datamodule.test_dataloader, "val": lambda: datamodule._loader(p.val_rows, False)}
    samples = int(model.hparams.mc_samples)

    def predict(which):
        return mc_dropout_predict(model.net, loaders[which](), samples=samples, y_mean=p.y_mean, y_std=p.y_std,
                                  device=model.device, mean_from=model.hparams.mean_from,
                                  description=f"MC-dropout on {which}")

    t0 = time.perf_counter()
    predictions, calibration, val = predict_and_calibrate(predict, datamodule, cfg.calibrate)
    extra["predict_seconds"] = time.perf_counter() - t0
    return trainer, (predictions, val), {**extra, **calibration}


def run(cfg: DictConfig) -> dict | None:
    """Train and evaluate as configured; returns the test metrics (None on non-zero DDP ranks)."""
    # here, not at the top: a multirun's launcher process imports this module only to
    # send the jobs off, and Lightning costs it seconds
    import lightning as L

    from .cores import set_up_torch
    from .metrics import VAL_PREDICTIONS, write_predictions, write_run_outputs

    L.seed_everything(cfg.seed, workers=True)
    set_up_torch(cfg.get("torch_threads"))
    out_dir = Path(cfg.paths.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    datamodule = hydra.utils.instantiate(cfg.data)
    datamodule.prepare_data()
    split = datamodule.load()
    log.info("data %s split %s: %d train, %d validation, %d test", datamodule.name, split.name, len(split.train),
             0 if split.val is None else len(split.val), len(split.test))
    t0 = time.perf_counter()
    model = build_model(cfg.model, datamodule)
    trainer = None
    if isinstance(model, L.LightningModule):
        featurize_seconds = time.perf_counter() - t0
        trainer, predicted, extra = fit_lightning(cfg, model, datamodule, out_dir)
        extra["featurize_seconds"] = featurize_seconds
        if predicted is None:
            return None
        predictions, val = predicted
    else:
        model.fit(datamodule)
        predictions, extra, val = predict_and_calibrate(lambda which: model.predict(getattr(split, which)),
                                                        datamodule, cfg.calibrate,
                                                        out_of_bag=lambda: model.out_of_bag(datamodule))
        extra.update(train_seconds=time.perf_counter() - t0, n_features=model.n_features)
    extra.update(experiment=cfg.get("experiment_name"), data=datamodule.name, split=split.name,
                 seed=int(cfg.seed), n_train=len(split.train))
    metrics = write_run_outputs(out_dir, split.test["rxn"], split.test["yield"].to_numpy(), predictions, extra)
    if val is not None:
        # the rows this run never trained on: an ensemble pools its members' to calibrate
        write_predictions(out_dir / VAL_PREDICTIONS, split.val["rxn"], split.val["yield"].to_numpy(), val)
    if trainer is not None:
        for logger in trainer.loggers:
            logger.log_metrics({f"test/{k}": float(v) for k, v in metrics.items() if isinstance(v, (int, float))})
            logger.save()
    log.info(
        "%s on %s/%s: R2 %.4f  MAE %.2f  RMSE %.2f  Spearman(|err|,unc) %.3f  coverage95 %.3f",
        metrics["experiment"], datamodule.name, split.name, metrics["r2"], metrics["mae"], metrics["rmse"],
        metrics["spearman_abs_err_uncertainty"], metrics["coverage_95"],
    )
    return metrics


def metric_value(metrics: dict, name: str) -> float:
    """``test/r2`` -> metrics["r2"], ``val/r2`` -> metrics["val_r2"]: what a sweeper optimises."""
    stage, _, key = name.partition("/")
    value = metrics.get(key if stage == "test" else f"{stage}_{key}")
    if value is None:
        raise KeyError(f"optimized_metric {name!r} was not measured (val/ metrics need data.val_fraction > 0)")
    return float(value)


@hydra.main(version_base="1.3", config_path=str(_SOURCE_ROOT / "configs"), config_name="train")
def main(cfg: DictConfig) -> float | None:
    from .checkpoints import run_training
    from .data import DataError

    try:
        metrics = run_training(run, cfg, f"{__package__}.train")
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    if metrics is None or not cfg.get("optimized_metric"):
        return None
    return metric_value(metrics, cfg.optimized_metric)


if __name__ == "__main__":
    main()
