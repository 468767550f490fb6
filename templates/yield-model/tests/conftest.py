import os
from pathlib import Path

import pandas as pd
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = PROJECT_ROOT / "configs"
SAMPLE_CSV = PROJECT_ROOT / "data" / "sample" / "buchwald_hartwig_sample.csv"


@pytest.fixture(scope="session")
def sample_frame() -> pd.DataFrame:
    return pd.read_csv(SAMPLE_CSV)


@pytest.fixture(scope="session")
def sample_rxn(sample_frame) -> list[str]:
    return list(sample_frame["rxn"])

# Tiny models: one thread avoids oversubscription on shared CI machines.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# What the entry points set: ${paths.root_dir} resolves to this project.
os.environ["PROJECT_ROOT"] = str(PROJECT_ROOT)
