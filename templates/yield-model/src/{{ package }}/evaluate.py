"""Evaluate a trained model (``model.pt`` of a training run) on a data split.

    python -m <package>.evaluate ckpt_path=logs/train/runs/<run>/model.pt data=buchwald_hartwig data.split=Test1
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parents[2]
if (_SOURCE_ROOT / "configs").is_dir():
    os.environ["PROJECT_ROOT"] = str(_SOURCE_ROOT)

import hydra  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402

log = logging.getLogger(__name__)


def run(cfg: DictConfig) -> dict:
    import torch

    from .data import load_split
    from .lightning_modules import ReactionDataModule, prepare
    from .metrics import write_run_outputs
    from .models.yield_model import YieldModel
    from .tokenizer import SmilesTokenizer
    from .uncertainty import mc_dropout_predict

    ckpt = Path(cfg.ckpt_path)
    if not ckpt.is_file():
        raise FileNotFoundError(f"no trained model at {ckpt}")
    bundle = torch.load(ckpt, map_location="cpu", weights_only=True)
    model_cfg = OmegaConf.create(bundle["model"])
    split = load_split(cfg.data, cfg.seed)
    prepared = prepare(
        split,
        model_cfg,
        cache_dir=cfg.paths.cache_dir,
        tokenizer=SmilesTokenizer(bundle["vocabulary"]),
        elements=bundle["elements"],
        y_stats=(bundle["y_mean"], bundle["y_std"]),
    )
    net = YieldModel(
        model_cfg,
        atom_dim=prepared.table.atom_dim,
        bond_dim=prepared.table.bond_dim,
        vocab_size=len(prepared.tokenizer),
        pad_id=prepared.tokenizer.pad_id,
    )
    net.load_state_dict(bundle["state_dict"])
    datamodule = ReactionDataModule(prepared, batch_size=model_cfg.batch_size, with_graphs=bool(model_cfg.branches.graph))
    samples = int(cfg.mc_samples if cfg.mc_samples is not None else model_cfg.mc_samples)
    predictions = mc_dropout_predict(
        net, datamodule.test_dataloader(), samples=samples, y_mean=prepared.y_mean, y_std=prepared.y_std
    )
    extra = {"checkpoint": str(ckpt), "data": cfg.data.name, "split": split.name, "mc_samples": samples}
    metrics = write_run_outputs(
        cfg.paths.output_dir, split.test["rxn"], split.test["yield"].to_numpy(), predictions, extra
    )
    log.info("%s on %s: R2 %.4f MAE %.2f", ckpt, split.name, metrics["r2"], metrics["mae"])
    return metrics


@hydra.main(version_base="1.3", config_path="../../configs", config_name="eval")
def main(cfg: DictConfig) -> float:
    return run(cfg)["r2"]


if __name__ == "__main__":
    main()
