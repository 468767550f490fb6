"""new-minute and new-book on real books in real git repositories."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import LAYOUTS, Repo, labhooks, make_book, numstat, tree_state

from labhooks.book import quarto
from labhooks.book.check import check_book
from labhooks.book.minutes import (
    MAX_SLUG_LENGTH,
    make_slug,
    new_book,
    new_minute,
    validate_slug,
)
from labhooks.book.quarto import _round_trip_candidate, apply_edit, plan_add_chapter
from labhooks.errors import LabhooksError

PAPER_SECTIONS = [
    "## Why did I choose this paper?", "## Context", "## Prior work", "## Problem setting",
    "## Approach", "## Results", "## Takeaways", "## References",
]


def chapters_of(root: Path, part: str) -> list[str]:
    from labhooks.book.quarto import plain_load

    data = plain_load((root / "_quarto.yml").read_text(encoding="utf-8"))
    for item in data["book"]["chapters"]:
        if isinstance(item, dict) and item.get("part") == part:
            return item["chapters"]
    raise AssertionError(f"no part {part!r}")


def added_lines(repo: Repo, path: str = "_quarto.yml") -> list[str]:
    diff = repo.git("diff", "-U0", "--", path)
    return [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]


# --- one added line -----------------------------------------------------------------------


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_paper_minute_is_one_added_line(tmp_path, layout):
    repo = make_book(tmp_path / "book", layout)
    proc = labhooks("new-minute", "Deep Sets", "--kind", "paper", "--citekey", "zaheer2017",
                    "--date", "2024-05-06", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    assert numstat(repo, "_quarto.yml") == [(1, 0, "_quarto.yml")]
    assert [line.strip().strip("\r") for line in added_lines(repo)] == ["- papers/deep_sets.md"]
    assert chapters_of(repo.path, "Papers")[-1] == "papers/deep_sets.md"
    status = sorted(repo.git("status", "--porcelain", "--untracked-files=all").splitlines())
    assert status == [" M _quarto.yml", "?? papers/deep_sets.md", "?? papers/deep_sets/.gitkeep"]
    if layout == "crlf":
        assert b"\r\n        - papers/deep_sets.md\r\n" in (repo.path / "_quarto.yml").read_bytes()


@pytest.mark.parametrize("layout", ["lab", "indentless", "crlf"])
def test_tool_minute_is_one_added_line_in_the_tools_part(tmp_path, layout):
    repo = make_book(tmp_path / "book", layout)
    proc = labhooks("new-minute", "Weights & Biases", "--kind", "tool", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    assert numstat(repo, "_quarto.yml") == [(1, 0, "_quarto.yml")]
    assert chapters_of(repo.path, "Tools")[-1] == "tools/weights_biases.qmd"
    assert chapters_of(repo.path, "Papers") == ["papers/attention.md", "papers/graph_networks.ipynb"]
    text = (repo.path / "tools/weights_biases.qmd").read_text()
    assert text == "---\nauthor: Lab Tester\n---\n\n# Weights & Biases\n\n## Installation\n\n## Usage\n"
    assert (repo.path / "tools/weights_biases/.gitkeep").is_file()
    assert "quarto preview" in proc.stdout


def test_paper_minute_follows_the_conventions(tmp_path):
    repo = make_book(tmp_path / "book")
    proc = labhooks("new-minute", "Attention: the sequel", "--kind", "paper", "--citekey", "vaswani2017",
                    "--author", "Ada Lovelace", "--date", "2024-05-06", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    text = (repo.path / "papers/attention_the_sequel.md").read_text()
    front, body = text.split("---\n")[1], text.split("---\n", 2)[2]
    assert front == "author: Ada Lovelace\ndate: 2024-05-06\nbibliography: ../references.bib\n"
    meta = yaml.safe_load(front)
    assert "title" not in meta and meta["date"] == dt.date(2024, 5, 6)
    lines = [line for line in body.splitlines() if line.strip()]
    assert lines[0] == "# Attention: the sequel [@vaswani2017]"
    assert lines[1:] == PAPER_SECTIONS  # References left empty, last
    # the key exists, the book stays clean
    assert check_book(repo.path) == []


def test_author_defaults_to_git_user_and_date_to_today(tmp_path):
    repo = make_book(tmp_path / "book")
    result = new_minute("Graph Attention", "paper", cwd=repo.path)
    text = (repo.path / result.chapter).read_text()
    assert "author: Lab Tester\n" in text
    assert f"date: {dt.date.today().isoformat()}\n" in text
    assert result.citekey == "graph_attention"  # the slug until the user picks a key
    assert not result.citekey_known


def test_awkward_author_is_quoted_so_the_yaml_still_reads(tmp_path):
    repo = make_book(tmp_path / "book")
    result = new_minute("X", "paper", author="O'Neil: Jr. #1", date="2024-01-02", cwd=repo.path)
    text = (repo.path / result.chapter).read_text()
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["author"] == "O'Neil: Jr. #1"


@pytest.mark.parametrize("kind,fmt,expected", [("paper", "qmd", "papers/x_y.qmd"), ("tool", "md", "tools/x_y.md")])
def test_format_override(tmp_path, kind, fmt, expected):
    repo = make_book(tmp_path / "book")
    proc = labhooks("new-minute", "X y", "--kind", kind, "--format", fmt, cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    assert (repo.path / expected).is_file()
    assert numstat(repo, "_quarto.yml") == [(1, 0, "_quarto.yml")]


def test_found_from_a_sub_folder_and_with_book_option(tmp_path):
    repo = make_book(tmp_path / "book")
    proc = labhooks("new-minute", "Podman", "--kind", "tool", cwd=repo.path / "tools/containers")
    assert proc.returncode == 0, proc.stderr
    assert (repo.path / "tools/podman.qmd").is_file()
    proc = labhooks("new-minute", "Docker", "--kind", "tool", "--book", str(repo.path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert chapters_of(repo.path, "Tools")[-2:] == ["tools/podman.qmd", "tools/docker.qmd"]
    assert numstat(repo, "_quarto.yml") == [(2, 0, "_quarto.yml")]


def test_dry_run_writes_nothing(tmp_path):
    repo = make_book(tmp_path / "book")
    before = tree_state(repo.path)
    proc = labhooks("new-minute", "Deep Sets", "--kind", "paper", "--dry-run", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    assert "would create papers/deep_sets.md" in proc.stdout
    assert "would add papers/deep_sets.md to part 'Papers'" in proc.stdout
    assert "    +         - papers/deep_sets.md\n" in proc.stdout
    assert tree_state(repo.path) == before


# --- a missing part is created ---------------------------------------------------------------


def test_missing_part_is_created_after_the_last_part(tmp_path):
    repo = make_book(tmp_path / "book", commit=False)
    config = repo.path / "_quarto.yml"
    text = config.read_text()
    tools_block = (
        '    - part: "Tools"\n      chapters:\n        - tools/git_basics.qmd\n'
        "        - tools/slurm.md\n        - tools/containers/apptainer.qmd\n"
    )
    assert tools_block in text
    config.write_text(text.replace(tools_block, ""))
    for rel in ("tools/git_basics.qmd", "tools/slurm.md", "tools/containers/apptainer.qmd"):
        (repo.path / rel).unlink()
    repo.commit("papers only")
    proc = labhooks("new-minute", "Git LFS", "--kind", "tool", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    assert numstat(repo, "_quarto.yml") == [(3, 0, "_quarto.yml")]
    assert added_lines(repo) == ["    - part: Tools", "      chapters:", "        - tools/git_lfs.qmd"]
    data = yaml.safe_load(config.read_text())
    chapters = data["book"]["chapters"]
    assert [c if isinstance(c, str) else c["part"] for c in chapters] == ["index.qmd", "Papers", "Tools", "references.qmd"]
    assert check_book(repo.path) == []


def test_part_found_by_its_folder_when_titled_otherwise(tmp_path):
    repo = make_book(tmp_path / "book", commit=False)
    config = repo.path / "_quarto.yml"
    config.write_text(config.read_text().replace("- part: Papers", "- part: Paper minutes"))
    repo.commit("renamed part")
    new_minute("Deep Sets", "paper", cwd=repo.path)
    assert chapters_of(repo.path, "Paper minutes")[-1] == "papers/deep_sets.md"
    assert numstat(repo, "_quarto.yml") == [(1, 0, "_quarto.yml")]


# --- refusals leave every byte as it was ----------------------------------------------------------


def _seed_existing_file(repo):
    repo.write("papers/deep_sets.md", "mine\n")


def _seed_existing_folder(repo):
    repo.write("papers/deep_sets/figure.png", b"\x89PNG")


def _seed_other_extension(repo):
    repo.write("papers/deep_sets.qmd", "mine\n")


def _seed_listed_entry(repo):
    config = repo.path / "_quarto.yml"
    config.write_text(config.read_text().replace(
        "        - papers/attention.md\n", "        - papers/attention.md\n        - papers/deep_sets.md\n"))


def _seed_listed_elsewhere(repo):
    config = repo.path / "_quarto.yml"
    config.write_text(config.read_text().replace("    - references.qmd\n", "    - references.qmd\n    - papers/deep_sets.qmd\n"))


def _seed_flow_style(repo):
    config = repo.path / "_quarto.yml"
    config.write_text(config.read_text().replace(
        '      chapters:\n        - papers/attention.md\n        - "papers/graph_networks.ipynb"\n',
        '      chapters: [papers/attention.md, "papers/graph_networks.ipynb"]\n'))


@pytest.mark.parametrize("seed,message", [
    (_seed_existing_file, "papers/deep_sets.md already exists"),
    (_seed_existing_folder, "papers/deep_sets/ already exists"),
    (_seed_other_extension, "papers/deep_sets.qmd already exists"),
    (_seed_listed_entry, "already lists papers/deep_sets.md"),
    (_seed_listed_elsewhere, "already lists papers/deep_sets.qmd"),
    (_seed_flow_style, "without rewriting other lines"),
])
def test_refusals_change_nothing(tmp_path, seed, message):
    repo = make_book(tmp_path / "book")
    seed(repo)
    before = tree_state(repo.path)
    proc = labhooks("new-minute", "Deep Sets", "--kind", "paper", cwd=repo.path)
    assert proc.returncode == 2, proc.stdout
    assert message in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("labhooks: ")
    assert "Traceback" not in proc.stderr
    assert tree_state(repo.path) == before


@pytest.mark.parametrize("args,message", [
    (["../../x", "--kind", "tool"], "looks like a path"),
    (["ok", "--kind", "tool", "--slug", "../../x"], "invalid slug"),
    (["ok", "--kind", "tool", "--slug", "x/y"], "invalid slug"),
    (["ok", "--kind", "tool", "--slug", "Has_Caps"], "invalid slug"),
    (["ok", "--kind", "tool", "--slug", "figures_files"], "_files"),
    (["bell\x07title", "--kind", "tool"], "control characters"),
    (["line\nbreak", "--kind", "tool"], "control characters"),
    (["数据", "--kind", "tool"], "pass --slug"),
    (["ok", "--kind", "talk"], "unknown minute kind"),
    (["ok", "--kind", "paper", "--date", "2024-13-01"], "invalid date"),
    (["ok", "--kind", "paper", "--date", "01/02/2024"], "invalid date"),
    (["ok", "--kind", "paper", "--citekey", "bad key!"], "invalid citation key"),
    (["ok", "--kind", "tool", "--citekey", "key2020"], "--citekey is for"),
    (["ok", "--kind", "paper", "--author", "a\x1b[31mred"], "control characters"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, args, message):
    repo = make_book(tmp_path / "book")
    before = tree_state(repo.path)
    proc = labhooks("new-minute", *args, cwd=repo.path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert message in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert tree_state(repo.path) == before
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.qmd").exists()


def test_outside_a_book_is_a_clear_error(tmp_path):
    (tmp_path / "_quarto.yml").write_text("project:\n  type: website\n")
    proc = labhooks("new-minute", "X", "--kind", "tool", cwd=tmp_path)
    assert proc.returncode == 2 and "no Quarto book" in proc.stderr
    proc = labhooks("new-minute", "X", "--kind", "tool", "--book", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and "is not a Quarto book" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_quarto.yml"]


def test_no_author_anywhere_is_refused(tmp_path, monkeypatch):
    repo = make_book(tmp_path / "book")
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    before = tree_state(repo.path)
    with pytest.raises(LabhooksError, match="no author"):
        new_minute("X", "tool", cwd=repo.path)
    assert tree_state(repo.path) == before


def test_config_write_failure_removes_the_rendered_minute(tmp_path, monkeypatch):
    """If _quarto.yml cannot be replaced (disk full, read-only), the minute files go too."""
    import errno

    repo = make_book(tmp_path / "book")
    before = tree_state(repo.path)
    pass

    def read_only(src, dst):
        raise OSError(errno.EROFS, "Read-only file system", str(dst))

    monkeypatch.setattr(quarto.os, "replace", read_only)
    with pytest.raises(LabhooksError, match="Read-only file system; it was left as it was"):
        new_minute("Deep Sets", "paper", cwd=repo.path)
    assert tree_state(repo.path) == before  # no minute, no image folder, no temp file


def test_concurrent_change_to_quarto_yml_is_detected(tmp_path):
    repo = make_book(tmp_path / "book")
    pass

    edit = plan_add_chapter(repo.path, "papers/z.md", part="Papers", folder="papers")
    config = repo.path / "_quarto.yml"
    config.write_text(config.read_text() + "# edited meanwhile\n")
    after_user_edit = config.read_bytes()
    with pytest.raises(LabhooksError, match="changed while"):
        apply_edit(edit)
    assert config.read_bytes() == after_user_edit


# --- slugs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("title,slug", [
    ("Attention Is All You Need", "attention_is_all_you_need"),
    ("Über die Größe von Molekülen", "uber_die_grosse_von_molekulen"),
    ("Ångström-scale ML: a review!", "angstrom_scale_ml_a_review"),
    ("Łódź & Søren's œuvre", "lodz_sorens_oeuvre"),
    ("Don’t stop: 'quoted'", "dont_stop_quoted"),
    ("C++ / CUDA -- 101", "c_cuda_101"),
    ("  GPT-4 (technical report)  ", "gpt_4_technical_report"),
    ("../../etc/passwd", "etc_passwd"),
    ("Working with files", "working_with_files_minute"),
    ("Data_Files", "data_files_minute"),
    ("数据集 survey", "survey"),
    ("数据集", ""),
    ("🙂", ""),
])
def test_make_slug(title, slug):
    assert make_slug(title) == slug
    if slug:
        assert validate_slug(slug) == slug


def test_long_titles_are_cut_on_a_word():
    title = "A very long title about " + "equivariant graph neural networks for molecules " * 5
    slug = make_slug(title)
    assert len(slug) <= MAX_SLUG_LENGTH
    assert title.lower().replace(" ", "_").startswith(slug)
    assert not slug.endswith("_") and validate_slug(slug) == slug
    one_word = make_slug("x" * 500)
    assert one_word == "x" * MAX_SLUG_LENGTH


def test_long_title_end_to_end(tmp_path):
    repo = make_book(tmp_path / "book")
    title = "On the " + "very " * 40 + "long titles of papers"
    proc = labhooks("new-minute", title, "--kind", "paper", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    (created,) = [p for p in (repo.path / "papers").glob("on_the_very*.md")]
    assert len(created.stem) <= MAX_SLUG_LENGTH
    assert f"# {title} [@{created.stem}]" in created.read_text()


# --- new-book ------------------------------------------------------------------------------------


def test_new_book_passes_check_book_and_takes_minutes(tmp_path):
    proc = labhooks("new-book", "minutes", "--title", "Group: seminar minutes", "--author", "Ada Lovelace", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    root = tmp_path / "minutes"
    assert (root / ".git").is_dir()
    data = yaml.safe_load((root / "_quarto.yml").read_text())
    assert data["project"]["type"] == "book"
    assert data["book"]["title"] == "Group: seminar minutes" and data["book"]["author"] == "Ada Lovelace"
    assert [c["part"] for c in data["book"]["chapters"] if isinstance(c, dict)] == ["Tools", "Papers"]
    assert data["bibliography"] == "references.bib"
    for rel in ("index.qmd", "references.bib", "references.qmd", ".gitignore",
                ".github/workflows/book.yml", ".pre-commit-config.yaml"):
        assert (root / rel).is_file(), rel
    assert check_book(root) == []

    repo = Repo(root)
    repo.commit("new book")
    proc = labhooks("new-minute", "Deep Sets", "--kind", "paper", "--citekey", "knuth1984", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert numstat(repo, "_quarto.yml") == [(1, 0, "_quarto.yml")]
    assert chapters_of(root, "Papers")[-1] == "papers/deep_sets.md"
    proc = labhooks("new-minute", "Snakemake", "--kind", "tool", cwd=root / "papers")
    assert proc.returncode == 0, proc.stderr
    assert chapters_of(root, "Tools")[-1] == "tools/snakemake.qmd"
    assert numstat(repo, "_quarto.yml") == [(2, 0, "_quarto.yml")]
    proc = labhooks("check-book", cwd=root)
    assert proc.returncode == 0, proc.stdout


def test_new_book_gitignore_keeps_rendered_output_out(tmp_path):
    root = tmp_path / "b"
    new_book(root, author="Ada")
    repo = Repo(root)
    rendered = ["_book/index.html", ".quarto/xref/a.json", "papers/x_files/libs/bootstrap.js",
                "index.html", ".DS_Store", "papers/.DS_Store", "papers/x.quarto_ipynb"]
    for rel in rendered:
        repo.write(rel, "rendered")
    for rel in rendered:
        assert subprocess.run(["git", "check-ignore", "-q", rel], cwd=root).returncode == 0, rel
    assert check_book(root) == []


def test_new_book_workflow_and_hooks(tmp_path):
    root = tmp_path / "b"
    new_book(root, author="Ada")
    workflow = yaml.safe_load((root / ".github/workflows/book.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key 'on' as True
    assert triggers["push"]["branches"] == ["main"] and "pull_request" in triggers
    jobs = workflow["jobs"]
    uses = {name: [s.get("uses", "") for s in job["steps"]] for name, job in jobs.items()}
    assert any("quarto-dev/quarto-actions/render" in u for u in uses["render"])
    assert not any("publish" in u for u in uses["render"])
    assert jobs["render"]["if"] == "github.event_name == 'pull_request'"
    assert any("quarto-dev/quarto-actions/publish" in u for u in uses["publish"])
    assert jobs["publish"]["if"] == "github.event_name != 'pull_request'"
    assert "${{ secrets.GITHUB_TOKEN }}" in (root / ".github/workflows/book.yml").read_text()

    config = yaml.safe_load((root / ".pre-commit-config.yaml").read_text())
    (hooks_repo,) = config["repos"]
    from labhooks.scaffold.context import base_context

    ctx = base_context()
    assert hooks_repo["repo"] == ctx["labhooks_repo"] and hooks_repo["rev"] == ctx["labhooks_rev"]
    assert [h["id"] for h in hooks_repo["hooks"]] == ["check-large", "check-large-push", "check-book"]
    proc = subprocess.run(["pre-commit", "validate-config", ".pre-commit-config.yaml"], cwd=root,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_new_book_inside_a_repository_does_not_nest_one(tmp_path):
    outer = Repo.init(tmp_path / "outer")
    result = new_book(outer.path / "docs" / "minutes", author="Ada")
    assert not result.git_initialised and result.inside_repo == outer.path.resolve()
    assert not (outer.path / "docs/minutes/.git").exists()
    assert check_book(outer.path / "docs/minutes") == []


@pytest.mark.parametrize("make_target,message", [
    (lambda p: (p / "taken").mkdir() or (p / "taken/notes.txt").write_text("keep"), "not empty"),
    (lambda p: (p / "taken").write_text("a file"), "not a folder"),
])
def test_new_book_refuses_an_occupied_target(tmp_path, make_target, message):
    make_target(tmp_path)
    before = tree_state(tmp_path)
    proc = labhooks("new-book", "taken", "--author", "Ada", cwd=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr and proc.stderr.count("\n") == 1
    assert tree_state(tmp_path) == before


def test_new_book_into_an_empty_folder_and_dry_run(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = labhooks("new-book", "empty", "--author", "Ada", "--dry-run", cwd=tmp_path)
    assert proc.returncode == 0 and "would write" in proc.stdout
    assert list((tmp_path / "empty").iterdir()) == []
    proc = labhooks("new-book", "empty", "--author", "Ada", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "empty/_quarto.yml").is_file()


def test_new_book_hostile_names(tmp_path):
    for args in (["new-book", "b", "--title", "x\x01y", "--author", "A"],
                 ["new-book", "b", "--author", "A\nB"]):
        proc = labhooks(*args, cwd=tmp_path)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert not (tmp_path / "b").exists()


# --- which edit was used -------------------------------------------------------------------------


@pytest.mark.parametrize("layout,method", [
    ("lab", "round-trip"), ("indentless", "round-trip"), ("crlf", "line"), ("eol-comment", "line"),
])
def test_round_trip_first_line_insert_as_fallback(tmp_path, layout, method):
    pass

    repo = make_book(tmp_path / "book", layout)
    edit = plan_add_chapter(repo.path, "papers/z.md", part="Papers", folder="papers")
    assert edit.method == method


def test_round_trip_that_would_change_other_lines_falls_back_to_a_line_insert(tmp_path, monkeypatch):
    """Force the round trip to reformat (as PyYAML-style dumpers do): the line insert wins."""
    pass

    repo = make_book(tmp_path / "book")
    real = _round_trip_candidate

    def reformatting(*args):
        return real(*args).replace('"Seminar minutes"', "Seminar minutes")

    monkeypatch.setattr(quarto, "_round_trip_candidate", reformatting)
    result = new_minute("Deep Sets", "paper", cwd=repo.path)
    assert result.edit.method == "line"
    assert numstat(repo, "_quarto.yml") == [(1, 0, "_quarto.yml")]


def test_part_with_empty_chapters_key(tmp_path):
    repo = make_book(tmp_path / "book", commit=False)
    config = repo.path / "_quarto.yml"
    config.write_text(config.read_text().replace(
        '      chapters:\n        - papers/attention.md\n        - "papers/graph_networks.ipynb"\n', "      chapters:\n"))
    for rel in ("papers/attention.md", "papers/graph_networks.ipynb"):
        (repo.path / rel).unlink()
    repo.commit("empty papers part")
    new_minute("Deep Sets", "paper", cwd=repo.path)
    assert numstat(repo, "_quarto.yml") == [(1, 0, "_quarto.yml")]
    assert chapters_of(repo.path, "Papers") == ["papers/deep_sets.md"]


def test_broken_quarto_yml_is_reported_not_overwritten(tmp_path):
    repo = make_book(tmp_path / "book", commit=False)
    config = repo.path / "_quarto.yml"
    config.write_text(config.read_text().replace("  type: book\n", "  type: book\n  oops: [unclosed\n"))
    before = tree_state(repo.path)
    proc = labhooks("new-minute", "Deep Sets", "--kind", "paper", cwd=repo.path)
    assert proc.returncode == 2 and "not valid YAML" in proc.stderr and proc.stderr.count("\n") == 1
    assert tree_state(repo.path) == before


def test_new_book_without_git_on_path_writes_nothing(tmp_path, monkeypatch):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    with pytest.raises(LabhooksError, match="git is not installed"):
        new_book(tmp_path / "b", author="Ada")
    assert not (tmp_path / "b").exists()


def test_quarto_yaml_spelling_is_found_too(tmp_path):
    repo = make_book(tmp_path / "book", commit=False)
    (repo.path / "_quarto.yml").rename(repo.path / "_quarto.yaml")
    repo.commit("yaml spelling")
    proc = labhooks("new-minute", "Deep Sets", "--kind", "paper", "--citekey", "vaswani2017", cwd=repo.path / "papers")
    assert proc.returncode == 0, proc.stderr
    assert numstat(repo, "_quarto.yaml") == [(1, 0, "_quarto.yaml")]
    assert check_book(repo.path) == []


def test_file_without_final_newline(tmp_path):
    repo = make_book(tmp_path / "book", "papers-last", commit=False)
    config = repo.path / "_quarto.yml"
    text = config.read_text()
    config.write_text(text[: text.index("\n\n# references")])  # ends on the last paper, no newline
    repo.commit("no final newline")
    new_minute("Deep Sets", "paper", cwd=repo.path)
    assert config.read_text().endswith('        - "papers/graph_networks.ipynb"\n        - papers/deep_sets.md\n')
    # git counts the old last line as changed (it gains its newline); nothing else moves
    assert numstat(repo, "_quarto.yml") == [(2, 1, "_quarto.yml")]
