"""Test-wide isolation: every git command in the suite sees one throw-away identity and
configuration, never the developer's own ~/.gitconfig or hooks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import REPO_ROOT, Repo  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def isolated_git_config(tmp_path_factory):
    home = tmp_path_factory.mktemp("githome")
    config = home / ".gitconfig"
    config.write_text(
        "[user]\n\tname = Lab Tester\n\temail = tester@lab.invalid\n"
        "[init]\n\tdefaultBranch = main\n"
        "[protocol \"file\"]\n\tallow = always\n"
        "[advice]\n\tdetachedHead = false\n"
        "[commit]\n\tgpgsign = false\n"
        "[tag]\n\tgpgsign = false\n",
        encoding="utf-8",
    )
    env = {
        "GIT_CONFIG_GLOBAL": str(config),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Lab Tester",
        "GIT_AUTHOR_EMAIL": "tester@lab.invalid",
        "GIT_COMMITTER_NAME": "Lab Tester",
        "GIT_COMMITTER_EMAIL": "tester@lab.invalid",
        "GIT_TERMINAL_PROMPT": "0",
        "NO_COLOR": "1",
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "PRE_COMMIT_FROM_REF",
                    "PRE_COMMIT_TO_REF", "PRE_COMMIT_REMOTE_NAME", "PRE_COMMIT_LOCAL_BRANCH"):
            mp.delenv(key, raising=False)
        yield env


@pytest.fixture
def repo(tmp_path) -> Repo:
    """A fresh non-bare repository with no commits."""
    return Repo.init(tmp_path / "work")


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT
