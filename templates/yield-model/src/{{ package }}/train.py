"""Train one model on one split and write its metrics, plots and predictions.

    python -m <package>.train experiment=full_model data=buchwald_hartwig data.split=FullCV_01
    python -m <package>.train -m experiment=rf_morgan sweep=fullcv
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

# Hydra resolves ${paths.root_dir} from this; set before Hydra reads the configs.
_SOURCE_ROOT = Path(__file__).resolve().parents[2]
if (_SOURCE_ROOT / "configs").is_dir():
    os.environ["PROJECT_ROOT"] = str(_SOURCE_ROOT)

import hydra  # noqa: E402
import lightning as L  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402

log = logging.getLogger(__name__)


class EpochTimer(L.Callback):
    """Wall time of each training epoch (reported as the median)."""

    def __init__(self):
        self.durations = []
        self._start = None

    def on_train_epoch_start(self, trainer, pl_module):
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module):
        if self._start is not None:
            self.durations.append(time.perf_counter() - self._start)
            loss = trainer.callback_metrics.get("train/loss")
            log.info(
                "epoch %d: %.1f s, train loss %s",
                trainer.current_epoch, self.durations[-1], "n/a" if loss is None else f"{float(loss):.4f}",
            )


def make_trainer(cfg: DictConfig, out_dir: Path, callbacks=(), **overrides):
    from lightning.pytorch.loggers import CSVLogger

    kwargs = OmegaConf.to_container(cfg.trainer, resolve=True)
    kwargs.update(overrides)
    return L.Trainer(
        default_root_dir=str(out_dir),
        logger=CSVLogger(str(out_dir), name="logs"),
        enable_checkpointing=False,
        callbacks=list(callbacks),
        **kwargs,
    )


def train_neural(cfg: DictConfig, split, out_dir: Path):
    import numpy as np
    import torch

    from .lightning_modules import ContrastivePretrainer, ReactionDataModule, YieldRegressor, prepare
    from .models.yield_model import YieldModel
    from .uncertainty import mc_dropout_predict

    m = cfg.model
    t0 = time.perf_counter()
    prepared = prepare(split, m, cache_dir=cfg.paths.cache_dir)
    featurize_seconds = time.perf_counter() - t0
    net = YieldModel(
        m,
        atom_dim=prepared.table.atom_dim,
        bond_dim=prepared.table.bond_dim,
        vocab_size=len(prepared.tokenizer),
        pad_id=prepared.tokenizer.pad_id,
    )
    datamodule = ReactionDataModule(
        prepared,
        batch_size=m.batch_size,
        num_workers=cfg.data.num_workers,
        with_graphs=bool(m.branches.graph),
        val_fraction=cfg.data.val_fraction,
        seed=cfg.seed,
    )
    extra = {
        "featurize_seconds": featurize_seconds,
        "n_molecules": len(prepared.table.molecules),
        "n_parameters": int(sum(p.numel() for p in net.parameters())),
    }
    if m.contrastive.epochs > 0:
        c = m.contrastive
        pretrainer = ContrastivePretrainer(net, proj_dim=c.proj_dim, init_temperature=c.init_temperature, lr=c.lr)
        t0 = time.perf_counter()
        make_trainer(cfg, out_dir / "pretrain", max_epochs=int(c.epochs), max_time=None).fit(
            pretrainer, train_dataloaders=datamodule.train_dataloader()
        )
        extra["pretrain_seconds"] = time.perf_counter() - t0
    module = YieldRegressor(
        net,
        lr=m.optim.lr,
        weight_decay=m.optim.weight_decay,
        alpha=m.loss.alpha,
        aux_weight=m.loss.aux_weight,
        scheduler=m.optim.scheduler,
    )
    timer = EpochTimer()
    trainer = make_trainer(cfg, out_dir, callbacks=[timer])
    t0 = time.perf_counter()
    # Without a validation share there is no validation loop at all.
    trainer.fit(module, train_dataloaders=datamodule.train_dataloader(), val_dataloaders=datamodule.val_dataloader())
    extra["train_seconds"] = time.perf_counter() - t0
    extra["epochs"] = int(trainer.current_epoch)
    extra["epoch_seconds_median"] = float(np.median(timer.durations)) if timer.durations else None
    if not trainer.is_global_zero:
        return None, extra
    t0 = time.perf_counter()
    predictions = mc_dropout_predict(
        net,
        datamodule.test_dataloader(),
        samples=int(m.mc_samples) if m.uq_inference else 1,
        y_mean=prepared.y_mean,
        y_std=prepared.y_std,
        device=module.device,
    )
    extra["predict_seconds"] = time.perf_counter() - t0
    torch.save(
        {
            "state_dict": net.state_dict(),
            "model": OmegaConf.to_container(m, resolve=True),
            "vocabulary": prepared.tokenizer.to_list(),
            "elements": list(prepared.table.elements),
            "y_mean": prepared.y_mean,
            "y_std": prepared.y_std,
        },
        out_dir / "model.pt",
    )
    return predictions, extra


def run(cfg: DictConfig) -> dict | None:
    """Train and evaluate as configured; returns the test metrics (None on non-zero DDP ranks)."""
    from .baselines import fit_predict_random_forest
    from .data import load_split
    from .metrics import write_run_outputs

    L.seed_everything(cfg.seed, workers=True)
    if cfg.get("torch_threads"):
        import torch

        torch.set_num_threads(int(cfg.torch_threads))
    out_dir = Path(cfg.paths.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    split = load_split(cfg.data, cfg.seed)
    log.info("data %s split %s: %d train, %d test", cfg.data.name, split.name, len(split.train), len(split.test))
    if cfg.model.kind == "random_forest":
        t0 = time.perf_counter()
        predictions, extra = fit_predict_random_forest(
            cfg.model, list(split.train["rxn"]), split.train["yield"].to_numpy(), list(split.test["rxn"]), cfg.seed
        )
        extra["train_seconds"] = time.perf_counter() - t0
    elif cfg.model.kind == "neural":
        predictions, extra = train_neural(cfg, split, out_dir)
        if predictions is None:
            return None
    else:
        raise ValueError(f"model.kind must be 'neural' or 'random_forest', not {cfg.model.kind!r}")
    extra.update(
        experiment=cfg.get("experiment_name"),
        data=cfg.data.name,
        split=split.name,
        seed=int(cfg.seed),
        n_train=len(split.train),
    )
    metrics = write_run_outputs(out_dir, split.test["rxn"], split.test["yield"].to_numpy(), predictions, extra)
    log.info(
        "%s on %s: R2 %.4f  MAE %.2f  RMSE %.2f  Spearman(|err|,unc) %.3f  coverage95 %.3f",
        metrics["experiment"], split.name, metrics["r2"], metrics["mae"], metrics["rmse"],
        metrics["spearman_abs_err_uncertainty"], metrics["coverage_95"],
    )
    return metrics


@hydra.main(version_base="1.3", config_path="../../configs", config_name="train")
def main(cfg: DictConfig) -> float | None:
    metrics = run(cfg)
    return None if metrics is None else metrics["r2"]


if __name__ == "__main__":
    main()
