import os
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
# no test may reach the network: the guard's pytest hooks and fixtures
from netguard import network_attempts, no_network_attempts, pytest_configure  # noqa: E402,F401

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = PROJECT_ROOT / "configs"
SAMPLE_CSV = PROJECT_ROOT / "data" / "sample" / "buchwald_hartwig_sample.csv"

# Tiny models: one thread avoids oversubscription on shared CI machines.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# What the entry points set: ${paths.root_dir} resolves to this project.
os.environ["PROJECT_ROOT"] = str(PROJECT_ROOT)


@pytest.fixture(scope="session")
def sample_frame() -> pd.DataFrame:
    return pd.read_csv(SAMPLE_CSV)


@pytest.fixture(scope="session")
def sample_rxn(sample_frame) -> list[str]:
    return list(sample_frame["rxn"])
