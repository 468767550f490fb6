"""new-project's own side: names, --help, and the git repository it leaves."""

from __future__ import annotations

import subprocess

import pytest
from helpers import GIT_DEFAULT_BRANCH_MASTER, Repo, labhooks, tree_state

from labhooks.scaffold.projects import available


def test_help_lists_the_templates():
    proc = labhooks("new-project", "--help")
    assert proc.returncode == 0
    listed = proc.stdout.split("Templates:", 1)[1]
    for name, _ in available():
        assert name in listed


@pytest.mark.parametrize("name,shadowed", [
    ("torch", "well-known library"), ("NumPy", "well-known library"), ("json", "standard-library"),
    ("os", "standard-library"), ("jinja2", "installed module"),
])
def test_names_that_shadow_a_module_are_refused(tmp_path, name, shadowed):
    before = tree_state(tmp_path)
    proc = labhooks("new-project", "yield-model", "proj", "--name", name, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert shadowed in proc.stderr and "--name" in proc.stderr
    assert tree_state(tmp_path) == before


def test_a_name_is_transliterated_as_minute_slugs_are(tmp_path):
    proc = labhooks("new-project", "yield-model", "proj", "--name", "Über Model", "--dry-run", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "proj/src/uber_model/" in proc.stdout


def test_a_new_repository_on_main_with_one_commit(tmp_path):
    proc = labhooks("new-project", "yield-model", "my model", cwd=tmp_path, env=GIT_DEFAULT_BRANCH_MASTER)
    assert proc.returncode == 0, proc.stderr
    repo = Repo(tmp_path / "my model")
    assert repo.git("branch", "--show-current").strip() == "main"
    assert repo.git("log", "--format=%s").splitlines() == ["Start my model from the yield-model starter"]
    assert repo.git("status", "--porcelain", "--untracked-files=all") == ""
    assert "Then: cd 'my model'" in proc.stdout


def test_inside_a_repository_the_files_are_staged_and_the_commit_printed(tmp_path):
    outer = Repo.init(tmp_path / "lab")
    outer.commit("start")
    proc = labhooks("new-project", "yield-model", "models/first", cwd=outer.path)
    assert proc.returncode == 0, proc.stderr
    assert not (outer.path / "models/first/.git").exists()
    staged = outer.git("diff", "--cached", "--name-only").split()
    assert staged and all(p.startswith("models/first/") for p in staged)
    (next_step,) = [line.removeprefix("Next: ") for line in proc.stdout.splitlines() if line.startswith("Next: ")]
    subprocess.run(["bash", "-c", next_step], cwd=outer.path, check=True, capture_output=True)
    assert outer.git("status", "--porcelain") == ""


def test_no_git(tmp_path):
    proc = labhooks("new-project", "yield-model", "plain", "--no-git", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "plain/.git").exists() and "git:" not in proc.stdout


def test_the_empty_target_folder_itself_is_no_module_to_shadow(tmp_path):
    (tmp_path / "proj").mkdir()
    proc = labhooks("new-project", "yield-model", "proj", "--no-git", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "proj/src/proj/__init__.py").is_file()
