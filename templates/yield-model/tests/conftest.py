import os
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

sys.path.insert(0, str(Path(__file__).parent))
# no test may reach the network: the guard's pytest hooks and fixtures
from netguard import network_attempts, no_network_attempts  # noqa: E402,F401
from netguard import pytest_configure as netguard_configure  # noqa: E402
from frozen_imports import pytest_collection_finish  # noqa: E402,F401

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = PROJECT_ROOT / "configs"
SAMPLE_CSV = PROJECT_ROOT / "data" / "sample" / "buchwald_hartwig_sample.csv"

# Tiny models: one thread avoids oversubscription on shared CI machines.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# What the entry points set: ${paths.root_dir} resolves to this project.
os.environ["PROJECT_ROOT"] = str(PROJECT_ROOT)

# Tiny runs: a few reactions, one batch, one epoch, no progress bar.
FAST = [
    "data.limit_train=12",
    "data.limit_test=6",
    "data.batch_size=6",
    "data.max_len=48",
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=1",
    "trainer.accelerator=cpu",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "~callbacks.rich_progress_bar",
]


def load(config_name="train", overrides=(), hydra_config=False):
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides), return_hydra_config=hydra_config)


def pytest_configure(config):
    netguard_configure(config)


NICE = shutil.which("nice")
BACKGROUND = pytest.StashKey()


def project_env() -> dict:
    return dict(os.environ, OMP_NUM_THREADS="1",
                PYTHONPATH=str(PROJECT_ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))


class BackgroundRuns:
    """Project commands (DDP, a multirun) run one after another in a thread from the
    start of the session.

    Each is a fresh Python process that spends seconds importing torch and Lightning;
    beside the in-process tests, which keep one core busy, they use the other one. They
    run niced, so that they take what the in-process tests leave rather than slow them.
    """

    def __init__(self, commands: dict, folder: Path):
        self._folder = folder
        self._process = None
        self._stopped = False
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._runs = {name: self._pool.submit(self._run, name, argv) for name, argv in commands.items()}

    def _run(self, name: str, argv: list) -> tuple[subprocess.CompletedProcess, Path]:
        if self._stopped:
            raise RuntimeError("the session ended first")
        out = self._folder / name
        out.mkdir()
        command = [sys.executable, "-m", *(a.replace("{out}", str(out)) for a in argv)]
        self._process = subprocess.Popen(
            ([NICE, "-n", "10"] if NICE else []) + command, cwd=out, env=project_env(),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            stdout, stderr = self._process.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            self._kill()
            raise
        return subprocess.CompletedProcess(self._process.args, self._process.returncode, stdout, stderr), out

    def result(self, name: str) -> tuple[subprocess.CompletedProcess, Path]:
        """The finished command and its folder (waits for it; raises what it raised)."""
        return self._runs[name].result()

    def _kill(self):
        # the whole group: DDP's second rank and submitit's jobs are the command's children
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()

    def close(self):
        self._stopped = True
        self._kill()
        self._pool.shutdown(wait=True, cancel_futures=True)


def pytest_sessionstart(session):
    # before collection, which spends seconds importing torch and Lightning
    from scale_out_runs import RUNS

    folder = Path(tempfile.mkdtemp(prefix="background-runs-"))
    session.config.stash[BACKGROUND] = BackgroundRuns(RUNS, folder), folder


def pytest_collection_modifyitems(session, config, items):
    # no selected test reads them (-k, a file of its own, --collect-only): stop them now
    if not any("background_runs" in getattr(item, "fixturenames", ()) for item in items) or config.option.collectonly:
        config.stash[BACKGROUND][0].close()


def pytest_sessionfinish(session):
    runs, folder = session.config.stash[BACKGROUND]
    runs.close()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def background_runs(request) -> BackgroundRuns:
    """The runs of scale_out_runs.py, started when the session started."""
    return request.config.stash[BACKGROUND][0]


@pytest.fixture(scope="session")
def sample_frame() -> pd.DataFrame:
    return pd.read_csv(SAMPLE_CSV)


@pytest.fixture(scope="session")
def additive_csv(sample_frame, tmp_path_factory) -> Path:
    """The sample with an `additive` column (a reaction's sixth reactant), for validations
    that hold out whole groups."""
    path = tmp_path_factory.mktemp("grouped") / "sample_with_additives.csv"
    additives = [rxn.split(">>")[0].split(".")[5] for rxn in sample_frame["rxn"]]
    sample_frame.assign(additive=additives).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def sample_rxn(sample_frame) -> list[str]:
    return list(sample_frame["rxn"])
