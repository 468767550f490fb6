"""The ``yield-model`` starter project: rendered by the real CLI, its own test suite run."""

from __future__ import annotations

import pytest
from helpers import assert_no_template_residue, file_contents, labhooks, run_own_suite

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

TEMPLATE = "yield-model"


def test_list_shows_the_yield_model():
    result = labhooks("new-project", "--list")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.split()[:1] == [TEMPLATE]]
    assert len(lines) == 1
    assert "yield" in lines[0].lower() and len(lines[0].split()) > 2  # a one-line description follows


def test_existing_non_empty_folder_is_refused_and_left_alone(tmp_path):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    before = file_contents(target)
    result = labhooks("new-project", TEMPLATE, str(target))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("labhooks:") and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert file_contents(target) == before


@pytest.mark.parametrize("bad_name", ["../../x", "1abc", "a/b", "class"])
def test_bad_project_names_are_refused_and_nothing_is_written(tmp_path, bad_name):
    target = tmp_path / "proj"
    result = labhooks("new-project", TEMPLATE, str(target), "--name", bad_name)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().startswith("labhooks:") and "Traceback" not in result.stderr
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_dry_run_writes_nothing(tmp_path):
    target = tmp_path / "dry"
    result = labhooks("new-project", TEMPLATE, str(target), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "would write" in result.stdout and "pyproject.toml" in result.stdout
    assert not target.exists()


@pytest.mark.slow
def test_rendered_project_passes_its_own_test_suite(tmp_path):
    target = tmp_path / "bh-yields"
    result = labhooks("new-project", TEMPLATE, str(target), "--name", "BH Yields", "--author", 'Ada "The Countess" Lovelace')
    assert result.returncode == 0, result.stderr
    package = target / "src" / "bh_yields"
    for rel in ("__init__.py", "train.py", "eval.py", "datamodule.py", "models/yield_module.py",
                "models/components/encoders.py", "models/components/yield_net.py"):
        assert (package / rel).is_file(), rel
    assert_no_template_residue(target, max_file_size=200_000)
    pyproject = (target / "pyproject.toml").read_text()
    project = tomllib.loads(pyproject)["project"]
    assert project["name"] == "bh-yields"
    assert project["authors"] == [{"name": 'Ada "The Countess" Lovelace'}]
    hooks = (target / ".pre-commit-config.yaml").read_text()
    assert "id: check-large" in hooks and "id: check-large-push" in hooks and "repo: local" in hooks
    assert "bh_yields.summary.MultirunSummaryCallback" in (target / "configs/hydra/project/callbacks.yaml").read_text()
    for group in ("callbacks", "logger", "debug", "hparams_search", "trainer", "hydra/launcher"):
        assert list((target / "configs" / group).glob("*.yaml")), group
    assert "_target_: bh_yields.models.yield_module.YieldLitModule" in (target / "configs/model/full.yaml").read_text()

    run_own_suite(target, timeout=1500)
