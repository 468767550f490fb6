"""The ``recommender`` starter project: rendered by the real CLI, its own test suite run."""

from __future__ import annotations

import pytest
from helpers import assert_no_template_residue, file_contents, labhooks, run_own_suite

from pathlib import Path

from labhooks import __version__ as labhooks_version
from labhooks.scaffold.context import base_context
from labhooks.scaffold.render import plan, templates_root

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

TEMPLATE = "recommender"


def test_list_shows_the_recommender():
    result = labhooks("new-project", "--list")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.split()[:1] == [TEMPLATE]]
    assert len(lines) == 1 and "MMoE" in lines[0]


def test_existing_non_empty_folder_is_refused_and_left_alone(tmp_path):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "structures.cif").write_text("data_mine\n")
    before = file_contents(target)
    result = labhooks("new-project", TEMPLATE, str(target))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("labhooks:") and len(result.stderr.strip().splitlines()) == 1
    assert file_contents(target) == before


@pytest.mark.parametrize("bad_name", ["../../x", "2materials", "import"])
def test_bad_names_are_refused_and_nothing_is_written(tmp_path, bad_name):
    target = tmp_path / "proj"
    result = labhooks("new-project", TEMPLATE, str(target), "--name", bad_name)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().startswith("labhooks:") and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_rendered_project_passes_its_own_test_suite(tmp_path):
    target = tmp_path / "te-recommender"
    result = labhooks("new-project", TEMPLATE, str(target), "--name", "TE Recommender", "--author", 'Ada "The Countess" Lovelace')
    assert result.returncode == 0, result.stderr
    package = target / "src" / "te_recommender"
    for rel in ("__init__.py", "__main__.py", "describe.py", "embed.py", "recall.py", "train.py", "eval.py", "rank.py",
                "pipeline.py", "library.py", "datamodule.py", "models/ranker_module.py", "models/components/mmoe.py"):
        assert (package / rel).is_file(), rel
    assert not (package / "steps.py").exists() and not (package / "cli.py").exists()
    for group in ("data", "encoder", "ranker", "experiment", "hparams_search", "callbacks", "logger", "trainer",
                  "debug", "paths", "hydra/launcher"):
        assert list((target / "configs" / group).glob("*.yaml")), group
    assert "_target_: te_recommender.models.ranker_module.RankerLitModule" in (target / "configs/ranker/mmoe.yaml").read_text()
    files = assert_no_template_residue(target, max_file_size=100_000)  # no data ships
    assert not [p for p in files if p.suffix in (".cif", ".csv", ".npy", ".pt")]
    pyproject = tomllib.loads((target / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "te-recommender"
    assert pyproject["project"]["authors"] == [{"name": 'Ada "The Countess" Lovelace'}]
    assert pyproject["tool"]["pytest"]["ini_options"]["pythonpath"] == ["src"]
    hooks = (target / ".pre-commit-config.yaml").read_text()
    assert "id: check-large\n" in hooks and "id: check-large-push" in hooks and "repo: local" in hooks
    assert "from te_recommender" in (target / "tests" / "test_recall.py").read_text()

    run_own_suite(target, timeout=1800)


def test_both_starters_render_their_shared_parts_from_one_place(tmp_path):
    """The common skeleton comes from one base template: byte-identical files, the same
    pyproject layout and extras, the same README sections, a quote in a name harmless."""
    author = 'Ada "The Countess" O\'Lovelace'
    projects = {}
    for template in ("yield-model", "recommender"):
        target = tmp_path / template
        result = labhooks("new-project", template, str(target), "--name", "Shared Test", "--author", author)
        assert result.returncode == 0, result.stderr
        projects[template] = target
    ym, rec = projects["yield-model"], projects["recommender"]
    # every file of the base is in both projects, byte for byte: neither overrides one
    context = {**base_context(author=author), "name": "Shared Test", "package": "shared_test"}
    base = templates_root() / "_starter-base"
    shared = {dest for template in projects for source, dest, _ in plan(template, {**context, "template": template})
              if base in source.parents}
    for rel in (".pre-commit-config.yaml", "tests/netguard.py", "tests/test_cores.py", "src/shared_test/cores.py",
                "configs/hydra/default.yaml", "configs/hydra/launcher/slurm.yaml", "configs/paths/default.yaml",
                "configs/trainer/ddp_cpu.yaml", "configs/callbacks/default.yaml", "configs/logger/wandb.yaml",
                "configs/debug/overfit.yaml"):
        assert Path(rel) in shared, rel
    for rel in sorted(shared):
        assert (ym / rel).read_bytes() == (rec / rel).read_bytes(), rel
    layouts = [tomllib.loads((p / "pyproject.toml").read_text()) for p in (ym, rec)]
    for pyproject in layouts:
        assert pyproject["project"]["authors"] == [{"name": author}]
        # every tool the README uses after its one install line: the tests and the hooks
        extras = pyproject["project"]["optional-dependencies"]
        assert extras["dev"] == ["pytest>=8", "pre-commit>=3.5", f"labhooks>={labhooks_version}"]
        assert {"search", "tensorboard", "mlflow", "wandb"} <= set(extras)
        assert {"torch>=2.2", "lightning>=2.2", "rich>=13", "hydra-core>=1.3"} <= set(pyproject["project"]["dependencies"])
        assert pyproject["project"]["name"] == "shared-test"
    pytest_options = [dict(p["tool"]["pytest"]["ini_options"]) for p in layouts]
    shared_warnings = [p.pop("filterwarnings") for p in pytest_options]
    assert shared_warnings[0][:4] == shared_warnings[1][:4]  # each adds its own after the shared ones
    assert pytest_options[0] == pytest_options[1]
    sections = [[line for line in (p / "README.md").read_text().splitlines() if line.startswith("## ")] for p in (ym, rec)]
    for common in ("## Install", "## Test", "## How to extend", "## Scale out", "## Large files"):
        assert common in sections[0] and common in sections[1], common
    assert not [p for p in (ym / "_parts", rec / "_parts") if p.exists()]
