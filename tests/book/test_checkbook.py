"""check-book: each problem seeded alone into a clean lab-like book, found with its file,
line and fix; the clean book passes; the hook runs under real pre-commit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import QUARTO_YML, Repo, labhooks, make_book

from labhooks.book.check import check_book, main
from labhooks.book.markdown import citations
from labhooks.book.view import Problem

HOOK_ENTRY = """\
- id: check-book
  name: check the Quarto minutes book
  description: Minutes listed in _quarto.yml, listed files present, no rendered output committed, citations resolve.
  entry: labhooks-check-book
  language: python
  stages: [pre-commit]
  pass_filenames: false
  always_run: true
  minimum_pre_commit_version: "3.2.0"
"""


def line_of(path: Path, text: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (old, path)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def lab_book(tmp_path) -> Repo:
    return make_book(tmp_path / "book")


def test_clean_book_passes(lab_book, capsys):
    assert check_book(lab_book.path) == []
    assert main([str(lab_book.path)]) == 0
    assert capsys.readouterr().out == ""


# --- one problem at a time -----------------------------------------------------------------------


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(p.format() for p in problems)
    return problems[0]


def test_unlisted_minute(lab_book):
    lab_book.write("papers/deep_sets.md", "---\nauthor: A\ndate: 2024-01-01\n---\n\n# Deep sets\n")
    problem = only(check_book(lab_book.path))
    assert problem.path == "papers/deep_sets.md"
    assert "not listed" in problem.message
    assert "'- papers/deep_sets.md'" in problem.fix and "'Papers'" in problem.fix


def test_unlisted_minute_in_a_sub_folder_and_notebook(lab_book):
    lab_book.write("tools/containers/docker.qmd", "# Docker\n")
    lab_book.write("tools/jupyter.ipynb", '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n')
    problems = check_book(lab_book.path)
    assert sorted(p.path for p in problems) == ["tools/containers/docker.qmd", "tools/jupyter.ipynb"]
    assert all("'Tools'" in p.fix for p in problems)


def test_hostile_file_name_is_reported_on_one_line(lab_book, capsys, monkeypatch):
    lab_book.write("papers/evil\nname\x1b[2J.md", "---\nauthor: A\ndate: 2024-01-01\n---\n# x\n")
    lab_book.git("add", "-A")
    monkeypatch.chdir(lab_book.path)
    assert main([]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("papers/evil\\nname\\x1b[2J.md: this minute is not listed")
    assert out[1] == "check-book: 1 problem found" and len(out) == 2


def test_underscore_files_and_images_are_not_minutes(lab_book):
    lab_book.write("tools/_shared_setup.qmd", "included elsewhere\n")
    lab_book.write("papers/attention/notes.png", b"\x89PNG")
    assert check_book(lab_book.path) == []


def test_listed_file_missing(lab_book):
    (lab_book.path / "tools/slurm.md").unlink()
    problem = only(check_book(lab_book.path))
    assert (problem.path, problem.line) == ("_quarto.yml", line_of(lab_book.path / "_quarto.yml", "tools/slurm.md"))
    assert "does not exist" in problem.message and "remove this line" in problem.fix


def test_listed_file_ignored_by_git(lab_book):
    (lab_book.path / ".gitignore").write_text((lab_book.path / ".gitignore").read_text() + "papers/attention.md\n")
    lab_book.git("rm", "-q", "--cached", "papers/attention.md")
    problem = only(check_book(lab_book.path))
    assert problem.path == "_quarto.yml" and "git ignores it" in problem.message


@pytest.mark.parametrize("where", ["same part", "other part"])
def test_entry_listed_twice(lab_book, where):
    config = lab_book.path / "_quarto.yml"
    if where == "same part":
        replace_in(config, '        - "papers/graph_networks.ipynb"\n',
                   '        - "papers/graph_networks.ipynb"\n        - ./papers/attention.md\n')
    else:
        replace_in(config, "        - tools/slurm.md\n", "        - tools/slurm.md\n        - papers/attention.md\n")
    problem = only(check_book(lab_book.path))
    first = line_of(config, "- papers/attention.md")
    assert problem.path == "_quarto.yml" and problem.line > 0 and problem.line != first
    assert f"listed twice (first on line {min(first, problem.line)})" in problem.message


@pytest.mark.parametrize("rel,reported", [
    ("papers/attention.html", "papers/attention.html"),
    ("papers/attention_files/libs/bootstrap/bootstrap.min.js", "papers/attention_files/"),
    ("tools/.DS_Store", "tools/.DS_Store"),
    (".DS_Store", ".DS_Store"),
    ("_book/index.html", "_book/"),
    (".quarto/xref/abc", ".quarto/"),
    ("papers/graph_networks.quarto_ipynb", "papers/graph_networks.quarto_ipynb"),
])
def test_rendered_output_committed(lab_book, rel, reported):
    lab_book.write(rel, "rendered\n")
    lab_book.git("add", "-f", rel)  # the book's .gitignore would keep it out otherwise
    problem = only(check_book(lab_book.path))
    assert problem.path == reported
    assert "committed" in problem.message and "git rm" in problem.fix


def test_rendered_output_untracked_but_not_ignored(lab_book):
    (lab_book.path / ".gitignore").unlink()
    lab_book.git("rm", "-q", "--cached", ".gitignore")
    lab_book.write("papers/.DS_Store", "finder")
    problem = only(check_book(lab_book.path))
    assert problem.path == "papers/.DS_Store" and ".gitignore" in problem.fix


def test_ignored_rendered_output_is_fine(lab_book):
    for rel in ("_book/index.html", "papers/attention.html", "papers/.DS_Store", "papers/attention_files/libs/x.js"):
        lab_book.write(rel, "rendered")
    assert check_book(lab_book.path) == []


def test_html_that_is_not_beside_a_source_is_allowed(lab_book):
    lab_book.write("papers/attention/poster.html", "<html></html>")
    lab_book.git("add", "-f", "papers/attention/poster.html")
    assert check_book(lab_book.path) == []


@pytest.mark.parametrize("tracked", [True, False])
def test_image_folder_named_files(lab_book, tracked):
    lab_book.write("papers/attention_files/architecture.png", b"\x89PNG")
    if tracked:
        lab_book.git("add", "-f", "papers/attention_files/architecture.png")
    problem = only(check_book(lab_book.path))
    assert problem.path == "papers/attention_files/"
    assert "rename it to papers/attention/" in problem.fix


def test_duplicate_bibtex_key(lab_book):
    bib = lab_book.path / "references.bib"
    bib.write_text(bib.read_text() + "\n@inproceedings{ vaswani2017 ,\n  title = {Again},\n}\n")
    problem = only(check_book(lab_book.path))
    assert (problem.path, problem.line) == ("references.bib", line_of(bib, "@inproceedings"))
    assert "duplicate BibTeX key 'vaswani2017': line 1" in problem.message


def test_duplicate_bibtex_key_differing_in_case(lab_book):
    bib = lab_book.path / "references.bib"
    bib.write_text(bib.read_text() + "\n@misc{Vaswani2017,\n  title = {Again},\n}\n")
    problem = only(check_book(lab_book.path))
    assert "ignores case" in problem.message


def test_bibtex_comments_and_strings_are_not_entries(lab_book):
    bib = lab_book.path / "references.bib"
    bib.write_text('@string{jcp = "J. Chem. Phys."}\n@comment{vaswani2017,}\n' + bib.read_text())
    assert check_book(lab_book.path) == []


def test_unresolved_citation(lab_book):
    paper = lab_book.path / "papers/attention.md"
    replace_in(paper, "## Why did I choose this paper?\n", "## Why did I choose this paper?\n\nIt builds on [see @bahdanau2014, p. 3; @vaswani2017].\n")
    problem = only(check_book(lab_book.path))
    assert (problem.path, problem.line) == ("papers/attention.md", line_of(paper, "bahdanau2014"))
    assert "[@bahdanau2014]" in problem.message and "references.bib" in problem.fix


def test_unresolved_citation_in_a_notebook(lab_book):
    notebook = lab_book.path / "papers/graph_networks.ipynb"
    replace_in(notebook, "[@battaglia2018]", "[@battaglia2019]")
    problem = only(check_book(lab_book.path))
    assert problem.path == "papers/graph_networks.ipynb" and "cell 2" in problem.message


def test_citation_after_a_closed_comment_still_counts(lab_book):
    paper = lab_book.path / "papers/attention.md"
    replace_in(paper, "## References\n", "<!-- note --> see [@missing2020]\n\n## References\n")
    problem = only(check_book(lab_book.path))
    assert "[@missing2020]" in problem.message and problem.line == line_of(paper, "missing2020")


def test_things_that_are_not_citations(lab_book):
    paper = lab_book.path / "papers/attention.md"
    replace_in(paper, "## References\n", (
        "See [@fig-architecture] and [@sec-results], mail a@b.org, [@someone](https://x.org).\n\n"
        "`[@inline_code]`\n\n```\n[@in_a_fence]\n```\n\n<!-- [@commented_out] -->\n"
        "<!--\nTODO [@later2025]\n-->\n\n## References\n"
    ))
    assert check_book(lab_book.path) == []


@pytest.mark.parametrize("line", ["[@vaswani2017]", "[-@vaswani2017]", "[@{vaswani2017}]", "[see @vaswani2017, pp. 3-4]"])
def test_citation_forms(line):
    assert citations(line) == ["vaswani2017"]


@pytest.mark.parametrize("old,new,message", [
    ("author: Ada Lovelace\n", "", "no 'author:'"),
    ("author: Ada Lovelace\n", "author: ''\n", "no 'author:'"),
    ("date: 2024-03-01\n", "", "no 'date:'"),
    ("date: 2024-03-01\n", "date: March 2024\n", "not an ISO date"),
    ("date: 2024-03-01\n", "date: 2024-3-1\n", "not an ISO date"),
    ("date: 2024-03-01\n", "date: last-modified\n", "not an ISO date"),
    ("---\nauthor", "author", "no front matter"),
])
def test_paper_minute_front_matter(lab_book, old, new, message):
    paper = lab_book.path / "papers/attention.md"
    text = paper.read_text()
    if old.startswith("---"):
        text = text.replace("---\n", "", 2)  # both fences gone
        text = text.replace("author: Ada Lovelace\ndate: 2024-03-01\nbibliography: ../references.bib\n", "")
    else:
        text = text.replace(old, new, 1)
    paper.write_text(text)
    problems = check_book(lab_book.path)
    if message == "no front matter":
        # without its front matter the minute also loses its bibliography: that is fine here
        problems = [p for p in problems if "citation" not in p.message]
    problem = only(problems)
    assert problem.path == "papers/attention.md" and message in problem.message


def test_quoted_iso_date_is_accepted(lab_book):
    replace_in(lab_book.path / "papers/attention.md", "date: 2024-03-01", 'date: "2024-03-01"')
    assert check_book(lab_book.path) == []


def test_tool_minutes_need_no_date(lab_book):
    assert "date" not in (lab_book.path / "tools/slurm.md").read_text()
    assert check_book(lab_book.path) == []


@pytest.mark.parametrize("language", ["python", "mermaid", "r", " julia "])
def test_executable_cell_in_md(lab_book, language):
    slurm = lab_book.path / "tools/slurm.md"
    slurm.write_text(slurm.read_text() + f"\n```{{{language}}}\nx\n```\n")
    problem = only(check_book(lab_book.path))
    assert (problem.path, problem.line) == ("tools/slurm.md", line_of(slurm, "```{"))
    assert f"```{{{language.strip()}}}" in problem.message
    assert "rename the file to tools/slurm.qmd" in problem.fix


def test_non_executable_fences_in_md_are_fine(lab_book):
    slurm = lab_book.path / "tools/slurm.md"
    slurm.write_text(slurm.read_text() + "\n```{.python}\nx\n```\n\n```python\ny\n```\n\n````\n```{python}\n````\n\n```{=html}\n<b>\n```\n")
    assert check_book(lab_book.path) == []


@pytest.mark.parametrize("old,new,message", [
    ("  chapters:\n    - index.qmd\n", "  chapters: 42\n  unused:\n    - index.qmd\n", "must be a list"),
    ('    - part: "Tools"\n', "    - part: 7\n", "'part:' needs a title"),
    ("    - references.qmd\n", "    - 12\n", "neither a file nor a part"),
    ("  type: book\n", "  type: book\n  bad: [unclosed\n", "not valid YAML"),
    ('    - part: "Tools"\n      chapters:\n', '    - part: "Tools"\n      chapters: tools\n', "must be a list"),
    ("bibliography: references.bib\n", "bibliography: {file: references.bib}\n", "'bibliography:' must be"),
])
def test_quarto_yml_schema(lab_book, old, new, message):
    config = lab_book.path / "_quarto.yml"
    replace_in(config, old, new)
    problems = check_book(lab_book.path)
    assert any(p.path == "_quarto.yml" and message in p.message for p in problems), [p.format() for p in problems]
    assert main([str(lab_book.path)]) == 1


def test_empty_chapter_list(lab_book):
    config = lab_book.path / "_quarto.yml"
    config.write_text("project:\n  type: book\n\nbook:\n  title: x\n  chapters: []\n")
    problems = check_book(lab_book.path)
    assert problems[0].path == "_quarto.yml" and problems[0].line == 6 and "is empty" in problems[0].message


def test_missing_bibliography_file(lab_book):
    (lab_book.path / "references.bib").unlink()
    problems = check_book(lab_book.path)
    assert any(p.path == "_quarto.yml" and "references.bib does not exist" in p.message for p in problems)


# --- the entry points ------------------------------------------------------------------------------


def test_cli_exit_codes_and_output(lab_book):
    proc = labhooks("check-book", cwd=lab_book.path)
    assert proc.returncode == 0 and proc.stdout == ""
    lab_book.write("papers/.DS_Store", "x")
    lab_book.git("add", "-f", "papers/.DS_Store")
    proc = labhooks("check-book", str(lab_book.path), cwd=lab_book.path.parent)
    assert proc.returncode == 1
    assert "book/papers/.DS_Store: macOS Finder metadata (.DS_Store) is committed (fix: git rm --cached papers/.DS_Store" in proc.stdout
    assert "1 problem found" in proc.stdout
    proc = labhooks("check-book", str(lab_book.path.parent / "nowhere"), cwd=lab_book.path.parent)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_hook_main_usage_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([]) == 2
    assert "no Quarto book" in capsys.readouterr().err
    assert main(["missing-dir/"]) == 2


def test_hook_main_with_filenames_finds_their_books(lab_book, tmp_path, monkeypatch):
    monkeypatch.chdir(lab_book.path)
    assert main(["papers/attention.md", "tools/slurm.md"]) == 0
    (tmp_path / "loose.md").write_text("not in a book\n")
    assert main([str(tmp_path / "loose.md")]) == 0
    lab_book.write("papers/unlisted.qmd", "# x\n")
    assert main(["papers/attention.md"]) == 0  # an untracked draft is not in the commit
    assert main(["--include-untracked", "papers/attention.md"]) == 1
    lab_book.git("add", "papers/unlisted.qmd")
    assert main(["papers/attention.md"]) == 1


def test_staged_mode_catches_a_listed_minute_that_was_never_added(lab_book, monkeypatch, capsys):
    lab_book.write("papers/deep_sets.md", "---\nauthor: A\ndate: 2024-01-01\n---\n\n# Deep sets\n")
    config = lab_book.path / "_quarto.yml"
    replace_in(config, '        - "papers/graph_networks.ipynb"\n',
               '        - "papers/graph_networks.ipynb"\n        - papers/deep_sets.md\n')
    lab_book.git("add", "_quarto.yml")
    assert check_book(lab_book.path) == []  # the working tree is fine
    problem = only(check_book(lab_book.path, staged_only=True))
    assert (problem.path, problem.line) == ("_quarto.yml", line_of(config, "deep_sets"))
    assert "not added to git" in problem.message and problem.fix.startswith("git add papers/deep_sets.md")
    monkeypatch.chdir(lab_book.path)
    assert main([]) == 1 and "not added to git" in capsys.readouterr().out
    proc = labhooks("check-book", "--staged", cwd=lab_book.path)
    assert proc.returncode == 1 and "not added to git" in proc.stdout


def test_book_in_a_sub_folder_of_the_repository(tmp_path, monkeypatch, capsys):
    outer = Repo.init(tmp_path / "repo")
    make_book(outer.path / "minutes", commit=False)
    import shutil

    shutil.rmtree(outer.path / "minutes/.git")
    outer.write("minutes/papers/.DS_Store", "x")
    outer.git("add", "-A")
    outer.git("add", "-f", "minutes/papers/.DS_Store")
    monkeypatch.chdir(outer.path)
    assert main([]) == 1
    assert "minutes/papers/.DS_Store: macOS Finder metadata" in capsys.readouterr().out


def test_outside_git_every_file_on_disk_counts(tmp_path):
    repo = make_book(tmp_path / "book", commit=False)
    import shutil

    shutil.rmtree(repo.path / ".git")
    assert check_book(repo.path) == []
    (repo.path / "_book").mkdir()
    (repo.path / "_book/index.html").write_text("rendered")  # output-dir is skipped
    assert check_book(repo.path) == []
    (repo.path / "papers/attention.html").write_text("rendered")
    problem = only(check_book(repo.path))
    assert problem.path == "papers/attention.html" and problem.fix.startswith("delete")


def _hooks_repo(tmp_path: Path) -> Repo:
    """A hooks repository carrying our check-book entry; 'system' so pre-commit installs
    nothing and runs the labhooks-check-book this test environment has."""
    hooks = Repo.init(tmp_path / "hooks")
    hooks.write(".pre-commit-hooks.yaml", HOOK_ENTRY.replace("language: python", "language: system"))
    hooks.commit("hooks")
    return hooks


def test_hook_under_real_pre_commit(tmp_path, lab_book):
    scripts = Path(sys.executable).parent
    hooks = _hooks_repo(tmp_path)
    lab_book.write(".pre-commit-config.yaml", (
        f"repos:\n  - repo: {hooks.path}\n    rev: {hooks.rev('HEAD')}\n    hooks:\n      - id: check-book\n"
    ))
    lab_book.commit("hook config")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"}

    def pre_commit(*args):
        return subprocess.run(["pre-commit", *args], cwd=lab_book.path, capture_output=True, text=True, env=env)

    install = pre_commit("install")
    assert install.returncode == 0, install.stdout + install.stderr

    lab_book.write("papers/.DS_Store", "finder")
    lab_book.git("add", "-f", "papers/.DS_Store")
    refused = subprocess.run(["git", "commit", "-q", "-m", "oops"], cwd=lab_book.path, capture_output=True, text=True, env=env)
    assert refused.returncode != 0
    assert "papers/.DS_Store: macOS Finder metadata" in refused.stdout + refused.stderr
    head_before = lab_book.rev("HEAD")

    lab_book.git("rm", "-q", "--cached", "papers/.DS_Store")
    ok = subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "fine"], cwd=lab_book.path, capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert lab_book.rev("HEAD") != head_before

    # an untracked draft does not block an unrelated commit
    lab_book.write("papers/draft.md", "# not ready\n")
    lab_book.write("index.qmd", "# Preface {.unnumbered}\n\nEdited.\n")
    lab_book.git("add", "index.qmd")
    ok = subprocess.run(["git", "commit", "-q", "-m", "edit preface"], cwd=lab_book.path, capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (lab_book.path / "papers/draft.md").unlink()

    # a new, unlisted minute is caught by a plain `pre-commit run`
    lab_book.write("papers/new_paper.md", "---\nauthor: A\ndate: 2024-01-01\n---\n# New\n")
    lab_book.git("add", "papers/new_paper.md")
    run = pre_commit("run")
    assert run.returncode == 1 and "papers/new_paper.md: this minute is not listed" in run.stdout


def test_hook_entry_is_valid_for_pre_commit(tmp_path):
    manifest = tmp_path / ".pre-commit-hooks.yaml"
    manifest.write_text(HOOK_ENTRY)
    proc = subprocess.run(["pre-commit", "validate-manifest", str(manifest)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_repository_hook_entry_behaves_like_ours(repo_root):
    import yaml

    manifest = yaml.safe_load((repo_root / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (shipped,) = [hook for hook in manifest if hook["id"] == "check-book"]
    (ours,) = yaml.safe_load(HOOK_ENTRY)
    for key in ("entry", "language", "pass_filenames", "always_run"):
        assert shipped.get(key) == ours[key], key


def test_hook_entry_matches_the_documentation(repo_root):
    docs = (repo_root / "docs/minutes-book.md").read_text(encoding="utf-8")
    assert HOOK_ENTRY in docs


def test_quarto_yml_fixture_is_what_the_docs_describe():
    # guard against the fixture drifting from the conventions it stands for
    assert "# Seminar minutes" in QUARTO_YML and '\n\nbibliography: references.bib\n' in QUARTO_YML
    assert '"papers/graph_networks.ipynb"' in QUARTO_YML and "tools/containers/apptainer.qmd" in QUARTO_YML
