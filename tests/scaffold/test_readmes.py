"""Each scaffold's first five minutes, as its README says: render into a fresh folder,
then run the README's own commands (parsed from it, not retyped here) in a fresh
virtual environment, offline, up to the step the README says needs what is not here;
then push through the hooks it installed to a local bare remote."""

from __future__ import annotations

import pytest

from helpers import (
    GIT_DEFAULT_BRANCH_MASTER,
    Repo,
    assert_hooks_guard_a_push,
    follow_readme,
    labhooks,
    labhooks_wheel,
    offline_venv,
    sh,
)

from labhooks.scaffold.projects import available

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("labhooks-wheel")
    labhooks_wheel(folder)
    return folder


def scaffold(tmp_path, *args, folder: str) -> Repo:
    """Run one scaffold into ``folder`` where git's own default branch is master."""
    proc = labhooks(*args, folder, cwd=tmp_path, env=GIT_DEFAULT_BRANCH_MASTER)
    assert proc.returncode == 0, proc.stderr
    repo = Repo(tmp_path / folder)
    assert repo.git("branch", "--show-current").strip() == "main"
    assert repo.git("rev-list", "--count", "HEAD").strip() == "1"
    assert repo.git("status", "--porcelain", "--untracked-files=all") == ""
    return repo


def test_new_book_readme_runs_offline_and_its_hooks_guard_a_push(tmp_path, wheel_dir):
    book = scaffold(tmp_path, "new-book", "--author", "Ada Lovelace", folder="minutes")
    env = offline_venv(tmp_path / "venv", wheel_dir)
    stop = follow_readme(book.path, env)
    assert stop.startswith("quarto preview")
    # the README's own commit went through the hooks with the minute it added
    assert book.git("rev-list", "--count", "HEAD").strip() == "2"
    assert "tools/name_of_the_tool.qmd" in book.git("show", "--name-only", "--format=", "HEAD").split()
    assert_hooks_guard_a_push(book, tmp_path / "remote.git", env)


def test_new_paper_readme_runs_offline_up_to_conda_and_its_hooks_guard_a_push(tmp_path, wheel_dir):
    paper = scaffold(tmp_path, "new-paper", "--author", "Ada Lovelace", folder="paper")
    env = offline_venv(tmp_path / "venv", wheel_dir)
    stop = follow_readme(paper.path, env)
    assert stop.startswith("showyourwork build")
    # it gets as far as it can here: to the conda it documents needing, no Python error
    build = sh(stop, paper.path, env)
    said = build.stdout + build.stderr
    assert build.returncode != 0 and "conda: command not found" in said, said
    for python_error in ("AttributeError", "ImportError", "ModuleNotFoundError", "list_solvers"):
        assert python_error not in said, said
    assert_hooks_guard_a_push(paper, tmp_path / "remote.git", env)


@pytest.mark.parametrize("template", [name for name, _ in available()])
def test_new_project_readme_installs_offline_and_its_hooks_guard_a_push(tmp_path, wheel_dir, template):
    project = scaffold(tmp_path, "new-project", template, folder="proj")
    # torch and the rest of the stack come from this machine (no second torch): the
    # environment sees its packages, and pip may fetch nothing
    env = offline_venv(tmp_path / "venv", wheel_dir, system_site_packages=True)
    # up to the project's own suite, which tests/scaffold/test_project_*.py run
    stop = follow_readme(project.path, env, before="pytest")
    assert stop is not None and stop.startswith("pytest")
    installed = sh("pip show proj", project.path, env)
    assert installed.returncode == 0 and "Editable project location" in installed.stdout
    for tool in ("pytest", "pre-commit", "labhooks-check-large"):
        assert sh(f"command -v {tool}", project.path, env).returncode == 0, tool
    assert_hooks_guard_a_push(project, tmp_path / "remote.git", env)
