"""Per-run metrics, plots and the robust summary over many runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

Z95 = 1.959963984540054
# a run's predictions of its validation rows, beside predictions.csv (the test rows)
VAL_PREDICTIONS = "val_predictions.csv"


def regression_metrics(y, mean, variance) -> dict:
    from scipy.stats import spearmanr

    y, mean, variance = (np.asarray(a, dtype=float) for a in (y, mean, variance))
    err = y - mean
    ss_res = float(np.sum(err**2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    std = np.sqrt(np.clip(variance, 0.0, None))
    if np.ptp(std) > 0 and np.ptp(np.abs(err)) > 0:
        rho = float(spearmanr(np.abs(err), std).statistic)
    else:
        rho = float("nan")  # constant uncertainty: no ranking to compare
    return {
        "n": int(len(y)),
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(math.sqrt(ss_res / len(y))),
        "spearman_abs_err_uncertainty": rho,
        "coverage_95": float(np.mean(np.abs(err) <= Z95 * std)),
    }


def write_predictions(path, rxn, y, predictions) -> None:
    pd.DataFrame(
        {
            "rxn": list(rxn),
            "yield": y,
            "predicted": predictions.mean,
            "epistemic_var": predictions.epistemic,
            "aleatoric_var": predictions.aleatoric,
            "total_std": np.sqrt(predictions.total_variance),
        }
    ).to_csv(path, index=False)


# What tight_layout() chose for these fixed labels and sizes; computing it on every run
# cost a fifth of each plot's time.
_PARITY_MARGINS = dict(left=0.16, right=0.93, bottom=0.13, top=0.92)
_CALIBRATION_MARGINS = dict(left=0.15, right=0.94, bottom=0.13, top=0.955)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def parity_plot(path, y, mean, std, title="") -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=120)
    points = ax.scatter(y, mean, c=std, s=6, cmap="viridis")
    ax.plot([0, 100], [0, 100], color="grey", lw=1)
    ax.set(xlim=(0, 100), ylim=(0, 100), xlabel="measured yield (%)", ylabel="predicted yield (%)", title=title)
    fig.colorbar(points, ax=ax, label="predicted std (%)")
    fig.subplots_adjust(**_PARITY_MARGINS)
    fig.savefig(path)
    plt.close(fig)


def calibration_curve(y, mean, std, levels=None):
    """Observed coverage of central Gaussian intervals at each nominal level."""
    from scipy.stats import norm

    levels = np.linspace(0.05, 0.95, 19) if levels is None else np.asarray(levels)
    err = np.abs(np.asarray(y) - np.asarray(mean))
    observed = np.array([np.mean(err <= norm.ppf(0.5 + lv / 2) * np.asarray(std)) for lv in levels])
    return levels, observed


def calibration_plot(path, y, mean, std, title="") -> None:
    plt = _pyplot()
    levels, observed = calibration_curve(y, mean, std)
    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=120)
    ax.plot([0, 1], [0, 1], color="grey", lw=1, label="ideal")
    ax.plot(levels, observed, marker="o", ms=3, label="model")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="nominal coverage", ylabel="observed coverage", title=title)
    ax.legend(loc="upper left")
    fig.subplots_adjust(**_CALIBRATION_MARGINS)
    fig.savefig(path)
    plt.close(fig)


def write_run_outputs(out_dir, rxn, y, predictions, extra: dict | None = None) -> dict:
    """metrics.json, predictions.csv, parity.png, calibration.png in ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    std = np.sqrt(predictions.total_variance)
    metrics = regression_metrics(y, predictions.mean, predictions.total_variance)
    metrics.update(extra or {})
    with open(out_dir / "metrics.json", "w", encoding="utf-8") as fh:
        json.dump(metrics, fh, indent=2, allow_nan=True)
    write_predictions(out_dir / "predictions.csv", rxn, y, predictions)
    title = f"R2 = {metrics['r2']:.3f}"
    parity_plot(out_dir / "parity.png", y, predictions.mean, std, title)
    calibration_plot(out_dir / "calibration.png", y, predictions.mean, std)
    return metrics


def robust_summary(values) -> dict:
    """mean, std and the robust trio median / IQR / trimean of finite values."""
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    if len(x) == 0:
        return {"n": 0}
    q1, median, q3 = np.percentile(x, [25, 50, 75])
    return {
        "n": int(len(x)),
        "mean": float(x.mean()),
        "std": float(x.std(ddof=1)) if len(x) > 1 else 0.0,
        "median": float(median),
        "iqr": float(q3 - q1),
        "trimean": float((q1 + 2 * median + q3) / 4),
        "min": float(x.min()),
        "max": float(x.max()),
    }
