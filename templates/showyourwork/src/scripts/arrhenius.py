"""Load the example rate constants and fit the Arrhenius law, ln k = ln A - E_a / (R T).

Shared by the figure script and the activation-energy rule, so both report one fit.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

GAS_CONSTANT = 8.314462618  # J / (mol K)
COLUMNS = ("temperature_K", "rate_constant_per_s")


@dataclass(frozen=True)
class ArrheniusFit:
    activation_energy_kj_mol: float
    prefactor_per_s: float
    slope: float       # of ln k against 1/T, in K
    intercept: float   # ln A


def load_rates(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Temperatures (K) and rate constants (1/s) from a CSV with '#' comment lines."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [row for row in csv.reader(fh) if row and not row[0].lstrip().startswith("#")]
    header, body = rows[0], rows[1:]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise SystemExit(f"{path}: missing column(s) {', '.join(missing)}")
    t_col, k_col = (header.index(name) for name in COLUMNS)
    temperature = np.array([float(row[t_col]) for row in body])
    rate = np.array([float(row[k_col]) for row in body])
    if len(temperature) < 2 or np.any(temperature <= 0) or np.any(rate <= 0):
        raise SystemExit(f"{path}: need at least two rows of positive temperatures and rates")
    return temperature, rate


def fit_arrhenius(temperature: np.ndarray, rate: np.ndarray) -> ArrheniusFit:
    slope, intercept = np.polyfit(1.0 / temperature, np.log(rate), 1)
    return ArrheniusFit(
        activation_energy_kj_mol=-slope * GAS_CONSTANT / 1000.0,
        prefactor_per_s=float(np.exp(intercept)),
        slope=float(slope),
        intercept=float(intercept),
    )
